import { describe, expect, it } from "vitest";
import { act, makeWorld, must, report } from "../support/case-fixtures";
import {
  deliverCaseEvents,
  deliverEscalations,
  deskCase,
  driveDesk,
  fingerprint,
  inbox,
  MIN,
  setPolicy,
} from "../support/desk";
import { makeUser } from "../support/helpers";

const iso = (ms: number) => new Date(ms).toISOString();

/** Runs a command that must be refused with `status` and `code`, and asserts the case did not change. */
async function refused(
  unitId: string,
  caseId: string,
  attempt: () => Promise<{ status: number; headers: Headers; body: any }>,
  status: number,
  code: string,
) {
  const before = await fingerprint(unitId, caseId);
  const res = await attempt();
  expect(res).toBeProblem(status, code);
  expect(await fingerprint(unitId, caseId)).toEqual(before);
  return res;
}

describe("POST /v1/cases/{id}/escalate", () => {
  it("escalates from the grid to the village with a reason code; the village's inbox gets it and the village may accept", async () => {
    const w = await makeWorld();
    const desk = await driveDesk(w.tree.grid.id);
    const c = await report(w.gridWorker, { severity: "urgent" });

    // Small matters stay in the grid: no reason code, no escalation.
    await refused(
      desk.unitId,
      c.id,
      () => act(w.gridWorker, c.id, "escalate", 1, { reason: "Needs the power company" }),
      400,
      "escalation-reason-code-required",
    );
    // An unknown reason code is a validation error.
    await refused(
      desk.unitId,
      c.id,
      () => act(w.gridWorker, c.id, "escalate", 1, { reason: "x", reasonCode: "bored" }),
      400,
      "validation",
    );
    const escalated = await must(w.gridWorker, c.id, "escalate", 1, {
      reason: "Needs the power company",
      reasonCode: "beyond_authority",
    });
    expect(escalated).toMatchObject({
      state: "reported",
      escalationCount: 1,
      responsibleUnit: { id: w.tree.village.id, level: "village" },
      deadlines: { phase: "accept", unitId: w.tree.village.id, startedAt: iso(desk.now()) },
    });
    expect(escalated.actions).not.toContain("escalate"); // the grid worker no longer handles it

    const [message] = await deliverEscalations(desk);
    expect(message).toMatchObject({
      kind: "escalated",
      targetUnitId: w.tree.village.id,
      dedupeKey: `escalated:${c.id}:village`,
      reasonCode: "beyond_authority",
      automatic: false,
      actorId: w.gridWorker.id,
    });
    const items = await inbox(w.villageCentre, w.tree.village.id, "escalated");
    expect(items.map((i) => [i.caseId, i.payload.reason])).toEqual([[c.id, "Needs the power company"]]);
    await must(w.villageCentre, c.id, "accept", 2, {});
  });

  it("an escalation that reaches the inbox after the village already acted on the case arrives handled", async () => {
    const w = await makeWorld();
    const desk = await driveDesk(w.tree.grid.id);
    const c = await report(w.gridWorker, { severity: "urgent" });
    await must(w.gridWorker, c.id, "escalate", 1, {
      reason: "Needs the village",
      reasonCode: "beyond_authority",
    });
    await must(w.villageCentre, c.id, "accept", 2, {});
    await deliverCaseEvents(desk); // the projection runs before the escalation is delivered
    await deliverEscalations(desk);
    const [item] = await inbox(w.villageCentre, w.tree.village.id, "escalated");
    const accepted = (await deskCase(desk.unitId, c.id)).events.find((e) => e.type === "accepted")!;
    expect(item).toMatchObject({ caseId: c.id, handledAt: accepted.at, readAt: accepted.at });
  });

  it("a dispute is escalated from the grid only after a mediation attempt", async () => {
    const w = await makeWorld();
    const desk = await driveDesk(w.tree.grid.id);
    const c = await report(w.gridWorker, { type: "dispute", mediation: { subject: "Boundary wall" } });
    await refused(
      desk.unitId,
      c.id,
      () =>
        act(w.gridWorker, c.id, "escalate", 1, { reason: "Parties refuse", reasonCode: "mediation_failed" }),
      409,
      "mediation-attempt-required",
    );
  });

  it("climbs grid → village → town → county → city, and is refused beyond the city", async () => {
    const w = await makeWorld();
    const desk = await driveDesk(w.tree.grid.id);
    const county = await makeUser("center_staff", w.tree.county);
    const city = await makeUser("center_staff", w.tree.city);
    const c = await report(w.gridWorker, { severity: "critical" });
    const why = { reason: "Beyond this level", reasonCode: "major_risk" };
    await must(w.gridWorker, c.id, "escalate", 1, why);
    await must(w.villageCentre, c.id, "escalate", 2, why);
    await must(w.townCentre, c.id, "escalate", 3, { reason: "Needs the county" });
    const atCity = await must(county, c.id, "escalate", 4, { reason: "Needs the city" });
    expect(atCity).toMatchObject({
      escalationCount: 4,
      responsibleUnit: { id: w.tree.city.id, level: "city" },
    });
    await refused(
      desk.unitId,
      c.id,
      () => act(city, c.id, "escalate", 5, { reason: "Higher still" }),
      409,
      "escalation-at-top",
    );
    const sent = await deliverEscalations(desk);
    expect(sent.map((m) => m.targetLevel)).toEqual(["village", "town", "county", "city"]);
    expect((await inbox(city, w.tree.city.id, "escalated")).map((i) => i.caseId)).toEqual([c.id]);
  });

  it("a closed case cannot be escalated", async () => {
    const w = await makeWorld();
    const desk = await driveDesk(w.tree.grid.id);
    const c = await report(w.gridWorker, { severity: "urgent" });
    await must(w.villageCentre, c.id, "accept", 1, {});
    await must(w.villageCentre, c.id, "resolve", 2, { note: "Fixed" });
    await must(w.villageCentre, c.id, "return-visit", 3, { satisfaction: "satisfied" });
    await must(w.villageCentre, c.id, "close", 4, {});
    await refused(
      desk.unitId,
      c.id,
      () => act(w.villageCentre, c.id, "escalate", 5, { reason: "Again", reasonCode: "major_risk" }),
      409,
      "illegal-transition",
    );
    expect(desk.escalations.messages).toEqual([]);
  });

  it("needs If-Match, and a stale one is 412 with nothing changed", async () => {
    const w = await makeWorld();
    const desk = await driveDesk(w.tree.grid.id);
    const c = await report(w.gridWorker);
    const why = { reason: "Beyond the grid", reasonCode: "beyond_authority" };
    await refused(
      desk.unitId,
      c.id,
      () => act(w.gridWorker, c.id, "escalate", null, why),
      428,
      "if-match-required",
    );
    await refused(desk.unitId, c.id, () => act(w.gridWorker, c.id, "escalate", 7, why), 412, "stale-version");
  });
});

describe("POST /v1/cases/{id}/supervise and /urge", () => {
  it("a centre above the responsible unit supervises: the notice is on the case and in the responsible unit's inbox", async () => {
    const w = await makeWorld();
    const desk = await driveDesk(w.tree.grid.id);
    const c = await report(w.gridWorker, { severity: "urgent" });
    const deadline = iso(desk.now() + 120 * MIN);
    const supervised = await must(w.townCentre, c.id, "supervise", 1, {
      message: "Report back on the cable today",
      deadline,
    });
    expect(supervised.notices).toEqual([
      {
        kind: "supervision",
        seq: 2,
        at: iso(desk.now()),
        by: w.townCentre.id,
        fromUnitId: w.tree.town.id,
        toUnitId: w.tree.grid.id,
        message: "Report back on the cable today",
        deadline,
      },
    ]);
    // Supervision is a notice, not a new responsible unit: the clock keeps running as it was.
    expect(supervised.deadlines).toEqual(c.deadlines);
    await deliverEscalations(desk);
    const items = await inbox(w.gridWorker, w.tree.grid.id, "supervision");
    expect(items.map((i) => [i.caseId, i.payload.message, i.payload.deadline])).toEqual([
      [c.id, "Report back on the cable today", deadline],
    ]);
  });

  it("supervision from outside the case's ancestors is refused and changes nothing", async () => {
    const w = await makeWorld();
    const desk = await driveDesk(w.tree.grid.id);
    const c = await report(w.gridWorker, { severity: "urgent" });
    const notice = { message: "Hurry", deadline: iso(desk.now() + 60 * MIN) };
    // The grid itself is not above the grid.
    await refused(desk.unitId, c.id, () => act(w.gridWorker, c.id, "supervise", 1, notice), 403, "forbidden");
    // Another village's centre cannot even see the case.
    const otherVillage = await makeUser("center_staff", w.tree.village2);
    await refused(desk.unitId, c.id, () => act(otherVillage, c.id, "supervise", 1, notice), 404, "not-found");
    // Once the town is responsible, the village is below it, not above.
    await must(w.gridWorker, c.id, "escalate", 1, { reason: "x", reasonCode: "major_risk" });
    await must(w.villageCentre, c.id, "escalate", 2, { reason: "x", reasonCode: "major_risk" });
    await refused(
      desk.unitId,
      c.id,
      () => act(w.villageCentre, c.id, "supervise", 3, notice),
      403,
      "forbidden",
    );
    await refused(desk.unitId, c.id, () => act(w.villageCentre, c.id, "urge", 3, notice), 403, "forbidden");
    // A deadline in the past is bad input.
    await refused(
      desk.unitId,
      c.id,
      () => act(w.leader, c.id, "supervise", 3, { message: "x", deadline: iso(desk.now() - MIN) }),
      403,
      "forbidden",
    );
    const county = await makeUser("center_staff", w.tree.county);
    await refused(
      desk.unitId,
      c.id,
      () => act(county, c.id, "supervise", 3, { message: "x", deadline: iso(desk.now() - MIN) }),
      400,
      "deadline-in-past",
    );
  });

  it("urging is the lighter notice: no deadline needed, shown on the case and in the inbox as urge", async () => {
    const w = await makeWorld();
    const desk = await driveDesk(w.tree.grid.id);
    const c = await report(w.gridWorker);
    const urged = await must(w.villageCentre, c.id, "urge", 1, { message: "Residents are asking" });
    expect(urged.notices).toMatchObject([{ kind: "urge", message: "Residents are asking", deadline: null }]);
    await deliverEscalations(desk);
    expect((await inbox(w.gridWorker, w.tree.grid.id, "urge")).map((i) => i.caseId)).toEqual([c.id]);
    const closed = await report(w.gridWorker);
    await must(w.villageCentre, closed.id, "reject", 1, { reason: "Not a case" });
    await refused(
      desk.unitId,
      closed.id,
      () => act(w.villageCentre, closed.id, "urge", 2, { message: "x" }),
      409,
      "illegal-transition",
    );
  });
});

describe("POST /v1/cases/{id}/send-down", () => {
  it("a centre sends a case down to a unit below it with a reason and a new deadline; that unit's inbox gets it", async () => {
    const w = await makeWorld();
    const desk = await driveDesk(w.tree.grid.id);
    // The new unit's own policy gives the warning lead and the grace period around the given deadline.
    await setPolicy(w.villageCentre, w.tree.grid2.id, [
      { caseType: "*", severity: "urgent", resolveWarnBeforeSeconds: 600, escalateGraceSeconds: 900 },
    ]);
    const c = await report(w.gridWorker, { severity: "urgent" });
    await must(w.villageCentre, c.id, "accept", 1, {});
    const deadline = iso(desk.now() + 48 * 60 * MIN);

    // Not below the responsible unit (another village's grid): refused, nothing changes.
    await refused(
      desk.unitId,
      c.id,
      () => act(w.villageCentre, c.id, "send-down", 2, { unitId: w.tree.otherGrid.id, reason: "x" }),
      400,
      "target-not-below",
    );
    // A grid worker is not a centre.
    await refused(
      desk.unitId,
      c.id,
      () => act(w.gridWorker, c.id, "send-down", 2, { unitId: w.tree.grid2.id, reason: "x" }),
      403,
      "forbidden",
    );

    const sent = await must(w.villageCentre, c.id, "send-down", 2, {
      unitId: w.tree.grid2.id,
      reason: "The neighbouring grid's electrician handles it",
      deadline,
    });
    expect(sent).toMatchObject({
      state: "dispatched",
      responsibleUnit: { id: w.tree.grid2.id, level: "grid", department: null },
      deadlines: {
        phase: "resolve",
        unitId: w.tree.grid2.id,
        startedAt: iso(desk.now()),
        warnAt: iso(Date.parse(deadline) - 10 * MIN),
        dueAt: deadline,
        escalateAt: iso(Date.parse(deadline) + 15 * MIN),
        policy: "effective",
      },
    });
    const [message] = await deliverEscalations(desk);
    expect(message).toMatchObject({ kind: "dispatched", targetUnitId: w.tree.grid2.id, deadline });
    const grid2Worker = await makeUser("grid_worker", w.tree.grid2);
    const items = await inbox(grid2Worker, w.tree.grid2.id, "dispatched");
    expect(items.map((i) => [i.caseId, i.payload.reason])).toEqual([
      [c.id, "The neighbouring grid's electrician handles it"],
    ]);
    await must(grid2Worker, c.id, "start", 3, {});
  });
});
