import {
  type AuditGenesis,
  type AuditLogRow,
  appendChainLinks,
  auditRowsWithLinks,
  type ChainLink,
  chainLinkAt,
  findAuditGenesis,
  lastChainLink,
  rowMacsAfter,
} from "../db/repos/audit";
import type { AuditAnchor } from "../durable/audit-anchor/audit-anchor";
import { auditHash, auditLinkMac, auditMacKey, auditRowMac } from "../platform/db/audit";

/** What the audit anchor keeps outside libSQL: where the keyed chain starts and its last checkpointed head. */
export interface AnchorState {
  genesis: AuditGenesis;
  /** The chain head at the last checkpoint: a row's seq and its link MAC (null until a keyed row is linked). */
  head: (ChainLink & { at: string }) | null;
  /** Set while the stored chain no longer reaches the head: linking stops until someone looks. */
  halted: { reason: "missing-tail" | "anchor-mismatch"; at: string } | null;
}

/** Rows read and linked per step of a checkpoint. */
const CHAIN_STEP = 500;

/**
 * Links the rows written since the last link into `audit_chain`, in `seq` order, and returns the new state
 * for the anchor to store. Run by the anchor only (one writer); a row deleted before it was linked leaves a
 * gap the links cover by `seq`, so verify reports it. If the stored chain no longer reaches `state.head` (its
 * tail was cut, or the link at the head differs) nothing is linked and the state says why.
 */
export async function chainPending(env: Cloudflare.Env, state: AnchorState): Promise<AnchorState> {
  const key = await auditMacKey(env.AUDIT_KEY);
  const now = new Date().toISOString();
  const stored = await lastChainLink(env);
  if (state.head) {
    if (!stored || stored.seq < state.head.seq)
      return { ...state, halted: { reason: "missing-tail", at: now } };
    const atHead = stored.seq === state.head.seq ? stored : await chainLinkAt(env, state.head.seq);
    if (atHead?.mac !== state.head.mac) return { ...state, halted: { reason: "anchor-mismatch", at: now } };
  }
  let prev: ChainLink = stored ?? { seq: state.genesis.legacyThrough, mac: state.genesis.legacyHead };
  for (;;) {
    const rows = await rowMacsAfter(env, prev.seq, CHAIN_STEP);
    const links: ChainLink[] = [];
    for (const row of rows) {
      prev = { seq: row.seq, mac: await auditLinkMac(key, prev.mac, row.seq, row.hash) };
      links.push(prev);
    }
    await appendChainLinks(env, links, now);
    if (rows.length < CHAIN_STEP) break;
  }
  const head = prev.seq > state.genesis.legacyThrough ? { ...prev, at: now } : state.head;
  return { genesis: state.genesis, head, halted: null };
}

/** The genesis as stored in libSQL, for the anchor to pin on its first checkpoint. */
export async function loadGenesis(env: Cloudflare.Env): Promise<AuditGenesis> {
  const genesis = await findAuditGenesis(env);
  if (!genesis) throw new Error("audit_chain_genesis is missing: run migration 0530");
  return genesis;
}

/** Why verify reports a row (or a missing one). */
export type AuditFindingReason =
  /** A plain SHA-256 row whose content no longer matches its hash. */
  | "hash-mismatch"
  /** A plain SHA-256 row whose `prevHash` is not the previous row's hash. */
  | "chain-break"
  /** The last plain SHA-256 row is not the one the keyed chain starts from. */
  | "legacy-head-mismatch"
  /** A keyed row whose content does not match its HMAC under AUDIT_KEY: altered or re-hashed. */
  | "row-mac-mismatch"
  /** A stored link that is not HMAC(previous link, seq, row MAC): the chain was rewritten. */
  | "link-mismatch"
  /** A row at or below the anchored head with no link. */
  | "unchained"
  /** A sequence number with no row: deleted from the middle. `seq` is the first missing one. */
  | "sequence-gap"
  /** The anchored head row is gone: the tail was cut. `seq` is the anchored head. */
  | "missing-tail"
  /** The link stored at the anchored head differs from the one checkpointed outside libSQL. */
  | "anchor-mismatch"
  /** The genesis in libSQL differs from the one the anchor pinned. */
  | "genesis-moved";

/** One thing verify found wrong. */
export interface AuditFinding {
  seq: number;
  id: string | null;
  reason: AuditFindingReason;
}

/** Findings listed at most; `findingCount` counts them all. */
const MAX_FINDINGS = 100;

/**
 * Checks audit rows fed in `seq` order against the genesis and the anchored head: plain SHA-256 links up to
 * `genesis.legacyThrough`, then each row's HMAC and its stored link, gaps in `seq`, and finally whether the
 * anchored head row is still there with the checkpointed link. Pure apart from the MAC computations.
 */
export class AuditChainCheck {
  checked = 0;
  /** Keyed rows after the anchored head not linked yet (written since the last checkpoint). */
  pending = 0;
  findingCount = 0;
  readonly findings: AuditFinding[] = [];
  #nextSeq = 1;
  #prevHash = "";
  #prevLink: string;
  #headLink: string | null | undefined;

  constructor(
    private readonly key: CryptoKey,
    private readonly genesis: AuditGenesis,
    private readonly head: ChainLink | null,
  ) {
    this.#prevLink = genesis.legacyHead;
  }

  #report(seq: number, id: string | null, reason: AuditFindingReason) {
    if (this.findingCount++ < MAX_FINDINGS) this.findings.push({ seq, id, reason });
  }

  /** Checks the next row (rows must come in increasing `seq`) and its stored link. */
  async add(row: AuditLogRow, link: string | null): Promise<void> {
    this.checked++;
    if (row.seq > this.#nextSeq) this.#report(this.#nextSeq, null, "sequence-gap");
    this.#nextSeq = row.seq + 1;
    if (row.seq <= this.genesis.legacyThrough) {
      if (row.prevHash !== this.#prevHash) this.#report(row.seq, row.id, "chain-break");
      const { seq: _seq, hash, ...content } = row;
      if ((await auditHash(content)) !== hash) this.#report(row.seq, row.id, "hash-mismatch");
      if (row.seq === this.genesis.legacyThrough && hash !== this.genesis.legacyHead)
        this.#report(row.seq, row.id, "legacy-head-mismatch");
      this.#prevHash = hash;
      return;
    }
    const { seq: _seq, hash, prevHash, ...content } = row;
    if (prevHash !== "" || (await auditRowMac(this.key, content)) !== hash)
      this.#report(row.seq, row.id, "row-mac-mismatch");
    if (link === null) {
      if (this.head && row.seq <= this.head.seq) this.#report(row.seq, row.id, "unchained");
      else this.pending++;
    } else {
      if ((await auditLinkMac(this.key, this.#prevLink, row.seq, hash)) !== link)
        this.#report(row.seq, row.id, "link-mismatch");
      this.#prevLink = link;
    }
    if (this.head && row.seq === this.head.seq) this.#headLink = link;
  }

  /** Ends the walk: checks that the rows reach the legacy end and the anchored head, with its link. */
  finish(): void {
    const lastSeq = this.#nextSeq - 1;
    if (lastSeq < this.genesis.legacyThrough) this.#report(lastSeq + 1, null, "missing-tail");
    if (!this.head) return;
    if (this.#headLink === undefined) this.#report(this.head.seq, null, "missing-tail");
    else if (this.#headLink !== this.head.mac) this.#report(this.head.seq, null, "anchor-mismatch");
  }
}

/** Rows read per step of a verify. */
const VERIFY_CHUNK = 2000;

/** The outcome of verifying the audit log against its anchor. */
export interface AuditVerification {
  ok: boolean;
  checked: number;
  pending: number;
  keyedFrom: number;
  anchor: { seq: number; at: string } | null;
  findingCount: number;
  findings: AuditFinding[];
  firstBroken: AuditFinding | null;
}

/** The city's one audit anchor (src/durable/audit-anchor). */
export function auditAnchor(env: Cloudflare.Env): DurableObjectStub<AuditAnchor> {
  return env.AUDIT_ANCHOR.get(env.AUDIT_ANCHOR.idFromName("city"));
}

/**
 * Verifies the whole audit log: has the anchor link what is pending and checkpoint its head, then walks
 * every row in `seq` order (2,000 per read) with {@link AuditChainCheck}, and compares the genesis in
 * libSQL with the one the anchor pinned.
 */
export async function verifyAudit(env: Cloudflare.Env): Promise<AuditVerification> {
  const state: AnchorState = await auditAnchor(env).checkpoint();
  const check = new AuditChainCheck(await auditMacKey(env.AUDIT_KEY), state.genesis, state.head);
  let after = 0;
  for (;;) {
    const rows = await auditRowsWithLinks(env, after, VERIFY_CHUNK);
    for (const { row, link } of rows) await check.add(row, link);
    if (rows.length < VERIFY_CHUNK) break;
    after = rows[rows.length - 1]!.row.seq;
  }
  check.finish();
  const stored = await findAuditGenesis(env);
  const findings = [...check.findings];
  if (
    stored?.legacyThrough !== state.genesis.legacyThrough ||
    stored.legacyHead !== state.genesis.legacyHead
  ) {
    findings.unshift({ seq: state.genesis.legacyThrough, id: null, reason: "genesis-moved" });
  }
  const findingCount = check.findingCount + findings.length - check.findings.length;
  return {
    ok: findingCount === 0,
    checked: check.checked,
    pending: check.pending,
    keyedFrom: state.genesis.legacyThrough + 1,
    anchor: state.head ? { seq: state.head.seq, at: state.head.at } : null,
    findingCount,
    findings,
    firstBroken: findings[0] ?? null,
  };
}
