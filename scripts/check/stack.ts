/**
 * A throw-away copy of the `npm run dev` stack for the checks (`npm run check:docs`, `npm run demo`): sqld on a
 * free loopback port with its database in a fresh temp dir, the migrations, local secrets in that dir, the demo
 * city (scripts/seed/demo.ts), then `wrangler dev` on another free port with its own Durable Object state,
 * dev registry and inspector port, so it runs beside a developer's `npm run dev` without touching `.data/` or
 * `.wrangler/state`. With `seedCases` the demo cases are reported through the API as `npm run dev` does, so
 * what the checks see is what a fresh clone sees.
 *
 * `stop()` ends wrangler's whole process group (wrangler and its workerd) and sqld and removes the temp dir;
 * SIGINT, SIGTERM and SIGHUP run it too.
 *
 * @example
 *   const stack = await startDevStack({ name: "docs" });
 *   try { await fetch(`${stack.url}/docs`); } finally { await stack.stop(); }
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client/web";
import { copyDocsAssets } from "../docs-assets";
import { ensureDevVars } from "../lib/dev-vars";
import { migrate } from "../lib/migrate";
import { freePort, type SqldServer, startSqld } from "../lib/sqld";
import { seedDemoCases } from "../seed/cases";
import { DEMO_PASSWORD, seedDemo } from "../seed/demo";

const ROOT = new URL("../../", import.meta.url).pathname;

export interface DevStackOptions {
  /** Short name for the temp dir, e.g. "docs". */
  name: string;
  /** Report the demo cases through the API after start-up, as `npm run dev` does (default false). */
  seedCases?: boolean;
  /** How long wrangler may take to answer `/health` (default 120 s). */
  startTimeoutMs?: number;
}

export interface DevStack {
  /** The API on loopback, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  sqldUrl: string;
  dataDir: string;
  /** Why the demo cases could not all be reported (`seedCases`), as `npm run dev` would print it. */
  seedError?: string;
  /** wrangler's output so far (the last 400 lines), for a failure report. */
  log(): string;
  /** Stops wrangler (and workerd) and sqld and removes the temp dir. Safe to call more than once. */
  stop(): Promise<void>;
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`wrangler dev exited early (${child.exitCode ?? child.signalCode})`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url}/health did not answer within ${timeoutMs / 1000} s`);
}

/** Sends `signal` to the process group led by `child` (spawned with `detached: true`). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Starts the stack described above; on failure it stops what it started and rethrows. */
export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const dataDir = await mkdtemp(join(tmpdir(), `grid321-${options.name}-`));
  const lines: string[] = [];
  let sqld: SqldServer | undefined;
  let wrangler: ChildProcess | undefined;
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (wrangler && wrangler.exitCode === null && wrangler.signalCode === null) {
      const exited = new Promise<void>((resolve) => wrangler!.once("exit", () => resolve()));
      signalGroup(wrangler, "SIGINT");
      const timer = setTimeout(() => signalGroup(wrangler!, "SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    // workerd may outlive wrangler for a moment; the group is ours alone.
    if (wrangler) signalGroup(wrangler, "SIGKILL");
    await sqld?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  const onSignal = () => void stop().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("SIGHUP", onSignal);

  try {
    sqld = await startSqld({ dbPath: join(dataDir, "sqld") });
    const apiPort = await freePort();
    const url = `http://127.0.0.1:${apiPort}`;
    const varsPath = join(dataDir, "dev.vars");
    const client = createClient({ url: sqld.url });
    await migrate(client);
    const vars = await ensureDevVars(varsPath, sqld.url, url);
    // The demo seed seals ID numbers and the admin's TOTP secret; it must use this stack's key.
    process.env.PII_KEY = vars.get("PII_KEY");
    await copyDocsAssets();
    await seedDemo(client);
    client.close();

    wrangler = spawn(
      join(ROOT, "node_modules", ".bin", "wrangler"),
      [
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(apiPort),
        "--inspector-port",
        String(await freePort()),
        "--local",
        "--show-interactive-dev-session=false",
        "--test-scheduled",
        "--persist-to",
        join(dataDir, "state"),
        "--env-file",
        varsPath,
      ],
      {
        cwd: ROOT,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          WRANGLER_SEND_METRICS: "false",
          CLOUDFLARE_CF_FETCH_ENABLED: "false",
          WRANGLER_REGISTRY_PATH: join(dataDir, "registry"),
          NO_COLOR: "1",
        },
      },
    );
    const keep = (chunk: Buffer) => {
      lines.push(...chunk.toString("utf8").split("\n"));
      if (lines.length > 400) lines.splice(0, lines.length - 400);
    };
    wrangler.stdout?.on("data", keep);
    wrangler.stderr?.on("data", keep);
    await waitForHealth(url, wrangler, options.startTimeoutMs ?? 120_000);
    let seedError: string | undefined;
    if (options.seedCases) {
      // As under `npm run dev`, a failing demo case is reported and the stack stays up.
      await seedDemoCases(url, DEMO_PASSWORD).catch((error: Error) => {
        seedError = error.message;
      });
    }
    return { url, sqldUrl: sqld.url, dataDir, seedError, log: () => lines.join("\n"), stop };
  } catch (error) {
    if (lines.length) console.error(`wrangler dev said:\n${lines.slice(-60).join("\n")}`);
    await stop();
    throw error;
  }
}

/**
 * Runs `body` against a fresh stack and stops it afterwards, whatever happens; gives up after `limitMs`
 * (stopping everything and exiting 1) so a check never hangs CI.
 */
export async function withDevStack<T>(
  options: DevStackOptions & { limitMs: number },
  body: (stack: DevStack) => Promise<T>,
): Promise<T> {
  let stack: DevStack | undefined;
  const limit = setTimeout(() => {
    console.error(`${options.name}: gave up after ${options.limitMs / 1000} s`);
    void (stack?.stop() ?? Promise.resolve()).then(() => process.exit(1));
  }, options.limitMs);
  try {
    stack = await startDevStack(options);
    return await body(stack);
  } finally {
    clearTimeout(limit);
    await stack?.stop();
  }
}
