import { MAX_ATTACHMENTS } from "./case-lifecycle";

/** Evidence photos are at most 10 MiB each. */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export { MAX_ATTACHMENTS };

/** Image types accepted as evidence. */
export const EVIDENCE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/heic"] as const;
export type EvidenceType = (typeof EVIDENCE_TYPES)[number];

const HEIC_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1"]);

const ascii = (bytes: Uint8Array, from: number, to: number) =>
  String.fromCharCode(...bytes.subarray(from, to));

/** The image type the bytes really are, by their magic numbers, or null if none of the accepted ones. */
export function sniffImageType(bytes: Uint8Array): EvidenceType | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return "image/png";
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WEBP")
    return "image/webp";
  if (bytes.length >= 12 && ascii(bytes, 4, 8) === "ftyp" && HEIC_BRANDS.has(ascii(bytes, 8, 12))) {
    return "image/heic";
  }
  return null;
}

/** Normalizes a declared content type (`image/jpg` → `image/jpeg`, `image/heif` → `image/heic`, parameters dropped). */
export function declaredImageType(header: string | undefined): string {
  const type = (header ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "image/jpg") return "image/jpeg";
  if (type === "image/heif") return "image/heic";
  return type;
}

/**
 * Checks an upload: the declared type is an accepted image type and the bytes really are that type, and the
 * size is within bounds. Returns an error message or null.
 */
export function checkEvidence(declared: string, bytes: Uint8Array): string | null {
  if (bytes.length === 0) return "The body is empty";
  if (bytes.length > MAX_ATTACHMENT_BYTES) return `An attachment is at most ${MAX_ATTACHMENT_BYTES} bytes`;
  if (!(EVIDENCE_TYPES as readonly string[]).includes(declared)) {
    return `Content-Type must be one of ${EVIDENCE_TYPES.join(", ")}`;
  }
  const real = sniffImageType(bytes);
  if (real === null) return "The bytes are not a JPEG, PNG, WebP or HEIC image";
  if (real !== declared) return `The bytes are ${real}, not ${declared}`;
  return null;
}
