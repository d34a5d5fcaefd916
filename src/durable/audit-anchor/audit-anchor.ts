import { DurableObject } from "cloudflare:workers";
import { type AnchorState, chainPending, loadGenesis } from "../../services/audit";

/** How often the anchor links new audit rows and checkpoints the head: well inside the minute it promises. */
export const ANCHOR_INTERVAL_MS = 30_000;

const STATE_KEY = "state";

/**
 * The audit anchor: the city's one chainer of the audit log and the keeper of its head outside libSQL.
 *
 * `writeAudited` stores each audit row with its own HMAC in the batch of the change; this object links the
 * committed rows in `seq` order into `audit_chain` (HMAC over the previous link, the seq and the row MAC)
 * and keeps the head it reached — seq and link MAC — plus the genesis it pinned on first use, in its own
 * storage, where someone with database access cannot reach. It does so on its own alarm every
 * {@link ANCHOR_INTERVAL_MS} (the cron re-arms it should it ever stop) and on every verify, so a tail cut or a
 * re-hashed head row is caught against a head at most one interval old.
 *
 * Checkpoints run one at a time (libSQL calls between reading and storing the head would otherwise let an
 * alarm and a verify interleave); the head only moves forward, and is stored only after its links committed.
 */
export class AuditAnchor extends DurableObject<Cloudflare.Env> {
  #queue: Promise<unknown> = Promise.resolve();

  /** Links pending rows and checkpoints the head now; returns what the anchor holds afterwards. */
  checkpoint(): Promise<AnchorState> {
    const run = this.#queue.then(() => this.#checkpoint());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Arms the alarm if none is set (called by the cron, so a lost alarm is back within five minutes). */
  async ensureAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 1_000);
  }

  /** The anchored state without linking anything (for tests and diagnostics). */
  async current(): Promise<AnchorState | null> {
    return (await this.ctx.storage.get<AnchorState>(STATE_KEY)) ?? null;
  }

  override async alarm(): Promise<void> {
    try {
      await this.checkpoint();
    } finally {
      await this.ctx.storage.setAlarm(Date.now() + ANCHOR_INTERVAL_MS);
    }
  }

  async #checkpoint(): Promise<AnchorState> {
    const stored = await this.ctx.storage.get<AnchorState>(STATE_KEY);
    const state = stored ?? { genesis: await loadGenesis(this.env), head: null, halted: null };
    const next = await chainPending(this.env, state);
    if (next.halted)
      console.error(JSON.stringify({ kind: "audit-anchor-halted", ...next.halted, head: state.head }));
    await this.ctx.storage.put(STATE_KEY, next);
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Date.now() + ANCHOR_INTERVAL_MS);
    return next;
  }
}
