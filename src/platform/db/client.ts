import { type Client, createClient } from "@libsql/client/web";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import { drizzle } from "drizzle-orm/libsql/web";
import * as schema from "../../db/schema";

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
    });
    db = drizzle(client, { schema }) as Db;
    cache.set(key, db);
  }
  return db;
}

/** Whether an error is libSQL being unreachable rather than a bad statement. */
export function isDbUnavailable(error: unknown): boolean {
  const text = String((error as { cause?: unknown })?.cause ?? "") + String(error);
  return /fetch failed|ECONNREFUSED|connect|network|Network connection lost|HRANA_WEBSOCKET|SERVER_ERROR|503|502/i.test(
    text,
  );
}

/** Whether an error is a SQLite UNIQUE constraint violation. */
export function isUniqueViolation(error: unknown): boolean {
  const text = `${String(error)} ${String((error as { cause?: unknown })?.cause ?? "")}`;
  return /UNIQUE constraint failed|SQLITE_CONSTRAINT_UNIQUE|SQLITE_CONSTRAINT_PRIMARYKEY/i.test(text);
}
