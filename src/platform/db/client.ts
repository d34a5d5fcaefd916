import { type Client, createClient, LibsqlError } from "@libsql/client/web";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import { drizzle } from "drizzle-orm/libsql/web";
import * as schema from "../../db/schema";
import { timedFetch } from "../http/timing";
import { fetchReportingOutages, isDbOverloaded } from "./errors";

export type Db = LibSQLDatabase<typeof schema> & { $client: Client };

const cache = new Map<string, Db>();

/**
 * The libSQL database for this environment (Turso in production, the local sqld in development).
 * One HTTP client per isolate and URL; every query is one HTTP round trip, so batch where possible.
 */
export function getDb(env: Pick<Cloudflare.Env, "LIBSQL_URL" | "LIBSQL_AUTH_TOKEN">): Db {
  const key = `${env.LIBSQL_URL}|${env.LIBSQL_AUTH_TOKEN ?? ""}`;
  let db = cache.get(key);
  if (!db) {
    // The client is shared by every request of the isolate. Its default limit of 20 queries in flight would
    // park the 21st concurrent request on a promise that only another request can resolve, and workerd
    // cancels such a request as hung; the runtime bounds each request's connections itself.
    const client = createClient({
      url: env.LIBSQL_URL,
      authToken: env.LIBSQL_AUTH_TOKEN || undefined,
      concurrency: Number.MAX_SAFE_INTEGER,
      fetch: fetchReportingOutages(timedFetch("db")),
    });
    retryWhenBusy(client);
    db = drizzle(client, { schema }) as Db;
    cache.set(key, db);
  }
  return db;
}

/** Attempts of a statement or batch that sqld refused (SQLITE_BUSY, or 429 overload), and the pauses between them. */
const BUSY_ATTEMPTS = 8;
const BUSY_FIRST_PAUSE_MS = 10;
const BUSY_LONGEST_PAUSE_MS = 250;

/**
 * Makes the client send a statement or batch again when sqld answers SQLITE_BUSY. sqld has one writer and
 * gives up on its write lock after a short wait instead of queueing, so concurrent writes (a burst of
 * registrations, audited writes from many requests) are refused now and then, which would otherwise reach
 * the caller as a 503. A busy statement or batch ran nothing (it is one transaction that did not get the
 * lock, or was rolled back), so sending it again cannot apply it twice — unlike an unanswered request
 * (`DbUnavailableError`), which may have committed and is never repeated.
 *
 * The same holds for HTTP 429: sqld refuses a request when more than `--max-concurrent-requests` (128) are in
 * flight, before running any of it. A burst (100 parallel logins, a village syncing at once) passes that
 * limit for a moment, so it is waited out here; only an overload that outlasts every attempt reaches the
 * caller, as 503 with Retry-After.
 */
function retryWhenBusy(client: Client): void {
  const execute = client.execute.bind(client) as (...args: unknown[]) => ReturnType<Client["execute"]>;
  const batch = client.batch.bind(client);
  client.execute = ((...args: unknown[]) => busyRetried(() => execute(...args))) as Client["execute"];
  client.batch = ((...args: Parameters<Client["batch"]>) =>
    busyRetried(() => batch(...args))) as Client["batch"];
}

/** Runs `run`, again after a growing pause while sqld refuses it (SQLITE_BUSY, SQLITE_LOCKED or 429), at most `BUSY_ATTEMPTS` times. */
export async function busyRetried<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const refused =
        (error instanceof LibsqlError && (error.code === "SQLITE_BUSY" || error.code === "SQLITE_LOCKED")) ||
        isDbOverloaded(error);
      if (!refused || attempt >= BUSY_ATTEMPTS) throw error;
      const pause = Math.min(BUSY_LONGEST_PAUSE_MS, BUSY_FIRST_PAUSE_MS * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, pause * (0.5 + Math.random())));
    }
  }
}

export { isConstraintViolation, isDbOverloaded, isDbUnavailable } from "./errors";
