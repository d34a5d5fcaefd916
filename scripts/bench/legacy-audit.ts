/**
 * The audit write path before the keyed chain, kept ONLY for `npm run bench:audit`, which bundles it into the
 * Worker in place of src/platform/db/audit.ts to measure old against new in one run. Everything else of
 * that module is re-exported unchanged; only `writeAudited` is the old one: an interactive libSQL write
 * transaction across three round trips (read the last hash, hash in the Worker, batch and commit) that
 * chains every row to the previous one with plain SHA-256.
 */
import type { InStatement, ResultSet } from "@libsql/client/web";
import { type AuditEntry, auditHash, GuardFailed } from "../../src/platform/db/audit";
import type { Db } from "../../src/platform/db/client";

export * from "../../src/platform/db/audit";

const INSERT_AUDIT = `INSERT INTO audit_log
  (id, at, actor_id, actor_role, scope_path, action, object_type, object_id, outcome, request_id, purpose, detail, prev_hash, hash)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** The old `writeAudited`, as it was (same signature). */
export async function writeAudited(
  db: Db,
  statements: InStatement[],
  entries: AuditEntry[],
  options: { mustChange?: number[] } = {},
): Promise<ResultSet[]> {
  const tx = await db.$client.transaction("write");
  try {
    const last = await tx.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    let prevHash = last.rows.length ? String(last.rows[0]!.hash) : "";
    const at = new Date().toISOString();
    const auditStatements: InStatement[] = [];
    for (const entry of entries) {
      const row = {
        id: crypto.randomUUID(),
        at,
        actorId: entry.actorId,
        actorRole: entry.actorRole,
        scopePath: entry.scopePath,
        action: entry.action,
        objectType: entry.objectType,
        objectId: entry.objectId,
        outcome: entry.outcome,
        requestId: entry.requestId,
        purpose: entry.purpose ?? null,
        detail: entry.detail ? JSON.stringify(entry.detail) : null,
        prevHash,
      };
      const hash = await auditHash(row);
      auditStatements.push({
        sql: INSERT_AUDIT,
        args: [
          row.id,
          row.at,
          row.actorId,
          row.actorRole,
          row.scopePath,
          row.action,
          row.objectType,
          row.objectId,
          row.outcome,
          row.requestId,
          row.purpose,
          row.detail,
          row.prevHash,
          hash,
        ],
      });
      prevHash = hash;
    }
    const results = await tx.batch([...statements, ...auditStatements]);
    for (const index of options.mustChange ?? []) {
      if ((results[index]?.rowsAffected ?? 0) === 0) throw new GuardFailed(index);
    }
    await tx.commit();
    return results.slice(0, statements.length);
  } catch (error) {
    await tx.rollback().catch(() => undefined);
    throw error;
  } finally {
    tx.close();
  }
}
