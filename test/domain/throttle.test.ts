import { describe, expect, it } from "vitest";
import { LOGIN_MAX_FAILURES, LOGIN_WINDOW_MS, loginThrottle } from "../../src/domain/throttle";

const now = Date.parse("2025-06-01T12:00:00Z");
const secondsAgo = (s: number) => now - s * 1000;

describe("loginThrottle", () => {
  it("lets logins through below five failures in the window", () => {
    const four = [1, 2, 3, 4].map(secondsAgo);
    expect(loginThrottle(four, now)).toEqual({ blocked: false, retryAfterSeconds: 0 });
    expect(loginThrottle([], now)).toEqual({ blocked: false, retryAfterSeconds: 0 });
  });

  it("blocks at the fifth failure until the oldest relevant one leaves the 15-minute window", () => {
    const five = [600, 300, 200, 100, 10].map(secondsAgo);
    expect(LOGIN_MAX_FAILURES).toBe(5);
    expect(loginThrottle(five, now)).toEqual({ blocked: true, retryAfterSeconds: 15 * 60 - 600 });
  });

  it("counts from the fifth-newest failure when there are more than five", () => {
    const seven = [800, 700, 600, 300, 200, 100, 10].map(secondsAgo);
    expect(loginThrottle(seven, now).retryAfterSeconds).toBe(15 * 60 - 600);
  });

  it("ignores failures older than the window", () => {
    const old = [LOGIN_WINDOW_MS / 1000 + 1, LOGIN_WINDOW_MS / 1000 + 60, 3, 2, 1].map(secondsAgo);
    expect(loginThrottle(old, now).blocked).toBe(false);
  });

  it("never asks to wait less than one second", () => {
    const edge = [now - LOGIN_WINDOW_MS + 1, now - 5, now - 4, now - 3, now - 2];
    expect(loginThrottle(edge, now)).toEqual({ blocked: true, retryAfterSeconds: 1 });
  });
});
