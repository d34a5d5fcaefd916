import { type ReportingUnitTally, resolutionTallies } from "../db/repos/resolution-levels";
import { UNIT_LEVELS, type UnitLevel } from "../domain/units";
import type { Principal } from "../env";
import { problems } from "../platform/http/problem";
import { unitInScope } from "./caller";

/** The longest period one request may span. */
const MAX_PERIOD_MS = 5 * 366 * 24 * 3600 * 1000;

const rate = (n: number, d: number) => (d === 0 ? null : n / d);

/** Where a subtree's cases of a period were resolved, how many on time, late or escalated. */
export interface ResolutionFigures {
  unitId: string;
  from: string;
  to: string;
  cases: number;
  resolved: number;
  resolvedAtLevel: Array<{ level: UnitLevel; count: number; share: number | null }>;
  onTimeRate: number | null;
  overdueRate: number | null;
  escalationRate: number | null;
  /** `limit + 1` reporting units, for paging. */
  units: Array<ReportingUnitTally & { escalationRate: number | null }>;
}

/**
 * The resolution figures of a unit of the caller's subtree for cases reported with `from` ≤ created < `to`
 * (at most five years; 400 otherwise), with a page of reporting units after `afterUnitId`.
 */
export async function resolutionFigures(
  env: Cloudflare.Env,
  principal: Principal,
  unitId: string,
  period: { from: string; to: string },
  page: { afterUnitId: string | null; limit: number },
): Promise<ResolutionFigures> {
  const from = new Date(period.from).toISOString();
  const to = new Date(period.to).toISOString();
  if (from >= to) {
    throw problems.badRequest("`from` must be before `to`", [
      { path: "query.to", message: "not after from" },
    ]);
  }
  if (Date.parse(to) - Date.parse(from) > MAX_PERIOD_MS) {
    throw problems.badRequest("The period may span at most five years", [
      { path: "query.from", message: "too early" },
    ]);
  }
  const unit = await unitInScope(env, principal, unitId);
  const { tallies, units } = await resolutionTallies(
    env,
    unit.path,
    { from, to },
    { ...page, limit: page.limit + 1 },
  );
  let cases = 0;
  let resolved = 0;
  let resolvedOnTime = 0;
  let overdue = 0;
  let escalated = 0;
  const byLevel = new Map<string, number>();
  for (const t of tallies) {
    cases += t.n;
    if (t.overdue) overdue += t.n;
    if (t.escalated) escalated += t.n;
    if (t.resolved) {
      resolved += t.n;
      if (!t.overdue) resolvedOnTime += t.n;
      byLevel.set(t.responsibleLevel, (byLevel.get(t.responsibleLevel) ?? 0) + t.n);
    }
  }
  return {
    unitId,
    from,
    to,
    cases,
    resolved,
    resolvedAtLevel: UNIT_LEVELS.map((level) => ({
      level,
      count: byLevel.get(level) ?? 0,
      share: rate(byLevel.get(level) ?? 0, resolved),
    })),
    onTimeRate: rate(resolvedOnTime, resolved),
    overdueRate: rate(overdue, cases),
    escalationRate: rate(escalated, cases),
    units: units.map((u) => ({ ...u, escalationRate: rate(u.escalated, u.cases) })),
  };
}
