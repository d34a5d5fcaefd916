import { createRoute, z } from "@hono/zod-openapi";
import { WEBHOOK_EVENT_KINDS } from "../../domain/webhook-signature";
import { MAX_WEBHOOK_URL_LENGTH } from "../../domain/webhook-url";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";

const EventKind = z.enum(WEBHOOK_EVENT_KINDS);

export const EndpointSchema = z
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

export const create = createRoute({
  method: "post",
  path: "/v1/units/{id}/webhooks",
  tags: ["webhooks"],
  operationId: "registerWebhook",
  summary: "Register a webhook endpoint for a centre (centre staff or admin)",
  description:
    "Deliveries are POSTs signed with HMAC-SHA-256 and retried with backoff. The URL must be `https` to a public host (`http://127.0.0.1`/`localhost` only in development); private, loopback, link-local, CGNAT and internal addresses are refused. A centre may have at most 20 active endpoints (409 `too-many-webhooks`).",
  ...guarded("webhooks.write"),
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
  responses: {
    201: jsonResponse(CreatedSchema, "Registered", ["Location"]),
    ...errorResponses(403, 404, 409),
  },
});

export const list = createRoute({
  method: "get",
  path: "/v1/units/{id}/webhooks",
  tags: ["webhooks"],
  operationId: "listWebhooks",
  summary: "A centre's webhook endpoints (without secrets)",
  ...guarded("webhooks.read"),
  request: { params: IdParam, query: z.object(pageQuery) },
  responses: {
    200: jsonResponse(pageSchema(EndpointSchema), "A page of endpoints"),
    ...errorResponses(403, 404),
  },
});

export const disable = createRoute({
  method: "post",
  path: "/v1/webhooks/{id}/disable",
  tags: ["webhooks"],
  operationId: "disableWebhook",
  summary: "Disable a webhook endpoint; pending deliveries to it are dropped as skipped",
  ...guarded("webhooks.write"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(EndpointSchema, "Disabled"), ...errorResponses(403, 404) },
});
