import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { newWebhookSecret, sealWebhookSecret } from "../../db/repos/webhooks";
import { units, webhookEndpoints } from "../../db/schema";
import { CENTRE_LEVELS } from "../../domain/case-lifecycle";
import { WEBHOOK_EVENT_KINDS } from "../../domain/webhook-signature";
import { checkWebhookUrl, MAX_WEBHOOK_URL_LENGTH } from "../../domain/webhook-url";
import { writeAudited } from "../../platform/db/audit";
import { getDb } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
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
import { problems } from "../../platform/http/problem";

/** The most active endpoints one centre may register. */
export const MAX_ENDPOINTS_PER_UNIT = 20;

const EventKind = z.enum(WEBHOOK_EVENT_KINDS);

const EndpointSchema = z
  .object({
    id: z.uuid(),
    unitId: z.uuid(),
    url: z.string(),
    events: z.array(EventKind),
    description: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
    disabledAt: z.string().nullable(),
  })
  .openapi("WebhookEndpoint");

const CreatedSchema = EndpointSchema.extend({
  secret: z.string().openapi({
    description:
      "The signing secret, shown only now. Verify `x-grid321-signature: t=<unix>,v1=<hex>` as HMAC-SHA-256 of `<t>.<body>`.",
  }),
}).openapi("WebhookEndpointCreated");

const create = createRoute({
  method: "post",
  path: "/v1/units/{id}/webhooks",
  tags: ["webhooks"],
  summary: "Register a webhook endpoint for a centre (centre staff or admin)",
  description:
    "Deliveries are POSTs signed with HMAC-SHA-256 and retried with backoff. The URL must be `https` to a public host (`http://127.0.0.1`/`localhost` only in development); private, loopback, link-local, CGNAT and internal addresses are refused.",
  security: bearer,
  middleware: [requireRole("center_staff", "admin")] as const,
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({
          url: z.string().max(MAX_WEBHOOK_URL_LENGTH),
          events: z.array(EventKind).min(1).max(WEBHOOK_EVENT_KINDS.length),
          description: z.string().trim().max(200).optional(),
        })
        .openapi("NewWebhookEndpoint"),
    ),
  },
  responses: { 201: jsonResponse(CreatedSchema, "Registered"), ...errorResponses(403, 404, 409) },
});

const list = createRoute({
  method: "get",
  path: "/v1/units/{id}/webhooks",
  tags: ["webhooks"],
  summary: "A centre's webhook endpoints (without secrets)",
  security: bearer,
  middleware: [requireRole("center_staff", "admin", "leader")] as const,
  request: { params: IdParam, query: z.object(pageQuery) },
  responses: {
    200: jsonResponse(pageSchema(EndpointSchema), "A page of endpoints"),
    ...errorResponses(403, 404),
  },
});

const disable = createRoute({
  method: "post",
  path: "/v1/webhooks/{id}/disable",
  tags: ["webhooks"],
  summary: "Disable a webhook endpoint; pending deliveries to it are dropped as skipped",
  security: bearer,
  middleware: [requireRole("center_staff", "admin")] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse(EndpointSchema, "Disabled"), ...errorResponses(403, 404) },
});

type EndpointRow = typeof webhookEndpoints.$inferSelect;
const view = (r: EndpointRow) => ({
  id: r.id,
  unitId: r.unitId,
  url: r.url,
  events: JSON.parse(r.events) as Array<(typeof WEBHOOK_EVENT_KINDS)[number]>,
  description: r.description,
  createdBy: r.createdBy,
  createdAt: r.createdAt,
  disabledAt: r.disabledAt,
});

export const webhookRoutes = createRouter()
  .openapi(create, async (c) => {
    const principal = principalOf(c);
    const db = getDb(c.env);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const [unit] = await db
      .select({ id: units.id, path: units.path, level: units.level })
      .from(units)
      .where(eq(units.id, id))
      .limit(1);
    assertInScope(principal, unit?.path, "unit");
    if (!CENTRE_LEVELS.includes(unit!.level)) {
      throw problems.badRequest("Only a centre (village or above) registers webhooks", [
        { path: "id", message: "not a centre" },
      ]);
    }
    const target = checkWebhookUrl(body.url, c.env.ENVIRONMENT);
    if (!target.ok)
      throw problems.badRequest(`The webhook URL is refused: ${target.reason}`, [
        { path: "url", message: target.reason },
      ]);
    const active = await db.$client.execute({
      sql: "SELECT COUNT(*) AS n FROM webhook_endpoints WHERE unit_id = ? AND disabled_at IS NULL",
      args: [unit!.id],
    });
    if (Number(active.rows[0]?.n ?? 0) >= MAX_ENDPOINTS_PER_UNIT) {
      throw problems.conflict(
        "too-many-webhooks",
        `A centre may have at most ${MAX_ENDPOINTS_PER_UNIT} active endpoints`,
      );
    }
    const endpointId = crypto.randomUUID();
    const secret = newWebhookSecret();
    const row: EndpointRow = {
      id: endpointId,
      unitId: unit!.id,
      unitPath: unit!.path,
      url: target.url,
      events: JSON.stringify([...new Set(body.events)]),
      description: body.description ?? null,
      secretSealed: await sealWebhookSecret(c.env, endpointId, secret),
      createdBy: principal.userId,
      createdAt: new Date().toISOString(),
      disabledAt: null,
    };
    await writeAudited(
      db,
      [stmt(db.insert(webhookEndpoints).values(row))],
      [
        {
          actorId: principal.userId,
          actorRole: principal.role,
          scopePath: unit!.path,
          action: "webhook.create",
          objectType: "webhook_endpoint",
          objectId: endpointId,
          outcome: "success",
          requestId: c.get("requestId"),
          detail: { url: row.url, events: JSON.parse(row.events) },
        },
      ],
    );
    c.header("location", `/v1/units/${unit!.id}/webhooks`);
    return c.json({ ...view(row), secret }, 201);
  })
  .openapi(list, async (c) => {
    const db = getDb(c.env);
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    const [unit] = await db.select({ path: units.path }).from(units).where(eq(units.id, id)).limit(1);
    assertInScope(principalOf(c), unit?.path, "unit");
    const after = decodeCursor(cursor, 2);
    const rows = await db.$client.execute({
      sql: `SELECT * FROM webhook_endpoints WHERE unit_id = ?
            ${after ? "AND (created_at > ? OR (created_at = ? AND id > ?))" : ""}
            ORDER BY created_at, id LIMIT ?`,
      args: after ? [id, after[0]!, after[0]!, after[1]!, limit + 1] : [id, limit + 1],
    });
    const mapped: EndpointRow[] = rows.rows.map((r) => ({
      id: String(r.id),
      unitId: String(r.unit_id),
      unitPath: String(r.unit_path),
      url: String(r.url),
      events: String(r.events),
      description: r.description === null ? null : String(r.description),
      secretSealed: "",
      createdBy: String(r.created_by),
      createdAt: String(r.created_at),
      disabledAt: r.disabled_at === null ? null : String(r.disabled_at),
    }));
    return c.json(
      toPage(mapped, limit, view, (r) => [r.createdAt, r.id]),
      200,
    );
  })
  .openapi(disable, async (c) => {
    const principal = principalOf(c);
    const db = getDb(c.env);
    const { id } = c.req.valid("param");
    const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).limit(1);
    assertInScope(principal, row?.unitPath, "webhook endpoint");
    if (row!.disabledAt !== null) return c.json(view(row!), 200);
    const at = new Date().toISOString();
    await writeAudited(
      db,
      [
        {
          sql: "UPDATE webhook_endpoints SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL",
          args: [at, id],
        },
      ],
      [
        {
          actorId: principal.userId,
          actorRole: principal.role,
          scopePath: row!.unitPath,
          action: "webhook.disable",
          objectType: "webhook_endpoint",
          objectId: id,
          outcome: "success",
          requestId: c.get("requestId"),
          detail: { url: row!.url },
        },
      ],
    );
    return c.json(view({ ...row!, disabledAt: at }), 200);
  });
