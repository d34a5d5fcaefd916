import { ESCALATION_EVENT_TYPES } from "../../domain/escalation";
import { SLA_EVENT_TYPES } from "../../domain/sla";
import { subtreeRange } from "../../domain/units";
import { getDb } from "../../platform/db/client";

/** Cases of a subtree in a period, counted by where they were resolved and whether they ran late or went up. */
export interface ResolutionTally {
  responsibleLevel: string;
  resolved: boolean;
  overdue: boolean;
  escalated: boolean;
  n: number;
}

/** One reporting unit's cases in the period and how many of them went up a level. */
export interface ReportingUnitTally {
  unitId: string;
  name: string | null;
  level: string | null;
  cases: number;
  escalated: number;
}

// Raw SQL: a CTE shared by two GROUP BYs, with per-case EXISTS fallbacks over the events. The projection
// carries the facts (resolved level, overdue flag, escalation count, migration 0310); cases projected before
// it fall back to their events. The subtree is one index range over the owning path.
const CASES_IN_PERIOD = `WITH c AS (
    SELECT cases.id, cases.owning_unit_id,
      COALESCE(cases.resolved_level, cases.responsible_level) AS responsible_level,
      cases.state IN ('resolved', 'closed') AS resolved,
      (cases.overdue = 1 OR EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = cases.id AND e.type = ?)) AS overdue,
      (cases.escalation_count > 0 OR EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = cases.id AND e.type = ?)) AS escalated
    FROM cases WHERE cases.owning_unit_path >= ? AND cases.owning_unit_path < ?
      AND cases.created_at >= ? AND cases.created_at < ?)`;

/**
 * The tallies of cases reported under `unitPath` with `from` ≤ created < `to`, and a page of reporting units
 * (by id, after `afterUnitId`, `limit` rows), in one read batch of the case projection.
 */
export async function resolutionTallies(
  env: Cloudflare.Env,
  unitPath: string,
  period: { from: string; to: string },
  page: { afterUnitId: string | null; limit: number },
): Promise<{ tallies: ResolutionTally[]; units: ReportingUnitTally[] }> {
  const [lo, hi] = subtreeRange(unitPath);
  const args = [SLA_EVENT_TYPES.overdue, ESCALATION_EVENT_TYPES.escalated, lo, hi, period.from, period.to];
  const [totals, perUnit] = await getDb(env).$client.batch(
    [
      {
        sql: `${CASES_IN_PERIOD}
              SELECT responsible_level, resolved, overdue, escalated, COUNT(*) AS n FROM c GROUP BY 1, 2, 3, 4`,
        args,
      },
      {
        sql: `${CASES_IN_PERIOD}
              SELECT c.owning_unit_id, u.name, u.level, COUNT(*) AS n, SUM(c.escalated) AS escalated
              FROM c LEFT JOIN units u ON u.id = c.owning_unit_id
              ${page.afterUnitId !== null ? "WHERE c.owning_unit_id > ?" : ""}
              GROUP BY c.owning_unit_id ORDER BY c.owning_unit_id LIMIT ?`,
        args: [...args, ...(page.afterUnitId !== null ? [page.afterUnitId] : []), page.limit],
      },
    ],
    "read",
  );
  return {
    tallies: totals!.rows.map((r) => ({
      responsibleLevel: String(r.responsible_level),
      resolved: Number(r.resolved) !== 0,
      overdue: Number(r.overdue) !== 0,
      escalated: Number(r.escalated) !== 0,
      n: Number(r.n),
    })),
    units: perUnit!.rows.map((r) => ({
      unitId: String(r.owning_unit_id),
      name: r.name === null ? null : String(r.name),
      level: r.level === null ? null : String(r.level),
      cases: Number(r.n),
      escalated: Number(r.escalated),
    })),
  };
}
