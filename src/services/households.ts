import type { InStatement, ResultSet } from "@libsql/client/web";
import type { HelperRow, HouseholdRow, NewHouseholdRow, UnitRef } from "../db/repos/households";
import * as repo from "../db/repos/households";
import {
  existingIdHmacs,
  insertedResidentRow,
  insertResidentsStatement,
  memberTagLists,
  type NewResidentRow,
  type ResidentRow,
  residentsOf,
} from "../db/repos/residents";
import {
  type ClassOverride,
  classifyHousehold,
  effectiveClass,
  HOUSEHOLD_CLASSES,
  type HouseholdClass,
  safeYearsFromMask,
  safeYearsMask,
  type VillageIncome,
} from "../domain/classification";
import { isRealDate, parseIdNumber } from "../domain/id-number";
import { can } from "../domain/permissions";
import { maskedBirthDate } from "../domain/pii";
import {
  CADENCE_KEYS,
  type Cadence,
  DEFAULT_CADENCE,
  nextVisitDue,
  parseCadenceValue,
  resolveCadence,
} from "../domain/service-plan";
import { inScope } from "../domain/units";
import type { Principal } from "../env";
import {
  lookupHmac,
  openBirthDate,
  openContact,
  type PiiKeys,
  piiKeys,
  sealIdentity,
} from "../platform/crypto/pii";
import { type AuditEntry, GuardFailed, writeAudited } from "../platform/db/audit";
import { type Db, getDb } from "../platform/db/client";
import { assertInScope } from "../platform/http/auth";
import { checkVersion, staleVersion } from "../platform/http/if-match";
import { type FieldError, Problem, problems } from "../platform/http/problem";
import {
  assertIdProbeAllowance,
  grantIdNumberSearch,
  grantReveal,
  purposeOf,
  type RevealAsk,
  refusedAsRegistered,
} from "./pii-access";
import { type Actor, assertRegistryScope, auditEntry } from "./registry-audit";

type Env = Cloudflare.Env;

// ── Who acts, and the audit rows they leave (see registry-audit.ts) ─────────────────────────────────

export type { Actor } from "./registry-audit";
export { auditEntry };

// ── Guarded writes ──────────────────────────────────────────────────────────────────────────────────

/**
 * The statements of one audited write, some of them guards: a guard must change a row (a version-checked
 * UPDATE, an insert conditional on its unit or on a free ID number), else everything rolls back and the
 * guard's problem is thrown.
 *
 * @example
 * const plan = new WritePlan();
 * plan.guard(updateHouseholdStatement(db, row, version), () => staleVersion(null, "household"));
 * await plan.run(db, [entry]);
 */
export class WritePlan {
  readonly statements: InStatement[] = [];
  private readonly guards = new Map<number, () => Problem | Promise<Problem>>();

  /** Adds statements that may change any number of rows. */
  add(...statements: InStatement[]): this {
    this.statements.push(...statements);
    return this;
  }

  /** Adds a statement that must change at least one row; `onFail` tells what it means when it changes none. */
  guard(statement: InStatement, onFail: () => Problem | Promise<Problem>): this {
    this.guards.set(this.statements.length, onFail);
    this.statements.push(statement);
    return this;
  }

  /** Runs the statements and the audit entries in one write transaction. */
  async run(db: Db, entries: AuditEntry[]): Promise<ResultSet[]> {
    try {
      return await writeAudited(db, this.statements, entries, { mustChange: [...this.guards.keys()] });
    } catch (error) {
      const onFail = error instanceof GuardFailed ? this.guards.get(error.statementIndex) : undefined;
      if (onFail) throw await onFail();
      throw error;
    }
  }
}

/** The 409 for an ID number registered to someone else (`errors` name the fields, when known). */
export function duplicateIdNumber(detail: string, errors?: FieldError[]): Problem {
  return new Problem(409, "duplicate-id-number", detail, errors ? { errors } : {});
}

// ── Loading within the caller's scope ───────────────────────────────────────────────────────────────

/** A unit in the caller's scope, or 404. */
export async function loadUnit(db: Db, principal: Principal, id: string): Promise<UnitRef> {
  const unit = await repo.findUnit(db, id);
  assertInScope(principal, unit?.path, "unit");
  return unit!;
}

/** A grid (level 2 or 3) in the caller's scope to hold households; 404 outside scope, 400 for another level. */
export async function loadGrid(db: Db, principal: Principal, id: string, field: string): Promise<UnitRef> {
  const unit = await loadUnit(db, principal, id);
  if (unit.level !== "grid") {
    const message = "households live in a level-2 or level-3 grid";
    throw problems.badRequest(message, [{ path: field, message }]);
  }
  return unit;
}

/** A household in the caller's scope, or 404 (audited when it exists outside the scope). */
export async function loadHousehold(env: Env, actor: Actor, id: string): Promise<HouseholdRow> {
  return assertRegistryScope(env, actor, await repo.findHousehold(getDb(env), id), "household");
}

// ── Residents' personal data ────────────────────────────────────────────────────────────────────────

/** A resident as a client sends it (validated). */
export interface ResidentFields {
  name: string;
  gender: "male" | "female";
  birthDate: string;
  idNumber?: string;
  phone?: string;
  relationship: string;
  tags: readonly string[];
}

/** A resident ready to insert: its ID number, phone and birth date sealed to its row, its tags de-duplicated. */
export async function sealResident(
  keys: PiiKeys,
  id: string,
  home: { householdId: string; unitPath: string },
  input: ResidentFields,
): Promise<NewResidentRow> {
  return {
    id,
    ...home,
    name: input.name,
    gender: input.gender,
    birthDateMasked: maskedBirthDate(Number(input.birthDate.slice(0, 4))),
    relationship: input.relationship,
    tags: [...new Set(input.tags)],
    ...(await sealIdentity(keys, "resident", id, input)),
  };
}

/** A resident's personal data in clear, for a granted and audited reveal or a change. */
export interface OpenedResident {
  idNumber: string | null;
  phone: string | null;
  /** The full birth date: sealed, else a legacy plaintext date, else the one the ID number encodes. */
  birthDate: string | null;
}

/** Opens a resident's ID number, phone and full birth date. */
export async function openResident(keys: PiiKeys, r: ResidentRow): Promise<OpenedResident> {
  const contact = await openContact(keys, "resident", r.id, r);
  let birthDate: string | null = null;
  if (r.birthDateEnc) birthDate = await openBirthDate(keys, "resident", r.id, r.birthDateEnc);
  else if (isRealDate(r.birthDateMasked)) birthDate = r.birthDateMasked;
  else if (contact.idNumber) {
    const parsed = parseIdNumber(contact.idNumber, "9999-12-31");
    birthDate = parsed.ok ? parsed.birthDate : null;
  }
  return { ...contact, birthDate };
}

/**
 * 409 for ID numbers that repeat within the request or already belong to another resident, and nothing
 * written. Numbers registered elsewhere in the city are a refusal that is audited (HMACs only) and counted per
 * user: the 409 names the transfer request as the next step, and past the hourly limit the answer is 429
 * (asked before anything is looked up, so the limit cannot be probed around).
 */
export async function assertIdNumbersFree(
  env: Env,
  actor: Actor,
  unit: { id: string; path: string },
  sealed: ReadonlyArray<{ resident: { idNumberHmac: string | null }; path: string }>,
  exceptResidentId?: string,
): Promise<void> {
  const seen = new Map<string, string>();
  const errors: FieldError[] = [];
  for (const { resident, path } of sealed) {
    if (!resident.idNumberHmac) continue;
    const first = seen.get(resident.idNumberHmac);
    if (first) errors.push({ path, message: `the same ID number as ${first}` });
    else seen.set(resident.idNumberHmac, path);
  }
  if (seen.size === 0 && errors.length === 0) return;
  await assertIdProbeAllowance(env, actor, unit.path);
  const existing = await existingIdHmacs(getDb(env), [...seen.keys()], exceptResidentId);
  const registered: string[] = [];
  for (const { resident, path } of sealed) {
    const hmac = resident.idNumberHmac;
    if (hmac && existing.has(hmac) && seen.get(hmac) === path) {
      errors.push({ path, message: "a resident with this ID number is already registered" });
      registered.push(hmac);
    }
  }
  if (errors.length === 0) return;
  const conflict = duplicateIdNumber("An ID number is already registered; nothing was written", errors);
  if (registered.length === 0) throw conflict;
  throw await refusedAsRegistered(env, actor, unit, registered, conflict);
}

// ── Classification ──────────────────────────────────────────────────────────────────────────────────

/** A household's own data as a client sends it (validated). */
export interface HouseholdFields {
  address: string;
  location?: { latitude: number; longitude: number };
  headName: string;
  incomePerCapita: number;
  incomeStable: boolean;
  safeFamilyYears: number[];
  notes?: string;
}

/** A new household classified with its village's totals (which already include it) and its grid's cadence. */
function classifiedNew(
  id: string,
  unit: { id: string; path: string },
  fields: HouseholdFields,
  memberTags: string[][],
  village: VillageIncome,
  cadence: Cadence,
  now: string,
): NewHouseholdRow {
  const result = classifyHousehold({ ...fields, memberTags: memberTags.flat() }, village, new Date(now));
  return {
    id,
    unit: { id: unit.id, path: unit.path },
    address: fields.address,
    location: fields.location ?? null,
    headName: fields.headName,
    incomePerCapita: fields.incomePerCapita,
    incomeStable: fields.incomeStable,
    safeFamilyYears: fields.safeFamilyYears,
    notes: fields.notes ?? null,
    redTags: repo.storedRedTags(memberTags),
    memberCount: memberTags.length,
    class: result.class,
    reasons: result.reasons,
    nextVisitDue: nextVisitDue(result.class, cadence, null, now),
  };
}

/** The stored override of a household, with who set it, or null. */
function overrideOf(h: HouseholdRow): (ClassOverride & { by: string }) | null {
  return h.overrideClass && h.overrideUntil
    ? {
        class: h.overrideClass,
        reason: h.overrideReason ?? "",
        until: h.overrideUntil,
        by: h.overrideBy ?? "",
      }
    : null;
}

/** Changes to a household's own data that a re-derivation applies (undefined = keep). */
export interface HouseholdChanges {
  address?: string;
  latitude?: number | null;
  longitude?: number | null;
  headName?: string;
  incomePerCapita?: number;
  incomeStable?: boolean;
  safeYearsMask?: number;
  notes?: string | null;
  override?: (ClassOverride & { by: string }) | null;
}

/**
 * A household re-derived after its data or its members changed: member tags → red tags, classification with
 * the village totals, next visit due, version + 1. Store it with `updateHouseholdStatement` as a guard.
 */
export function rederiveHousehold(
  h: HouseholdRow,
  next: {
    unit: { id: string; path: string };
    memberTagLists: string[][];
    village: VillageIncome;
    cadence: Cadence;
    now: string;
    changes?: HouseholdChanges;
  },
): HouseholdRow {
  const f = next.changes ?? {};
  const merged = {
    address: f.address ?? h.address,
    latitude: f.latitude !== undefined ? f.latitude : h.latitude,
    longitude: f.longitude !== undefined ? f.longitude : h.longitude,
    headName: f.headName ?? h.headName,
    incomePerCapita: f.incomePerCapita ?? h.incomePerCapita,
    incomeStable: f.incomeStable ?? h.incomeStable,
    safeYearsMask: f.safeYearsMask ?? h.safeYearsMask,
    notes: f.notes !== undefined ? f.notes : h.notes,
  };
  const override = f.override === undefined ? overrideOf(h) : f.override;
  const asOf = new Date(next.now);
  const result = classifyHousehold(
    {
      incomePerCapita: merged.incomePerCapita,
      incomeStable: merged.incomeStable,
      safeFamilyYears: safeYearsFromMask(merged.safeYearsMask),
      memberTags: next.memberTagLists.flat(),
    },
    next.village,
    asOf,
  );
  const klass = effectiveClass(result.class, override, asOf);
  const classSince = klass === h.class ? h.classSince : next.now;
  return {
    ...h,
    ...merged,
    unitId: next.unit.id,
    unitPath: next.unit.path,
    villageId: repo.villageIdOf(next.unit.path) ?? h.villageId,
    redTags: repo.storedRedTags(next.memberTagLists),
    memberCount: next.memberTagLists.length,
    computedClass: result.class,
    class: klass,
    classReasons: JSON.stringify(result.reasons),
    classSince,
    classifiedAt: next.now,
    overrideClass: override?.class ?? null,
    overrideReason: override?.reason ?? null,
    overrideUntil: override?.until ?? null,
    overrideBy: override?.by ?? null,
    nextVisitDue: nextVisitDue(klass, next.cadence, h.lastVisitAt, classSince),
    version: h.version + 1,
    updatedAt: next.now,
  };
}

/**
 * Adds to `plan` the guarded update of a household whose members' tag lists become `tagLists` (its village
 * and cadence read now); a concurrent change of the household answers 412.
 */
export async function planMembersChanged(
  db: Db,
  plan: WritePlan,
  household: HouseholdRow,
  tagLists: string[][],
  now: string,
): Promise<HouseholdRow> {
  const ctx = await repo.classificationContext(db, household.villageId, household.unitPath);
  const row = rederiveHousehold(household, {
    unit: { id: household.unitId, path: household.unitPath },
    memberTagLists: tagLists,
    village: ctx.village,
    cadence: ctx.cadence,
    now,
  });
  plan.guard(repo.updateHouseholdStatement(db, row, household.version), () =>
    staleVersion(null, "household"),
  );
  return row;
}

// ── Households ──────────────────────────────────────────────────────────────────────────────────────

/**
 * Registers a household in a grid with its residents, classified with its village's totals including it.
 * The insert happens only if the grid still exists (404 otherwise), and only if no ID number was registered
 * meanwhile (409). Returns the household and the residents as stored (so a client learns their ids).
 */
export async function createHousehold(
  env: Env,
  actor: Actor,
  input: HouseholdFields & { unitId: string; residents: ResidentFields[] },
): Promise<{ household: HouseholdRow; residents: ResidentRow[] }> {
  const db = getDb(env);
  const unit = await loadGrid(db, actor.principal, input.unitId, "unitId");
  const keys = await piiKeys(env.PII_KEY);
  const id = crypto.randomUUID();
  const members = await Promise.all(
    input.residents.map((r) =>
      sealResident(keys, crypto.randomUUID(), { householdId: id, unitPath: unit.path }, r),
    ),
  );
  await assertIdNumbersFree(
    env,
    actor,
    unit,
    members.map((resident, m) => ({ resident, path: `residents.${m}.idNumber` })),
  );
  const now = new Date().toISOString();
  const ctx = await repo.classificationContext(db, repo.villageIdOf(unit.path)!, unit.path);
  const village = {
    incomeSum: ctx.village.incomeSum + input.incomePerCapita,
    households: ctx.village.households + 1,
  };
  const tagLists = members.map((m) => [...m.tags]);
  const row = classifiedNew(id, unit, input, tagLists, village, ctx.cadence, now);
  const plan = new WritePlan().guard(repo.insertHouseholdsStatement([row], now), () =>
    problems.notFound("unit"),
  );
  if (members.length) {
    plan.guard(insertResidentsStatement(members, now), () =>
      duplicateIdNumber("An ID number was registered meanwhile; nothing was written"),
    );
  }
  await plan.run(db, [
    auditEntry(actor, "household.create", "household", id, unit.path, {
      class: row.class,
      residents: members.length,
    }),
  ]);
  return {
    household: repo.insertedHouseholdRow(row, now),
    residents: members.map((m) => insertedResidentRow(m, now)),
  };
}

/** One row of an import: the grid by code, the household and its residents. */
export interface ImportRow extends HouseholdFields {
  unitCode: string;
  residents: ResidentFields[];
}

/** What an import wrote. */
export interface ImportResult {
  imported: number;
  residents: number;
  byClass: Record<HouseholdClass, number>;
  villages: number;
}

const IMPORT_CHUNK = 2_000;

/**
 * Imports households with residents, all or nothing: every bad row is reported (400, 409 for ID numbers),
 * households are classified with their villages' totals including the import.
 */
export async function importHouseholds(env: Env, actor: Actor, rows: ImportRow[]): Promise<ImportResult> {
  const db = getDb(env);
  const now = new Date().toISOString();
  const byCode = await repo.unitsByCode(db, [...new Set(rows.map((r) => r.unitCode))]);
  const rowErrors: Array<{ index: number; path: string; message: string }> = [];
  rows.forEach((row, index) => {
    const unit = byCode.get(row.unitCode);
    const path = `rows.${index}.unitCode`;
    if (!unit || !inScope(actor.principal.unitPath, unit.path)) {
      rowErrors.push({ index, path, message: "no such grid in your scope" });
    } else if (unit.level !== "grid") {
      rowErrors.push({ index, path, message: "households live in a level-2 or level-3 grid" });
    }
  });
  if (rowErrors.length) {
    throw new Problem(
      400,
      "import-rows-invalid",
      `${rowErrors.length} row(s) are invalid; nothing was imported`,
      {
        errors: rowErrors.map((e) => ({ path: e.path, message: e.message })),
        extensions: { rowErrors },
      },
    );
  }
  const keys = await piiKeys(env.PII_KEY);
  const householdIds = rows.map(() => crypto.randomUUID());
  const sealed: Array<{ resident: NewResidentRow; path: string }> = [];
  for (const [index, row] of rows.entries()) {
    const home = { householdId: householdIds[index]!, unitPath: byCode.get(row.unitCode)!.path };
    for (const [m, input] of row.residents.entries()) {
      sealed.push({
        resident: await sealResident(keys, crypto.randomUUID(), home, input),
        path: `rows.${index}.residents.${m}.idNumber`,
      });
    }
  }
  await assertIdNumbersFree(
    env,
    actor,
    { id: actor.principal.unitId, path: actor.principal.unitPath },
    sealed,
  );

  const grids = [...new Set(rows.map((r) => byCode.get(r.unitCode)!))];
  const villageIds = [...new Set(grids.map((u) => repo.villageIdOf(u.path)!))];
  const [totals, cadences] = await Promise.all([
    repo.villageTotals(db, villageIds),
    repo.cadencesOf(db, grids),
  ]);
  for (const row of rows) {
    const v = repo.villageIdOf(byCode.get(row.unitCode)!.path)!;
    const t = totals.get(v) ?? { incomeSum: 0, households: 0 };
    totals.set(v, { incomeSum: t.incomeSum + row.incomePerCapita, households: t.households + 1 });
  }
  const byClass: Record<HouseholdClass, number> = { green: 0, yellow: 0, red: 0 };
  const newRows = rows.map((row, index) => {
    const unit = byCode.get(row.unitCode)!;
    const tags = row.residents.map((r) => [...r.tags]);
    const village = totals.get(repo.villageIdOf(unit.path)!)!;
    const created = classifiedNew(
      householdIds[index]!,
      unit,
      row,
      tags,
      village,
      cadences.get(unit.id)!,
      now,
    );
    byClass[created.class] += 1;
    return created;
  });
  const plan = new WritePlan();
  for (let i = 0; i < newRows.length; i += IMPORT_CHUNK) {
    plan.guard(repo.insertHouseholdsStatement(newRows.slice(i, i + IMPORT_CHUNK), now), () =>
      problems.notFound("grid (one was deleted or moved meanwhile; nothing was imported)"),
    );
  }
  for (let i = 0; i < sealed.length; i += IMPORT_CHUNK) {
    const chunk = sealed.slice(i, i + IMPORT_CHUNK).map((s) => s.resident);
    plan.guard(insertResidentsStatement(chunk, now), () =>
      duplicateIdNumber("An ID number was registered meanwhile; nothing was imported"),
    );
  }
  const result = { imported: newRows.length, residents: sealed.length, byClass, villages: villageIds.length };
  await plan.run(db, [
    auditEntry(actor, "household.import", "household", null, actor.principal.unitPath, {
      imported: result.imported,
      residents: result.residents,
      byClass,
    }),
  ]);
  return result;
}

/** A households query: filters, the instant classes are read at, and the page (`limit + 1` rows are read). */
export interface HouseholdQuery {
  unitId?: string;
  class?: HouseholdClass;
  q?: string;
  asOf: Date;
  after: { unitPath: string; id: string } | null;
  limit: number;
  /** The `x-purpose` header, required and recorded when the search is by ID number. */
  purpose?: string;
  /** The `x-purpose-ref` header. */
  purposeRef?: string;
}

/**
 * Households in a subtree of the caller's scope. A search by an exact ID number is a use of it: only roles
 * that may see ID numbers (403 otherwise), and it is audited before it runs.
 */
export async function listHouseholds(env: Env, actor: Actor, query: HouseholdQuery): Promise<HouseholdRow[]> {
  const db = getDb(env);
  const principal = actor.principal;
  const scopePath = query.unitId ? (await loadUnit(db, principal, query.unitId)).path : principal.unitPath;
  let idNumberHmac: string | undefined;
  let text: string | undefined;
  if (query.q) {
    const id = parseIdNumber(query.q, "9999-12-31");
    if (id.ok) {
      idNumberHmac = await lookupHmac(await piiKeys(env.PII_KEY), "id_number", id.idNumber);
      await grantIdNumberSearch(env, actor, query, { scopePath, idNumberHmac });
    } else {
      text = query.q;
    }
  } else {
    purposeOf(query);
  }
  return repo.listHouseholds(db, {
    scopePath,
    class: query.class,
    asOf: query.asOf,
    idNumberHmac,
    text,
    after: query.after,
    limit: query.limit + 1,
  });
}

/** A household with its members and helpers; `reveal` when its sensitive reasons may be shown (audited). */
export async function householdDetail(
  env: Env,
  actor: Actor,
  id: string,
  ask: RevealAsk,
): Promise<{ household: HouseholdRow; reveal: boolean; members: ResidentRow[]; helpers: HelperRow[] }> {
  const db = getDb(env);
  const household = await loadHousehold(env, actor, id);
  const reveal = await grantReveal(env, actor, ask, {
    objectType: "household",
    objectId: id,
    scopePath: household.unitPath,
    fields: ["classReasons"],
  });
  const [members, helpers] = await Promise.all([residentsOf(db, id), repo.helpersOf(db, id)]);
  return { household, reveal, members, helpers };
}

/** A change to a household as a client sends it (validated; undefined = keep, null = remove). */
export interface HouseholdPatch {
  unitId?: string;
  address?: string;
  location?: { latitude: number; longitude: number } | null;
  headName?: string;
  incomePerCapita?: number;
  incomeStable?: boolean;
  safeFamilyYears?: number[];
  notes?: string | null;
  override?: { class: HouseholdClass; reason: string; until: string } | null;
}

const MAX_OVERRIDE_MS = 366 * 86_400_000;

/** The override a patch sets (undefined = keep, null = remove); 403 for roles that may not, 400 for a bad expiry. */
function overrideFrom(actor: Actor, patch: HouseholdPatch, now: string): HouseholdChanges["override"] {
  if (patch.override === undefined) return undefined;
  if (!can(actor.principal.role, "households.override")) {
    throw problems.forbidden("Only admin and center_staff may override a class");
  }
  if (patch.override === null) return null;
  const until = Date.parse(patch.override.until);
  if (until <= Date.parse(now) || until > Date.parse(now) + MAX_OVERRIDE_MS) {
    const message = "the expiry must be in the future and at most 366 days ahead";
    throw problems.badRequest(message, [{ path: "override.until", message }]);
  }
  return { ...patch.override, until: new Date(until).toISOString(), by: actor.principal.userId };
}

/**
 * Changes a household (possibly moving it to another grid, with its members, visits, helpers and pairings)
 * and reclassifies it in the same write. 412 when `expectedVersion` is stale or lost to a concurrent writer.
 */
export async function updateHousehold(
  env: Env,
  actor: Actor,
  id: string,
  expectedVersion: number,
  patch: HouseholdPatch,
): Promise<HouseholdRow> {
  const db = getDb(env);
  const household = await loadHousehold(env, actor, id);
  checkVersion(expectedVersion, household.version, "household");
  const now = new Date().toISOString();
  const override = overrideFrom(actor, patch, now);
  const unit =
    patch.unitId && patch.unitId !== household.unitId
      ? await loadGrid(db, actor.principal, patch.unitId, "unitId")
      : null;
  const target = unit ?? { id: household.unitId, path: household.unitPath };
  const targetVillage = repo.villageIdOf(target.path)!;
  const [ctx, tagLists] = await Promise.all([
    repo.classificationContext(db, targetVillage, target.path),
    memberTagLists(db, id),
  ]);
  const sameVillage = targetVillage === household.villageId;
  const village = {
    incomeSum:
      ctx.village.incomeSum -
      (sameVillage ? household.incomePerCapita : 0) +
      (patch.incomePerCapita ?? household.incomePerCapita),
    households: ctx.village.households + (sameVillage ? 0 : 1),
  };
  const row = rederiveHousehold(household, {
    unit: target,
    memberTagLists: tagLists,
    village,
    cadence: ctx.cadence,
    now,
    changes: {
      address: patch.address,
      latitude: patch.location === undefined ? undefined : (patch.location?.latitude ?? null),
      longitude: patch.location === undefined ? undefined : (patch.location?.longitude ?? null),
      headName: patch.headName,
      incomePerCapita: patch.incomePerCapita,
      incomeStable: patch.incomeStable,
      safeYearsMask: patch.safeFamilyYears ? safeYearsMask(patch.safeFamilyYears) : undefined,
      notes: patch.notes,
      override,
    },
  });
  const plan = new WritePlan().guard(repo.updateHouseholdStatement(db, row, household.version), async () =>
    staleVersion((await repo.findHousehold(db, id))?.version ?? null, "household"),
  );
  if (unit) plan.add(...repo.followHouseholdStatements(db, id, unit.path));
  const entries = [
    auditEntry(actor, unit ? "household.move" : "household.update", "household", id, row.unitPath, {
      fields: Object.keys(patch).filter((k) => k !== "override"),
      class: row.class,
      ...(unit ? { fromUnitId: household.unitId, toUnitId: unit.id } : {}),
    }),
  ];
  if (override !== undefined) {
    const action = override ? "household.override" : "household.override_removed";
    entries.push(
      auditEntry(actor, action, "household", id, row.unitPath, {
        computedClass: row.computedClass,
        ...(override ? { class: override.class, reason: override.reason, until: override.until } : {}),
      }),
    );
  }
  await plan.run(db, entries);
  return row;
}

// ── Subtrees: reclassification, summary, service plan ───────────────────────────────────────────────

/** What a reclassification changed. */
export interface ReclassifyResult {
  unitId: string;
  asOf: string;
  byClass: Record<HouseholdClass, number>;
  examined: number;
  changed: number;
  updated: number;
  ms: number;
}

/** Runs the set-based reclassification of a subtree in one audited write; returns its statements' results. */
async function reclassifySubtree(
  db: Db,
  actor: Actor,
  unit: UnitRef,
  asOf: Date,
  now: string,
  reason?: string,
) {
  const statements = await repo.reclassifyStatements(db, unit, asOf, now);
  return writeAudited(db, statements, [
    auditEntry(
      actor,
      "household.reclassify",
      "unit",
      unit.id,
      unit.path,
      reason ? { reason } : { asOf: asOf.toISOString() },
    ),
  ]);
}

/** Reclassifies every household of a subtree at `asOf`, set-based. */
export async function reclassifyUnit(
  env: Env,
  actor: Actor,
  unitId: string,
  asOf: Date,
): Promise<ReclassifyResult> {
  const db = getDb(env);
  const unit = await loadUnit(db, actor.principal, unitId);
  const started = Date.now();
  const results = await reclassifySubtree(db, actor, unit, asOf, new Date().toISOString());
  const byClass = await repo.classCounts(db, unit.path, unit.level, asOf);
  return {
    unitId: unit.id,
    asOf: asOf.toISOString(),
    byClass,
    examined: byClass.green + byClass.yellow + byClass.red,
    changed: Number(results[1]!.rows[0]!.n),
    updated: results[0]!.rowsAffected,
    ms: Date.now() - started,
  };
}

/** Households by class and overdue visits in a subtree at `asOf`. */
export async function householdSummary(env: Env, actor: Actor, unitId: string, asOf: Date) {
  const db = getDb(env);
  const unit = await loadUnit(db, actor.principal, unitId);
  const [byClass, overdue] = await Promise.all([
    repo.classCounts(db, unit.path, unit.level, asOf),
    repo.overdueCounts(db, unit.path, unit.level, asOf),
  ]);
  return {
    unitId: unit.id,
    asOf: asOf.toISOString(),
    total: byClass.green + byClass.yellow + byClass.red,
    byClass,
    overdue,
  };
}

/** The visit cadence in force for a unit, and the unit each value comes from (null = the default). */
export interface ServicePlan {
  unitId: string;
  cadence: Cadence;
  source: Record<HouseholdClass, string | null>;
}

async function servicePlanOf(db: Db, unit: UnitRef): Promise<ServicePlan> {
  const settings = await repo.cadenceSettingsOnPath(db, unit.path);
  const source: Record<HouseholdClass, string | null> = { green: null, yellow: null, red: null };
  for (const klass of HOUSEHOLD_CLASSES) {
    const found = settings
      .filter((s) => s.key === CADENCE_KEYS[klass] && parseCadenceValue(s.value) !== undefined)
      .sort((a, b) => b.depth - a.depth)[0];
    source[klass] = found?.unitId ?? null;
  }
  return { unitId: unit.id, cadence: resolveCadence(settings), source };
}

/** The service plan of a unit in the caller's scope. */
export async function getServicePlan(env: Env, actor: Actor, unitId: string): Promise<ServicePlan> {
  const db = getDb(env);
  return servicePlanOf(db, await loadUnit(db, actor.principal, unitId));
}

/** Sets a unit's own cadences and reschedules its subtree; returns the new plan and how many were rescheduled. */
export async function setServicePlan(
  env: Env,
  actor: Actor,
  unitId: string,
  values: Partial<Record<HouseholdClass, number | "none" | "inherit">>,
): Promise<ServicePlan & { rescheduled: number }> {
  const db = getDb(env);
  const unit = await loadUnit(db, actor.principal, unitId);
  const now = new Date().toISOString();
  const statements = HOUSEHOLD_CLASSES.flatMap((klass) => {
    const value = values[klass];
    return value === undefined ? [] : [repo.setCadenceStatement(db, unit.id, klass, value, now)];
  });
  await writeAudited(db, statements, [
    auditEntry(actor, "service_plan.update", "unit", unit.id, unit.path, {
      ...values,
      defaults: DEFAULT_CADENCE,
    }),
  ]);
  // The new cadences reschedule every household of the subtree (set-based, like a reclassification).
  const results = await reclassifySubtree(db, actor, unit, new Date(now), now, "service plan changed");
  return { ...(await servicePlanOf(db, unit)), rescheduled: results[0]!.rowsAffected };
}

// ── Helpers (帮扶人) ─────────────────────────────────────────────────────────────────────────────────

/** The line a helper serves on, by their role; roles absent here cannot help. */
const HELPER_LINES: Record<string, string> = {
  grid_worker: "grid_worker",
  party_member: "party_member",
  deputy: "deputy",
  household_lead: "household_lead",
  center_staff: "center_staff",
};

/** Names a helper whose unit covers the household; 409 when they already help it. */
export async function addHelper(
  env: Env,
  actor: Actor,
  householdId: string,
  input: { userId: string; kind: "one_to_one" | "one_to_many" },
): Promise<Omit<HelperRow, "householdId" | "unitPath" | "createdBy">> {
  const db = getDb(env);
  const household = await loadHousehold(env, actor, householdId);
  const user = await repo.findUserRef(db, input.userId);
  // The helper must work where the household lives: their unit is the household's grid or one above it.
  if (!user || user.disabled || !inScope(user.unitPath, household.unitPath)) {
    throw problems.badRequest("The helper must be an active user whose unit covers the household", [
      { path: "userId", message: "not a user covering this household" },
    ]);
  }
  const line = HELPER_LINES[user.role];
  if (!line) {
    throw problems.badRequest("A helper is a grid worker, centre staff or a three-line contact", [
      { path: "userId", message: `a ${user.role} cannot be a helper` },
    ]);
  }
  const helper = {
    id: crypto.randomUUID(),
    userId: input.userId,
    line,
    kind: input.kind,
    since: new Date().toISOString(),
    until: null,
  };
  const statement = repo.insertHelperStatement(db, {
    ...helper,
    householdId,
    unitPath: household.unitPath,
    createdBy: actor.principal.userId,
  });
  await new WritePlan()
    .guard(statement, () => problems.conflict("helper-exists", "This user already helps this household"))
    .run(db, [
      auditEntry(actor, "household.helper_added", "household", householdId, household.unitPath, {
        userId: helper.userId,
        line,
        kind: helper.kind,
      }),
    ]);
  return helper;
}

/** Ends a helper pairing, keeping its history; 404 when the user does not help the household. */
export async function endHelper(env: Env, actor: Actor, householdId: string, userId: string): Promise<void> {
  const db = getDb(env);
  const household = await loadHousehold(env, actor, householdId);
  const statement = repo.endHelperStatement(db, householdId, userId, new Date().toISOString());
  await new WritePlan()
    .guard(statement, () => problems.notFound("helper pairing"))
    .run(db, [
      auditEntry(actor, "household.helper_ended", "household", householdId, household.unitPath, { userId }),
    ]);
}
