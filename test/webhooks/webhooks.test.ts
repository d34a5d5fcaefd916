import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  enqueueWebhookEvents,
  type WebhookDeliveryMessage,
  type WebhookEvent,
} from "../../src/db/repos/webhooks";
import { verifyWebhookSignature } from "../../src/domain/webhook-signature";
import { getDb } from "../../src/platform/db/client";
import { consumeWebhooks } from "../../src/queues/webhooks";
import { call, makeTree, makeUser, sql, type TestTree } from "../support/helpers";
import { deliver } from "../support/queues";

const RECEIVER = "http://127.0.0.1:9999/grid321-hook";

async function register(tree: TestTree, events = ["case.escalated", "case.overdue"], unit = tree.town) {
  const staff = await makeUser("center_staff", unit);
  const res = await call(`/v1/units/${unit.id}/webhooks`, {
    token: staff.token,
    body: { url: RECEIVER, events, description: "county 12345 hotline" },
  });
  expect(res.status).toBe(201);
  return { staff, endpoint: res.body };
}

function event(tree: TestTree, kind: WebhookEvent["kind"] = "case.escalated"): WebhookEvent {
  return {
    id: `${crypto.randomUUID()}:7`,
    kind,
    at: "2026-05-01T10:00:00.000Z",
    unitPath: tree.grid.path,
    caseId: crypto.randomUUID(),
    data: { targetLevel: "village", reason: "deadline missed" },
  };
}

/** Runs the webhooks consumer on messages with an intercepted outbound fetch. */
async function run(messages: WebhookDeliveryMessage[], respond: (req: Request) => Response, attempts = 1) {
  const requests: Request[] = [];
  const bodies: string[] = [];
  const batch = createMessageBatch(
    "webhooks",
    messages.map((body, i) => ({
      id: `wh-${i}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts,
      body,
    })),
  );
  const ctx = createExecutionContext();
  await consumeWebhooks(batch, env, {
    now: () => Date.parse("2026-05-01T10:00:05.000Z"),
    fetcher: async (input, init) => {
      const req = new Request(input, init);
      requests.push(req);
      bodies.push(await req.clone().text());
      return respond(req);
    },
  });
  return { requests, bodies, batch, result: await getQueueResult(batch, ctx) };
}

async function delivery(endpointId: string, eventId: string) {
  const rows = await sql().execute({
    sql: "SELECT status, attempts, last_status FROM webhook_deliveries WHERE endpoint_id = ? AND event_id = ?",
    args: [endpointId, eventId],
  });
  return rows.rows[0] ?? null;
}

describe("webhook endpoints", () => {
  // Tests run with ENVIRONMENT=test, where loopback receivers are allowed; production refusals of loopback
  // are proven in test/domain/webhook-url.test.ts.
  it("registers an endpoint, shows its secret once, lists it without the secret, stores it sealed, audits it", async () => {
    const tree = await makeTree();
    const { staff, endpoint } = await register(tree);
    expect(endpoint).toMatchObject({
      unitId: tree.town.id,
      url: RECEIVER,
      events: ["case.escalated", "case.overdue"],
      disabledAt: null,
    });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const list = await call(`/v1/units/${tree.town.id}/webhooks`, { token: staff.token });
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0].secret).toBeUndefined();
    const row = await sql().execute({
      sql: "SELECT secret_sealed FROM webhook_endpoints WHERE id = ?",
      args: [endpoint.id],
    });
    expect(String(row.rows[0]!.secret_sealed)).toMatch(/^v1\./);
    expect(String(row.rows[0]!.secret_sealed)).not.toContain(endpoint.secret.slice(6));
    const audit = await sql().execute({
      sql: "SELECT action FROM audit_log WHERE object_id = ?",
      args: [endpoint.id],
    });
    expect(audit.rows.map((r) => r.action)).toEqual(["webhook.create"]);
  });

  describe("refuses unsafe targets with 400 and stores nothing", () => {
    for (const url of [
      "http://hooks.example.com/in",
      "https://10.0.0.8/in",
      "https://192.168.1.20/in",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.1.1/in",
      "https://[fd00::1]/in",
      "https://[fe80::1]/in",
      "https://0xa000001/in",
      "http://192.168.1.20/in",
      "https://db.internal/in",
      "gopher://example.com/",
    ]) {
      it(url, async () => {
        const tree = await makeTree();
        const staff = await makeUser("center_staff", tree.town);
        const res = await call(`/v1/units/${tree.town.id}/webhooks`, {
          token: staff.token,
          body: { url, events: ["case.escalated"] },
        });
        expect(res).toBeProblem(400);
        expect(res.body.errors).toEqual([{ path: "url", message: expect.any(String) }]);
        const n = await sql().execute({
          sql: "SELECT COUNT(*) AS n FROM webhook_endpoints WHERE unit_id = ?",
          args: [tree.town.id],
        });
        expect(Number(n.rows[0]!.n)).toBe(0);
      });
    }
  });

  it("refuses grids, other roles, foreign units and unknown event kinds", async () => {
    const tree = await makeTree();
    const gridAdmin = await makeUser("admin", tree.grid);
    const worker = await makeUser("grid_worker", tree.grid);
    const sibling = await makeUser("center_staff", tree.village2);
    const body = { url: RECEIVER, events: ["case.escalated"] };
    expect(await call(`/v1/units/${tree.grid.id}/webhooks`, { token: gridAdmin.token, body })).toBeProblem(
      400,
    );
    expect(await call(`/v1/units/${tree.village.id}/webhooks`, { token: worker.token, body })).toBeProblem(
      403,
    );
    expect(await call(`/v1/units/${tree.village.id}/webhooks`, { token: sibling.token, body })).toBeProblem(
      404,
    );
    const staff = await makeUser("center_staff", tree.village);
    expect(
      await call(`/v1/units/${tree.village.id}/webhooks`, {
        token: staff.token,
        body: { url: RECEIVER, events: ["case.exploded"] },
      }),
    ).toBeProblem(400);
  });

  it("disables an endpoint (idempotently) and only within scope", async () => {
    const tree = await makeTree();
    const { staff, endpoint } = await register(tree);
    const sibling = await makeUser("center_staff", tree.village2);
    expect(
      await call(`/v1/webhooks/${endpoint.id}/disable`, { method: "POST", token: sibling.token }),
    ).toBeProblem(404);
    const res = await call(`/v1/webhooks/${endpoint.id}/disable`, { method: "POST", token: staff.token });
    expect(res.status).toBe(200);
    expect(res.body.disabledAt).toEqual(expect.any(String));
    const again = await call(`/v1/webhooks/${endpoint.id}/disable`, { method: "POST", token: staff.token });
    expect(again.body.disabledAt).toBe(res.body.disabledAt);
  });
});

describe("enqueueWebhookEvents", () => {
  it("enqueues one delivery per subscribed active endpoint at the event's unit or above", async () => {
    const tree = await makeTree();
    const town = await register(tree, ["case.escalated"]);
    const county = await register(tree, ["case.escalated", "case.closed"], tree.county);
    const city = await register(tree, ["case.closed"], tree.city);
    await register(tree, ["case.escalated"], tree.village2);
    const disabled = await register(tree, ["case.escalated"], tree.village);
    await call(`/v1/webhooks/${disabled.endpoint.id}/disable`, {
      method: "POST",
      token: disabled.staff.token,
    });

    const sent: Array<{ body: WebhookDeliveryMessage }> = [];
    const queue = {
      sendBatch: async (messages: Iterable<{ body: WebhookDeliveryMessage }>) => void sent.push(...messages),
    };
    const e = event(tree);
    const n = await enqueueWebhookEvents({ WEBHOOKS: queue as unknown as Queue }, getDb(env), [
      e,
      { ...e, id: "other", kind: "case.closed" },
    ]);
    expect(n).toBe(4);
    expect(sent.map((m) => `${m.body.endpointId}:${m.body.event.kind}`).sort()).toEqual(
      [
        `${town.endpoint.id}:case.escalated`,
        `${county.endpoint.id}:case.escalated`,
        `${county.endpoint.id}:case.closed`,
        `${city.endpoint.id}:case.closed`,
      ].sort(),
    );
    expect(sent.find((m) => m.body.endpointId === town.endpoint.id)!.body.unitId).toBe(tree.town.id);
  });
});

describe("webhook delivery", () => {
  it("POSTs the event signed with the endpoint's secret, acks on 2xx, records it, and does not send it again", async () => {
    const tree = await makeTree();
    const { endpoint } = await register(tree);
    const message = { endpointId: endpoint.id, unitId: tree.town.id, event: event(tree) };
    const first = await run([message], () => new Response("ok", { status: 200 }));
    expect(first.result.explicitAcks).toHaveLength(1);
    expect(first.requests).toHaveLength(1);
    const req = first.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe(RECEIVER);
    expect(req.redirect).toBe("manual");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(req.headers.get("x-grid321-event")).toBe("case.escalated");
    const signature = req.headers.get("x-grid321-signature")!;
    expect(signature).toMatch(/^t=1777629605,v1=[0-9a-f]{64}$/);
    expect(await verifyWebhookSignature(endpoint.secret, first.bodies[0]!, signature, 1777629610)).toBe(true);
    expect(JSON.parse(first.bodies[0]!)).toEqual({
      id: message.event.id,
      kind: "case.escalated",
      at: message.event.at,
      caseId: message.event.caseId,
      data: message.event.data,
    });
    expect(await delivery(endpoint.id, message.event.id)).toMatchObject({
      status: "delivered",
      last_status: 200,
    });

    const replay = await run([message], () => new Response("ok"), 2);
    expect(replay.requests).toHaveLength(0);
    expect(replay.result.explicitAcks).toHaveLength(1);
  });

  it("retries a failing receiver (5xx, 4xx, redirect, network error) and records each attempt", async () => {
    const tree = await makeTree();
    const { endpoint } = await register(tree);
    const responders: Array<() => Response> = [
      () => new Response("boom", { status: 503 }),
      () => new Response("no", { status: 400 }),
      () => new Response(null, { status: 302, headers: { location: "http://169.254.169.254/" } }),
      () => {
        throw new TypeError("connection refused");
      },
    ];
    for (const [i, respond] of responders.entries()) {
      const message = { endpointId: endpoint.id, unitId: tree.town.id, event: event(tree) };
      const { result, requests } = await run([message], respond, i + 1);
      expect(requests).toHaveLength(1);
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages).toHaveLength(1);
      expect(await delivery(endpoint.id, message.event.id)).toMatchObject({
        status: "failing",
        attempts: i + 1,
      });
    }
  });

  it("skips deliveries to a disabled endpoint without calling it", async () => {
    const tree = await makeTree();
    const { staff, endpoint } = await register(tree);
    await call(`/v1/webhooks/${endpoint.id}/disable`, { method: "POST", token: staff.token });
    const message = { endpointId: endpoint.id, unitId: tree.town.id, event: event(tree) };
    const { requests, result } = await run([message], () => new Response("ok"));
    expect(requests).toHaveLength(0);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await delivery(endpoint.id, message.event.id)).toMatchObject({ status: "skipped" });
  });

  it("records a delivery that exhausted its retries as dead, a failed audit row and an alert for the centre", async () => {
    const tree = await makeTree();
    const { endpoint } = await register(tree);
    const message = { endpointId: endpoint.id, unitId: tree.town.id, event: event(tree) };
    const id = `wh-dead-${crypto.randomUUID()}`;
    const { result } = await deliver("webhooks-dlq", [message], { ids: [id], attempts: 1 });
    expect(result.ackAll).toBe(true);
    expect(await delivery(endpoint.id, message.event.id)).toMatchObject({ status: "dead" });
    const audit = await sql().execute({
      sql: "SELECT action, outcome, object_id FROM audit_log WHERE detail LIKE ?",
      args: [`%"messageId":"${id}"%`],
    });
    expect(audit.rows).toEqual([
      expect.objectContaining({ action: "webhook.dead-letter", outcome: "failure", object_id: endpoint.id }),
    ]);
    const alert = await sql().execute({
      sql: "SELECT unit_id, kind, case_id FROM inbox_items WHERE dedupe_key = ?",
      args: [`alert:webhooks-dlq:${id}`],
    });
    expect(alert.rows).toEqual([
      expect.objectContaining({ unit_id: tree.town.id, kind: "alert", case_id: message.event.caseId }),
    ]);
  });
});
