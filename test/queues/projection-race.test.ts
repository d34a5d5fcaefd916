import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { WebhookDeliveryMessage } from "../../src/db/repos/webhooks";
import type { CaseEventMessage } from "../../src/domain/case-model";
import { consumeWebhooks } from "../../src/queues/webhooks";
import { makeWorld, must, report } from "../support/case-fixtures";
import { CaptureQueue, captureOutbox, until } from "../support/doubles";
import { call, sql } from "../support/helpers";
import { deliver } from "../support/queues";

/** The audit rows the projection wrote for a case's events, as `action` per row. */
async function caseAudits(caseId: string): Promise<string[]> {
  const rows = await sql().execute({
    sql: "SELECT action FROM audit_log WHERE object_type = 'case' AND object_id = ? AND action LIKE 'case.%' ORDER BY action",
    args: [caseId],
  });
  return rows.rows.map((r) => String(r.action));
}

describe("the projection under concurrent duplicate batches", () => {
  it("two batches carrying the same events at once leave one audit row and one webhook delivery per event", async () => {
    const w = await makeWorld();
    const hook = await call(`/v1/units/${w.tree.town.id}/webhooks`, {
      token: w.townCentre.token,
      body: { url: "https://hooks.example.org/grid321", events: ["case.reported", "case.accepted"] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const outbox = await captureOutbox(w.tree.grid.id);
    const cases: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await report(w.gridWorker, {
        title: `垃圾清运不及时（${i + 1}）`,
        description: "小区门口垃圾堆积三天无人清运。",
      });
      await must(w.villageCentre, c.id, "accept", 1);
      cases.push(c.id);
    }
    await until(() => outbox.messages.length === 6);
    const messages: CaseEventMessage[] = outbox.messages.splice(0);

    const webhooks = new CaptureQueue();
    const hooked = { ...env, WEBHOOKS: webhooks };
    const [a, b] = await Promise.all([
      deliver("case-events", messages, { env: hooked }),
      deliver("case-events", [...messages].reverse(), { env: hooked }),
    ]);
    expect(a.result.explicitAcks).toHaveLength(6);
    expect(b.result.explicitAcks).toHaveLength(6);

    for (const id of cases) expect(await caseAudits(id)).toEqual(["case.accepted", "case.reported"]);
    const offered = webhooks.messages as unknown as WebhookDeliveryMessage[];
    expect(offered.map((m) => m.event.id).sort()).toEqual(
      cases.flatMap((id) => [`${id}:1`, `${id}:2`]).sort(),
    );
    expect(new Set(offered.map((m) => m.endpointId))).toEqual(new Set([hook.body.id]));

    // What was offered goes out through the real webhook consumer: one delivery row per event.
    const batch = createMessageBatch(
      "webhooks",
      offered.map((body, i) => ({
        id: `hook-${i}-${crypto.randomUUID()}`,
        timestamp: new Date(),
        attempts: 1,
        body,
      })),
    );
    const posted: string[] = [];
    await consumeWebhooks(batch, env, {
      fetcher: async (_input, init) => {
        posted.push(JSON.parse(String(init?.body)).id);
        return new Response(null, { status: 204 });
      },
    });
    expect(posted.sort()).toEqual(offered.map((m) => m.event.id).sort());
    const rows = await sql().execute({
      sql: `SELECT event_id, status FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY event_id`,
      args: [hook.body.id],
    });
    expect(rows.rows.map((r) => [r.event_id, r.status])).toEqual(
      cases
        .flatMap((id) => [`${id}:1`, `${id}:2`])
        .sort()
        .map((id) => [id, "delivered"]),
    );
  });

  it("a batch redelivered after the projection changes nothing and offers nothing", async () => {
    const w = await makeWorld();
    const outbox = await captureOutbox(w.tree.grid.id);
    const c = await report(w.gridWorker, { title: "楼道灯坏了", description: "三单元楼道灯不亮。" });
    await until(() => outbox.messages.length === 1);
    const webhooks = new CaptureQueue();
    const hooked = { ...env, WEBHOOKS: webhooks };
    await deliver("case-events", outbox.messages, { env: hooked });
    const again = await deliver("case-events", outbox.messages, { env: hooked, attempts: 2 });
    expect(again.result.explicitAcks).toHaveLength(1);
    expect(await caseAudits(c.id)).toEqual(["case.reported"]);
  });
});
