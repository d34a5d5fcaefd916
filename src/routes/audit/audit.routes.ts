import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, guarded, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";

const AuditRowSchema = z
  .object({
    seq: z.number().int(),
    id: z.string(),
    at: z.string(),
    actorId: z.string().nullable(),
    actorRole: z.string().nullable(),
    scopePath: z.string(),
    action: z.string(),
    objectType: z.string(),
    objectId: z.string().nullable(),
    outcome: z.string(),
    requestId: z.string().nullable(),
    purpose: z.string().nullable(),
    detail: z.unknown().nullable(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi("AuditRow");

export const list = createRoute({
  method: "get",
  path: "/v1/audit",
  tags: ["audit"],
  summary: "Audit rows in the caller's subtree, newest first (admin)",
  ...guarded("audit.read"),
  request: {
    query: z.object({
      action: z.string().max(64).optional(),
      objectType: z.string().max(32).optional(),
      objectId: z.string().max(64).optional(),
      actorId: z.uuid().optional(),
      from: z.iso.datetime().optional(),
      to: z.iso.datetime().optional(),
      ...pageQuery,
    }),
  },
  responses: {
    200: jsonResponse(pageSchema(AuditRowSchema), "A page of audit rows"),
    ...errorResponses(403),
  },
});

export const verify = createRoute({
  method: "get",
  path: "/v1/audit/verify",
  tags: ["audit"],
  summary: "Recompute the audit hash chain and name the first broken row (admin)",
  ...guarded("audit.read"),
  responses: {
    200: jsonResponse(
      z.object({
        ok: z.boolean(),
        checked: z.number().int(),
        firstBroken: z
          .object({ seq: z.number().int(), id: z.string(), reason: z.enum(["hash-mismatch", "chain-break"]) })
          .nullable(),
      }),
      "The verification result",
    ),
    ...errorResponses(403),
  },
});
