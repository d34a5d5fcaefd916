import { findUnit } from "../db/repos/units";
import {
  findUser,
  insertUserIfUnitExists,
  revokeSessions,
  type UserRow,
  updateUserIfCurrent,
  usernameTaken,
} from "../db/repos/users";
import { type Role, roleFitsLevel } from "../domain/roles";
import type { UnitLevel } from "../domain/units";
import type { Principal } from "../env";
import { hashPassword } from "../platform/crypto/password";
import { type AuditEntry, GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { assertInScope, forgetSessionState } from "../platform/http/auth";
import { checkVersion, staleVersion } from "../platform/http/if-match";
import { problems } from "../platform/http/problem";
import { type Caller, unitInScope } from "./units";

/** A user inside the caller's subtree; 404 for one outside it, as for a missing one. */
export async function userInScope(env: Cloudflare.Env, principal: Principal, id: string): Promise<UserRow> {
  const user = await findUser(env, id);
  assertInScope(principal, user?.unitPath, "user");
  return user!;
}

function assertRoleFits(role: Role, level: UnitLevel | null): void {
  if (!level || !roleFitsLevel(role, level)) {
    const message = `a ${role} cannot belong to a ${level}`;
    throw problems.badRequest(message, [{ path: "role", message }]);
  }
}

function audit(caller: Caller, action: string, user: UserRow, detail: Record<string, unknown>): AuditEntry {
  return {
    actorId: caller.principal.userId,
    actorRole: caller.principal.role,
    scopePath: user.unitPath,
    action,
    objectType: "user",
    objectId: user.id,
    outcome: "success",
    requestId: caller.requestId,
    detail,
  };
}

/** What POST /v1/users takes. */
export interface NewUser {
  username: string;
  displayName: string;
  role: Role;
  unitId: string;
  phone?: string;
  password: string;
}

/**
 * Creates a user in a unit of the caller's subtree, audited. The row is written only while the unit exists
 * (checked by the INSERT itself): 404 if the unit was deleted meanwhile, 409 if the username is taken.
 */
export async function createUser(env: Cloudflare.Env, caller: Caller, body: NewUser): Promise<UserRow> {
  const unit = await unitInScope(env, caller.principal, body.unitId);
  assertRoleFits(body.role, unit.level);
  const now = new Date().toISOString();
  const row: UserRow = {
    id: crypto.randomUUID(),
    username: body.username,
    displayName: body.displayName,
    role: body.role,
    unitId: unit.id,
    unitPath: unit.path,
    phone: body.phone ?? null,
    passwordHash: await hashPassword(body.password),
    disabled: false,
    version: 1,
    sessionEpoch: 0,
    createdAt: now,
    updatedAt: now,
    sessionChangedAt: 0,
  };
  const detail = { username: row.username, role: row.role, unitId: row.unitId };
  try {
    await writeAudited(
      getDb(env),
      [insertUserIfUnitExists(row)],
      [audit(caller, "user.create", row, detail)],
      {
        mustChange: [0],
      },
    );
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
    if (await usernameTaken(env, body.username))
      throw problems.conflict("duplicate-username", `The username ${body.username} is taken`);
    throw problems.notFound("unit");
  }
  return row;
}

/** What PATCH /v1/users/{id} takes. */
export interface UserChanges {
  displayName?: string;
  role?: Role;
  unitId?: string;
  phone?: string | null;
  password?: string;
  disabled?: boolean;
}

/**
 * Changes a user in one audited write guarded by the user's version (412 when `expectedVersion` is stale or
 * the version is lost to a concurrent writer) and by the existence of their unit (404 if it was deleted
 * meanwhile). Disabling, a password reset, a new role or a new unit revoke every session of the user: their
 * refresh tokens, and (through the raised session epoch) their access tokens for writes and reveals.
 */
export async function changeUser(
  env: Cloudflare.Env,
  caller: Caller,
  id: string,
  changes: UserChanges,
  expectedVersion: number | null,
): Promise<UserRow> {
  const { principal } = caller;
  const user = await userInScope(env, principal, id);
  if (Object.keys(changes).length === 0) throw problems.badRequest("Nothing to change");
  checkVersion(expectedVersion, user.version, "user");
  if (id === principal.userId && (changes.disabled === true || (changes.role && changes.role !== "admin"))) {
    throw problems.conflict("self-lockout", "Administrators cannot disable or demote themselves");
  }
  let unitPath = user.unitPath;
  let unitLevel: UnitLevel | null = null;
  if (changes.unitId && changes.unitId !== user.unitId) {
    const unit = await unitInScope(env, principal, changes.unitId);
    unitPath = unit.path;
    unitLevel = unit.level;
  }
  const role = changes.role ?? (user.role as Role);
  if (changes.role || changes.unitId) {
    unitLevel ??= (await findUnit(env, changes.unitId ?? user.unitId))?.level ?? null;
    assertRoleFits(role, unitLevel);
  }
  const now = new Date().toISOString();
  const revoke =
    changes.disabled === true ||
    changes.password !== undefined ||
    changes.role !== undefined ||
    changes.unitId !== undefined;
  const next: UserRow = {
    ...user,
    displayName: changes.displayName ?? user.displayName,
    role,
    unitId: changes.unitId ?? user.unitId,
    unitPath,
    phone: changes.phone === undefined ? user.phone : changes.phone,
    passwordHash: changes.password ? await hashPassword(changes.password) : user.passwordHash,
    disabled: changes.disabled ?? user.disabled,
    version: user.version + 1,
    // A raised epoch revokes the user's access tokens for writes and reveals at once, not in 15 minutes.
    sessionEpoch: user.sessionEpoch + (revoke ? 1 : 0),
    updatedAt: now,
  };
  const db = getDb(env);
  const statements = [updateUserIfCurrent(db, next, user.version)];
  if (revoke) statements.push(revokeSessions(db, id, now));
  const detail = {
    changed: Object.keys(changes).filter((k) => k !== "password"),
    passwordReset: changes.password !== undefined,
    sessionsRevoked: revoke,
  };
  try {
    await writeAudited(
      db,
      statements,
      [audit(caller, changes.disabled === true ? "user.disable" : "user.update", next, detail)],
      { mustChange: [0] },
    );
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
    if (!(await findUnit(env, next.unitId))) throw problems.notFound("unit");
    throw staleVersion(null, "user");
  }
  if (revoke) forgetSessionState(id);
  return next;
}
