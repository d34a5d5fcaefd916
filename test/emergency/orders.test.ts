import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directivesWatchdog } from "../../src/queues/directives";
import { until } from "../support/doubles";
import { declareFlood, type EmergencyWorld, emergencyWorld } from "../support/emergency";
import { call, sql } from "../support/helpers";

const ORDER = {
  title: "立即转移沿江低洼处群众",
  body: "各网格立即组织沿江低洼处群众向安置点转移，独居老人、留守儿童优先，完成后上报。",
  ackWithinMinutes: 10,
};

async function receipts(directiveId: string) {
  const rs = await sql().execute({
    sql: "SELECT unit_id, ack_due_at, acknowledged_at, ack_escalated_at FROM directive_receipts WHERE directive_id = ?",
    args: [directiveId],
  });
  return new Map(rs.rows.map((r) => [String(r.unit_id), r]));
}

async function orderAndFanOut(w: EmergencyWorld, eventId: string) {
  const res = await call(`/v1/emergencies/${eventId}/orders`, { token: w.townCentre.token, body: ORDER });
  expect(res.status, res.text).toBe(201);
  const grids = [w.tree.grid.id, w.tree.grid2.id, w.tree.subgrid.id, w.tree.otherGrid.id];
  await until(async () => (await receipts(res.body.id)).size === grids.length, 20_000);
  return { order: res.body, grids };
}

async function escalations(directiveId: string) {
  const rs = await sql().execute({
    sql: "SELECT unit_id, kind, payload FROM inbox_items WHERE dedupe_key LIKE ? ORDER BY dedupe_key",
    args: [`directive-ack-missed:${directiveId}:%`],
  });
  return rs.rows.map((r) => ({
    unitId: String(r.unit_id),
    kind: String(r.kind),
    gridId: JSON.parse(String(r.payload)).gridId as string,
  }));
}

describe("emergency orders", () => {
  it("reaches every affected grid with an acknowledgement deadline, linked to the event", async () => {
    const w = await emergencyWorld();
    const eventId = await declareFlood(w);
    const before = Date.now();
    const { order, grids } = await orderAndFanOut(w, eventId);
    expect(order).toMatchObject({ eventId, priority: "urgent", targetCount: 4, title: ORDER.title });
    const ackDue = Date.parse(order.ackDueAt);
    expect(ackDue).toBeGreaterThanOrEqual(before + 10 * 60_000);
    expect(ackDue).toBeLessThan(Date.now() + 10 * 60_000 + 1_000);
    const stored = await receipts(order.id);
    expect([...stored.keys()].sort()).toEqual([...grids].sort());
    for (const r of stored.values()) expect(r.ack_due_at).toBe(order.ackDueAt);
    const row = await sql().execute({
      sql: "SELECT event_id FROM directives WHERE id = ?",
      args: [order.id],
    });
    expect(row.rows[0]!.event_id).toBe(eventId);
  });

  it("escalates a grid that missed the deadline exactly once to its village and town; one that acknowledged, never", async () => {
    const w = await emergencyWorld();
    const eventId = await declareFlood(w);
    const { order } = await orderAndFanOut(w, eventId);
    const ack = await call(`/v1/directives/${order.id}/receipts/${w.tree.grid.id}/acknowledge`, {
      method: "POST",
      token: w.worker.token,
    });
    expect(ack.status).toBe(200);

    // Before the deadline nothing is escalated.
    await directivesWatchdog(env, new Date(Date.now() + 5 * 60_000));
    expect(await escalations(order.id)).toEqual([]);

    const later = new Date(Date.now() + 11 * 60_000);
    await directivesWatchdog(env, later);
    await directivesWatchdog(env, new Date(later.getTime() + 60_000));
    const items = await escalations(order.id);
    const missed = [w.tree.grid2.id, w.tree.subgrid.id, w.tree.otherGrid.id];
    const expected = [
      ...[w.tree.grid2.id, w.tree.subgrid.id].flatMap((g) => [
        { unitId: w.tree.village.id, gridId: g },
        { unitId: w.tree.town.id, gridId: g },
      ]),
      { unitId: w.tree.village2.id, gridId: w.tree.otherGrid.id },
      { unitId: w.tree.town.id, gridId: w.tree.otherGrid.id },
    ];
    expect(items).toHaveLength(expected.length);
    expect(items).toEqual(expect.arrayContaining(expected.map((e) => ({ ...e, kind: "escalated" }))));
    expect(items.some((i) => i.gridId === w.tree.grid.id)).toBe(false);

    const stored = await receipts(order.id);
    expect(stored.get(w.tree.grid.id)!.ack_escalated_at).toBeNull();
    for (const g of missed) expect(stored.get(g)!.ack_escalated_at).toBe(later.toISOString());

    // The village centre sees the escalation in its inbox.
    const inbox = await call(`/v1/units/${w.tree.village.id}/inbox`, { token: w.villageCentre.token });
    expect(inbox.status).toBe(200);
    const mine = inbox.body.items.filter(
      (i: { payload: { directiveId?: string } }) => i.payload.directiveId === order.id,
    );
    expect(mine).toHaveLength(2);
  });

  it("refuses a centre below the commanding one (403), one outside the event (404), and bad minutes (400)", async () => {
    const w = await emergencyWorld();
    const eventId = await declareFlood(w);
    expect(
      await call(`/v1/emergencies/${eventId}/orders`, { token: w.villageCentre.token, body: ORDER }),
    ).toBeProblem(403, "not-commanding-centre");
    const stranger = await emergencyWorld();
    expect(
      await call(`/v1/emergencies/${eventId}/orders`, { token: stranger.townCentre.token, body: ORDER }),
    ).toBeProblem(404, "not-found");
    for (const ackWithinMinutes of [4, 241, 7.5, "10", -1, 1e308]) {
      expect(
        await call(`/v1/emergencies/${eventId}/orders`, {
          token: w.townCentre.token,
          body: { ...ORDER, ackWithinMinutes },
        }),
      ).toBeProblem(400, "validation");
    }
    expect(
      await call(`/v1/emergencies/${eventId}/orders`, {
        token: w.townCentre.token,
        body: { ...ORDER, dueAt: new Date(Date.now() + 60_000).toISOString() },
      }),
    ).toBeProblem(400, "bad-request");
    const none = await sql().execute({
      sql: "SELECT count(*) AS n FROM directives WHERE event_id = ?",
      args: [eventId],
    });
    expect(Number(none.rows[0]!.n)).toBe(0);
  });
});
