import type { InStatement } from "@libsql/client/web";
import {
  type EffectiveSlaPolicy,
  effectivePolicy,
  type SlaRule,
  type SlaRulesBook,
  type UnitSlaRules,
} from "../../domain/sla";
import { pathIds } from "../../domain/units";
import type { Db } from "../../platform/db/client";

/** The `unit_settings` key under which a unit's own time-limit rules are stored (JSON `SlaRule[]`). */
export const SLA_POLICY_KEY = "sla_policy";

function parseRules(value: unknown): SlaRule[] {
  try {
    const rules = JSON.parse(String(value)) as unknown;
    return Array.isArray(rules) ? (rules as SlaRule[]) : [];
  } catch {
    return [];
  }
}

/** The own rules of every unit on `unitPath` (root first; units without rules get an empty list). One query. */
export async function loadSlaChain(db: Db, unitPath: string): Promise<UnitSlaRules[]> {
  const ids = pathIds(unitPath);
  if (ids.length === 0) return [];
  const rows = await db.$client.execute({
    sql: `SELECT unit_id, value FROM unit_settings WHERE key = ? AND unit_id IN (${ids.map(() => "?").join(",")})`,
    args: [SLA_POLICY_KEY, ...ids],
  });
  const byUnit = new Map(rows.rows.map((r) => [String(r.unit_id), parseRules(r.value)]));
  return ids.map((unitId) => ({ unitId, rules: byUnit.get(unitId) ?? [] }));
}

/**
 * The time-limit policy in force at a unit (its rules over its ancestors' over the defaults). The GridDesk
 * passes the result to `deadlinesForCase` when a case enters a state.
 *
 * @example
 * const policy = await loadEffectiveSlaPolicy(db, responsibleUnit.path);
 */
export async function loadEffectiveSlaPolicy(db: Db, unitPath: string): Promise<EffectiveSlaPolicy> {
  return effectivePolicy(await loadSlaChain(db, unitPath));
}

/** Units strictly below `unitPath` that set rules of their own, with their paths. */
export async function loadDescendantSlaRules(
  db: Db,
  unitPath: string,
): Promise<Array<{ unitId: string; path: string; rules: SlaRule[] }>> {
  const rows = await db.$client.execute({
    sql: `SELECT u.id, u.path, s.value FROM unit_settings s JOIN units u ON u.id = s.unit_id
          WHERE s.key = ? AND u.path LIKE ? AND u.path != ?`,
    args: [SLA_POLICY_KEY, `${unitPath}%`, unitPath],
  });
  return rows.rows.map((r) => ({ unitId: String(r.id), path: String(r.path), rules: parseRules(r.value) }));
}

/** The statement that stores a unit's own rules (or removes them, so the unit inherits everything). */
export function saveSlaRulesStatement(unitId: string, rules: readonly SlaRule[], at: string): InStatement {
  if (rules.length === 0) {
    return { sql: "DELETE FROM unit_settings WHERE unit_id = ? AND key = ?", args: [unitId, SLA_POLICY_KEY] };
  }
  return {
    sql: `INSERT INTO unit_settings (unit_id, key, value, updated_at) VALUES (?, ?, ?, ?)
          ON CONFLICT (unit_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    args: [unitId, SLA_POLICY_KEY, JSON.stringify(rules), at],
  };
}

/** The statement that reads the own rules of every unit on `paths` (for `slaRulesBookOf`), or null if none. */
export function slaRulesBookStatement(
  paths: readonly string[],
): { ids: string[]; statement: InStatement } | null {
  const ids = [...new Set(paths.flatMap((p) => pathIds(p)))];
  if (ids.length === 0) return null;
  return {
    ids,
    statement: {
      sql: `SELECT unit_id, value FROM unit_settings WHERE key = ? AND unit_id IN (${ids.map(() => "?").join(",")})`,
      args: [SLA_POLICY_KEY, ...ids],
    },
  };
}

/** The rules book from the rows of `slaRulesBookStatement`. */
export function slaRulesBookOf(ids: string[], rows: ReadonlyArray<Record<string, unknown>>): SlaRulesBook {
  const rules: Record<string, SlaRule[]> = {};
  for (const r of rows) rules[String(r.unit_id)] = parseRules(r.value);
  return { unitIds: ids, rules };
}

/** How long a caller waits for the registry before running a clock on the default policy. */
const BOOK_TIMEOUT_MS = 2_000;

/**
 * The time-limit rules of every unit on `paths`, in one query, for a GridDesk command. If libSQL cannot
 * answer (down, or slower than two seconds) the book says `unavailable` and clocks run on the defaults, so
 * case commands never wait on the registry.
 *
 * @example
 * const book = await loadSlaRulesBook(db, [principal.unitPath]);
 */
export async function loadSlaRulesBook(db: Db, paths: readonly string[]): Promise<SlaRulesBook> {
  const read = slaRulesBookStatement(paths);
  if (read === null) return { unitIds: [], rules: {} };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const rows = await Promise.race([
      db.$client.execute(read.statement),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("sla policy read timed out")), BOOK_TIMEOUT_MS);
      }),
    ]);
    return slaRulesBookOf(read.ids, rows.rows);
  } catch (error) {
    console.error(JSON.stringify({ kind: "sla-policy-unavailable", error: String(error) }));
    return { unitIds: [], rules: {}, unavailable: true };
  } finally {
    clearTimeout(timer);
  }
}
