import { describe, expect, it } from "vitest";
import { checkEvidence, declaredImageType, sniffImageType } from "../../src/domain/case-evidence";
import { bytes, HEIC, JPEG, PNG, WEBP } from "../support/images";

describe("evidence photos", () => {
  it("recognizes JPEG, PNG, WebP and HEIC by their magic bytes", () => {
    expect(sniffImageType(JPEG)).toBe("image/jpeg");
    expect(sniffImageType(PNG)).toBe("image/png");
    expect(sniffImageType(WEBP)).toBe("image/webp");
    expect(sniffImageType(HEIC)).toBe("image/heic");
    expect(sniffImageType(bytes("GIF89a", [0, 0, 0, 0, 0, 0]))).toBeNull();
    expect(sniffImageType(bytes("%PDF-1.7"))).toBeNull();
    expect(sniffImageType(bytes([0xff, 0xd8]))).toBeNull();
  });

  it("accepts an image whose bytes match its declared type", () => {
    expect(checkEvidence("image/jpeg", JPEG)).toBeNull();
    expect(checkEvidence(declaredImageType("image/heif"), HEIC)).toBeNull();
    expect(checkEvidence(declaredImageType("image/jpg; q=1"), JPEG)).toBeNull();
  });

  it("refuses a wrong declared type, bytes of another type, an empty or an oversized body", () => {
    expect(checkEvidence("application/pdf", JPEG)).toMatch(/Content-Type/);
    expect(checkEvidence("image/png", JPEG)).toMatch(/image\/jpeg, not image\/png/);
    expect(checkEvidence("image/jpeg", bytes("<script>alert(1)</script>"))).toMatch(/not a JPEG/);
    expect(checkEvidence("image/jpeg", new Uint8Array())).toMatch(/empty/);
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    big.set(JPEG);
    expect(checkEvidence("image/jpeg", big)).toMatch(/at most/);
  });
});
