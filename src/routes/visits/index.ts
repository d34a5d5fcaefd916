import { createRoute, z } from "@hono/zod-openapi";
import type { InValue } from "@libsql/client/web";
import { classificationContext, overdueIndex } from "../../db/repos/households";
import { effectiveClass, type HouseholdClass } from "../../domain/classification";
import type { Role } from "../../domain/roles";
import { daysLate } from "../../domain/service-plan";
import { subtreeRange } from "../../domain/units";
import { getDb } from "../../platform/db/client";
import { principalOf, requireRole } from "../../platform/http/auth";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { decodeCursor, pageQuery, pageSchema, toPage } from "../../platform/http/pagination";
import { problems } from "../../platform/http/problem";
import {
  AsOfQuery,
  asOfDate,
  auditEntry,
  ClassEnum,
  loadHousehold,
  loadUnit,
  writeHousehold,
} from "../households";

/** Who may record a contact: the grid worker, the centres, and the three lines. */
const VISITORS: Role[] = ["admin", "center_staff", "grid_worker", "party_member", "deputy", "household_lead"];
/** Who may record a contact made by someone else (entering paper records). */
const RECORDERS_FOR_OTHERS: Role[] = ["admin", "center_staff", "grid_worker"];

const VisitKind = z.enum(["visit", "phone", "reception"]).openapi({
  description: "`visit` — 走访; `phone` — 电话联系; `reception` — 接待",
});

const VisitSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid(),
    visitorUserId: z.uuid(),
    visitorRole: z.string(),
    kind: VisitKind,
    visitedAt: z.string(),
    notes: z.string().nullable(),
    location: z.object({ latitude: z.number(), longitude: z.number() }).nullable(),
    recordedBy: z.uuid(),
    createdAt: z.string(),
  })
  .openapi("Visit");

const record = createRoute({
  method: "post",
  path: "/v1/households/{id}/visits",
  tags: ["visits"],
  summary: "Record a contact with a household: a visit, a phone call or a reception",
  description:
    "Counts toward the household's service cadence: the next contact falls due one cadence after the latest contact. The visitor is the caller unless an admin, centre staff member or grid worker records for another user (`visitorUserId`) whose unit covers the household.",
  security: bearer,
  middleware: [requireRole(...VISITORS)] as const,
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({
          kind: VisitKind,
          visitedAt: z.iso.datetime().optional().openapi({ description: "Default now; not in the future" }),
          notes: z.string().max(4000).optional(),
          location: z
            .strictObject({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) })
            .optional(),
          visitorUserId: z.uuid().optional(),
        })
        .openapi("NewVisit"),
    ),
  },
  responses: { 201: jsonResponse(VisitSchema, "Recorded"), ...errorResponses(403, 404) },
});

const listForHousehold = createRoute({
  method: "get",
  path: "/v1/households/{id}/visits",
  tags: ["visits"],
  summary: "A household's contacts, newest first",
  security: bearer,
  request: { params: IdParam, query: z.object(pageQuery) },
  responses: { 200: jsonResponse(pageSchema(VisitSchema), "A page of visits"), ...errorResponses(404) },
});

const OverdueSchema = z
  .object({
    householdId: z.uuid(),
    unitId: z.uuid(),
    address: z.string(),
    headName: z.string(),
    effectiveClass: ClassEnum,
    lastVisitAt: z.string().nullable(),
    nextVisitDue: z.string(),
    daysLate: z.number().int(),
  })
  .openapi("OverdueHousehold");

const overdue = createRoute({
  method: "get",
  path: "/v1/visits/overdue",
  tags: ["visits"],
  summary: "Households whose next contact is late, the longest-late first",
  security: bearer,
  request: {
    query: z.object({
      unitId: z.uuid().optional().openapi({ description: "Subtree (default: the caller's unit)" }),
      ...AsOfQuery,
      ...pageQuery,
    }),
  },
  responses: {
    200: jsonResponse(pageSchema(OverdueSchema), "A page of overdue households"),
    ...errorResponses(404),
  },
});

const VISIT_COLUMNS = `id, household_id, visitor_user_id, visitor_role, kind, visited_at, notes, latitude, longitude, recorded_by, created_at`;

function visitView(r: Record<string, unknown>) {
  return {
    id: String(r.id),
    householdId: String(r.household_id),
    visitorUserId: String(r.visitor_user_id),
    visitorRole: String(r.visitor_role),
    kind: r.kind as "visit" | "phone" | "reception",
    visitedAt: String(r.visited_at),
    notes: r.notes === null ? null : String(r.notes),
    location:
      r.latitude === null || r.longitude === null
        ? null
        : { latitude: Number(r.latitude), longitude: Number(r.longitude) },
    recordedBy: String(r.recorded_by),
    createdAt: String(r.created_at),
  };
}

export const visitRoutes = createRouter()
  .openapi(record, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const household = await loadHousehold(db, principal, id);
    const now = new Date();
    const visitedAt = body.visitedAt ? new Date(body.visitedAt) : now;
    if (visitedAt.getTime() > now.getTime() + 5 * 60_000) {
      throw problems.badRequest("A contact cannot be in the future", [
        { path: "visitedAt", message: "in the future" },
      ]);
    }
    let visitor = { id: principal.userId, role: principal.role as string };
    if (body.visitorUserId && body.visitorUserId !== principal.userId) {
      if (!RECORDERS_FOR_OTHERS.includes(principal.role)) {
        throw problems.forbidden("Only admin, center_staff and grid_worker record contacts for others");
      }
      const rs = await db.$client.execute({
        sql: "SELECT id, role, unit_path FROM users WHERE id = ? AND disabled = 0",
        args: [body.visitorUserId],
      });
      const user = rs.rows[0];
      if (!user || !household.unitPath.startsWith(String(user.unit_path))) {
        throw problems.badRequest("The visitor must be an active user whose unit covers the household", [
          { path: "visitorUserId", message: "not a user covering this household" },
        ]);
      }
      visitor = { id: String(user.id), role: String(user.role) };
    }
    const { cadence } = await classificationContext(db, household.villageId, household.unitPath);
    const visitId = crypto.randomUUID();
    const at = visitedAt.toISOString();
    const nowIso = now.toISOString();
    const days = `(CASE (CASE WHEN override_class IS NOT NULL AND override_until > :now THEN override_class ELSE computed_class END)
                    WHEN 'green' THEN :g WHEN 'yellow' THEN :y ELSE :r END)`;
    const args: Record<string, InValue> = {
      id,
      at,
      now: nowIso,
      g: cadence.green,
      y: cadence.yellow,
      r: cadence.red,
    };
    const results = await writeHousehold(
      db,
      [
        {
          sql: `INSERT INTO visits (id, household_id, unit_path, visitor_user_id, visitor_role, kind, visited_at, notes, latitude, longitude, recorded_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          args: [
            visitId,
            id,
            household.unitPath,
            visitor.id,
            visitor.role,
            body.kind,
            at,
            body.notes ?? null,
            body.location?.latitude ?? null,
            body.location?.longitude ?? null,
            principal.userId,
            nowIso,
          ],
        },
        {
          sql: `UPDATE households SET
                  next_visit_due = CASE WHEN ${days} IS NULL THEN NULL
                    ELSE strftime('%Y-%m-%dT%H:%M:%fZ', max(coalesce(last_visit_at, ''), :at, class_since), '+' || ${days} || ' days') END,
                  last_visit_at = max(coalesce(last_visit_at, ''), :at),
                  version = version + 1, updated_at = :now
                WHERE id = :id`,
          args,
        },
        { sql: `SELECT ${VISIT_COLUMNS} FROM visits WHERE id = ?`, args: [visitId] },
      ],
      [
        auditEntry(c, "visit.create", "visit", visitId, household.unitPath, {
          householdId: id,
          kind: body.kind,
          visitorUserId: visitor.id,
        }),
      ],
    );
    c.header("location", `/v1/households/${id}/visits`);
    return c.json(visitView(results[2]!.rows[0] as Record<string, unknown>), 201);
  })
  .openapi(listForHousehold, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    const db = getDb(c.env);
    await loadHousehold(db, principal, id);
    const after = decodeCursor(cursor, 2);
    const rs = await db.$client.execute({
      sql: `SELECT ${VISIT_COLUMNS} FROM visits WHERE household_id = ?
            ${after ? "AND (visited_at, id) < (?, ?)" : ""} ORDER BY visited_at DESC, id DESC LIMIT ?`,
      args: after ? [id, String(after[0]), String(after[1]), limit + 1] : [id, limit + 1],
    });
    return c.json(
      toPage(rs.rows as unknown as Record<string, unknown>[], limit, visitView, (r) => [
        String(r.visited_at),
        String(r.id),
      ]),
      200,
    );
  })
  .openapi(overdue, async (c) => {
    const principal = principalOf(c);
    const query = c.req.valid("query");
    const db = getDb(c.env);
    const unit = query.unitId
      ? await loadUnit(db, principal, query.unitId)
      : { path: principal.unitPath, level: principal.unitLevel };
    const asOf = asOfDate(query.asOf);
    const [lo, hi] = subtreeRange(unit.path);
    const after = decodeCursor(query.cursor, 2);
    const rs = await db.$client.execute({
      sql: `SELECT id, unit_id, address, head_name, computed_class, override_class, override_until, last_visit_at, next_visit_due
            FROM households INDEXED BY ${overdueIndex(unit.level)}
            WHERE next_visit_due < :asOf AND unit_path >= :lo AND unit_path < :hi
            ${after ? "AND (next_visit_due, id) > (:afterDue, :afterId)" : ""}
            ORDER BY next_visit_due, id LIMIT :limit`,
      args: {
        asOf: asOf.toISOString(),
        lo,
        hi,
        limit: query.limit + 1,
        ...(after ? { afterDue: String(after[0]), afterId: String(after[1]) } : {}),
      },
    });
    return c.json(
      toPage(
        rs.rows as unknown as Record<string, unknown>[],
        query.limit,
        (r) => {
          const override =
            r.override_class && r.override_until
              ? { class: r.override_class as HouseholdClass, reason: "", until: String(r.override_until) }
              : null;
          return {
            householdId: String(r.id),
            unitId: String(r.unit_id),
            address: String(r.address),
            headName: String(r.head_name),
            effectiveClass: effectiveClass(r.computed_class as HouseholdClass, override, asOf),
            lastVisitAt: r.last_visit_at === null ? null : String(r.last_visit_at),
            nextVisitDue: String(r.next_visit_due),
            daysLate: daysLate(String(r.next_visit_due), asOf),
          };
        },
        (r) => [String(r.next_visit_due), String(r.id)],
      ),
      200,
    );
  });
