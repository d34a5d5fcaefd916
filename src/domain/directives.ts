import type { Role } from "./roles";
import { inScope, pathIds, type UnitLevel } from "./units";

/** Receipt states: a target unit's copy of a directive (指令回执). */
export const RECEIPT_STATES = ["delivered", "acknowledged", "completed", "overdue"] as const;
export type ReceiptState = (typeof RECEIPT_STATES)[number];

export const RECEIPT_STATE_LABELS: Record<ReceiptState, string> = {
  delivered: "已送达",
  acknowledged: "已签收",
  completed: "已办结",
  overdue: "已逾期",
};

/** States a receipt is still open work in: the overdue watchdog looks only at these. */
export const OPEN_RECEIPT_STATES = ["delivered", "acknowledged"] as const satisfies readonly ReceiptState[];

export const DIRECTIVE_PRIORITIES = ["normal", "urgent", "critical"] as const;
export type DirectivePriority = (typeof DIRECTIVE_PRIORITIES)[number];

export const DIRECTIVE_PRIORITY_LABELS: Record<DirectivePriority, string> = {
  normal: "一般",
  urgent: "紧急",
  critical: "特急",
};

/** Who may issue directives: the governance centres (and admins). */
export const ISSUER_ROLES: readonly Role[] = ["center_staff", "admin"];

/** Who may acknowledge and complete a receipt for their unit. */
export const RECEIVER_ROLES: readonly Role[] = ["center_staff", "grid_worker", "admin"];

/** Target units per fan-out message: one set-based INSERT … SELECT per message. */
export const FANOUT_CHUNK = 2_500;

/** At most this many explicitly named target units per directive (larger sets go by level). */
export const MAX_EXPLICIT_TARGETS = 5_000;

export type ReceiptAction = "acknowledge" | "complete";

/** The outcome of a receipt action: the next state, or why not. */
export type ReceiptTransition =
  | { ok: true; state: ReceiptState; late: boolean }
  | { ok: false; status: 409; code: string; detail: string };

/**
 * The receipt lifecycle: `delivered` → `acknowledged` → `completed`; an open receipt past its due time
 * becomes `overdue`, and an overdue one can still be acknowledged (it stays overdue) or completed late.
 * Completing a delivered receipt acknowledges it implicitly.
 */
export function receiptTransition(
  current: ReceiptState,
  action: ReceiptAction,
  alreadyAcknowledged: boolean,
): ReceiptTransition {
  if (current === "completed") {
    return { ok: false, status: 409, code: "receipt-completed", detail: "The receipt is already completed" };
  }
  if (action === "acknowledge") {
    if (current === "acknowledged" || (current === "overdue" && alreadyAcknowledged)) {
      return {
        ok: false,
        status: 409,
        code: "receipt-acknowledged",
        detail: "The receipt is already acknowledged",
      };
    }
    return {
      ok: true,
      state: current === "overdue" ? "overdue" : "acknowledged",
      late: current === "overdue",
    };
  }
  return { ok: true, state: "completed", late: current === "overdue" };
}

/** Whether an open receipt due at `dueAt` is overdue at `now` (both ISO 8601 UTC). */
export function isPastDue(state: ReceiptState, dueAt: string, now: string): boolean {
  return (OPEN_RECEIPT_STATES as readonly string[]).includes(state) && dueAt <= now;
}

/** The unit a receipt belongs to, as far as acting on it is concerned. */
export interface ReceiptUnit {
  unitId: string;
  unitPath: string;
  level: UnitLevel;
}

/** The caller, as far as acting on a receipt is concerned. */
export interface ReceiptActor {
  role: Role;
  unitId: string;
  unitPath: string;
}

/**
 * Who may acknowledge or complete a receipt: staff of the receipt's own unit, or, for a level-2/3 grid,
 * the centre of its village (the level-1 grid that runs it). Returns "ok", "not-found" for receipts outside
 * the caller's subtree (answered as 404) or "forbidden" for someone else's receipt inside it (403).
 */
export function receiptAccess(actor: ReceiptActor, receipt: ReceiptUnit): "ok" | "not-found" | "forbidden" {
  if (!inScope(actor.unitPath, receipt.unitPath)) return "not-found";
  if (!RECEIVER_ROLES.includes(actor.role)) return "forbidden";
  if (actor.unitId === receipt.unitId) return "ok";
  if (
    receipt.level === "grid" &&
    actor.role !== "grid_worker" &&
    pathIds(receipt.unitPath)[3] === actor.unitId
  ) {
    return "ok";
  }
  return "forbidden";
}

/** Levels that may be targeted by level from an issuer at `issuerLevel`: strictly below it. */
export function targetableLevels(issuerLevel: UnitLevel): UnitLevel[] {
  const order: UnitLevel[] = ["city", "county", "town", "village", "grid"];
  return order.slice(order.indexOf(issuerLevel) + 1);
}

/** Completion counts of one slice of receipts (by unit level, or in total). */
export interface ReceiptCounts {
  total: number;
  delivered: number;
  acknowledged: number;
  completed: number;
  overdue: number;
}

/** An empty count. */
export function emptyCounts(): ReceiptCounts {
  return { total: 0, delivered: 0, acknowledged: 0, completed: 0, overdue: 0 };
}

/** The key a receipt is counted under: the unit level, with grids split into level 2 and 3. */
export function levelKey(level: string, gridLevel: number | null): string {
  return level === "grid" ? `grid${gridLevel ?? ""}` : level;
}

/**
 * Folds `(level, gridLevel, state, n)` rows from a GROUP BY into counts per level key and a total.
 */
export function foldCounts(
  rows: ReadonlyArray<{ level: string; gridLevel: number | null; state: string; n: number }>,
): { total: ReceiptCounts; byLevel: Record<string, ReceiptCounts> } {
  const total = emptyCounts();
  const byLevel: Record<string, ReceiptCounts> = {};
  for (const r of rows) {
    const key = levelKey(r.level, r.gridLevel);
    byLevel[key] ??= emptyCounts();
    const slot = byLevel[key];
    if (!(RECEIPT_STATES as readonly string[]).includes(r.state)) continue;
    const state = r.state as ReceiptState;
    slot[state] += r.n;
    slot.total += r.n;
    total[state] += r.n;
    total.total += r.n;
  }
  return { total, byLevel };
}

/** Share of receipts completed, 0–1 (0 when there are none), rounded to 4 places. */
export function completionRate(counts: ReceiptCounts): number {
  return counts.total === 0 ? 0 : Math.round((counts.completed / counts.total) * 10_000) / 10_000;
}
