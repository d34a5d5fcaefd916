import type { OverdueRow } from "../../db/repos/households";
import type { VisitRow } from "../../db/repos/visits";
import { effectiveClass } from "../../domain/classification";
import { daysLate } from "../../domain/service-plan";
import { markDeprecated } from "../../platform/http/deprecation";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import * as visits from "../../services/visits";
import {
  asOfDate,
  LEGACY_LOCATION_DEPRECATED,
  storedLocation,
  usesLegacyLocation,
} from "../households/schemas";
import { actorOf } from "../households/views";
import type * as routes from "./visits.routes";

function visitView(v: VisitRow) {
  const { unitPath: _path, latitude, longitude, ...rest } = v;
  return {
    ...rest,
    location: latitude === null || longitude === null ? null : { lat: latitude, lng: longitude },
  };
}

function overdueView(r: OverdueRow, asOf: Date) {
  const override =
    r.overrideClass && r.overrideUntil
      ? { class: r.overrideClass, reason: "", until: r.overrideUntil }
      : null;
  return {
    householdId: r.id,
    unitId: r.unitId,
    address: r.address,
    headName: r.headName,
    effectiveClass: effectiveClass(r.computedClass, override, asOf),
    lastVisitAt: r.lastVisitAt,
    nextVisitDue: r.nextVisitDue,
    daysLate: daysLate(r.nextVisitDue, asOf),
  };
}

export const record: AppRouteHandler<typeof routes.record> = async (c) => {
  const { id } = c.req.valid("param");
  const { location, ...body } = c.req.valid("json");
  const visit = await visits.recordVisit(c.env, actorOf(c), id, {
    ...body,
    ...(location ? { location: storedLocation(location) } : {}),
  });
  if (usesLegacyLocation([location])) markDeprecated(c, LEGACY_LOCATION_DEPRECATED);
  c.header("location", `/v1/households/${id}/visits`);
  return c.json(visitView(visit), 201);
};

export const listForHousehold: AppRouteHandler<typeof routes.listForHousehold> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 2, ["string", "string"]);
  const position = after ? { visitedAt: String(after[0]), id: String(after[1]) } : null;
  const rows = await visits.householdVisits(c.env, actorOf(c), c.req.valid("param").id, position, limit);
  return c.json(
    toPage(rows, limit, visitView, (v) => [v.visitedAt, v.id]),
    200,
  );
};

export const overdue: AppRouteHandler<typeof routes.overdue> = async (c) => {
  const { unitId, limit, cursor, asOf } = c.req.valid("query");
  const at = asOfDate(asOf);
  const after = decodeCursor(cursor, 2, ["string", "string"]);
  const rows = await visits.overdueHouseholds(c.env, actorOf(c), {
    unitId,
    asOf: at,
    after: after ? { due: String(after[0]), id: String(after[1]) } : null,
    limit,
  });
  return c.json(
    toPage(
      rows,
      limit,
      (r) => overdueView(r, at),
      (r) => [r.nextVisitDue, r.id],
    ),
    200,
  );
};
