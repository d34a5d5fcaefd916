import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { GridDesk } from "../../src/durable/grid-desk/grid-desk";
import { MessageTooLarge, messageBytes, QUEUE_LIMITS, queueBatches } from "../../src/platform/queues/send";
import { caseIdOf, deskOf, makeWorld, report } from "../support/case-fixtures";
import { api } from "../support/client";
import { CaptureQueue, captureOutbox } from "../support/doubles";
import { sql } from "../support/helpers";

const SENTENCE = "村东头的排水沟堵塞，雨后积水漫进三户人家的院子，老人出行不便，请尽快派人疏通。";

/** Exactly `n` Chinese characters (3 UTF-8 bytes each), starting with a label so texts differ. */
function chinese(n: number, label: string): string {
  let text = `${label}：`;
  while (text.length < n) text += SENTENCE;
  return text.slice(0, n);
}

/** Polls until `check` holds, for at most `timeoutMs` (the queue consumer projects in the background). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("not reached in time");
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function countWhereIn(table: "cases" | "case_events", column: string, ids: string[]): Promise<number> {
  const rows = await sql().execute({
    sql: `SELECT COUNT(*) AS n FROM ${table} WHERE ${column} IN (${ids.map(() => "?").join(",")})`,
    args: ids,
  });
  return Number(rows.rows[0]!.n);
}

describe("queue batches counted in UTF-8 bytes", () => {
  it("splits 100 bodies of 2,000 Chinese characters into batches within 256 KB and 100 messages, in order", () => {
    const bodies = Array.from({ length: 100 }, (_, i) => ({ i, description: chinese(2000, `第${i}号`) }));
    // 2,000 characters are about 6 KB in UTF-8, three times what string.length says.
    expect(messageBytes(bodies[0])).toBeGreaterThan(6000);
    const total = bodies.reduce((n, b) => n + messageBytes(b), 0);
    expect(total).toBeGreaterThan(QUEUE_LIMITS.batchBytes);

    const batches = queueBatches(bodies);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(QUEUE_LIMITS.batchMessages);
      expect(batch.reduce((n, b) => n + messageBytes(b), 0)).toBeLessThanOrEqual(QUEUE_LIMITS.batchBytes);
    }
    expect(batches.flat().map((b) => b.i)).toEqual(bodies.map((b) => b.i));
  });

  it("refuses, before anything is sent, a body that cannot fit one message", () => {
    const bodies = [{ text: "短" }, { text: chinese(50_000, "超长") }];
    expect(() => queueBatches(bodies)).toThrow(MessageTooLarge);
    try {
      queueBatches(bodies);
    } catch (error) {
      expect(error).toMatchObject({ index: 1 });
      expect((error as MessageTooLarge).bytes).toBeGreaterThan(QUEUE_LIMITS.messageBytes);
    }
  });
});

describe("an offline sync of long Chinese reports", () => {
  it("accepts 100 reports of 2,000 Chinese characters, projects every one, and leaves no outbox behind", async () => {
    const w = await makeWorld();
    const reports = Array.from({ length: 100 }, (_, i) => ({
      id: crypto.randomUUID(),
      gridId: w.tree.grid.id,
      type: "environment" as const,
      severity: "normal" as const,
      title: `排水沟堵塞（离线上报第${i + 1}条）`,
      description: chinese(2000, `离线上报第${i + 1}条`),
    }));
    const res = await api(w.gridWorker.token).v1.cases.sync.$post({ json: { reports } });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: Array<{ id: string; status: string }> };
    expect(results.map((r) => r.status)).toEqual(reports.map(() => "created"));
    expect(results.map((r) => r.id)).toEqual(reports.map((r) => r.id));

    const ids = reports.map((r) => caseIdOf(w.tree.grid.id, r.id));
    await eventually(
      async () =>
        (await countWhereIn("cases", "id", ids)) === 100 &&
        (await countWhereIn("case_events", "case_id", ids)) === 100,
    );
    const stored = await sql().execute({
      sql: `SELECT id, description FROM cases WHERE id IN (${ids.map(() => "?").join(",")})`,
      args: ids,
    });
    const byId = new Map(stored.rows.map((r) => [String(r.id), String(r.description)]));
    for (const r of reports) expect(byId.get(caseIdOf(w.tree.grid.id, r.id))).toBe(r.description);

    const desk = deskOf(w.tree.grid.id);
    await eventually(async () => (await desk.pendingOutbox()) === 0, 15_000);
    // Confirmations are written once the desk has nothing left in flight: then its outbox table is empty.
    const left = () =>
      runInDurableObject(desk, (_desk: GridDesk, state) => ({
        outbox: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n,
        dead: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM dead_outbox").one().n,
      }));
    await eventually(async () => (await left()).outbox === 0, 15_000);
    expect(await left()).toEqual({ outbox: 0, dead: 0 });
  });

  it("sets aside an outbox row that can never be sent as one message and keeps sending the rest", async () => {
    const w = await makeWorld();
    const queue = await captureOutbox(w.tree.grid.id, new CaptureQueue());
    queue.failing = true;
    await report(w.gridWorker, { title: "路面塌陷", description: chinese(1000, "路面") });
    const desk = deskOf(w.tree.grid.id);
    // A row no queue message can hold (150 KB), between two reports waiting for the queue to come back.
    await runInDurableObject(desk, (_desk: GridDesk, state) => {
      state.storage.sql.exec(
        "INSERT INTO outbox (queue, body) VALUES ('case-events', ?)",
        JSON.stringify({ kind: "case-event", note: chinese(50_000, "超大") }),
      );
    });
    await report(w.gridWorker, { title: "路灯损坏", description: chinese(1000, "路灯") });
    queue.failing = false;
    expect(await runDurableObjectAlarm(desk)).toBe(true);

    expect(await desk.pendingOutbox()).toBe(0);
    expect(await desk.deadOutbox()).toBe(1);
    expect(queue.messages.map((m) => m.record.title)).toEqual(["路面塌陷", "路灯损坏"]);
    const dead = await runInDurableObject(desk, (_d: GridDesk, state) =>
      state.storage.sql
        .exec<{ queue: string; bytes: number; reason: string }>(
          "SELECT queue, bytes, reason FROM dead_outbox",
        )
        .toArray(),
    );
    expect(dead).toEqual([{ queue: "case-events", bytes: expect.any(Number), reason: "too-large" }]);
    expect(dead[0]!.bytes).toBeGreaterThan(QUEUE_LIMITS.messageBytes);
  });
});
