import { createRoute, z } from "@hono/zod-openapi";
import type { InStatement } from "@libsql/client/web";
import { and, asc, eq, gt, like, or, type SQL } from "drizzle-orm";
import { UNIT_DATA_REFS, UNIT_PATH_COLUMNS } from "../../db/repos/unit-refs";
import { units } from "../../db/schema";
import { type ExistingUnit, planUnitImport } from "../../domain/unit-import";
import {
  checkUnitCode,
  childPosition,
  inScope,
  UNIT_LEVEL_LABELS,
  UNIT_LEVELS,
  unitPath,
} from "../../domain/units";
import type { Principal } from "../../env";
import { type AuditEntry, GuardFailed, writeAudited } from "../../platform/db/audit";
import { type Db, getDb, isConstraintViolation } from "../../platform/db/client";
import { containsText, startsWithText, stmt } from "../../platform/db/statements";
import { assertInScope, principalOf, requireRole } from "../../platform/http/auth";
import { IMPORT_BODY_LIMIT } from "../../platform/http/limits";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { decodeCursor, pageQuery, pageSchema, toPage } from "../../platform/http/pagination";
import { Problem, problems } from "../../platform/http/problem";

const Level = z.enum(UNIT_LEVELS).openapi({
  description: Object.entries(UNIT_LEVEL_LABELS)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; "),
});
const Code = z
  .string()
  .regex(/^\d{6,18}$/, "6 to 18 digits")
  .openapi({ example: "610902001001" });
const Name = z.string().trim().min(1).max(100);

export const UnitSchema = z
  .object({
    id: z.uuid(),
    code: z.string(),
    name: z.string(),
    parentId: z.uuid().nullable(),
    path: z.string().openapi({ description: "Materialized path of ids, root first" }),
    level: Level,
    gridLevel: z.number().int().nullable().openapi({ description: "1 for a village, 2 or 3 for grids" }),
    depth: z.number().int(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Unit");

type UnitRow = typeof units.$inferSelect;
const view = (u: UnitRow) => ({
  id: u.id,
  code: u.code,
  name: u.name,
  parentId: u.parentId,
  path: u.path,
  level: u.level,
  gridLevel: u.gridLevel,
  depth: u.depth,
  version: u.version,
  createdAt: u.createdAt,
  updatedAt: u.updatedAt,
});

async function loadUnit(db: Db, principal: Principal, id: string): Promise<UnitRow> {
  const [unit] = await db.select().from(units).where(eq(units.id, id)).limit(1);
  assertInScope(principal, unit?.path, "unit");
  return unit!;
}

function audit(
  principal: Principal,
  requestId: string,
  action: string,
  unit: { id: string; path: string },
  detail?: Record<string, unknown>,
): AuditEntry {
  return {
    actorId: principal.userId,
    actorRole: principal.role,
    scopePath: unit.path,
    action,
    objectType: "unit",
    objectId: unit.id,
    outcome: "success",
    requestId,
    detail: detail ?? null,
  };
}

function ifMatchVersion(header: string | undefined): number | null {
  if (header === undefined) return null;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
  if (!match)
    throw problems.badRequest('If-Match must be a version ETag such as "3"', [
      { path: "header.if-match", message: "not a version" },
    ]);
  return Number(match[1]);
}

const getUnit = createRoute({
  method: "get",
  path: "/v1/units/{id}",
  tags: ["units"],
  summary: "One unit",
  security: bearer,
  request: { params: IdParam },
  responses: { 200: jsonResponse(UnitSchema, "The unit"), ...errorResponses(404) },
});

const children = createRoute({
  method: "get",
  path: "/v1/units/{id}/children",
  tags: ["units"],
  summary: "The direct children of a unit, by code",
  security: bearer,
  request: { params: IdParam, query: z.object(pageQuery) },
  responses: { 200: jsonResponse(pageSchema(UnitSchema), "A page of children"), ...errorResponses(404) },
});

const list = createRoute({
  method: "get",
  path: "/v1/units",
  tags: ["units"],
  summary: "Search units in the caller's subtree",
  security: bearer,
  request: {
    query: z.object({
      parentId: z.uuid().optional(),
      level: Level.optional(),
      q: z
        .string()
        .trim()
        .min(1)
        .max(100)
        .optional()
        .openapi({ description: "Name substring or code prefix" }),
      ...pageQuery,
    }),
  },
  responses: { 200: jsonResponse(pageSchema(UnitSchema), "A page of units, by code"), ...errorResponses() },
});

const create = createRoute({
  method: "post",
  path: "/v1/units",
  tags: ["units"],
  summary: "Create a unit under a parent in the caller's subtree (admin)",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: {
    body: jsonBody(
      z.strictObject({ code: Code, name: Name, level: Level, parentId: z.uuid() }).openapi("NewUnit"),
    ),
  },
  responses: { 201: jsonResponse(UnitSchema, "Created"), ...errorResponses(403, 404, 409) },
});

const patch = createRoute({
  method: "patch",
  path: "/v1/units/{id}",
  tags: ["units"],
  summary: "Rename a unit or move it (with its subtree) to another parent (admin)",
  description:
    "Moving needs `parentId` and the unit's new `code` under that parent; descendants' codes and every stored path are rewritten. `If-Match` is honoured.",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({ name: Name.optional(), parentId: z.uuid().optional(), code: Code.optional() })
        .openapi("UnitPatch"),
    ),
  },
  responses: { 200: jsonResponse(UnitSchema, "Updated"), ...errorResponses(403, 404, 409, 412) },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/units/{id}",
  tags: ["units"],
  summary: "Delete a unit that has no children and no data (admin)",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...errorResponses(403, 404, 409) },
});

const ImportRow = z.strictObject({ code: Code, name: Name, level: Level, parentCode: Code });
const importUnits = createRoute({
  method: "post",
  path: "/v1/units/import",
  tags: ["units"],
  summary: "Bulk import units, all or nothing (admin)",
  description: `Rows may name as parent an existing unit or another row. Up to 50,000 rows and ${IMPORT_BODY_LIMIT / 1024 / 1024} MiB per call. Every bad row is reported with its index; nothing is written unless all rows are good.`,
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: {
    body: jsonBody(z.strictObject({ rows: z.array(ImportRow).min(1).max(50_000) }).openapi("UnitImport")),
  },
  responses: {
    201: jsonResponse(
      z.object({ imported: z.number().int(), byLevel: z.record(z.string(), z.number().int()) }),
      "Imported",
    ),
    ...errorResponses(403, 409, 413),
  },
});

const INSERT_CHUNK = 500;

export const unitRoutes = createRouter()
  .openapi(list, async (c) => {
    const principal = principalOf(c);
    const { parentId, level, q, limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, 1);
    const where: SQL[] = [like(units.path, `${principal.unitPath}%`)];
    if (parentId) where.push(eq(units.parentId, parentId));
    if (level) where.push(eq(units.level, level));
    if (q) where.push(or(containsText(units.name, q), startsWithText(units.code, q))!);
    if (after) where.push(gt(units.code, String(after[0])));
    const rows = await getDb(c.env)
      .select()
      .from(units)
      .where(and(...where))
      .orderBy(asc(units.code))
      .limit(limit + 1);
    return c.json(
      toPage(rows, limit, view, (u) => [u.code]),
      200,
    );
  })
  .openapi(getUnit, async (c) => {
    const unit = await loadUnit(getDb(c.env), principalOf(c), c.req.valid("param").id);
    c.header("etag", `"${unit.version}"`);
    return c.json(view(unit), 200);
  })
  .openapi(children, async (c) => {
    const db = getDb(c.env);
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    await loadUnit(db, principalOf(c), id);
    const after = decodeCursor(cursor, 1);
    const rows = await db
      .select()
      .from(units)
      .where(and(eq(units.parentId, id), after ? gt(units.code, String(after[0])) : undefined))
      .orderBy(asc(units.code))
      .limit(limit + 1);
    return c.json(
      toPage(rows, limit, view, (u) => [u.code]),
      200,
    );
  })
  .openapi(create, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const parent = await loadUnit(db, principal, body.parentId);
    const position = childPosition(parent, body.level);
    if (typeof position === "string")
      throw problems.badRequest(position, [{ path: "level", message: position }]);
    const codeError = checkUnitCode(body.code, position, parent.code);
    if (codeError) throw problems.badRequest(codeError, [{ path: "code", message: codeError }]);
    const id = crypto.randomUUID();
    const now = new Date().toISOString();
    const row: UnitRow = {
      id,
      code: body.code,
      name: body.name,
      parentId: parent.id,
      path: unitPath(parent.path, id),
      level: position.level,
      gridLevel: position.gridLevel,
      depth: parent.depth + 1,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await writeAudited(
        db,
        [stmt(db.insert(units).values(row))],
        [audit(principal, c.get("requestId"), "unit.create", row, { code: row.code, name: row.name })],
      );
    } catch (error) {
      if (isConstraintViolation(error))
        throw problems.conflict("duplicate-code", `A unit with code ${body.code} exists`);
      throw error;
    }
    c.header("etag", `"1"`);
    c.header("location", `/v1/units/${id}`);
    return c.json(view(row), 201);
  })
  .openapi(patch, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const unit = await loadUnit(db, principal, id);
    if (Object.keys(body).length === 0) throw problems.badRequest("Nothing to change");
    const expected = ifMatchVersion(c.req.header("if-match"));
    if (expected !== null && expected !== unit.version) {
      throw problems.preconditionFailed(`The unit is at version ${unit.version}`, {
        currentVersion: unit.version,
      });
    }
    const now = new Date().toISOString();
    const statements: InStatement[] = [];
    let next: UnitRow = { ...unit, name: body.name ?? unit.name, version: unit.version + 1, updatedAt: now };
    const moving = body.parentId !== undefined && body.parentId !== unit.parentId;
    if (body.code !== undefined && !moving && body.code !== unit.code) {
      throw problems.badRequest("A unit's code changes only when it moves", [
        { path: "code", message: "give parentId too" },
      ]);
    }
    if (moving) {
      if (!body.code)
        throw problems.badRequest("Moving needs the new code", [
          { path: "code", message: "required when parentId changes" },
        ]);
      if (unit.level === "city")
        throw problems.badRequest("A city cannot move", [
          { path: "parentId", message: "a city has no parent" },
        ]);
      const parent = await loadUnit(db, principal, body.parentId!);
      if (inScope(unit.path, parent.path)) {
        throw problems.conflict("unit-cycle", "A unit cannot move under itself or its own descendant");
      }
      const position = childPosition(parent, unit.level);
      if (typeof position === "string" || position.gridLevel !== unit.gridLevel) {
        const message = typeof position === "string" ? position : "a grid keeps its grid level when it moves";
        throw problems.badRequest(message, [{ path: "parentId", message }]);
      }
      const codeError = checkUnitCode(body.code, position, parent.code);
      if (codeError) throw problems.badRequest(codeError, [{ path: "code", message: codeError }]);
      const newPath = unitPath(parent.path, unit.id);
      next = { ...next, parentId: parent.id, code: body.code, path: newPath };
      const oldLen = unit.path.length;
      for (const ref of UNIT_PATH_COLUMNS) {
        statements.push({
          sql: `UPDATE ${ref.table} SET ${ref.column} = ? || substr(${ref.column}, ?) WHERE ${ref.column} LIKE ?`,
          args: [newPath, oldLen + 1, `${unit.path}%`],
        });
      }
      statements.push({
        sql: "UPDATE units SET code = ? || substr(code, ?), updated_at = ? WHERE path LIKE ? AND id <> ?",
        args: [body.code, unit.code.length + 1, now, `${newPath}%`, unit.id],
      });
    }
    statements.push({
      sql: "UPDATE units SET name = ?, code = ?, parent_id = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
      args: [next.name, next.code, next.parentId, now, unit.id, unit.version],
    });
    try {
      await writeAudited(
        db,
        statements,
        [
          audit(principal, c.get("requestId"), moving ? "unit.move" : "unit.update", next, {
            name: next.name,
            ...(moving ? { fromParentId: unit.parentId, toParentId: next.parentId, code: next.code } : {}),
          }),
        ],
        { mustChange: [statements.length - 1] },
      );
    } catch (error) {
      if (error instanceof GuardFailed) {
        throw problems.preconditionFailed("The unit changed meanwhile; reload it", {
          currentVersion: unit.version + 1,
        });
      }
      if (isConstraintViolation(error))
        throw problems.conflict("duplicate-code", "The new codes collide with existing units");
      throw error;
    }
    c.header("etag", `"${next.version}"`);
    return c.json(view(next), 200);
  })
  .openapi(remove, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const db = getDb(c.env);
    const unit = await loadUnit(db, principal, id);
    const checks = [
      // SQLite refuses LIMIT inside a compound SELECT, so each check is an EXISTS.
      `SELECT 'children' AS what WHERE EXISTS (SELECT 1 FROM units WHERE parent_id = ?1)`,
      ...UNIT_DATA_REFS.map(
        (r) => `SELECT '${r.table}' AS what WHERE EXISTS (SELECT 1 FROM ${r.table} WHERE ${r.column} = ?1)`,
      ),
    ];
    const found = await db.$client.execute({ sql: checks.join(" UNION ALL "), args: [id] });
    if (found.rows.length) {
      throw problems.conflict(
        "unit-in-use",
        `The unit still has ${found.rows.map((r) => r.what).join(", ")}`,
      );
    }
    await writeAudited(
      db,
      [
        {
          sql: "DELETE FROM units WHERE id = ? AND NOT EXISTS (SELECT 1 FROM units WHERE parent_id = ?)",
          args: [id, id],
        },
      ],
      [audit(principal, c.get("requestId"), "unit.delete", unit, { code: unit.code })],
    );
    return c.body(null, 204);
  })
  .openapi(importUnits, async (c) => {
    const principal = principalOf(c);
    const { rows } = c.req.valid("json");
    const db = getDb(c.env);
    const codes = [...new Set(rows.flatMap((r) => [r.code, r.parentCode]))];
    const existingRows = await db.$client.execute({
      sql: "SELECT id, code, path, level, grid_level FROM units WHERE code IN (SELECT value FROM json_each(?))",
      args: [JSON.stringify(codes)],
    });
    const existing = new Map<string, ExistingUnit>(
      existingRows.rows.map((r) => [
        String(r.code),
        {
          id: String(r.id),
          code: String(r.code),
          path: String(r.path),
          level: r.level as ExistingUnit["level"],
          gridLevel: r.grid_level === null ? null : Number(r.grid_level),
        },
      ]),
    );
    const plan = planUnitImport(rows, existing, (path) => inScope(principal.unitPath, path));
    if (!plan.ok) {
      throw new Problem(
        400,
        "import-rows-invalid",
        `${plan.errors.length} row(s) are invalid; nothing was imported`,
        {
          errors: plan.errors.map((e) => ({ path: e.path, message: e.message })),
          extensions: { rowErrors: plan.errors },
        },
      );
    }
    const now = new Date().toISOString();
    const statements: InStatement[] = [];
    for (let i = 0; i < plan.units.length; i += INSERT_CHUNK) {
      const chunk = plan.units.slice(i, i + INSERT_CHUNK);
      statements.push({
        sql: `INSERT INTO units (id, code, name, parent_id, path, level, grid_level, depth, version, created_at, updated_at)
              SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, 1, ?, ?
              FROM json_each(?)`,
        args: [
          now,
          now,
          JSON.stringify(
            chunk.map((u) => [u.id, u.code, u.name, u.parentId, u.path, u.level, u.gridLevel, u.depth]),
          ),
        ],
      });
    }
    const byLevel: Record<string, number> = {};
    for (const u of plan.units) byLevel[u.level] = (byLevel[u.level] ?? 0) + 1;
    try {
      await writeAudited(db, statements, [
        {
          actorId: principal.userId,
          actorRole: principal.role,
          scopePath: principal.unitPath,
          action: "unit.import",
          objectType: "unit",
          objectId: null,
          outcome: "success",
          requestId: c.get("requestId"),
          detail: { imported: plan.units.length, byLevel },
        },
      ]);
    } catch (error) {
      if (isConstraintViolation(error))
        throw problems.conflict("duplicate-code", "Some codes were created meanwhile; nothing was imported");
      throw error;
    }
    return c.json({ imported: plan.units.length, byLevel }, 201);
  });
