import { classificationContext, findUserRef, listOverdue, type OverdueRow } from "../db/repos/households";
import { insertVisitStatement, listVisits, touchHouseholdStatement, type VisitRow } from "../db/repos/visits";
import { can } from "../domain/permissions";
import { inScope } from "../domain/units";
import { getDb } from "../platform/db/client";
import { problems } from "../platform/http/problem";
import { contactTiming } from "./contact-logs";
import { type Actor, auditEntry, loadHousehold, loadUnit, WritePlan } from "./households";

type Env = Cloudflare.Env;

/** How much later than now a contact may be dated (clock skew of a phone). */
const FUTURE_SLACK_MS = 5 * 60_000;

/** A contact as a client records it (validated). */
export interface VisitInput {
  kind: "visit" | "phone" | "reception";
  visitedAt?: string;
  notes?: string;
  location?: { latitude: number; longitude: number };
  visitorUserId?: string;
}

/** The visitor of a contact: the caller, or a user whose unit covers the household when recorded for them. */
async function visitorOf(env: Env, actor: Actor, householdPath: string, visitorUserId: string | undefined) {
  const principal = actor.principal;
  if (!visitorUserId || visitorUserId === principal.userId)
    return { id: principal.userId, role: principal.role };
  if (!can(principal.role, "visits.record_for_others")) {
    throw problems.forbidden("Only admin, center_staff and grid_worker record contacts for others");
  }
  const user = await findUserRef(getDb(env), visitorUserId);
  if (!user || user.disabled || !inScope(user.unitPath, householdPath)) {
    throw problems.badRequest("The visitor must be an active user whose unit covers the household", [
      { path: "visitorUserId", message: "not a user covering this household" },
    ]);
  }
  return { id: user.id, role: user.role };
}

/**
 * Records a contact with a household and moves its next due date one cadence after the latest contact, in
 * one write (404 when the household is gone by then).
 */
export async function recordVisit(
  env: Env,
  actor: Actor,
  householdId: string,
  input: VisitInput,
): Promise<VisitRow> {
  const db = getDb(env);
  const household = await loadHousehold(env, actor, householdId);
  const now = new Date();
  const visitedAt = input.visitedAt ? new Date(input.visitedAt) : now;
  if (visitedAt.getTime() > now.getTime() + FUTURE_SLACK_MS) {
    throw problems.badRequest("A contact cannot be in the future", [
      { path: "visitedAt", message: "in the future" },
    ]);
  }
  // Back-dating is limited to a window and marked (the three lines' rule, as contacts earn party points).
  const { recordedLate } = await contactTiming(env, household.unitPath, visitedAt, now);
  const visitor = await visitorOf(env, actor, household.unitPath, input.visitorUserId);
  const { cadence } = await classificationContext(db, household.villageId, household.unitPath);
  const visit: VisitRow = {
    id: crypto.randomUUID(),
    householdId,
    unitPath: household.unitPath,
    visitorUserId: visitor.id,
    visitorRole: visitor.role,
    kind: input.kind,
    visitedAt: visitedAt.toISOString(),
    notes: input.notes ?? null,
    latitude: input.location?.latitude ?? null,
    longitude: input.location?.longitude ?? null,
    recordedBy: actor.principal.userId,
    createdAt: now.toISOString(),
    recordedLate,
  };
  await new WritePlan()
    .add(insertVisitStatement(db, visit))
    .guard(touchHouseholdStatement(householdId, visit.visitedAt, visit.createdAt, cadence), () =>
      problems.notFound("household"),
    )
    .run(db, [
      auditEntry(actor, "visit.create", "visit", visit.id, household.unitPath, {
        householdId,
        kind: input.kind,
        visitorUserId: visitor.id,
      }),
    ]);
  return visit;
}

/** A page of a household's contacts, newest first (`limit + 1` rows, for `toPage`). */
export async function householdVisits(
  env: Env,
  actor: Actor,
  householdId: string,
  after: { visitedAt: string; id: string } | null,
  limit: number,
): Promise<VisitRow[]> {
  const db = getDb(env);
  await loadHousehold(env, actor, householdId);
  return listVisits(db, householdId, after, limit + 1);
}

/** A page of the overdue households of a subtree (default: the caller's unit), `limit + 1` rows. */
export async function overdueHouseholds(
  env: Env,
  actor: Actor,
  query: { unitId?: string; asOf: Date; after: { due: string; id: string } | null; limit: number },
): Promise<OverdueRow[]> {
  const db = getDb(env);
  const scope = query.unitId
    ? await loadUnit(db, actor.principal, query.unitId)
    : { path: actor.principal.unitPath, level: actor.principal.unitLevel };
  return listOverdue(db, scope, query.asOf, query.after, query.limit + 1);
}
