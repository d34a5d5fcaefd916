/**
 * `npm run bench:emergency`: emergency command at a county's size, on one machine.
 *
 * Starts its own stack (scripts/lib/bench-stack.ts: sqld in a temp dir, the Worker under Miniflare with the
 * `emergency-rosters` consumer, loopback only) with a cuttable TCP proxy between the Worker and sqld, inserts
 * the full-size unit tree and BENCH_HOUSEHOLDS households (default 100,000) spread over the grids of one
 * county (5 % red, half of those with a vulnerable resident, 11 % yellow, the rest green), then:
 *   1. declares a flood over the county and times declaration → every grid's roster loaded (polling progress);
 *      with BENCH_CITY=1 also over the whole city (its other grids have no households: the fan-out only);
 *   2. 2,000 check-ins in one minute from 200 simulated responders (one grid each, 10 check-ins each, evenly
 *      spread) while the city centre watches the Server-Sent Events stream: check-in latency p50/p99 and the
 *      delay from sending a check-in to its entry arriving in the city's stream, p50/p99;
 *   3. cuts libSQL (every connection reset, new ones refused) for 30 s while responders keep checking in at
 *      10 a second, restores it, and prints accepted / failed check-ins and whether the county's figures hold
 *      every accepted one (nothing lost).
 * Bounded in count and time; stops by itself and removes its temp and bundle dirs.
 *
 *   npm run bench:emergency
 *   BENCH_HOUSEHOLDS=20000 BENCH_CITY=1 npm run bench:emergency
 */

import { cpus, loadavg } from "node:os";
import {
  cpuByProcess,
  insertBenchUser,
  insertFullCityTree,
  percentile,
  withBenchStack,
} from "../lib/bench-stack";
import { type CuttableProxy, cuttableProxy } from "../lib/cuttable-proxy";

const HOUSEHOLDS = Number(process.env.BENCH_HOUSEHOLDS ?? 100_000);
const CITY = process.env.BENCH_CITY === "1";
/** `town`: declare over one town of the county (its ~280 grids) instead of the whole county, for a quick run. */
const SCOPE = process.env.BENCH_SCOPE === "town" ? "town" : "county";
const RESPONDERS = Number(process.env.BENCH_RESPONDERS ?? 200);
const PER_RESPONDER = Number(process.env.BENCH_PER_RESPONDER ?? 10);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_S ?? 60) * 1000;
/** 0 skips the libSQL cut. */
const OUTAGE_MS = Number(process.env.BENCH_OUTAGE_S ?? 30) * 1000;
const ROSTER_TIMEOUT_MS = 10 * 60_000;

const idOf = (path: string) => path.split("/").filter(Boolean).at(-1)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  let proxy: CuttableProxy | undefined;
  await withBenchStack(
    {
      name: "emergency",
      consumers: ["emergency-rosters"],
      echoErrors: process.env.BENCH_ECHO_ERRORS === "1",
      libsqlVia: async (sqld) => {
        proxy = await cuttableProxy(sqld);
        return proxy.url;
      },
    },
    async (stack) => {
      console.log(
        `machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), shared; everything on loopback`,
      );
      const db = stack.db;
      const tree = await insertFullCityTree(db);
      const countyId = tree.grids[0]!.path.split("/").filter(Boolean)[1]!;
      const countyPath = `${tree.cityPath}${countyId}/`;
      const townId = tree.grids[0]!.path.split("/").filter(Boolean)[2]!;
      const areaId = SCOPE === "town" ? townId : countyId;
      const areaPath = SCOPE === "town" ? `${countyPath}${townId}/` : countyPath;
      const grids = tree.grids.filter((g) => g.path.startsWith(areaPath));
      console.log(
        `unit tree: ${tree.total} units; ${SCOPE} ${areaId.slice(0, 8)}… has ${grids.length} grids; load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")}`,
      );

      // Households, round-robin over the county's grids; residents only where the roster needs a tag.
      const now = new Date().toISOString();
      const byGrid = new Map<string, string[]>();
      let rows: string[] = [];
      let args: Array<string | number> = [];
      let residentRows: string[] = [];
      let residentArgs: Array<string | number> = [];
      let vulnerable = 0;
      const flush = async () => {
        const statements = [];
        if (rows.length) {
          statements.push({
            sql: `INSERT INTO households (id, unit_id, unit_path, address, head_name, income_per_capita, income_stable,
                    computed_class, class, class_reasons, class_since, classified_at, member_count, version, created_at, updated_at)
                  VALUES ${rows.join(",")}`,
            args,
          });
        }
        if (residentRows.length) {
          statements.push({
            sql: `INSERT INTO residents (id, household_id, unit_path, name, gender, birth_date, relationship, tags, version, created_at, updated_at)
                  VALUES ${residentRows.join(",")}`,
            args: residentArgs,
          });
        }
        if (statements.length) await db.batch(statements, "write");
        rows = [];
        args = [];
        residentRows = [];
        residentArgs = [];
      };
      const t0 = performance.now();
      for (let i = 0; i < HOUSEHOLDS; i++) {
        const grid = grids[i % grids.length]!;
        const id = crypto.randomUUID();
        const r = i % 100;
        const cls = r < 5 ? "red" : r < 16 ? "yellow" : "green";
        byGrid.set(grid.path, [...(byGrid.get(grid.path) ?? []), id]);
        rows.push("(?, ?, ?, ?, '户主', 12000, 1, ?, ?, '[]', ?, ?, 1, 1, ?, ?)");
        args.push(id, idOf(grid.path), grid.path, `安康市汉滨区测试路 ${i} 号`, cls, cls, now, now, now, now);
        if (r < 3) {
          vulnerable++;
          residentRows.push(
            "(?, ?, ?, '独居老人', 'female', '1940-**-**', 'head', '[\"elderly_living_alone\"]', 1, ?, ?)",
          );
          residentArgs.push(crypto.randomUUID(), id, grid.path, now, now);
        }
        if (rows.length === 400) await flush();
      }
      await flush();
      console.log(
        `households: ${HOUSEHOLDS} inserted (${vulnerable} with a vulnerable resident) in ${Math.round(performance.now() - t0)} ms`,
      );

      const countyUser = await insertBenchUser(
        db,
        { id: countyId, path: countyPath },
        { username: "bench-county", displayName: "区综治中心", role: "center_staff" },
      );
      const cityUser = await insertBenchUser(db, { id: tree.cityId, path: tree.cityPath });
      const tokenOf = (
        userId: string,
        unitId: string,
        unitPath: string,
        unitLevel: string,
        role: "center_staff" | "grid_worker",
      ) => stack.tokenFor({ userId, role, unitId, unitPath, unitLevel, amr: ["pwd", "otp"] });
      const countyToken = await tokenOf(countyUser, countyId, countyPath, "county", "center_staff");
      const cityToken = await tokenOf(cityUser, tree.cityId, tree.cityPath, "city", "center_staff");
      const api = async (token: string, path: string, body?: unknown) => {
        const res = await stack.dispatch(path, {
          method: body === undefined ? "GET" : "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        return {
          status: res.status,
          body: text ? JSON.parse(text) : null,
          timing: res.headers.get("server-timing") ?? "",
        };
      };

      // Responders: one grid worker in each of 200 grids.
      const responderGrids = grids
        .filter((g) => (byGrid.get(g.path)?.length ?? 0) >= PER_RESPONDER + 5)
        .slice(0, RESPONDERS);
      // One at a time: sqld has a single writer.
      const responders: Array<{ grid: (typeof grids)[number]; households: string[]; token: string }> = [];
      for (const [i, g] of responderGrids.entries()) {
        const userId = await insertBenchUser(
          db,
          { id: idOf(g.path), path: g.path },
          { username: `bench-gw-${i}`, displayName: "网格员", role: "grid_worker" },
        );
        const token = await tokenOf(userId, idOf(g.path), g.path, "grid", "grid_worker");
        responders.push({ grid: g, households: byGrid.get(g.path)!, token });
      }

      // 1. Declaration → every roster.
      const declareAndWait = async (token: string, unitId: string, expected: number, label: string) => {
        const start = performance.now();
        const cpuStart = cpuByProcess();
        const res = await api(token, "/v1/emergencies", {
          kind: "flood",
          level: "I",
          title: `汉江洪水（${label}）`,
          instructions: "逐户联系，弱势群体优先转移。",
          unitIds: [unitId],
        });
        if (res.status !== 201) throw new Error(`declare → ${res.status} ${JSON.stringify(res.body)}`);
        const declaredMs = performance.now() - start;
        let ready = 0;
        let households = 0;
        while (performance.now() - start < ROSTER_TIMEOUT_MS) {
          const p = await api(token, `/v1/emergencies/${res.body.id}/progress`);
          ready = p.body.rostersReady;
          households = p.body.totals.households;
          if (ready >= expected) break;
          await sleep(250);
        }
        const ms = performance.now() - start;
        const cpu = [...cpuByProcess()]
          .map(([name, sec]) => `${name} ${(sec - (cpuStart.get(name) ?? 0)).toFixed(1)} s`)
          .join(", ");
        console.log(
          `${label}: declared in ${Math.round(declaredMs)} ms; ${ready}/${expected} rosters (${households} households) ready ${(ms / 1000).toFixed(1)} s after declaring${ready < expected ? " (TIMED OUT)" : ""}; CPU meanwhile: ${cpu}`,
        );
        return res.body.id as string;
      };
      const eventId = await declareAndWait(countyToken, areaId, grids.length, `${SCOPE} rosters`);

      // The city's stream (SSE over real HTTP), from the current seq.
      const { lastSeq } = (await api(cityToken, `/v1/emergencies/${eventId}/progress`)).body;
      const arrived = new Map<string, number>();
      const abort = new AbortController();
      const streamRes = await fetch(`${stack.url}/v1/emergencies/${eventId}/stream?after=${lastSeq}`, {
        headers: { authorization: `Bearer ${cityToken}` },
        signal: abort.signal,
      });
      const reading = (async () => {
        const reader = streamRes.body!.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          let cut = buffer.indexOf("\n\n");
          while (cut >= 0) {
            const frame = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const data = frame.split("\n").find((l) => l.startsWith("data: "));
            if (data) {
              const entry = JSON.parse(data.slice(6));
              if (entry.type === "checkin") arrived.set(entry.data.checkinId, performance.now());
            }
            cut = buffer.indexOf("\n\n");
          }
        }
      })().catch(() => undefined);

      // The same stream over a WebSocket (Miniflare's client), to tell the transport from the object.
      const arrivedWs = new Map<string, number>();
      const wsRes = await stack.mf.dispatchFetch(
        `${stack.url}/v1/emergencies/${eventId}/stream?after=${lastSeq}`,
        {
          headers: { authorization: `Bearer ${cityToken}`, upgrade: "websocket" },
        },
      );
      const socket = wsRes.webSocket;
      if (socket) {
        socket.addEventListener("message", (m: { data: unknown }) => {
          const entry = JSON.parse(String(m.data));
          if (entry.type === "checkin") arrivedWs.set(entry.data.checkinId, performance.now());
        });
        socket.accept();
      } else console.log(`  WebSocket upgrade answered ${wsRes.status}`);

      // 2. 2,000 check-ins in a minute.
      const sent = new Map<string, number>();
      const latencies: number[] = [];
      /** Per-stage times of each check-in from its Server-Timing header (auth, db, desk = Durable Object calls). */
      const stages = new Map<string, number[]>();
      let failed = 0;
      const checkIn = async (r: (typeof responders)[number], householdId: string, outcome: string) => {
        const id = crypto.randomUUID();
        const start = performance.now();
        sent.set(id, start);
        const res = await api(r.token, `/v1/emergencies/${eventId}/grids/${idOf(r.grid.path)}/check-ins`, {
          checkins: [{ id, householdId, outcome }],
        });
        latencies.push(performance.now() - start);
        for (const m of res.timing.matchAll(/(\w+);dur=([\d.]+)(?:;desc="n=(\d+)")?/g)) {
          stages.set(m[1]!, [...(stages.get(m[1]!) ?? []), Number(m[2])]);
          if (m[3]) stages.set(`${m[1]} calls`, [...(stages.get(`${m[1]} calls`) ?? []), Number(m[3])]);
        }
        if (res.status !== 200) {
          failed++;
          sent.delete(id);
          if (failed <= 3)
            console.log(`  check-in → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        }
        return res.status === 200;
      };
      const gap = WINDOW_MS / PER_RESPONDER;
      const t1 = performance.now();
      const cpuBefore = cpuByProcess();
      await Promise.all(
        responders.map(async (r, i) => {
          await sleep((i / responders.length) * gap);
          for (let k = 0; k < PER_RESPONDER; k++) {
            const due = t1 + (i / responders.length) * gap + k * gap;
            await sleep(Math.max(0, due - performance.now()));
            await checkIn(r, r.households[k]!, k % 3 === 0 ? "not_reached" : "reached_safe");
          }
        }),
      );
      const loadMs = performance.now() - t1;
      const cpuAfter = cpuByProcess();
      await sleep(3_000);
      const delays = [...sent].flatMap(([id, at]) => (arrived.has(id) ? [arrived.get(id)! - at] : []));
      const wsDelays = [...sent].flatMap(([id, at]) => (arrivedWs.has(id) ? [arrivedWs.get(id)! - at] : []));
      const f = (n: number) => n.toFixed(1);
      console.log(
        `check-ins: ${latencies.length} from ${responders.length} responders in ${(loadMs / 1000).toFixed(1)} s, ${failed} failed; latency p50 ${f(percentile(latencies, 50))} ms, p99 ${f(percentile(latencies, 99))} ms (goal ≤ 150)`,
      );
      console.log(
        `  CPU during the check-ins: ${[...cpuAfter]
          .map(([name, sec]) => {
            const used = sec - (cpuBefore.get(name) ?? 0);
            return `${name} ${used.toFixed(1)} s (${((used * 1000) / Math.max(1, latencies.length)).toFixed(1)} ms a check-in)`;
          })
          .join("; ")}`,
      );
      console.log(
        `  per stage (Server-Timing): ${[...stages]
          .map(([k, v]) =>
            k.endsWith("calls")
              ? `${k} mean ${f(v.reduce((a, b) => a + b, 0) / v.length)}`
              : `${k} p50 ${f(percentile(v, 50))} p99 ${f(percentile(v, 99))} ms`,
          )
          .join("; ")}`,
      );
      console.log(
        `city stream: ${delays.length}/${sent.size} check-ins arrived; delay from send p50 ${f(percentile(delays, 50))} ms, p99 ${f(percentile(delays, 99))} ms (goal ≤ 1000)`,
      );

      console.log(
        `city WebSocket: ${wsDelays.length}/${sent.size} check-ins arrived; delay from send p50 ${f(percentile(wsDelays, 50))} ms, p99 ${f(percentile(wsDelays, 99))} ms`,
      );
      socket?.close(1000, "done");

      // 3. libSQL cut for 30 s.
      console.log(
        `load average after the check-ins: ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")}`,
      );
      const before = (await api(countyToken, `/v1/emergencies/${eventId}/progress`)).body.totals;
      proxy!.setCut(true);
      const outageStart = performance.now();
      let accepted = 0;
      let refused = 0;
      const outageLatencies: number[] = [];
      let k = PER_RESPONDER;
      const reachedDuring = new Set<string>();
      while (OUTAGE_MS > 0 && performance.now() - outageStart < OUTAGE_MS) {
        const batch = responders.slice(0, 10).map(async (r, i) => {
          const householdId = r.households[k]!;
          const start = performance.now();
          const ok = await checkIn(r, householdId, "reached_safe").catch(() => false);
          outageLatencies.push(performance.now() - start);
          if (ok) {
            accepted++;
            reachedDuring.add(householdId);
          } else refused++;
          return i;
        });
        await Promise.all(batch);
        k = k + 1 < PER_RESPONDER + 5 ? k + 1 : PER_RESPONDER;
        await sleep(1_000);
      }
      proxy!.setCut(false);
      const probe = await api(countyToken, `/v1/emergencies/${eventId}`);
      await sleep(2_000);
      const after = (await api(countyToken, `/v1/emergencies/${eventId}/progress`)).body.totals;
      console.log(
        `libSQL cut for ${OUTAGE_MS / 1000} s: ${accepted} check-ins accepted, ${refused} refused (p99 ${f(percentile(outageLatencies, 99))} ms); a libSQL read during the cut would 503, after it answers ${probe.status}`,
      );
      console.log(
        `nothing lost: households reached before ${before.reached}, after ${after.reached}, newly reached during the cut ${reachedDuring.size} → ${after.reached - before.reached === reachedDuring.size ? "all there" : "MISSING"}`,
      );
      abort.abort();
      await reading;

      if (CITY) await declareAndWait(cityToken, tree.cityId, tree.grids.length, "city rosters");
      console.log(
        `runtime errors logged by the Worker: ${stack.runtimeErrors.count}`,
        stack.runtimeErrors.samples,
      );
    },
  );
  await proxy?.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
