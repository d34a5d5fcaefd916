import { z } from "zod";
import { owningUnitsBelow } from "../db/repos/cases";
import { loadDescendantSlaRules, loadSlaChain } from "../db/repos/sla-policy";
import type { SlaRule, SlaRulesBook } from "../domain/sla";
import { pathIds } from "../domain/units";
import { deskOfUnit } from "../durable/grid-desk/address";
import { getDb } from "../platform/db/client";
import { type Delivery, defineConsumer, exponentialBackoff } from "../platform/queues/consume";
import { sendInBatches } from "../platform/queues/send";

/** Desks given their rules per message; the rest of the subtree goes on in a follow-up message. */
export const DESK_RULES_PAGE = 200;
/** Desk calls in flight at once. */
const DESK_CALLS = 25;

/** A time-limit policy change at `unitPath` (version: when it was stored, epoch ms), from `afterPath` on. */
export const DeskRulesMessageSchema = z.object({
  kind: z.literal("sla-rules-changed"),
  unitPath: z.string().min(1),
  version: z.number().int().positive(),
  afterPath: z.string().nullable().default(null),
});
export type DeskRulesMessage = z.infer<typeof DeskRulesMessageSchema>;

/**
 * The message that pushes a policy change at `unitPath` into every desk below it.
 *
 * @example
 * await sendInBatches(env.DESK_RULES, [deskRulesChanged(unit.path, Date.now())]);
 */
export function deskRulesChanged(unitPath: string, version: number): DeskRulesMessage {
  return { kind: "sla-rules-changed", unitPath, version, afterPath: null };
}

/**
 * The `desk-rules` consumer: for a policy change at a unit, gives every GridDesk below it (villages and
 * grids, listed from libSQL by path, one page per message) the rules of its own path with the change's
 * version, which a desk keeps unless it holds a newer one. The rules are read once per message, after the
 * change committed, so a desk never gets rules older than the version it is told. A page that is not done
 * (libSQL or a desk unavailable) is retried with backoff; pushing again is harmless.
 */
export const consumeDeskRules = defineConsumer({
  name: "desk-rules",
  schema: DeskRulesMessageSchema,
  backoff: exponentialBackoff({ base: 5, max: 300 }),
  poison: { logOnly: true },
  handle: async (deliveries: Delivery<DeskRulesMessage>[], env: Cloudflare.Env) => {
    for (const d of deliveries) {
      const last = await pushDeskRules(env, d.body, DESK_RULES_PAGE);
      if (last !== null) await sendInBatches(env.DESK_RULES, [{ ...d.body, afterPath: last }]);
    }
  },
});

/**
 * Gives one page (`pageSize` units by path, after `m.afterPath`) of the desks below `m.unitPath` the rules of
 * their path at `m.version`. Returns the path of the page's last unit when the page was full (more may
 * follow), else null. Used by the consumer, and directly by a policy change that concerns few desks.
 */
export async function pushDeskRules(
  env: Cloudflare.Env,
  m: DeskRulesMessage,
  pageSize: number,
): Promise<string | null> {
  const db = getDb(env);
  const [chain, below, page] = await Promise.all([
    loadSlaChain(db, m.unitPath),
    loadDescendantSlaRules(db, m.unitPath),
    owningUnitsBelow(db, m.unitPath, m.afterPath, pageSize),
  ]);
  const own = new Map<string, SlaRule[]>();
  for (const u of chain) if (u.rules.length) own.set(u.unitId, u.rules);
  for (const u of below) own.set(u.unitId, u.rules);
  const bookOf = (path: string): SlaRulesBook => {
    const unitIds = pathIds(path);
    const rules: Record<string, SlaRule[]> = {};
    for (const id of unitIds) {
      const r = own.get(id);
      if (r) rules[id] = r;
    }
    return { unitIds, rules };
  };
  for (let i = 0; i < page.length; i += DESK_CALLS) {
    await Promise.all(
      page.slice(i, i + DESK_CALLS).map((u) => deskOfUnit(env, u.id).putRules(bookOf(u.path), m.version)),
    );
  }
  return page.length === pageSize ? page[page.length - 1]!.path : null;
}
