import { describe, expect, it } from "vitest";
import {
  checkEffectivePolicy,
  checkSlaRules,
  computeDeadlines,
  DEFAULT_SLA,
  deadlinesForCase,
  dueSlaSteps,
  effectivePolicy,
  nextSlaStepAt,
  type SlaStep,
  slaPhaseOf,
  slaValuesFor,
} from "../../src/domain/sla";

const T0 = "2026-03-01T08:00:00.000Z";
const plus = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

describe("default time limits", () => {
  it("accept and resolve within 24 h / 15 d (normal), 2 h / 3 d (urgent), 30 min / 24 h (critical)", () => {
    expect(DEFAULT_SLA.normal.acceptWithinSeconds).toBe(24 * 3600);
    expect(DEFAULT_SLA.normal.resolveWithinSeconds).toBe(15 * 86400);
    expect(DEFAULT_SLA.urgent.acceptWithinSeconds).toBe(2 * 3600);
    expect(DEFAULT_SLA.urgent.resolveWithinSeconds).toBe(3 * 86400);
    expect(DEFAULT_SLA.critical.acceptWithinSeconds).toBe(30 * 60);
    expect(DEFAULT_SLA.critical.resolveWithinSeconds).toBe(24 * 3600);
  });

  it("are a consistent policy: every warning before its deadline, every value positive", () => {
    const policy = effectivePolicy([]);
    expect(policy.entries).toHaveLength(27);
    expect(checkEffectivePolicy(policy)).toEqual([]);
    for (const e of policy.entries) {
      expect(Object.values(e.sources).every((s) => s === null)).toBe(true);
      expect(Object.values(e.values).every((v) => v > 0)).toBe(true);
    }
  });
});

describe("effectivePolicy", () => {
  const chain = [
    {
      unitId: "city",
      rules: [
        {
          caseType: "*" as const,
          severity: "critical" as const,
          values: { acceptWithinSeconds: 1200, escalateGraceSeconds: 600 },
        },
        {
          caseType: "dispute" as const,
          severity: "normal" as const,
          values: { resolveWithinSeconds: 20 * 86400 },
        },
      ],
    },
    { unitId: "county", rules: [] },
    {
      unitId: "town",
      rules: [
        { caseType: "*" as const, severity: "critical" as const, values: { acceptWithinSeconds: 900 } },
        {
          caseType: "emergency" as const,
          severity: "critical" as const,
          values: { acceptWithinSeconds: 300, acceptWarnBeforeSeconds: 60 },
        },
      ],
    },
  ];

  it("takes each value from the nearest unit that sets it and names that unit", () => {
    const policy = effectivePolicy(chain);
    const critical = policy.entries.find((e) => e.caseType === "livelihood" && e.severity === "critical")!;
    expect(critical.values.acceptWithinSeconds).toBe(900);
    expect(critical.sources.acceptWithinSeconds).toBe("town");
    expect(critical.values.escalateGraceSeconds).toBe(600);
    expect(critical.sources.escalateGraceSeconds).toBe("city");
    expect(critical.values.resolveWithinSeconds).toBe(DEFAULT_SLA.critical.resolveWithinSeconds);
    expect(critical.sources.resolveWithinSeconds).toBeNull();
  });

  it("prefers a rule for the named type over `*` at the same unit", () => {
    const values = slaValuesFor(effectivePolicy(chain), "emergency", "critical");
    expect(values.acceptWithinSeconds).toBe(300);
    expect(values.acceptWarnBeforeSeconds).toBe(60);
  });

  it("lets a nearer `*` rule win over a farther rule for the named type", () => {
    const nearer = [
      {
        unitId: "city",
        rules: [
          {
            caseType: "dispute" as const,
            severity: "normal" as const,
            values: { acceptWithinSeconds: 7200 },
          },
        ],
      },
      {
        unitId: "town",
        rules: [
          { caseType: "*" as const, severity: "normal" as const, values: { acceptWithinSeconds: 3600 } },
        ],
      },
    ];
    const entry = effectivePolicy(nearer).entries.find(
      (e) => e.caseType === "dispute" && e.severity === "normal",
    )!;
    expect(entry.values.acceptWithinSeconds).toBe(3600);
    expect(entry.sources.acceptWithinSeconds).toBe("town");
  });

  it("finds a shortened deadline that leaves an inherited warning at or after it", () => {
    const policy = effectivePolicy([
      {
        unitId: "town",
        rules: [{ caseType: "*", severity: "normal", values: { acceptWithinSeconds: 3600 } }],
      },
    ]);
    const errors = checkEffectivePolicy(policy);
    expect(errors.length).toBe(9);
    expect(errors[0]).toEqual({
      path: "dispute:normal.acceptWarnBeforeSeconds",
      message: expect.stringMatching(/before the deadline/),
    });
  });
});

describe("checkSlaRules", () => {
  it("accepts a short local policy", () => {
    expect(
      checkSlaRules([
        {
          caseType: "*",
          severity: "critical",
          values: {
            acceptWithinSeconds: 60,
            acceptWarnBeforeSeconds: 30,
            resolveWithinSeconds: 120,
            resolveWarnBeforeSeconds: 60,
            escalateGraceSeconds: 60,
          },
        },
      ]),
    ).toEqual([]);
  });

  it("refuses zero, negative, fractional and over-a-year durations", () => {
    const errors = checkSlaRules([
      {
        caseType: "*",
        severity: "normal",
        values: {
          acceptWithinSeconds: 0,
          resolveWithinSeconds: -5,
          escalateGraceSeconds: 1.5,
          acceptWarnBeforeSeconds: 400 * 86400,
        },
      },
    ]);
    expect(errors.map((e) => e.path).sort()).toEqual([
      "rules.0.acceptWarnBeforeSeconds",
      "rules.0.acceptWithinSeconds",
      "rules.0.escalateGraceSeconds",
      "rules.0.resolveWithinSeconds",
    ]);
  });

  it("refuses a warning at or after its deadline within one rule", () => {
    const errors = checkSlaRules([
      {
        caseType: "dispute",
        severity: "urgent",
        values: { resolveWithinSeconds: 3600, resolveWarnBeforeSeconds: 3600 },
      },
    ]);
    expect(errors).toEqual([
      { path: "rules.0.resolveWarnBeforeSeconds", message: expect.stringMatching(/before the deadline/) },
    ]);
  });

  it("refuses two rules for the same type and severity, and unknown types", () => {
    const errors = checkSlaRules([
      { caseType: "*", severity: "normal", values: {} },
      { caseType: "*", severity: "normal", values: {} },
      { caseType: "volcano" as never, severity: "normal", values: {} },
    ]);
    expect(errors.map((e) => e.path)).toEqual(["rules.1", "rules.2.caseType"]);
  });
});

describe("deadlines", () => {
  it("runs the accept clock while reported and the resolve clock while being handled", () => {
    expect(slaPhaseOf("reported")).toBe("accept");
    for (const s of ["accepted", "dispatched", "in_progress", "reopened"] as const)
      expect(slaPhaseOf(s)).toBe("resolve");
    for (const s of ["resolved", "closed", "rejected", "merged"] as const) expect(slaPhaseOf(s)).toBeNull();
  });

  it("computes warning, deadline and escalation time from the state entry time", () => {
    expect(computeDeadlines("accept", T0, DEFAULT_SLA.critical)).toEqual({
      phase: "accept",
      startedAt: T0,
      warnAt: plus(20 * 60),
      dueAt: plus(30 * 60),
      escalateAt: plus(90 * 60),
    });
    expect(computeDeadlines("resolve", T0, DEFAULT_SLA.normal).dueAt).toBe(plus(15 * 86400));
  });

  it("uses the policy in force for the case's type and severity, and none once resolved", () => {
    const policy = effectivePolicy([
      {
        unitId: "v",
        rules: [
          {
            caseType: "emergency",
            severity: "urgent",
            values: { acceptWithinSeconds: 600, acceptWarnBeforeSeconds: 60 },
          },
        ],
      },
    ]);
    const d = deadlinesForCase(
      { state: "reported", enteredAt: T0, caseType: "emergency", severity: "urgent" },
      policy,
    )!;
    expect(d.dueAt).toBe(plus(600));
    expect(d.warnAt).toBe(plus(540));
    expect(
      deadlinesForCase(
        { state: "resolved", enteredAt: T0, caseType: "emergency", severity: "urgent" },
        policy,
      ),
    ).toBeNull();
  });

  it("never puts a warning before the clock started", () => {
    const d = computeDeadlines("accept", T0, {
      ...DEFAULT_SLA.normal,
      acceptWithinSeconds: 60,
      acceptWarnBeforeSeconds: 600,
    });
    expect(d.warnAt).toBe(T0);
  });
});

describe("dueSlaSteps", () => {
  const d = computeDeadlines("resolve", T0, {
    ...DEFAULT_SLA.critical,
    resolveWithinSeconds: 100,
    resolveWarnBeforeSeconds: 40,
    escalateGraceSeconds: 50,
  });

  it("steps warned → overdue → escalate as the injected clock passes each time", () => {
    expect(dueSlaSteps(d, null, plus(59))).toEqual([]);
    expect(dueSlaSteps(d, null, plus(60))).toEqual(["warned"]);
    expect(dueSlaSteps(d, "warned", plus(99))).toEqual([]);
    expect(dueSlaSteps(d, "warned", plus(100))).toEqual(["overdue"]);
    expect(dueSlaSteps(d, "overdue", plus(150))).toEqual(["escalate"]);
    expect(dueSlaSteps(d, "escalate", plus(10_000))).toEqual([]);
  });

  it("returns every missed step in order when an alarm fires late", () => {
    expect(dueSlaSteps(d, null, plus(1000))).toEqual(["warned", "overdue", "escalate"]);
  });

  it("is idempotent: replaying with the recorded step yields nothing new, so a repeated alarm escalates once", () => {
    let done: SlaStep | null = null;
    const taken: SlaStep[] = [];
    for (let fire = 0; fire < 5; fire++) {
      for (const step of dueSlaSteps(d, done, plus(200))) {
        taken.push(step);
        done = step;
      }
    }
    expect(taken).toEqual(["warned", "overdue", "escalate"]);
  });

  it("tells the alarm when the next step falls due", () => {
    expect(nextSlaStepAt(d, null)).toBe(plus(60));
    expect(nextSlaStepAt(d, "warned")).toBe(plus(100));
    expect(nextSlaStepAt(d, "overdue")).toBe(plus(150));
    expect(nextSlaStepAt(d, "escalate")).toBeNull();
  });
});
