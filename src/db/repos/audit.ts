import { and, asc, desc, eq, gt, gte, lt, lte, type SQL } from "drizzle-orm";
import { subtreeRange } from "../../domain/units";
import { getDb } from "../../platform/db/client";
import { auditChain, auditChainGenesis, auditLog } from "../schema";

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

/** Where the keyed chain starts, as migration 0530 recorded it. */
export interface AuditGenesis {
  /** The last row hashed with plain SHA-256 (0: none). */
  legacyThrough: number;
  /** That row's hash, from which the first keyed link starts ('' when none). */
  legacyHead: string;
}

/** The genesis row of the keyed chain, or null if it is missing. */
export async function findAuditGenesis(env: Cloudflare.Env): Promise<AuditGenesis | null> {
  const [row] = await getDb(env)
    .select({ legacyThrough: auditChainGenesis.legacyThrough, legacyHead: auditChainGenesis.legacyHead })
    .from(auditChainGenesis)
    .where(eq(auditChainGenesis.id, 1));
  return row ?? null;
}

/** A link of the keyed chain. */
export interface ChainLink {
  seq: number;
  mac: string;
}

/** The last link stored in `audit_chain`, or null when nothing is linked yet. */
export async function lastChainLink(env: Cloudflare.Env): Promise<ChainLink | null> {
  const [row] = await getDb(env)
    .select({ seq: auditChain.seq, mac: auditChain.mac })
    .from(auditChain)
    .orderBy(desc(auditChain.seq))
    .limit(1);
  return row ?? null;
}

/** The stored link of row `seq`, or null. */
export async function chainLinkAt(env: Cloudflare.Env, seq: number): Promise<ChainLink | null> {
  const [row] = await getDb(env)
    .select({ seq: auditChain.seq, mac: auditChain.mac })
    .from(auditChain)
    .where(eq(auditChain.seq, seq));
  return row ?? null;
}

/** Sequence numbers and row MACs of the rows after `afterSeq`, in order, `limit` at most. */
export async function rowMacsAfter(
  env: Cloudflare.Env,
  afterSeq: number,
  limit: number,
): Promise<Array<{ seq: number; hash: string }>> {
  return getDb(env)
    .select({ seq: auditLog.seq, hash: auditLog.hash })
    .from(auditLog)
    .where(gt(auditLog.seq, afterSeq))
    .orderBy(asc(auditLog.seq))
    .limit(limit);
}

/**
 * Appends links to `audit_chain` in one statement. A link already there is kept: the chain is deterministic
 * under one key, so a second chainer (a retried alarm) can only have written the same MAC.
 */
export async function appendChainLinks(env: Cloudflare.Env, links: ChainLink[], at: string): Promise<void> {
  if (!links.length) return;
  // One json_each statement for any number of links: a single round trip per chaining step.
  await getDb(env).$client.execute({
    sql: `INSERT INTO audit_chain (seq, mac, chained_at)
          SELECT value->>0, value->>1, ? FROM json_each(?) WHERE true
          ON CONFLICT (seq) DO NOTHING`,
    args: [at, JSON.stringify(links.map((l) => [l.seq, l.mac]))],
  });
}

/** Audit rows after `afterSeq` in order with their stored link (null when not yet linked), `limit` at most. */
export async function auditRowsWithLinks(
  env: Cloudflare.Env,
  afterSeq: number,
  limit: number,
): Promise<Array<{ row: AuditLogRow; link: string | null }>> {
  return getDb(env)
    .select({ row: auditLog, link: auditChain.mac })
    .from(auditLog)
    .leftJoin(auditChain, eq(auditChain.seq, auditLog.seq))
    .where(gt(auditLog.seq, afterSeq))
    .orderBy(asc(auditLog.seq))
    .limit(limit);
}
