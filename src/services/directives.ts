import {
  type DirectiveCursor,
  type DirectiveRecord,
  directiveWithCounts,
  enqueueFanout,
  type FanoutMessage,
  findReceipt,
  insertDirectiveStatement,
  issuedDirectives,
  levelFanoutPlan,
  type ReceiptRecord,
  receiptCounts,
  receiptsInScope,
  receiptUpdateStatement,
  receivedDirectives,
  unitFanoutPlan,
  unitPathsByIds,
} from "../db/repos/directives";
import {
  type DirectivePriority,
  type ReceiptAction,
  type ReceiptCounts,
  type ReceiptState,
  receiptAccess,
  receiptTransition,
  targetableLevels,
} from "../domain/directives";
import { inScope, type UnitLevel } from "../domain/units";
import type { Principal } from "../env";
import { GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { Problem, problems } from "../platform/http/problem";
import { assertFitsOneMessage } from "../platform/queues/send";
import { auditBy, type Caller, unitInScope } from "./caller";

/** A directive as a centre issues it: to named units, or to every unit of some levels below it. */
export interface NewDirective {
  title: string;
  body: string;
  priority: DirectivePriority;
  dueAt: string;
  attachmentIds: string[];
  unitIds?: string[];
  levels?: UnitLevel[];
  /** An emergency order: the event it serves and the minutes its targets have to acknowledge it. */
  eventId?: string;
  ackWithinMinutes?: number;
}

const directiveAudit = (
  caller: Caller,
  action: string,
  id: string,
  scopePath: string,
  detail: Record<string, unknown>,
) => auditBy(caller, action, { type: "directive", id, scopePath }, detail);

/** The targets of a directive: how many receipts the fan-out writes and the messages that write them. */
async function planTargets(
  env: Cloudflare.Env,
  principal: Principal,
  id: string,
  input: NewDirective,
): Promise<{
  count: number;
  messages: FanoutMessage[];
  unitIds: string[] | null;
  levels: UnitLevel[] | null;
}> {
  if (input.levels) {
    const allowed = targetableLevels(principal.unitLevel as UnitLevel);
    const bad = input.levels.findIndex((l) => !allowed.includes(l));
    if (bad >= 0) {
      throw problems.badRequest(`Only levels below the issuer can be targeted (${allowed.join(", ")})`, [
        { path: `levels.${bad}`, message: "not below the issuer's level" },
      ]);
    }
    const levels = [...new Set(input.levels)];
    const plan = await levelFanoutPlan(getDb(env), id, principal.unitPath, levels);
    if (plan.count === 0) {
      throw problems.badRequest("No units of those levels under the issuer", [
        { path: "levels", message: "no such units" },
      ]);
    }
    return { ...plan, unitIds: null, levels };
  }
  const named = input.unitIds ?? [];
  const unitIds = [...new Set(named)];
  const paths = await unitPathsByIds(env, unitIds);
  const errors = named.flatMap((unitId, i) => {
    const path = paths.get(unitId);
    return path && inScope(principal.unitPath, path) && path !== principal.unitPath
      ? []
      : [{ path: `unitIds.${i}`, message: "no such unit below the issuer" }];
  });
  if (errors.length) {
    throw new Problem(404, "not-found", "Some target units are not in the issuer's subtree", { errors });
  }
  return { count: unitIds.length, messages: unitFanoutPlan(id, unitIds), unitIds, levels: null };
}

/**
 * Issues a directive from the caller's unit: checks the due time and the targets, stores it (audited), then
 * queues its fan-out, whose messages write the receipts. Every fan-out message is checked to fit one queue
 * message before anything is stored (413 otherwise), so nothing is accepted that could never be sent. If the
 * send fails the directive stays stored with `fanoutQueuedAt` null and the watchdog sends it again.
 */
export async function issueDirective(
  env: Cloudflare.Env,
  caller: Caller,
  input: NewDirective,
): Promise<DirectiveRecord> {
  const { principal } = caller;
  const now = new Date();
  if (Date.parse(input.dueAt) <= now.getTime()) {
    throw problems.badRequest("The due time must be in the future", [
      { path: "dueAt", message: "in the past" },
    ]);
  }
  const id = crypto.randomUUID();
  const plan = await planTargets(env, principal, id, input);
  for (const message of plan.messages) assertFitsOneMessage(message, "A fan-out message of this directive");
  const directive: DirectiveRecord = {
    id,
    issuerUnitId: principal.unitId,
    issuerUnitPath: principal.unitPath,
    issuedBy: principal.userId,
    title: input.title,
    body: input.body,
    priority: input.priority,
    dueAt: new Date(input.dueAt).toISOString(),
    targetUnitIds: plan.unitIds,
    targetLevels: plan.levels,
    targetCount: plan.count,
    attachmentIds: input.attachmentIds,
    createdAt: now.toISOString(),
    fanoutQueuedAt: null,
    eventId: input.eventId ?? null,
    ackDueAt:
      input.ackWithinMinutes === undefined
        ? null
        : new Date(now.getTime() + input.ackWithinMinutes * 60_000).toISOString(),
  };
  const db = getDb(env);
  await writeAudited(
    db,
    [insertDirectiveStatement(db, directive)],
    [
      directiveAudit(caller, "directive.issue", id, principal.unitPath, {
        title: directive.title,
        targetCount: plan.count,
        levels: input.levels ?? null,
        ...(input.eventId ? { eventId: input.eventId, ackDueAt: directive.ackDueAt } : {}),
      }),
    ],
  );
  try {
    await enqueueFanout(db, env.DIRECTIVES, id, plan.messages);
    return { ...directive, fanoutQueuedAt: new Date().toISOString() };
  } catch (error) {
    // The directive is stored; the watchdog re-sends fan-outs never confirmed on the queue.
    console.error(
      JSON.stringify({ kind: "directive-fanout-send-failed", directiveId: id, error: String(error) }),
    );
    return directive;
  }
}

/** What a directive list asks for: a unit's received directives (`unitId`), or those issued in the subtree. */
export interface DirectiveListQuery {
  unitId?: string;
  state?: ReceiptState;
  after: DirectiveCursor | null;
  limit: number;
}

/**
 * A page (`limit + 1` rows, for `toPage`) of the directives a unit of the caller's subtree received, each with
 * its receipt; or, without `unitId`, of the directives issued inside the caller's subtree.
 */
export async function listDirectives(
  env: Cloudflare.Env,
  principal: Principal,
  q: DirectiveListQuery,
): Promise<Array<{ directive: DirectiveRecord; receipt?: ReceiptRecord }>> {
  if (q.unitId) {
    await unitInScope(env, principal, q.unitId);
    return receivedDirectives(env, q.unitId, q.state, q.after, q.limit + 1);
  }
  if (q.state) {
    throw problems.badRequest("state filters a unit's receipts; give unitId too", [
      { path: "query.state", message: "needs unitId" },
    ]);
  }
  const issued = await issuedDirectives(env, principal.unitPath, q.after, q.limit + 1);
  return issued.map((directive) => ({ directive }));
}

/** A directive with its receipt counts, total and by level, as far as the caller may see them. */
export interface DirectiveDetail {
  directive: DirectiveRecord;
  counts: { total: ReceiptCounts; byLevel: Record<string, ReceiptCounts> };
}

/**
 * A directive and its completion counts. The issuer's subtree sees every receipt (from the trigger-kept
 * counters); a unit below the issuer sees the counts of its own subtree, and a directive with no receipt
 * there is answered 404.
 */
export async function directiveDetail(
  env: Cloudflare.Env,
  principal: Principal,
  id: string,
): Promise<DirectiveDetail> {
  const whole = await directiveWithCounts(env, id);
  if (!whole.directive) throw problems.notFound("directive");
  if (inScope(principal.unitPath, whole.directive.issuerUnitPath)) {
    return { directive: whole.directive, counts: whole.counts };
  }
  const counts = await receiptCounts(getDb(env), id, principal.unitPath);
  if (counts.total.total === 0) throw problems.notFound("directive");
  return { directive: whole.directive, counts };
}

/** A page (`limit + 1` rows) of a directive's receipts inside the caller's subtree, by unit path. */
export async function directiveReceipts(
  env: Cloudflare.Env,
  principal: Principal,
  id: string,
  page: { state?: ReceiptState; afterPath: string | null; limit: number },
): Promise<ReceiptRecord[]> {
  const found = await receiptsInScope(env, id, principal.unitPath, { ...page, limit: page.limit + 1 });
  if (found.issuerUnitPath === null) throw problems.notFound("directive");
  if (!inScope(principal.unitPath, found.issuerUnitPath) && !found.anyInScope) {
    throw problems.notFound("directive");
  }
  return found.receipts;
}

/**
 * Acknowledges or completes a receipt, as staff of its unit (or of its village centre): the receipt rule
 * decides who may (404 outside the caller's subtree, 403 inside it), the lifecycle what may happen next
 * (409). The update is guarded on the state it was read in, so of two concurrent actions one wins and the
 * other gets 409 with nothing written; audited.
 */
export async function actOnReceipt(
  env: Cloudflare.Env,
  caller: Caller,
  target: { directiveId: string; unitId: string },
  action: ReceiptAction,
  completion: { report: string; evidenceIds: string[] } | null,
): Promise<ReceiptRecord> {
  const { principal } = caller;
  const receipt = await findReceipt(env, target.directiveId, target.unitId);
  if (!receipt) throw problems.notFound("receipt");
  const access = receiptAccess(principal, { ...receipt, level: receipt.level as UnitLevel });
  if (access === "not-found") throw problems.notFound("receipt");
  if (access === "forbidden") {
    throw problems.forbidden("Only the receipt's own unit (or its village centre) may act on it");
  }
  const next = receiptTransition(receipt.state, action, receipt.acknowledgedAt !== null);
  if (!next.ok) throw problems.conflict(next.code, next.detail, { state: receipt.state });
  const now = new Date().toISOString();
  const after: ReceiptRecord =
    action === "acknowledge"
      ? { ...receipt, state: next.state, acknowledgedAt: now, acknowledgedBy: principal.userId }
      : {
          ...receipt,
          state: "completed",
          acknowledgedAt: receipt.acknowledgedAt ?? now,
          acknowledgedBy: receipt.acknowledgedBy ?? principal.userId,
          completedAt: now,
          completedBy: principal.userId,
          completedLate: next.late,
          report: completion!.report,
          evidenceIds: completion!.evidenceIds,
        };
  const db = getDb(env);
  try {
    await writeAudited(
      db,
      [receiptUpdateStatement(db, receipt, after)],
      [
        directiveAudit(caller, `directive.receipt.${action}`, target.directiveId, receipt.unitPath, {
          unitId: target.unitId,
          from: receipt.state,
          to: next.state,
          ...(next.late ? { late: true } : {}),
        }),
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    if (error instanceof GuardFailed) {
      throw problems.conflict("receipt-changed", "The receipt changed meanwhile; reload it");
    }
    throw error;
  }
  return after;
}
