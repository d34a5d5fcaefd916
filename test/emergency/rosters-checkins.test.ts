import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EmergencyGrid } from "../../src/durable/emergency-grid/emergency-grid";
import { deskList } from "../support/case-fixtures";
import { until } from "../support/doubles";
import { checkin, declareFlood, emergencyWorld, postCheckins } from "../support/emergency";
import { call, sql } from "../support/helpers";

const gridObject = (eventId: string, gridId: string) =>
  env.EMERGENCY_GRID.get(env.EMERGENCY_GRID.idFromName(`${eventId}:${gridId}`));

describe("emergency rosters", () => {
  it("orders households vulnerable residents first, then red, yellow, green, and unmasks phones on an audited read bound to the event", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    const res = await call(`/v1/emergencies/${id}/grids/${w.tree.grid.id}/roster`, { token: w.worker.token });
    expect(res.status).toBe(200);
    const h = w.households;
    expect(res.body.lines.map((l: { householdId: string }) => l.householdId)).toEqual([
      h.twoVulnerable,
      h.elderly,
      h.red,
      h.yellow,
      h.green,
    ]);
    expect(res.body.lines.map((l: { band: number }) => l.band)).toEqual([0, 0, 1, 2, 3]);
    expect(res.body.lines[1].members[0]).toMatchObject({
      name: "李奶奶",
      phone: "13900000009",
      vulnerable: true,
    });
    const audit = await sql().execute({
      sql: "SELECT actor_id, purpose, detail, action FROM audit_log WHERE object_type = 'emergency_roster' AND object_id = ?",
      args: [w.tree.grid.id],
    });
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({
      actor_id: w.worker.id,
      purpose: "emergency",
      action: "emergency.roster_read",
    });
    const detail = JSON.parse(String(audit.rows[0]!.detail));
    expect(detail.eventId).toBe(id);
    expect(detail.residentIds).toHaveLength(3);

    // A grid worker of another village is no responder here: 404, and nothing read or audited for them.
    const outsider = await call(`/v1/emergencies/${id}/grids/${w.tree.grid.id}/roster`, {
      token: w.otherWorker.token,
    });
    expect(outsider).toBeProblem(404, "not-found");
    const theirs = await sql().execute({
      sql: "SELECT COUNT(*) AS n FROM audit_log WHERE object_type = 'emergency_roster' AND actor_id = ?",
      args: [w.otherWorker.id],
    });
    expect(theirs.rows[0]!.n).toBe(0);
  });
});

describe("emergency check-ins", () => {
  it("syncs an offline batch idempotently: a repeat replays, a reused id with other content is 422, an older check-in does not override a newer one", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    const h = w.households;
    const batch = [
      checkin(h.green, "reached_safe", { at: "2026-07-01T08:10:00Z" }),
      checkin(h.yellow, "not_reached", { at: "2026-07-01T08:12:00Z", note: "敲门无人应答" }),
      checkin(h.yellow, "reached_safe", { at: "2026-07-01T08:05:00Z" }),
    ];
    const first = await postCheckins(w.worker, id, w.tree.grid, batch);
    expect(first.status).toBe(200);
    expect(first.body.results.map((r: { result: string }) => r.result)).toEqual([
      "recorded",
      "recorded",
      "recorded",
    ]);
    expect(first.body.results[2].status).toBe("not_reached");
    const again = await postCheckins(w.worker, id, w.tree.grid, [
      ...batch,
      { ...batch[0], outcome: "needs_help" },
    ]);
    expect(again.body.results.map((r: { result: string }) => r.result)).toEqual([
      "replayed",
      "replayed",
      "replayed",
      "error",
    ]);
    expect(again.body.results[3].problem.status).toBe(422);
    const single = await postCheckins(w.worker, id, w.tree.grid, [{ ...batch[0], outcome: "needs_help" }]);
    expect(single).toBeProblem(422, "idempotency-key-reused");
    const progress = await call(`/v1/emergencies/${id}/progress?unitId=${w.tree.village.id}`, {
      token: w.villageCentre.token,
    });
    expect(progress.body.totals).toMatchObject({ households: 5, reached: 1, notReached: 1, pending: 3 });
    const stored = await runInDurableObject(
      gridObject(id, w.tree.grid.id),
      (g: EmergencyGrid) => g.checkins().length,
    );
    expect(stored).toBe(3);
  });

  it("opens exactly one urgent case for a household that needs help, however often it is reported", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    const first = checkin(w.households.elderly, "needs_help", { note: "老人行动不便，需要担架" });
    const a = await postCheckins(w.worker, id, w.tree.grid, [first]);
    const b = await postCheckins(w.worker, id, w.tree.grid, [
      first,
      checkin(w.households.elderly, "needs_help", { note: "仍未转移" }),
    ]);
    const caseId = a.body.results[0].caseId as string;
    expect(caseId).toBeTruthy();
    expect(b.body.results.map((r: { caseId: string }) => r.caseId)).toEqual([caseId, caseId]);
    let found: Array<{ id: string; severity: string; type: string; householdIds: string[] }> = [];
    await until(async () => {
      found = (await deskList(w.tree.grid.id, { limit: 50 })).filter((c) =>
        c.householdIds.includes(w.households.elderly),
      ) as typeof found;
      return found.length > 0;
    });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ id: caseId, severity: "urgent", type: "emergency" });
  });

  it("escalates households not reached within the interval to the village and town inboxes, by the object's clock", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w, { level: "I" });
    await postCheckins(w.worker, id, w.tree.grid, [
      checkin(w.households.green, "reached_safe"),
      checkin(w.households.twoVulnerable, "reached_safe"),
    ]);
    const grid = gridObject(id, w.tree.grid.id);
    await runInDurableObject(grid, (g: EmergencyGrid) => {
      g.clock = () => Date.now() + 119 * 60_000;
    });
    await runDurableObjectAlarm(grid);
    const inbox = () =>
      sql().execute({
        sql: "SELECT unit_id, kind, payload FROM inbox_items WHERE dedupe_key LIKE ? ORDER BY unit_id",
        args: [`emergency-not-reached:${id}:%`],
      });
    expect((await inbox()).rows).toHaveLength(0);
    await runInDurableObject(grid, (g: EmergencyGrid) => {
      g.clock = () => Date.now() + 121 * 60_000;
    });
    await runDurableObjectAlarm(grid);
    const rows = (await inbox()).rows;
    expect(rows.map((r) => r.unit_id).sort()).toEqual([w.tree.village.id, w.tree.town.id].sort());
    const households = JSON.parse(String(rows[0]!.payload)).households.map(
      (x: { householdId: string }) => x.householdId,
    );
    expect(households).toEqual([w.households.elderly, w.households.red, w.households.yellow]);

    // Once stood down, the next interval escalates nothing more.
    await call(`/v1/emergencies/${id}/stand-down`, { token: w.townCentre.token, method: "POST" });
    await runInDurableObject(grid, (g: EmergencyGrid) => {
      g.clock = () => Date.now() + 300 * 60_000;
    });
    await runDurableObjectAlarm(grid);
    expect((await inbox()).rows).toHaveLength(2);
  });

  it("fills shelters up to their capacity and refuses a move beyond it, writing nothing", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    const shelter = await call(`/v1/emergencies/${id}/shelters`, {
      token: w.townCentre.token,
      body: {
        unitId: w.tree.village.id,
        name: "张岭小学安置点",
        address: "张岭社区学校路 1 号",
        capacity: 2,
      },
    });
    expect(shelter.status).toBe(201);
    const ok = await postCheckins(w.worker, id, w.tree.grid, [
      checkin(w.households.twoVulnerable, "moved", { shelterId: shelter.body.id }),
    ]);
    expect(ok.body.results[0]).toMatchObject({ result: "recorded", status: "moved" });
    const full = await postCheckins(w.worker, id, w.tree.grid, [
      checkin(w.households.elderly, "moved", { shelterId: shelter.body.id }),
    ]);
    expect(full).toBeProblem(409, "shelter-full");
    const unknown = await postCheckins(w.worker, id, w.tree.grid, [
      checkin(w.households.elderly, "moved", { shelterId: crypto.randomUUID() }),
    ]);
    expect(unknown).toBeProblem(404, "shelter-not-found");
    const progress = await call(`/v1/emergencies/${id}/progress`, { token: w.townCentre.token });
    expect(progress.body.shelters).toEqual([
      expect.objectContaining({ id: shelter.body.id, capacity: 2, occupied: 2, free: 0 }),
    ]);
    expect(progress.body.totals).toMatchObject({ moved: 1, reached: 1 });
  });

  it("refuses check-ins for households outside the grid's roster, by responders of another grid, and after the stand-down", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    expect(
      await postCheckins(w.worker, id, w.tree.grid, [checkin(w.households.other, "reached_safe")]),
    ).toBeProblem(404, "not-on-roster");
    expect(
      await postCheckins(w.otherWorker, id, w.tree.grid, [checkin(w.households.green, "reached_safe")]),
    ).toBeProblem(404, "not-on-roster");
    expect(await postCheckins(w.worker, id, w.tree.grid, [checkin(w.households.green, "moved")])).toBeProblem(
      400,
      "validation",
    );
    await call(`/v1/emergencies/${id}/stand-down`, { token: w.townCentre.token, method: "POST" });
    expect(
      await postCheckins(w.worker, id, w.tree.grid, [checkin(w.households.green, "reached_safe")]),
    ).toBeProblem(409, "event-not-active");
    const stored = await runInDurableObject(
      gridObject(id, w.tree.grid.id),
      (g: EmergencyGrid) => g.checkins().length,
    );
    expect(stored).toBe(0);
  });
});
