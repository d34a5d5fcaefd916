import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CaseEventMessage } from "../../src/domain/case-model";
import { PROJECTION_GRACE_MS, projectionWatchdog } from "../../src/durable/grid-desk/watchdog";
import { deskCase, deskOf, makeWorld, must, report } from "../support/case-fixtures";
import { api, read } from "../support/client";
import { CaptureQueue, captureOutbox, until } from "../support/doubles";
import { makeUser, sql } from "../support/helpers";
import { deliver } from "../support/queues";

/** The Worker's env with libSQL unreachable (nothing listens on port 9). */
const libsqlDown = () => ({ ...env, LIBSQL_URL: "http://127.0.0.1:9" }) as unknown as Cloudflare.Env;

/** Takes what the desk sent so far off the capturing queue. */
async function take(queue: CaptureQueue, count: number): Promise<CaseEventMessage[]> {
  await until(() => queue.messages.length >= count);
  return queue.messages.splice(0);
}

/** Delivers case events through the real projection consumer; all must be acked. */
async function project(messages: CaseEventMessage[]) {
  const { result } = await deliver("case-events", messages);
  expect(result.explicitAcks).toHaveLength(messages.length);
}

/** The projection's watermark row of a desk. */
async function watermark(deskId: string) {
  const rows = await sql().execute({
    sql: "SELECT desk_dseq, projected_dseq, lagging_since FROM projection_desks WHERE desk_id = ?",
    args: [deskId],
  });
  const row = rows.rows[0];
  return row
    ? {
        deskDseq: Number(row.desk_dseq),
        projectedDseq: Number(row.projected_dseq),
        lagging: row.lagging_since,
      }
    : null;
}

/** Asserts that libSQL holds each case exactly as its desk does: the row, and every event of its timeline. */
async function expectProjected(unitId: string, caseIds: string[]) {
  for (const id of caseIds) {
    const truth = await deskCase(unitId, id);
    const row = (
      await sql().execute({ sql: "SELECT doc, version, state FROM cases WHERE id = ?", args: [id] })
    ).rows[0];
    expect(row, `case ${id} is projected`).toBeDefined();
    expect(JSON.parse(String(row!.doc))).toEqual(truth!.record);
    const events = await sql().execute({
      sql: "SELECT seq, type FROM case_events WHERE case_id = ? ORDER BY seq",
      args: [id],
    });
    expect(events.rows.map((e) => `${e.seq}:${e.type}`)).toEqual(
      truth!.events.map((e) => `${e.seq}:${e.type}`),
    );
  }
}

describe("the case projection converges on its desks", () => {
  it("after the queue lost every message, the desk's alarm sends them again and the projection fills in", async () => {
    const w = await makeWorld();
    const desk = deskOf(w.tree.grid.id);
    const lossy = await captureOutbox(w.tree.grid.id);
    const a = await report(w.gridWorker, { title: "路灯损坏", description: "二组村道的路灯连续三晚不亮。" });
    const b = await report(w.gridWorker, {
      title: "井盖缺失",
      description: "村委会门口的井盖不见了，夜里危险。",
    });
    await must(w.villageCentre, a.id, "accept", 1);
    // The queue accepted everything and lost it (a local queue killed with its process).
    const lost = await take(lossy, 3);
    expect(lost.map((m) => m.dseq)).toEqual([1, 2, 3]);
    expect(new Set(lost.map((m) => m.deskId)).size).toBe(1);
    const deskId = lost[0]!.deskId!;
    expect(await desk.pendingOutbox()).toBe(0);
    expect(await desk.projectionState()).toMatchObject({ lastDseq: 3, confirmedDseq: 0, unconfirmed: 3 });
    expect(
      (await sql().execute({ sql: "SELECT 1 FROM cases WHERE id IN (?, ?)", args: [a.id, b.id] })).rows,
    ).toHaveLength(0);

    // No human: once the wait for a confirmation is over, the desk's own alarm sends them again.
    const queue = new CaptureQueue();
    await captureOutbox(w.tree.grid.id, queue);
    await desk.setResendAfter(0);
    await runDurableObjectAlarm(desk); // the alarm is due at once: the runtime may have run it already
    const resent = await take(queue, 3);
    // Sent again at least once each (twice if both the runtime and the test ran the alarm: harmless).
    expect([...new Set(resent.map((m) => m.dseq))].sort()).toEqual([1, 2, 3]);
    await project(resent);

    await expectProjected(w.tree.grid.id, [a.id, b.id]);
    expect(await watermark(deskId)).toEqual({ deskDseq: 3, projectedDseq: 3, lagging: null });
    // The consumer told the desk: nothing is left to send again.
    expect(await desk.projectionState()).toMatchObject({ lastDseq: 3, confirmedDseq: 3, unconfirmed: 0 });
  });

  it("the watchdog pokes a desk whose projection lags behind a lost message; the ops list shows the lag, then none", async () => {
    const w = await makeWorld();
    const admin = await makeUser("admin", w.tree.city);
    const desk = deskOf(w.tree.grid.id);
    const queue = await captureOutbox(w.tree.grid.id);
    const a = await report(w.gridWorker, { title: "路面塌陷", description: "三组路口路面塌陷约半米。" });
    await project(await take(queue, 1));
    const b = await report(w.gridWorker, { title: "违章搭建", description: "河堤上有人搭建彩钢棚。" });
    const [lost] = await take(queue, 1); // dseq 2 never reaches the projection
    await must(w.villageCentre, a.id, "accept", 1);
    await project(await take(queue, 1));
    const deskId = lost!.deskId!;

    // The projection holds dseq 1 and 3: its watermark stays at 1, the gap waits.
    expect(await watermark(deskId)).toMatchObject({ deskDseq: 3, projectedDseq: 1 });
    expect(
      (await sql().execute({ sql: "SELECT 1 FROM cases WHERE id = ?", args: [b.id] })).rows,
    ).toHaveLength(0);
    const lagging = await read(await api(admin.token).v1.ops["projection-lag"].$get({ query: {} }));
    expect(lagging.status).toBe(200);
    expect(lagging.body).toMatchObject({
      items: [
        {
          deskId,
          unitId: w.tree.grid.id,
          unitPath: w.tree.grid.path,
          deskSeq: 3,
          projectedSeq: 1,
          lag: 2,
          lastPokedAt: null,
        },
      ],
      nextCursor: null,
    });
    const [item] = (lagging.body as { items: Array<{ oldestUnprojectedAt: string | null }> }).items;
    // The earliest event held beyond the gap is the accept (dseq 3); the missing report is at least as old.
    expect(item!.oldestUnprojectedAt).toBe((await deskCase(w.tree.grid.id, a.id))!.events[1]!.at);

    // Ten minutes on (only this desk has lagged that long: its row is dated back for the sweep).
    const since = Date.parse("2001-01-01T00:00:00.000Z");
    await sql().execute({
      sql: "UPDATE projection_desks SET lagging_since = ? WHERE desk_id = ?",
      args: [new Date(since).toISOString(), deskId],
    });
    const poked = await projectionWatchdog(env, since + PROJECTION_GRACE_MS + 5 * 60_000);
    expect(poked).toEqual([deskId]);
    const resent = await take(queue, 2);
    expect(resent.map((m) => m.dseq).sort()).toEqual([2, 3]);
    await project(resent);

    await expectProjected(w.tree.grid.id, [a.id, b.id]);
    expect(await watermark(deskId)).toEqual({ deskDseq: 3, projectedDseq: 3, lagging: null });
    expect(await desk.projectionState()).toMatchObject({ confirmedDseq: 3, unconfirmed: 0 });
    const caughtUp = await read(await api(admin.token).v1.ops["projection-lag"].$get({ query: {} }));
    expect(caughtUp).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
  });

  it("after libSQL was down longer than the retry budget and the messages died, the desk fills the gap", async () => {
    const w = await makeWorld();
    const desk = deskOf(w.tree.grid.id);
    const queue = await captureOutbox(w.tree.grid.id);
    const c = await report(w.gridWorker, {
      title: "积水严重",
      description: "暴雨后五组低洼处积水没过膝盖。",
    });
    await must(w.villageCentre, c.id, "accept", 1);
    await must(w.villageCentre, c.id, "resolve", 2, { note: "已组织抽水" });
    const messages = await take(queue, 3);
    const deskId = messages[0]!.deskId!;

    // Every attempt fails while libSQL is down, then the dead-letter consumer fails too: the messages die.
    for (let attempt = 1; attempt <= 11; attempt += 5) {
      const { result } = await deliver("case-events", messages, { attempts: attempt, env: libsqlDown() });
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages).toHaveLength(3);
    }
    const dead = await deliver("case-events-dlq", messages, { attempts: 1, env: libsqlDown() });
    expect(dead.result.explicitAcks).toEqual([]);
    expect(
      (await sql().execute({ sql: "SELECT 1 FROM cases WHERE id = ?", args: [c.id] })).rows,
    ).toHaveLength(0);
    expect(await watermark(deskId)).toBeNull();

    // libSQL is back. The desk never heard a confirmation, so its alarm sends everything again.
    await desk.setResendAfter(0);
    await runDurableObjectAlarm(desk); // the alarm is due at once: the runtime may have run it already
    await project(await take(queue, 3));

    await expectProjected(w.tree.grid.id, [c.id]);
    expect(await watermark(deskId)).toEqual({ deskDseq: 3, projectedDseq: 3, lagging: null });
    expect(await desk.projectionState()).toMatchObject({ lastDseq: 3, confirmedDseq: 3, unconfirmed: 0 });
  });

  it("events sent twice change nothing and a confirmation never runs ahead of the desk", async () => {
    const w = await makeWorld();
    const desk = deskOf(w.tree.grid.id);
    const queue = await captureOutbox(w.tree.grid.id);
    const c = await report(w.gridWorker, { title: "噪音扰民", description: "夜间施工噪音影响居民休息。" });
    await must(w.villageCentre, c.id, "accept", 1);
    const messages = await take(queue, 2);
    await project([...messages].reverse());
    await project(messages);
    const deskId = messages[0]!.deskId!;
    expect(await watermark(deskId)).toEqual({ deskDseq: 2, projectedDseq: 2, lagging: null });
    const events = await sql().execute({
      sql: "SELECT count(*) AS n FROM case_events WHERE case_id = ?",
      args: [c.id],
    });
    expect(Number(events.rows[0]!.n)).toBe(2);
    expect(await desk.confirmProjected(99)).toBe(2);
    expect(await desk.projectionState()).toMatchObject({ lastDseq: 2, confirmedDseq: 2, unconfirmed: 0 });
  });
});
