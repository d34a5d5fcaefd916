import type { Role } from "./roles";

/**
 * Who may see sensitive personal information unmasked (ID numbers, phones, birth dates, sensitive tags,
 * minors' names, sensitive classification reasons), and on what terms.
 *
 * - `admin`, `center_staff` and `grid_worker` may ask for unmasked values of residents in their own
 *   subtree (a grid worker's subtree is their grid): they serve these households and must be able to reach
 *   and help them. Everyone else (`leader`, `department`, the three lines) always gets masked values.
 * - Unmasked values are never the default: a read asks with `?reveal=true` and states an enumerated purpose
 *   in `x-purpose` (with `x-purpose-ref` where the purpose needs one, see `purposes.ts`). A reveal without a
 *   purpose is refused (400 `purpose-required`), by a role that may not reveal 403; both refusals are
 *   audited. Every reveal granted writes an audit row with the purpose before the data leaves the server,
 *   and counts against the caller's hourly reveal limit (429 beyond it, and an alert to the city centre).
 * - Lists never carry unmasked values, whoever asks.
 *
 * The masking rule: from everything a masked view shows (and from a database dump without `PII_KEY`), an
 * ID number must keep at least 10,000 candidates. The region (6 digits) is taken as known (the household's
 * unit gives it away) and the gender digit's parity is shown, so what is left is the birth date and the
 * sequence: a masked view shows the birth year only (365 days) and the mask keeps no character of the
 * birth date, the sequence or the check digit (500 sequences of the right parity): 182,500 candidates.
 * `minor` and minors' name masking are decided from the birth year alone for the same reason.
 */

/** Roles that may read unmasked sensitive fields (with a purpose, audited). */
export const UNMASK_ROLES: readonly Role[] = ["admin", "center_staff", "grid_worker"];

/** Whether a role may ask for unmasked sensitive fields. */
export function mayUnmask(role: Role): boolean {
  return UNMASK_ROLES.includes(role);
}

/**
 * A free-text purpose, trimmed, or null when it is missing or unusable.
 *
 * @deprecated purposes are enumerated codes now: use `parsePurposeHeaders` in `purposes.ts`.
 */
export function parsePurpose(header: string | undefined): string | null {
  const purpose = header?.trim() ?? "";
  return purpose.length >= 4 && purpose.length <= 200 ? purpose : null;
}

/** Whether a person born on `birthDate` (YYYY-MM-DD) is under 18 on `today` (YYYY-MM-DD). */
export function isMinor(birthDate: string, today: string): boolean {
  const y = Number(birthDate.slice(0, 4));
  const eighteenth = `${y + 18}${birthDate.slice(4)}`;
  return today < eighteenth;
}

/**
 * Whether someone born in `birthYear` is under 18 on some day of `year`: the minor rule of masked views,
 * which must not tell apart two people born in the same year (a minor until the end of the year they turn 18).
 */
export function isMinorInYear(birthYear: number, year: number): boolean {
  return year - birthYear <= 18;
}

/** A birth date as masked views show it: the year only (`1975-**-**`). */
export function maskedBirthDate(birthYear: number): string {
  return `${String(birthYear).padStart(4, "0")}-**-**`;
}

/** The `unit_settings` key of the reveals a user may make per hour (the deepest setting on their unit's path wins). */
export const REVEAL_LIMIT_KEY = "pii.reveals_per_hour";

/** Reveals per user per hour when no unit on the path sets `REVEAL_LIMIT_KEY`. */
export const DEFAULT_REVEAL_LIMIT = 60;

/** Refused registrations of an already registered ID number a user may cause per hour before 429. */
export const ID_PROBE_LIMIT = 10;

/** The window both limits count in. */
export const PII_LIMIT_WINDOW_MS = 3_600_000;

/** The reveal limit from the settings on a user's unit path (deepest wins; a bad value is ignored). */
export function resolveRevealLimit(settings: ReadonlyArray<{ depth: number; value: string }>): number {
  let best: { depth: number; limit: number } | null = null;
  for (const s of settings) {
    const limit = Number(s.value);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) continue;
    if (!best || s.depth > best.depth) best = { depth: s.depth, limit };
  }
  return best?.limit ?? DEFAULT_REVEAL_LIMIT;
}
