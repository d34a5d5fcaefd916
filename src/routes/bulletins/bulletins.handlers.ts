import type { BulletinRow } from "../../db/repos/bulletins";
import { callerOf, principalOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import {
  bulletinCsv,
  bulletinOf,
  bulletinsOf,
  bulletinVersionsOf,
  bulletinXlsx,
  regenerateBulletin,
} from "../../services/bulletins";
import type * as routes from "./bulletins.routes";

const summary = (r: BulletinRow) => ({
  id: r.id,
  unitId: r.unitId,
  kind: r.periodKind,
  from: r.periodFrom,
  to: r.periodTo,
  version: r.version,
  generatedAt: r.generatedAt,
});

/** GET /v1/units/{id}/bulletins */
export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const { kind, limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 2, ["string", "string"]) as [string, string] | null;
  const rows = await bulletinsOf(
    c.env,
    principalOf(c),
    c.req.valid("param").id,
    kind ?? null,
    after,
    limit + 1,
  );
  return c.json(
    toPage(rows, limit, summary, (r) => [r.periodFrom, r.id]),
    200,
  );
};

/** GET /v1/bulletins/{id} */
export const get: AppRouteHandler<typeof routes.get> = async (c) => {
  const { format } = c.req.valid("query");
  const { row, content } = await bulletinOf(c.env, principalOf(c), c.req.valid("param").id);
  const name = `bulletin-${row.periodKind}-${row.periodFrom}-v${row.version}`;
  if (format === "csv") {
    c.header("content-disposition", `attachment; filename="${name}.csv"`);
    return c.body(bulletinCsv(content, row.version), 200, { "content-type": "text/csv; charset=utf-8" });
  }
  if (format === "xlsx") {
    c.header("content-disposition", `attachment; filename="${name}.xlsx"`);
    return c.body(await bulletinXlsx(content, row.version), 200, {
      "content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    });
  }
  return c.json({ ...summary(row), content }, 200);
};

/** POST /v1/units/{id}/bulletins/{kind}/{from}/regeneration */
export const regenerate: AppRouteHandler<typeof routes.regenerate> = async (c) => {
  const { id, kind, from } = c.req.valid("param");
  const { row, created } = await regenerateBulletin(c.env, callerOf(c), id, kind, from, Date.now());
  return created ? c.json(summary(row), 201) : c.json(summary(row), 200);
};

/** GET /v1/units/{id}/bulletins/{kind}/{from}/versions */
export const versions: AppRouteHandler<typeof routes.versions> = async (c) => {
  const { id, kind, from } = c.req.valid("param");
  const { limit, cursor } = c.req.valid("query");
  const [before] = (decodeCursor(cursor, 1, ["number"]) ?? [null]) as [number | null];
  const rows = await bulletinVersionsOf(c.env, principalOf(c), id, kind, from, before, limit + 1);
  return c.json(
    toPage(rows, limit, summary, (r) => [r.version]),
    200,
  );
};
