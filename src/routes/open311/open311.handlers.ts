import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { callerOf } from "../../platform/http/auth";
import {
  type Open311Format,
  type Open311Object,
  open311Body,
  open311Errors,
} from "../../platform/http/open311-format";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { Problem } from "../../platform/http/problem";
import * as open311 from "../../services/open311";
import type * as routes from "./open311.routes";

export const registerApp: AppRouteHandler<typeof routes.registerApp> = async (c) => {
  const { name, perMinute } = c.req.valid("json");
  const caller = callerOf(c);
  return c.json(await open311.registerApp(c.env, caller, name, perMinute), 201);
};

export const revokeApp: AppRouteHandler<typeof routes.revokeApp> = async (c) => {
  const caller = callerOf(c);
  return c.json(await open311.revokeAppKey(c.env, caller, c.req.valid("param").id), 200);
};

// --- GeoReport v2: plain routes, since the format is the path's extension (`services.json`, `road.xml`).

type GeoContext = Context<AppEnv>;

/** The format of a GeoReport path (`…/services.xml` → xml); JSON when there is none we know. */
export function formatOf(path: string): Open311Format {
  return path.endsWith(".xml") ? "xml" : "json";
}

/** `road.json` → `road`; 404 for a name without `.json` or `.xml`. */
function stem(file: string): string {
  const match = /^(.+)\.(json|xml)$/.exec(file);
  if (!match) throw new Problem(404, "not-found", "Use a .json or .xml path");
  return match[1]!;
}

function send(
  c: GeoContext,
  root: string,
  content: Open311Object[] | Open311Object,
  status: 200 | 201 = 200,
) {
  const { body, contentType } = open311Body(formatOf(c.req.path), root, content);
  return c.body(body, status, { "content-type": contentType });
}

/** Turns any refusal into the GeoReport error format of the path's extension; a 500 stays generic. */
export function open311Error(error: Error, c: GeoContext) {
  const problem =
    error instanceof Problem ? error : new Problem(500, "internal", "Something went wrong on our side");
  if (!(error instanceof Problem))
    console.error(JSON.stringify({ requestId: c.get("requestId"), error: String(error) }));
  const detail = problem.errors?.length
    ? `${problem.message}: ${problem.errors.map((e) => `${e.path} ${e.message}`).join("; ")}`
    : problem.message;
  const { body, contentType } = open311Errors(formatOf(c.req.path), problem.status, detail);
  return c.body(body, problem.status, { "content-type": contentType, ...problem.headers });
}

export const services = (c: GeoContext) => {
  open311.checkJurisdiction(c.req.query("jurisdiction_id"));
  return send(c, "services", open311.serviceList());
};

export const serviceDefinition = (c: GeoContext) => {
  open311.checkJurisdiction(c.req.query("jurisdiction_id"));
  return send(c, "service_definition", open311.serviceDefinition(stem(c.req.param("file") ?? "")));
};

export const postRequest = async (c: GeoContext) => {
  const form = await c.req.parseBody({ dot: false }).catch(() => {
    throw new Problem(400, "bad-request", "The body is not a form");
  });
  const fields = Object.fromEntries(
    Object.entries(form).flatMap(([k, v]) => (typeof v === "string" ? [[k, v]] : [])),
  ) as Record<string, string>;
  const created = await open311.postRequest(c.env, c.get("requestId"), fields, c.req.header("authorization"));
  return send(c, "service_requests", created, 201);
};

export const listRequests = async (c: GeoContext) =>
  send(c, "service_requests", await open311.listRequests(c.env, c.req.query()));

export const getRequest = async (c: GeoContext) =>
  send(
    c,
    "service_requests",
    await open311.getRequest(c.env, stem(c.req.param("file") ?? ""), c.req.query()),
  );

export const token = async (c: GeoContext) =>
  send(
    c,
    "service_requests",
    await open311.tokenLookup(c.env, stem(c.req.param("file") ?? ""), c.req.query()),
  );

export const notFound = (c: GeoContext) =>
  open311Error(new Problem(404, "not-found", `No GeoReport resource ${c.req.path}`), c);
