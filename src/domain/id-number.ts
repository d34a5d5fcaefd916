/**
 * Resident ID numbers (居民身份证号码) per GB 11643-1999: 6 digits of region, 8 of birth date
 * (YYYYMMDD), 3 of sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character.
 */

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = "10X98765432";

/** The check character for the first 17 digits of an ID number. */
export function idCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

export type IdNumberResult =
  | { ok: true; idNumber: string; birthDate: string; gender: "male" | "female" }
  | { ok: false; message: string };

/**
 * Validates an ID number against GB 11643 (shape, real birth date not after `today`, check character)
 * and returns it normalized (upper-case `X`) with the birth date and gender it encodes.
 *
 * @example
 * parseIdNumber("11010519491231002X", "2026-01-01") // { ok: true, birthDate: "1949-12-31", gender: "female", … }
 */
export function parseIdNumber(raw: string, today: string): IdNumberResult {
  const idNumber = raw.trim().toUpperCase();
  if (!/^[1-9]\d{16}[\dX]$/.test(idNumber)) {
    return { ok: false, message: "an ID number is 17 digits and a check digit or X" };
  }
  const y = idNumber.slice(6, 10);
  const m = idNumber.slice(10, 12);
  const d = idNumber.slice(12, 14);
  const birthDate = `${y}-${m}-${d}`;
  if (!isRealDate(birthDate) || Number(y) < 1900) {
    return { ok: false, message: "the ID number's birth date is not a real date" };
  }
  if (birthDate > today) return { ok: false, message: "the ID number's birth date is in the future" };
  if (idCheckCharacter(idNumber) !== idNumber[17]) {
    return { ok: false, message: "the ID number's check digit is wrong (GB 11643)" };
  }
  return { ok: true, idNumber, birthDate, gender: Number(idNumber[16]) % 2 === 1 ? "male" : "female" };
}

/** Whether `YYYY-MM-DD` names a day that exists in the Gregorian calendar. */
export function isRealDate(date: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return false;
  const parsed = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === date;
}

/** A valid ID number built from a region, a birth date and a sequence (for seeds, generators and tests). */
export function makeIdNumber(region: string, birthDate: string, sequence: number): string {
  const first17 = `${region}${birthDate.replace(/-/g, "")}${String(sequence % 1000).padStart(3, "0")}`;
  return first17 + idCheckCharacter(first17);
}
