/**
 * `npm run bench:audit`: audited writes per second with libSQL 20 ms away, old write path against new.
 *
 * Runs the same load twice, each time on a fresh stack (scripts/lib/bench-stack.ts: sqld in a temp dir behind
 * the loopback latency proxy, the Worker under Miniflare, loopback only):
 *   old — the Worker bundled with scripts/bench/legacy-audit.ts in place of src/platform/db/audit.ts: every
 *         audited write holds an interactive write transaction across three round trips;
 *   new — the Worker as it is: the change and its HMAC'd audit row in one batch, linked later by the anchor.
 * The load: BENCH_AUDIT_WRITES renames (`PATCH /v1/units/{id}`, each one audited and version-guarded) by an
 * admin, BENCH_AUDIT_CONCURRENCY at a time, each worker renaming its own grid. Prints writes/s, p50/p99
 * latency and the ratio, then checks that every 200 left exactly one audit row. Stops by itself.
 *
 *   npm run bench:audit
 *   BENCH_LIBSQL_LATENCY_MS=40 BENCH_AUDIT_WRITES=400 BENCH_AUDIT_CONCURRENCY=32 npm run bench:audit
 */
import { cpus } from "node:os";
import { insertBenchUser, insertUnitTree, percentile, withBenchStack } from "../lib/bench-stack";

const LATENCY_MS = Number(process.env.BENCH_LIBSQL_LATENCY_MS ?? 20);
const WRITES = Number(process.env.BENCH_AUDIT_WRITES ?? 320);
const CONCURRENCY = Number(process.env.BENCH_AUDIT_CONCURRENCY ?? 16);
/** Each run stops issuing requests after this long, whatever the count (the bench stops by itself). */
const RUN_LIMIT_MS = Number(process.env.BENCH_AUDIT_LIMIT_MS ?? 120_000);
const MODES = (process.env.BENCH_AUDIT_MODES ?? "old,new").split(",") as Array<"old" | "new">;
const ROOT = new URL("../../", import.meta.url).pathname;

interface Run {
  mode: "old" | "new";
  ok: number;
  failed: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  auditRows: number;
}

async function run(mode: Run["mode"]): Promise<Run> {
  const replaceModules =
    mode === "old" ? { [`${ROOT}src/platform/db/audit`]: `${ROOT}scripts/bench/legacy-audit` } : undefined;
  return withBenchStack(
    { name: `audit-${mode}`, libsqlLatencyMs: LATENCY_MS, replaceModules, echoErrors: true },
    async (stack) => {
      const tree = await insertUnitTree(stack.db, {
        towns: 1,
        villagesPerTown: 1,
        gridsPerVillage: CONCURRENCY,
      });
      const admin = { username: "bench-admin", displayName: "市级管理员", role: "admin" as const };
      const userId = await insertBenchUser(stack.db, { id: tree.cityId, path: tree.cityPath }, admin);
      const token = await stack.tokenFor({
        userId,
        username: admin.username,
        role: "admin",
        unitId: tree.cityId,
        unitPath: tree.cityPath,
        unitLevel: "city",
        amr: ["pwd", "otp"],
      });
      let firstFailure = "";
      const rename = async (gridId: string, name: string) => {
        const t0 = performance.now();
        const res = await stack.dispatch(`/v1/units/${gridId}`, {
          method: "PATCH",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ name }),
        });
        const text = await res.text();
        if (res.status !== 200 && !firstFailure) firstFailure = `${res.status} ${text.slice(0, 300)}`;
        return { status: res.status, ms: performance.now() - t0 };
      };
      // Warm-up: bundle compiled, keys imported, connections open.
      await Promise.all(tree.grids.slice(0, CONCURRENCY).map((g) => rename(g.id, "预热")));

      let next = 0;
      let ok = 0;
      let failed = 0;
      const latencies: number[] = [];
      const t0 = performance.now();
      await Promise.all(
        tree.grids.slice(0, CONCURRENCY).map(async (grid) => {
          while (next < WRITES && performance.now() - t0 < RUN_LIMIT_MS) {
            const n = next++;
            const r = await rename(grid.id, `第${n}次改名`);
            latencies.push(r.ms);
            if (r.status === 200) ok++;
            else failed++;
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      if (firstFailure) console.error(`${mode}: first failure: ${firstFailure}`);
      const rows = await stack.db.execute(
        "SELECT count(*) AS n FROM audit_log WHERE action = 'unit.update' AND detail NOT LIKE '%预热%'",
      );
      return {
        mode,
        ok,
        failed,
        seconds,
        perSecond: ok / seconds,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        auditRows: Number(rows.rows[0]!.n),
      };
    },
  );
}

async function main() {
  console.log(
    `bench:audit — ${WRITES} audited renames at concurrency ${CONCURRENCY}, libSQL +${LATENCY_MS} ms per round trip; ` +
      `${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), node ${process.version}`,
  );
  const results: Run[] = [];
  for (const mode of MODES) {
    const r = await run(mode);
    results.push(r);
    console.log(
      `${mode}: ${r.ok} ok, ${r.failed} failed in ${r.seconds.toFixed(2)} s = ${r.perSecond.toFixed(1)} audited writes/s; ` +
        `latency p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms; audit rows ${r.auditRows}`,
    );
    if (r.auditRows !== r.ok)
      console.error(`${mode}: ${r.ok} writes answered 200 but ${r.auditRows} audit rows`);
  }
  const old = results.find((r) => r.mode === "old");
  const now = results.find((r) => r.mode === "new");
  if (old && now) console.log(`ratio new/old: ${(now.perSecond / old.perSecond).toFixed(1)}×`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
