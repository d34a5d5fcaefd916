import { eq } from "drizzle-orm";
import { getDb } from "../../platform/db/client";
import { units } from "../schema";

/** Where a unit sits in the tree: what scope checks and centre rules need. */
export interface UnitPlace {
  id: string;
  path: string;
  level: (typeof units.$inferSelect)["level"];
}

/** The id, path and level of a unit, or null when there is none. */
export async function unitPlace(env: Cloudflare.Env, id: string): Promise<UnitPlace | null> {
  const [unit] = await getDb(env)
    .select({ id: units.id, path: units.path, level: units.level })
    .from(units)
    .where(eq(units.id, id))
    .limit(1);
  return unit ?? null;
}
