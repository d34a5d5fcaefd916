import type { Role } from "./roles";

/**
 * Who may see sensitive personal information unmasked (ID numbers, phones, sensitive tags, minors' names
 * and birth dates, sensitive classification reasons), and on what terms.
 *
 * - `admin`, `center_staff` and `grid_worker` may ask for unmasked values of residents in their own
 *   subtree (a grid worker's subtree is their grid): they serve these households and must be able to reach
 *   and help them. Everyone else (`leader`, `department`, the three lines) always gets masked values.
 * - Unmasked values are never the default: a read asks with `?reveal=true` and must state why in the
 *   `x-purpose` header (4–200 characters). A reveal without a purpose is refused (400 `purpose-required`),
 *   by a role that may not reveal 403, and every reveal that is granted writes an audit row with the purpose
 *   before the data leaves the server.
 * - Lists never carry unmasked values, whoever asks.
 */

/** Roles that may read unmasked sensitive fields (with a purpose, audited). */
export const UNMASK_ROLES: readonly Role[] = ["admin", "center_staff", "grid_worker"];

/** Whether a role may ask for unmasked sensitive fields. */
export function mayUnmask(role: Role): boolean {
  return UNMASK_ROLES.includes(role);
}

/** A stated purpose for a sensitive read, trimmed, or null when it is missing or unusable. */
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
