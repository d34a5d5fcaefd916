import {
  createExecutionContext,
  createMessageBatch,
  evictDurableObject,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src";
import type { CaseEventMessage } from "../../src/domain/case-model";
import type { GridDesk } from "../../src/durable/grid-desk/grid-desk";
import {
  deskCase,
  deskList,
  deskOf,
  makeWorld,
  must,
  newReport,
  projected,
  report,
} from "../support/case-fixtures";
import { CaptureQueue, captureOutbox, shuffle, until } from "../support/doubles";
import { call, sql } from "../support/helpers";

/** Delivers messages to the real Worker's queue handler as one batch; returns what it acked and retried. */
async function deliver(messages: CaseEventMessage[], withEnv: Cloudflare.Env = env) {
  const batch = createMessageBatch(
    "case-events",
    messages.map((body, i) => ({
      id: `m-${i}-${crypto.randomUUID()}`,
      timestamp: Date.now(),
      attempts: 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue!(batch as MessageBatch<unknown>, withEnv, ctx);
  return getQueueResult(batch, ctx);
}

/** Asserts that the libSQL projection of a case equals the GridDesk's state and timeline. */
async function expectProjectionEqualsDesk(ownerId: string, caseId: string) {
  const truth = (await deskCase(ownerId, caseId))!;
  const row = (await sql().execute({ sql: "SELECT * FROM cases WHERE id = ?", args: [caseId] })).rows[0]!;
  expect(row, `case ${caseId} is projected`).toBeDefined();
  expect(JSON.parse(String(row.doc))).toEqual(truth.record);
  expect(row).toMatchObject({
    state: truth.record.state,
    version: truth.record.version,
    seq: truth.record.seq,
    responsible_unit_id: truth.record.responsibleUnit.id,
  });
  const events = await sql().execute({
    sql: "SELECT seq, type, actor_id FROM case_events WHERE case_id = ? ORDER BY seq",
    args: [caseId],
  });
  expect(events.rows.map((e) => [Number(e.seq), e.type, e.actor_id])).toEqual(
    truth.events.map((e) => [e.seq, e.type, "userId" in e.actor ? e.actor.userId : null]),
  );
}

describe("exactness under concurrency", () => {
  it("50 concurrent creates, each Idempotency-Key sent twice, store exactly one case per key", async () => {
    const w = await makeWorld();
    await report(w.gridWorker);
    const keys = Array.from({ length: 50 }, (_, i) => `offline-${i}-${crypto.randomUUID()}`);
    const { id: _id, ...body } = newReport();
    const requests = keys
      .flatMap((key) => [key, key])
      .map((key) =>
        call("/v1/cases", {
          token: w.gridWorker.token,
          body: { ...body, title: key },
          headers: { "idempotency-key": key },
        }).then((res) => ({ key, res })),
      );
    const results = await Promise.all(requests);
    for (const key of keys) {
      const pair = results.filter((r) => r.key === key).map((r) => r.res);
      expect(pair.map((r) => r.status).sort()).toEqual([200, 201]);
      expect(pair[0]!.body).toEqual(pair[1]!.body);
    }
    const stored = await deskList(w.tree.grid.id, { limit: 500 });
    expect(stored).toHaveLength(51);
    expect(new Set(stored.map((c) => c.title))).toEqual(new Set([...keys, stored.at(-1)!.title]));
    expect(stored.every((c) => c.version === 1)).toBe(true);
  });

  it("50 concurrent commands with the same If-Match: exactly one succeeds, the others get 412", async () => {
    const w = await makeWorld();
    const { id } = await report(w.gridWorker);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(`/v1/cases/${id}/${i % 2 ? "accept" : "reject"}`, {
          token: w.villageCentre.token,
          body: i % 2 ? { note: `n${i}` } : { reason: `r${i}` },
          headers: { "if-match": '"1"' },
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(49);
    for (const r of results.filter((r) => r.status === 412)) {
      expect(r).toBeProblem(412, "stale-version");
      expect(r.body.currentVersion).toBe(2);
    }
    const stored = (await deskCase(w.tree.grid.id, id))!;
    expect(stored.record.version).toBe(2);
    expect(stored.events.map((e) => e.seq)).toEqual([1, 2]);
  });
});

describe("projection chaos", () => {
  it("duplicated and shuffled case-events give a libSQL projection equal to the GridDesks", async () => {
    const w = await makeWorld();
    const queue = await captureOutbox(w.tree.grid.id);
    const a = await report(w.gridWorker);
    const b = await report(w.gridWorker);
    const c = await report(w.gridWorker, { type: "dispute" });
    let v = (await must(w.villageCentre, a.id, "accept", 1)).version;
    v = (await must(w.villageCentre, a.id, "dispatch", v, { unitId: w.tree.town.id, department: "司法所" }))
      .version;
    v = (await must(w.department, a.id, "start", v)).version;
    v = (await must(w.department, a.id, "resolve", v, { note: "Mediated" })).version;
    v = (await must(w.villageCentre, a.id, "return-visit", v, { satisfaction: "dissatisfied" })).version;
    v = (await must(w.villageCentre, a.id, "resolve", v, { note: "Mediated again" })).version;
    v = (await must(w.villageCentre, a.id, "return-visit", v, { satisfaction: "satisfied" })).version;
    await must(w.villageCentre, a.id, "close", v);
    await must(w.villageCentre, b.id, "reject", 1, { reason: "Duplicate call" });
    await must(w.gridWorker, c.id, "merge", 1, { intoCaseId: a.id });
    await until(() => queue.messages.length === 13);

    // Every message 1–3 times, in a seeded random order, in random batch sizes.
    for (const seed of [7, 1234]) {
      const copies = queue.messages.flatMap((m, i) => Array.from({ length: 1 + ((i * seed) % 3) }, () => m));
      const chaos = shuffle(copies, seed);
      for (let i = 0; i < chaos.length; ) {
        const size = 1 + ((i + seed) % 7);
        const result = await deliver(chaos.slice(i, i + size));
        expect(result.retryMessages).toEqual([]);
        expect(result.explicitAcks).toHaveLength(Math.min(size, chaos.length - i));
        i += size;
      }
      for (const id of [a.id, b.id, c.id]) await expectProjectionEqualsDesk(w.tree.grid.id, id);
    }
    const audits = await sql().execute({
      sql: "SELECT count(*) AS n FROM audit_log WHERE object_type = 'case' AND object_id IN (?, ?, ?)",
      args: [a.id, b.id, c.id],
    });
    expect(Number(audits.rows[0]!.n)).toBe(13);
  });

  it("an older event never overwrites a newer one, even when it arrives last", async () => {
    const w = await makeWorld();
    const queue = await captureOutbox(w.tree.grid.id);
    const { id } = await report(w.gridWorker);
    await must(w.villageCentre, id, "accept", 1);
    await until(() => queue.messages.length === 2);
    await deliver([queue.messages[1]!]);
    await deliver([queue.messages[0]!]);
    const row = (await sql().execute({ sql: "SELECT state, seq FROM cases WHERE id = ?", args: [id] }))
      .rows[0];
    expect(row).toMatchObject({ state: "accepted", seq: 2 });
  });

  it("a malformed message is recorded as a dead letter in the audit log and acked, not retried forever", async () => {
    const bad = { kind: "case-event", caseId: crypto.randomUUID(), seq: "x" } as unknown as CaseEventMessage;
    const result = await deliver([bad]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(1);
    const audit = await sql().execute({
      sql: "SELECT outcome, detail FROM audit_log WHERE action = 'case-event.dead-letter' AND detail LIKE ?",
      args: [`%${(bad as any).caseId}%`],
    });
    expect(audit.rows[0]).toMatchObject({ outcome: "failure" });
  });

  it("case-events-dlq records each dead event in the audit log and projects it late", async () => {
    const w = await makeWorld();
    const queue = await captureOutbox(w.tree.grid.id);
    const { id } = await report(w.gridWorker);
    await until(() => queue.messages.length === 1);
    const batch = createMessageBatch("case-events-dlq", [
      { id: "dead-1", timestamp: Date.now(), attempts: 11, body: queue.messages[0] },
    ]);
    const ctx = createExecutionContext();
    await worker.queue!(batch as MessageBatch<unknown>, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.ackAll).toBe(true);
    const audit = await sql().execute({
      sql: "SELECT outcome, detail, scope_path FROM audit_log WHERE action = 'case-event.dead-letter' AND object_id = ?",
      args: [id],
    });
    expect(audit.rows).toHaveLength(1);
    expect(JSON.parse(String(audit.rows[0]!.detail))).toMatchObject({
      reason: "projected-late",
      attempts: 11,
      seq: 1,
    });
    expect(audit.rows[0]!.scope_path).toBe(w.tree.grid.path);
    await expectProjectionEqualsDesk(w.tree.grid.id, id);
  });
});

describe("libSQL down", () => {
  const deadEnv = () => ({ ...env, LIBSQL_URL: "http://127.0.0.1:9" }) as unknown as Cloudflare.Env;
  const deadCall = async (
    path: string,
    token: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await worker.fetch!(
      new Request(`https://grid321.test${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }) as any,
      deadEnv(),
      createExecutionContext(),
    );
    return { status: res.status, body: (await res.json()) as any, headers: res.headers };
  };

  it("reports and commands still succeed through the GridDesk; the projection catches up when libSQL returns", async () => {
    const w = await makeWorld();
    const queue = await captureOutbox(w.tree.grid.id);
    const body = newReport();
    const created = await deadCall("/v1/cases", w.gridWorker.token, body);
    expect(created.status).toBe(201);
    expect(created.body.duplicates).toEqual([]);
    const id = created.body.id as string;
    const hint = `?gridId=${w.tree.grid.id}`;
    let v = 1;
    for (const [who, action, payload] of [
      [w.villageCentre, "accept", {}],
      [w.villageCentre, "resolve", { note: "Cable fixed" }],
      [w.villageCentre, "return-visit", { satisfaction: "satisfied" }],
      [w.villageCentre, "close", {}],
    ] as const) {
      const res = await deadCall(`/v1/cases/${id}/${action}${hint}`, who.token, payload, {
        "if-match": `"${v}"`,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      v = res.body.version;
    }
    expect((await deadCall(`/v1/cases/${id}${hint}`, w.leader.token)).body.state).toBe("closed");
    // What truly needs libSQL answers 503, not 500.
    const list = await deadCall("/v1/cases", w.villageCentre.token);
    expect(list.status).toBe(503);
    await until(() => queue.messages.length === 5);

    // The consumer cannot reach libSQL: nothing is acked, everything is retried, nothing is written.
    const failed = await deliver(queue.messages, deadEnv());
    expect(failed.explicitAcks).toEqual([]);
    expect(failed.retryMessages).toHaveLength(5);
    expect((await sql().execute({ sql: "SELECT 1 FROM cases WHERE id = ?", args: [id] })).rows).toHaveLength(
      0,
    );

    // libSQL is back: the redelivery (in any order) projects everything.
    const retried = await deliver(shuffle(queue.messages, 99));
    expect(retried.explicitAcks).toHaveLength(5);
    await expectProjectionEqualsDesk(w.tree.grid.id, id);
  });
});

describe("outbox and eviction", () => {
  it("evicting the desk between every command loses nothing: state, gap-free timeline, projection", async () => {
    const w = await makeWorld();
    const desk = deskOf(w.tree.grid.id);
    const { id } = await report(w.gridWorker);
    const steps: Array<[typeof w.villageCentre, string, unknown]> = [
      [w.villageCentre, "accept", {}],
      [w.villageCentre, "dispatch", { unitId: w.tree.grid.id }],
      [w.gridWorker, "start", {}],
      [w.gridWorker, "resolve", { note: "Done" }],
      [w.villageCentre, "return-visit", { satisfaction: "basically_satisfied" }],
      [w.villageCentre, "close", {}],
    ];
    let v = 1;
    for (const [who, action, body] of steps) {
      await evictDurableObject(desk);
      v = (await must(who, id, action, v, body)).version;
    }
    await evictDurableObject(desk);
    const stored = (await deskCase(w.tree.grid.id, id))!;
    expect(stored.record).toMatchObject({ state: "closed", version: 7 });
    expect(stored.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // A flush cut short by the last eviction is finished by the alarm (which may also find nothing to do).
    await runDurableObjectAlarm(desk);
    expect(await desk.pendingOutbox()).toBe(0);
    await projected(id, 7);
    await expectProjectionEqualsDesk(w.tree.grid.id, id);
  });

  it("events the queue refused stay in the outbox and the alarm sends them, even after an eviction", async () => {
    const w = await makeWorld();
    const desk = deskOf(w.tree.grid.id);
    const queue = new CaptureQueue();
    queue.failing = true;
    await captureOutbox(w.tree.grid.id, queue);
    const { id } = await report(w.gridWorker);
    await must(w.villageCentre, id, "accept", 1);
    await until(() => queue.sends >= 1);
    expect(await desk.pendingOutbox()).toBe(2);
    expect((await sql().execute({ sql: "SELECT 1 FROM cases WHERE id = ?", args: [id] })).rows).toHaveLength(
      0,
    );

    // The instance (and its broken queue) goes away; the alarm of the fresh instance uses the real queue.
    await evictDurableObject(desk);
    expect(await runDurableObjectAlarm(desk)).toBe(true);
    expect(await desk.pendingOutbox()).toBe(0);
    await projected(id, 2);
    await expectProjectionEqualsDesk(w.tree.grid.id, id);
    // Alarms may run again: nothing is left to do, and nothing changes.
    await runDurableObjectAlarm(desk);
    expect(await desk.pendingOutbox()).toBe(0);
  });

  it("events the queue took but the projection never confirmed are sent again by the alarm after an eviction", async () => {
    const w = await makeWorld();
    const desk = deskOf(w.tree.grid.id);
    // A queue that takes the message and loses it (a local queue dying with its process).
    const queue = new CaptureQueue();
    await captureOutbox(w.tree.grid.id, queue);
    const { id } = await report(w.gridWorker);
    await until(() => queue.messages.length === 1);
    expect(await desk.projectionState()).toMatchObject({ unconfirmed: 1, unsent: 0, confirmedDseq: 0 });

    // The sent mark was bookkeeping of the lost instance: the fresh one sees the event unsent and sends it.
    await evictDurableObject(desk);
    expect(await desk.projectionState()).toMatchObject({ unconfirmed: 0, unsent: 1, confirmedDseq: 0 });
    expect(await runDurableObjectAlarm(desk)).toBe(true);
    await projected(id, 1);
    await until(async () => (await desk.projectionState()).confirmedDseq === 1);
    expect(await desk.projectionState()).toMatchObject({ lastDseq: 1, unconfirmed: 0, unsent: 0 });
    await expectProjectionEqualsDesk(w.tree.grid.id, id);
    // Once nothing is in flight, the confirmation is written: the outbox table is empty.
    await until(async () =>
      runInDurableObject(
        desk,
        (_: GridDesk, state) =>
          state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n === 0,
      ),
    );
    await evictDurableObject(desk);
    expect(await desk.projectionState()).toMatchObject({ lastDseq: 1, confirmedDseq: 1, unsent: 0 });
  });

  it("an alarm whose flush fails keeps the rows and re-arms", async () => {
    const w = await makeWorld();
    const desk = deskOf(w.tree.grid.id);
    const queue = new CaptureQueue();
    queue.failing = true;
    await captureOutbox(w.tree.grid.id, queue);
    await report(w.gridWorker);
    await until(() => queue.sends >= 1);
    await runDurableObjectAlarm(desk).catch(() => undefined);
    expect(await desk.pendingOutbox()).toBe(1);
    const alarm = await runInDurableObject(desk, (_: GridDesk, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    queue.failing = false;
    expect(await runDurableObjectAlarm(desk)).toBe(true);
    expect(await desk.pendingOutbox()).toBe(0);
    expect(queue.messages).toHaveLength(1);
  });
});
