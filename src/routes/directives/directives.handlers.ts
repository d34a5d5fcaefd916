import type { DirectiveRecord, ReceiptRecord } from "../../db/repos/directives";
import { completionRate } from "../../domain/directives";
import { callerOf, principalOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import * as directives from "../../services/directives";
import type * as routes from "./directives.routes";

/** The public view of a directive: without the issuer's path, with whether its fan-out is queued. */
function directiveView(d: DirectiveRecord) {
  const { issuerUnitPath: _path, fanoutQueuedAt, ...rest } = d;
  return { ...rest, fanoutQueued: fanoutQueuedAt !== null };
}

/** The public view of a receipt: without the unit's path. */
function receiptView(r: ReceiptRecord) {
  const { unitPath: _path, ...rest } = r;
  return rest;
}

/** POST /v1/directives */
export const issue: AppRouteHandler<typeof routes.issue> = async (c) => {
  const directive = await directives.issueDirective(c.env, callerOf(c), c.req.valid("json"));
  c.header("location", `/v1/directives/${directive.id}`);
  return c.json(directiveView(directive), 201);
};

/** GET /v1/directives */
export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const { unitId, state, limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 2, ["string", "string"]) as [string, string] | null;
  const rows = await directives.listDirectives(c.env, principalOf(c), { unitId, state, after, limit });
  const item = (r: (typeof rows)[number]) =>
    r.receipt
      ? { ...directiveView(r.directive), receipt: receiptView(r.receipt) }
      : directiveView(r.directive);
  return c.json(
    toPage(rows, limit, item, (r) => [r.directive.createdAt, r.directive.id]),
    200,
  );
};

/** GET /v1/directives/{id} */
export const getOne: AppRouteHandler<typeof routes.getOne> = async (c) => {
  const { directive, counts } = await directives.directiveDetail(
    c.env,
    principalOf(c),
    c.req.valid("param").id,
  );
  return c.json(
    {
      ...directiveView(directive),
      counts: counts.total,
      countsByLevel: counts.byLevel,
      completionRate: completionRate(counts.total),
    },
    200,
  );
};

/** GET /v1/directives/{id}/receipts */
export const receipts: AppRouteHandler<typeof routes.receipts> = async (c) => {
  const { state, limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 1, ["string"]);
  const rows = await directives.directiveReceipts(c.env, principalOf(c), c.req.valid("param").id, {
    state,
    afterPath: after ? String(after[0]) : null,
    limit,
  });
  return c.json(
    toPage(rows, limit, receiptView, (r) => [r.unitPath]),
    200,
  );
};

/** POST /v1/directives/{id}/receipts/{unitId}/acknowledge */
export const acknowledge: AppRouteHandler<typeof routes.acknowledge> = async (c) => {
  const { id, unitId } = c.req.valid("param");
  const target = { directiveId: id, unitId };
  return c.json(
    receiptView(await directives.actOnReceipt(c.env, callerOf(c), target, "acknowledge", null)),
    200,
  );
};

/** POST /v1/directives/{id}/receipts/{unitId}/complete */
export const complete: AppRouteHandler<typeof routes.complete> = async (c) => {
  const { id, unitId } = c.req.valid("param");
  const target = { directiveId: id, unitId };
  return c.json(
    receiptView(await directives.actOnReceipt(c.env, callerOf(c), target, "complete", c.req.valid("json"))),
    200,
  );
};
