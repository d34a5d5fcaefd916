import { describe, expect, it } from "vitest";
import type { CaseSeverity, CaseType } from "../../src/domain/case-model";
import {
  applySlaCaps,
  checkEffectivePolicy,
  checkSlaRules,
  computeDeadlines,
  DEFAULT_SLA,
  deadlinesForCase,
  dueSlaSteps,
  effectivePolicy,
  nextSlaStepAt,
  type SlaRule,
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

const YEAR = 365 * 86400;
/** A unit's rules for critical cases of every type (`*`), or of one named type. */
const critical = (values: SlaRule["values"], extra: Partial<SlaRule> = {}): SlaRule => ({
  caseType: "*",
  severity: "critical",
  values,
  ...extra,
});
const unit = (unitId: string, ...rules: SlaRule[]) => ({ unitId, rules });
const entryOf = (
  chain: Parameters<typeof effectivePolicy>[0],
  caseType: CaseType = "dispute",
  severity: CaseSeverity = "critical",
) => effectivePolicy(chain).entries.find((e) => e.caseType === caseType && e.severity === severity)!;

describe("caps: a unit may tighten the time limits it inherits, never loosen them", () => {
  const town = unit("town", critical({ acceptWithinSeconds: 1800 }));

  it("cuts a looser value below to the tightest value set above, naming the capping unit", () => {
    const e = entryOf([unit("city"), town, unit("village", critical({ acceptWithinSeconds: YEAR }))]);
    expect(e.values.acceptWithinSeconds).toBe(1800);
    expect(e.sources.acceptWithinSeconds).toBe("town");
    expect(e.caps).toEqual({ acceptWithinSeconds: { unitId: "town", ruleType: "*", value: 1800 } });
  });

  it("keeps an equal or tighter value below, with the cap still shown", () => {
    for (const value of [1800, 1799, 60]) {
      const e = entryOf([town, unit("village", critical({ acceptWithinSeconds: value }))]);
      expect(e.values.acceptWithinSeconds).toBe(value);
      expect(e.sources.acceptWithinSeconds).toBe("village");
      expect(e.caps.acceptWithinSeconds).toMatchObject({ unitId: "town", value: 1800 });
    }
  });

  it("cuts a value that was looser only one second", () => {
    const e = entryOf([town, unit("village", critical({ acceptWithinSeconds: 1801 }))]);
    expect(e.values.acceptWithinSeconds).toBe(1800);
  });

  it("takes the tightest of several units above, the farthest winning a tie", () => {
    const chain = [
      unit("city", critical({ acceptWithinSeconds: 900 })),
      unit("county", critical({ acceptWithinSeconds: 900 })),
      town,
      unit("village", critical({ acceptWithinSeconds: 1200 })),
    ];
    const e = entryOf(chain);
    expect(e.values.acceptWithinSeconds).toBe(900);
    expect(e.sources.acceptWithinSeconds).toBe("city");
    expect(e.caps.acceptWithinSeconds).toMatchObject({ unitId: "city", value: 900 });
  });

  it("caps a value a unit below inherits from its own parent (a tightening above reaches the whole subtree)", () => {
    const chain = [town, unit("village", critical({ resolveWithinSeconds: 600 })), unit("grid")];
    const looser = [unit("village", critical({ acceptWithinSeconds: 7200 })), unit("grid")];
    expect(entryOf([town, ...looser]).values.acceptWithinSeconds).toBe(1800);
    expect(entryOf(chain).values.acceptWithinSeconds).toBe(1800);
    expect(entryOf(chain).sources.acceptWithinSeconds).toBe("town");
  });

  it("caps a named type by the unit above's rule for that type, and others by its `*` rule", () => {
    const chain = [
      unit(
        "town",
        critical({ acceptWithinSeconds: 1800 }),
        critical({ acceptWithinSeconds: 300 }, { caseType: "emergency" }),
      ),
      unit("village", critical({ acceptWithinSeconds: 1200 })),
    ];
    expect(entryOf(chain, "emergency").values.acceptWithinSeconds).toBe(300);
    expect(entryOf(chain, "emergency").caps.acceptWithinSeconds).toMatchObject({ ruleType: "emergency" });
    expect(entryOf(chain, "dispute").values.acceptWithinSeconds).toBe(1200);
  });

  it("treats the built-in defaults as no cap, and caps nothing at the top unit", () => {
    const e = entryOf([unit("city", critical({ acceptWithinSeconds: YEAR }))]);
    expect(e.values.acceptWithinSeconds).toBe(YEAR);
    expect(e.caps).toEqual({});
  });

  it("does not cap warning leads, and gives a deadline cut by a cap the capping unit's warning", () => {
    const e = entryOf([
      unit(
        "town",
        critical({ acceptWithinSeconds: 600, acceptWarnBeforeSeconds: 120, resolveWarnBeforeSeconds: 3600 }),
      ),
      unit(
        "village",
        critical({ acceptWithinSeconds: 3600, acceptWarnBeforeSeconds: 900, resolveWarnBeforeSeconds: 60 }),
      ),
    ]);
    expect(e.values).toMatchObject({
      acceptWithinSeconds: 600,
      acceptWarnBeforeSeconds: 120,
      resolveWarnBeforeSeconds: 60,
    });
    expect(e.sources.acceptWarnBeforeSeconds).toBe("town");
    expect(checkEffectivePolicy({ entries: [e] })).toEqual([]);
  });

  it("honours leave to exceed a cap while the cap is no tighter than when it was granted", () => {
    const leave = { acceptWithinSeconds: [{ unitId: "town", ruleType: "*" as const, value: 1800 }] };
    const village = unit("village", critical({ acceptWithinSeconds: YEAR }, { waivers: leave }));
    expect(entryOf([town, village]).values.acceptWithinSeconds).toBe(YEAR);
    expect(entryOf([town, village]).caps).toEqual({});
    // The grid below inherits the village's value: the leave holds in the village's subtree.
    expect(entryOf([town, village, unit("grid")]).values.acceptWithinSeconds).toBe(YEAR);
    const looserTown = unit("town", critical({ acceptWithinSeconds: 3600 }));
    expect(entryOf([looserTown, village]).values.acceptWithinSeconds).toBe(YEAR);
    // The town tightens later: the village's looser value stops applying.
    const tighterTown = unit("town", critical({ acceptWithinSeconds: 1799 }));
    expect(entryOf([tighterTown, village]).values.acceptWithinSeconds).toBe(1799);
    expect(entryOf([tighterTown, village, unit("grid")]).values.acceptWithinSeconds).toBe(1799);
  });

  it("does not let leave from one unit lift another unit's cap", () => {
    const leave = { acceptWithinSeconds: [{ unitId: "town", ruleType: "*" as const, value: 1800 }] };
    const chain = [
      unit("city", critical({ acceptWithinSeconds: 3600 })),
      town,
      unit("village", critical({ acceptWithinSeconds: YEAR }, { waivers: leave })),
    ];
    expect(entryOf(chain).values.acceptWithinSeconds).toBe(3600);
    expect(entryOf(chain).sources.acceptWithinSeconds).toBe("city");
    expect(entryOf(chain).caps.acceptWithinSeconds).toMatchObject({ unitId: "city", value: 3600 });
  });
});

describe("applySlaCaps (checking a write against the caps above)", () => {
  const above = [
    unit("city"),
    unit("town", critical({ acceptWithinSeconds: 1800, escalateGraceSeconds: 3600 })),
  ];
  const villageStaff = { unitId: "village", admin: false };
  const loosened = critical({
    acceptWithinSeconds: YEAR,
    resolveWithinSeconds: YEAR,
    escalateGraceSeconds: YEAR,
  });

  it("refuses each value above a cap, naming the field, the cap and the unit that set it", () => {
    const { violations } = applySlaCaps(above, [loosened], [], villageStaff);
    expect(violations).toEqual([
      {
        path: "rules.0.acceptWithinSeconds",
        field: "acceptWithinSeconds",
        caseType: "dispute",
        severity: "critical",
        value: YEAR,
        cap: 1800,
        capUnitId: "town",
      },
      expect.objectContaining({ path: "rules.0.escalateGraceSeconds", cap: 3600, capUnitId: "town" }),
    ]);
  });

  it("accepts an equal or tighter value and one the units above do not set, recording no leave", () => {
    const rules = [
      critical({ acceptWithinSeconds: 1800, escalateGraceSeconds: 60, resolveWithinSeconds: YEAR }),
    ];
    expect(applySlaCaps(above, rules, [], villageStaff)).toEqual({ rules, violations: [] });
  });

  it("lets an admin loosen, recording leave for every cap lifted", () => {
    const { rules, violations } = applySlaCaps(above, [loosened], [], { unitId: "city", admin: true });
    expect(violations).toEqual([]);
    expect(rules[0]!.waivers).toEqual({
      acceptWithinSeconds: [{ unitId: "town", ruleType: "*", value: 1800 }],
      escalateGraceSeconds: [{ unitId: "town", ruleType: "*", value: 3600 }],
    });
    expect(entryOf([...above, unit("village", ...rules)]).values.acceptWithinSeconds).toBe(YEAR);
  });

  it("lets the unit that set a cap lift its own, but not a tighter one set above it", () => {
    const townStaff = { unitId: "town", admin: false };
    expect(applySlaCaps(above, [loosened], [], townStaff).violations).toEqual([]);
    const cityCapped = [unit("city", critical({ acceptWithinSeconds: 7200 })), above[1]!];
    const { violations } = applySlaCaps(cityCapped, [loosened], [], townStaff);
    expect(violations).toEqual([
      expect.objectContaining({ path: "rules.0.acceptWithinSeconds", cap: 7200, capUnitId: "city" }),
    ]);
  });

  it("keeps leave already held for a value no looser than the one granted, and no further", () => {
    const { rules: granted } = applySlaCaps(above, [critical({ acceptWithinSeconds: 7200 })], [], {
      unitId: "town",
      admin: false,
    });
    const again = applySlaCaps(above, [critical({ acceptWithinSeconds: 3600 })], granted, villageStaff);
    expect(again.violations).toEqual([]);
    expect(again.rules[0]!.waivers).toEqual({
      acceptWithinSeconds: [{ unitId: "town", ruleType: "*", value: 1800 }],
    });
    const further = applySlaCaps(above, [critical({ acceptWithinSeconds: 7201 })], granted, villageStaff);
    expect(further.violations).toEqual([expect.objectContaining({ capUnitId: "town", cap: 1800 })]);
  });

  it("drops leave a client sends with its rules", () => {
    const forged = critical(
      { acceptWithinSeconds: YEAR },
      { waivers: { acceptWithinSeconds: [{ unitId: "town", ruleType: "*", value: 1800 }] } },
    );
    expect(applySlaCaps(above, [forged], [], villageStaff).violations).toHaveLength(1);
    expect(applySlaCaps([], [forged], [], villageStaff).rules[0]).not.toHaveProperty("waivers");
  });

  it("checks a `*` value only for the types a named rule beside it does not set", () => {
    const named = [
      unit(
        "town",
        critical({ acceptWithinSeconds: 1800 }),
        critical({ acceptWithinSeconds: 300 }, { caseType: "emergency" }),
      ),
    ];
    const fine = [
      critical({ acceptWithinSeconds: 1200 }),
      critical({ acceptWithinSeconds: 200 }, { caseType: "emergency" }),
    ];
    expect(applySlaCaps(named, fine, [], villageStaff).violations).toEqual([]);
    const { violations } = applySlaCaps(named, [critical({ acceptWithinSeconds: 1200 })], [], villageStaff);
    expect(violations).toEqual([
      expect.objectContaining({ path: "rules.0.acceptWithinSeconds", caseType: "emergency", cap: 300 }),
    ]);
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
