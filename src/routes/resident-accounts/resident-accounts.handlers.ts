import type { EVIDENCE_TYPES } from "../../domain/case-evidence";
import { publicService } from "../../domain/open311";
import { normalizeMobile } from "../../domain/resident-channel";
import { callerOf } from "../../platform/http/auth";
import { requiredVersion, setEtag } from "../../platform/http/if-match";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { problems } from "../../platform/http/problem";
import { residentOf } from "../../platform/http/resident-auth";
import { isLocalEnvironment, sinkCodesFor } from "../../services/code-sender";
import { clientKey } from "../../services/login-throttle";
import * as residents from "../../services/resident-accounts";
import type * as routes from "./resident-accounts.routes";

const ipOf = (c: { req: { header(name: string): string | undefined } }) =>
  clientKey(c.req.header("cf-connecting-ip"));

export const requestCode: AppRouteHandler<typeof routes.requestCode> = async (c) => {
  const { mobile } = c.req.valid("json");
  return c.json(await residents.requestCode(c.env, c.get("requestId"), mobile, ipOf(c)), 202);
};

export const signIn: AppRouteHandler<typeof routes.signIn> = async (c) => {
  const { mobile, code } = c.req.valid("json");
  return c.json(await residents.signIn(c.env, c.get("requestId"), mobile, code, ipOf(c)), 200);
};

export const refresh: AppRouteHandler<typeof routes.refresh> = async (c) => {
  const { refreshToken } = c.req.valid("json");
  return c.json(await residents.refreshResident(c.env, c.get("requestId"), refreshToken), 200);
};

export const devCodes: AppRouteHandler<typeof routes.devCodes> = async (c) => {
  // The sink exists only where codes are not real: production answers as if the route were not there.
  if (!isLocalEnvironment(c.env)) throw problems.notFound("route");
  const mobile = normalizeMobile(c.req.valid("query").mobile);
  if (!mobile)
    throw problems.badRequest("The mobile number is not valid", [
      { path: "query.mobile", message: "invalid" },
    ]);
  return c.json({ items: await sinkCodesFor(c.env, mobile) }, 200);
};

export const me: AppRouteHandler<typeof routes.me> = async (c) => {
  return c.json(residents.accountView(await residents.currentAccount(c.env, residentOf(c))), 200);
};

export const linkOwnHousehold: AppRouteHandler<typeof routes.linkOwnHousehold> = async (c) => {
  const { idNumber } = c.req.valid("json");
  return c.json(
    await residents.linkByIdNumber(c.env, c.get("requestId"), residentOf(c), idNumber, ipOf(c)),
    200,
  );
};

export const ownHousehold: AppRouteHandler<typeof routes.ownHousehold> = async (c) => {
  return c.json(await residents.ownHousehold(c.env, residentOf(c)), 200);
};

export const report: AppRouteHandler<typeof routes.report> = async (c) => {
  const body = c.req.valid("json");
  const account = await residents.currentAccount(c.env, residentOf(c));
  const { record, created } = await residents.reportPublicMatter(
    c.env,
    c.get("requestId"),
    { id: account.id, channel: "resident", householdId: account.householdId },
    { ...body, service: publicService(body.serviceCode)! },
  );
  const view = await residents.ownReport(c.env, c.get("requestId"), residentOf(c), record.id);
  setEtag(c, view.version);
  if (!created) return c.json(view, 200);
  c.header("location", `/v1/resident/reports/${record.id}`);
  return c.json(view, 201);
};

export const listReports: AppRouteHandler<typeof routes.listReports> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  return c.json(await residents.ownReports(c.env, residentOf(c), limit, cursor), 200);
};

export const getReport: AppRouteHandler<typeof routes.getReport> = async (c) => {
  const view = await residents.ownReport(c.env, c.get("requestId"), residentOf(c), c.req.valid("param").id);
  setEtag(c, view.version);
  return c.json(view, 200);
};

export const rate: AppRouteHandler<typeof routes.rate> = async (c) => {
  const expected = requiredVersion(c.req.valid("header")["if-match"]);
  const { satisfaction, comment } = c.req.valid("json");
  const view = await residents.rateReport(
    c.env,
    c.get("requestId"),
    residentOf(c),
    c.req.valid("param").id,
    expected,
    {
      satisfaction,
      comment,
    },
  );
  setEtag(c, view.version);
  return c.json(view, 200);
};

export const linkByWorker: AppRouteHandler<typeof routes.linkByWorker> = async (c) => {
  const caller = callerOf(c);
  return c.json(
    await residents.linkByWorker(c.env, caller, c.req.valid("param").id, c.req.valid("json").mobile),
    200,
  );
};

export const contactsToRate: AppRouteHandler<typeof routes.contactsToRate> = async (c) => {
  return c.json(await residents.contactsToRate(c.env, residentOf(c)), 200);
};

export const rateContact: AppRouteHandler<typeof routes.rateContact> = async (c) => {
  const { rating } = c.req.valid("json");
  return c.json(
    await residents.rateContact(c.env, c.get("requestId"), residentOf(c), c.req.valid("param").id, rating),
    201,
  );
};

export const memberRatings: AppRouteHandler<typeof routes.memberRatings> = async (c) => {
  const caller = callerOf(c);
  return c.json(
    await residents.memberRatingSummary(c.env, caller, c.req.valid("param").id, c.req.valid("query").year),
    200,
  );
};

export const addPhoto: AppRouteHandler<typeof routes.addPhoto> = async (c) => {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const stored = await residents.addOwnPhoto(
    c.env,
    c.get("requestId"),
    residentOf(c),
    c.req.valid("param").id,
    c.req.header("content-type"),
    bytes,
  );
  setEtag(c, stored.caseVersion);
  return c.json({ ...stored, contentType: stored.contentType as (typeof EVIDENCE_TYPES)[number] }, 201);
};
