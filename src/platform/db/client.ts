import { type Client, createClient } from "@libsql/client/web";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import { drizzle } from "drizzle-orm/libsql/web";
import * as schema from "../../db/schema";
import { timedFetch } from "../http/timing";
import { fetchReportingOutages } from "./errors";

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
    db = drizzle(client, { schema }) as Db;
    cache.set(key, db);
  }
  return db;
}

export { isConstraintViolation, isDbUnavailable } from "./errors";
