import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { units } from "../../db/schema";
import { INBOX_KIND_LABELS, INBOX_KINDS } from "../../domain/escalation";
import { writeAudited } from "../../platform/db/audit";
import { getDb } from "../../platform/db/client";
import { assertInScope, principalOf, requireRole } from "../../platform/http/auth";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { decodeCursor, pageQuery, pageSchema, toPage } from "../../platform/http/pagination";

const Kind = z.enum(INBOX_KINDS).openapi({
  description: Object.entries(INBOX_KIND_LABELS)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; "),
});
const State = z.enum(["unread", "read", "open", "handled"]).openapi({
  description:
    "`unread` — not yet read; `read` — read, not handled; `open` — not handled; `handled` — handled",
});

const InboxItemSchema = z
  .object({
    id: z.uuid(),
    unitId: z.uuid(),
    kind: Kind,
    caseId: z.string().nullable(),
    payload: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    readAt: z.string().nullable(),
    handledAt: z.string().nullable(),
  })
  .openapi("InboxItem");

/** Roles that work a unit's inbox: centre staff, grid workers, departments, administrators and leaders (read). */
const INBOX_ROLES = ["center_staff", "admin", "leader", "grid_worker", "department"] as const;

const list = createRoute({
  method: "get",
  path: "/v1/units/{id}/inbox",
  tags: ["inbox"],
  summary:
    "A unit's inbox: escalations, supervision and urging notices, overdue cases, cases sent down, alerts",
  security: bearer,
  middleware: [requireRole(...INBOX_ROLES)] as const,
  request: {
    params: IdParam,
    query: z.object({ kind: Kind.optional(), state: State.optional(), ...pageQuery }),
  },
  responses: {
    200: jsonResponse(pageSchema(InboxItemSchema), "A page of items, newest first"),
    ...errorResponses(403, 404),
  },
});

const mark = createRoute({
  method: "post",
  path: "/v1/units/{id}/inbox/mark",
  tags: ["inbox"],
  summary: "Mark inbox items read or handled",
  description:
    "Items that are not this unit's are left alone and not listed in `updated`. Marking is idempotent.",
  security: bearer,
  middleware: [requireRole("center_staff", "admin", "grid_worker", "department")] as const,
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({ ids: z.array(z.uuid()).min(1).max(200), as: z.enum(["read", "handled"]) })
        .openapi("InboxMark"),
    ),
  },
  responses: {
    200: jsonResponse(z.object({ updated: z.array(z.uuid()) }), "The items that changed"),
    ...errorResponses(403, 404),
  },
});

const STATE_SQL: Record<z.infer<typeof State>, string> = {
  unread: "read_at IS NULL AND handled_at IS NULL",
  read: "read_at IS NOT NULL AND handled_at IS NULL",
  open: "handled_at IS NULL",
  handled: "handled_at IS NOT NULL",
};

export const inboxRoutes = createRouter()
  .openapi(list, async (c) => {
    const db = getDb(c.env);
    const { id } = c.req.valid("param");
    const { kind, state, limit, cursor } = c.req.valid("query");
    const [unit] = await db.select({ path: units.path }).from(units).where(eq(units.id, id)).limit(1);
    assertInScope(principalOf(c), unit?.path, "unit");
    const after = decodeCursor(cursor, 2);
    const where = ["unit_id = ?"];
    const args: Array<string | number> = [id];
    if (kind) {
      where.push("kind = ?");
      args.push(kind);
    }
    if (state) where.push(STATE_SQL[state]);
    if (after) {
      where.push("(created_at < ? OR (created_at = ? AND id < ?))");
      args.push(String(after[0]), String(after[0]), String(after[1]));
    }
    const rows = await db.$client.execute({
      sql: `SELECT id, unit_id, kind, case_id, payload, created_at, read_at, handled_at FROM inbox_items
            WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ?`,
      args: [...args, limit + 1],
    });
    return c.json(
      toPage(
        rows.rows,
        limit,
        (r) => ({
          id: String(r.id),
          unitId: String(r.unit_id),
          kind: String(r.kind) as (typeof INBOX_KINDS)[number],
          caseId: r.case_id === null ? null : String(r.case_id),
          payload: JSON.parse(String(r.payload)) as Record<string, unknown>,
          createdAt: String(r.created_at),
          readAt: r.read_at === null ? null : String(r.read_at),
          handledAt: r.handled_at === null ? null : String(r.handled_at),
        }),
        (r) => [String(r.created_at), String(r.id)],
      ),
      200,
    );
  })
  .openapi(mark, async (c) => {
    const principal = principalOf(c);
    const db = getDb(c.env);
    const { id } = c.req.valid("param");
    const { ids, as } = c.req.valid("json");
    const [unit] = await db.select({ path: units.path }).from(units).where(eq(units.id, id)).limit(1);
    assertInScope(principal, unit?.path, "unit");
    const at = new Date().toISOString();
    const unique = [...new Set(ids)];
    const marks = unique.map(() => "?").join(",");
    const change =
      as === "read"
        ? { set: "read_at = ?", open: "read_at IS NULL AND handled_at IS NULL", args: [at] }
        : {
            set: "handled_at = ?, read_at = COALESCE(read_at, ?)",
            open: "handled_at IS NULL",
            args: [at, at],
          };
    const [result] = await writeAudited(
      db,
      [
        {
          sql: `UPDATE inbox_items SET ${change.set} WHERE unit_id = ? AND ${change.open} AND id IN (${marks}) RETURNING id`,
          args: [...change.args, id, ...unique],
        },
      ],
      [
        {
          actorId: principal.userId,
          actorRole: principal.role,
          scopePath: unit!.path,
          action: `inbox.mark-${as}`,
          objectType: "unit",
          objectId: id,
          outcome: "success",
          requestId: c.get("requestId"),
          detail: { ids: unique },
        },
      ],
    );
    return c.json({ updated: result!.rows.map((r) => String(r.id)).sort() }, 200);
  });
