import type { DirectiveRecord } from "../db/repos/directives";
import { gridsUnder } from "../db/repos/emergency";
import type { DirectivePriority } from "../domain/directives";
import { ORDER_COMPLETE_WITHIN_MS } from "../domain/emergency-orders";
import { inScope } from "../domain/units";
import { getDb } from "../platform/db/client";
import { Problem, problems } from "../platform/http/problem";
import type { Caller } from "./caller";
import { issueDirective } from "./directives";
import { eventFor } from "./emergency";

/** An emergency order (应急指令) as the commanding centre gives it. */
export interface NewOrder {
  title: string;
  body: string;
  priority?: DirectivePriority;
  ackWithinMinutes: number;
  dueAt?: string;
}

/**
 * Issues an emergency order: a directive to every grid of the event's affected subtrees, linked to the event,
 * whose receipts must be acknowledged within `ackWithinMinutes` (the directives watchdog escalates a miss to
 * the grid's village and town centres). Only the commanding centre or one above it may (403; 404 for a
 * caller who cannot see the event), and only while the event is active (409).
 */
export async function issueOrder(
  env: Cloudflare.Env,
  caller: Caller,
  eventId: string,
  input: NewOrder,
): Promise<DirectiveRecord> {
  const p = caller.principal;
  if (input.dueAt && Date.parse(input.dueAt) <= Date.now() + input.ackWithinMinutes * 60_000) {
    throw problems.badRequest("The due time must come after the acknowledgement deadline", [
      { path: "dueAt", message: "before the acknowledgement deadline" },
    ]);
  }
  const event = await eventFor(env, p, eventId);
  if (!inScope(p.unitPath, event.commandUnitPath)) {
    throw new Problem(403, "not-commanding-centre", "Only the commanding centre or one above it may order");
  }
  if (event.status !== "active") throw problems.conflict("event-stood-down", "The event has been stood down");
  const grids = await gridsUnder(
    getDb(env),
    event.units.map((u) => u.unitPath),
  );
  if (!grids.length) throw problems.conflict("no-affected-grids", "The event's units hold no grids");
  return issueDirective(env, caller, {
    title: input.title,
    body: input.body,
    priority: input.priority ?? "urgent",
    dueAt: input.dueAt ?? new Date(Date.now() + ORDER_COMPLETE_WITHIN_MS).toISOString(),
    attachmentIds: [],
    unitIds: grids.map((g) => g.id),
    eventId: event.id,
    ackWithinMinutes: input.ackWithinMinutes,
  });
}
