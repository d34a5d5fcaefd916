import type { InStatement } from "@libsql/client/web";
import { and, eq, gt, inArray, lt } from "drizzle-orm";
import { QueryBuilder } from "drizzle-orm/sqlite-core";
import {
  type EffectiveSlaPolicy,
  effectivePolicy,
  type SlaRule,
  type SlaRulesBook,
  type UnitSlaRules,
} from "../../domain/sla";
import { pathIds, subtreeRange } from "../../domain/units";
import { type Db, getDb } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { unitSettings, units } from "../schema";

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
  const rows = await db
    .select({ unitId: unitSettings.unitId, value: unitSettings.value })
    .from(unitSettings)
    .where(and(eq(unitSettings.key, SLA_POLICY_KEY), inArray(unitSettings.unitId, ids)));
  const byUnit = new Map(rows.map((r) => [r.unitId, parseRules(r.value)]));
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

/** A unit that sets time-limit rules of its own, with its path. */
export interface UnitOwnSlaRules {
  unitId: string;
  path: string;
  rules: SlaRule[];
}

/** Units strictly below `unitPath` that set rules of their own, with their paths. */
export async function loadDescendantSlaRules(db: Db, unitPath: string): Promise<UnitOwnSlaRules[]> {
  const [, hi] = subtreeRange(unitPath);
  const rows = await db
    .select({ unitId: units.id, path: units.path, value: unitSettings.value })
    .from(unitSettings)
    .innerJoin(units, eq(units.id, unitSettings.unitId))
    .where(and(eq(unitSettings.key, SLA_POLICY_KEY), gt(units.path, unitPath), lt(units.path, hi)));
  return rows.map((r) => ({ unitId: r.unitId, path: r.path, rules: parseRules(r.value) }));
}

/**
 * What a change of a unit's rules is checked against: the own rules of the units above it (root first, the
 * unit itself last) and of every unit below it that sets some, read together.
 */
export async function loadSlaNeighbourhood(
  env: Cloudflare.Env,
  unitPath: string,
): Promise<{ chain: UnitSlaRules[]; descendants: UnitOwnSlaRules[] }> {
  const db = getDb(env);
  const [chain, descendants] = await Promise.all([
    loadSlaChain(db, unitPath),
    loadDescendantSlaRules(db, unitPath),
  ]);
  return { chain, descendants };
}

/** The own rules of every unit on `unitPath`, root first (see `loadSlaChain`). */
export async function slaChainOf(env: Cloudflare.Env, unitPath: string): Promise<UnitSlaRules[]> {
  return loadSlaChain(getDb(env), unitPath);
}

/** The statement that stores a unit's own rules (or removes them, so the unit inherits everything). */
export function saveSlaRulesStatement(
  db: Db,
  unitId: string,
  rules: readonly SlaRule[],
  at: string,
): InStatement {
  if (rules.length === 0) {
    return stmt(
      db
        .delete(unitSettings)
        .where(and(eq(unitSettings.unitId, unitId), eq(unitSettings.key, SLA_POLICY_KEY))),
    );
  }
  const value = JSON.stringify(rules);
  return stmt(
    db
      .insert(unitSettings)
      .values({ unitId, key: SLA_POLICY_KEY, value, updatedAt: at })
      .onConflictDoUpdate({ target: [unitSettings.unitId, unitSettings.key], set: { value, updatedAt: at } }),
  );
}

/** The statement that reads the own rules of every unit on `paths` (for `slaRulesBookOf`), or null if none. */
export function slaRulesBookStatement(
  paths: readonly string[],
): { ids: string[]; statement: InStatement } | null {
  const ids = [...new Set(paths.flatMap((p) => pathIds(p)))];
  if (ids.length === 0) return null;
  // Built without a database so callers can put it in their own batch; rows keep the column names.
  const query = new QueryBuilder()
    .select({ unit_id: unitSettings.unitId, value: unitSettings.value })
    .from(unitSettings)
    .where(and(eq(unitSettings.key, SLA_POLICY_KEY), inArray(unitSettings.unitId, ids)));
  return { ids, statement: stmt(query) };
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
