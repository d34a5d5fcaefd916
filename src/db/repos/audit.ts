import { and, asc, desc, eq, gt, gte, lt, lte, type SQL } from "drizzle-orm";
import { subtreeRange } from "../../domain/units";
import { auditHash } from "../../platform/db/audit";
import { getDb } from "../../platform/db/client";
import { auditLog } from "../schema";

/** A stored audit row. */
export type AuditLogRow = typeof auditLog.$inferSelect;

/** The public view of an audit row (its detail parsed). */
export function auditView(r: AuditLogRow) {
  return { ...r, detail: r.detail ? (JSON.parse(r.detail) as unknown) : null };
}

/** Filters of the audit search; `beforeSeq` is the keyset position (newest first). */
export interface AuditSearch {
  scopePath: string;
  action?: string;
  objectType?: string;
  objectId?: string;
  actorId?: string;
  from?: string;
  to?: string;
  beforeSeq?: number;
  limit: number;
}

/** Audit rows inside `scopePath`, newest first, `limit` of them at most. */
export async function searchAudit(env: Cloudflare.Env, s: AuditSearch): Promise<AuditLogRow[]> {
  const [lo, hi] = subtreeRange(s.scopePath);
  const where: SQL[] = [gte(auditLog.scopePath, lo), lt(auditLog.scopePath, hi)];
  if (s.action) where.push(eq(auditLog.action, s.action));
  if (s.objectType) where.push(eq(auditLog.objectType, s.objectType));
  if (s.objectId) where.push(eq(auditLog.objectId, s.objectId));
  if (s.actorId) where.push(eq(auditLog.actorId, s.actorId));
  if (s.from) where.push(gte(auditLog.at, s.from));
  if (s.to) where.push(lte(auditLog.at, s.to));
  if (s.beforeSeq !== undefined) where.push(lt(auditLog.seq, s.beforeSeq));
  return getDb(env)
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.seq))
    .limit(s.limit);
}

const VERIFY_CHUNK = 2000;

/** The outcome of recomputing the audit chain. */
export interface ChainCheck {
  ok: boolean;
  checked: number;
  firstBroken: { seq: number; id: string; reason: "hash-mismatch" | "chain-break" } | null;
}

/** Recomputes the whole audit hash chain in order, 2,000 rows per read, and names the first broken row. */
export async function verifyAuditChain(env: Cloudflare.Env): Promise<ChainCheck> {
  const db = getDb(env);
  let prevHash = "";
  let lastSeq = 0;
  let checked = 0;
  for (;;) {
    const rows = await db
      .select()
      .from(auditLog)
      .where(gt(auditLog.seq, lastSeq))
      .orderBy(asc(auditLog.seq))
      .limit(VERIFY_CHUNK);
    for (const row of rows) {
      if (row.prevHash !== prevHash)
        return { ok: false, checked, firstBroken: { seq: row.seq, id: row.id, reason: "chain-break" } };
      const { seq: _seq, hash, ...content } = row;
      if ((await auditHash(content)) !== hash)
        return { ok: false, checked, firstBroken: { seq: row.seq, id: row.id, reason: "hash-mismatch" } };
      prevHash = hash;
      lastSeq = row.seq;
      checked++;
    }
    if (rows.length < VERIFY_CHUNK) return { ok: true, checked, firstBroken: null };
  }
}
