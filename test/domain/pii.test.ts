import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { isMinor, mayUnmask, parsePurpose } from "../../src/domain/pii";
import {
  decryptPii,
  encryptPii,
  lookupHmac,
  maskIdNumber,
  maskName,
  maskPhone,
  piiKeys,
} from "../../src/platform/crypto/pii";

describe("personal-data crypto", () => {
  it("round-trips AES-GCM ciphertext that does not contain the plaintext", async () => {
    const keys = await piiKeys(env.PII_KEY);
    const sealed = await encryptPii(keys, "61090219900101123X", "resident.id_number:r1");
    expect(sealed.startsWith("v1.")).toBe(true);
    expect(sealed).not.toContain("61090219900101123X");
    expect(await decryptPii(keys, sealed, "resident.id_number:r1")).toBe("61090219900101123X");
    // Fresh IV each time.
    expect(await encryptPii(keys, "61090219900101123X", "resident.id_number:r1")).not.toBe(sealed);
  });

  it("refuses a ciphertext moved to another row", async () => {
    const keys = await piiKeys(env.PII_KEY);
    const sealed = await encryptPii(keys, "13800001111", "resident.phone:r1");
    await expect(decryptPii(keys, sealed, "resident.phone:r2")).rejects.toThrow();
  });

  it("gives a stable keyed lookup digest that differs by key", async () => {
    const keys = await piiKeys(env.PII_KEY);
    const a = await lookupHmac(keys, "id_number", "61090219900101123X");
    expect(await lookupHmac(keys, "id_number", "61090219900101123X")).toBe(a);
    const other = await piiKeys(btoa(String.fromCharCode(...new Uint8Array(32).fill(7))));
    expect(await lookupHmac(other, "id_number", "61090219900101123X")).not.toBe(a);
  });

  it("rejects a key that is not 32 bytes", async () => {
    await expect(piiKeys(btoa("short"))).rejects.toThrow(/32 bytes/);
  });

  it("masks like 6109**********1234", () => {
    expect(maskIdNumber("610902199001011234")).toBe("6109**********1234");
    expect(maskPhone("13800001234")).toBe("138****1234");
    expect(maskName("王小明")).toBe("王**");
  });
});

describe("sensitive-data access policy", () => {
  it("lets only the roles serving households unmask", () => {
    expect(mayUnmask("grid_worker")).toBe(true);
    expect(mayUnmask("center_staff")).toBe(true);
    expect(mayUnmask("admin")).toBe(true);
    expect(mayUnmask("leader")).toBe(false);
    expect(mayUnmask("party_member")).toBe(false);
  });

  it("needs a purpose of 4–200 characters", () => {
    expect(parsePurpose(undefined)).toBeNull();
    expect(parsePurpose("  ab ")).toBeNull();
    expect(parsePurpose(" home visit follow-up ")).toBe("home visit follow-up");
  });

  it("knows minors by their 18th birthday", () => {
    expect(isMinor("2008-06-02", "2026-06-01")).toBe(true);
    expect(isMinor("2008-06-01", "2026-06-01")).toBe(false);
  });
});
