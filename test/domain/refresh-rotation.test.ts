import { describe, expect, it } from "vitest";
import { refreshVerdict } from "../../src/domain/refresh-rotation";

const NOW = "2026-12-01T08:00:00.000Z";
const live = { expiresAt: "2026-12-31T08:00:00.000Z", rotatedAt: null, revokedAt: null };

describe("refreshVerdict", () => {
  it("rotates a live, unspent token", () => {
    expect(refreshVerdict(live, NOW)).toBe("rotate");
  });

  it("refuses an unknown token as invalid", () => {
    expect(refreshVerdict(null, NOW)).toBe("invalid");
    expect(refreshVerdict(undefined, NOW)).toBe("invalid");
  });

  it("refuses a revoked token as invalid, even when it was also spent", () => {
    expect(refreshVerdict({ ...live, revokedAt: NOW }, NOW)).toBe("invalid");
    expect(refreshVerdict({ ...live, revokedAt: NOW, rotatedAt: NOW }, NOW)).toBe("invalid");
  });

  it("takes a spent token presented again as reuse, before looking at its expiry", () => {
    expect(refreshVerdict({ ...live, rotatedAt: NOW }, NOW)).toBe("reused");
    expect(refreshVerdict({ ...live, rotatedAt: NOW, expiresAt: "2026-01-01T00:00:00.000Z" }, NOW)).toBe(
      "reused",
    );
  });

  it("refuses a token at or past its expiry", () => {
    expect(refreshVerdict({ ...live, expiresAt: NOW }, NOW)).toBe("expired");
    expect(refreshVerdict({ ...live, expiresAt: "2026-12-01T07:59:59.999Z" }, NOW)).toBe("expired");
  });
});
