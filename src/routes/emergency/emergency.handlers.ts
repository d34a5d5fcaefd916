import type { EventRecord } from "../../db/repos/emergency";
import {
  LEVEL_COLOURS,
  REACH_INTERVAL_MINUTES,
  RESPONSE_LEVELS,
  type ResponseLevel,
} from "../../domain/emergency";
import { callerOf, principalOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { Problem } from "../../platform/http/problem";
import * as emergency from "../../services/emergency";
import { issueOrder } from "../../services/emergency-orders";
import type * as routes from "./emergency.routes";

/** The public view of an event. */
function eventView(e: EventRecord) {
  return {
    id: e.id,
    kind: e.kind as (typeof routes.EventSchema._output)["kind"],
    level: e.level,
    colour: LEVEL_COLOURS[e.level],
    status: e.status,
    title: e.title,
    instructions: e.instructions,
    commandUnitId: e.commandUnitId,
    affectedUnitIds: e.units.map((u) => u.unitId),
    reachIntervalMinutes: e.reachIntervalMinutes ?? REACH_INTERVAL_MINUTES[e.level],
    declaredBy: e.declaredBy,
    declaredAt: e.declaredAt,
    stoodDownAt: e.stoodDownAt,
    version: e.version,
  };
}

/** POST /v1/emergencies */
export const declare: AppRouteHandler<typeof routes.declare> = async (c) => {
  const event = await emergency.declareEvent(c.env, callerOf(c), c.req.valid("json"));
  c.header("location", `/v1/emergencies/${event.id}`);
  return c.json(eventView(event), 201);
};

/** GET /v1/emergencies */
export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const rows = await emergency.listEvents(c.env, principalOf(c), c.req.valid("query").limit);
  const events = await Promise.all(rows.map((r) => emergency.eventFor(c.env, principalOf(c), r.id)));
  return c.json({ items: events.map(eventView) }, 200);
};

/** GET /v1/emergencies/{id} */
export const getOne: AppRouteHandler<typeof routes.getOne> = async (c) => {
  const { event, log } = await emergency.eventWithLog(c.env, principalOf(c), c.req.valid("param").id);
  const entries = log.map((l) => ({
    seq: l.seq,
    type: l.type,
    at: l.at,
    actorId: l.actorId,
    payload: JSON.parse(l.payload),
  }));
  return c.json({ ...eventView(event), log: entries }, 200);
};

/** POST /v1/emergencies/{id}/level */
export const setLevel: AppRouteHandler<typeof routes.setLevel> = async (c) => {
  const { id } = c.req.valid("param");
  const { level } = c.req.valid("json");
  const current = (await emergency.eventFor(c.env, principalOf(c), id)).level;
  const rank = (l: ResponseLevel) => RESPONSE_LEVELS.indexOf(l);
  const type = rank(level) < rank(current) ? "raise" : "lower";
  return c.json(eventView(await emergency.changeEvent(c.env, callerOf(c), id, { type, level })), 200);
};

/** POST /v1/emergencies/{id}/units */
export const addUnits: AppRouteHandler<typeof routes.addUnits> = async (c) => {
  const { unitIds } = c.req.valid("json");
  const event = await emergency.changeEvent(c.env, callerOf(c), c.req.valid("param").id, {
    type: "add_units",
    unitIds,
  });
  return c.json(eventView(event), 200);
};

/** POST /v1/emergencies/{id}/stand-down */
export const standDown: AppRouteHandler<typeof routes.standDown> = async (c) => {
  const event = await emergency.changeEvent(c.env, callerOf(c), c.req.valid("param").id, {
    type: "stand_down",
  });
  return c.json(eventView(event), 200);
};

/** GET /v1/emergencies/{id}/grids/{gridId}/roster */
export const roster: AppRouteHandler<typeof routes.roster> = async (c) => {
  const { id, gridId } = c.req.valid("param");
  const { gridPath: _path, ...view } = await emergency.readRoster(c.env, callerOf(c), id, gridId);
  return c.json(view, 200);
};

/** POST /v1/emergencies/{id}/grids/{gridId}/check-ins */
export const checkIn: AppRouteHandler<typeof routes.checkIn> = async (c) => {
  const { id, gridId } = c.req.valid("param");
  const items = c.req.valid("json").checkins.map((i) => ({
    id: i.id,
    householdId: i.householdId,
    outcome: i.outcome,
    note: i.note ?? null,
    shelterId: i.shelterId ?? null,
    persons: i.persons ?? null,
    at: i.at ? new Date(i.at).toISOString() : null,
    location: i.location ?? null,
  }));
  const results = await emergency.checkIn(c.env, callerOf(c), id, gridId, items);
  const only = results.length === 1 ? results[0]! : null;
  if (only && !only.ok) throw new Problem(only.status, only.code, only.detail);
  return c.json(
    {
      results: results.map((r) =>
        r.ok
          ? { id: r.id, result: r.outcome, householdId: r.householdId, status: r.status, caseId: r.caseId }
          : {
              id: r.id,
              result: "error" as const,
              problem: {
                status: r.status,
                type: `https://grid321.ankang.gov.cn/problems/${r.code}`,
                detail: r.detail,
              },
            },
      ),
    },
    200,
  );
};

/** POST /v1/emergencies/{id}/shelters */
export const addShelter: AppRouteHandler<typeof routes.addShelter> = async (c) => {
  const s = await emergency.addShelter(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json"));
  const { unitPath: _path, createdBy: _by, ...view } = s;
  return c.json(view, 201);
};

/** GET /v1/emergencies/{id}/progress */
export const progress: AppRouteHandler<typeof routes.progress> = async (c) => {
  const p = await emergency.progressOf(
    c.env,
    principalOf(c),
    c.req.valid("param").id,
    c.req.valid("query").unitId,
  );
  return c.json(
    {
      eventId: p.event.id,
      level: p.event.level,
      status: p.event.status,
      rostersReady: p.rostersReady,
      totals: p.totals,
      byChild: p.byChild,
      shelters: p.shelters.map(({ unitPath: _path, ...s }) => s),
      lastSeq: p.lastSeq,
    },
    200,
  );
};

/** GET /v1/emergencies/{id}/stream — the EmergencyCommand's own response (101 WebSocket or SSE). */
export const stream: AppRouteHandler<typeof routes.stream> = async (c) => {
  const res = await emergency.openStream(
    c.env,
    principalOf(c),
    c.req.valid("param").id,
    c.req.raw,
    c.req.valid("query").after,
  );
  return res as never;
};

/** GET /v1/emergencies/{id}/report */
export const report: AppRouteHandler<typeof routes.report> = async (c) => {
  const r = await emergency.afterActionReport(c.env, principalOf(c), c.req.valid("param").id);
  if (c.req.valid("query").format === "csv") {
    return c.body(emergency.afterActionCsv(r), 200, { "content-type": "text/csv; charset=utf-8" }) as never;
  }
  return c.json({ ...r, event: eventView(r.event) }, 200);
};

/** POST /v1/emergencies/{id}/orders: the order as a directive, without the issuer's path. */
export const order: AppRouteHandler<typeof routes.order> = async (c) => {
  const {
    issuerUnitPath: _path,
    fanoutQueuedAt,
    ...rest
  } = await issueOrder(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json"));
  c.header("location", `/v1/directives/${rest.id}`);
  return c.json({ ...rest, fanoutQueued: fanoutQueuedAt !== null }, 201);
};
