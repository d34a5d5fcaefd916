import { findHousehold } from "../db/repos/households";
import { findResident } from "../db/repos/residents";
import {
  decideTransferRequestStatement,
  findResidentByIdHmac,
  findTransferRequest,
  insertTransferRequestStatement,
  listTransferRequests,
  type TransferRequestRow,
  type TransferState,
} from "../db/repos/transfer-requests";
import { can } from "../domain/permissions";
import { inScope, pathIds } from "../domain/units";
import { lookupHmac, piiKeys } from "../platform/crypto/pii";
import { getDb } from "../platform/db/client";
import { type Problem, problems } from "../platform/http/problem";
import { loadHousehold, WritePlan } from "./households";
import { assertIdProbeAllowance, recordIdProbe } from "./pii-access";
import { type Actor, auditEntry, denyAudited } from "./registry-audit";
import { planMove } from "./residents";

type Env = Cloudflare.Env;

/** A transfer request with what the caller may see and do. */
export interface TransferRequestView {
  request: TransferRequestRow;
  /** The caller decides it: the centre of the resident's village or one above it. */
  decides: boolean;
}

/** The path of the village (level-1 grid, a centre) a grid's path lies in. */
function villagePathOf(unitPath: string): string {
  return `/${pathIds(unitPath).slice(0, 4).join("/")}/`;
}

/** Whether the caller decides requests whose approver is `approverPath`. */
function decides(actor: Actor, approverPath: string): boolean {
  return (
    can(actor.principal.role, "residents.transfer-decide") && inScope(actor.principal.unitPath, approverPath)
  );
}

function conflict(slug: string, detail: string): Problem {
  return problems.conflict(slug, detail);
}

/**
 * Asks to move the resident holding `idNumber` (matched by its keyed HMAC) into `householdId`, a household in
 * the caller's scope. The answer tells whether the number is registered, so it is a probe like a refused
 * registration: audited with the HMAC and counted against the same hourly limit (404 when nobody holds it,
 * 429 past the limit).
 */
export async function requestTransfer(
  env: Env,
  actor: Actor,
  input: { idNumber: string; householdId: string; reason: string },
): Promise<TransferRequestView> {
  const db = getDb(env);
  const target = await loadHousehold(env, actor, input.householdId);
  const unit = { id: target.unitId, path: target.unitPath };
  await assertIdProbeAllowance(env, actor, unit.path);
  const idNumber = input.idNumber.trim().toUpperCase();
  const hmac = await lookupHmac(await piiKeys(env.PII_KEY), "id_number", idNumber);
  const resident = await findResidentByIdHmac(db, hmac);
  if (!resident) {
    throw (
      (await recordIdProbe(env, actor, "resident.transfer_unmatched", unit, [hmac])) ??
      problems.notFound("resident with this ID number")
    );
  }
  if (resident.householdId === target.id) {
    throw problems.badRequest("The resident already lives in this household", [
      { path: "householdId", message: "same household" },
    ]);
  }
  const now = new Date().toISOString();
  const request: TransferRequestRow = {
    id: crypto.randomUUID(),
    residentId: resident.id,
    idNumberHmac: hmac,
    fromHouseholdId: resident.householdId,
    toHouseholdId: target.id,
    toUnitPath: target.unitPath,
    approverPath: villagePathOf(resident.unitPath),
    requestedBy: actor.principal.userId,
    requesterUnitPath: actor.principal.unitPath,
    reason: input.reason,
    state: "pending",
    decidedBy: null,
    decidedAt: null,
    decisionNote: null,
    createdAt: now,
    updatedAt: now,
  };
  await new WritePlan()
    .guard(insertTransferRequestStatement(db, request), () =>
      conflict("transfer-pending", "A request to move this resident into this household is already pending"),
    )
    .run(db, [
      auditEntry(actor, "resident.transfer_requested", "transfer_request", request.id, request.approverPath, {
        idNumberHmac: hmac,
        toHouseholdId: target.id,
        toUnitId: target.unitId,
      }),
    ]);
  return { request, decides: decides(actor, request.approverPath) };
}

/** A request the caller made or decides; 404 (audited) for anyone else. */
async function loadVisible(env: Env, actor: Actor, id: string): Promise<TransferRequestView> {
  const request = await findTransferRequest(getDb(env), id);
  const mayDecide = request ? decides(actor, request.approverPath) : false;
  if (!request || (!mayDecide && request.requestedBy !== actor.principal.userId)) {
    if (request) {
      await denyAudited(
        env,
        actor,
        {
          action: "transfer_request.access",
          objectType: "transfer_request",
          objectId: id,
          scopePath: request.approverPath,
        },
        "out_of_scope",
      );
    }
    throw problems.notFound("transfer request");
  }
  return { request, decides: mayDecide };
}

/** One transfer request the caller made or decides. */
export function getTransferRequest(env: Env, actor: Actor, id: string): Promise<TransferRequestView> {
  return loadVisible(env, actor, id);
}

/** Transfer requests the caller made or decides, newest first (`limit + 1` read for the page). */
export async function transferRequestsOf(
  env: Env,
  actor: Actor,
  query: { state?: TransferState; after: { createdAt: string; id: string } | null; limit: number },
): Promise<TransferRequestView[]> {
  const mayDecide = can(actor.principal.role, "residents.transfer-decide");
  const rows = await listTransferRequests(getDb(env), {
    userId: actor.principal.userId,
    decidesUnder: mayDecide ? actor.principal.unitPath : null,
    state: query.state,
    after: query.after,
    limit: query.limit + 1,
  });
  return rows.map((request) => ({ request, decides: decides(actor, request.approverPath) }));
}

/**
 * Approves or refuses a pending request (the centre of the resident's village or one above it; 403 for the
 * requester, 404 for others, 409 once decided). Approval moves the resident in the same write, both households
 * reclassified; 409 `transfer-stale` when the resident or a household changed place meanwhile.
 */
export async function decideTransfer(
  env: Env,
  actor: Actor,
  id: string,
  decision: { approve: boolean; note: string | null },
): Promise<TransferRequestView> {
  const db = getDb(env);
  const { request, decides: mayDecide } = await loadVisible(env, actor, id);
  if (!mayDecide) throw problems.forbidden("Only the resident's village centre or one above it decides");
  if (request.state !== "pending")
    throw conflict("transfer-decided", `The request was already ${request.state}`);
  const at = new Date().toISOString();
  const state = decision.approve ? "approved" : "refused";
  const decided = decideTransferRequestStatement(db, id, {
    state,
    by: actor.principal.userId,
    note: decision.note,
    at,
  });
  const onDecided = () => conflict("transfer-decided", "The request was decided meanwhile");
  const entry = auditEntry(
    actor,
    `resident.transfer_${state}`,
    "transfer_request",
    id,
    request.approverPath,
    {
      residentId: request.residentId,
      fromHouseholdId: request.fromHouseholdId,
      toHouseholdId: request.toHouseholdId,
      ...(decision.note ? { note: decision.note } : {}),
    },
  );
  if (!decision.approve) {
    await new WritePlan().guard(decided, onDecided).run(db, [entry]);
  } else {
    const [resident, from, to] = await Promise.all([
      findResident(db, request.residentId),
      findHousehold(db, request.fromHouseholdId),
      findHousehold(db, request.toHouseholdId),
    ]);
    if (!resident || !from || !to || resident.householdId !== from.id || to.unitPath !== request.toUnitPath) {
      throw conflict("transfer-stale", "The resident or a household changed place meanwhile; ask again");
    }
    const move = await planMove(db, resident, from, to);
    await move.plan.guard(decided, onDecided).run(db, [
      entry,
      auditEntry(actor, "resident.move", "resident", resident.id, to.unitPath, {
        fromHouseholdId: from.id,
        toHouseholdId: to.id,
        transferRequestId: id,
      }),
    ]);
  }
  const stored = await findTransferRequest(db, id);
  return { request: stored!, decides: true };
}
