import { describe, expect, it } from "vitest";
import {
  boundingBox,
  type DuplicateCandidate,
  distanceMeters,
  isPossibleDuplicate,
  villageOfPath,
} from "../../src/domain/case-duplicates";

const NOW = Date.parse("2026-11-20T08:00:00.000Z");
const here = { lat: 32.684, lng: 109.029 };
/** A point `metres` north of `here`. */
const north = (metres: number) => ({ lat: here.lat + metres / 111_195, lng: here.lng });

const report = { id: "new", type: "safety_hazard" as const, villageId: "v1", ...here };
const candidate = (over: Partial<DuplicateCandidate> = {}): DuplicateCandidate => ({
  id: "old",
  type: "safety_hazard",
  state: "reported",
  villageId: "v1",
  ...north(150),
  createdAt: new Date(NOW - 24 * 3600_000).toISOString(),
  ...over,
});

describe("duplicate hints", () => {
  it("measures great-circle distance in metres", () => {
    expect(distanceMeters(here, here)).toBe(0);
    expect(distanceMeters(here, north(200))).toBeCloseTo(200, 0);
    // Ankang to Xi'an is about 190 km as the crow flies.
    expect(distanceMeters(here, { lat: 34.341, lng: 108.94 }) / 1000).toBeGreaterThan(180);
  });

  it("the bounding box contains the whole radius", () => {
    const box = boundingBox(here, 200);
    const p = north(199);
    expect(p.lat).toBeLessThan(box.maxLat);
    expect(box.maxLng - here.lng).toBeGreaterThan(0.0018);
  });

  it("offers an open case of the same type in the same village within 200 m from the last 7 days", () => {
    expect(isPossibleDuplicate(report, candidate(), NOW)).toBe(true);
  });

  it("does not offer a case that is farther, older, closed, of another type or village, or itself", () => {
    expect(isPossibleDuplicate(report, candidate(north(250)), NOW)).toBe(false);
    expect(
      isPossibleDuplicate(report, candidate({ createdAt: new Date(NOW - 8 * 86400_000).toISOString() }), NOW),
    ).toBe(false);
    expect(isPossibleDuplicate(report, candidate({ state: "closed" }), NOW)).toBe(false);
    expect(isPossibleDuplicate(report, candidate({ state: "resolved" }), NOW)).toBe(false);
    expect(isPossibleDuplicate(report, candidate({ type: "dispute" }), NOW)).toBe(false);
    expect(isPossibleDuplicate(report, candidate({ villageId: "v2" }), NOW)).toBe(false);
    expect(isPossibleDuplicate(report, candidate({ id: "new" }), NOW)).toBe(false);
    expect(isPossibleDuplicate(report, candidate({ lat: null, lng: null }), NOW)).toBe(false);
  });

  it("finds the village on a unit path", () => {
    expect(villageOfPath("/c/co/t/v/g/s/")).toBe("v");
    expect(villageOfPath("/c/co/t/v/")).toBe("v");
    expect(villageOfPath("/c/co/t/")).toBeNull();
  });
});
