import type { InStatement } from "@libsql/client/web";
import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { open311Apps } from "../schema";

export type Open311AppRow = typeof open311Apps.$inferSelect;

/** An app by the SHA-256 of its api_key. */
export async function appByKeyHash(db: Db, keyHash: string): Promise<Open311AppRow | undefined> {
  return db.select().from(open311Apps).where(eq(open311Apps.keyHash, keyHash)).get();
}

/** Registers an app. */
export function insertApp(db: Db, row: typeof open311Apps.$inferInsert): InStatement {
  return stmt(db.insert(open311Apps).values(row));
}

/** Revokes an app's key (a revoked key is refused from then on); changes no row when already revoked. */
export function revokeApp(db: Db, id: string, at: string): InStatement {
  return stmt(
    db
      .update(open311Apps)
      .set({ revokedAt: at })
      .where(and(eq(open311Apps.id, id), isNull(open311Apps.revokedAt))),
  );
}

/** An app by id. */
export async function findApp(db: Db, id: string): Promise<Open311AppRow | undefined> {
  return db.select().from(open311Apps).where(eq(open311Apps.id, id)).get();
}

/** Counts one call of an app in the current minute and returns the count so far. */
export async function countAppCall(db: Db, appId: string, minute: string): Promise<number> {
  // Raw SQL: one upsert with RETURNING counts atomically, so parallel calls cannot both see the old count.
  const rs = await db.$client.execute({
    sql: `INSERT INTO open311_app_calls (app_id, minute, n) VALUES (?, ?, 1)
          ON CONFLICT (app_id, minute) DO UPDATE SET n = n + 1 RETURNING n`,
    args: [appId, minute],
  });
  return Number(rs.rows[0]?.n ?? 0);
}
