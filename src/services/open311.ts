import { appByKeyHash, countAppCall, findApp, insertApp, revokeApp } from "../db/repos/open311";
import { findPublicReport, type PublicReportRow, searchPublicReports } from "../db/repos/resident-accounts";
import type { CaseRecord, CaseState } from "../domain/case-model";
import {
  AGENCY_RESPONSIBLE,
  open311Status,
  PUBLIC_SERVICES,
  type PublicService,
  publicService,
  roundCoordinate,
  statesOf,
} from "../domain/open311";
import { newRefreshToken, sha256Hex } from "../platform/crypto/tokens";
import { GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import type { Open311Object } from "../platform/http/open311-format";
import { Problem, problems } from "../platform/http/problem";
import { residentFromHeader } from "../platform/http/resident-auth";
import type { Caller } from "./caller";
import { currentAccount, type PublicReporter, reportPublicMatter } from "./resident-accounts";

/** The one jurisdiction this endpoint serves. */
export const JURISDICTION_ID = "ankang.gov.cn";

/** What the agency tells every reporter of a new request. */
const SERVICE_NOTICE = "已转入所在网格办理，一般事项7日内办结";

/** `jurisdiction_id`, when given, must be ours: 404 otherwise. */
export function checkJurisdiction(id: string | undefined): void {
  if (id !== undefined && id !== JURISDICTION_ID)
    throw new Problem(404, "not-found", "Unknown jurisdiction_id");
}

/** GET services: the public service catalogue, in the spec's fields. */
export function serviceList(): Open311Object[] {
  return PUBLIC_SERVICES.map((s) => ({
    service_code: s.code,
    service_name: s.name,
    description: s.description,
    metadata: true,
    type: "realtime",
    keywords: s.keywords,
    group: s.group,
  }));
}

/** The public service of a code, or 404: disputes, security and matters about persons are never offered. */
export function serviceOr404(code: string): PublicService {
  const service = publicService(code);
  if (!service) throw new Problem(404, "not-found", `No public service ${code}`);
  return service;
}

/** GET services/{code}: the service definition with its one attribute (whether the description is public). */
export function serviceDefinition(code: string): Open311Object {
  const service = serviceOr404(code);
  return {
    service_code: service.code,
    attributes: [
      {
        variable: true,
        code: "description_public",
        datatype: "singlevaluelist",
        required: false,
        datatype_description: null,
        order: 1,
        description: "是否公开问题描述（不公开时他人只能看到类别和大致位置）",
        values: [
          { key: "no", name: "不公开" },
          { key: "yes", name: "公开" },
        ],
      },
    ],
  };
}

const bad = (description: string) => new Problem(400, "bad-request", description);

/**
 * Who posts: a resident (bearer resident token) or a registered app (`api_key`, SHA-256 looked up, revoked
 * keys refused, at most `per_minute` calls a minute: 429). 403 for a missing or refused key, as the spec's
 * examples do.
 */
async function reporterOf(
  env: Cloudflare.Env,
  authorization: string | undefined,
  apiKey: string | undefined,
  now: number,
): Promise<PublicReporter> {
  if (authorization) {
    const account = await currentAccount(env, await residentFromHeader(env, authorization));
    return { id: account.id, channel: "resident", householdId: account.householdId };
  }
  if (!apiKey || apiKey.length > 200) throw new Problem(403, "forbidden", "A valid api_key is required");
  const db = getDb(env);
  const app = await appByKeyHash(db, await sha256Hex(apiKey));
  if (!app || app.revokedAt) throw new Problem(403, "forbidden", "The api_key is not valid or was revoked");
  const minute = new Date(now).toISOString().slice(0, 16);
  if ((await countAppCall(db, app.id, minute)) > app.perMinute) {
    const retry = 60 - new Date(now).getUTCSeconds();
    throw new Problem(429, "rate-limited", "This app's requests per minute are used up", {
      headers: { "retry-after": String(retry) },
    });
  }
  return { id: app.id, channel: `open311:${app.id}`, householdId: null };
}

const number = (raw: string | undefined, name: string, min: number, max: number) => {
  const value = raw === undefined || raw.trim() === "" ? Number.NaN : Number(raw);
  if (!Number.isFinite(value) || value < min || value > max)
    throw bad(`${name} must be a number from ${min} to ${max}`);
  return value;
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text a client sent: trimmed, within `max` characters, without lone surrogates. */
const text = (raw: string | undefined, name: string, max: number) => {
  const value = (raw ?? "").trim();
  if (value.length > max) throw bad(`${name} is longer than ${max} characters`);
  if (LONE_SURROGATE.test(value)) throw bad(`${name} is not valid text`);
  return value;
};

/**
 * POST requests: a public matter into the closed loop, through the same path as a resident's own report.
 * Requires `service_code` (a public one), `lat` and `long`; `attribute[description_public]=yes` makes the
 * description public. Names, phones and e-mails sent by an app are not stored.
 */
export async function postRequest(
  env: Cloudflare.Env,
  requestId: string,
  form: Record<string, string | undefined>,
  authorization: string | undefined,
  now = Date.now(),
): Promise<Open311Object[]> {
  checkJurisdiction(form.jurisdiction_id);
  const code = form.service_code;
  if (!code) throw bad("service_code is required");
  const service = serviceOr404(code);
  const lat = number(form.lat, "lat", -90, 90);
  const lng = number(form.long, "long", -180, 180);
  const description = text(form.description, "description", 2000);
  const address = text(form.address_string, "address_string", 200);
  const flag = form["attribute[description_public]"];
  if (flag !== undefined && flag !== "yes" && flag !== "no")
    throw bad("attribute[description_public] is yes or no");
  const reporter = await reporterOf(env, authorization, form.api_key, now);
  const { record, report } = await reportPublicMatter(env, requestId, reporter, {
    service,
    title: address ? `${service.name}：${address}`.slice(0, 100) : service.name,
    description: description || service.name,
    descriptionPublic: flag === "yes",
    location: { lat, lng, ...(address ? { address } : {}) },
  });
  // Both the id (the request is created at once) and a token, for clients that follow the token step.
  return [
    { service_request_id: record.id, token: report.token, service_notice: SERVICE_NOTICE, account_id: null },
  ];
}

/** One request as the public may read it: no reporter, the description only if made public, location rounded. */
function publicView(
  report: PublicReportRow,
  state: CaseState,
  description: string | null,
  updatedAt: string | null,
  doc: string | null,
): Open311Object {
  const service = publicService(report.serviceCode)!;
  let expected: string | null = null;
  if (doc) {
    const record = JSON.parse(doc) as Partial<CaseRecord>;
    expected = open311Status(state) === "open" ? (record.deadlines?.dueAt ?? null) : null;
  }
  return {
    service_request_id: report.caseId,
    status: open311Status(state),
    status_notes: null,
    service_name: service.name,
    service_code: service.code,
    description: report.descriptionPublic ? description : null,
    agency_responsible: AGENCY_RESPONSIBLE,
    service_notice: SERVICE_NOTICE,
    requested_datetime: report.createdAt,
    updated_datetime: updatedAt ?? report.createdAt,
    expected_datetime: expected,
    address: null,
    address_id: null,
    zipcode: null,
    lat: roundCoordinate(report.lat),
    long: roundCoordinate(report.lng),
    media_url: null,
  };
}

const list = (raw: string | undefined) =>
  raw === undefined || raw.trim() === ""
    ? undefined
    : raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);

const w3c = (raw: string | undefined, name: string) => {
  if (raw === undefined || raw === "") return undefined;
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(ms)) throw bad(`${name} must be a W3C date-time`);
  return new Date(ms).toISOString();
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * GET requests with the spec's filters: `service_request_id` (comma-separated; overrides the rest),
 * `service_code`, `start_date`, `end_date` (default: the last 90 days), `status` (open, closed); pages of
 * `page_size` (1–200, default 50) by `page` (from 1).
 */
export async function listRequests(
  env: Cloudflare.Env,
  query: Record<string, string | undefined>,
  now = Date.now(),
) {
  checkJurisdiction(query.jurisdiction_id);
  const ids = list(query.service_request_id);
  if (ids && (ids.length > 200 || !ids.every((id) => UUID.test(id))))
    throw bad("service_request_id lists up to 200 request ids");
  const codes = list(query.service_code);
  if (codes && !codes.every((c) => publicService(c))) throw bad("service_code names an unknown service");
  const statuses = list(query.status);
  if (statuses && !statuses.every((s) => s === "open" || s === "closed"))
    throw bad("status is open or closed");
  const end = w3c(query.end_date, "end_date");
  const start =
    w3c(query.start_date, "start_date") ??
    (ids ? undefined : new Date((end ? Date.parse(end) : now) - 90 * 86_400_000).toISOString());
  const pageSize = query.page_size === undefined ? 50 : number(query.page_size, "page_size", 1, 200);
  const page = query.page === undefined ? 1 : number(query.page, "page", 1, 10_000);
  const rows = await searchPublicReports(getDb(env), {
    ids,
    serviceCodes: ids ? undefined : codes,
    start: ids ? undefined : start,
    end: ids ? undefined : end,
    states: ids || !statuses ? undefined : statuses.flatMap((s) => statesOf(s as "open" | "closed")),
    limit: Math.floor(pageSize),
    offset: (Math.floor(page) - 1) * Math.floor(pageSize),
  });
  return rows.map((r) =>
    publicView(r.report, (r.state ?? "reported") as CaseState, r.description, r.updatedAt, r.doc),
  );
}

/** GET requests/{id}: one request, as a list of one (404 for an unknown id or one not from a public channel). */
export async function getRequest(env: Cloudflare.Env, id: string, query: Record<string, string | undefined>) {
  checkJurisdiction(query.jurisdiction_id);
  if (!UUID.test(id)) throw new Problem(404, "not-found", "No such service request");
  const rows = await searchPublicReports(getDb(env), { ids: [id], limit: 1, offset: 0 });
  if (!rows[0]) throw new Problem(404, "not-found", "No such service request");
  const r = rows[0];
  return [publicView(r.report, (r.state ?? "reported") as CaseState, r.description, r.updatedAt, r.doc)];
}

/** GET tokens/{token}: the request id a token stands for. */
export async function tokenLookup(
  env: Cloudflare.Env,
  token: string,
  query: Record<string, string | undefined>,
) {
  checkJurisdiction(query.jurisdiction_id);
  const report = token.length <= 64 ? await findPublicReport(getDb(env), { token }) : undefined;
  if (!report) throw new Problem(404, "not-found", "No such token");
  return [{ service_request_id: report.caseId, token: report.token }];
}

/** Registers an app that may post requests; its api_key is returned once and stored only as a hash. */
export async function registerApp(env: Cloudflare.Env, caller: Caller, name: string, perMinute: number) {
  const db = getDb(env);
  const apiKey = newRefreshToken();
  const row = {
    id: crypto.randomUUID(),
    name,
    keyHash: await sha256Hex(apiKey),
    perMinute,
    createdBy: caller.principal.userId,
    createdAt: new Date().toISOString(),
  };
  await writeAudited(
    db,
    [insertApp(db, row)],
    [appAudit(caller, "open311_app.create", row.id, { name, perMinute })],
  );
  return { id: row.id, name, perMinute, apiKey, createdAt: row.createdAt, revokedAt: null };
}

/** Revokes an app's key; 404 for an unknown app, 409 when already revoked. */
export async function revokeAppKey(env: Cloudflare.Env, caller: Caller, id: string) {
  const db = getDb(env);
  const app = await findApp(db, id);
  if (!app) throw problems.notFound("app");
  const at = new Date().toISOString();
  try {
    await writeAudited(db, [revokeApp(db, id, at)], [appAudit(caller, "open311_app.revoke", id, {})], {
      mustChange: [0],
    });
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
    throw problems.conflict("already-revoked", "The app's key is already revoked");
  }
  return { id, name: app.name, perMinute: app.perMinute, createdAt: app.createdAt, revokedAt: at };
}

function appAudit(caller: Caller, action: string, id: string, detail: Record<string, unknown>) {
  return {
    actorId: caller.principal.userId,
    actorRole: caller.principal.role,
    scopePath: caller.principal.unitPath,
    action,
    objectType: "open311_app",
    objectId: id,
    outcome: "success" as const,
    requestId: caller.requestId,
    detail,
  };
}
