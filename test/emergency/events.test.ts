import { describe, expect, it } from "vitest";
import { declareFlood, emergencyWorld } from "../support/emergency";
import { call, sql } from "../support/helpers";

describe("emergency events", () => {
  it("declares a flood with its level colour, logs it, and makes every grid's roster through the queue", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    const res = await call(`/v1/emergencies/${id}`, { token: w.villageCentre.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      kind: "flood",
      level: "II",
      colour: "orange",
      status: "active",
      reachIntervalMinutes: 240,
    });
    expect(res.body.log.map((l: { type: string }) => l.type)).toEqual(["declared"]);
    const progress = await call(`/v1/emergencies/${id}/progress`, { token: w.townCentre.token });
    expect(progress.body.totals).toMatchObject({ households: 6, vulnerableTotal: 4, reached: 0, pending: 6 });
    expect(progress.body.byChild.map((c: { unitId: string }) => c.unitId).sort()).toEqual(
      [w.tree.village.id, w.tree.village2.id].sort(),
    );
  });

  it("raises, lowers, adds units and stands down, each in the append-only log; a centre below the commanding one may not", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w, { unitIds: [w.tree.village.id] }, 3);
    const raised = await call(`/v1/emergencies/${id}/level`, {
      token: w.townCentre.token,
      body: { level: "I" },
    });
    expect(raised.status).toBe(200);
    expect(raised.body).toMatchObject({ level: "I", colour: "red", version: 2 });
    expect(
      await call(`/v1/emergencies/${id}/level`, { token: w.townCentre.token, body: { level: "V" } }),
    ).toBeProblem(400, "validation");
    expect(
      await call(`/v1/emergencies/${id}/stand-down`, { token: w.villageCentre.token, method: "POST" }),
    ).toBeProblem(403, "not-commanding-centre");
    const added = await call(`/v1/emergencies/${id}/units`, {
      token: w.townCentre.token,
      body: { unitIds: [w.tree.village2.id] },
    });
    expect(added.status).toBe(200);
    expect(added.body.affectedUnitIds).toContain(w.tree.village2.id);
    expect(
      await call(`/v1/emergencies/${id}/units`, {
        token: w.townCentre.token,
        body: { unitIds: [w.tree.otherGrid.id] },
      }),
    ).toBeProblem(409, "unit-already-affected");
    expect(
      (await call(`/v1/emergencies/${id}/level`, { token: w.townCentre.token, body: { level: "III" } })).body
        .level,
    ).toBe("III");
    const down = await call(`/v1/emergencies/${id}/stand-down`, {
      token: w.countyCentre.token,
      method: "POST",
    });
    expect(down.status).toBe(200);
    expect(down.body.status).toBe("stood_down");
    expect(
      await call(`/v1/emergencies/${id}/level`, { token: w.townCentre.token, body: { level: "I" } }),
    ).toBeProblem(409, "event-stood-down");
    const log = await sql().execute({
      sql: "SELECT type FROM emergency_event_log WHERE event_id = ? ORDER BY seq",
      args: [id],
    });
    expect(log.rows.map((r) => r.type)).toEqual([
      "declared",
      "raised",
      "units_added",
      "lowered",
      "stood_down",
    ]);
    await expect(
      sql().execute({ sql: "DELETE FROM emergency_event_log WHERE event_id = ?", args: [id] }),
    ).rejects.toThrow(/append-only/);
  });

  it("refuses a declaration by a village centre or over units outside the commanding centre, writing nothing", async () => {
    const w = await emergencyWorld();
    const body = {
      kind: "landslide",
      level: "I",
      title: "滑坡",
      instructions: "撤离",
      unitIds: [w.tree.grid.id],
    };
    expect(await call("/v1/emergencies", { token: w.villageCentre.token, body })).toBeProblem(
      400,
      "bad-request",
    );
    expect(await call("/v1/emergencies", { token: w.worker.token, body })).toBeProblem(403, "forbidden");
    const outside = await call("/v1/emergencies", {
      token: w.townCentre.token,
      body: { ...body, unitIds: [w.tree.county.id] },
    });
    expect(outside).toBeProblem(404, "not-found");
    const rows = await sql().execute({
      sql: "SELECT COUNT(*) AS n FROM emergency_events WHERE command_unit_id = ?",
      args: [w.tree.village.id],
    });
    expect(rows.rows[0]!.n).toBe(0);
  });
});
