import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  enqueueWebhookEvents,
  type WebhookDeliveryMessage,
  type WebhookEvent,
} from "../../src/db/repos/webhooks";
import { getDb } from "../../src/platform/db/client";
import { QUEUE_LIMITS } from "../../src/platform/queues/send";
import { MAX_ENDPOINTS_PER_UNIT } from "../../src/services/webhooks";
import { api, read } from "../support/client";
import { chineseText, recordingQueue } from "../support/fan-out";
import { makeTree, makeUser, sql } from "../support/helpers";

const RECEIVER = "http://127.0.0.1:9999/grid321-hook";

async function activeEndpoints(unitId: string): Promise<number> {
  const rs = await sql().execute({
    sql: "SELECT count(*) AS n FROM webhook_endpoints WHERE unit_id = ? AND disabled_at IS NULL",
    args: [unitId],
  });
  return Number(rs.rows[0]!.n);
}

describe("the active-endpoint limit of a centre", () => {
  it("lets exactly 20 of 26 concurrent registrations through and refuses the rest with 409", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const client = api(staff.token);
    const register = (i: number) =>
      client.v1.units[":id"].webhooks
        .$post({
          param: { id: tree.town.id },
          json: { url: RECEIVER, events: ["case.escalated"], description: `县12345热线 第${i}号接收端` },
        })
        .then(read);
    const results = await Promise.all(Array.from({ length: 26 }, (_, i) => register(i)));
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    expect(created).toHaveLength(MAX_ENDPOINTS_PER_UNIT);
    expect(refused).toHaveLength(6);
    for (const r of refused) expect(r).toBeProblem(409, "too-many-webhooks");
    expect(await activeEndpoints(tree.town.id)).toBe(MAX_ENDPOINTS_PER_UNIT);
    const audit = await sql().execute({
      sql: "SELECT count(*) AS n FROM audit_log WHERE action = 'webhook.create' AND scope_path = ?",
      args: [tree.town.path],
    });
    expect(Number(audit.rows[0]!.n)).toBe(MAX_ENDPOINTS_PER_UNIT);

    // Disabled endpoints do not count: disabling one makes room for exactly one more.
    const first = created[0]!.body;
    if (!("id" in first)) throw new Error("no endpoint");
    const disabled = await read(await client.v1.webhooks[":id"].disable.$post({ param: { id: first.id } }));
    expect(disabled.status).toBe(200);
    expect((await register(100)).status).toBe(201);
    expect(await register(101)).toBeProblem(409, "too-many-webhooks");
    expect(await activeEndpoints(tree.town.id)).toBe(MAX_ENDPOINTS_PER_UNIT);
  });
});

describe("webhook deliveries in bytes", () => {
  it("enqueues long Chinese events in batches within the limits and skips one too large for a message", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    const created = await read(
      await api(staff.token).v1.units[":id"].webhooks.$post({
        param: { id: tree.village.id },
        json: { url: RECEIVER, events: ["case.escalated"], description: "村级接收端" },
      }),
    );
    expect(created.status).toBe(201);
    if (!("id" in created.body)) throw new Error("no endpoint");
    const endpointId = created.body.id;
    const event = (chars: number): WebhookEvent => ({
      id: `${crypto.randomUUID()}:3`,
      kind: "case.escalated",
      at: "2026-05-01T10:00:00.000Z",
      unitPath: tree.grid.path,
      caseId: crypto.randomUUID(),
      data: { title: "村口排水沟堵塞", description: chineseText(chars) },
    });
    const events = Array.from({ length: 120 }, () => event(2_000));
    const huge = event(50_000);
    const { queue, batches, sent } = recordingQueue<WebhookDeliveryMessage>();
    const n = await enqueueWebhookEvents({ WEBHOOKS: queue }, getDb(env), [...events, huge]);

    expect(n).toBe(120);
    expect(sent().map((m) => m.event.id)).toEqual(events.map((e) => e.id));
    expect(sent().every((m) => m.endpointId === endpointId && m.unitId === tree.village.id)).toBe(true);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      expect(batch.bodies.length).toBeLessThanOrEqual(QUEUE_LIMITS.batchMessages);
      expect(batch.bytes).toBeLessThanOrEqual(QUEUE_LIMITS.batchBytes);
    }
    const skipped = await sql().execute({
      sql: "SELECT status, last_error FROM webhook_deliveries WHERE endpoint_id = ? AND event_id = ?",
      args: [endpointId, huge.id],
    });
    expect(skipped.rows).toEqual([
      expect.objectContaining({ status: "skipped", last_error: "event too large for one queue message" }),
    ]);
  });
});
