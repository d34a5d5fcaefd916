import type { InStatement } from "@libsql/client/web";
import {
  deleteUnitIfUnused,
  findUnit,
  insertPlannedUnits,
  insertUnit,
  moveSubtree,
  type UnitRow,
  unitDependants,
  unitsByCodes,
  updateUnit,
} from "../db/repos/units";
import { planUnitImport } from "../domain/unit-import";
import {
  checkUnitCode,
  childPosition,
  DESK_LEVELS,
  inScope,
  type UnitLevel,
  unitPath,
} from "../domain/units";
import { deskOfUnit } from "../durable/grid-desk/address";
import type { Principal } from "../env";
import { type AuditEntry, GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb, isConstraintViolation } from "../platform/db/client";
import { assertInScope } from "../platform/http/auth";
import { checkVersion, staleVersion } from "../platform/http/if-match";
import { Problem, problems } from "../platform/http/problem";
import type { Caller } from "./caller";
import { pushToDesks } from "./sla-policy";

export type { Caller };

function audit(
  caller: Caller,
  action: string,
  unit: { id: string | null; path: string },
  detail: Record<string, unknown>,
): AuditEntry {
  return {
    actorId: caller.principal.userId,
    actorRole: caller.principal.role,
    scopePath: unit.path,
    action,
    objectType: "unit",
    objectId: unit.id,
    outcome: "success",
    requestId: caller.requestId,
    detail,
  };
}

/** A unit inside the caller's subtree; 404 for one outside it, as for a missing one. */
export async function unitInScope(env: Cloudflare.Env, principal: Principal, id: string): Promise<UnitRow> {
  const unit = await findUnit(env, id);
  assertInScope(principal, unit?.path, "unit");
  return unit!;
}

function badField(path: string, message: string): Problem {
  return problems.badRequest(message, [{ path, message }]);
}

/** Creates a unit under a parent in the caller's subtree, checking its level and code; audited. */
export async function createUnit(
  env: Cloudflare.Env,
  caller: Caller,
  body: { code: string; name: string; level: UnitLevel; parentId: string },
): Promise<UnitRow> {
  const parent = await unitInScope(env, caller.principal, body.parentId);
  const position = childPosition(parent, body.level);
  if (typeof position === "string") throw badField("level", position);
  const codeError = checkUnitCode(body.code, position, parent.code);
  if (codeError) throw badField("code", codeError);
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  const row: UnitRow = {
    id,
    code: body.code,
    name: body.name,
    parentId: parent.id,
    path: unitPath(parent.path, id),
    level: position.level,
    gridLevel: position.gridLevel,
    depth: parent.depth + 1,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const db = getDb(env);
  try {
    await writeAudited(
      db,
      [insertUnit(db, row)],
      [audit(caller, "unit.create", row, { code: row.code, name: row.name })],
    );
  } catch (error) {
    if (isConstraintViolation(error))
      throw problems.conflict("duplicate-code", `A unit with code ${body.code} exists`);
    throw error;
  }
  // A new village or grid's desk gets its rules now, not by a libSQL read inside its first report.
  if ((DESK_LEVELS as readonly string[]).includes(row.level)) await pushToDesks(env, caller, row.path);
  return row;
}

/** The changes PATCH /v1/units/{id} takes. */
export interface UnitChanges {
  name?: string;
  parentId?: string;
  code?: string;
}

/**
 * Renames a unit or moves it with its subtree (rewriting descendants' codes and every stored path), in one
 * audited write guarded by the unit's version: 412 when `expectedVersion` is stale or the version is lost to
 * a concurrent writer.
 */
export async function changeUnit(
  env: Cloudflare.Env,
  caller: Caller,
  id: string,
  changes: UnitChanges,
  expectedVersion: number | null,
): Promise<UnitRow> {
  const unit = await unitInScope(env, caller.principal, id);
  if (Object.keys(changes).length === 0) throw problems.badRequest("Nothing to change");
  checkVersion(expectedVersion, unit.version, "unit");
  const now = new Date().toISOString();
  let next: UnitRow = { ...unit, name: changes.name ?? unit.name, version: unit.version + 1, updatedAt: now };
  const moving = changes.parentId !== undefined && changes.parentId !== unit.parentId;
  if (changes.code !== undefined && !moving && changes.code !== unit.code) {
    throw problems.badRequest("A unit's code changes only when it moves", [
      { path: "code", message: "give parentId too" },
    ]);
  }
  const statements: InStatement[] = [];
  if (moving) {
    if (!changes.code)
      throw problems.badRequest("Moving needs the new code", [
        { path: "code", message: "required when parentId changes" },
      ]);
    if (unit.level === "city")
      throw problems.badRequest("A city cannot move", [
        { path: "parentId", message: "a city has no parent" },
      ]);
    const parent = await unitInScope(env, caller.principal, changes.parentId!);
    if (inScope(unit.path, parent.path)) {
      throw problems.conflict("unit-cycle", "A unit cannot move under itself or its own descendant");
    }
    const position = childPosition(parent, unit.level);
    if (typeof position === "string" || position.gridLevel !== unit.gridLevel) {
      throw badField(
        "parentId",
        typeof position === "string" ? position : "a grid keeps its grid level when it moves",
      );
    }
    const codeError = checkUnitCode(changes.code, position, parent.code);
    if (codeError) throw badField("code", codeError);
    next = { ...next, parentId: parent.id, code: changes.code, path: unitPath(parent.path, unit.id) };
    statements.push(...moveSubtree(unit, next, now));
  }
  const db = getDb(env);
  statements.push(updateUnit(db, next, unit.version));
  const detail = {
    name: next.name,
    ...(moving ? { fromParentId: unit.parentId, toParentId: next.parentId, code: next.code } : {}),
  };
  try {
    await writeAudited(db, statements, [audit(caller, moving ? "unit.move" : "unit.update", next, detail)], {
      mustChange: [statements.length - 1],
    });
  } catch (error) {
    if (error instanceof GuardFailed) throw staleVersion(null, "unit");
    if (isConstraintViolation(error))
      throw problems.conflict("duplicate-code", "The new codes collide with existing units");
    throw error;
  }
  // The desks of a moved subtree now sit under other units, whose rules they inherit.
  if (moving) await pushToDesks(env, caller, next.path);
  return next;
}

/** The GridDesk of a unit, which holds the cases the unit owns (named by the unit's desk key). */
function deskOf(env: Cloudflare.Env, unitId: string) {
  return deskOfUnit(env, unitId);
}

/**
 * Deletes a unit that has no children, no data and no cases. The unit's desk is closed first (it refuses
 * new reports from then on, and refuses to close while it holds cases); then one conditional DELETE checks
 * every dependant table in the same statement, and its audit row commits only with it. If the DELETE changes
 * nothing, the desk is reopened (the unit still exists, in use: 409) or left closed (a concurrent DELETE
 * won: 404).
 */
export async function deleteUnit(env: Cloudflare.Env, caller: Caller, id: string): Promise<void> {
  const unit = await unitInScope(env, caller.principal, id);
  const desk = deskOf(env, id);
  const closed = await desk.closeForDeletion();
  if (!closed.ok) {
    throw problems.conflict("unit-has-cases", `The unit's desk still holds ${closed.cases} case(s)`);
  }
  try {
    await writeAudited(
      getDb(env),
      [deleteUnitIfUnused(id)],
      [audit(caller, "unit.delete", unit, { code: unit.code })],
      { mustChange: [0] },
    );
  } catch (error) {
    const dependants = await unitDependants(env, id).catch(() => []);
    if (dependants === null) throw problems.notFound("unit");
    await desk.reopen();
    if (!(error instanceof GuardFailed)) throw error;
    throw problems.conflict(
      "unit-in-use",
      dependants.length ? `The unit still has ${dependants.join(", ")}` : "The unit was in use; try again",
    );
  }
}

/** Imports units all or nothing, each row's parent an existing unit in scope or another row; audited. */
export async function importUnits(
  env: Cloudflare.Env,
  caller: Caller,
  rows: Array<{ code: string; name: string; level: UnitLevel; parentCode: string }>,
): Promise<{ imported: number; byLevel: Record<string, number> }> {
  const codes = [...new Set(rows.flatMap((r) => [r.code, r.parentCode]))];
  const existing = new Map((await unitsByCodes(env, codes)).map((u) => [u.code, u]));
  const plan = planUnitImport(rows, existing, (path) => inScope(caller.principal.unitPath, path));
  if (!plan.ok) {
    throw new Problem(
      400,
      "import-rows-invalid",
      `${plan.errors.length} row(s) are invalid; nothing was imported`,
      {
        errors: plan.errors.map((e) => ({ path: e.path, message: e.message })),
        extensions: { rowErrors: plan.errors },
      },
    );
  }
  const byLevel: Record<string, number> = {};
  for (const u of plan.units) byLevel[u.level] = (byLevel[u.level] ?? 0) + 1;
  const imported = plan.units.length;
  try {
    await writeAudited(getDb(env), insertPlannedUnits(plan.units, new Date().toISOString()), [
      audit(caller, "unit.import", { id: null, path: caller.principal.unitPath }, { imported, byLevel }),
    ]);
  } catch (error) {
    if (isConstraintViolation(error))
      throw problems.conflict("duplicate-code", "Some codes were created meanwhile; nothing was imported");
    throw error;
  }
  return { imported, byLevel };
}
