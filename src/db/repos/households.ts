import type { InStatement, InValue } from "@libsql/client/web";
import { and, asc, count, eq, gte, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import {
  chinaYear,
  type HouseholdClass,
  RED_TAGS,
  SAFE_YEAR_BASE,
  safeYearsMask,
  type VillageIncome,
} from "../../domain/classification";
import {
  CADENCE_KEYS,
  type Cadence,
  type CadenceSetting,
  DEFAULT_CADENCE,
  parseCadenceValue,
  resolveCadence,
} from "../../domain/service-plan";
import { pathIds, subtreeRange } from "../../domain/units";
import { writeAudited } from "../../platform/db/audit";
import type { Db } from "../../platform/db/client";
import { containsText, stmt } from "../../platform/db/statements";
import {
  contactPairings,
  householdHelpers,
  households,
  residents,
  unitSettings,
  units,
  users,
  visits,
} from "../schema";

export type HouseholdRow = typeof households.$inferSelect;
export type HelperRow = typeof householdHelpers.$inferSelect;

/** A unit as the household registry needs it: where it is in the tree. */
export interface UnitRef {
  id: string;
  path: string;
  level: string;
  gridLevel: number | null;
  depth: number;
}

const unitRefColumns = {
  id: units.id,
  path: units.path,
  level: units.level,
  gridLevel: units.gridLevel,
  depth: units.depth,
};

/** The values of a JSON array as a subquery, so a long id list is one bound parameter. */
function jsonValues(values: readonly string[]): SQL {
  return sql`(SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

/** The village (level-1 grid) id on a grid's path. */
export function villageIdOf(path: string): string | undefined {
  return pathIds(path)[3];
}

/** One unit by id, or undefined. */
export async function findUnit(db: Db, id: string): Promise<UnitRef | undefined> {
  return db.select(unitRefColumns).from(units).where(eq(units.id, id)).get();
}

/** Units by code (for an import), keyed by code. */
export async function unitsByCode(db: Db, codes: readonly string[]): Promise<Map<string, UnitRef>> {
  const rows = await db
    .select({ ...unitRefColumns, code: units.code })
    .from(units)
    .where(inArray(units.code, jsonValues(codes)));
  return new Map(rows.map(({ code, ...unit }) => [code, unit]));
}

/** One household by id, or undefined. */
export async function findHousehold(db: Db, id: string): Promise<HouseholdRow | undefined> {
  return db.select().from(households).where(eq(households.id, id)).get();
}

/** The cadence settings on the given units, with each unit's depth. */
function cadenceSettingsOn(db: Db, unitIds: readonly string[]) {
  return db
    .select({
      unitId: unitSettings.unitId,
      depth: units.depth,
      key: unitSettings.key,
      value: unitSettings.value,
    })
    .from(unitSettings)
    .innerJoin(units, eq(units.id, unitSettings.unitId))
    .where(
      and(
        inArray(unitSettings.unitId, jsonValues(unitIds)),
        inArray(unitSettings.key, Object.values(CADENCE_KEYS)),
      ),
    );
}

/** The cadence settings on a unit's path (itself and its ancestors), with the unit each sits on. */
export async function cadenceSettingsOnPath(
  db: Db,
  unitPath: string,
): Promise<Array<CadenceSetting & { unitId: string }>> {
  return cadenceSettingsOn(db, pathIds(unitPath));
}

/** The cadence settings on the paths of several units (an import), resolved per unit. */
export async function cadencesOf(db: Db, unitList: readonly UnitRef[]): Promise<Map<string, Cadence>> {
  const settings = await cadenceSettingsOn(db, [...new Set(unitList.flatMap((u) => pathIds(u.path)))]);
  const out = new Map<string, Cadence>();
  for (const unit of unitList) {
    const onPath = new Set(pathIds(unit.path));
    out.set(unit.id, resolveCadence(settings.filter((s) => onPath.has(s.unitId))));
  }
  return out;
}

const villageIncome = {
  incomeSum: sql<number>`coalesce(sum(${households.incomePerCapita}), 0)`.mapWith(Number),
  households: count(),
};

/** The household's village income totals and the cadence in force on its grid's path, in one round trip. */
export async function classificationContext(
  db: Db,
  villageId: string,
  unitPath: string,
): Promise<{ village: VillageIncome; cadence: Cadence }> {
  const [totals, settings] = await db.batch([
    db.select(villageIncome).from(households).where(eq(households.villageId, villageId)),
    cadenceSettingsOn(db, pathIds(unitPath)),
  ]);
  return {
    village: totals[0] ?? { incomeSum: 0, households: 0 },
    cadence: resolveCadence(settings),
  };
}

/** Income totals of several villages, keyed by village id (villages without households are absent). */
export async function villageTotals(
  db: Db,
  villageIds: readonly string[],
): Promise<Map<string, VillageIncome>> {
  const rows = await db
    .select({ villageId: households.villageId, ...villageIncome })
    .from(households)
    .where(inArray(households.villageId, jsonValues(villageIds)))
    .groupBy(households.villageId);
  return new Map(rows.map(({ villageId, ...totals }) => [villageId, totals]));
}

/** A new household, classified, ready for `insertHouseholdsStatement`. */
export interface NewHouseholdRow {
  id: string;
  unit: { id: string; path: string };
  address: string;
  location?: { latitude: number; longitude: number } | null;
  headName: string;
  incomePerCapita: number;
  incomeStable: boolean;
  safeFamilyYears: readonly number[];
  notes?: string | null;
  redTags: string;
  memberCount: number;
  class: HouseholdClass;
  reasons: readonly string[];
  nextVisitDue: string | null;
}

// Set-based over a JSON array (one bound parameter for up to 2,000 rows), and inserting nothing unless every
// grid named still exists at the path read: a unit deleted or moved meanwhile leaves no orphan. CROSS JOIN
// keeps json_each as the outer loop, each grid one primary-key probe: left to itself the planner walked every
// grid of the city by `units_level_idx` and rescanned the JSON list for each (2.9 s per 2,000-row statement
// over the full tree, against 6 ms).
const INSERT_HOUSEHOLDS = `INSERT INTO households (id, unit_id, unit_path, address, latitude, longitude, head_name, income_per_capita,
    income_stable, safe_years_mask, notes, red_tags, member_count, computed_class, class, class_reasons, class_since,
    classified_at, next_visit_due, version, created_at, updated_at)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9,
    value->>10, value->>11, value->>12, value->>13, value->>13, value->>14, :now, :now, value->>15, 1, :now, :now
  FROM json_each(:rows)
  WHERE (SELECT count(*) FROM json_each(:units) AS g
    CROSS JOIN units ON units.id = g.value->>0 AND units.path = g.value->>1 AND units.level = 'grid') = json_array_length(:units)`;

/**
 * One statement inserting households only if all their grids still exist (`rowsAffected` 0 otherwise: run
 * it with `mustChange`).
 */
export function insertHouseholdsStatement(rows: readonly NewHouseholdRow[], now: string): InStatement {
  const gridList = new Map(rows.map((h) => [h.unit.id, h.unit.path]));
  return {
    sql: INSERT_HOUSEHOLDS,
    args: {
      now,
      units: JSON.stringify([...gridList]),
      rows: JSON.stringify(
        rows.map((h) => [
          h.id,
          h.unit.id,
          h.unit.path,
          h.address,
          h.location?.latitude ?? null,
          h.location?.longitude ?? null,
          h.headName,
          h.incomePerCapita,
          h.incomeStable ? 1 : 0,
          safeYearsMask(h.safeFamilyYears),
          h.notes ?? null,
          h.redTags,
          h.memberCount,
          h.class,
          JSON.stringify(h.reasons),
          h.nextVisitDue,
        ]),
      ),
    },
  };
}

/** The row `insertHouseholdsStatement` stores for a new household, as a read would return it. */
export function insertedHouseholdRow(h: NewHouseholdRow, now: string): HouseholdRow {
  return {
    id: h.id,
    unitId: h.unit.id,
    unitPath: h.unit.path,
    villageId: villageIdOf(h.unit.path) ?? "",
    address: h.address,
    latitude: h.location?.latitude ?? null,
    longitude: h.location?.longitude ?? null,
    headName: h.headName,
    incomePerCapita: h.incomePerCapita,
    incomeStable: h.incomeStable,
    safeYearsMask: safeYearsMask(h.safeFamilyYears),
    notes: h.notes ?? null,
    redTags: h.redTags,
    memberCount: h.memberCount,
    computedClass: h.class,
    class: h.class,
    classReasons: JSON.stringify(h.reasons),
    classSince: now,
    classifiedAt: now,
    overrideClass: null,
    overrideReason: null,
    overrideUntil: null,
    overrideBy: null,
    lastVisitAt: null,
    nextVisitDue: h.nextVisitDue,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * The UPDATE that stores a re-derived household, guarded by the version it was derived from (`rowsAffected`
 * 0 when another writer got there first: run it with `mustChange`).
 */
export function updateHouseholdStatement(db: Db, row: HouseholdRow, expectedVersion: number): InStatement {
  const { id: _id, villageId: _village, createdAt: _created, version: _version, ...fields } = row;
  return stmt(
    db
      .update(households)
      .set({ ...fields, version: sql`${households.version} + 1` })
      .where(and(eq(households.id, row.id), eq(households.version, expectedVersion))),
  );
}

/** The statements that carry a moved household's members, visits, helpers and pairings to its new path. */
export function followHouseholdStatements(db: Db, householdId: string, unitPath: string): InStatement[] {
  return [
    stmt(db.update(residents).set({ unitPath }).where(eq(residents.householdId, householdId))),
    stmt(db.update(visits).set({ unitPath }).where(eq(visits.householdId, householdId))),
    stmt(db.update(householdHelpers).set({ unitPath }).where(eq(householdHelpers.householdId, householdId))),
    stmt(db.update(contactPairings).set({ unitPath }).where(eq(contactPairings.householdId, householdId))),
  ];
}

/** What a household list is filtered by. */
export interface HouseholdFilter {
  scopePath: string;
  /** Effective class at `asOf`. */
  class?: HouseholdClass;
  asOf: Date;
  /** Households with a member holding this ID-number HMAC. */
  idNumberHmac?: string;
  /** Address or head-of-household substring. */
  text?: string;
  after?: { unitPath: string; id: string } | null;
  limit: number;
}

/** The effective class at `asOf` of a households row (an unexpired override wins). */
function effectiveClassOf(asOf: Date): SQL {
  return sql`(CASE WHEN ${households.overrideClass} IS NOT NULL AND ${households.overrideUntil} > ${asOf.toISOString()}
    THEN ${households.overrideClass} ELSE ${households.computedClass} END)`;
}

/** A page of households in a subtree, by path then id (`limit` rows at most). */
export async function listHouseholds(db: Db, f: HouseholdFilter): Promise<HouseholdRow[]> {
  const [lo, hi] = subtreeRange(f.scopePath);
  const where: SQL[] = [gte(households.unitPath, lo), lt(households.unitPath, hi)];
  if (f.class) where.push(sql`${effectiveClassOf(f.asOf)} = ${f.class}`);
  if (f.idNumberHmac) {
    where.push(
      inArray(
        households.id,
        db
          .select({ id: residents.householdId })
          .from(residents)
          .where(eq(residents.idNumberHmac, f.idNumberHmac)),
      ),
    );
  }
  if (f.text) {
    where.push(or(containsText(households.address, f.text), containsText(households.headName, f.text))!);
  }
  if (f.after)
    where.push(sql`(${households.unitPath}, ${households.id}) > (${f.after.unitPath}, ${f.after.id})`);
  return db
    .select()
    .from(households)
    .where(and(...where))
    .orderBy(asc(households.unitPath), asc(households.id))
    .limit(f.limit);
}

/** A household's helpers, current and past, oldest first. */
export async function helpersOf(db: Db, householdId: string): Promise<HelperRow[]> {
  return db
    .select()
    .from(householdHelpers)
    .where(eq(householdHelpers.householdId, householdId))
    .orderBy(asc(householdHelpers.since), asc(householdHelpers.id));
}

/** A user who might help or visit a household: role, unit path and whether disabled. */
export async function findUserRef(
  db: Db,
  id: string,
): Promise<{ id: string; role: string; unitPath: string; disabled: boolean } | undefined> {
  return db
    .select({ id: users.id, role: users.role, unitPath: users.unitPath, disabled: users.disabled })
    .from(users)
    .where(eq(users.id, id))
    .get();
}

/**
 * Names a helper, unless the user already helps the household (the partial unique index on active pairings
 * then makes it change no row: run it with `mustChange`).
 */
export function insertHelperStatement(db: Db, helper: typeof householdHelpers.$inferInsert): InStatement {
  return stmt(db.insert(householdHelpers).values(helper).onConflictDoNothing());
}

/** Ends the user's active pairing with the household (no row when there is none: run it with `mustChange`). */
export function endHelperStatement(db: Db, householdId: string, userId: string, until: string): InStatement {
  return stmt(
    db
      .update(householdHelpers)
      .set({ until })
      .where(
        and(
          eq(householdHelpers.householdId, householdId),
          eq(householdHelpers.userId, userId),
          isNull(householdHelpers.until),
        ),
      ),
  );
}

/** Sets a unit's own cadence of a class (`inherit` drops it, so the ancestors' value applies). */
export function setCadenceStatement(
  db: Db,
  unitId: string,
  klass: HouseholdClass,
  value: number | "none" | "inherit",
  now: string,
): InStatement {
  const key = CADENCE_KEYS[klass];
  if (value === "inherit") {
    return stmt(
      db.delete(unitSettings).where(and(eq(unitSettings.unitId, unitId), eq(unitSettings.key, key))),
    );
  }
  return stmt(
    db
      .insert(unitSettings)
      .values({ unitId, key, value: String(value), updatedAt: now })
      .onConflictDoUpdate({
        target: [unitSettings.unitId, unitSettings.key],
        set: { value: String(value), updatedAt: now },
      }),
  );
}

/** Households whose next contact was due before `asOf`, longest late first. */
export interface OverdueRow {
  id: string;
  unitId: string;
  address: string;
  headName: string;
  computedClass: HouseholdClass;
  overrideClass: HouseholdClass | null;
  overrideUntil: string | null;
  lastVisitAt: string | null;
  nextVisitDue: string;
}

/** A page of overdue households in a subtree, by due date then id. */
export async function listOverdue(
  db: Db,
  scope: { path: string; level: string },
  asOf: Date,
  after: { due: string; id: string } | null,
  limit: number,
): Promise<OverdueRow[]> {
  const [lo, hi] = subtreeRange(scope.path);
  // Raw for INDEXED BY: the planner would otherwise pick the path index and read every household of a county.
  return db.all<OverdueRow>(sql`SELECT id, unit_id AS unitId, address, head_name AS headName, computed_class AS computedClass,
      override_class AS overrideClass, override_until AS overrideUntil, last_visit_at AS lastVisitAt,
      next_visit_due AS nextVisitDue
    FROM households INDEXED BY ${sql.raw(overdueIndex(scope.level))}
    WHERE next_visit_due < ${asOf.toISOString()} AND unit_path >= ${lo} AND unit_path < ${hi}
    ${after ? sql`AND (next_visit_due, id) > (${after.due}, ${after.id})` : sql``}
    ORDER BY next_visit_due, id LIMIT ${limit}`);
}

/** SQL for "the effective class at :asOf" over a households row (an unexpired override wins). */
export const EFFECTIVE_CLASS_SQL =
  "(CASE WHEN override_class IS NOT NULL AND override_until > :asOf THEN override_class ELSE computed_class END)";

interface CadenceRule {
  lo: string;
  hi: string;
  depth: number;
  days: number | null;
}

/** Cadence settings that can affect a subtree: on the scope's ancestors or inside it. */
async function cadenceRules(db: Db, scopePath: string): Promise<Record<HouseholdClass, CadenceRule[]>> {
  const [lo, hi] = subtreeRange(scopePath);
  const rs = await db.$client.execute({
    sql: `SELECT u.path AS path, u.depth AS depth, s.key AS key, s.value AS value FROM unit_settings s JOIN units u ON u.id = s.unit_id
          WHERE s.key IN (?, ?, ?) AND (u.id IN (SELECT value FROM json_each(?)) OR (u.path >= ? AND u.path < ?))
          ORDER BY u.depth DESC LIMIT 1000`,
    args: [
      CADENCE_KEYS.green,
      CADENCE_KEYS.yellow,
      CADENCE_KEYS.red,
      JSON.stringify(pathIds(scopePath)),
      lo,
      hi,
    ],
  });
  const rules: Record<HouseholdClass, CadenceRule[]> = { green: [], yellow: [], red: [] };
  for (const row of rs.rows) {
    const klass = (Object.keys(CADENCE_KEYS) as HouseholdClass[]).find((k) => CADENCE_KEYS[k] === row.key);
    const days = parseCadenceValue(String(row.value));
    if (!klass || days === undefined) continue;
    const [rlo, rhi] = subtreeRange(String(row.path));
    rules[klass].push({ lo: rlo, hi: rhi, depth: Number(row.depth), days });
  }
  return rules;
}

function sqlLiteral(value: string | number | null): string {
  if (value === null) return "NULL";
  if (typeof value === "number") return String(Math.trunc(value));
  return `'${value.replace(/'/g, "''")}'`;
}

/** A CASE over `unit_path` giving the cadence days of one class (deepest setting first, then the default). */
function cadenceSql(rules: CadenceRule[], fallback: number | null): string {
  if (rules.length === 0) return sqlLiteral(fallback);
  const sorted = [...rules].sort((a, b) => b.depth - a.depth);
  const whens = sorted
    .map(
      (r) =>
        `WHEN unit_path >= ${sqlLiteral(r.lo)} AND unit_path < ${sqlLiteral(r.hi)} THEN ${sqlLiteral(r.days)}`,
    )
    .join(" ");
  return `(CASE ${whens} ELSE ${sqlLiteral(fallback)} END)`;
}

const GREEN_REASONS = JSON.stringify([
  "income_stable",
  "income_at_or_above_village_average",
  "safe_family_last_3_years",
]);

export interface ReclassifyScope {
  path: string;
  level: string;
}

/**
 * The statements that recompute the class of every household in a subtree, set-based (the rules of
 * `classifyHousehold`, in SQL): village income totals are aggregated once per village in a CTE, then one
 * `UPDATE … FROM` rewrites only the households whose computed class, reasons, effective class or next due
 * date differ. Run them in one write transaction: the first result's `rowsAffected` is how many rows were
 * rewritten, the second statement counts the households that changed effective class.
 */
export async function reclassifyStatements(
  db: Db,
  scope: ReclassifyScope,
  asOf: Date,
  now: string,
): Promise<InStatement[]> {
  const [lo, hi] = subtreeRange(scope.path);
  const rules = await cadenceRules(db, scope.path);
  const shift3 = chinaYear(asOf) - 3 - SAFE_YEAR_BASE;
  const shift2 = chinaYear(asOf) - 2 - SAFE_YEAR_BASE;
  const above = "(income_per_capita * v.n >= v.s)";
  const safe3 = `(((safe_years_mask >> ${shift3}) & 7) = 7)`;
  const notSafe2 = `(((safe_years_mask >> ${shift2}) & 3) = 0)`;
  const cc = `(CASE WHEN red_tags <> '[]' THEN 'red' WHEN income_stable = 1 AND ${above} AND ${safe3} THEN 'green' ELSE 'yellow' END)`;
  const reasons = `(CASE WHEN red_tags <> '[]' THEN (SELECT json_group_array('member_' || value) FROM json_each(red_tags))
      WHEN income_stable = 1 AND ${above} AND ${safe3} THEN ${sqlLiteral(GREEN_REASONS)}
      ELSE (SELECT json_group_array(value) FROM json_each(json_array(
        CASE WHEN income_stable = 0 THEN 'income_not_stable' END,
        CASE WHEN NOT ${above} THEN 'income_below_village_average' END,
        CASE WHEN NOT ${safe3} THEN 'not_safe_family_last_3_years' END,
        CASE WHEN NOT ${above} AND ${notSafe2} THEN 'literal_yellow_rule' END)) WHERE type <> 'null') END)`;
  const ec = `(CASE WHEN override_class IS NOT NULL AND override_until > :asOf THEN override_class ELSE ${cc} END)`;
  const since = `(CASE WHEN class IS NOT ${ec} THEN :now ELSE class_since END)`;
  const days = `(CASE ${ec} WHEN 'green' THEN ${cadenceSql(rules.green, DEFAULT_CADENCE.green)} WHEN 'yellow' THEN ${cadenceSql(rules.yellow, DEFAULT_CADENCE.yellow)} ELSE ${cadenceSql(rules.red, DEFAULT_CADENCE.red)} END)`;
  const due = `(CASE WHEN ${days} IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', max(coalesce(last_visit_at, ''), ${since}), '+' || ${days} || ' days') END)`;
  const villageFilter =
    scope.level === "grid" ? "village_id = :village" : "unit_path >= :lo AND unit_path < :hi";
  const args: Record<string, InValue> = { lo, hi, asOf: asOf.toISOString(), now };
  if (scope.level === "grid") args.village = villageIdOf(scope.path) ?? "";
  return [
    {
      sql: `WITH v AS (SELECT village_id, sum(income_per_capita) AS s, count(*) AS n FROM households WHERE ${villageFilter} GROUP BY village_id)
            UPDATE households SET computed_class = ${cc}, class = ${ec}, class_reasons = ${reasons}, class_since = ${since},
              next_visit_due = ${due}, classified_at = :now, version = version + 1
            FROM v WHERE v.village_id = households.village_id AND households.unit_path >= :lo AND households.unit_path < :hi
              AND (computed_class IS NOT ${cc} OR class IS NOT ${ec} OR class_reasons IS NOT ${reasons} OR next_visit_due IS NOT ${due})`,
      args,
    },
    {
      sql: "SELECT count(*) AS n FROM households WHERE class_since = :now AND unit_path >= :lo AND unit_path < :hi",
      args: { now, lo, hi },
    },
  ];
}

/**
 * Households by effective class at `asOf` in a subtree. From a town up, the per-village counts kept by
 * triggers (the stored class) corrected by the overrides that expired since they were stored; from a village
 * down, counted from the households themselves (a few hundred rows at most).
 */
export async function classCounts(
  db: Db,
  path: string,
  level: string,
  asOf: Date,
): Promise<Record<HouseholdClass, number>> {
  const [lo, hi] = subtreeRange(path);
  const out: Record<HouseholdClass, number> = { green: 0, yellow: 0, red: 0 };
  if (level === "village" || level === "grid") {
    const rs = await db.$client.execute({
      sql: `SELECT ${EFFECTIVE_CLASS_SQL} AS eff, count(*) AS n FROM households
            WHERE unit_path >= :lo AND unit_path < :hi GROUP BY 1`,
      args: { lo, hi, asOf: asOf.toISOString() },
    });
    for (const r of rs.rows) out[r.eff as HouseholdClass] += Number(r.n);
    return out;
  }
  const [counts, overrides] = await db.$client.batch(
    [
      {
        sql: "SELECT class, sum(n) AS n FROM household_class_counts WHERE unit_path >= ? AND unit_path < ? GROUP BY class",
        args: [lo, hi],
      },
      {
        // Only households with an override (a partial index); without INDEXED BY the planner may walk the
        // whole subtree by path instead.
        sql: `SELECT class, ${EFFECTIVE_CLASS_SQL} AS eff, count(*) AS n FROM households INDEXED BY households_override_idx
              WHERE override_class IS NOT NULL AND unit_path >= :lo AND unit_path < :hi AND class IS NOT ${EFFECTIVE_CLASS_SQL}
              GROUP BY 1, 2`,
        args: { lo, hi, asOf: asOf.toISOString() },
      },
    ],
    "read",
  );
  for (const r of counts!.rows) out[r.class as HouseholdClass] += Number(r.n);
  // The stored class is the effective class as of the last write; an override that expired since moves its
  // household back to the computed class.
  for (const r of overrides!.rows) {
    out[r.class as HouseholdClass] -= Number(r.n);
    out[r.eff as HouseholdClass] += Number(r.n);
  }
  return out;
}

/** Overdue households (next contact due before `asOf`) in a subtree, by stored class. */
export async function overdueCounts(
  db: Db,
  path: string,
  level: string,
  asOf: Date,
): Promise<{ total: number; yellow: number; red: number; green: number }> {
  const [lo, hi] = subtreeRange(path);
  const rs = await db.$client.execute({
    sql: `SELECT class, count(*) AS n FROM households INDEXED BY ${overdueIndex(level)}
          WHERE next_visit_due < ? AND unit_path >= ? AND unit_path < ? GROUP BY class`,
    args: [asOf.toISOString(), lo, hi],
  });
  const out = { total: 0, green: 0, yellow: 0, red: 0 };
  for (const r of rs.rows) {
    out[r.class as HouseholdClass] += Number(r.n);
    out.total += Number(r.n);
  }
  return out;
}

/**
 * The index an overdue query should walk: for a county or the city the due-date index (only overdue rows are
 * read); below, the subtree's path range (only the subtree's rows are read).
 */
export function overdueIndex(level: string): string {
  return level === "city" || level === "county" ? "households_due_idx" : "households_path_due_idx";
}

/** The red tags present among member tag lists (JSON arrays), as stored on the household. */
export function storedRedTags(memberTagLists: readonly string[][]): string {
  const present = new Set(memberTagLists.flat());
  return JSON.stringify(RED_TAGS.filter((t) => present.has(t)));
}

/**
 * Moves households whose class override has expired back to their computed class and schedule: each grid
 * holding one is reclassified set-based (reads already show the computed class from the expiry instant on;
 * this catches up the stored class, the counts and `next_visit_due`). Bounded per run; returns the grids done.
 */
export async function expireOverrides(db: Db, now: Date, maxGrids = 200): Promise<number> {
  const rs = await db.$client.execute({
    sql: `SELECT DISTINCT unit_path FROM households INDEXED BY households_override_idx
          WHERE override_class IS NOT NULL AND override_until <= ? AND class IS NOT computed_class LIMIT ?`,
    args: [now.toISOString(), maxGrids],
  });
  for (const row of rs.rows) {
    const path = String(row.unit_path);
    const statements = await reclassifyStatements(db, { path, level: "grid" }, now, now.toISOString());
    await writeAudited(db, statements, [
      {
        actorId: null,
        actorRole: "system",
        scopePath: path,
        action: "household.override_expired",
        objectType: "unit",
        objectId: pathIds(path).at(-1) ?? null,
        outcome: "success",
        requestId: null,
      },
    ]);
  }
  return rs.rows.length;
}
