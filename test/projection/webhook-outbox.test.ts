import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sweepWebhookOutbox, type WebhookDeliveryMessage } from "../../src/db/repos/webhooks";
import type { CaseEventMessage } from "../../src/domain/case-model";
import { getDb } from "../../src/platform/db/client";
import { makeWorld, must, report } from "../support/case-fixtures";
import { CaptureQueue, captureOutbox, until } from "../support/doubles";
import { call, sql } from "../support/helpers";
import { deliver } from "../support/queues";

/** The webhook outbox rows of some events. */
async function outboxRows(eventIds: string[]) {
  const rows = await sql().execute({
    sql: `SELECT event_id, attempts FROM webhook_outbox WHERE event_id IN (${eventIds.map(() => "?").join(",")})
          ORDER BY event_id`,
    args: eventIds,
  });
  return rows.rows.map((r) => ({ eventId: String(r.event_id), attempts: Number(r.attempts) }));
}

describe("webhook offers go through an outbox written with the projection", () => {
  it("a failed offer is kept, survives the retry that finds the events projected, and the sweep sends it once", async () => {
    const w = await makeWorld();
    const hook = await call(`/v1/units/${w.tree.village.id}/webhooks`, {
      token: w.villageCentre.token,
      body: { url: "https://hooks.example.org/grid321", events: ["case.reported", "case.accepted"] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const outbox = await captureOutbox(w.tree.grid.id);
    const c = await report(w.gridWorker, {
      title: "垃圾清运不及时",
      description: "村口垃圾堆积三天无人清运。",
    });
    await must(w.villageCentre, c.id, "accept", 1);
    await until(() => outbox.messages.length === 2);
    const messages: CaseEventMessage[] = outbox.messages.splice(0);
    const ids = [`${c.id}:1`, `${c.id}:2`];

    // The projection commits, then the webhooks queue refuses the offers.
    const down = new CaptureQueue();
    down.failing = true;
    const first = await deliver("case-events", messages, { env: { ...env, WEBHOOKS: down } });
    expect(first.result.explicitAcks).toHaveLength(2);
    expect(down.sends).toBeGreaterThan(0);
    expect(
      (await sql().execute({ sql: "SELECT count(*) AS n FROM case_events WHERE case_id = ?", args: [c.id] }))
        .rows[0]!.n,
    ).toBe(2);
    expect(await outboxRows(ids)).toEqual(ids.map((eventId) => ({ eventId, attempts: 1 })));

    // A redelivery finds the events projected and offers nothing itself; the outbox still holds the offers.
    const webhooks = new CaptureQueue();
    const again = await deliver("case-events", messages, { env: { ...env, WEBHOOKS: webhooks } });
    expect(again.result.explicitAcks).toHaveLength(2);
    expect(webhooks.messages).toEqual([]);
    expect(await outboxRows(ids)).toHaveLength(2);

    // The cron sweep leaves them until their retry is due, then sends each offer and empties the outbox.
    const mine = () =>
      (webhooks.messages as unknown as WebhookDeliveryMessage[]).filter((m) => ids.includes(m.event.id));
    await sweepWebhookOutbox({ WEBHOOKS: webhooks }, getDb(env), Date.now());
    expect(mine()).toEqual([]);
    expect(await outboxRows(ids)).toHaveLength(2);
    const later = Date.now() + 10 * 60_000;
    await sweepWebhookOutbox({ WEBHOOKS: webhooks }, getDb(env), later);
    expect(mine().map((m) => [m.endpointId, m.event.id, m.event.kind])).toEqual([
      [hook.body.id, ids[0], "case.reported"],
      [hook.body.id, ids[1], "case.accepted"],
    ]);
    expect(await outboxRows(ids)).toEqual([]);
    await sweepWebhookOutbox({ WEBHOOKS: webhooks }, getDb(env), later);
    expect(mine()).toHaveLength(2);
  });

  it("an offer sent right after the projection leaves no outbox row behind", async () => {
    const w = await makeWorld();
    const hook = await call(`/v1/units/${w.tree.town.id}/webhooks`, {
      token: w.townCentre.token,
      body: { url: "https://hooks.example.org/grid321", events: ["case.reported"] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const outbox = await captureOutbox(w.tree.grid.id);
    const c = await report(w.gridWorker, { title: "路灯不亮", description: "六组村道路灯不亮。" });
    await until(() => outbox.messages.length === 1);
    const webhooks = new CaptureQueue();
    const { result } = await deliver("case-events", outbox.messages.splice(0), {
      env: { ...env, WEBHOOKS: webhooks },
    });
    expect(result.explicitAcks).toHaveLength(1);
    const offered = webhooks.messages as unknown as WebhookDeliveryMessage[];
    expect(offered.map((m) => m.event.id)).toEqual([`${c.id}:1`]);
    expect(await outboxRows([`${c.id}:1`])).toEqual([]);
  });
});
