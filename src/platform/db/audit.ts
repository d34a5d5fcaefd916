import { type InStatement, LibsqlBatchError, type ResultSet } from "@libsql/client/web";
import { sha256Hex } from "../crypto/tokens";
import type { Db } from "./client";
import { dbErrorKind } from "./errors";

/** One audit entry before it is written. */
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

/** An audit row's fields in their fixed order: the order of its hashed content and of its insert. */
function auditFields(row: Omit<AuditRow, "seq" | "hash" | "prevHash">) {
  return [
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
  ];
}

/** The exact content an audit row's hash or MAC covers, in a fixed order. */
export function auditContent(row: Omit<AuditRow, "seq" | "hash">): string {
  return JSON.stringify([...auditFields(row), row.prevHash]);
}

/** The plain chain hash of a row written before the keyed chain: SHA-256 over the previous hash and the content. */
export function auditHash(row: Omit<AuditRow, "seq" | "hash">): Promise<string> {
  return sha256Hex(`${row.prevHash}\n${auditContent(row)}`);
}

const macKeys = new Map<string, Promise<CryptoKey>>();

/**
 * The HMAC-SHA-256 key from an AUDIT_KEY secret (base64, 256 bits), imported once per isolate.
 *
 * @example
 * const key = await auditMacKey(env.AUDIT_KEY);
 */
export function auditMacKey(secret: string | undefined): Promise<CryptoKey> {
  if (!secret) return Promise.reject(new Error("AUDIT_KEY is not configured"));
  let key = macKeys.get(secret);
  if (!key) {
    const raw = Uint8Array.from(atob(secret), (c) => c.charCodeAt(0));
    if (raw.length < 32) return Promise.reject(new Error("AUDIT_KEY must hold at least 256 bits"));
    key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    macKeys.set(secret, key);
  }
  return key;
}

async function hmacHex(key: CryptoKey, text: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A keyed row's own MAC: HMAC over its content (its `prevHash` is '' — the link is made later). */
export function auditRowMac(
  key: CryptoKey,
  row: Omit<AuditRow, "seq" | "hash" | "prevHash">,
): Promise<string> {
  return hmacHex(key, auditContent({ ...row, prevHash: "" }));
}

/**
 * The chain link of keyed row `seq`: HMAC over the previous link (the legacy head for the first keyed row),
 * the row's sequence number and its row MAC. Covering `seq` makes a renumbered or skipped row visible.
 */
export function auditLinkMac(key: CryptoKey, prevMac: string, seq: number, rowMac: string): Promise<string> {
  return hmacHex(key, `${prevMac}\n${seq}\n${rowMac}`);
}

let workerEnv: Promise<{ AUDIT_KEY?: string } | null> | undefined;

/**
 * AUDIT_KEY as the running code sees it: the Worker's (and its Durable Objects') binding, or for a Node script
 * (the demo seed) `process.env.AUDIT_KEY`. Read here rather than passed in so `writeAudited` keeps the
 * signature every feature calls it with.
 */
async function configuredAuditKey(): Promise<string | undefined> {
  workerEnv ??= import("cloudflare:workers").then(
    (m) => m.env as { AUDIT_KEY?: string },
    () => null,
  );
  return (await workerEnv)?.AUDIT_KEY || globalThis.process?.env?.AUDIT_KEY;
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
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)`;

/**
 * Placed right after a guarded statement: inserts a 0 only when that statement changed no row, which the
 * table's CHECK refuses, so the batch aborts with SQLITE_CONSTRAINT at this statement's index. When the guard
 * passes it inserts nothing (`changes()` still names the guarded statement while this one runs).
 */
const GUARD = "INSERT INTO audit_write_guard (changed) SELECT changes() WHERE changes() = 0";

/**
 * Runs `statements` and inserts the audit rows of `entries` in ONE libSQL batch (a single round trip, one
 * transaction), so a change and its audit rows commit together or not at all. Returns the results of
 * `statements`. Indices in `options.mustChange` name guarded statements (such as a version-checked UPDATE):
 * if one changes no row, the batch aborts, nothing is kept and `GuardFailed` is thrown.
 *
 * Why the chain is not built here: linking each row to the previous one needs the previous row, and reading
 * it inside the write made every audited write in the city hold sqld's single write lock across three round
 * trips (read the last hash, hash in the Worker, commit) — a few dozen writes a second at Turso's latency.
 * Instead each row carries its own HMAC under AUDIT_KEY (the database never holds the key, so a row cannot
 * be altered or forged unnoticed), and the audit anchor Durable Object — one writer, on its own alarm at
 * least every minute and on every verify — links committed rows in `seq` order into `audit_chain` and keeps
 * the head outside libSQL (src/durable/audit-anchor). A chainer that received the change statements instead
 * would put a Durable Object hop on every write and make that one object the city's write bottleneck; this
 * way writes stay one round trip and run as concurrently as sqld allows. What the anchor has not yet linked
 * (at most one alarm interval) is covered by the row MACs and the sequence, not yet by the anchor.
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
  const mustChange = new Set(options.mustChange ?? []);
  for (const index of mustChange) if (!statements[index]) throw new GuardFailed(index);
  const key = await auditMacKey(await configuredAuditKey());
  const at = new Date().toISOString();
  const auditStatements = await Promise.all(
    entries.map(async (entry): Promise<InStatement> => {
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
      };
      const mac = await auditRowMac(key, row);
      return {
        sql: INSERT_AUDIT,
        args: [...auditFields(row), mac],
      };
    }),
  );
  const batch: InStatement[] = [];
  const positions: number[] = [];
  const guardOf = new Map<number, number>();
  statements.forEach((statement, index) => {
    positions.push(batch.length);
    batch.push(statement);
    if (mustChange.has(index)) {
      guardOf.set(batch.length, index);
      batch.push(GUARD);
    }
  });
  let results: ResultSet[];
  try {
    results = await db.$client.batch([...batch, ...auditStatements], "write");
  } catch (error) {
    const guarded = error instanceof LibsqlBatchError ? guardOf.get(error.statementIndex) : undefined;
    if (guarded !== undefined && dbErrorKind(error) === "constraint") throw new GuardFailed(guarded);
    throw error;
  }
  return positions.map((position) => results[position]!);
}
