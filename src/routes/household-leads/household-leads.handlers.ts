import type { LeadSummaryRow } from "../../db/repos/household-leads";
import { callerOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import * as leads from "../../services/household-leads";
import type * as routes from "./household-leads.routes";

/** PUT /v1/units/{id}/subsidy-settings */
export const putSettings: AppRouteHandler<typeof routes.putSettings> = async (c) => {
  const settings = await leads.setSettings(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json"));
  return c.json(settings, 200);
};

/** GET /v1/units/{id}/subsidy-settings */
export const getSettings: AppRouteHandler<typeof routes.getSettings> = async (c) =>
  c.json(await leads.settingsOf(c.env, callerOf(c), c.req.valid("param").id), 200);

/** POST /v1/household-leads/{id}/events */
export const recordEvent: AppRouteHandler<typeof routes.recordEvent> = async (c) => {
  const event = await leads.recordEvent(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json"));
  return c.json(event, 201);
};

/** POST /v1/household-leads/{id}/ratings */
export const rate: AppRouteHandler<typeof routes.rate> = async (c) => {
  const rating = await leads.rate(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json"));
  return c.json(rating, 201);
};

/** GET /v1/household-leads/{id}/statement */
export const statement: AppRouteHandler<typeof routes.statement> = async (c) => {
  const { month } = c.req.valid("query");
  return c.json(await leads.statement(c.env, callerOf(c), c.req.valid("param").id, month), 200);
};

/** POST /v1/household-leads/{id}/settlements */
export const settle: AppRouteHandler<typeof routes.settle> = async (c) => {
  const { month } = c.req.valid("json");
  return c.json(await leads.settle(c.env, callerOf(c), c.req.valid("param").id, month), 200);
};

/** POST /v1/household-leads/{id}/flag */
export const flag: AppRouteHandler<typeof routes.flag> = async (c) =>
  c.json(await leads.flag(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json")), 201);

/** DELETE /v1/household-leads/{id}/flag */
export const unflag: AppRouteHandler<typeof routes.unflag> = async (c) => {
  await leads.unflag(c.env, callerOf(c), c.req.valid("param").id);
  return c.body(null, 204);
};

const summaryView = ({ flag, ...lead }: LeadSummaryRow) => ({
  ...lead,
  flag: flag && {
    leadId: lead.leadId,
    period: flag.period,
    averageX100: flag.averageRating,
    reason: flag.reason,
    flaggedAt: flag.flaggedAt,
  },
});

/** GET /v1/units/{id}/household-leads */
export const listLeads: AppRouteHandler<typeof routes.listLeads> = async (c) => {
  const { flagged, limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 1, ["string"]) as [string] | null;
  const rows = await leads.listLeads(c.env, callerOf(c), c.req.valid("param").id, {
    flagged: flagged === undefined ? undefined : flagged === "true",
    afterId: after?.[0] ?? null,
    limit: limit + 1,
  });
  return c.json(
    toPage(rows, limit, summaryView, (r) => [r.leadId]),
    200,
  );
};
