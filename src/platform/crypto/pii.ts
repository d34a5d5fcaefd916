/**
 * Protection of personal information (PIPL art. 28) at rest: AES-256-GCM for values that must be readable
 * again (ID numbers, phones) and a keyed HMAC-SHA-256 for exact lookup and uniqueness without decrypting.
 * Both keys are derived with HKDF-SHA-256 from the one `PII_KEY` secret (32 random bytes, base64), each
 * with its own `info`, so neither key is ever used for two purposes.
 * Ciphertexts are `v1.<base64(iv ‖ ciphertext+tag)>`; the associated data binds a ciphertext to its
 * field and row, so it cannot be copied into another row and decrypted there.
 */

export interface PiiKeys {
  encryption: CryptoKey;
  lookup: CryptoKey;
}

const cache = new Map<string, Promise<PiiKeys>>();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Thrown when PII_KEY is missing or not 32 bytes of base64. */
export class PiiKeyError extends Error {}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

async function deriveKeys(secret: string): Promise<PiiKeys> {
  let raw: Uint8Array;
  try {
    raw = fromBase64(secret.trim());
  } catch {
    throw new PiiKeyError("PII_KEY is not base64");
  }
  if (raw.length !== 32) throw new PiiKeyError("PII_KEY must be 32 bytes");
  const master = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
  const salt = encoder.encode("grid321/pii");
  const [encryption, lookup] = await Promise.all([
    crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt, info: encoder.encode("grid321/pii/aes-gcm/v1") },
      master,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    ),
    crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt, info: encoder.encode("grid321/pii/hmac/v1") },
      master,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign"],
    ),
  ]);
  return { encryption, lookup };
}

/**
 * The encryption and lookup keys derived from `PII_KEY` (cached per isolate).
 *
 * @example
 * const keys = await piiKeys(c.env.PII_KEY);
 */
export function piiKeys(secret: string | undefined): Promise<PiiKeys> {
  if (!secret) return Promise.reject(new PiiKeyError("PII_KEY is not set"));
  let keys = cache.get(secret);
  if (!keys) {
    keys = deriveKeys(secret);
    keys.catch(() => cache.delete(secret));
    cache.set(secret, keys);
  }
  return keys;
}

/** Encrypts `plaintext` with AES-256-GCM and a fresh 96-bit IV; `context` is bound as associated data. */
export async function encryptPii(keys: PiiKeys, plaintext: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
      keys.encryption,
      encoder.encode(plaintext),
    ),
  );
  const out = new Uint8Array(iv.length + sealed.length);
  out.set(iv);
  out.set(sealed, iv.length);
  return `v1.${toBase64(out)}`;
}

/** Decrypts a value from `encryptPii` with the same `context`; throws if it was tampered with or moved. */
export async function decryptPii(keys: PiiKeys, sealed: string, context: string): Promise<string> {
  if (!sealed.startsWith("v1.")) throw new Error("unknown ciphertext version");
  const bytes = fromBase64(sealed.slice(3));
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: encoder.encode(context) },
    keys.encryption,
    bytes.subarray(12),
  );
  return decoder.decode(plain);
}

/** The keyed lookup digest of a normalized value (base64), for exact search and unique indexes. */
export async function lookupHmac(keys: PiiKeys, kind: string, value: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", keys.lookup, encoder.encode(`${kind}\u0000${value}`));
  return toBase64(new Uint8Array(mac));
}

/**
 * An ID number with its region prefix and last 4 kept (`6109**********1234`).
 *
 * @deprecated with a birth date and the unit's region code it rebuilds the number; use `maskIdNumberRegion`.
 */
export function maskIdNumber(idNumber: string): string {
  if (idNumber.length < 8) return "*".repeat(idNumber.length);
  return `${idNumber.slice(0, 4)}${"*".repeat(idNumber.length - 8)}${idNumber.slice(-4)}`;
}

/** A phone number with only its first 3 and last 4 digits (`138****5678`). */
export function maskPhone(phone: string): string {
  if (phone.length <= 7) return `${phone.slice(0, 1)}${"*".repeat(Math.max(phone.length - 1, 0))}`;
  return `${phone.slice(0, 3)}${"*".repeat(phone.length - 7)}${phone.slice(-4)}`;
}

/** A person's name with all but the first character hidden (`张**`), for minors' records. */
export function maskName(name: string): string {
  const chars = [...name];
  return chars.length <= 1 ? "*" : `${chars[0]}${"*".repeat(chars.length - 1)}`;
}

/** A person's ID number and phone as stored: AES-GCM ciphertexts bound to their row, a lookup HMAC, masks. */
export interface SealedContact {
  idNumberEnc: string | null;
  idNumberHmac: string | null;
  idNumberMasked: string | null;
  phoneEnc: string | null;
  phoneMasked: string | null;
}

/** The associated data that binds a sealed field to its table and row (`resident.id_number:<id>`). */
function fieldContext(table: string, field: "id_number" | "phone", rowId: string): string {
  return `${table}.${field}:${rowId}`;
}

/**
 * Seals a person's ID number (upper-cased, trimmed) and phone for the row `rowId` of `table`: each value
 * encrypted with its field and row as associated data, the ID number also HMAC-indexed, both masked.
 *
 * @example
 * const sealed = await sealContact(keys, "resident", residentId, { idNumber, phone });
 */
export async function sealContact(
  keys: PiiKeys,
  table: string,
  rowId: string,
  values: { idNumber?: string | null; phone?: string | null },
): Promise<SealedContact> {
  const idNumber = values.idNumber?.trim().toUpperCase() || null;
  const phone = values.phone || null;
  return {
    idNumberEnc: idNumber ? await encryptPii(keys, idNumber, fieldContext(table, "id_number", rowId)) : null,
    idNumberHmac: idNumber ? await lookupHmac(keys, "id_number", idNumber) : null,
    idNumberMasked: idNumber ? maskIdNumber(idNumber) : null,
    phoneEnc: phone ? await encryptPii(keys, phone, fieldContext(table, "phone", rowId)) : null,
    phoneMasked: phone ? maskPhone(phone) : null,
  };
}

/** Opens the ID number and phone sealed by `sealContact` for the same table and row. */
export async function openContact(
  keys: PiiKeys,
  table: string,
  rowId: string,
  sealed: { idNumberEnc: string | null; phoneEnc: string | null },
): Promise<{ idNumber: string | null; phone: string | null }> {
  return {
    idNumber: sealed.idNumberEnc
      ? await decryptPii(keys, sealed.idNumberEnc, fieldContext(table, "id_number", rowId))
      : null,
    phone: sealed.phoneEnc
      ? await decryptPii(keys, sealed.phoneEnc, fieldContext(table, "phone", rowId))
      : null,
  };
}

/**
 * An ID number as those without access see it, and as it is stored in plaintext: only the province and
 * prefecture digits (`6109**************`). Nothing of the birth date, the sequence or the check digit is
 * kept, so with the birth year and gender a masked view shows, 182,500 numbers remain possible.
 *
 * @example
 * maskIdNumberRegion("610902197504121031") // "6109**************"
 */
export function maskIdNumberRegion(idNumber: string): string {
  if (idNumber.length <= 4) return "*".repeat(idNumber.length);
  return `${idNumber.slice(0, 4)}${"*".repeat(idNumber.length - 4)}`;
}

/** A person's identity as stored: `SealedContact` (with the region-only mask) and the sealed full birth date. */
export interface SealedIdentity extends SealedContact {
  birthDateEnc: string | null;
}

/**
 * Seals a person's ID number, phone and full birth date for the row `rowId` of `table` (each bound to its
 * field and row); the ID number is HMAC-indexed and masked with `maskIdNumberRegion`, the phone masked.
 *
 * @example
 * const sealed = await sealIdentity(keys, "resident", residentId, { idNumber, phone, birthDate });
 */
export async function sealIdentity(
  keys: PiiKeys,
  table: string,
  rowId: string,
  values: { idNumber?: string | null; phone?: string | null; birthDate?: string | null },
): Promise<SealedIdentity> {
  const contact = await sealContact(keys, table, rowId, values);
  const idNumber = values.idNumber?.trim().toUpperCase() || null;
  return {
    ...contact,
    idNumberMasked: idNumber ? maskIdNumberRegion(idNumber) : null,
    birthDateEnc: values.birthDate
      ? await encryptPii(keys, values.birthDate, `${table}.birth_date:${rowId}`)
      : null,
  };
}

/** Opens a birth date sealed by `sealIdentity` for the same table and row. */
export function openBirthDate(keys: PiiKeys, table: string, rowId: string, sealed: string): Promise<string> {
  return decryptPii(keys, sealed, `${table}.birth_date:${rowId}`);
}
