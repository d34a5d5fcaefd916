import { describe, expect, it } from "vitest";
import { applySlaStep, decide, reportCase, SLA_POLICY_NEEDED } from "../../src/domain/case-lifecycle";
import type { Actor, CaseRecord, UnitRef } from "../../src/domain/case-model";
import { escalationMessagesFor } from "../../src/domain/escalation";
import { clockNextAt, policyFromBook, type SlaRulesBook, startClock } from "../../src/domain/sla";

const u = (path: string, level: UnitRef["level"]): UnitRef => ({ id: path.split("/").at(-2)!, path, level });
const city = u("/c/", "city");
const village = u("/c/co/t/v/", "village");
const grid = u("/c/co/t/v/g/", "grid");
const worker: Actor = {
  userId: "w",
  role: "grid_worker",
  unitId: grid.id,
  unitPath: grid.path,
  unitLevel: "grid",
};
const T0 = "2026-03-01T08:00:00.000Z";
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

/** A book holding every unit on the paths, with the village's short rule for critical cases. */
const book: SlaRulesBook = {
  unitIds: ["c", "co", "t", "v", "g"],
  rules: {
    v: [
      {
        caseType: "*",
        severity: "critical",
        values: { acceptWithinSeconds: 600, acceptWarnBeforeSeconds: 120 },
      },
    ],
  },
};

function reported(): CaseRecord {
  const d = reportCase(
    {
      id: "00000000-0000-4000-8000-000000000001",
      type: "safety_hazard",
      severity: "critical",
      title: "t",
      description: "",
      location: null,
      householdIds: [],
      residentIds: [],
      mediation: null,
    },
    worker,
    grid,
    T0,
    book,
  );
  if (!d.ok) throw new Error(d.detail);
  return d.record;
}

describe("policyFromBook", () => {
  it("gives the effective policy when the book holds the whole path, the defaults without a book or when libSQL was down, and null when it does not cover the path", () => {
    expect(policyFromBook(book, grid.path)!.source).toBe("effective");
    expect(policyFromBook(undefined, grid.path)!.source).toBe("default");
    expect(policyFromBook({ unitIds: [], rules: {}, unavailable: true }, grid.path)!.source).toBe("default");
    expect(policyFromBook({ unitIds: ["c"], rules: {} }, grid.path)).toBeNull();
  });
});

describe("clocks", () => {
  it("a report starts the accept clock under the nearest unit's rule", () => {
    expect(reported().deadlines).toEqual({
      phase: "accept",
      startedAt: T0,
      warnAt: at(8),
      dueAt: at(10),
      escalateAt: at(70), // the default one-hour grace for critical cases
      unitId: grid.id,
      step: null,
      policy: "effective",
    });
  });

  it("an explicit deadline replaces the policy's, keeping the warning lead and the grace period", () => {
    const policy = policyFromBook(book, grid.path)!;
    const clock = startClock(
      { state: "dispatched", caseType: "other", severity: "critical", unitId: grid.id, now: T0 },
      policy,
      at(120),
    );
    // The 4 h warning lead would fall before the start, so it falls at the start.
    expect(clock).toMatchObject({ phase: "resolve", dueAt: at(120), warnAt: T0, escalateAt: at(180) });
  });

  it("at the city there is nowhere to escalate to: the clock ends after overdue", () => {
    const clock = { ...reported().deadlines!, step: "overdue" as const };
    expect(clockNextAt(clock, true)).toBe(Date.parse(at(70)));
    expect(clockNextAt(clock, false)).toBeNull();
    expect(city.level).toBe("city");
  });
});

describe("applySlaStep", () => {
  it("takes the steps in order, only when due, and asks for the next unit's policy before escalating", () => {
    let c = reported();
    expect(applySlaStep(c, "warned", at(7))).toMatchObject({ ok: false, code: "step-not-due" });
    expect(applySlaStep(c, "overdue", at(11))).toMatchObject({ ok: false, code: "step-not-due" });
    for (const [step, when] of [
      ["warned", at(8)],
      ["overdue", at(10)],
    ] as const) {
      const d = applySlaStep(c, step, when);
      if (!d.ok) throw new Error(d.detail);
      c = d.record;
    }
    expect(c).toMatchObject({ version: 3, overdue: true, deadlines: { step: "overdue" } });
    expect(applySlaStep(c, "escalate", at(70), { unitIds: ["g"], rules: {} })).toMatchObject({
      ok: false,
      code: SLA_POLICY_NEEDED,
      policyPath: village.path,
    });
    const d = applySlaStep(c, "escalate", at(70), book);
    if (!d.ok) throw new Error(d.detail);
    expect(d.record).toMatchObject({
      responsibleUnit: { id: "v", level: "village" },
      escalationCount: 1,
      deadlines: { startedAt: at(70), dueAt: at(80), unitId: "v", step: null },
    });
    expect(d.event).toMatchObject({
      type: "escalated",
      actor: { system: "sla" },
      payload: { automatic: true },
    });
    expect(escalationMessagesFor(c, d.record, d.event)).toMatchObject([
      {
        kind: "escalated",
        targetUnitId: "v",
        targetLevel: "village",
        dedupeKey: `escalated:${c.id}:village`,
      },
    ]);
  });

  it("the overdue notice goes to the level above the unit that missed the deadline", () => {
    const c = reported();
    const warned = applySlaStep(c, "warned", at(8));
    if (!warned.ok) throw new Error(warned.detail);
    const overdue = applySlaStep(warned.record, "overdue", at(10));
    if (!overdue.ok) throw new Error(overdue.detail);
    expect(escalationMessagesFor(warned.record, overdue.record, overdue.event)).toMatchObject([
      { kind: "overdue", targetUnitId: "v", dedupeKey: `overdue:${c.id}:g@${at(10)}`, deadline: at(10) },
    ]);
    expect(escalationMessagesFor(c, warned.record, warned.event)).toEqual([]);
  });

  it("a command whose new clock needs a policy the book lacks writes nothing and names the path", () => {
    const c = reported();
    const staff: Actor = {
      userId: "s",
      role: "center_staff",
      unitId: "v",
      unitPath: village.path,
      unitLevel: "village",
    };
    expect(decide(c, { action: "accept" }, staff, at(1), { unitIds: [], rules: {} })).toMatchObject({
      ok: false,
      code: SLA_POLICY_NEEDED,
      policyPath: village.path,
    });
    const d = decide(c, { action: "start" }, worker, at(1), { unitIds: [], rules: {} });
    expect(d.ok).toBe(false); // start is not legal from reported; no policy is asked for either
    expect((d as { code: string }).code).toBe("illegal-transition");
  });
});
