import { createRoute, z } from "@hono/zod-openapi";
import {
  DIRECTIVE_PRIORITIES,
  DIRECTIVE_PRIORITY_LABELS,
  MAX_EXPLICIT_TARGETS,
  RECEIPT_STATE_LABELS,
  RECEIPT_STATES,
} from "../../domain/directives";
import { UNIT_LEVELS } from "../../domain/units";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";

const labels = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; ");

const Priority = z.enum(DIRECTIVE_PRIORITIES).openapi({ description: labels(DIRECTIVE_PRIORITY_LABELS) });
const ReceiptStateSchema = z.enum(RECEIPT_STATES).openapi({ description: labels(RECEIPT_STATE_LABELS) });
const Level = z.enum(UNIT_LEVELS);

const Counts = z.object({
  total: z.number().int(),
  delivered: z.number().int(),
  acknowledged: z.number().int(),
  completed: z.number().int(),
  overdue: z.number().int(),
});

export const DirectiveSchema = z
  .object({
    id: z.uuid(),
    issuerUnitId: z.uuid(),
    issuedBy: z.uuid(),
    title: z.string(),
    body: z.string(),
    priority: Priority,
    dueAt: z.string(),
    targetUnitIds: z.array(z.uuid()).nullable(),
    targetLevels: z.array(Level).nullable(),
    targetCount: z.number().int().openapi({ description: "Receipts the fan-out writes" }),
    attachmentIds: z.array(z.uuid()),
    createdAt: z.string(),
    fanoutQueued: z.boolean(),
    eventId: z.uuid().nullable().optional().openapi({ description: "The emergency event an order serves" }),
    ackDueAt: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: "An emergency order's acknowledgement deadline" }),
  })
  .openapi("Directive");

const DirectiveDetail = DirectiveSchema.extend({
  counts: Counts.openapi({ description: "Receipts inside the caller's subtree, by state" }),
  countsByLevel: z.record(z.string(), Counts).openapi({
    description: "The same by unit level (`county`, `town`, `village`, `grid2`, `grid3`)",
  }),
  completionRate: z.number(),
}).openapi("DirectiveDetail");

export const ReceiptSchema = z
  .object({
    directiveId: z.uuid(),
    unitId: z.uuid(),
    level: z.string(),
    gridLevel: z.number().int().nullable(),
    state: ReceiptStateSchema,
    dueAt: z.string(),
    deliveredAt: z.string(),
    acknowledgedAt: z.string().nullable(),
    acknowledgedBy: z.string().nullable(),
    completedAt: z.string().nullable(),
    completedBy: z.string().nullable(),
    completedLate: z.boolean().nullable(),
    report: z.string().nullable(),
    evidenceIds: z.array(z.uuid()),
    overdueAt: z.string().nullable(),
    ackDueAt: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: "An emergency order's acknowledgement deadline" }),
    ackEscalatedAt: z.string().nullable().optional().openapi({
      description: "When the missed acknowledgement was escalated to the village and town centres",
    }),
  })
  .openapi("DirectiveReceipt");

const ReceivedDirective = DirectiveSchema.extend({ receipt: ReceiptSchema }).openapi("ReceivedDirective");

export const NewDirective = z
  .strictObject({
    title: z.string().trim().min(1).max(200),
    body: z.string().trim().min(1).max(10_000),
    priority: Priority.default("normal"),
    dueAt: z.iso.datetime({ offset: true }).openapi({ description: "ISO 8601; must be in the future" }),
    attachmentIds: z.array(z.uuid()).max(20).default([]),
    unitIds: z
      .array(z.uuid())
      .min(1)
      .max(MAX_EXPLICIT_TARGETS)
      .optional()
      .openapi({ description: "Named target units inside the issuer's subtree" }),
    levels: z.array(Level).min(1).max(4).optional().openapi({
      description: "Every unit of these levels under the issuer (`village` + `grid` = every grid)",
    }),
  })
  .refine((b) => (b.unitIds === undefined) !== (b.levels === undefined), {
    message: "give exactly one of unitIds or levels",
    path: ["unitIds"],
  })
  .openapi("NewDirective");

const ReceiptParams = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
  unitId: z.uuid().openapi({ param: { name: "unitId", in: "path" } }),
});

export const Completion = z
  .strictObject({
    report: z.string().trim().min(1).max(4_000),
    evidenceIds: z.array(z.uuid()).max(20).default([]),
  })
  .openapi("DirectiveCompletion");

export const issue = createRoute({
  method: "post",
  path: "/v1/directives",
  tags: ["directives"],
  operationId: "issueDirective",
  summary: "Issue a directive (指令) to units of the caller's subtree (center_staff, admin)",
  description:
    "Targets are named units (`unitIds`, up to 5,000) or every unit of some levels under the issuer (`levels`). " +
    "The directive is stored at once; receipts are written by the `directives` queue in batches, so " +
    "`GET /v1/directives/{id}` shows them arriving until `counts.total` reaches `targetCount`.",
  ...guarded("directives.issue"),
  request: { body: jsonBody(NewDirective) },
  responses: {
    201: jsonResponse(DirectiveSchema, "Issued", ["Location"]),
    ...errorResponses(403, 404, 413),
  },
});

export const list = createRoute({
  method: "get",
  path: "/v1/directives",
  tags: ["directives"],
  operationId: "listDirectives",
  summary: "Directives received by a unit (`unitId`), or issued inside the caller's subtree",
  ...guarded("directives.read"),
  request: {
    query: z.object({
      unitId: z.uuid().optional().openapi({ description: "List what this unit received, with its receipt" }),
      state: ReceiptStateSchema.optional().openapi({ description: "Receipt state; needs unitId" }),
      ...pageQuery,
    }),
  },
  responses: {
    200: jsonResponse(
      pageSchema(z.union([ReceivedDirective, DirectiveSchema])),
      "Newest first; with `unitId` each item carries that unit's receipt",
    ),
    ...errorResponses(404),
  },
});

export const getOne = createRoute({
  method: "get",
  path: "/v1/directives/{id}",
  tags: ["directives"],
  operationId: "getDirective",
  summary: "One directive with completion counts by unit level (for the caller's subtree)",
  ...guarded("directives.read"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(DirectiveDetail, "The directive"), ...errorResponses(404) },
});

export const receipts = createRoute({
  method: "get",
  path: "/v1/directives/{id}/receipts",
  tags: ["directives"],
  operationId: "listDirectiveReceipts",
  summary: "The directive's receipts inside the caller's subtree, by unit path",
  ...guarded("directives.read"),
  request: {
    params: IdParam,
    query: z.object({ state: ReceiptStateSchema.optional(), ...pageQuery }),
  },
  responses: { 200: jsonResponse(pageSchema(ReceiptSchema), "A page of receipts"), ...errorResponses(404) },
});

export const acknowledge = createRoute({
  method: "post",
  path: "/v1/directives/{id}/receipts/{unitId}/acknowledge",
  tags: ["directives"],
  operationId: "acknowledgeDirectiveReceipt",
  summary: "Acknowledge (签收) a receipt, as staff of its unit or its village centre",
  ...guarded("directives.receipt"),
  request: { params: ReceiptParams },
  responses: { 200: jsonResponse(ReceiptSchema, "The receipt"), ...errorResponses(403, 404, 409) },
});

export const complete = createRoute({
  method: "post",
  path: "/v1/directives/{id}/receipts/{unitId}/complete",
  tags: ["directives"],
  operationId: "completeDirectiveReceipt",
  summary: "Complete (办结) a receipt with a report and evidence attachment ids",
  ...guarded("directives.receipt"),
  request: { params: ReceiptParams, body: jsonBody(Completion) },
  responses: { 200: jsonResponse(ReceiptSchema, "The receipt"), ...errorResponses(403, 404, 409) },
});
