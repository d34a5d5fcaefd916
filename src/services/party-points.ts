import { caseActors } from "../db/repos/cases";
import { branchOf, settingsOnPath } from "../db/repos/contacts";
import {
  caseEvidence,
  decideFulfilment,
  type EntryRow,
  entryYear,
  type FulfilmentRow,
  fulfilmentOf,
  insertEntry,
  insertedSeq,
  insertFulfilment,
  insertPledge,
  insertReview,
  ledgerOf,
  type PledgeRow,
  pledgesOf,
  pledgeYear,
  type RankedRow,
  type ReviewRow,
  rankMembers,
  visitEvidence,
} from "../db/repos/party-points";
import {
  checkCaseEvidence,
  confirmRefusal,
  type EvidenceKind,
  fulfilmentReason,
  HANDLING_EVENT_TYPES,
  pointsFor,
  pointsKey,
  yearOf,
} from "../domain/points";
import { inScope, subtreeRange } from "../domain/units";
import type { Principal } from "../env";
import { GuardFailed, writeAudited } from "../platform/db/audit";
import { type Db, getDb } from "../platform/db/client";
import { Problem, problems } from "../platform/http/problem";
import { auditBy, type Caller, unitInScope } from "./caller";
import { roleUserInScope } from "./three-lines";

const memberInScope = (env: Cloudflare.Env, p: Principal, memberId: string) =>
  roleUserInScope(env, p, memberId, "party_member", "party member");

/** Only the member may act for themself: a pledge or fulfilment for another member is refused (403). */
function assertSelf(p: Principal, memberId: string, what: string): void {
  if (p.userId !== memberId) {
    throw new Problem(403, "forbidden", `A party member records ${what} only for themself`);
  }
}

const evidenceError = (message: string) =>
  problems.badRequest("The evidence does not count for this member", [{ path: "evidenceId", message }]);

/** Checks the evidence against the stored data; returns when it happened. */
async function verifyEvidence(
  db: Db,
  memberId: string,
  kind: EvidenceKind,
  evidenceId: string,
): Promise<string> {
  if (kind === "visit") {
    const visit = await visitEvidence(db, evidenceId);
    if (!visit) throw evidenceError("no such visit");
    if (visit.visitor !== memberId) throw evidenceError("the visit was made by someone else");
    return visit.at;
  }
  const { found, links } = await caseEvidence(db, memberId, evidenceId);
  if (!found) throw evidenceError("no such case (a new case counts once it is projected, within seconds)");
  const error = checkCaseEvidence(kind, found, memberId, links);
  if (error) throw evidenceError(error);
  return found.at;
}

/** A member's pledge for a year (承诺), made by the member themself; its due date lies in that year. Audited. */
export async function makePledge(
  env: Cloudflare.Env,
  caller: Caller,
  memberId: string,
  body: { year: number; text: string; target: string; dueDate: string },
): Promise<PledgeRow> {
  const { principal } = caller;
  assertSelf(principal, memberId, "pledges");
  if (Number(body.dueDate.slice(0, 4)) !== body.year) {
    throw problems.badRequest("The due date falls inside the pledge's year", [
      { path: "dueDate", message: `not in ${body.year}` },
    ]);
  }
  const pledge: PledgeRow = {
    id: crypto.randomUUID(),
    memberId,
    ...body,
    createdAt: new Date().toISOString(),
  };
  const db = getDb(env);
  await writeAudited(
    db,
    [insertPledge(db, { ...pledge, unitPath: principal.unitPath })],
    [
      auditBy(
        caller,
        "party.pledge",
        { type: "party_pledge", id: pledge.id, scopePath: principal.unitPath },
        {
          year: pledge.year,
        },
      ),
    ],
  );
  return pledge;
}

/** A member's pledges and fulfilments of a year; 404 for a member outside the caller's subtree. */
export async function listPledges(env: Cloudflare.Env, caller: Caller, memberId: string, year: number) {
  await memberInScope(env, caller.principal, memberId);
  return pledgesOf(getDb(env), memberId, year);
}

/**
 * Records a fulfilment (践诺) by the member themself, pointing to evidence the member made or fed. It is
 * pending: it earns the points set on the member's branch unit (or above), in the pledge's year or the year
 * the evidence happened, only once someone else confirms it (`decide`). Each piece of evidence counts once
 * per member (409). Audited.
 */
export async function fulfil(
  env: Cloudflare.Env,
  caller: Caller,
  memberId: string,
  body: { evidenceKind: EvidenceKind; evidenceId: string; pledgeId?: string; note?: string },
): Promise<FulfilmentRow & { entry: null }> {
  const { principal } = caller;
  assertSelf(principal, memberId, "fulfilments");
  const member = await memberInScope(env, principal, memberId);
  const db = getDb(env);
  const at = await verifyEvidence(db, memberId, body.evidenceKind, body.evidenceId);
  let year = yearOf(at);
  if (body.pledgeId) {
    const pledged = await pledgeYear(db, body.pledgeId, memberId);
    if (pledged === null) {
      throw problems.badRequest("No such pledge of this member", [
        { path: "pledgeId", message: "not found" },
      ]);
    }
    year = pledged;
  }
  const branch = await branchOf(db, member);
  const points = pointsFor(
    body.evidenceKind,
    await settingsOnPath(db, branch.path, [pointsKey(body.evidenceKind)]),
  );
  const fulfilment: FulfilmentRow = {
    id: crypto.randomUUID(),
    memberId,
    pledgeId: body.pledgeId ?? null,
    year,
    evidenceKind: body.evidenceKind,
    evidenceId: body.evidenceId,
    note: body.note ?? null,
    points,
    createdAt: new Date().toISOString(),
    status: "pending",
    decidedBy: null,
    decidedAt: null,
  };
  try {
    await writeAudited(
      db,
      [insertFulfilment(db, { ...fulfilment, unitPath: member.unitPath })],
      [
        auditBy(
          caller,
          "party.fulfil",
          { type: "party_fulfilment", id: fulfilment.id, scopePath: member.unitPath },
          { evidenceKind: body.evidenceKind, evidenceId: body.evidenceId, points },
        ),
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    // The fulfilment insert does nothing when the member already claimed this evidence; nothing is kept.
    if (error instanceof GuardFailed) {
      throw problems.conflict("evidence-claimed", "This evidence already counts for this member");
    }
    throw error;
  }
  return { ...fulfilment, entry: null };
}

/** The users who handled a fulfilment's case (none for a visit): they may confirm it. */
async function handlersOf(db: Db, f: FulfilmentRow): Promise<string[]> {
  if (f.evidenceKind === "visit") return [];
  const timeline = await caseActors(db, f.evidenceId);
  return (timeline?.events ?? []).flatMap((e) =>
    e.actorId !== null && HANDLING_EVENT_TYPES.includes(e.type) ? [e.actorId] : [],
  );
}

/**
 * Confirms or rejects a member's pending fulfilment. Someone other than the member decides: centre staff of
 * the member's village or above, or the case's handler (403 naming the rule otherwise). A confirmation writes
 * the ledger entry in the same transaction; a fulfilment decided already is 409. Audited.
 */
export async function decide(
  env: Cloudflare.Env,
  caller: Caller,
  memberId: string,
  fulfilmentId: string,
  body: { decision: "confirm" | "reject"; note?: string },
): Promise<FulfilmentRow & { entry: EntryRow | null }> {
  const { principal } = caller;
  const member = await memberInScope(env, principal, memberId);
  const db = getDb(env);
  const found = await fulfilmentOf(db, fulfilmentId, member.id);
  if (!found) throw problems.notFound("fulfilment");
  const { unitPath, ...fulfilment } = found;
  if (fulfilment.status !== "pending") {
    throw problems.conflict("already-decided", `The fulfilment is already ${fulfilment.status}`);
  }
  const refusal = confirmRefusal(principal, member, await handlersOf(db, fulfilment));
  if (refusal) throw new Problem(403, "confirmation-rule", refusal);
  const decidedAt = new Date().toISOString();
  const status = body.decision === "confirm" ? "confirmed" : "rejected";
  const entry: Omit<EntryRow, "seq"> | null =
    status === "confirmed"
      ? {
          year: fulfilment.year,
          points: fulfilment.points,
          reason: fulfilmentReason(fulfilment.evidenceKind, fulfilment.evidenceId, fulfilment.points),
          sourceKind: "fulfilment",
          sourceId: fulfilment.id,
          createdBy: principal.userId,
          createdAt: decidedAt,
        }
      : null;
  let results: Awaited<ReturnType<typeof writeAudited>>;
  try {
    results = await writeAudited(
      db,
      [
        decideFulfilment(db, fulfilment.id, { status, decidedBy: principal.userId, decidedAt }),
        ...(entry ? [insertEntry(db, { ...entry, memberId })] : []),
      ],
      [
        auditBy(
          caller,
          `party.fulfilment.${body.decision}`,
          { type: "party_fulfilment", id: fulfilment.id, scopePath: unitPath },
          { points: entry ? entry.points : 0, note: body.note ?? null },
        ),
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    // Decided by a concurrent request in between: nothing of this one is kept.
    if (error instanceof GuardFailed) {
      throw problems.conflict("already-decided", "The fulfilment was decided in the meantime");
    }
    throw error;
  }
  return {
    ...fulfilment,
    status,
    decidedBy: principal.userId,
    decidedAt,
    entry: entry && { seq: insertedSeq(results[1]!), ...entry },
  };
}

/** Corrects a member's ledger with a new entry in the corrected entry's year; entries are never changed. Audited. */
export async function correctPoints(
  env: Cloudflare.Env,
  caller: Caller,
  memberId: string,
  body: { correctsSeq: number; points: number; reason: string },
): Promise<EntryRow> {
  const { principal } = caller;
  const member = await memberInScope(env, principal, memberId);
  const db = getDb(env);
  const year = await entryYear(db, body.correctsSeq, memberId);
  if (year === null) {
    throw problems.badRequest("No such ledger entry of this member", [
      { path: "correctsSeq", message: "not found" },
    ]);
  }
  const entry: Omit<EntryRow, "seq"> = {
    year,
    points: body.points,
    reason: body.reason,
    sourceKind: "correction",
    sourceId: String(body.correctsSeq),
    createdBy: principal.userId,
    createdAt: new Date().toISOString(),
  };
  const [inserted] = await writeAudited(
    db,
    [insertEntry(db, { ...entry, memberId })],
    [
      auditBy(
        caller,
        "party.points.correct",
        { type: "party_points", id: memberId, scopePath: member.unitPath },
        {
          correctsSeq: body.correctsSeq,
          points: body.points,
          reason: body.reason,
        },
      ),
    ],
  );
  return { seq: insertedSeq(inserted!), ...entry };
}

/** A member's ledger of a year with its total and the year's review. */
export async function pointsOf(env: Cloudflare.Env, caller: Caller, memberId: string, year: number) {
  await memberInScope(env, caller.principal, memberId);
  const { entries, review } = await ledgerOf(getDb(env), memberId, year);
  return { memberId, year, total: entries.reduce((sum, e) => sum + e.points, 0), entries, review };
}

/**
 * Records the branch's annual review (评议) of a member, by staff of the member's branch unit or a unit above
 * it (403 otherwise); one per member and year (409). Audited.
 */
export async function review(
  env: Cloudflare.Env,
  caller: Caller,
  memberId: string,
  body: { year: number; rating: ReviewRow["rating"]; note?: string },
): Promise<ReviewRow> {
  const { principal } = caller;
  const member = await memberInScope(env, principal, memberId);
  const db = getDb(env);
  const branch = await branchOf(db, member);
  if (!inScope(principal.unitPath, branch.path)) {
    throw problems.forbidden("The annual review is held by the member's branch unit or a unit above it");
  }
  const row: ReviewRow = {
    id: crypto.randomUUID(),
    memberId,
    year: body.year,
    rating: body.rating,
    note: body.note ?? null,
    reviewedBy: principal.userId,
    createdAt: new Date().toISOString(),
  };
  try {
    await writeAudited(
      db,
      [insertReview(db, { ...row, unitPath: member.unitPath })],
      [
        auditBy(
          caller,
          "party.review",
          { type: "party_review", id: row.id, scopePath: member.unitPath },
          {
            year: row.year,
            rating: row.rating,
          },
        ),
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    // The insert does nothing when the member already has a review of the year.
    if (error instanceof GuardFailed) {
      throw problems.conflict("already-reviewed", `The member already has a review for ${body.year}`);
    }
    throw error;
  }
  return row;
}

/** A page of a subtree's party members ranked by their points of a year; 404 for a unit outside the caller's subtree. */
export async function ranking(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  year: number,
  after: { total: number; memberId: string } | null,
  limit: number,
): Promise<RankedRow[]> {
  const unit = await unitInScope(env, caller.principal, unitId);
  return rankMembers(getDb(env), subtreeRange(unit.path), year, after, limit);
}
