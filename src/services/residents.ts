import type { HouseholdRow } from "../db/repos/households";
import {
  findResident,
  insertedResidentRow,
  insertResidentsStatement,
  memberTagLists,
  type ResidentRow,
  updateResidentStatement,
} from "../db/repos/residents";
import { parseIdNumber } from "../domain/id-number";
import { piiKeys } from "../platform/crypto/pii";
import { type Db, getDb } from "../platform/db/client";
import { checkVersion, staleVersion } from "../platform/http/if-match";
import { problems } from "../platform/http/problem";
import {
  assertIdNumbersFree,
  duplicateIdNumber,
  loadHousehold,
  type OpenedResident,
  openResident,
  planMembersChanged,
  type ResidentFields,
  sealResident,
  WritePlan,
} from "./households";
import { grantReveal, type RevealAsk } from "./pii-access";
import { type Actor, assertRegistryScope, auditEntry } from "./registry-audit";

type Env = Cloudflare.Env;

/** A resident in the caller's scope, or 404 (audited when it exists outside the scope). */
async function loadResident(env: Env, actor: Actor, id: string): Promise<ResidentRow> {
  return assertRegistryScope(env, actor, await findResident(getDb(env), id), "resident");
}

/** The 412 for a resident write that lost its version (the current one read back when it still exists). */
async function residentChanged(db: Db, id: string) {
  return staleVersion((await findResident(db, id))?.version ?? null, "resident");
}

/** Adds a resident to a household and reclassifies the household in the same write. */
export async function addResident(
  env: Env,
  actor: Actor,
  householdId: string,
  input: ResidentFields,
): Promise<ResidentRow> {
  const db = getDb(env);
  const household = await loadHousehold(env, actor, householdId);
  const sealed = await sealResident(
    await piiKeys(env.PII_KEY),
    crypto.randomUUID(),
    { householdId, unitPath: household.unitPath },
    input,
  );
  const unit = { id: household.unitId, path: household.unitPath };
  await assertIdNumbersFree(env, actor, unit, [{ resident: sealed, path: "idNumber" }]);
  const now = new Date().toISOString();
  const tagLists = await memberTagLists(db, householdId);
  const plan = new WritePlan();
  await planMembersChanged(db, plan, household, [...tagLists, [...sealed.tags]], now);
  plan.guard(insertResidentsStatement([sealed], now), () =>
    duplicateIdNumber("An ID number was registered meanwhile; nothing was written"),
  );
  await plan.run(db, [
    auditEntry(actor, "resident.create", "resident", sealed.id, household.unitPath, { householdId }),
  ]);
  return insertedResidentRow(sealed, now);
}

/** A resident, with its ID number and phone in clear when a reveal is granted (audited). */
export async function readResident(
  env: Env,
  actor: Actor,
  id: string,
  ask: RevealAsk,
): Promise<{ resident: ResidentRow; plain: OpenedResident | null }> {
  const resident = await loadResident(env, actor, id);
  const granted = await grantReveal(env, actor, ask, {
    objectType: "resident",
    objectId: id,
    scopePath: resident.unitPath,
    fields: ["idNumber", "phone", "tags", "name", "birthDate"],
  });
  const plain = granted ? await openResident(await piiKeys(env.PII_KEY), resident) : null;
  return { resident, plain };
}

/** A change to a resident as a client sends it (undefined = keep; null removes an ID number or phone). */
export interface ResidentPatch {
  name?: string;
  gender?: "male" | "female";
  birthDate?: string;
  idNumber?: string | null;
  phone?: string | null;
  relationship?: string;
  tags?: string[];
}

/** 400 unless the merged ID number agrees with the merged birth date and gender (the field named is the one sent). */
function assertIdNumberAgrees(merged: ResidentFields, patch: ResidentPatch, today: string): void {
  if (merged.idNumber === undefined) return;
  const parsed = parseIdNumber(merged.idNumber, today);
  const message = !parsed.ok
    ? parsed.message
    : parsed.birthDate !== merged.birthDate
      ? "the ID number's birth date is not birthDate"
      : parsed.gender !== merged.gender
        ? "the ID number's gender digit is not gender"
        : null;
  if (message) {
    const path =
      patch.idNumber !== undefined ? "idNumber" : patch.birthDate !== undefined ? "birthDate" : "gender";
    throw problems.badRequest(message, [{ path, message }]);
  }
}

/**
 * Changes a resident and reclassifies its household in the same write. 412 when `expectedVersion` (if
 * given) is stale or either version is lost to a concurrent writer; 409 for an ID number registered to
 * someone else.
 */
export async function updateResident(
  env: Env,
  actor: Actor,
  id: string,
  expectedVersion: number | null,
  patch: ResidentPatch,
  today: string,
): Promise<ResidentRow> {
  const db = getDb(env);
  const resident = await loadResident(env, actor, id);
  checkVersion(expectedVersion, resident.version, "resident");
  const household = await loadHousehold(env, actor, resident.householdId);
  const keys = await piiKeys(env.PII_KEY);
  const current = await openResident(keys, resident);
  const birthDate = patch.birthDate ?? current.birthDate;
  if (!birthDate) {
    const message = "the stored birth date is the year only; send the full birthDate with this change";
    throw problems.badRequest(message, [{ path: "birthDate", message }]);
  }
  const merged: ResidentFields = {
    name: patch.name ?? resident.name,
    gender: patch.gender ?? resident.gender,
    birthDate,
    idNumber: patch.idNumber === undefined ? (current.idNumber ?? undefined) : (patch.idNumber ?? undefined),
    phone: patch.phone === undefined ? (current.phone ?? undefined) : (patch.phone ?? undefined),
    relationship: patch.relationship ?? resident.relationship,
    tags: patch.tags ?? (JSON.parse(resident.tags) as string[]),
  };
  assertIdNumberAgrees(merged, patch, today);
  const sealed = await sealResident(keys, id, resident, merged);
  if (patch.idNumber) {
    const unit = { id: household.unitId, path: household.unitPath };
    await assertIdNumbersFree(env, actor, unit, [{ resident: sealed, path: "idNumber" }], id);
  }
  const now = new Date().toISOString();
  const row: ResidentRow = {
    ...insertedResidentRow(sealed, now),
    createdAt: resident.createdAt,
    version: resident.version + 1,
  };
  const plan = new WritePlan().guard(updateResidentStatement(db, row, resident.version), async () => {
    // Either the version moved on or the ID number was registered meanwhile: the stored row tells which.
    const stored = await findResident(db, id);
    return stored && stored.version === resident.version
      ? duplicateIdNumber("An ID number was registered meanwhile; nothing was written")
      : staleVersion(stored?.version ?? null, "resident");
  });
  const others = await memberTagLists(db, household.id, id);
  await planMembersChanged(db, plan, household, [...others, [...sealed.tags]], now);
  await plan.run(db, [
    auditEntry(actor, "resident.update", "resident", id, resident.unitPath, {
      householdId: household.id,
      fields: Object.keys(patch),
    }),
  ]);
  return row;
}

/** Moves a resident to another household; both households are reclassified in the same write. */
export async function moveResident(
  env: Env,
  actor: Actor,
  id: string,
  expectedVersion: number | null,
  input: { householdId: string; relationship?: string },
): Promise<ResidentRow> {
  const db = getDb(env);
  const resident = await loadResident(env, actor, id);
  checkVersion(expectedVersion, resident.version, "resident");
  if (input.householdId === resident.householdId) {
    throw problems.badRequest("The resident already lives in this household", [
      { path: "householdId", message: "same household" },
    ]);
  }
  const [from, to] = await Promise.all([
    loadHousehold(env, actor, resident.householdId),
    loadHousehold(env, actor, input.householdId),
  ]);
  const move = await planMove(db, resident, from, to, input.relationship);
  await move.plan.run(db, [
    auditEntry(actor, "resident.move", "resident", id, to.unitPath, {
      fromHouseholdId: from.id,
      toHouseholdId: to.id,
    }),
  ]);
  return move.row;
}

/**
 * The guarded write that moves `resident` from `from` to `to` and reclassifies both households (each guarded
 * by its version, the resident by its own), for a move or an approved transfer request; extra statements
 * (such as the request's own guarded state change) may be added before it runs.
 */
export async function planMove(
  db: Db,
  resident: ResidentRow,
  from: HouseholdRow,
  to: HouseholdRow,
  relationship?: string,
): Promise<{ plan: WritePlan; row: ResidentRow }> {
  const now = new Date().toISOString();
  const row: ResidentRow = {
    ...resident,
    householdId: to.id,
    unitPath: to.unitPath,
    relationship: relationship ?? resident.relationship,
    version: resident.version + 1,
    updatedAt: now,
  };
  const [fromTags, toTags] = await Promise.all([
    memberTagLists(db, from.id, resident.id),
    memberTagLists(db, to.id, resident.id),
  ]);
  const plan = new WritePlan().guard(updateResidentStatement(db, row, resident.version), () =>
    residentChanged(db, resident.id),
  );
  await planMembersChanged(db, plan, from, fromTags, now);
  await planMembersChanged(db, plan, to, [...toTags, JSON.parse(resident.tags) as string[]], now);
  return { plan, row };
}
