import { type AuditEntry, writeAudited } from "./audit";
import { getDb } from "./client";

/** A refused request for a sensitive resource, to be audited at most once per minute. */
export interface DenialEntry {
  actorId: string | null;
  actorRole: string | null;
  /** The unit path the resource lives under (audit reads are scoped by it). */
  scopePath: string;
  /** What was attempted, as an audit action (`household.read`, `resident.reveal`, `attachment.download`…). */
  action: string;
  objectType: string;
  objectId: string | null;
  /** Why it was refused, a short code (`out_of_scope`, `reveal_role`, `reveal_purpose`, `rate_limited`…). */
  reason: string;
  requestId: string | null;
  purpose?: string | null;
  detail?: Record<string, unknown> | null;
}

// Raw SQL: a platform helper every feature uses, kept free of the features' drizzle schema. The mark table
// (migration 0520) has the key (user, resource, reason, minute); DO NOTHING makes a repeat a zero-row insert.
const MARK = `INSERT INTO audit_denial_marks (user_id, resource, reason, minute) VALUES (?, ?, ?, ?)
  ON CONFLICT DO NOTHING`;
// Marks older than the current minute are never consulted again; each new mark clears the user's old ones.
const PRUNE = "DELETE FROM audit_denial_marks WHERE user_id = ? AND minute < ?";

/**
 * Audits a denied request for a sensitive resource without flooding the log: one `denied` audit row per
 * (user, resource, reason) per minute. One conditional insert claims the minute's mark (`ON CONFLICT DO
 * NOTHING` on the unique key); only the request whose insert took writes the audit row, so a burst of
 * parallel refusals still leaves exactly one. Returns whether a row was written. Call it before throwing
 * the refusal (a 403, a 404 for an object outside the caller's scope, a 429).
 *
 * @example
 * if (household && !inScope(principal.unitPath, household.unitPath)) {
 *   await auditDenial(env, {
 *     actorId: principal.userId,
 *     actorRole: principal.role,
 *     scopePath: household.unitPath,
 *     action: "household.read",
 *     objectType: "household",
 *     objectId: household.id,
 *     reason: "out_of_scope",
 *     requestId,
 *   });
 *   throw problems.notFound("household");
 * }
 */
export async function auditDenial(
  env: Pick<Cloudflare.Env, "LIBSQL_URL" | "LIBSQL_AUTH_TOKEN">,
  entry: DenialEntry,
  now: Date = new Date(),
): Promise<boolean> {
  const db = getDb(env);
  const user = entry.actorId ?? "anonymous";
  const minute = now.toISOString().slice(0, 16);
  const resource = `${entry.objectType}:${entry.objectId ?? "-"}`;
  const mark = await db.$client.execute({ sql: MARK, args: [user, resource, entry.reason, minute] });
  if (mark.rowsAffected === 0) return false;
  const audit: AuditEntry = {
    actorId: entry.actorId,
    actorRole: entry.actorRole,
    scopePath: entry.scopePath,
    action: entry.action,
    objectType: entry.objectType,
    objectId: entry.objectId,
    outcome: "denied",
    requestId: entry.requestId,
    purpose: entry.purpose ?? null,
    detail: { reason: entry.reason, ...(entry.detail ?? {}) },
  };
  await writeAudited(db, [{ sql: PRUNE, args: [user, minute] }], [audit]);
  return true;
}
