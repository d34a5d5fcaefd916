import { desksToPoke, recordPokes } from "../../db/repos/projection";
import { getDb } from "../../platform/db/client";
import { deskOfUnit } from "./address";
import type { GridDesk } from "./grid-desk";

/** A desk counts as stuck when its projected next deadline step is this far in the past. */
export const WATCHDOG_GRACE_MS = 10 * 60_000;
/** Desks poked per tick, most overdue first. */
export const WATCHDOG_BATCH = 50;

/**
 * The alarm watchdog (cron): finds GridDesks whose next deadline step, as last projected into `desk_alarms`,
 * is more than `WATCHDOG_GRACE_MS` in the past — an index range over `next_alarm_at`, never a scan of cases
 * — pokes each (the desk takes its due steps and re-arms its alarm) and records the desk's answer. Returns
 * the ids of the desks it poked.
 *
 * @example
 * await deskAlarmWatchdog(env, Date.now());
 */
export async function deskAlarmWatchdog(env: Cloudflare.Env, now: number): Promise<string[]> {
  const db = getDb(env);
  const stale = await db.$client.execute({
    sql: `SELECT desk_id FROM desk_alarms WHERE next_alarm_at IS NOT NULL AND next_alarm_at < ?
          ORDER BY next_alarm_at LIMIT ?`,
    args: [new Date(now - WATCHDOG_GRACE_MS).toISOString(), WATCHDOG_BATCH],
  });
  const ids = stale.rows.map((r) => String(r.desk_id));
  if (ids.length === 0) return [];
  const answers = await Promise.all(
    ids.map(async (deskId) => {
      try {
        const desk = deskOfUnit(env, deskId); // desk_id is the owning unit's id
        return { deskId, next: (await desk.poke()) as string | null };
      } catch (error) {
        console.error(JSON.stringify({ kind: "desk-watchdog-poke-failed", deskId, error: String(error) }));
        return null;
      }
    }),
  );
  const asOf = new Date(now).toISOString();
  const statements = answers
    .filter((a) => a !== null)
    .map((a) => ({
      sql: `UPDATE desk_alarms SET next_alarm_at = ?, as_of = ? WHERE desk_id = ? AND as_of <= ?`,
      args: [a.next, asOf, a.deskId, asOf],
    }));
  if (statements.length) await db.$client.batch(statements, "write");
  console.log(JSON.stringify({ kind: "desk-watchdog", poked: ids.length }));
  return ids;
}

/** A desk's projection counts as lagging for the watchdog once it lagged this long (its own alarm comes first). */
export const PROJECTION_GRACE_MS = 5 * 60_000;

/**
 * The projection watchdog (cron): finds desks whose projected watermark has lagged their last known `dseq` for
 * more than `PROJECTION_GRACE_MS` and that were not poked since — an index range over `lagging_since` in
 * `projection_desks` — and pokes each to send again every event the projection has not confirmed
 * (`GridDesk.reconcile`). The desk's answer (its own last `dseq`) is recorded with the poke. Returns the ids
 * of the desks it poked.
 *
 * @example
 * await projectionWatchdog(env, Date.now());
 */
export async function projectionWatchdog(env: Cloudflare.Env, now: number): Promise<string[]> {
  const db = getDb(env);
  const ids = await desksToPoke(db, new Date(now - PROJECTION_GRACE_MS).toISOString(), WATCHDOG_BATCH);
  if (ids.length === 0) return [];
  const answers = await Promise.all(
    ids.map(async (deskId) => {
      try {
        const desk = env.GRID_DESK.get(env.GRID_DESK.idFromString(deskId)) as DurableObjectStub<GridDesk>;
        const state = await desk.reconcile();
        return { deskId, lastDseq: state.lastDseq, resent: state.resent };
      } catch (error) {
        console.error(
          JSON.stringify({ kind: "projection-watchdog-poke-failed", deskId, error: String(error) }),
        );
        return null;
      }
    }),
  );
  const answered = answers.filter((a) => a !== null);
  await recordPokes(db, answered, new Date(now).toISOString());
  console.log(
    JSON.stringify({
      kind: "projection-watchdog",
      poked: ids.length,
      resent: answered.reduce((n, a) => n + a.resent, 0),
    }),
  );
  return ids;
}
