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
  operationId: "listAudit",
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

const AuditFindingSchema = z
  .object({
    seq: z
      .number()
      .int()
      .openapi({ description: "The row found wrong, or the first missing sequence number" }),
    id: z.string().nullable().openapi({ description: "The row's id; null when the row is missing" }),
    reason: z
      .enum([
        "hash-mismatch",
        "chain-break",
        "legacy-head-mismatch",
        "row-mac-mismatch",
        "link-mismatch",
        "unchained",
        "sequence-gap",
        "missing-tail",
        "anchor-mismatch",
        "genesis-moved",
      ])
      .openapi({
        description:
          "hash-mismatch / chain-break: a row of the plain SHA-256 era altered or unlinked; legacy-head-mismatch: " +
          "the last such row is not where the keyed chain starts; row-mac-mismatch: a row altered or re-hashed " +
          "(its HMAC under AUDIT_KEY fails); link-mismatch: a chain link rewritten; unchained: a row up to the " +
          "anchored head without a link; sequence-gap: rows deleted from the middle (seq is the first missing); " +
          "missing-tail: the anchored head row is gone (the tail was cut); anchor-mismatch: the link at the " +
          "anchored head differs from the checkpoint kept outside the database; genesis-moved: the recorded start " +
          "of the keyed chain was changed",
      }),
  })
  .openapi("AuditFinding");

export const verify = createRoute({
  method: "get",
  path: "/v1/audit/verify",
  operationId: "verifyAuditChain",
  tags: ["audit"],
  summary: "Checkpoint the audit anchor, then verify every row, link and the anchored head (admin)",
  description:
    "Rows carry an HMAC under a key the database never holds; the audit anchor (outside the database) links " +
    "them in sequence and checkpoints the head at least every minute and on every call of this operation. " +
    "Lists what is wrong, row by row (at most 100; `findingCount` counts all).",
  ...guarded("audit.read"),
  responses: {
    200: jsonResponse(
      z.object({
        ok: z.boolean(),
        checked: z.number().int().openapi({ description: "Rows checked" }),
        pending: z
          .number()
          .int()
          .openapi({ description: "Rows written since the checkpoint, not linked yet" }),
        keyedFrom: z.number().int().openapi({ description: "The first sequence number of the keyed chain" }),
        anchor: z
          .object({ seq: z.number().int(), at: z.string() })
          .nullable()
          .openapi({ description: "The head checkpointed outside the database" }),
        findingCount: z.number().int(),
        findings: z.array(AuditFindingSchema),
        firstBroken: AuditFindingSchema.nullable().openapi({ description: "The first finding, or null" }),
      }),
      "The verification result",
    ),
    ...errorResponses(403),
  },
});
