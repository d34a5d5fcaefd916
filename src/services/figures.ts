import {
  childUnits,
  type DissatisfiedCase,
  dissatisfiedCases,
  hotspotCells,
  type RollupGroup,
  rollupGroups,
} from "../db/repos/figures";
import {
  addCounts,
  type CaseFigures,
  caseFigures,
  change,
  type DayPeriod,
  emptyCounts,
  type Granularity,
  type LeagueSort,
  periodInstants,
  periodProblem,
  previousPeriod,
  type RollupCounts,
  sortLeague,
  trendBucket,
} from "../domain/case-figures";
import { CASE_TYPES, type CaseType } from "../domain/case-model";
import type { UnitLevel } from "../domain/units";
import type { Principal } from "../env";
import { type Db, getDb } from "../platform/db/client";
import { problems } from "../platform/http/problem";
import { unitInScope } from "./caller";

/** 400 unless the period is real dates, in order, at most ten years. */
function checkPeriod(p: DayPeriod): void {
  const bad = periodProblem(p);
  if (bad) throw problems.badRequest(`Bad period: ${bad.path.slice(6)} ${bad.message}`, [bad]);
}

const sum = (groups: readonly RollupGroup[]): RollupCounts =>
  groups.reduce((acc, g) => addCounts(acc, g.counts), emptyCounts());

/** A subtree's case figures of a period: totals, per case type, and a trend cut by day, week or month. */
export interface CaseFiguresReport {
  unitId: string;
  from: string;
  to: string;
  granularity: Granularity;
  totals: CaseFigures;
  byType: Array<{ type: CaseType } & CaseFigures>;
  trend: Array<{
    period: string;
    reported: number;
    accepted: number;
    resolved: number;
    closed: number;
    overdue: number;
  }>;
}

/**
 * The case figures of a unit of the caller's subtree over a period of China days, read from the unit's own
 * roll-up rows (each event is counted in every ancestor's rows, so nothing is summed across the tree).
 */
export async function caseFiguresReport(
  env: Cloudflare.Env,
  principal: Principal,
  unitId: string,
  period: DayPeriod,
  granularity: Granularity,
  type: string | null,
): Promise<CaseFiguresReport> {
  checkPeriod(period);
  await unitInScope(env, principal, unitId);
  const db = getDb(env);
  const [types, days] = await Promise.all([
    rollupGroups(db, [unitId], period.from, period.to, type, "type"),
    rollupGroups(db, [unitId], period.from, period.to, type, "day"),
  ]);
  const trend = new Map<string, RollupCounts>();
  const byType = new Map<string, RollupCounts>();
  for (const g of days) {
    const bucket = trendBucket(g.day, granularity);
    trend.set(bucket, addCounts(trend.get(bucket) ?? emptyCounts(), g.counts));
  }
  for (const g of types) byType.set(g.type, g.counts);
  return {
    unitId,
    ...period,
    granularity,
    totals: caseFigures(sum(types)),
    byType: CASE_TYPES.filter((t) => byType.has(t)).map((t) => ({ type: t, ...caseFigures(byType.get(t)!) })),
    trend: [...trend.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([bucket, c]) => ({
        period: bucket,
        reported: c.reported,
        accepted: c.accepted,
        resolved: c.resolved,
        closed: c.closed,
        overdue: c.overdue,
      })),
  };
}

/** One child's line of a league table. */
export interface LeagueRow {
  unitId: string;
  name: string;
  level: UnitLevel;
  figures: CaseFigures;
  previous: CaseFigures;
  change: {
    reported: number;
    closureRate: number | null;
    onTimeRate: number | null;
    overdue: number;
    escalationRate: number | null;
  };
}

/** Each child of a unit with its figures over a period and the previous period of the same length. */
export async function childLeague(db: Db, unitId: string, period: DayPeriod): Promise<LeagueRow[]> {
  const children = await childUnits(db, unitId);
  const ids = children.map((c) => c.id);
  const before = previousPeriod(period);
  const [now, then] = await Promise.all([
    rollupGroups(db, ids, period.from, period.to, null),
    rollupGroups(db, ids, before.from, before.to, null),
  ]);
  const of = (groups: RollupGroup[], id: string) => caseFigures(sum(groups.filter((g) => g.unitId === id)));
  return children.map((child): LeagueRow => {
    const figures = of(now, child.id);
    const previous = of(then, child.id);
    return {
      unitId: child.id,
      name: child.name,
      level: child.level,
      figures,
      previous,
      change: changeOf(figures, previous),
    };
  });
}

/** The change of the headline figures against the previous period. */
export function changeOf(figures: CaseFigures, previous: CaseFigures): LeagueRow["change"] {
  return {
    reported: figures.reported - previous.reported,
    closureRate: change(figures.closureRate, previous.closureRate),
    onTimeRate: change(figures.onTimeRate, previous.onTimeRate),
    overdue: figures.overdue - previous.overdue,
    escalationRate: change(figures.escalationRate, previous.escalationRate),
  };
}

/** A unit's own figures over a period and the previous one. */
export async function unitFigures(
  db: Db,
  unitId: string,
  period: DayPeriod,
): Promise<{ figures: CaseFigures; previous: CaseFigures }> {
  const before = previousPeriod(period);
  const [now, then] = await Promise.all([
    rollupGroups(db, [unitId], period.from, period.to, null),
    rollupGroups(db, [unitId], before.from, before.to, null),
  ]);
  return { figures: caseFigures(sum(now)), previous: caseFigures(sum(then)) };
}

/**
 * The league table of a unit's children over a period, each with its change against the previous period of
 * the same length, sorted by one figure.
 */
export async function leagueTable(
  env: Cloudflare.Env,
  principal: Principal,
  unitId: string,
  period: DayPeriod,
  sort: LeagueSort,
  order: "asc" | "desc",
): Promise<{
  unitId: string;
  from: string;
  to: string;
  previousFrom: string;
  previousTo: string;
  items: LeagueRow[];
}> {
  checkPeriod(period);
  await unitInScope(env, principal, unitId);
  const before = previousPeriod(period);
  const rows = await childLeague(getDb(env), unitId, period);
  return {
    unitId,
    ...period,
    previousFrom: before.from,
    previousTo: before.to,
    items: sortLeague(rows, sort, order),
  };
}

/** Cell sizes of the hot-spot grid, in degrees (0.01° is about 1.1 km north–south). */
export const HOTSPOT_CELLS = { "0.005": 0.005, "0.01": 0.01, "0.05": 0.05, "0.1": 0.1 } as const;

/** A GeoJSON FeatureCollection of hot-spot cells (RFC 7946: coordinates are [lng, lat]). */
export interface HotspotCollection {
  type: "FeatureCollection";
  features: Array<{
    type: "Feature";
    geometry: { type: "Polygon"; coordinates: number[][][] };
    properties: { count: number; center: { lat: number; lng: number } };
  }>;
}

/** Cases reported in a subtree over a period, counted on square cells of `cellDeg` degrees, densest first. */
export async function hotspots(
  env: Cloudflare.Env,
  principal: Principal,
  unitId: string,
  period: DayPeriod,
  cellDeg: number,
  type: string | null,
  limit: number,
): Promise<HotspotCollection> {
  checkPeriod(period);
  const unit = await unitInScope(env, principal, unitId);
  const [from, to] = periodInstants(period);
  const cells = await hotspotCells(getDb(env), unit.path, from, to, cellDeg, type, limit);
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    type: "FeatureCollection",
    features: cells.map((c) => {
      const [s, w, n, e] = [
        c.row * cellDeg,
        c.col * cellDeg,
        (c.row + 1) * cellDeg,
        (c.col + 1) * cellDeg,
      ].map(round) as [number, number, number, number];
      return {
        type: "Feature",
        geometry: {
          type: "Polygon",
          coordinates: [
            [
              [w, s],
              [e, s],
              [e, n],
              [w, n],
              [w, s],
            ],
          ],
        },
        properties: { count: c.count, center: { lat: round((s + n) / 2), lng: round((w + e) / 2) } },
      };
    }),
  };
}

/** Return-visit satisfaction of a subtree by case type, and the dissatisfied closures to visit again. */
export async function satisfactionReport(
  env: Cloudflare.Env,
  principal: Principal,
  unitId: string,
  period: DayPeriod,
  limit: number,
): Promise<{
  unitId: string;
  from: string;
  to: string;
  totals: CaseFigures["satisfaction"];
  byType: Array<{ type: CaseType } & CaseFigures["satisfaction"]>;
  dissatisfied: DissatisfiedCase[];
}> {
  checkPeriod(period);
  const unit = await unitInScope(env, principal, unitId);
  const db = getDb(env);
  const [from, to] = periodInstants(period);
  const [groups, dissatisfied] = await Promise.all([
    rollupGroups(db, [unitId], period.from, period.to, null, "type"),
    dissatisfiedCases(db, unit.path, from, to, limit),
  ]);
  return {
    unitId,
    ...period,
    totals: caseFigures(sum(groups)).satisfaction,
    byType: CASE_TYPES.map((t) => ({
      type: t,
      ...caseFigures(sum(groups.filter((g) => g.type === t))).satisfaction,
    })).filter((r) => r.satisfied + r.basicallySatisfied + r.dissatisfied > 0),
    dissatisfied,
  };
}
