import {
  activePairing,
  coverageCounts,
  endPairing,
  householdsForPairing,
  insertPairing,
  type PairingRow,
  profileOf,
  settingsOnPath,
  type UserPlace,
  upsertProfile,
} from "../db/repos/contacts";
import {
  checkPairingLine,
  DEFAULT_MAX_HOUSEHOLDS,
  type DeputyLevel,
  isLine,
  type Line,
  lineCoverage,
  MAX_HOUSEHOLDS_KEY,
  overloaded,
  parseMaxHouseholds,
  resolveSetting,
  share,
} from "../domain/contacts";
import { inScope } from "../domain/units";
import { GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { Problem, problems } from "../platform/http/problem";
import { auditBy, type Caller, unitInScope } from "./caller";
import { userInScope } from "./three-lines";

/** A contact's profile with their active pairings, as the contacts endpoints return it. */
export interface ContactProfile {
  userId: string;
  line: Line;
  displayName: string;
  unitId: string;
  partyBranch: string | null;
  branchUnitId: string | null;
  deputyLevel: DeputyLevel | null;
  stationId: string | null;
  households: PairingRow[];
}

const audit = (
  caller: Caller,
  action: string,
  scopePath: string,
  contactId: string,
  detail: Record<string, unknown>,
) => auditBy(caller, action, { type: "contact", id: contactId, scopePath }, detail);

async function profileView(env: Cloudflare.Env, user: UserPlace & { role: Line }): Promise<ContactProfile> {
  const { profile, pairings } = await profileOf(getDb(env), user.id);
  return {
    userId: user.id,
    line: user.role,
    displayName: user.displayName,
    unitId: user.unitId,
    partyBranch: profile?.partyBranch ?? null,
    branchUnitId: profile?.branchUnitId ?? null,
    deputyLevel: profile?.deputyLevel ?? null,
    stationId: profile?.stationId ?? null,
    households: pairings,
  };
}

/** A three-line contact in the caller's subtree, with their profile; 404 for anyone else. */
export async function getProfile(
  env: Cloudflare.Env,
  caller: Caller,
  userId: string,
): Promise<ContactProfile> {
  const user = await userInScope(env, caller.principal, userId);
  if (!isLine(user.role)) throw problems.notFound("contact");
  return profileView(env, { ...user, role: user.role });
}

/**
 * Sets a contact's profile: a party member's branch (whose unit must contain the member's), a deputy's
 * level. A field of another line is 400. Audited.
 */
export async function setProfile(
  env: Cloudflare.Env,
  caller: Caller,
  userId: string,
  fields: { partyBranch?: string; branchUnitId?: string; deputyLevel?: DeputyLevel },
): Promise<ContactProfile> {
  const user = await userInScope(env, caller.principal, userId);
  const role = user.role;
  if (!isLine(role)) {
    throw problems.badRequest("Only party members, deputies and household leads have a contact profile", [
      { path: "userId", message: `the user is a ${role}` },
    ]);
  }
  const wrong = (field: string, who: string) =>
    problems.badRequest(`${field} belongs to ${who} only`, [{ path: field, message: `not for a ${role}` }]);
  if ((fields.partyBranch || fields.branchUnitId) && role !== "party_member") {
    throw wrong(fields.partyBranch ? "partyBranch" : "branchUnitId", "party members");
  }
  if (fields.deputyLevel && role !== "deputy") throw wrong("deputyLevel", "deputies");
  if (fields.branchUnitId) {
    const branch = await unitInScope(env, caller.principal, fields.branchUnitId);
    if (!inScope(branch.path, user.unitPath)) {
      throw problems.badRequest("The branch's unit must contain the member's unit", [
        { path: "branchUnitId", message: "not an ancestor of the member's unit" },
      ]);
    }
  }
  const contact = { ...user, role };
  const db = getDb(env);
  await writeAudited(
    db,
    [upsertProfile(db, contact, fields, new Date().toISOString())],
    [audit(caller, "contact.profile", user.unitPath, user.id, fields)],
  );
  return profileView(env, contact);
}

/**
 * Pairs a contact with households, each on the contact's own line (400 otherwise). Every household must lie
 * in both the contact's and the caller's subtree (404 naming the ones that do not). Households already
 * paired — before or by a concurrent request — are listed, not duplicated. Audited.
 */
export async function pairHouseholds(
  env: Cloudflare.Env,
  caller: Caller,
  contactId: string,
  pairings: Array<{ householdId: string; line: Line }>,
): Promise<{ paired: PairingRow[]; alreadyPaired: string[] }> {
  const contact = await userInScope(env, caller.principal, contactId);
  const lineErrors = pairings.flatMap((p, i) => {
    const error = checkPairingLine(contact.role, p.line);
    return error ? [{ path: `pairings.${i}.line`, message: error }] : [];
  });
  if (lineErrors.length) throw problems.badRequest("A contact pairs on their own line", lineErrors);
  const ids = [...new Set(pairings.map((p) => p.householdId))];
  const db = getDb(env);
  const { paths, paired } = await householdsForPairing(db, contact.id, ids);
  // A household outside the contact's own subtree (or the caller's) is answered as if it did not exist.
  const scopeErrors = pairings.flatMap((p, i) => {
    const path = paths.get(p.householdId);
    return path && inScope(contact.unitPath, path) && inScope(caller.principal.unitPath, path)
      ? []
      : [{ path: `pairings.${i}.householdId`, message: "no such household in the contact's subtree" }];
  });
  if (scopeErrors.length) {
    throw new Problem(404, "not-found", "Some households are not in the contact's subtree", {
      errors: scopeErrors,
    });
  }
  const since = new Date().toISOString();
  const fresh: PairingRow[] = ids
    .filter((householdId) => !paired.has(householdId))
    .map((householdId) => ({
      id: crypto.randomUUID(),
      contactId: contact.id,
      householdId,
      line: pairings.find((p) => p.householdId === householdId)!.line,
      since,
      endedAt: null,
    }));
  if (!fresh.length) return { paired: [], alreadyPaired: ids };
  const results = await writeAudited(
    db,
    fresh.map((row) =>
      insertPairing(db, {
        ...row,
        unitPath: paths.get(row.householdId)!,
        createdBy: caller.principal.userId,
      }),
    ),
    [
      audit(caller, "contact.pair", contact.unitPath, contact.id, {
        households: fresh.map((p) => p.householdId),
      }),
    ],
  );
  const written = fresh.filter((_, i) => results[i]!.rowsAffected === 1);
  const writtenIds = new Set(written.map((p) => p.householdId));
  return { paired: written, alreadyPaired: ids.filter((id) => !writtenIds.has(id)) };
}

/** Ends a contact's active pairing with a household, keeping its history; 404 when there is none. Audited. */
export async function unpairHousehold(
  env: Cloudflare.Env,
  caller: Caller,
  contactId: string,
  householdId: string,
): Promise<void> {
  const contact = await userInScope(env, caller.principal, contactId);
  const db = getDb(env);
  const pairing = await activePairing(db, contact.id, householdId);
  if (!pairing || !inScope(caller.principal.unitPath, pairing.unitPath)) throw problems.notFound("pairing");
  try {
    await writeAudited(
      db,
      [endPairing(db, pairing.id, caller.principal.userId, new Date().toISOString())],
      [audit(caller, "contact.unpair", pairing.unitPath, contact.id, { householdId })],
      { mustChange: [0] },
    );
  } catch (error) {
    // Ended by a concurrent request in between: there is no active pairing any more.
    if (error instanceof GuardFailed) throw problems.notFound("pairing");
    throw error;
  }
}

/**
 * The three-line coverage of a subtree: households per line and by any line, red households without a
 * helper, and contacts over the maximum households (the inherited unit setting, else the default).
 */
export async function coverage(env: Cloudflare.Env, caller: Caller, unitId: string) {
  const unit = await unitInScope(env, caller.principal, unitId);
  const db = getDb(env);
  const settings = await settingsOnPath(db, unit.path, [MAX_HOUSEHOLDS_KEY]);
  const max = resolveSetting(settings, parseMaxHouseholds, DEFAULT_MAX_HOUSEHOLDS);
  const counts = await coverageCounts(db, unit, max);
  const households = Object.values(counts.byClass).reduce((a, b) => a + b, 0);
  return {
    unitId: unit.id,
    households,
    redHouseholds: counts.byClass.red ?? 0,
    lines: lineCoverage(households, counts.coveredByLine),
    anyLine: { covered: counts.anyCovered, share: share(counts.anyCovered, households) },
    redWithoutHelper: {
      count: counts.redWithoutHelper.length,
      householdIds: counts.redWithoutHelper.slice(0, 100),
    },
    maxHouseholds: max,
    overloadedContacts: overloaded(counts.overloaded, max),
  };
}
