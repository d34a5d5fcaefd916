/**
 * `npm run bench:cases`: the case loop under a bounded loopback load.
 *
 * Starts its own sqld in a temp dir (scripts/lib/sqld.ts), migrates it, inserts a tree with 1,000 grids
 * (1 city, 1 county, 5 towns, 50 villages, 20 grids each), starts the Worker with the Miniflare API
 * (GridDesk Durable Objects, R2, the case-events queue and its consumer; no wrangler dev proxy) and prints:
 *   - the ceiling: throughput of a trivial route (GET /.well-known/jwks.json) in the same run;
 *   - case creation spread over 1,000 grids: throughput, p50/p99 (closed loop), and p50/p99 at a fixed
 *     200 creates/s (open loop);
 *   - commands on one hot grid: throughput, p50/p99;
 *   - creation throughput / ceiling;
 *   - projection lag: from a 201 until the case is listed by GET /v1/cases, p50/p99.
 * With BENCH_LIBSQL_LATENCY_MS=20 every libSQL round trip of the Worker takes 20 ms more (a loopback proxy, as
 * Turso is from a Worker). With BENCH_LIBSQL_OUTAGE=1 libSQL is cut for the middle third of each open-loop
 * phase (a proxy that resets and refuses connections, sqld itself running): the bench counts what was
 * answered during the cut and, after the projection drained, checks that every case answered 201 is projected.
 * Every phase has a fixed request count or duration, so the run stops by itself.
 *
 *   npm run bench:cases     # BENCH_CONCURRENCY=32 BENCH_CREATES=3000 BENCH_COMMANDS=2000 BENCH_LAG=60
 */
import { cpus } from "node:os";
import {
  cpuByProcess,
  insertBenchUser,
  insertUnitTree,
  percentile,
  withBenchStack,
} from "../lib/bench-stack";
import { connectProfiler, type FunctionTime, type ProfileTimes } from "../lib/cpu-profile";
import { type CuttableProxy, cuttableProxy } from "../lib/cuttable-proxy";

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const CEILING_REQUESTS = Number(process.env.BENCH_CEILING ?? 4000);
const CREATES = Number(process.env.BENCH_CREATES ?? 3000);
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 2000);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 10);
/** Commands per second offered to the hot grid in its open-loop phase. */
const HOT_RATE = Number(process.env.BENCH_HOT_RATE ?? 100);
const LAG_SAMPLES = Number(process.env.BENCH_LAG ?? 60);
/** How many of the 1,000 grids the creation phases spread over (fewer isolates the per-desk cost). */
const SPREAD = Number(process.env.BENCH_SPREAD ?? 1000);
/** Cut libSQL for the middle third of each open-loop phase. */
const OUTAGE = process.env.BENCH_LIBSQL_OUTAGE === "1";
/**
 * Give every desk its rules before the load, as production desks have them (pushed when their unit is created
 * or a policy changes): a time-limit policy per village, each PUT pushing into its 20 grids' desks. Without
 * it (the default, as the code before desks kept rules was measured) each fresh desk reads its rules from
 * libSQL inside its first report.
 */
const WARM_DESKS = process.env.BENCH_WARM_DESKS === "1";
const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Runs `total` requests with `concurrency` in flight; returns latencies (ms) and the wall time (s). */
async function closedLoop(total: number, concurrency: number, request: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await request(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

/** Starts `rate` requests per second for `seconds`, whatever the responses do (an open loop). */
async function openLoop(rate: number, seconds: number, request: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  const total = rate * seconds;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      (async () => {
        const t = performance.now();
        await request(i);
        latencies.push(performance.now() - t);
      })(),
    );
  }
  await Promise.all(inFlight);
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

/** Cuts `proxy` from a third to two thirds of `seconds` from now; resolves once the line is joined again. */
function cutMiddleThird(proxy: CuttableProxy | undefined, seconds: number): Promise<void> {
  if (!proxy) return Promise.resolve();
  return new Promise((resolve) => {
    setTimeout(() => proxy.setCut(true), (seconds * 1000) / 3);
    setTimeout(
      () => {
        proxy.setCut(false);
        resolve();
      },
      (seconds * 2000) / 3,
    );
  });
}

async function main() {
  let proxy: CuttableProxy | undefined;
  const libsqlVia = OUTAGE
    ? async (sqld: { host: string; port: number }) => {
        proxy = await cuttableProxy(sqld);
        return proxy.url;
      }
    : undefined;
  await withBenchStack({ name: "cases", consumers: ["case-events"], libsqlVia }, async (stack) => {
    const { tokenFor, runtimeErrors } = stack;
    const base = stack.url;
    const tree = await insertUnitTree(stack.db);

    // Real users: tokens of unknown users are refused by the session check.
    const user = (
      unit: { id: string; path: string },
      role: "grid_worker" | "center_staff" | "leader",
      name: string,
    ) => insertBenchUser(stack.db, unit, { username: name, displayName: name, role });
    // One at a time: sqld has one writer.
    const gridUsers: string[] = [];
    for (const [i, g] of tree.grids.entries()) gridUsers.push(await user(g, "grid_worker", `bench-gw-${i}`));
    const gridTokens = await Promise.all(
      tree.grids.map((g, i) =>
        tokenFor({
          userId: gridUsers[i]!,
          role: "grid_worker",
          unitId: g.id,
          unitPath: g.path,
          unitLevel: "grid",
        }),
      ),
    );
    const hotVillage = tree.villages[0]!;
    const centreToken = await tokenFor({
      userId: await user(hotVillage, "center_staff", "bench-village-centre"),
      role: "center_staff",
      unitId: hotVillage.id,
      unitPath: hotVillage.path,
      unitLevel: "village",
    });
    const cityToken = await tokenFor({
      userId: await user({ id: tree.cityId, path: `/${tree.cityId}/` }, "leader", "bench-city-leader"),
      role: "leader",
      unitId: tree.cityId,
      unitPath: `/${tree.cityId}/`,
      unitLevel: "city",
    });

    let warmedIn: number | null = null;
    if (WARM_DESKS) {
      const staff = await tokenFor({
        userId: await user(
          { id: tree.cityId, path: `/${tree.cityId}/` },
          "center_staff",
          "bench-city-centre",
        ),
        role: "center_staff",
        unitId: tree.cityId,
        unitPath: `/${tree.cityId}/`,
        unitLevel: "city",
      });
      const started = performance.now();
      for (const village of tree.villages) {
        const res = await fetch(`${base}/v1/units/${village.id}/sla-policy`, {
          method: "PUT",
          headers: { authorization: `Bearer ${staff}`, "content-type": "application/json" },
          body: JSON.stringify({
            rules: [
              {
                caseType: "*",
                severity: "critical",
                acceptWithinSeconds: 600,
                acceptWarnBeforeSeconds: 120,
                resolveWithinSeconds: 3600,
                resolveWarnBeforeSeconds: 600,
                escalateGraceSeconds: 300,
              },
            ],
          }),
        });
        if (res.status !== 200) throw new Error(`village policy: ${res.status} ${await res.text()}`);
      }
      warmedIn = (performance.now() - started) / 1000;
    }

    let failures = 0;
    let sentEvents = 0;
    /** Every case answered 201, to find each of them in the projection at the end. */
    const createdIds: string[] = [];
    // Server-Timing of every response, summed per phase: where each request spent its time.
    let phase = "warm-up";
    const timing = new Map<string, { n: number; sums: Map<string, { ms: number; count: number }> }>();
    const record = (header: string | null) => {
      if (!header) return;
      const bucket = timing.get(phase) ?? { n: 0, sums: new Map() };
      bucket.n++;
      for (const part of header.split(", ")) {
        const [name, ...params] = part.split(";");
        const dur = Number(params.find((x) => x.startsWith("dur="))?.slice(4) ?? 0);
        const count = Number(params.find((x) => x.startsWith('desc="n='))?.slice(8, -1) ?? 0);
        const sum = bucket.sums.get(name!) ?? { ms: 0, count: 0 };
        sum.ms += dur;
        sum.count += count;
        bucket.sums.set(name!, sum);
      }
      timing.set(phase, bucket);
    };
    // Every non-2xx, counted per phase by status and problem type, with one detail each: what the cause was.
    const failuresByKind = new Map<string, Map<string, { n: number; detail: string }>>();
    const recordFailure = (status: number, json: any, text: string, retryAfter: string | null) => {
      const type =
        typeof json?.type === "string" ? json.type.replace(/^.*\/problems\//, "") : "(not a problem)";
      const key = `${status} ${type}${retryAfter === null ? "" : ` retry-after=${retryAfter}`}`;
      const kinds = failuresByKind.get(phase) ?? new Map();
      const entry = kinds.get(key) ?? { n: 0, detail: String(json?.detail ?? text).slice(0, 200) };
      entry.n++;
      kinds.set(key, entry);
      failuresByKind.set(phase, kinds);
    };
    const send = async (
      path: string,
      token: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const res = await fetch(`${base}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      record(res.headers.get("server-timing"));
      if (res.status === 201 || (res.status === 200 && body !== undefined)) sentEvents++;
      const json = text.startsWith("{") ? (JSON.parse(text) as any) : { text };
      if (res.status === 201 && typeof json.id === "string") createdIds.push(json.id);
      if (res.status >= 300) {
        failures++;
        recordFailure(res.status, json, text, res.headers.get("retry-after"));
      }
      return { status: res.status, body: json };
    };
    const report = (gridIndex: number, title: string) => ({
      id: crypto.randomUUID(),
      type: "safety_hazard",
      severity: "normal",
      title,
      description: "Loose cable over the lane",
      // Spread over a few km around Ankang, so duplicate hints find a few neighbours.
      location: { lat: 32.68 + (gridIndex % 50) * 0.001, lng: 109.02 + Math.random() * 0.01 },
    });

    // Warm-up: the isolate, the libSQL client, a few desks.
    for (let i = 0; i < 50; i++) {
      await send("/.well-known/jwks.json", cityToken);
      await send("/v1/cases", gridTokens[i]!, report(i, `warm ${i}`));
    }

    // CPU milliseconds a request, per process, over a closed-loop phase: work as opposed to waiting.
    const cpuPerRequest = new Map<string, Map<string, number>>();
    // With BENCH_PROFILE=1, also a V8 profile of the Worker's isolate over each closed-loop phase.
    const profiler = stack.inspectorPort === null ? null : await connectProfiler(stack.inspectorPort);
    const profiles = new Map<string, ProfileTimes>();
    const measuringCpu = async <T>(label: string, requests: number, run: () => Promise<T>) => {
      await profiler?.start();
      const before = cpuByProcess();
      const result = await run();
      const after = cpuByProcess();
      if (profiler) profiles.set(label, await profiler.stop());
      const per = new Map<string, number>();
      for (const [name, seconds] of after)
        per.set(name, ((seconds - (before.get(name) ?? 0)) * 1000) / requests);
      cpuPerRequest.set(label, per);
      return result;
    };

    // 1. Ceiling.
    failures = 0;
    const ceiling = await measuringCpu("ceiling", CEILING_REQUESTS, () =>
      closedLoop(CEILING_REQUESTS, CONCURRENCY, async () => {
        await send("/.well-known/jwks.json", cityToken);
      }),
    );
    const ceilingRps = CEILING_REQUESTS / ceiling.seconds;
    const ceilingFailures = failures;
    // For reading the figures: an authenticated call that reaches a GridDesk (no libSQL, no writes).
    const deskRead = await closedLoop(CEILING_REQUESTS / 2, CONCURRENCY, async (i) => {
      const g = i % tree.grids.length;
      await send(`/v1/grids/${tree.grids[g]!.id}/cases?limit=1`, gridTokens[g]!);
    });

    // 2. Creation spread over 1,000 grids (closed loop, then a fixed 200/s).
    failures = 0;
    phase = "create (closed loop)";
    const create = await measuringCpu("create (closed loop)", CREATES, () =>
      closedLoop(CREATES, CONCURRENCY, async (i) => {
        const g = Math.floor(Math.random() * Math.min(SPREAD, tree.grids.length));
        const res = await send("/v1/cases", gridTokens[g]!, report(g, `bench ${i}`));
        // A 503 (overload, with Retry-After) is counted in the non-2xx table; anything else stops the bench.
        if (res.status !== 201 && res.status !== 503)
          throw new Error(`create → ${res.status} ${JSON.stringify(res.body)}`);
      }),
    );
    const createRps = CREATES / create.seconds;
    const createFailures = failures;
    failures = 0;
    phase = `create at ${RATE}/s`;
    const pacedCut = cutMiddleThird(proxy, RATE_SECONDS);
    const paced = await openLoop(RATE, RATE_SECONDS, async (i) => {
      const g = Math.floor(Math.random() * Math.min(SPREAD, tree.grids.length));
      await send("/v1/cases", gridTokens[g]!, report(g, `paced ${i}`));
    });
    await pacedCut;
    const pacedFailures = failures;

    // 3. Commands on one hot grid: many cases of one desk walked through accept → resolve → visit → close → reopen → ….
    const hotCases: Array<{ id: string; version: number; step: number }> = [];
    for (let i = 0; i < CONCURRENCY * 2; i++) {
      const res = await send("/v1/cases", gridTokens[0]!, report(0, `hot ${i}`));
      hotCases.push({ id: res.body.id, version: 1, step: 0 });
    }
    const cycle: Array<[string, unknown]> = [
      ["accept", {}],
      ["resolve", { note: "Fixed" }],
      ["return-visit", { satisfaction: "satisfied" }],
      ["close", {}],
      ["reopen", { reason: "Came back" }],
      ["resolve", { note: "Fixed again" }],
      ["return-visit", { satisfaction: "satisfied" }],
      ["close", {}],
    ];
    failures = 0;
    phase = "commands (closed loop)";
    const idle = [...hotCases];
    // Each case is driven by one request at a time: a worker takes an idle case and gives it back.
    const step = async () => {
      const c = idle.shift();
      if (!c) return false;
      const [action, body] =
        c.step < cycle.length ? cycle[c.step]! : cycle[4 + ((c.step - cycle.length) % 4)]!;
      const res = await send(`/v1/cases/${c.id}/${action}`, centreToken, body, {
        "if-match": `"${c.version}"`,
      });
      if (res.status === 503) {
        idle.push(c); // refused under overload (counted): the same step again later
        return true;
      }
      if (res.status !== 200) throw new Error(`${action} → ${res.status} ${JSON.stringify(res.body)}`);
      c.version = res.body.version;
      c.step++;
      idle.push(c);
      return true;
    };
    const commands = await measuringCpu("commands (closed loop)", COMMANDS, () =>
      closedLoop(COMMANDS, CONCURRENCY, async () => {
        await step();
      }),
    );
    const commandRps = COMMANDS / commands.seconds;
    const commandFailures = failures;
    failures = 0;
    phase = `commands at ${HOT_RATE}/s`;
    let hotSkipped = 0;
    const hotCut = cutMiddleThird(proxy, RATE_SECONDS);
    const hotPaced = await openLoop(HOT_RATE, RATE_SECONDS, async () => {
      if (!(await step())) hotSkipped++;
    });
    await hotCut;
    const hotPacedFailures = failures;
    phase = "projection lag";

    // Let the projection drain what the load phases produced before timing single cases.
    const drainStarted = performance.now();
    let projectedEvents = 0;
    for (;;) {
      const row = (await stack.db.execute("SELECT count(*) AS n FROM case_events")).rows[0]!;
      projectedEvents = Number(row.n);
      if (projectedEvents >= sentEvents) break;
      if (performance.now() - drainStarted > 300_000)
        throw new Error(`projection stuck at ${projectedEvents}/${sentEvents}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    // Every case answered 201 must be in the projection, whatever libSQL went through meanwhile.
    const answered = createdIds.length;
    let projectedCases = 0;
    for (let i = 0; i < answered; i += 500) {
      const ids = createdIds.slice(i, Math.min(answered, i + 500));
      const row = (
        await stack.db.execute({
          sql: `SELECT count(*) AS n FROM cases WHERE id IN (${ids.map(() => "?").join(", ")})`,
          args: ids,
        })
      ).rows[0]!;
      projectedCases += Number(row.n);
    }

    // 4. Projection lag: a 201, then GET /v1/cases until the case is listed.
    const lags: number[] = [];
    for (let i = 0; i < LAG_SAMPLES; i++) {
      const g = Math.floor(Math.random() * tree.grids.length);
      const title = `lag-${crypto.randomUUID()}`;
      const created = await send("/v1/cases", gridTokens[g]!, report(g, title));
      const t = performance.now();
      for (;;) {
        const list = await send(`/v1/cases?q=${title}&limit=1`, cityToken);
        if (list.body.items?.some((c: { id: string }) => c.id === created.body.id)) break;
        if (performance.now() - t > 30_000) throw new Error("projection did not catch up in 30 s");
        await new Promise((r) => setTimeout(r, 20));
      }
      lags.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, Math.random() * 300));
    }

    const line = (label: string, value: string) => console.log(`${label.padEnd(44)} ${value}`);
    console.log("");
    console.log(
      `machine: ${cpus().length} CPUs (${cpus()[0]?.model}), node ${process.version}; load generator, workerd and sqld share them`,
    );
    console.log(
      `tree: ${tree.grids.length} grids in ${tree.villages.length} villages; concurrency ${CONCURRENCY}`,
    );
    console.log(
      warmedIn === null
        ? "desks: fresh, each reads its rules inside its first report (BENCH_WARM_DESKS=1 gives them their rules first)"
        : `desks: given their rules first, ${tree.villages.length} village policies pushed into ${tree.villages.length + tree.grids.length} desks in ${warmedIn.toFixed(1)} s`,
    );
    console.log(
      `libSQL: ${stack.libsqlLatencyMs ? `+${stack.libsqlLatencyMs} ms a round trip (proxy)` : "direct"}${OUTAGE ? `, cut for the middle third (${(RATE_SECONDS / 3).toFixed(1)} s) of each open-loop phase` : ""}`,
    );
    line(
      "ceiling GET /.well-known/jwks.json",
      `${Math.round(ceilingRps)} req/s (p50 ${ms(percentile(ceiling.latencies, 50))}, p99 ${ms(percentile(ceiling.latencies, 99))})`,
    );
    line(
      `create over ${Math.min(SPREAD, tree.grids.length)} grids (${CREATES}, closed loop)`,
      `${Math.round(createRps)} req/s, p50 ${ms(percentile(create.latencies, 50))}, p99 ${ms(percentile(create.latencies, 99))}`,
    );
    line(
      `create at ${RATE}/s for ${RATE_SECONDS} s (open loop)`,
      `achieved ${Math.round(paced.latencies.length / paced.seconds)} req/s (${(paced.latencies.length / paced.seconds / ceilingRps).toFixed(2)} of the ceiling), p50 ${ms(percentile(paced.latencies, 50))}, p99 ${ms(percentile(paced.latencies, 99))}`,
    );
    line(
      `commands on one hot grid (${COMMANDS})`,
      `${Math.round(commandRps)} req/s, p50 ${ms(percentile(commands.latencies, 50))}, p99 ${ms(percentile(commands.latencies, 99))}`,
    );
    line(
      `commands on one hot grid at ${HOT_RATE}/s for ${RATE_SECONDS} s`,
      `achieved ${Math.round(hotPaced.latencies.length / hotPaced.seconds)} req/s, p50 ${ms(percentile(hotPaced.latencies, 50))}, p99 ${ms(percentile(hotPaced.latencies, 99))}, ${hotSkipped} skipped (no idle case), ${hotPacedFailures} non-2xx`,
    );
    line("creation / ceiling", (createRps / ceilingRps).toFixed(2));
    line(
      "for reference: GET /v1/grids/{id}/cases",
      `${Math.round(deskRead.latencies.length / deskRead.seconds)} req/s, p50 ${ms(percentile(deskRead.latencies, 50))}, p99 ${ms(percentile(deskRead.latencies, 99))}`,
    );
    line(
      "projection drain after the load phases",
      `${projectedEvents} events total, backlog gone ${drainSeconds.toFixed(1)} s after the last command`,
    );
    line(
      "cases answered 201 in the load phases / projected",
      `${answered} / ${projectedCases} (missing ${answered - projectedCases})`,
    );
    line(
      `projection lag (${LAG_SAMPLES} samples)`,
      `p50 ${ms(percentile(lags, 50))}, p99 ${ms(percentile(lags, 99))}`,
    );
    line(
      "non-2xx responses (ceiling/create/paced/cmd)",
      `${ceilingFailures}/${createFailures}/${pacedFailures}/${commandFailures}`,
    );
    line("runtime error log lines", String(runtimeErrors.count));
    console.log("\nServer-Timing, mean per request (ms; round trips per request in brackets):");
    for (const [name, bucket] of timing) {
      if (name === "warm-up") continue;
      const cell = (metric: string) => {
        const sum = bucket.sums.get(metric);
        if (!sum) return `${metric} -`;
        const calls = metric === "total" ? "" : ` [${(sum.count / bucket.n).toFixed(2)}]`;
        return `${metric} ${(sum.ms / bucket.n).toFixed(1)}${calls}`;
      };
      line(`  ${name} (${bucket.n})`, ["auth", "db", "desk", "queue", "total"].map(cell).join(", "));
    }
    console.log(
      "\nCPU a request, ms, by process, over each closed-loop phase (work done meanwhile by the projection included):",
    );
    for (const [label, per] of cpuPerRequest) {
      const total = [...per.values()].reduce((a, b) => a + b, 0);
      line(
        `  ${label}`,
        `${[...per]
          .filter(([, v]) => v >= 0.05)
          .map(([name, v]) => `${name} ${v.toFixed(2)}`)
          .join(", ")}; all ${total.toFixed(2)}`,
      );
    }
    const cpuOf = (label: string) =>
      [...(cpuPerRequest.get(label)?.values() ?? [])].reduce((a, b) => a + b, 0);
    if (cpuOf("create (closed loop)") > 0)
      line(
        "  ceiling CPU / create CPU",
        `${(cpuOf("ceiling") / cpuOf("create (closed loop)")).toFixed(2)} (the most creation / ceiling can reach while the machine's CPUs are the bound)`,
      );
    for (const [label, profile] of profiles) {
      const rows = (list: FunctionTime[], n: number) =>
        list
          .slice(0, n)
          .map(
            (t) =>
              `    ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.ms.toFixed(0).padStart(6)} ms  ${t.fn}`,
          )
          .join("\n");
      console.log(`\nWorker isolate profile, ${label}: ${profile.totalMs.toFixed(0)} ms sampled`);
      console.log(`  self time:\n${rows(profile.self, 25)}`);
      console.log(`  inclusive time:\n${rows(profile.inclusive, 60)}`);
      console.log(`  native calls by their caller:\n${rows(profile.nativeByCaller, 25)}`);
    }
    profiler?.close();
    console.log("\nnon-2xx responses by phase, status and problem type:");
    if (failuresByKind.size === 0) console.log("  none");
    for (const [name, kinds] of failuresByKind)
      for (const [key, { n, detail }] of kinds) console.log(`  ${name}: ${n} × ${key} (${detail})`);
    console.log("\nruntime error log lines by kind:");
    for (const [kind, n] of runtimeErrors.byKind ?? []) console.log(`  ${n} × ${kind}`);
    for (const sample of runtimeErrors.samples) console.log(`  ${sample}`);
  });
  await proxy?.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
