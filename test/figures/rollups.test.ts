import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { rebuildRollups, rebuildRollupsInSql } from "../../src/db/repos/figures";
import { BUCKET_COUNT, bucketOf, percentileOf, rollupDay } from "../../src/domain/case-figures";
import { subtreeRange } from "../../src/domain/units";
import { getDb } from "../../src/platform/db/client";
import { duplicatedAndShuffled, syntheticCaseEvents } from "../support/figures";
import { makeTree, sql, type TestTree } from "../support/helpers";
import { deliver } from "../support/queues";

const PLAIN = [
  "reported",
  "accepted",
  "rejected",
  "merged",
  "resolved",
  "closed",
  "overdue",
  "escalated",
] as const;

/** Every roll-up row of the tree's units, keyed `unit|day|type|severity`, with the counters as stored. */
async function storedRollups(tree: TestTree) {
  const ids = Object.values(tree).map((u) => u.id);
  const rows = await sql().execute({
    sql: `SELECT * FROM case_rollups WHERE unit_id IN (${ids.map(() => "?").join(",")})`,
    args: ids,
  });
  const out = new Map<string, Record<string, number>>();
  for (const r of rows.rows) {
    const counts: Record<string, number> = {};
    for (const [k, v] of Object.entries(r))
      if (typeof v === "number" || typeof v === "bigint") counts[k] = Number(v);
    out.set(`${r.unit_id}|${r.day}|${r.type}|${r.severity}`, counts);
  }
  return out;
}

/**
 * The same figures counted straight from the projected cases and events, by SQL that knows nothing of the
 * roll-ups: per unit of the tree, China day (`date(at, '+8 hours')`), type and severity.
 */
async function directCounts(tree: TestTree) {
  const out = new Map<string, Record<string, number>>();
  const bump = (key: string, counter: string, n: number) => {
    const row = out.get(key) ?? {};
    row[counter] = (row[counter] ?? 0) + n;
    out.set(key, row);
  };
  for (const unit of Object.values(tree)) {
    const [lo, hi] = subtreeRange(unit.path);
    const rows = await sql().execute({
      sql: `SELECT date(e.at, '+8 hours') AS day, c.type, c.severity,
              CASE WHEN e.type = 'return_visited' THEN
                'visit_' || json_extract(e.payload, '$.satisfaction') ELSE e.type END AS counter,
              count(*) AS n,
              sum(e.type = 'resolved' AND NOT EXISTS (SELECT 1 FROM case_events o WHERE o.case_id = e.case_id
                AND o.type = 'overdue' AND o.seq < e.seq)) AS on_time
            FROM case_events e JOIN cases c ON c.id = e.case_id
            WHERE c.owning_unit_path >= ? AND c.owning_unit_path < ?
            GROUP BY 1, 2, 3, 4`,
      args: [lo, hi],
    });
    for (const r of rows.rows) {
      const key = `${unit.id}|${r.day}|${r.type}|${r.severity}`;
      const counter = String(r.counter)
        .replace("visit_basically_satisfied", "visit_basic")
        .replace("visit_dissatisfied", "visit_dissatisfied");
      bump(key, counter, Number(r.n));
      if (counter === "visit_dissatisfied") bump(key, "reopened", Number(r.n));
      if (counter === "resolved") bump(key, "resolved_on_time", Number(r.on_time));
    }
  }
  return out;
}

describe("case roll-ups kept by the projection", () => {
  it("equal a direct count over the cases after a randomized run with duplicated and shuffled events, and a rebuild gives the same rows", async () => {
    const tree = await makeTree();
    const seed = 20260301;
    const { messages, resolutions } = syntheticCaseEvents(tree, 60, seed);
    const deliveries = duplicatedAndShuffled(messages, seed);
    // Batches of up to 40, the last two delivered at the same moment (the projection's race path).
    const batches: (typeof deliveries)[] = [];
    for (let i = 0; i < deliveries.length; i += 40) batches.push(deliveries.slice(i, i + 40));
    for (const batch of batches.slice(0, -2)) {
      const { result } = await deliver("case-events", batch);
      expect(result.explicitAcks).toHaveLength(batch.length);
    }
    await Promise.all(batches.slice(-2).map((b) => deliver("case-events", b)));
    // Every message once more, in another order: a full replay changes nothing.
    const before = await storedRollups(tree);
    for (const batch of [duplicatedAndShuffled(messages, seed + 1)]) await deliver("case-events", batch);
    const stored = await storedRollups(tree);
    expect(stored).toEqual(before);

    const direct = await directCounts(tree);
    let compared = 0;
    for (const [key, want] of direct) {
      const got = stored.get(key);
      for (const counter of [
        ...PLAIN,
        "reopened",
        "resolved_on_time",
        "visit_satisfied",
        "visit_basic",
        "visit_dissatisfied",
      ]) {
        expect(got?.[counter] ?? 0, `${counter} of ${key}`).toBe(want[counter] ?? 0);
        compared += want[counter] ?? 0;
      }
    }
    expect(compared).toBeGreaterThan(500);
    for (const [key, got] of stored) {
      // Nothing counted where the direct count has nothing, and each histogram holds every timed event once.
      expect(direct.has(key), key).toBe(true);
      const sum = (p: string) =>
        Array.from({ length: BUCKET_COUNT }, (_, i) => got[`${p}${i}`] ?? 0).reduce((a, b) => a + b, 0);
      expect(sum("accept_h")).toBe(got.accepted);
      expect(sum("resolve_h")).toBe(got.resolved);
      const levels = ["grid", "village", "town", "county", "city"].map((l) => got[`resolved_${l}`] ?? 0);
      expect(levels.reduce((a, b) => a + b, 0)).toBe(got.resolved);
    }
    // Resolved at each level, against what the generator knows of each resolution (town row).
    for (const level of ["grid", "village", "town", "county"] as const) {
      const want = resolutions.filter((r) => r.level === level).length;
      const got = [...stored]
        .filter(([k]) => k.startsWith(`${tree.town.id}|`))
        .reduce((a, [, c]) => a + (c[`resolved_${level}`] ?? 0), 0);
      expect(got, `resolved at ${level}`).toBe(want);
    }

    // Percentiles from the city's histogram of time to accept fall in the bucket of the exact value.
    const accepts = messages.filter((m) => m.event.type === "accepted");
    const durations = accepts
      .map((m) => Date.parse(m.event.at) - Date.parse(m.record.createdAt))
      .sort((a, b) => a - b);
    const histogram = Array.from({ length: BUCKET_COUNT }, (_, i) =>
      [...stored]
        .filter(([k]) => k.startsWith(`${tree.city.id}|`))
        .reduce((a, [, c]) => a + (c[`accept_h${i}`] ?? 0), 0),
    );
    for (const p of [0.5, 0.9]) {
      const exact = durations[Math.max(0, Math.ceil(p * durations.length) - 1)]!;
      expect(bucketOf(percentileOf(histogram, p)!), `p${p * 100}`).toBe(bucketOf(exact));
    }

    // Rebuilt from the stored events, the city's rows are the same.
    await rebuildRollups(getDb(env), { scopePath: tree.city.path });
    expect(await storedRollups(tree)).toEqual(stored);

    // The set-based rebuild in SQL replaces a wrong count and drops a row no event supports, month by month,
    // and gives exactly the rows the projection wrote, every column (histograms and levels too).
    await sql().batch([
      {
        sql: "UPDATE case_rollups SET reported = reported + 7, accept_h3 = 9 WHERE unit_id = ?",
        args: [tree.town.id],
      },
      {
        sql: "INSERT INTO case_rollups (unit_id, day, type, severity, reported) VALUES (?, '2019-05-05', 'dispute', 'normal', 3)",
        args: [tree.village.id],
      },
    ]);
    const slices: string[] = [];
    const rebuilt = await rebuildRollupsInSql(getDb(env), {
      scopePath: tree.city.path,
      onSlice: (s) => slices.push(s.from),
    });
    expect(slices).toContain("2026-03-01");
    expect(rebuilt.rows).toBeGreaterThanOrEqual(stored.size);
    const afterSql = await storedRollups(tree);
    expect(afterSql).toEqual(stored);

    // Its histograms equal the buckets of the exact durations, counted here from the distinct events.
    const unique = new Map(messages.map((m) => [`${m.record.id}|${m.event.seq}`, m]));
    const exactBuckets = new Map<string, number>();
    for (const m of unique.values()) {
      if (m.event.type !== "accepted" && m.event.type !== "resolved") continue;
      const prefix = m.event.type === "accepted" ? "accept_h" : "resolve_h";
      const b = bucketOf(Date.parse(m.event.at) - Date.parse(m.record.createdAt));
      const key = `${tree.city.id}|${rollupDay(m.event.at)}|${m.record.type}|${m.record.severity}|${prefix}${b}`;
      exactBuckets.set(key, (exactBuckets.get(key) ?? 0) + 1);
    }
    let bucketed = 0;
    for (const [key, counts] of afterSql) {
      if (!key.startsWith(`${tree.city.id}|`)) continue;
      for (let i = 0; i < BUCKET_COUNT; i++) {
        for (const prefix of ["accept_h", "resolve_h"]) {
          expect(counts[`${prefix}${i}`] ?? 0, `${key} ${prefix}${i}`).toBe(
            exactBuckets.get(`${key}|${prefix}${i}`) ?? 0,
          );
          bucketed += counts[`${prefix}${i}`] ?? 0;
        }
      }
    }
    expect(bucketed).toBe([...exactBuckets.values()].reduce((a, b) => a + b, 0));
    expect(bucketed).toBeGreaterThan(50);
  });
});
