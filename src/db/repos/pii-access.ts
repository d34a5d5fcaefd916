import { and, eq, inArray, sql } from "drizzle-orm";
import { REVEAL_LIMIT_KEY } from "../../domain/pii";
import { pathIds } from "../../domain/units";
import type { Db } from "../../platform/db/client";
import { piiUseWindows, unitSettings, units } from "../schema";

/** Kinds of personal-data use counted per user and hour. */
export type PiiUseKind = "reveal" | "id_probe";

/** A user's count in the current window of one kind, and when the window started. */
export interface PiiUseCount {
  n: number;
  windowStart: string;
}

/**
 * Counts one use and returns the count in the current window, in ONE statement: an upsert that starts a new
 * window (n = 1) when the stored one is older than `windowMs`, else adds one, RETURNING the result. Parallel
 * requests each get a distinct n, so at most `limit` of them see n ≤ limit.
 */
export async function countPiiUse(
  db: Db,
  userId: string,
  kind: PiiUseKind,
  now: Date,
  windowMs: number,
): Promise<PiiUseCount> {
  const at = now.toISOString();
  const expired = sql`${piiUseWindows.windowStart} <= ${new Date(now.getTime() - windowMs).toISOString()}`;
  const row = await db
    .insert(piiUseWindows)
    .values({ userId, kind, windowStart: at, n: 1 })
    .onConflictDoUpdate({
      target: [piiUseWindows.userId, piiUseWindows.kind],
      // SQLite evaluates every SET expression against the old row, so both CASEs see the same window.
      set: {
        n: sql`CASE WHEN ${expired} THEN 1 ELSE ${piiUseWindows.n} + 1 END`,
        windowStart: sql`CASE WHEN ${expired} THEN ${at} ELSE ${piiUseWindows.windowStart} END`,
      },
    })
    .returning({ n: piiUseWindows.n, windowStart: piiUseWindows.windowStart })
    .get();
  return row!;
}

/** The user's count in the current window without counting (0 when the window expired or never began). */
export async function peekPiiUse(
  db: Db,
  userId: string,
  kind: PiiUseKind,
  now: Date,
  windowMs: number,
): Promise<PiiUseCount> {
  const row = await db
    .select({ n: piiUseWindows.n, windowStart: piiUseWindows.windowStart })
    .from(piiUseWindows)
    .where(and(eq(piiUseWindows.userId, userId), eq(piiUseWindows.kind, kind)))
    .get();
  if (!row || row.windowStart <= new Date(now.getTime() - windowMs).toISOString()) {
    return { n: 0, windowStart: now.toISOString() };
  }
  return row;
}

/** The reveal-limit settings on a unit's path (itself and its ancestors), with each unit's depth. */
export async function revealLimitSettings(
  db: Db,
  unitPath: string,
): Promise<Array<{ depth: number; value: string }>> {
  return db
    .select({ depth: units.depth, value: unitSettings.value })
    .from(unitSettings)
    .innerJoin(units, eq(units.id, unitSettings.unitId))
    .where(and(inArray(unitSettings.unitId, pathIds(unitPath)), eq(unitSettings.key, REVEAL_LIMIT_KEY)));
}
