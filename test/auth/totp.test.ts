import { describe, expect, it } from "vitest";
import {
  base32Decode,
  base32Encode,
  hotp,
  matchTotp,
  otpauthUri,
  TOTP_STEP_SECONDS,
  totp,
  totpStep,
} from "../../src/domain/totp";

const RFC_SECRET = new TextEncoder().encode("12345678901234567890");

describe("HOTP and TOTP", () => {
  it("meets the RFC 4226 appendix D test values", async () => {
    const expected = [
      "755224",
      "287082",
      "359152",
      "969429",
      "338314",
      "254676",
      "287922",
      "162583",
      "399871",
      "520489",
    ];
    for (const [counter, code] of expected.entries()) expect(await hotp(RFC_SECRET, counter)).toBe(code);
  });

  it("meets the RFC 6238 appendix B test values for SHA-1 (8 digits)", async () => {
    const vectors: Array<[number, string]> = [
      [59, "94287082"],
      [1111111109, "07081804"],
      [1111111111, "14050471"],
      [1234567890, "89005924"],
      [2000000000, "69279037"],
      [20000000000, "65353130"],
    ];
    for (const [seconds, code] of vectors) expect(await totp(RFC_SECRET, seconds * 1000, 8)).toBe(code);
  });

  it("round-trips base32 and writes an otpauth URI an authenticator reads", () => {
    expect(base32Encode(RFC_SECRET)).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    expect([...base32Decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq")]).toEqual([...RFC_SECRET]);
    const uri = new URL(otpauthUri("grid321", "admin", RFC_SECRET));
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(decodeURIComponent(uri.pathname)).toBe("/grid321:admin");
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
      issuer: "grid321",
      algorithm: "SHA1",
      digits: "6",
      period: "30",
    });
  });
});

describe("matchTotp", () => {
  const now = 1_750_000_000_000;
  const step = totpStep(now);
  const at = (steps: number) => now + steps * TOTP_STEP_SECONDS * 1000;

  it("accepts one step of skew either way and refuses two", async () => {
    expect(await matchTotp(RFC_SECRET, await totp(RFC_SECRET, now), now, null)).toBe(step);
    expect(await matchTotp(RFC_SECRET, await totp(RFC_SECRET, at(-1)), now, null)).toBe(step - 1);
    expect(await matchTotp(RFC_SECRET, await totp(RFC_SECRET, at(1)), now, null)).toBe(step + 1);
    expect(await matchTotp(RFC_SECRET, await totp(RFC_SECRET, at(-2)), now, null)).toBeNull();
    expect(await matchTotp(RFC_SECRET, await totp(RFC_SECRET, at(2)), now, null)).toBeNull();
  });

  it("accepts a code once: not its step again, nor an earlier one", async () => {
    const code = await totp(RFC_SECRET, now);
    expect(await matchTotp(RFC_SECRET, code, now, step)).toBeNull();
    expect(await matchTotp(RFC_SECRET, await totp(RFC_SECRET, at(-1)), now, step)).toBeNull();
    expect(await matchTotp(RFC_SECRET, await totp(RFC_SECRET, at(1)), now, step)).toBe(step + 1);
  });

  it("refuses anything but six digits", async () => {
    expect(await matchTotp(RFC_SECRET, "12345", now, null)).toBeNull();
    expect(await matchTotp(RFC_SECRET, "abcdef", now, null)).toBeNull();
  });
});
