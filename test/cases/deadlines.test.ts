import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CaseEventMessage } from "../../src/domain/case-model";
import { projectCaseEvents } from "../../src/queues/case-events";
import { act, makeWorld, must, report } from "../support/case-fixtures";
import {
  alarmAt,
  deliverCaseEvents,
  deliverEscalations,
  deskCase,
  driveDesk,
  fireAlarm,
  inbox,
  MIN,
  setPolicy,
} from "../support/desk";
import { CaptureQueue } from "../support/doubles";
import { call, sql } from "../support/helpers";

const SEC = 1000;
/** A short local policy for critical cases: accept within 10 min (warning 2 min before), escalate 5 min late. */
const shortCritical = {
  caseType: "*",
  severity: "critical",
  acceptWithinSeconds: 600,
  acceptWarnBeforeSeconds: 120,
  resolveWithinSeconds: 3600,
  resolveWarnBeforeSeconds: 600,
  escalateGraceSeconds: 300,
};
const iso = (ms: number) => new Date(ms).toISOString();

describe("case deadlines as GridDesk alarms", () => {
  it("a critical case under a short local policy is warned, goes overdue and escalates to the village, then the town; their inboxes show it", async () => {
    const w = await makeWorld();
    await setPolicy(w.townCentre, w.tree.village.id, [shortCritical]);
    const desk = await driveDesk(w.tree.grid.id);
    const t0 = desk.now();

    const created = await report(w.gridWorker, { severity: "critical", type: "safety_hazard" });
    expect(created.deadlines).toEqual({
      phase: "accept",
      startedAt: iso(t0),
      warnAt: iso(t0 + 8 * MIN),
      dueAt: iso(t0 + 10 * MIN),
      escalateAt: iso(t0 + 15 * MIN),
      unitId: w.tree.grid.id,
      step: null,
      policy: "effective",
    });

    // A later policy change moves no deadline already recorded; it applies to the next clock (the village's).
    await setPolicy(w.townCentre, w.tree.village.id, [{ ...shortCritical, acceptWithinSeconds: 1200 }]);
    expect((await deskCase(desk.unitId, created.id)).record.deadlines!.dueAt).toBe(iso(t0 + 10 * MIN));

    // Before the warning time the alarm takes no step.
    await alarmAt(desk, t0 + 8 * MIN - SEC);
    expect((await deskCase(desk.unitId, created.id)).record.version).toBe(1);

    await alarmAt(desk, t0 + 8 * MIN);
    let found = await deskCase(desk.unitId, created.id);
    expect(found.events.map((e) => e.type)).toEqual(["reported", "warned"]);
    expect(found.record.deadlines!.step).toBe("warned");

    await alarmAt(desk, t0 + 10 * MIN);
    found = await deskCase(desk.unitId, created.id);
    expect(found.record).toMatchObject({
      version: 3,
      overdue: true,
      responsibleUnit: { id: w.tree.grid.id },
    });
    expect(found.events.at(-1)).toMatchObject({ seq: 3, type: "overdue", actor: { system: "sla" } });

    // The grace period passes: escalated automatically to the village, whose (new) policy starts a new clock.
    const t1 = t0 + 15 * MIN;
    await alarmAt(desk, t1);
    found = await deskCase(desk.unitId, created.id);
    expect(found.record).toMatchObject({
      version: 4,
      state: "reported",
      escalationCount: 1,
      responsibleUnit: { id: w.tree.village.id, level: "village", department: null },
      deadlines: {
        phase: "accept",
        startedAt: iso(t1),
        dueAt: iso(t1 + 20 * MIN),
        unitId: w.tree.village.id,
        step: null,
        policy: "effective",
      },
    });
    expect(found.events.at(-1)).toMatchObject({
      type: "escalated",
      payload: {
        fromUnitId: w.tree.grid.id,
        toUnitId: w.tree.village.id,
        toLevel: "village",
        automatic: true,
      },
    });

    // The village misses its deadline too: one alarm run takes every due step, up to the town.
    const t2 = t1 + 25 * MIN;
    await alarmAt(desk, t2);
    found = await deskCase(desk.unitId, created.id);
    expect(found.events.map((e) => `${e.seq}:${e.type}`)).toEqual([
      "1:reported",
      "2:warned",
      "3:overdue",
      "4:escalated",
      "5:warned",
      "6:overdue",
      "7:escalated",
    ]);
    expect(found.record).toMatchObject({
      escalationCount: 2,
      responsibleUnit: { id: w.tree.town.id, level: "town" },
      deadlines: {
        startedAt: iso(t2),
        dueAt: iso(t2 + 30 * MIN),
        unitId: w.tree.town.id,
        policy: "effective",
      },
    });

    // Running the alarm again changes nothing: every due step was taken.
    await fireAlarm(desk.unitId);
    expect((await deskCase(desk.unitId, created.id)).record.version).toBe(7);

    // The outbox sent the notices: overdue to the level above, escalations to the new centre.
    const sent = await deliverEscalations(desk);
    expect(sent.map((m) => `${m.kind}→${m.targetLevel}`)).toEqual([
      "overdue→village",
      "escalated→village",
      "overdue→town",
      "escalated→town",
    ]);
    const villageEscalated = await inbox(w.villageCentre, w.tree.village.id, "escalated");
    expect(villageEscalated.map((i) => i.caseId)).toEqual([created.id]);
    expect(villageEscalated[0]!.payload).toMatchObject({ automatic: true, fromUnitId: w.tree.grid.id });
    expect((await inbox(w.villageCentre, w.tree.village.id, "overdue")).map((i) => i.caseId)).toEqual([
      created.id,
    ]);
    const townEscalated = await inbox(w.townCentre, w.tree.town.id, "escalated");
    expect(townEscalated.map((i) => [i.caseId, i.payload.fromUnitId])).toEqual([
      [created.id, w.tree.village.id],
    ]);
    expect((await inbox(w.townCentre, w.tree.town.id, "overdue")).map((i) => i.caseId)).toEqual([created.id]);

    // The projection carries what the resolution-level figures need, and the desk's next alarm.
    await deliverCaseEvents(desk);
    let row = (await sql().execute({ sql: "SELECT * FROM cases WHERE id = ?", args: [created.id] })).rows[0]!;
    expect(row).toMatchObject({
      version: 7,
      overdue: 1,
      escalation_count: 2,
      responsible_unit_path: w.tree.town.path,
      resolved_at: null,
    });
    const alarm = await sql().execute({
      sql: "SELECT next_alarm_at FROM desk_alarms WHERE desk_id = ?",
      args: [desk.unitId],
    });
    expect(alarm.rows[0]!.next_alarm_at).toBe(iso(t2 + 20 * MIN)); // the town runs on the defaults: warned 10 min before 30 min

    // The town accepts and resolves it: its inbox items about the case are handled, and it counts as
    // resolved at town level, late and escalated.
    await must(w.townCentre, created.id, "accept", 7, {});
    await must(w.townCentre, created.id, "resolve", 8, { note: "Line made safe by the town" });
    await deliverCaseEvents(desk);
    row = (await sql().execute({ sql: "SELECT * FROM cases WHERE id = ?", args: [created.id] })).rows[0]!;
    expect(row).toMatchObject({ state: "resolved", resolved_level: "town", resolved_at: iso(desk.now()) });
    const handled = await call(`/v1/units/${w.tree.town.id}/inbox?state=open`, { token: w.townCentre.token });
    expect(handled.body.items.filter((i: any) => i.caseId === created.id)).toEqual([]);
    const all = await call(`/v1/units/${w.tree.town.id}/inbox`, { token: w.townCentre.token });
    expect(all.body.items.filter((i: any) => i.caseId === created.id).every((i: any) => i.handledAt)).toBe(
      true,
    );
    expect((await inbox(w.villageCentre, w.tree.village.id, "escalated"))[0]!.handledAt).toBeNull();

    const figures = await call(
      `/v1/units/${w.tree.village.id}/resolution-levels?from=${iso(t0 - 3600_000)}&to=${iso(desk.now() + 3600_000)}`,
      { token: w.townCentre.token },
    );
    expect(figures.status).toBe(200);
    expect(figures.body).toMatchObject({
      cases: 1,
      resolved: 1,
      overdueRate: 1,
      escalationRate: 1,
      onTimeRate: 0,
    });
    expect(figures.body.resolvedAtLevel.find((l: any) => l.level === "town")).toMatchObject({
      count: 1,
      share: 1,
    });
    expect((await deskCase(desk.unitId, created.id)).record.deadlines).toBeNull();
  });

  it("a case resolved in time takes no deadline step; accepting starts the resolve clock from the accepting unit's policy", async () => {
    const w = await makeWorld();
    await setPolicy(w.townCentre, w.tree.village.id, [shortCritical]);
    const desk = await driveDesk(w.tree.grid.id);
    const created = await report(w.gridWorker, { severity: "critical" });
    desk.setNow(desk.now() + 5 * MIN);
    const accepted = await must(w.villageCentre, created.id, "accept", 1, {});
    expect(accepted.deadlines).toMatchObject({
      phase: "resolve",
      startedAt: iso(desk.now()),
      dueAt: iso(desk.now() + 60 * MIN),
      unitId: w.tree.village.id,
      policy: "effective",
    });
    await must(w.villageCentre, created.id, "resolve", 2, { note: "Done" });
    await alarmAt(desk, desk.now() + 24 * 60 * MIN);
    const found = await deskCase(desk.unitId, created.id);
    expect(found.events.map((e) => e.type)).toEqual(["reported", "accepted", "resolved"]);
    expect(found.record).toMatchObject({ overdue: false, escalationCount: 0, deadlines: null });
    expect(desk.escalations.messages).toEqual([]);
  });

  it("with libSQL down a command still succeeds and its clock runs on the rules the desk last had", async () => {
    const w = await makeWorld();
    await setPolicy(w.townCentre, w.tree.village.id, [shortCritical]);
    const desk = await driveDesk(w.tree.grid.id);
    const created = await report(w.gridWorker, { severity: "critical" });
    expect(created.deadlines.policy).toBe("effective");
    const { default: worker } = await import("../../src");
    const { createExecutionContext } = await import("cloudflare:test");
    const res = await worker.fetch!(
      new Request(`https://grid321.test/v1/cases/${created.id}/accept?gridId=${w.tree.grid.id}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${w.villageCentre.token}`,
          "content-type": "application/json",
          "if-match": '"1"',
        },
        body: "{}",
      }) as any,
      { ...env, LIBSQL_URL: "http://127.0.0.1:9" } as unknown as Cloudflare.Env,
      createExecutionContext(),
    );
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    // The village's 1 h from the rules the desk keeps, not the defaults' 24 h.
    expect(body.deadlines).toMatchObject({
      phase: "resolve",
      policy: "effective",
      dueAt: iso(desk.now() + 60 * MIN),
    });
    expect((await deskCase(desk.unitId, created.id)).record.deadlines).toMatchObject({ policy: "effective" });
  });

  it("the projection offers case events to webhooks of the units above the case", async () => {
    const w = await makeWorld();
    const hook = await call(`/v1/units/${w.tree.town.id}/webhooks`, {
      token: w.townCentre.token,
      body: { url: "https://hooks.example.org/grid321", events: ["case.escalated", "case.overdue"] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const desk = await driveDesk(w.tree.grid.id);
    const created = await report(w.gridWorker, { severity: "critical" });
    await alarmAt(desk, desk.now() + 31 * MIN);
    await alarmAt(desk, desk.now() + 60 * MIN);
    const messages = desk.caseEvents.messages as CaseEventMessage[];
    expect(messages.map((m) => m.event.type)).toEqual(["reported", "warned", "overdue", "escalated"]);
    const webhooks = new CaptureQueue();
    const hooked = { ...env, WEBHOOKS: webhooks } as unknown as Cloudflare.Env;
    await projectCaseEvents(hooked, messages);
    const deliveries = webhooks.messages as unknown as Array<Record<string, any>>;
    expect(deliveries.map((d) => [d.endpointId, d.event.kind, d.event.id])).toEqual([
      [hook.body.id, "case.overdue", `${created.id}:3`],
      [hook.body.id, "case.escalated", `${created.id}:4`],
    ]);
    expect(deliveries[1]!.event.data).toMatchObject({ responsibleLevel: "village", state: "reported" });
    // A redelivered batch offers nothing again: those events are already projected.
    await projectCaseEvents(hooked, messages);
    expect(webhooks.messages).toHaveLength(2);
  });

  it("a refused command leaves the deadlines alone", async () => {
    const w = await makeWorld();
    const desk = await driveDesk(w.tree.grid.id);
    const created = await report(w.gridWorker, { severity: "urgent" });
    const res = await act(w.villageCentre, created.id, "accept", 5, {});
    expect(res.status).toBe(412);
    expect((await deskCase(desk.unitId, created.id)).record.deadlines).toEqual(created.deadlines);
  });
});
