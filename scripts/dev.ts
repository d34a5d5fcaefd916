/**
 * `npm run dev`: starts a local libSQL server (sqld) with a file database under .data/, applies pending
 * migrations, seeds the demo city once, and runs `wrangler dev` on 127.0.0.1:8787. Ctrl-C stops all of it.
 * `GRID321_PORT` moves the API and `GRID321_SQLD_PORT` sqld (scripts/lib/ports.ts). The cron triggers of
 * wrangler.toml run on their schedule through wrangler's `--test-scheduled` endpoint, as in production.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createClient } from "@libsql/client/web";
import { copyDocsAssets } from "./docs-assets";
import { cronsFromWranglerToml } from "./lib/cron";
import { scheduleCrons } from "./lib/dev-cron";
import { DEV_VARS_PATH, ensureDevVars, moveLegacyDevVars } from "./lib/dev-vars";
import { migrate } from "./lib/migrate";
import { apiUrl, apiPort as configuredApiPort, sqldPort } from "./lib/ports";
import { freePort, startSqld } from "./lib/sqld";
import { WranglerOutput } from "./lib/wrangler-output";
import { seedDemoCases } from "./seed/cases";
import { DEMO_PASSWORD, seedDemo } from "./seed/demo";

const root = new URL("..", import.meta.url).pathname;
let apiPort: number;
let api: string;
let wanted: ReturnType<typeof sqldPort>;
try {
  apiPort = configuredApiPort();
  api = apiUrl();
  wanted = sqldPort();
} catch (error) {
  console.error(`grid321 dev: ${(error as Error).message}`);
  process.exit(2);
}

/** Whether nothing listens on 127.0.0.1:`port` (checked by binding it for a moment). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function waitForApi(api: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stoppingNow()) return false;
    try {
      if ((await fetch(`${api}/health`, { signal: AbortSignal.timeout(2000) })).ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  console.error(`grid321 dev: ${api}/health did not answer within ${timeoutMs / 1000} s`);
  return false;
}

let stoppingFlag = false;
const stoppingNow = () => stoppingFlag;

async function main() {
  if (!(await portIsFree(apiPort))) {
    console.error(
      `grid321 dev: 127.0.0.1:${apiPort} is already in use (another npm run dev?); stop it or set GRID321_PORT`,
    );
    process.exit(1);
  }
  let port = wanted.port;
  if (!(await portIsFree(port))) {
    if (wanted.explicit) {
      console.error(
        `grid321 dev: 127.0.0.1:${port} (GRID321_SQLD_PORT) is already in use; stop what listens there or pick another port`,
      );
      process.exit(1);
    }
    port = await freePort();
  }
  console.log(`grid321 dev: starting sqld on 127.0.0.1:${port} (database in .data/sqld)`);
  const sqld = await startSqld({ dbPath: join(root, ".data", "sqld"), port });
  let stopping = false;
  let wrangler: ReturnType<typeof spawn> | undefined;
  let stopCrons = () => {};

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    stoppingFlag = true;
    stopCrons();
    if (wrangler && wrangler.exitCode === null) {
      wrangler.kill("SIGINT");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          wrangler?.kill("SIGKILL");
          resolve();
        }, 5000);
        wrangler?.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await sqld.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  process.on("SIGHUP", () => void stop(0));

  try {
    const client = createClient({ url: sqld.url });
    const applied = await migrate(client);
    console.log(
      applied.length ? `grid321 dev: applied ${applied.join(", ")}` : "grid321 dev: schema up to date",
    );
    if (await moveLegacyDevVars()) console.log("grid321 dev: moved .dev.vars to .data/dev.vars");
    await ensureDevVars(DEV_VARS_PATH, sqld.url, api);
    await copyDocsAssets();
    const seeded = await seedDemo(client);
    console.log(
      seeded ? "grid321 dev: seeded the demo city (password grid321-demo)" : "grid321 dev: demo city present",
    );
    client.close();
  } catch (error) {
    console.error("grid321 dev: setup failed:", error);
    await stop(1);
    return;
  }

  wrangler = spawn(
    join(root, "node_modules", ".bin", "wrangler"),
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(apiPort),
      "--local",
      "--show-interactive-dev-session=false",
      // wrangler does not run cron triggers locally; this lets the schedule below run them via /__scheduled.
      "--test-scheduled",
      "--env-file",
      DEV_VARS_PATH,
    ],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        // Miniflare otherwise downloads a sample `Request.cf` from workers.cloudflare.com and prints a stack
        // trace when offline; the built-in placeholder is enough locally.
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        // A registry of this checkout only, so other `wrangler dev` sessions on the machine neither see these
        // queues nor make wrangler print the bindings table again.
        WRANGLER_REGISTRY_PATH: join(root, ".wrangler", "registry"),
        ...(process.stdout.isTTY && !process.env.NO_COLOR ? { FORCE_COLOR: "1" } : {}),
      },
    },
  );
  const output = new WranglerOutput();
  if (wrangler.stdout) output.pipe(wrangler.stdout, process.stdout);
  if (wrangler.stderr) output.pipe(wrangler.stderr, process.stderr);
  wrangler.on("exit", (code) => {
    if (!stopping) {
      console.error(`grid321 dev: wrangler exited (${code}); stopping sqld`);
      void stop(code ?? 1);
    }
  });
  if (await waitForApi(api, 90_000)) {
    try {
      const created = await seedDemoCases(api, DEMO_PASSWORD);
      if (created) console.log(`grid321 dev: reported ${created} demo cases`);
    } catch (error) {
      console.error("grid321 dev: demo cases not seeded:", error);
    }
    console.log(`grid321 dev: API on ${api}  (docs: ${api}/docs, health: ${api}/health)`);
    const crons = cronsFromWranglerToml(readFileSync(join(root, "wrangler.toml"), "utf8"));
    if (crons.length && !stoppingNow()) {
      stopCrons = scheduleCrons(api, crons, (line) => console.log(line));
      console.log(`grid321 dev: running the cron triggers of wrangler.toml (${crons.join(", ")}, UTC)`);
    }
  }
}

void main();
