import { directiveTotals, leadSubsidyTotals, partyPointTotals } from "../db/repos/service-figures";
import { type DayPeriod, periodInstants, periodProblem } from "../domain/case-figures";
import { share } from "../domain/contacts";
import { getDb } from "../platform/db/client";
import { problems } from "../platform/http/problem";
import { type Caller, unitInScope } from "./caller";
import { coverage } from "./contacts";
import { householdSummary } from "./households";

/**
 * The household-service figures of a unit's subtree: households by class and overdue visits now, three-line
 * coverage now, and of the period the directives its units issued, party points and household-lead subsidies.
 * Only counts: the coverage's household and contact ids are dropped.
 */
export async function serviceFiguresReport(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  period: DayPeriod,
) {
  const bad = periodProblem(period);
  if (bad) throw problems.badRequest(`Bad period: ${bad.path.slice(6)} ${bad.message}`, [bad]);
  const unit = await unitInScope(env, caller.principal, unitId);
  const [start, end] = periodInstants(period);
  const db = getDb(env);
  const [households, lines, directives, partyPoints, leadSubsidies] = await Promise.all([
    householdSummary(env, caller, unitId, new Date()),
    coverage(env, caller, unitId),
    directiveTotals(db, unit.path, start, end),
    partyPointTotals(db, unit.path, start, end),
    leadSubsidyTotals(db, unit.path, start, end),
  ]);
  const { minutesToAcknowledge, minutesToComplete, ...directiveCounts } = directives;
  return {
    unitId,
    ...period,
    asOf: households.asOf,
    households: { total: households.total, byClass: households.byClass, overdueVisits: households.overdue },
    coverage: {
      households: lines.households,
      lines: lines.lines,
      anyLine: lines.anyLine,
      redWithoutHelper: lines.redWithoutHelper.count,
      overloadedContacts: lines.overloadedContacts.length,
    },
    directives: {
      ...directiveCounts,
      completionRate: directives.receipts === 0 ? null : share(directives.completed, directives.receipts),
      acknowledgementRate:
        directives.receipts === 0 ? null : share(directives.acknowledged, directives.receipts),
      minutesToAcknowledge: { p50: minutesToAcknowledge },
      minutesToComplete: { p50: minutesToComplete },
    },
    partyPoints,
    leadSubsidies,
  };
}
