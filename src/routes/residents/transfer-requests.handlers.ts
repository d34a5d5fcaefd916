import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import * as transfers from "../../services/transfer-requests";
import { actorOf } from "../households/views";
import type * as routes from "./transfer-requests.routes";

/** A transfer request as the caller may see it: the resident's whereabouts only to the deciding centre. */
function transferView({ request: r, decides }: transfers.TransferRequestView) {
  return {
    id: r.id,
    state: r.state,
    residentId: decides || r.state === "approved" ? r.residentId : null,
    fromHouseholdId: decides ? r.fromHouseholdId : null,
    toHouseholdId: r.toHouseholdId,
    reason: r.reason,
    requestedBy: r.requestedBy,
    createdAt: r.createdAt,
    decidedBy: r.decidedBy,
    decidedAt: r.decidedAt,
    decisionNote: r.decisionNote,
    decides: decides && r.state === "pending",
  };
}

export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const view = await transfers.requestTransfer(c.env, actorOf(c), c.req.valid("json"));
  c.header("location", `/v1/residents/transfer-requests/${view.request.id}`);
  return c.json(transferView(view), 201);
};

export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const { state, limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 2, ["string", "string"]);
  const rows = await transfers.transferRequestsOf(c.env, actorOf(c), {
    state,
    after: after ? { createdAt: String(after[0]), id: String(after[1]) } : null,
    limit,
  });
  return c.json(
    toPage(rows, limit, transferView, (v) => [v.request.createdAt, v.request.id]),
    200,
  );
};

export const getOne: AppRouteHandler<typeof routes.getOne> = async (c) => {
  return c.json(
    transferView(await transfers.getTransferRequest(c.env, actorOf(c), c.req.valid("param").id)),
    200,
  );
};

export const approve: AppRouteHandler<typeof routes.approve> = async (c) => {
  const note = c.req.valid("json").note ?? null;
  const view = await transfers.decideTransfer(c.env, actorOf(c), c.req.valid("param").id, {
    approve: true,
    note,
  });
  return c.json(transferView(view), 200);
};

export const refuse: AppRouteHandler<typeof routes.refuse> = async (c) => {
  const note = c.req.valid("json").note ?? null;
  const view = await transfers.decideTransfer(c.env, actorOf(c), c.req.valid("param").id, {
    approve: false,
    note,
  });
  return c.json(transferView(view), 200);
};
