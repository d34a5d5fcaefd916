import { type LaggingDesk, laggingDesks } from "../db/repos/projection";
import type { Principal } from "../env";

/** A lagging desk as operators see it: the watermark row with the lag and its age worked out. */
export interface ProjectionLag {
  deskId: string;
  unitId: string;
  unitPath: string;
  deskSeq: number;
  projectedSeq: number;
  lag: number;
  oldestUnprojectedAt: string | null;
  oldestUnprojectedAgeSeconds: number;
  laggingSince: string;
  lastPokedAt: string | null;
}

/**
 * The desks in the caller's subtree whose case projection lags (`limit` of them, longest lagging first, after
 * the keyset position `(laggingSince, deskId)`), each with the age of its oldest unprojected event at `now`.
 *
 * @example
 * const rows = await projectionLag(env, principal, null, 51, new Date());
 */
export async function projectionLag(
  env: Cloudflare.Env,
  principal: Principal,
  after: readonly [string, string] | null,
  limit: number,
  now: Date,
): Promise<ProjectionLag[]> {
  const rows = await laggingDesks(env, { scopePath: principal.unitPath, after, limit });
  return rows.map((r) => lagView(r, now.getTime()));
}

function lagView(r: LaggingDesk, now: number): ProjectionLag {
  const since = Date.parse(r.oldestUnprojectedAt ?? r.laggingSince);
  return {
    deskId: r.deskId,
    unitId: r.unitId,
    unitPath: r.unitPath,
    deskSeq: r.deskDseq,
    projectedSeq: r.projectedDseq,
    lag: r.deskDseq - r.projectedDseq,
    oldestUnprojectedAt: r.oldestUnprojectedAt,
    oldestUnprojectedAgeSeconds: Math.max(0, Math.floor((now - since) / 1000)),
    laggingSince: r.laggingSince,
    lastPokedAt: r.pokedAt,
  };
}
