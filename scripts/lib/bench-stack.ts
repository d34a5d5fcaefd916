/**
 * The stack every `npm run bench:*` script measures against, started and stopped in one place:
 *
 *   a fresh sqld (scripts/lib/sqld.ts) on 127.0.0.1 with its database in a temp dir, migrated
 *   (scripts/lib/migrate.ts); the Worker (src/index.ts) bundled once with esbuild into
 *   `.wrangler/tmp/bench-<name>-<random>/` (workerd refuses module paths that climb out of the working
 *   directory, so the bundle lives under the project, in git-ignored .wrangler); and Miniflare on
 *   127.0.0.1 with a random port, configured from wrangler.toml (compatibility date and flags, Durable
 *   Objects with SQLite from the migrations, R2 buckets, every queue producer, and the consumers the bench
 *   asks for with their wrangler.toml batch settings), with generated keys (scripts/lib/dev-keys.ts).
 *
 * With `libsqlLatencyMs` (or BENCH_LIBSQL_LATENCY_MS in the environment) above 0, the Worker reaches sqld
 * through a loopback TCP proxy (startLatencyProxy) that holds every chunk for half that time in each
 * direction, so each libSQL round trip costs what a Worker sees to Turso; `db` still talks to sqld directly.
 *
 * Everything is loopback-only and in memory apart from the sqld temp dir. Use it through `withBenchStack`,
 * which stops the stack in a `finally` (and on SIGINT/SIGTERM), so no sqld or workerd process outlives a
 * run; `startBenchStack` cleans up after itself when it fails half-way, and a detached reaper stops sqld
 * and removes the directories should the bench process die without running any of that (see startReaper).
 *
 *   await withBenchStack({ name: "cases", consumers: ["case-events"] }, async (stack) => {
 *     const tree = await insertUnitTree(stack.db);
 *     const token = await stack.tokenFor({ userId, role: "grid_worker", unitId, unitPath, unitLevel: "grid" });
 *     const res = await stack.dispatch("/v1/cases", { method: "POST", headers: {...}, body });
 *   });
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Client, createClient } from "@libsql/client/web";
import { build, type Plugin } from "esbuild";
import { convertV4MiniflareOptions, Miniflare, type V4QueueConsumerOptions } from "miniflare";
import { unstable_readConfig } from "wrangler";
import type { Principal } from "../../src/env";
import { signAccessToken } from "../../src/platform/crypto/tokens";
import { type CityShape, FULL_CITY, fullCityUnits } from "../gen/city-shape";
import type { GridRef } from "../gen/full-households";
import { generateAuditKey, generateJwtPrivateJwk, generatePiiKey } from "./dev-keys";
import { migrate } from "./migrate";
import { startSqld } from "./sqld";
import { openSqliteFile, type SqliteFile } from "./sqlite-file";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The Worker's vars and secrets for a bench run: local sqld, fresh keys, no CORS origins. */
export interface BenchVars {
  ENVIRONMENT: string;
  LIBSQL_URL: string;
  LIBSQL_AUTH_TOKEN: string;
  JWT_PRIVATE_JWK: string;
  PII_KEY: string;
  AUDIT_KEY: string;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  CORS_ORIGINS: string;
}

export interface BenchStackOptions {
  /** Short name for the temp and bundle directories, e.g. "cases". */
  name: string;
  /**
   * Queues (names as in wrangler.toml) whose consumers run in this bench; their batch size, timeout,
   * retries and dead-letter queue come from wrangler.toml. Producers for every queue are always bound.
   * Default: none (messages are accepted and never consumed).
   */
  consumers?: string[];
  /**
   * The Worker logs one JSON line per request; the stack swallows them and counts the `error` lines in
   * `runtimeErrors`. Set to echo each error line to stderr as it arrives as well (default false).
   */
  echoErrors?: boolean;
  /**
   * Milliseconds added to every libSQL round trip of the Worker by a loopback proxy in front of sqld (half
   * on the way there, half on the way back). Default: BENCH_LIBSQL_LATENCY_MS from the environment, else 0
   * (no proxy).
   */
  libsqlLatencyMs?: number;
  /**
   * Modules of the Worker to bundle from another file, as absolute paths without extension: `{ [src module]:
   * stand-in }`. A bench keeps an old implementation reachable this way, only inside its own run; the
   * stand-in itself still gets the original when it imports it.
   */
  replaceModules?: Record<string, string>;
  /**
   * Puts something of the bench's own between the Worker and sqld (e.g. a proxy it can cut to stage a libSQL
   * outage): called with sqld's loopback address, returns the URL the Worker uses. Ignored with a latency proxy.
   */
  libsqlVia?: (sqld: { host: string; port: number }) => Promise<string>;
  /** Open workerd's inspector on a free loopback port, for CPU profiles. Default: BENCH_PROFILE=1. */
  inspector?: boolean;
  /**
   * Loads the database offline before sqld serves it: called with a client on the plain SQLite file sqld will
   * open (`<db-path>/dbs/default/data`, through `node:sqlite`, scripts/lib/sqlite-file.ts), already migrated by
   * the same `migrate`; the file is checkpointed and closed before sqld starts on it. For bulk data that sqld's
   * replication log would have to carry page by page (see BENCHMARKS.md, "Figures and bulletins").
   */
  prepareDatabase?: (db: Client, file: SqliteFile) => Promise<void>;
}

export interface BenchStack {
  mf: Miniflare;
  /** The Worker's loopback HTTP address, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  sqldUrl: string;
  /** The round-trip latency the Worker's libSQL calls get from the proxy (0: no proxy, LIBSQL_URL is sqld). */
  libsqlLatencyMs: number;
  /** workerd's inspector port when the stack opened one (`inspector`), else null. */
  inspectorPort: number | null;
  /** A raw libSQL client on the bench sqld, for arranging data and probing state; closed by `stop`. */
  db: Client;
  vars: BenchVars;
  /**
   * Error log lines of the Worker so far: the count, the first three (300 characters each), and counts by
   * kind (a JSON line's `kind`, else the first line of its `error`, else the line's first 120 characters).
   */
  runtimeErrors: { count: number; samples: string[]; byKind?: Map<string, number> };
  /** Sends a request straight to the Worker (no TCP); `path` starts with `/`. */
  dispatch(path: string, init?: RequestInit): Promise<Response>;
  /** Signs an access token for `principal` with the run's key; `username` defaults to `userId`. */
  tokenFor(principal: Omit<Principal, "username"> & { username?: string }): Promise<string>;
  /** Disposes Miniflare, stops sqld and removes both directories. Safe to call more than once. */
  stop(): Promise<void>;
  /** sqld's directory of the database (`<db-path>/dbs/default`: data, wallog, snapshots, to_compact). */
  sqldDatabaseDir: string;
}

/** What an error log line is about, for counting: its JSON `kind`, else its `error`'s first line, else its start. */
export function errorLogKind(message: string): string {
  try {
    const line = JSON.parse(message) as { kind?: unknown; error?: unknown; causes?: unknown };
    if (typeof line.kind === "string") return line.kind;
    const causes = Array.isArray(line.causes) && line.causes.length ? ` ← ${line.causes.join(" ← ")}` : "";
    if (typeof line.error === "string") return `${line.error.split("\n")[0]!.slice(0, 160)}${causes}`;
  } catch {
    // not JSON: one of workerd's own lines
  }
  return message.split("\n")[0]!.slice(0, 120);
}

/** The value at percentile `p` (0–100) of `values` (nearest rank, rounded down); NaN when empty. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * The part of wrangler's normalised config the bench reads (wrangler's own `Config` type comes from a
 * package it bundles, so it does not resolve here).
 */
interface WranglerConfigSubset {
  compatibility_date: string;
  compatibility_flags: string[];
  migrations: Array<{ new_sqlite_classes?: string[] }>;
  durable_objects: { bindings: Array<{ name: string; class_name: string }> };
  r2_buckets: Array<{ binding: string }>;
  queues: {
    producers?: Array<{ binding: string; queue: string }>;
    consumers?: Array<{
      queue: string;
      max_batch_size?: number;
      max_batch_timeout?: number;
      max_retries?: number;
      dead_letter_queue?: string;
    }>;
  };
}

/** The Miniflare worker options wrangler.toml describes, for the queues in `consumers`. */
function workerOptionsFromWranglerToml(consumers: string[]) {
  const config = unstable_readConfig({ config: join(ROOT, "wrangler.toml") }) as WranglerConfigSubset;
  const sqliteClasses = new Set(config.migrations.flatMap((m) => m.new_sqlite_classes ?? []));
  const queueConsumers: Record<string, V4QueueConsumerOptions> = {};
  for (const queue of consumers) {
    const c = config.queues.consumers?.find((x) => x.queue === queue);
    if (!c) throw new Error(`wrangler.toml has no [[queues.consumers]] for "${queue}"`);
    queueConsumers[queue] = {
      ...(c.max_batch_size === undefined ? {} : { maxBatchSize: c.max_batch_size }),
      ...(c.max_batch_timeout === undefined ? {} : { maxBatchTimeout: c.max_batch_timeout }),
      ...(c.max_retries === undefined ? {} : { maxRetries: c.max_retries }),
      ...(c.dead_letter_queue === undefined ? {} : { deadLetterQueue: c.dead_letter_queue }),
    };
  }
  return {
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    durableObjects: Object.fromEntries(
      config.durable_objects.bindings.map((b) => [
        b.name,
        { className: b.class_name, useSQLite: sqliteClasses.has(b.class_name) },
      ]),
    ),
    r2Buckets: config.r2_buckets.map((b) => b.binding),
    queueProducers: Object.fromEntries(
      (config.queues.producers ?? []).map((p) => [p.binding, { queueName: p.queue }]),
    ),
    queueConsumers,
  };
}

/** An esbuild plugin that resolves the modules named in `replacements` to their stand-ins. */
function replaceModulesPlugin(replacements: Record<string, string>): Plugin {
  const standIns = new Set(Object.values(replacements));
  return {
    name: "replace-modules",
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => {
        const target = replacements[resolve(args.resolveDir, args.path).replace(/\.ts$/, "")];
        if (!target || standIns.has(args.importer.replace(/\.ts$/, ""))) return undefined;
        return { path: `${target}.ts` };
      });
    },
  };
}

/** Bundles src/index.ts into `outdir/worker.js` the way wrangler would for workerd. */
async function bundleWorker(outdir: string, replacements: Record<string, string> = {}): Promise<string> {
  const bundle = join(outdir, "worker.js");
  await build({
    entryPoints: [join(ROOT, "src/index.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    outfile: bundle,
    logLevel: "error",
    plugins: [replaceModulesPlugin(replacements)],
  });
  return bundle;
}

/** A loopback TCP proxy that delays traffic; see {@link startLatencyProxy}. */
export interface LatencyProxy {
  url: string;
  stop(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 in front of `target` (host:port) that forwards every chunk after `oneWayMs`, in
 * order, in both directions: an HTTP request and its answer each wait once, so a round trip over a kept-alive
 * connection costs `2 × oneWayMs` more. Connects only to loopback.
 */
export async function startLatencyProxy(
  target: { host: string; port: number },
  oneWayMs: number,
): Promise<LatencyProxy> {
  if (target.host !== "127.0.0.1" && target.host !== "localhost") throw new Error("loopback targets only");
  const sockets = new Set<Socket>();
  /** Pipes `from` into `to`, each chunk `oneWayMs` late; timers of equal delay fire in order, so order holds. */
  const delayed = (from: Socket, to: Socket) => {
    from.on("data", (chunk) => {
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, oneWayMs);
    });
    from.on("end", () => setTimeout(() => to.end(), oneWayMs));
    from.on("error", () => to.destroy());
    from.on("close", () => setTimeout(() => to.destroy(), oneWayMs + 1));
  };
  const server: Server = createServer((client) => {
    const upstream = netConnect(target.port, target.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    client.on("close", () => sockets.delete(client));
    upstream.on("close", () => sockets.delete(upstream));
    delayed(client, upstream);
    delayed(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * workerd exits with the Node process that started it (its control pipe closes), sqld does not. Signal
 * handlers cannot cover every way a bench ends (tsx force-kills a child that is slow to acknowledge a
 * relayed Ctrl-C, and SIGKILL runs nothing), so a tiny detached shell polls this process once a second
 * and, once it is gone, stops that one sqld by pid and removes the run's directories. `stop()` ends it first.
 */
function startReaper(sqldPid: number | null, dirs: string[]): ChildProcess {
  // Without a sqld yet (an offline load before it starts) the reaper only removes the directories.
  const script =
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done; if [ "$2" != none ]; then kill "$2" 2>/dev/null; sleep 2; kill -9 "$2" 2>/dev/null; fi; shift 2; rm -rf "$@"';
  const reaper = spawn(
    "sh",
    ["-c", script, "bench-reaper", String(process.pid), String(sqldPid ?? "none"), ...dirs],
    {
      detached: true,
      stdio: "ignore",
    },
  );
  reaper.unref();
  return reaper;
}

/**
 * Has sqld create its (empty) database in `dbPath` and stop cleanly, then opens that file offline, migrates it
 * and hands it to `prepare`, then checkpoints and closes it. Started again on it, sqld finds a clean, empty
 * replication log and serves the loaded file as it is; sqld started on a loaded file without a log would
 * first copy every page into a new log and compact that into a snapshot, two more copies of a
 * multi-gigabyte file. The log then does not hold the loaded pages, which only a replica would read.
 */
async function prepareOffline(
  dbPath: string,
  prepare: NonNullable<BenchStackOptions["prepareDatabase"]>,
  reap: (sqldPid: number | null) => void,
): Promise<string> {
  const init = await startSqld({ dbPath });
  reap(init.process.pid!);
  await init.stop();
  reap(null);
  const dir = join(dbPath, "dbs", "default");
  if (
    !existsSync(join(dir, "data")) ||
    !existsSync(join(dir, "wallog")) ||
    existsSync(join(dir, ".sentinel"))
  )
    throw new Error(`sqld did not leave a clean empty database in ${dir}`);
  const file = openSqliteFile(join(dir, "data"));
  try {
    await migrate(file.client);
    await prepare(file.client, file);
    // sqld runs its databases in WAL mode; the file is handed over in it, with its WAL checkpointed away.
    file.sqlite.exec("PRAGMA journal_mode = WAL");
    file.sqlite.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    file.close();
  }
  return dir;
}

/**
 * Starts sqld (migrated), bundles the Worker and starts it under Miniflare; see the file comment. Call
 * `stop()` in a `finally`, or use `withBenchStack`.
 */
export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const suffix = crypto.randomUUID().slice(0, 8);
  const dataDir = await mkdtemp(join(tmpdir(), `grid321-bench-${options.name}-`));
  const bundleDir = join(ROOT, ".wrangler/tmp", `bench-${options.name}-${suffix}`);
  let sqld: Awaited<ReturnType<typeof startSqld>> | undefined;
  let db: Client | undefined;
  let mf: Miniflare | undefined;
  let proxy: LatencyProxy | undefined;
  let reaper: ChildProcess | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      reaper?.kill();
      db?.close();
      // A runtime that failed to start can throw on dispose; sqld must stop and the dirs go regardless.
      await mf?.dispose().catch((error: unknown) => console.error("miniflare dispose failed:", error));
      await proxy?.stop();
      await sqld?.stop();
      await rm(dataDir, { recursive: true, force: true });
      await rm(bundleDir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    const workerOptions = workerOptionsFromWranglerToml(options.consumers ?? []);
    if (options.prepareDatabase) {
      await prepareOffline(join(dataDir, "db"), options.prepareDatabase, (pid) => {
        reaper?.kill();
        reaper = startReaper(pid, [dataDir, bundleDir]);
      });
      reaper?.kill();
    }
    // Benches measure sqld with its own connection limit, as BENCHMARKS.md's figures were taken.
    sqld = await startSqld({ dbPath: join(dataDir, "db"), maxConcurrentConnections: 128 });
    reaper = startReaper(sqld.process.pid!, [dataDir, bundleDir]);
    db = createClient({ url: sqld.url });
    await migrate(db);
    const libsqlLatencyMs = options.libsqlLatencyMs ?? Number(process.env.BENCH_LIBSQL_LATENCY_MS ?? 0);
    if (libsqlLatencyMs > 0) {
      proxy = await startLatencyProxy({ host: "127.0.0.1", port: sqld.port }, libsqlLatencyMs / 2);
    }
    await mkdir(bundleDir, { recursive: true });
    const bundle = await bundleWorker(bundleDir, options.replaceModules);

    const vars: BenchVars = {
      ENVIRONMENT: "bench",
      LIBSQL_URL:
        proxy?.url ??
        (options.libsqlVia ? await options.libsqlVia({ host: "127.0.0.1", port: sqld.port }) : sqld.url),
      LIBSQL_AUTH_TOKEN: "",
      JWT_PRIVATE_JWK: await generateJwtPrivateJwk(),
      PII_KEY: generatePiiKey(),
      AUDIT_KEY: generateAuditKey(),
      JWT_ISSUER: "https://grid321.bench",
      JWT_AUDIENCE: "grid321-api",
      CORS_ORIGINS: "",
    };
    const runtimeErrors = { count: 0, samples: [] as string[], byKind: new Map<string, number>() };
    const inspectorPort =
      (options.inspector ?? process.env.BENCH_PROFILE === "1") ? await freeLoopbackPort() : null;
    // The familiar v4 option shape, converted for Miniflare 5.
    mf = new Miniflare(
      convertV4MiniflareOptions({
        host: "127.0.0.1",
        port: 0,
        ...(inspectorPort === null ? {} : { inspectorPort }),
        handleStructuredLogs(log) {
          if (log.level !== "error") return;
          if (runtimeErrors.count++ < 3) runtimeErrors.samples.push(log.message.slice(0, 300));
          const kind = errorLogKind(log.message);
          runtimeErrors.byKind.set(kind, (runtimeErrors.byKind.get(kind) ?? 0) + 1);
          if (options.echoErrors) console.error(log.message);
        },
        workers: [
          {
            name: "grid321",
            modules: true,
            scriptPath: bundle,
            modulesRoot: bundleDir,
            bindings: { ...vars },
            ...workerOptions,
          },
        ],
      }),
    );
    const url = (await mf.ready).toString().replace(/\/$/, "");
    const env = vars as unknown as Cloudflare.Env;
    const running = mf;
    return {
      mf: running,
      url,
      sqldUrl: sqld.url,
      libsqlLatencyMs,
      inspectorPort,
      db,
      vars,
      runtimeErrors,
      dispatch: (path, init) =>
        running.dispatchFetch(`${url}${path}`, init as never) as unknown as Promise<Response>,
      tokenFor: (principal) =>
        // A bench's user stands for one after a full login, second factor included.
        signAccessToken(env, {
          amr: ["pwd", "otp"],
          ...principal,
          username: principal.username ?? principal.userId,
        }),
      stop,
      sqldDatabaseDir: join(dataDir, "db", "dbs", "default"),
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Runs `bench` against a fresh stack and always stops it afterwards, also when the bench throws or the
 * process gets SIGINT/SIGTERM (then it exits with 130/143 once the stack is down).
 */
export async function withBenchStack<T>(
  options: BenchStackOptions,
  bench: (stack: BenchStack) => Promise<T>,
): Promise<T> {
  const stack = await startBenchStack(options);
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`${signal}: stopping the bench stack`);
    void stack.stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await bench(stack);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stack.stop();
  }
}

/** One `units` row: id, code, name, parent_id, path, level, grid_level, depth. */
type UnitRow = [string, string, string, string | null, string, string, number | null, number];

/** Inserts unit rows directly with SQL (no audit, no API), 5,000 per statement. */
async function insertUnitRows(db: Client, rows: UnitRow[]): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < rows.length; i += 5_000) {
    await db.execute({
      sql: `INSERT INTO units (id, code, name, parent_id, path, level, grid_level, depth, version, created_at, updated_at)
            SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, 1, ?, ?
            FROM json_each(?)`,
      args: [now, now, JSON.stringify(rows.slice(i, i + 5_000))],
    });
  }
}

export interface UnitRef {
  id: string;
  path: string;
}

export interface SmallTree {
  cityId: string;
  cityPath: string;
  villages: UnitRef[];
  grids: Array<UnitRef & { villageId: string }>;
}

/**
 * A small tree inserted with SQL: 1 city (610900) → 1 county (610902) → `towns` towns → `villagesPerTown`
 * villages (level-1 grids) each → `gridsPerVillage` level-2 grids each. The default is 1,000 grids in 50
 * villages.
 */
export async function insertUnitTree(
  db: Client,
  shape = { towns: 5, villagesPerTown: 10, gridsPerVillage: 20 },
): Promise<SmallTree> {
  const rows: UnitRow[] = [];
  const add = (parent: UnitRef | null, level: string, code: string, gridLevel: number | null): UnitRef => {
    const id = crypto.randomUUID();
    const path = `${parent?.path ?? "/"}${id}/`;
    rows.push([
      id,
      code,
      `${level} ${code}`,
      parent?.id ?? null,
      path,
      level,
      gridLevel,
      path.split("/").length - 3,
    ]);
    return { id, path };
  };
  const city = add(null, "city", "610900", null);
  const county = add(city, "county", "610902", null);
  const tree: SmallTree = { cityId: city.id, cityPath: city.path, villages: [], grids: [] };
  for (let t = 1; t <= shape.towns; t++) {
    const townCode = `610902${String(t).padStart(3, "0")}`;
    const town = add(county, "town", townCode, null);
    for (let v = 1; v <= shape.villagesPerTown; v++) {
      const villageCode = `${townCode}${String(v).padStart(3, "0")}`;
      const village = add(town, "village", villageCode, 1);
      tree.villages.push(village);
      for (let g = 1; g <= shape.gridsPerVillage; g++) {
        const grid = add(village, "grid", `${villageCode}${String(g).padStart(3, "0")}`, 2);
        tree.grids.push({ ...grid, villageId: village.id });
      }
    }
  }
  await insertUnitRows(db, rows);
  return tree;
}

/**
 * The full-size city shape scaled by `scale` (0 < scale ≤ 1): fewer counties (at least one), the same 14
 * towns a county, and villages and grids in the city's proportions. `scale` 1 is FULL_CITY itself.
 */
export function scaledCityShape(scale: number): CityShape {
  if (!(scale > 0 && scale <= 1)) throw new Error(`city scale must be in (0, 1], got ${scale}`);
  if (scale === 1) return FULL_CITY;
  const n = (full: number) => Math.max(1, Math.round(full * scale));
  return {
    counties: n(FULL_CITY.counties),
    townsPerCounty: FULL_CITY.townsPerCounty,
    villages: n(FULL_CITY.villages),
    level2Grids: n(FULL_CITY.level2Grids),
    level3Grids: n(FULL_CITY.level3Grids),
  };
}

/**
 * Inserts the city (610900, 安康市) and the tree scripts/gen/city-shape.ts generates below it (full size by
 * default: 10 counties, 140 towns, 5,916 villages, 16,572 level-2 and 22,838 level-3 grids) with SQL.
 * Returns the city, its grids sorted by code (so each village's grids are contiguous), and counts.
 */
export async function insertFullCityTree(
  db: Client,
  shape: CityShape = FULL_CITY,
): Promise<{
  cityId: string;
  cityPath: string;
  grids: GridRef[];
  total: number;
  byLevel: Record<string, number>;
}> {
  const cityId = crypto.randomUUID();
  const cityCode = "610900";
  const byCode = new Map<string, { id: string; path: string; depth: number; gridLevel: number | null }>();
  byCode.set(cityCode, { id: cityId, path: `/${cityId}/`, depth: 0, gridLevel: null });
  const rows: UnitRow[] = [[cityId, cityCode, "安康市", null, `/${cityId}/`, "city", null, 0]];
  const grids: GridRef[] = [];
  for (const u of fullCityUnits(cityCode, 60, shape)) {
    const parent = byCode.get(u.parentCode)!;
    const id = crypto.randomUUID();
    const gridLevel = u.level === "village" ? 1 : u.level === "grid" ? (parent.gridLevel ?? 1) + 1 : null;
    const self = { id, path: `${parent.path}${id}/`, depth: parent.depth + 1, gridLevel };
    byCode.set(u.code, self);
    rows.push([id, u.code, u.name, parent.id, self.path, u.level, gridLevel, self.depth]);
    if (u.level === "grid") grids.push({ code: u.code, path: self.path });
  }
  await insertUnitRows(db, rows);
  const counts = await db.execute("SELECT level, count(*) AS n FROM units GROUP BY level");
  grids.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  return {
    cityId,
    cityPath: `/${cityId}/`,
    grids,
    total: rows.length,
    byLevel: Object.fromEntries(counts.rows.map((r) => [String(r.level), Number(r.n)])),
  };
}

/**
 * Inserts an enabled user (with an unusable password hash) at `unit` and returns its id, for benches whose
 * routes look the caller up. Defaults to the city centre account `bench-city-centre`.
 */
export async function insertBenchUser(
  db: Client,
  unit: UnitRef,
  user: { username: string; displayName: string; role: Principal["role"] } = {
    username: "bench-city-centre",
    displayName: "市综治中心",
    role: "center_staff",
  },
): Promise<string> {
  const now = new Date().toISOString();
  const userId = crypto.randomUUID();
  await db.execute({
    sql: `INSERT INTO users (id, username, display_name, role, unit_id, unit_path, password_hash, disabled, version, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, 'unused', 0, 1, ?, ?)`,
    args: [userId, user.username, user.displayName, user.role, unit.id, unit.path, now, now],
  });
  return userId;
}

/**
 * CPU seconds used so far by this process and each process below it (workerd, sqld), by command name, from
 * /proc (Linux; empty elsewhere): a phase's CPU per request tells work from waiting.
 */
export function cpuByProcess(): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync("/proc/self/stat")) return out;
  const stats = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((pid) => {
      try {
        const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
        const close = raw.lastIndexOf(")");
        const comm = raw.slice(raw.indexOf("(") + 1, close);
        const f = raw.slice(close + 2).split(" ");
        return [{ pid: Number(pid), comm, ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / 100 }];
      } catch {
        return [];
      }
    });
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of stats)
      if (!mine.has(p.pid) && mine.has(p.ppid)) {
        mine.add(p.pid);
        grew = true;
      }
  }
  for (const p of stats) {
    if (!mine.has(p.pid)) continue;
    const name = p.pid === process.pid ? "bench (node)" : p.comm;
    out.set(name, (out.get(name) ?? 0) + p.cpu);
  }
  return out;
}

/** A loopback TCP port free at the time of asking. */
async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no loopback port");
  return address.port;
}
