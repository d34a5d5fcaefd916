import type { InStatement, ResultSet } from "@libsql/client/web";
import { sha256Hex } from "../crypto/tokens";
import type { Db } from "./client";

/** One audit entry before it is chained. */
export interface AuditEntry {
  actorId: string | null;
  actorRole: string | null;
  /** The unit path the audited object lives under; audit reads are scoped by it. */
  scopePath: string;
  action: string;
  objectType: string;
  objectId: string | null;
  outcome: "success" | "failure" | "denied";
  requestId: string | null;
  purpose?: string | null;
  detail?: Record<string, unknown> | null;
}

export interface AuditRow extends Required<Omit<AuditEntry, "detail" | "outcome">> {
  seq: number;
  outcome: string;
  id: string;
  at: string;
  detail: string | null;
  prevHash: string;
  hash: string;
}

/** The exact content an audit row's hash covers, in a fixed order. */
export function auditContent(row: Omit<AuditRow, "seq" | "hash">): string {
  return JSON.stringify([
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
  ]);
}

/** The chain hash of a row: SHA-256 over the previous hash and the row's content. */
export function auditHash(row: Omit<AuditRow, "seq" | "hash">): Promise<string> {
  return sha256Hex(`${row.prevHash}\n${auditContent(row)}`);
}

/**
 * Thrown (after rolling back) when a statement named in `mustChange` changed no row, e.g. a version-guarded
 * UPDATE that lost a race: nothing of the write, audit rows included, is kept.
 */
export class GuardFailed extends Error {
  constructor(readonly statementIndex: number) {
    super(`guarded statement ${statementIndex} changed no row`);
    this.name = "GuardFailed";
  }
}

const INSERT_AUDIT = `INSERT INTO audit_log
  (id, at, actor_id, actor_role, scope_path, action, object_type, object_id, outcome, request_id, purpose, detail, prev_hash, hash)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * Runs `statements` and appends `entries` to the audit chain in one libSQL write transaction, so a change
 * and its audit rows commit together or not at all. The transaction is what serializes the chain: sqld has
 * one writer, so the last hash read here is still the last when the rows are inserted.
 * Returns the results of `statements`. Indices in `options.mustChange` name guarded statements (such as a
 * version-checked UPDATE): if one changes no row, everything rolls back and `GuardFailed` is thrown.
 *
 * @example
 * await writeAudited(db, [{ sql: "UPDATE units SET name = ? WHERE id = ?", args: [name, id] }], [entry]);
 */
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
