import { describe, expect, it } from "vitest";
import { DEFAULT_SLA } from "../../src/domain/sla";
import {
  chinaDateEndMs,
  TASK_ESCALATE_GRACE_SECONDS,
  TASK_WARN_SHARE,
  taskDeadlines,
  taskNoticeKey,
  taskStepsDue,
} from "../../src/domain/task-deadlines";

// Created at China midnight of 2 March, due on 16 March: fifteen China days, as a normal case's resolve clock.
const task = { createdAt: "2026-03-01T16:00:00.000Z", dueOn: "2026-03-16" };
const t = (iso: string) => Date.parse(iso);

describe("a task's deadlines follow the case time-limit shares", () => {
  it("takes the warning share and grace period of a normal case", () => {
    const n = DEFAULT_SLA.normal;
    expect(TASK_WARN_SHARE).toBe(n.resolveWarnBeforeSeconds / n.resolveWithinSeconds);
    expect(TASK_WARN_SHARE).toBeCloseTo(2 / 15);
    expect(TASK_ESCALATE_GRACE_SECONDS).toBe(86_400);
  });

  it("is due at the end of its due China date, warned 2 of 15 days before, escalated a day after", () => {
    expect(chinaDateEndMs("2026-03-16")).toBe(t("2026-03-16T16:00:00.000Z"));
    expect(taskDeadlines(task)).toEqual({
      phase: "resolve",
      startedAt: "2026-03-01T16:00:00.000Z",
      warnAt: "2026-03-14T16:00:00.000Z",
      dueAt: "2026-03-16T16:00:00.000Z",
      escalateAt: "2026-03-17T16:00:00.000Z",
    });
  });

  it("warns a task created on its last day within that day, and one created late at its deadline", () => {
    const lastDay = taskDeadlines({ createdAt: "2026-03-16T04:00:00.000Z", dueOn: "2026-03-16" });
    expect(t(lastDay.warnAt)).toBeGreaterThan(t("2026-03-16T04:00:00.000Z"));
    expect(t(lastDay.warnAt)).toBeLessThan(t(lastDay.dueAt));
    const late = taskDeadlines({ createdAt: "2026-03-20T04:00:00.000Z", dueOn: "2026-03-16" });
    expect(late.warnAt).toBe(late.dueAt);
  });
});

describe("the steps of a task's clock", () => {
  const d = taskDeadlines(task);

  it("takes nothing before the warning and looks again at it", () => {
    expect(taskStepsDue(task, null, t(d.warnAt) - 1)).toEqual({
      steps: [],
      last: null,
      notices: [],
      nextAt: d.warnAt,
    });
  });

  it("warns the owner and the village, then looks again at the deadline", () => {
    expect(taskStepsDue(task, null, t(d.warnAt))).toEqual({
      steps: ["warned"],
      last: "warned",
      notices: [
        { step: "warned", target: "owner", kind: "urge" },
        { step: "warned", target: "village", kind: "urge" },
      ],
      nextAt: d.dueAt,
    });
  });

  it("takes a recorded step never again (a second tick at the same time does nothing)", () => {
    expect(taskStepsDue(task, "warned", t(d.warnAt))).toMatchObject({
      steps: [],
      last: "warned",
      notices: [],
    });
    expect(taskStepsDue(task, "escalate", t(d.escalateAt) + 86_400_000)).toEqual({
      steps: [],
      last: "escalate",
      notices: [],
      nextAt: null,
    });
  });

  it("tells the village when overdue and the town after the grace period, then stops", () => {
    expect(taskStepsDue(task, "warned", t(d.dueAt))).toMatchObject({
      steps: ["overdue"],
      notices: [{ step: "overdue", target: "village", kind: "overdue" }],
      nextAt: d.escalateAt,
    });
    expect(taskStepsDue(task, "overdue", t(d.escalateAt) - 1).steps).toEqual([]);
    expect(taskStepsDue(task, "overdue", t(d.escalateAt))).toEqual({
      steps: ["escalate"],
      last: "escalate",
      notices: [{ step: "escalate", target: "town", kind: "escalated" }],
      nextAt: null,
    });
  });

  it("records a warning overtaken by the deadline without sending it", () => {
    expect(taskStepsDue(task, null, t(d.dueAt))).toMatchObject({
      steps: ["warned", "overdue"],
      last: "overdue",
      notices: [{ step: "overdue", target: "village", kind: "overdue" }],
    });
    expect(taskStepsDue(task, null, t(d.escalateAt)).notices.map((n) => n.kind)).toEqual([
      "overdue",
      "escalated",
    ]);
  });

  it("keys each notice by task, step and unit, the overdue one as before (one per task)", () => {
    expect(taskNoticeKey("T", "warned", "U")).toBe("deliberation-task-warned:T:U");
    expect(taskNoticeKey("T", "escalate", "U")).toBe("deliberation-task-escalate:T:U");
    expect(taskNoticeKey("T", "overdue", "U")).toBe("deliberation-task-overdue:T");
  });
});
