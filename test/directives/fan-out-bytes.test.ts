import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { enqueueFanout, type FanoutMessage, unitFanoutPlan } from "../../src/db/repos/directives";
import { MAX_EXPLICIT_TARGETS } from "../../src/domain/directives";
import { getDb } from "../../src/platform/db/client";
import { QUEUE_LIMITS } from "../../src/platform/queues/send";
import { api, read } from "../support/client";
import { addGrids, chineseText, recordingQueue } from "../support/fan-out";
import { makeTree, makeUser, sql } from "../support/helpers";

const inADay = () => new Date(Date.now() + 86_400_000).toISOString();

/** Waits until the queue consumer has written `expected` receipts of a directive; returns the stored count. */
async function receiptsWritten(directiveId: string, expected: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < 150 && n < expected; i++) {
    if (i) await new Promise((r) => setTimeout(r, 200));
    const rs = await sql().execute({
      sql: "SELECT count(*) AS n FROM directive_receipts WHERE directive_id = ?",
      args: [directiveId],
    });
    n = Number(rs.rows[0]!.n);
  }
  return n;
}

describe("directive fan-out in bytes", () => {
  it("fans a directive with a long Chinese body out to 1,500 named units completely", async () => {
    const tree = await makeTree();
    const grids = await addGrids(tree.village, 1_500);
    const staff = await makeUser("center_staff", tree.town);
    const title = chineseText(200);
    const body = chineseText(10_000);
    const res = await read(
      await api(staff.token).v1.directives.$post({
        json: { title, body, priority: "urgent", dueAt: inADay(), unitIds: grids.map((g) => g.id) },
      }),
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ title, body, targetCount: 1_500, fanoutQueued: true });
    if (res.status !== 201 || !("id" in res.body)) throw new Error("not issued");
    const id = res.body.id;

    expect(await receiptsWritten(id, 1_500)).toBe(1_500);
    const stored = await sql().execute({
      sql: `SELECT d.body, d.fanout_queued_at, count(r.unit_id) AS n, count(DISTINCT r.unit_id) AS units,
              sum(r.state = 'delivered') AS delivered
            FROM directives d JOIN directive_receipts r ON r.directive_id = d.id WHERE d.id = ?`,
      args: [id],
    });
    expect(stored.rows[0]).toMatchObject({ body, n: 1_500, units: 1_500, delivered: 1_500 });
    expect(stored.rows[0]!.fanout_queued_at).not.toBeNull();
    const missing = await sql().execute({
      sql: `SELECT count(*) AS n FROM json_each(?) t
            WHERE NOT EXISTS (SELECT 1 FROM directive_receipts r WHERE r.directive_id = ? AND r.unit_id = t.value)`,
      args: [JSON.stringify(grids.map((g) => g.id)), id],
    });
    expect(Number(missing.rows[0]!.n)).toBe(0);

    const detail = await read(await api(staff.token).v1.directives[":id"].$get({ param: { id } }));
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ counts: { total: 1_500, delivered: 1_500 } });
  });

  it("sends the fan-out of the most named units in sendBatch calls within 100 messages and 256 KB", async () => {
    // More targets than a directive may name, so the messages overflow one 256 KB batch.
    const unitIds = Array.from({ length: MAX_EXPLICIT_TARGETS + 2_000 }, () => crypto.randomUUID());
    const directiveId = crypto.randomUUID();
    const messages = unitFanoutPlan(directiveId, unitIds);
    const { queue, batches, sent } = recordingQueue<FanoutMessage>();
    await enqueueFanout(getDb(env), queue, directiveId, messages);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      expect(batch.bodies.length).toBeLessThanOrEqual(QUEUE_LIMITS.batchMessages);
      expect(batch.bytes).toBeLessThanOrEqual(QUEUE_LIMITS.batchBytes);
    }
    expect(sent()).toEqual(messages);
    expect(sent().flatMap((m) => ("unitIds" in m ? m.unitIds : []))).toEqual(unitIds);
  });
});
