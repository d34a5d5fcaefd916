import { sql } from "drizzle-orm";
import { getDb } from "../../platform/db/client";

/** One round trip to libSQL; throws when it cannot be reached. */
export async function pingDb(env: Cloudflare.Env): Promise<void> {
  await getDb(env).run(sql`SELECT 1`);
}
