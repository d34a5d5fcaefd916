import { createHash } from "node:crypto";

/**
 * Case ids that name their desk. A case lives in the GridDesk of its owning unit for life, so its id carries
 * that desk's key and any Worker goes straight to the desk from the id alone: no directory, no cache.
 *
 * A keyed case id is a UUIDv8 (RFC 9562) laid out as
 *
 *     kkkkkkkk-kkkk-8dkk-adcc-cccccccccccc
 *
 * - `k` (56 bits): the desk key, the first 7 bytes of SHA-256("grid321-desk", owning unit id);
 * - `8d` and `ad`: the version 8 and variant nibbles with a 10-bit marker, so a keyed id is told from a plain
 *   random (v4) id at once and from a legacy v8 id (from an Idempotency-Key) with 1 − 2⁻¹⁰ certainty;
 * - `c` (56 bits): SHA-256("grid321-case", owning unit id, client id), the client's offline id (or the id its
 *   Idempotency-Key stands for) within that desk.
 *
 * So the id of a report is f(owning unit, client id): the same client id sent to two grids is two distinct
 * cases, decided by arithmetic instead of a directory read that two requests could race. Ids of cases
 * reported before keyed ids (legacy) carry no key; their desk is found through the projection.
 */

const MARKER_VERSION = 0x8d;
const MARKER_VARIANT = 0xad;
const KEYED = /^[0-9a-f]{8}-[0-9a-f]{4}-8d[0-9a-f]{2}-ad[0-9a-f]{2}-[0-9a-f]{12}$/;

const digest = (...parts: string[]) => createHash("sha256").update(parts.join("\n")).digest();

/** The desk key of an owning unit: 14 hex digits (56 bits of SHA-256 of the unit id). */
export function deskKeyOf(unitId: string): string {
  return digest("grid321-desk", unitId).subarray(0, 7).toString("hex");
}

/**
 * The id of the case a client reports as `clientId` in `owningUnitId`: keyed with the owning unit's desk.
 *
 * @example
 * caseIdFor(gridId, "0b6e…") // "3f1c9a02-77d1-8d5e-ad41-…", the same for every retry, another for another grid
 */
export function caseIdFor(owningUnitId: string, clientId: string): string {
  const deskKey = deskKeyOf(owningUnitId);
  // An id this desk already assigned (a client echoing it back) stays what it is.
  if (deskKeyOfCaseId(clientId) === deskKey) return clientId.toLowerCase();
  const key = Buffer.from(deskKey, "hex");
  const own = digest("grid321-case", owningUnitId, clientId.toLowerCase()).subarray(0, 7);
  const b = new Uint8Array(16);
  b.set(key.subarray(0, 6), 0);
  b[6] = MARKER_VERSION;
  b[7] = key[6]!;
  b[8] = MARKER_VARIANT;
  b.set(own, 9);
  const h = Buffer.from(b).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The desk key a case id carries, or null for a legacy id (reported before case ids were keyed). */
export function deskKeyOfCaseId(caseId: string): string | null {
  const id = caseId.toLowerCase();
  if (!KEYED.test(id)) return null;
  const hex = id.replaceAll("-", "");
  return hex.slice(0, 12) + hex.slice(14, 16);
}

/** Whether `caseId` names its desk (else it is a legacy id). */
export function isKeyedCaseId(caseId: string): boolean {
  return deskKeyOfCaseId(caseId) !== null;
}
