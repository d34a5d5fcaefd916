import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CASE_ACTIONS,
  type CaseCommand,
  canSeeCase,
  decide,
  hasClosureEvidence,
  MAX_ATTACHMENTS,
  reportCase,
} from "../../src/domain/case-lifecycle";
import {
  type Actor,
  CASE_STATES,
  type CaseRecord,
  type NewCase,
  type UnitRef,
} from "../../src/domain/case-model";
import { slaPhaseOf } from "../../src/domain/sla";
import type { GridDesk } from "../../src/durable/grid-desk/grid-desk";
import { deskOf } from "../support/case-fixtures";
import { CaptureQueue } from "../support/doubles";

// A synthetic tree: the GridDesk and the machine need only ids, paths and levels.
const u = (path: string, level: UnitRef["level"]): UnitRef => ({ id: path.split("/").at(-2)!, path, level });
const county = u("/pc/pco/", "county");
const town = u("/pc/pco/pt/", "town");
const village = u("/pc/pco/pt/pv/", "village");
const grid = u("/pc/pco/pt/pv/pg/", "grid");
const grid2 = u("/pc/pco/pt/pv/pg2/", "grid");
const otherGrid = u("/pc/pco/pt/pv2/pg9/", "grid");
const subGrid = u("/pc/pco/pt/pv/pg/ps/", "grid");
const LATER = "2099-01-01T00:00:00.000Z";
const EARLIER = "2001-01-01T00:00:00.000Z";
const actor = (role: Actor["role"], unit: UnitRef): Actor => ({
  userId: `${role}@${unit.id}`,
  role,
  unitId: unit.id,
  unitPath: unit.path,
  unitLevel: unit.level,
});
const ACTORS: Actor[] = [
  actor("grid_worker", grid),
  actor("grid_worker", grid2),
  actor("grid_worker", otherGrid),
  actor("center_staff", village),
  actor("center_staff", town),
  actor("department", town),
  actor("department", county),
  actor("leader", county),
  actor("center_staff", county),
  actor("center_staff", u("/pc/", "city")),
];
const TARGETS = [
  { ...grid, department: null },
  { ...grid2, department: null },
  { ...otherGrid, department: null },
  { ...village, department: null },
  { ...town, department: "司法所" },
  { ...town, department: null },
  { ...county, department: "住建局" },
];

const finalExitArb = fc.oneof(
  fc.constant<CaseCommand>({ action: "reject", reason: "no" }),
  fc.constant<CaseCommand>({ action: "merge", intoCaseId: "00000000-0000-4000-8000-00000000beef" }),
);
const loopCommandArb: fc.Arbitrary<CaseCommand> = fc.oneof(
  fc.constant<CaseCommand>({ action: "accept" }),
  fc.constantFrom(...TARGETS).map((target): CaseCommand => ({ action: "dispatch", target })),
  fc.constant<CaseCommand>({ action: "start" }),
  fc
    .option(fc.constantFrom("agreed" as const, "pending" as const, "failed" as const), { nil: undefined })
    .map(
      (result): CaseCommand => ({ action: "resolve", note: "done", mediation: result ? { result } : null }),
    ),
  fc
    .constantFrom("satisfied" as const, "basically_satisfied" as const, "dissatisfied" as const)
    .map((satisfaction): CaseCommand => ({ action: "return_visit", satisfaction })),
  fc.constant<CaseCommand>({ action: "close" }),
  fc.constant<CaseCommand>({ action: "reopen", reason: "again" }),
  fc
    .uuid()
    .map((id): CaseCommand => ({ action: "attach", attachment: { id, contentType: "image/jpeg", size: 1 } })),
  // Escalation and supervision across the levels (reason code sometimes missing, deadlines sometimes past).
  fc
    .option(fc.constantFrom("beyond_authority" as const, "mediation_failed" as const), { nil: null })
    .map((reasonCode): CaseCommand => ({ action: "escalate", reason: "beyond us", reasonCode })),
  fc
    .constantFrom(grid, grid2, subGrid, village, otherGrid)
    .map((target): CaseCommand => ({ action: "send_down", target, reason: "yours" })),
  fc
    .constantFrom(LATER, EARLIER)
    .map((deadline): CaseCommand => ({ action: "supervise", message: "report back", deadline })),
  fc.constant<CaseCommand>({ action: "urge", message: "hurry" }),
);

// The final exits are rarer, so that walks also get deep into the loop.
const commandArb = fc.oneof(
  { arbitrary: finalExitArb, weight: 1 },
  { arbitrary: loopCommandArb, weight: 30 },
);

/** A step: who, what, and which If-Match they send (mostly current, sometimes stale or ahead). */
const stepArb = fc.record({
  // Mostly the people of the loop (grid worker, village centre, town department), sometimes anyone.
  actor: fc.oneof(
    { arbitrary: fc.constantFrom(ACTORS[0]!, ACTORS[3]!, ACTORS[5]!), weight: 4 },
    { arbitrary: fc.constantFrom(...ACTORS), weight: 1 },
  ),
  command: commandArb,
  versionSkew: fc.constantFrom(0, 0, 0, 0, -1, 1),
});

const newCase = (type: NewCase["type"], severity: NewCase["severity"]): NewCase => ({
  id: crypto.randomUUID(),
  type,
  severity,
  title: "t",
  description: "",
  location: null,
  householdIds: [],
  residentIds: [],
  mediation: null,
});
const caseArb = fc.record({
  type: fc.constantFrom("dispute" as const, "livelihood" as const, "emergency" as const),
  severity: fc.constantFrom("normal" as const, "urgent" as const, "critical" as const),
});
const NOW = "2026-11-20T08:00:00.000Z";
const timeless = (r: CaseRecord) => JSON.parse(JSON.stringify(r).replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "T"));

describe("the lifecycle under random command sequences", () => {
  it("the machine: only known states, version and seq rise by exactly one per accepted command, terminal states stay, closure has evidence", () => {
    const reached = new Set<string>();
    const taken = new Set<string>();
    fc.assert(
      fc.property(caseArb, fc.array(stepArb, { minLength: 20, maxLength: 80 }), (kind, steps) => {
        const first = reportCase(newCase(kind.type, kind.severity), ACTORS[0]!, grid, NOW);
        if (!first.ok) throw new Error(first.detail);
        let c: CaseRecord = first.record;
        for (const step of steps) {
          const d = decide(c, step.command, step.actor, NOW);
          if (!d.ok) {
            expect([400, 403, 409]).toContain(d.status);
            continue;
          }
          expect(CASE_STATES).toContain(d.record.state);
          expect(d.record.version).toBe(c.version + 1);
          expect(d.event.seq).toBe(c.seq + 1);
          expect(d.record.seq).toBe(d.record.version);
          expect(["rejected", "merged"]).not.toContain(c.state);
          if (d.record.state === "closed" && c.state !== "closed") expect(hasClosureEvidence(c)).toBe(true);
          expect(d.record.attachments.length).toBeLessThanOrEqual(MAX_ATTACHMENTS);
          // The owner never changes; the responsible unit is always one the case can be seen from above.
          expect(d.record.owningUnit).toEqual(grid);
          // A clock runs exactly while the state has one; escalation counts only escalations and climbs.
          expect(d.record.deadlines === null).toBe(slaPhaseOf(d.record.state) === null);
          expect(d.record.escalationCount).toBe(
            (c.escalationCount ?? 0) + (d.event.type === "escalated" ? 1 : 0),
          );
          if (d.event.type === "escalated") {
            expect(c.responsibleUnit.path.startsWith(d.record.responsibleUnit.path)).toBe(true);
            expect(d.record.responsibleUnit.path.length).toBeLessThan(c.responsibleUnit.path.length);
          }
          c = d.record;
          reached.add(c.state);
          taken.add(step.command.action);
        }
      }),
      { numRuns: 1000 },
    );
    // The sequences are not vacuous: between them they walk the whole loop and every side exit.
    expect([...reached].sort()).toEqual([...CASE_STATES].sort());
    expect([...taken].sort()).toEqual([...CASE_ACTIONS].sort());
  });

  it("the GridDesk agrees with the machine step by step; its seq is gap-free and its version rises by one", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.array(stepArb, { minLength: 10, maxLength: 40 }), async (kind, steps) => {
        // A fresh desk per run; its outbox goes to a stand-in so random cases stay out of the projection.
        const stub = deskOf(`property-${crypto.randomUUID()}`);
        await runInDurableObject(stub, (desk: GridDesk) => {
          desk.outboxTargets = { "case-events": new CaptureQueue(), escalations: new CaptureQueue() };
          const input = newCase(kind.type, kind.severity);
          const created = desk.create(
            { input, owningUnit: grid, requestHash: "h", duplicates: [] },
            ACTORS[0]!,
          );
          if (!created.ok) throw new Error(created.detail);
          let model = created.record;
          for (const step of steps) {
            const expectedVersion = model.version + step.versionSkew;
            const result = desk.command(input.id, step.command, step.actor, expectedVersion);
            if (!canSeeCase(step.actor, model)) {
              expect(result).toMatchObject({ ok: false, status: 404 });
              continue;
            }
            if (step.versionSkew !== 0) {
              expect(result).toMatchObject({ ok: false, status: 412, currentVersion: model.version });
              continue;
            }
            const d = decide(model, step.command, step.actor, NOW);
            expect(result.ok).toBe(d.ok);
            if (!result.ok || !d.ok) {
              if (!result.ok && !d.ok) expect(result.status).toBe(d.status);
              continue;
            }
            // Same decision as the machine, up to the clock.
            expect(timeless(result.record)).toEqual(timeless(d.record));
            model = result.record;
          }
          const stored = desk.getCase(input.id)!;
          expect(stored.record).toEqual(model);
          expect(stored.events.map((e) => e.seq)).toEqual(
            Array.from({ length: model.version }, (_, i) => i + 1),
          );
          expect(CASE_STATES).toContain(stored.record.state);
          // One case-event row per event, at most one escalations row per escalation-type event.
          const notices = stored.events.filter((e) =>
            ["escalated", "supervised", "urged", "sent_down"].includes(e.type),
          ).length;
          expect(desk.pendingOutbox()).toBeLessThanOrEqual(model.version + notices);
        });
      }),
      { numRuns: 40 },
    );
  });
});
