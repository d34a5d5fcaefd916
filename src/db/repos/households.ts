import type { InStatement, InValue } from "@libsql/client/web";
import {
  chinaYear,
  type HouseholdClass,
  RED_TAGS,
  SAFE_YEAR_BASE,
  type VillageIncome,
} from "../../domain/classification";
import {
  CADENCE_KEYS,
  type Cadence,
  DEFAULT_CADENCE,
  parseCadenceValue,
  resolveCadence,
} from "../../domain/service-plan";
import { pathIds, subtreeRange } from "../../domain/units";
import { writeAudited } from "../../platform/db/audit";
import type { Db } from "../../platform/db/client";
import type { households, residents } from "../schema";

export type HouseholdRow = typeof households.$inferSelect;
export type ResidentRow = typeof residents.$inferSelect;

/** The village (level-1 grid) id on a grid's path. */
export function villageIdOf(path: string): string | undefined {
  return pathIds(path)[3];
}

const HOUSEHOLD_COLUMNS = `id, unit_id AS unitId, unit_path AS unitPath, village_id AS villageId, address, latitude, longitude,
  head_name AS headName, income_per_capita AS incomePerCapita, income_stable AS incomeStable,
  safe_years_mask AS safeYearsMask, notes, red_tags AS redTags, member_count AS memberCount,
  computed_class AS computedClass, class, class_reasons AS classReasons, class_since AS classSince,
  classified_at AS classifiedAt, override_class AS overrideClass, override_reason AS overrideReason,
  override_until AS overrideUntil, override_by AS overrideBy, last_visit_at AS lastVisitAt,
  next_visit_due AS nextVisitDue, version, created_at AS createdAt, updated_at AS updatedAt`;

/** Maps a raw libSQL row selected with `HOUSEHOLD_COLUMNS` to a typed row. */
export function toHouseholdRow(r: Record<string, unknown>): HouseholdRow {
  return {
    id: String(r.id),
    unitId: String(r.unitId),
    unitPath: String(r.unitPath),
    villageId: String(r.villageId),
    address: String(r.address),
    latitude: r.latitude === null ? null : Number(r.latitude),
    longitude: r.longitude === null ? null : Number(r.longitude),
    headName: String(r.headName),
    incomePerCapita: Number(r.incomePerCapita),
    incomeStable: Number(r.incomeStable) === 1,
    safeYearsMask: Number(r.safeYearsMask),
    notes: r.notes === null ? null : String(r.notes),
    redTags: String(r.redTags),
    memberCount: Number(r.memberCount),
    computedClass: r.computedClass as HouseholdClass,
    class: r.class as HouseholdClass,
    classReasons: String(r.classReasons),
    classSince: String(r.classSince),
    classifiedAt: String(r.classifiedAt),
    overrideClass: (r.overrideClass ?? null) as HouseholdClass | null,
    overrideReason: (r.overrideReason ?? null) as string | null,
    overrideUntil: (r.overrideUntil ?? null) as string | null,
    overrideBy: (r.overrideBy ?? null) as string | null,
    lastVisitAt: (r.lastVisitAt ?? null) as string | null,
    nextVisitDue: (r.nextVisitDue ?? null) as string | null,
    version: Number(r.version),
    createdAt: String(r.createdAt),
    updatedAt: String(r.updatedAt),
  };
}

/** SELECT list for households, for building list queries. */
export const householdSelect = `SELECT ${HOUSEHOLD_COLUMNS} FROM households`;

/** One household by id, or undefined. */
export async function findHousehold(db: Db, id: string): Promise<HouseholdRow | undefined> {
  const rs = await db.$client.execute({ sql: `${householdSelect} WHERE id = ?`, args: [id] });
  return rs.rows[0] ? toHouseholdRow(rs.rows[0] as Record<string, unknown>) : undefined;
}

const RESIDENT_COLUMNS = `id, household_id AS householdId, unit_path AS unitPath, name, gender, birth_date AS birthDate,
  id_number_enc AS idNumberEnc, id_number_hmac AS idNumberHmac, id_number_masked AS idNumberMasked,
  phone_enc AS phoneEnc, phone_masked AS phoneMasked, relationship, tags, version,
  created_at AS createdAt, updated_at AS updatedAt`;

export const residentSelect = `SELECT ${RESIDENT_COLUMNS} FROM residents`;

/** Maps a raw libSQL row selected with `residentSelect` to a typed row. */
export function toResidentRow(r: Record<string, unknown>): ResidentRow {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: String(r.id),
    householdId: String(r.householdId),
    unitPath: String(r.unitPath),
    name: String(r.name),
    gender: r.gender as "male" | "female",
    birthDate: String(r.birthDate),
    idNumberEnc: text(r.idNumberEnc),
    idNumberHmac: text(r.idNumberHmac),
    idNumberMasked: text(r.idNumberMasked),
    phoneEnc: text(r.phoneEnc),
    phoneMasked: text(r.phoneMasked),
    relationship: String(r.relationship),
    tags: String(r.tags),
    version: Number(r.version),
    createdAt: String(r.createdAt),
    updatedAt: String(r.updatedAt),
  };
}

/** The household's village income totals and the cadence settings on its grid's path, in one round trip. */
export async function classificationContext(
  db: Db,
  villageId: string,
  unitPath: string,
): Promise<{ village: VillageIncome; cadence: Cadence }> {
  const ids = pathIds(unitPath);
  const [sums, settings] = await db.$client.batch(
    [
      {
        sql: "SELECT coalesce(sum(income_per_capita), 0) AS s, count(*) AS n FROM households WHERE village_id = ?",
        args: [villageId],
      },
      {
        sql: `SELECT u.depth AS depth, s.key AS key, s.value AS value FROM unit_settings s JOIN units u ON u.id = s.unit_id
              WHERE s.unit_id IN (SELECT value FROM json_each(?)) AND s.key IN (?, ?, ?)`,
        args: [JSON.stringify(ids), CADENCE_KEYS.green, CADENCE_KEYS.yellow, CADENCE_KEYS.red],
      },
    ],
    "read",
  );
  return {
    village: { incomeSum: Number(sums!.rows[0]!.s), households: Number(sums!.rows[0]!.n) },
    cadence: resolveCadence(
      settings!.rows.map((r) => ({ depth: Number(r.depth), key: String(r.key), value: String(r.value) })),
    ),
  };
}

/** The ids of residents already holding any of these ID-number HMACs (other than `exceptResidentId`). */
export async function existingIdHmacs(
  db: Db,
  hmacs: string[],
  exceptResidentId?: string,
): Promise<Set<string>> {
  if (hmacs.length === 0) return new Set();
  const rs = await db.$client.execute({
    sql: "SELECT id_number_hmac AS h FROM residents WHERE id_number_hmac IN (SELECT value FROM json_each(?)) AND id <> ?",
    args: [JSON.stringify(hmacs), exceptResidentId ?? ""],
  });
  return new Set(rs.rows.map((r) => String(r.h)));
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
 * A statement that fails the surrounding write transaction unless the statement just before it changed
 * exactly one row: placed after a version-guarded UPDATE, a lost race rolls back everything (SQLite has no
 * RAISE outside triggers, so it fails by parsing invalid JSON; `isStaleGuardError` recognizes that).
 */
export const STALE_GUARD: InStatement = {
  sql: "SELECT CASE WHEN changes() = 1 THEN 1 ELSE json('stale version') END",
  args: [],
};

/** Whether a write failed on `STALE_GUARD`. */
export function isStaleGuardError(error: unknown): boolean {
  return /malformed JSON/i.test(`${String(error)} ${String((error as { cause?: unknown })?.cause ?? "")}`);
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
