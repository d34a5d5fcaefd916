import type { Context } from "hono";
import { allowedActions } from "../../domain/case-lifecycle";
import type { Actor, CaseRecord } from "../../domain/case-model";
import type { AppEnv } from "../../env";
import { callerOf } from "../../platform/http/auth";
import { requiredVersion, setEtag } from "../../platform/http/if-match";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import * as cases from "../../services/cases";
import type * as routes from "./cases.routes";

const view = (r: CaseRecord, actor: Actor) => ({ ...r, actions: allowedActions(r, actor) });

const summary = (r: CaseRecord) => ({
  id: r.id,
  type: r.type,
  severity: r.severity,
  state: r.state,
  version: r.version,
  title: r.title,
  owningUnitId: r.owningUnit.id,
  responsibleUnit: {
    id: r.responsibleUnit.id,
    level: r.responsibleUnit.level,
    department: r.responsibleUnit.department,
  },
  location: r.location,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  closedAt: r.closedAt,
});

const position = (r: CaseRecord) => [r.createdAt, r.id];
const iso = (t: string | undefined) => (t === undefined ? null : new Date(t).toISOString());

/** POST /v1/cases */
export const createCase: AppRouteHandler<typeof routes.createCase> = async (c) => {
  const who = callerOf(c);
  const key = c.req.valid("header")["idempotency-key"];
  const result = await cases.reportCase(c.env, who, c.req.valid("json"), key);
  const { record } = result;
  setEtag(c, record.version);
  c.header("location", `/v1/cases/${record.id}`);
  const body = {
    ...view(record, cases.actorOf(who.principal)),
    duplicates: result.duplicates,
    hiddenDuplicates: result.hiddenDuplicates,
  };
  return result.outcome === "created" ? c.json(body, 201) : c.json(body, 200);
};

/** POST /v1/cases/sync */
export const syncCases: AppRouteHandler<typeof routes.syncCases> = async (c) => {
  const who = callerOf(c);
  const { reports } = c.req.valid("json");
  const outcomes = await cases.syncReports(c.env, who, reports);
  const actor = cases.actorOf(who.principal);
  const results = outcomes.map((o, i) => {
    const id = reports[i]!.id;
    if (o.ok) {
      const { duplicates, hiddenDuplicates } = o;
      return { id, status: o.outcome, case: view(o.record, actor), duplicates, hiddenDuplicates };
    }
    const type = `https://grid321.ankang.gov.cn/problems/${o.code}`;
    return { id, status: "error" as const, error: { status: o.status, type, detail: o.detail } };
  });
  return c.json({ results }, 200);
};

/** GET /v1/cases/{id} */
export const getCase: AppRouteHandler<typeof routes.getCase> = async (c) => {
  const who = callerOf(c);
  const { record, events, duplicates, hiddenDuplicates } = await cases.visibleCase(
    c.env,
    who,
    c.req.valid("param").id,
    c.req.valid("query").gridId,
  );
  setEtag(c, record.version);
  const body = { ...view(record, cases.actorOf(who.principal)), timeline: events };
  return c.json({ ...body, duplicates, hiddenDuplicates }, 200);
};

/** GET /v1/cases */
export const listCases: AppRouteHandler<typeof routes.listCases> = async (c) => {
  const { cursor, limit, ...filters } = c.req.valid("query");
  const after = decodeCursor(cursor, 2) as [string, string] | null;
  const records = await cases.searchCasesInScope(c.env, callerOf(c), { ...filters, after, limit: limit + 1 });
  return c.json(toPage(records, limit, summary, position), 200);
};

/** GET /v1/grids/{id}/cases */
export const gridCases: AppRouteHandler<typeof routes.gridCases> = async (c) => {
  const { state, limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 2) as [string, string] | null;
  const records = await cases.gridCases(c.env, callerOf(c), c.req.valid("param").id, {
    state,
    limit: limit + 1,
    after,
  });
  return c.json(toPage(records, limit, summary, position), 200);
};

/** Runs one case command for the route's `{id}`, `?gridId=` and `If-Match`, answering the case after it. */
async function command(c: Context<AppEnv>, request: cases.CommandRequest) {
  const who = callerOf(c);
  const record = await cases.runCommand(
    c.env,
    who,
    c.req.param("id")!,
    c.req.query("gridId"),
    requiredVersion(c.req.header("if-match")),
    request,
  );
  setEtag(c, record.version);
  return c.json(view(record, cases.actorOf(who.principal)), 200);
}

/** POST /v1/cases/{id}/accept */
export const accept: AppRouteHandler<typeof routes.commands.accept> = (c) =>
  command(c, { action: "accept", note: c.req.valid("json")?.note ?? null });

/** POST /v1/cases/{id}/reject */
export const reject: AppRouteHandler<typeof routes.commands.reject> = (c) =>
  command(c, { action: "reject", reason: c.req.valid("json").reason });

/** POST /v1/cases/{id}/merge */
export const merge: AppRouteHandler<typeof routes.commands.merge> = (c) => {
  const { intoCaseId, note } = c.req.valid("json");
  return command(c, { action: "merge", intoCaseId, note: note ?? null });
};

/** POST /v1/cases/{id}/dispatch */
export const dispatch: AppRouteHandler<typeof routes.commands.dispatch> = (c) => {
  const { unitId, department, note } = c.req.valid("json");
  return command(c, { action: "dispatch", unitId, department: department ?? null, note: note ?? null });
};

/** POST /v1/cases/{id}/start */
export const start: AppRouteHandler<typeof routes.commands.start> = (c) =>
  command(c, { action: "start", note: c.req.valid("json")?.note ?? null });

/** POST /v1/cases/{id}/resolve */
export const resolve: AppRouteHandler<typeof routes.commands.resolve> = (c) => {
  const { note, mediation } = c.req.valid("json");
  return command(c, { action: "resolve", note, mediation: mediation ?? null });
};

/** POST /v1/cases/{id}/return-visit */
export const returnVisit: AppRouteHandler<typeof routes.commands.returnVisit> = (c) => {
  const { satisfaction, note } = c.req.valid("json");
  return command(c, { action: "return_visit", satisfaction, note: note ?? null });
};

/** POST /v1/cases/{id}/close */
export const close: AppRouteHandler<typeof routes.commands.close> = (c) =>
  command(c, { action: "close", note: c.req.valid("json")?.note ?? null });

/** POST /v1/cases/{id}/reopen */
export const reopen: AppRouteHandler<typeof routes.commands.reopen> = (c) =>
  command(c, { action: "reopen", reason: c.req.valid("json").reason });

/** POST /v1/cases/{id}/escalate */
export const escalate: AppRouteHandler<typeof routes.commands.escalate> = (c) => {
  const { reason, reasonCode } = c.req.valid("json");
  return command(c, { action: "escalate", reason, reasonCode: reasonCode ?? null });
};

/** POST /v1/cases/{id}/send-down */
export const sendDown: AppRouteHandler<typeof routes.commands.sendDown> = (c) => {
  const { unitId, reason, deadline } = c.req.valid("json");
  return command(c, { action: "send_down", unitId, reason, deadline: iso(deadline) });
};

/** POST /v1/cases/{id}/supervise */
export const supervise: AppRouteHandler<typeof routes.commands.supervise> = (c) => {
  const { message, deadline } = c.req.valid("json");
  return command(c, { action: "supervise", message, deadline: iso(deadline)! });
};

/** POST /v1/cases/{id}/urge */
export const urge: AppRouteHandler<typeof routes.commands.urge> = (c) => {
  const { message, deadline } = c.req.valid("json");
  return command(c, { action: "urge", message, deadline: iso(deadline) });
};
