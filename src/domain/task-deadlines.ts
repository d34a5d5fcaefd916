import { CHINA_OFFSET_MS } from "./china-time";
import type { InboxKind } from "./escalation";
import { type CaseDeadlines, DEFAULT_SLA, dueSlaSteps, nextSlaStepAt, type SlaStep } from "./sla";

/**
 * Time limits of the tasks that carry out a resolution (合力干事), on the case machinery of `sla.ts`: a task
 * runs the same three steps as a case's resolve clock — warned (预警) → overdue (超期) → escalate (上报上级) —
 * with the share of time and the grace period of the default policy for a normal case (a warning 2 of 15 days
 * before the deadline, escalation one day after it). Pure: the clock is always passed in.
 */

const NORMAL = DEFAULT_SLA.normal;

/** The share of a task's time left when its warning falls due (2/15, as for a normal case's resolve clock). */
export const TASK_WARN_SHARE = NORMAL.resolveWarnBeforeSeconds / NORMAL.resolveWithinSeconds;

/** How long a task may stay overdue before it is escalated to the town centre (a normal case's grace). */
export const TASK_ESCALATE_GRACE_SECONDS = NORMAL.escalateGraceSeconds;

/** The instant (epoch ms) a China date ends: a task due on a date is overdue from the next China midnight. */
export function chinaDateEndMs(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) + 86_400_000 - CHINA_OFFSET_MS;
}

/**
 * The deadlines of a task created at `createdAt` and due on the China date `dueOn`: overdue when that date has
 * ended, warned when `TASK_WARN_SHARE` of its time is left, escalated `TASK_ESCALATE_GRACE_SECONDS` after it
 * is overdue. A task created already late warns at once.
 *
 * @example
 * taskDeadlines({ createdAt: "2026-03-01T16:00:00.000Z", dueOn: "2026-03-16" }).warnAt // "2026-03-14T16:00:00.000Z"
 */
export function taskDeadlines(task: { createdAt: string; dueOn: string }): CaseDeadlines {
  const start = Date.parse(task.createdAt);
  const due = chinaDateEndMs(task.dueOn);
  const warn = Math.min(due, Math.max(start, due - Math.round((due - start) * TASK_WARN_SHARE)));
  const iso = (t: number) => new Date(t).toISOString();
  return {
    phase: "resolve",
    startedAt: iso(start),
    warnAt: iso(warn),
    dueAt: iso(due),
    escalateAt: iso(due + TASK_ESCALATE_GRACE_SECONDS * 1000),
  };
}

/** Who is told of a task's step: the task's owner (its unit, or its user's unit), its village or the town. */
export type TaskNoticeTarget = "owner" | "village" | "town";

/** One inbox item a step of a task produces. */
export interface TaskNotice {
  step: SlaStep;
  target: TaskNoticeTarget;
  kind: Extract<InboxKind, "urge" | "overdue" | "escalated">;
}

const NOTICES: Record<SlaStep, TaskNotice[]> = {
  warned: [
    { step: "warned", target: "owner", kind: "urge" },
    { step: "warned", target: "village", kind: "urge" },
  ],
  overdue: [{ step: "overdue", target: "village", kind: "overdue" }],
  escalate: [{ step: "escalate", target: "town", kind: "escalated" }],
};

/**
 * The steps of a task's clock due at `now` after `done` (the last step taken, null if none), with the inbox
 * items each produces, and when the clock next needs a look (null when every step was taken). A warning whose
 * deadline has also passed is recorded without telling anyone: the overdue notice says more. Idempotent: once
 * the caller records `last`, the same call at the same `now` returns no steps.
 *
 * @example
 * taskStepsDue({ createdAt, dueOn }, null, Date.parse(taskDeadlines({ createdAt, dueOn }).warnAt)).notices
 * // [{ step: "warned", target: "owner", kind: "urge" }, { step: "warned", target: "village", kind: "urge" }]
 */
export function taskStepsDue(
  task: { createdAt: string; dueOn: string },
  done: SlaStep | null,
  now: number,
): { steps: SlaStep[]; last: SlaStep | null; notices: TaskNotice[]; nextAt: string | null } {
  const deadlines = taskDeadlines(task);
  const steps = dueSlaSteps(deadlines, done, now);
  const last = steps.at(-1) ?? done;
  const notices = steps
    .filter((step) => !(step === "warned" && steps.includes("overdue")))
    .flatMap((step) => NOTICES[step]);
  return { steps, last, notices, nextAt: nextSlaStepAt(deadlines, last) };
}

/**
 * The dedupe key of a task's inbox item: one per (task, step, unit), however often the cron fires. The overdue
 * notice keeps the key it had when it was the only one (one per task, to its village), so a task told of before
 * the warning and escalation steps existed is not told again.
 */
export function taskNoticeKey(taskId: string, step: SlaStep, unitId: string): string {
  return step === "overdue"
    ? `deliberation-task-overdue:${taskId}`
    : `deliberation-task-${step}:${taskId}:${unitId}`;
}
