import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { consumeEscalations, escalationRetryDelay } from "../../src/queues/escalations";
import { CaptureQueue } from "../support/doubles";
import { makeTree, sql, type TestTree } from "../support/helpers";
import { deliver, escalationMessage } from "../support/queues";

/** A deterministic shuffle (mulberry32), so a failing seed can be replayed. */
function shuffled<T>(items: T[], seed: number): T[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The messages of a scenario: 12 cases in two trees, each escalated to village and town, with notices. */
function scenario(trees: TestTree[], caseIds: string[]) {
  const messages = [];
  for (const [i, caseId] of caseIds.entries()) {
    const tree = trees[i % trees.length]!;
    const at = (m: number) =>
      new Date(Date.parse("2026-05-01T10:00:00.000Z") + (i * 60 + m) * 1000).toISOString();
    messages.push(escalationMessage(tree, caseId, { at: at(0) }));
    messages.push(
      escalationMessage(tree, caseId, {
        fromUnitId: tree.village.id,
        targetUnitId: tree.town.id,
        targetLevel: "town",
        dedupeKey: `escalated:${caseId}:town`,
        at: at(30),
        seq: 7,
      }),
    );
    messages.push(
      escalationMessage(tree, caseId, {
        kind: "supervision",
        targetUnitId: tree.grid.id,
        targetLevel: "grid",
        dedupeKey: `supervision:${caseId}:5`,
        message: "Resolve by Friday",
        deadline: "2026-05-08T10:00:00.000Z",
        at: at(10),
        seq: 5,
        automatic: false,
      }),
    );
  }
  return messages;
}

async function inboxOf(unitIds: string[]) {
  const rows = await sql().execute({
    sql: `SELECT id, unit_id, unit_path, kind, case_id, dedupe_key, payload, created_at, read_at, handled_at
          FROM inbox_items WHERE unit_id IN (${unitIds.map(() => "?").join(",")}) ORDER BY dedupe_key`,
    args: unitIds,
  });
  return rows.rows.map((r) => ({ ...r }));
}

describe("escalations consumer under queue chaos", () => {
  it("writes exactly one inbox item per (case, level) despite duplicates 1–3×, shuffling and redelivered batches", async () => {
    const trees = [await makeTree(), await makeTree()];
    const caseIds = Array.from({ length: 12 }, () => crypto.randomUUID());
    // Each message 1–3×, shuffled, in batches of up to 10, and every batch delivered twice (a lost ack).
    const chaos = scenario(trees, caseIds).flatMap((m, i) => Array.from({ length: 1 + (i % 3) }, () => m));
    expect(chaos.length).toBeGreaterThan(caseIds.length * 3 * 1.5);
    const mixed = shuffled(chaos, 321);
    for (let i = 0; i < mixed.length; i += 10) {
      const slice = mixed.slice(i, i + 10);
      const once = await deliver("escalations", slice);
      expect(once.result.explicitAcks).toHaveLength(slice.length);
      const again = await deliver("escalations", shuffled(slice, i), { attempts: 2 });
      expect(again.result.explicitAcks).toHaveLength(slice.length);
    }
    const rows = await inboxOf(trees.flatMap((t) => [t.village.id, t.town.id, t.grid.id]));
    expect(rows).toHaveLength(caseIds.length * 3);
    for (const [i, caseId] of caseIds.entries()) {
      const tree = trees[i % trees.length]!;
      const escalated = rows.filter((r) => r.case_id === caseId && r.kind === "escalated");
      expect(escalated.map((r) => r.unit_id).sort()).toEqual([tree.village.id, tree.town.id].sort());
      expect(
        rows.filter((r) => r.case_id === caseId && r.kind === "supervision").map((r) => r.unit_id),
      ).toEqual([tree.grid.id]);
    }
  });

  it("yields byte-identical rows whether the messages come clean or in chaos", async () => {
    const run = async (chaotic: boolean) => {
      const trees = [await makeTree()];
      const caseIds = Array.from({ length: 8 }, () => crypto.randomUUID());
      const messages = scenario(trees, caseIds);
      if (!chaotic) {
        await deliver("escalations", messages);
      } else {
        const noisy = shuffled(
          messages.flatMap((m, i) => Array.from({ length: 1 + ((i * 7) % 3) }, () => m)),
          99,
        );
        for (let i = 0; i < noisy.length; i += 7) {
          await deliver("escalations", noisy.slice(i, i + 7));
          await deliver("escalations", noisy.slice(i, i + 7), { attempts: 2 });
        }
      }
      const rows = await inboxOf([trees[0]!.village.id, trees[0]!.town.id, trees[0]!.grid.id]);
      // Normalize what legitimately differs between the two runs: the tree's ids and the case ids.
      const ids = new Map<string, string>([
        [trees[0]!.village.id, "VILLAGE"],
        [trees[0]!.town.id, "TOWN"],
        [trees[0]!.grid.id, "GRID"],
        [trees[0]!.county.id, "COUNTY"],
        [trees[0]!.city.id, "CITY"],
        ...caseIds.map((id, i) => [id, `CASE${i}`] as [string, string]),
      ]);
      const normalize = (text: string) => [...ids].reduce((t, [from, to]) => t.split(from).join(to), text);
      return rows.map((r) => normalize(JSON.stringify({ ...r, id: "-" }))).sort();
    };
    const clean = await run(false);
    const chaos = await run(true);
    expect(clean).toHaveLength(24);
    expect(chaos).toEqual(clean);
  });

  it("stores the item with the message's time and a deterministic id, and its payload without routing fields", async () => {
    const tree = await makeTree();
    const caseId = crypto.randomUUID();
    await deliver("escalations", [
      escalationMessage(tree, caseId, { reasonCode: "beyond_authority", automatic: false }),
    ]);
    const [row] = (await inboxOf([tree.village.id])) as any[];
    expect(row.kind).toBe("escalated");
    expect(row.unit_path).toBe(tree.village.path);
    expect(row.created_at).toBe("2026-05-01T10:00:00.000Z");
    expect(row.read_at).toBeNull();
    expect(JSON.parse(row.payload)).toMatchObject({
      caseId,
      fromUnitId: tree.grid.id,
      targetLevel: "village",
      reasonCode: "beyond_authority",
      automatic: false,
      case: { title: "Blocked drain" },
    });
  });
});

describe("escalations consumer failures", () => {
  it("retries a message naming an unknown unit with growing backoff, sets a malformed one aside at once, and acks the good ones", async () => {
    const tree = await makeTree();
    const good = escalationMessage(tree, crypto.randomUUID());
    const unknownUnit = escalationMessage(tree, crypto.randomUUID(), { targetUnitId: crypto.randomUUID() });
    const wrongLevelCase = crypto.randomUUID();
    // Well-formed, but the target is the village, not a town.
    const wrongLevel = escalationMessage(tree, wrongLevelCase, {
      targetLevel: "town",
      dedupeKey: `escalated:${wrongLevelCase}:town`,
    });
    const malformed = { kind: "escalated", caseId: "not-a-uuid" };
    for (const attempts of [1, 3, 8]) {
      const deadLetters = new CaptureQueue();
      const { result, batch } = await deliver("escalations", [good, unknownUnit, wrongLevel, malformed], {
        attempts,
        env: { ...env, ESCALATIONS_DLQ: deadLetters },
      });
      const [g, u, w, m] = batch.messages.map((x) => x.id);
      // The malformed one is poison: acked, and sent to the dead-letter queue unchanged, never retried.
      expect(result.explicitAcks.sort()).toEqual([g, m].sort());
      expect(result.retryMessages.map((r) => r.msgId).sort()).toEqual([u, w].sort());
      expect(deadLetters.messages).toEqual([malformed]);
    }
    expect([1, 2, 3, 4, 6, 8].map(escalationRetryDelay)).toEqual([5, 10, 20, 40, 160, 300]);
    const rows = await sql().execute({
      sql: "SELECT COUNT(*) AS n FROM inbox_items WHERE unit_path LIKE ?",
      args: [`${tree.city.path}%`],
    });
    expect(Number(rows.rows[0]!.n)).toBe(1);
  });

  it("retries a poison message (never drops it) while its dead-letter queue refuses it", async () => {
    const tree = await makeTree();
    const deadLetters = new CaptureQueue();
    deadLetters.failing = true;
    const { result, batch } = await deliver(
      "escalations",
      [escalationMessage(tree, crypto.randomUUID()), { kind: "escalated" }],
      { attempts: 2, env: { ...env, ESCALATIONS_DLQ: deadLetters } },
    );
    const [g, m] = batch.messages.map((x) => x.id);
    expect(result.explicitAcks).toEqual([g]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual([m]);
  });

  it("retries every message and acks none while libSQL is unreachable, then writes them once it is back", async () => {
    const tree = await makeTree();
    const messages = [
      escalationMessage(tree, crypto.randomUUID()),
      escalationMessage(tree, crypto.randomUUID()),
    ];
    const batch = createMessageBatch(
      "escalations",
      messages.map((body, i) => ({
        id: `down-${i}-${crypto.randomUUID()}`,
        timestamp: new Date(),
        attempts: 2,
        body,
      })),
    );
    const ctx = createExecutionContext();
    const deadDb = { ...env, LIBSQL_URL: "http://127.0.0.1:9" } as unknown as Cloudflare.Env;
    await consumeEscalations(batch, deadDb);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(2);
    const before = await sql().execute({
      sql: "SELECT COUNT(*) AS n FROM inbox_items WHERE unit_id = ?",
      args: [tree.village.id],
    });
    expect(Number(before.rows[0]!.n)).toBe(0);

    const { result: later } = await deliver("escalations", messages, { attempts: 3 });
    expect(later.explicitAcks).toHaveLength(2);
    const after = await sql().execute({
      sql: "SELECT COUNT(*) AS n FROM inbox_items WHERE unit_id = ?",
      args: [tree.village.id],
    });
    expect(Number(after.rows[0]!.n)).toBe(2);
  });
});
