import { createRoute, z } from "@hono/zod-openapi";
import { chinaDate } from "../../domain/china-time";
import { parseIdNumber } from "../../domain/id-number";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";

const TransferState = z.enum(["pending", "approved", "refused"]).openapi({
  description: "`pending` — 待审批; `approved` — 已同意（已迁入）; `refused` — 已拒绝",
});

export const TransferRequestSchema = z
  .object({
    id: z.uuid(),
    state: TransferState,
    residentId: z
      .uuid()
      .nullable()
      .openapi({ description: "Shown to the deciding centre, and to the requester once approved" }),
    fromHouseholdId: z.uuid().nullable().openapi({ description: "Shown to the deciding centre only" }),
    toHouseholdId: z.uuid(),
    reason: z.string(),
    requestedBy: z.uuid(),
    createdAt: z.string(),
    decidedBy: z.uuid().nullable(),
    decidedAt: z.string().nullable(),
    decisionNote: z.string().nullable(),
    decides: z.boolean().openapi({ description: "Whether the caller may approve or refuse it" }),
  })
  .openapi("TransferRequest");

const NewTransferRequest = z
  .strictObject({
    idNumber: z
      .string()
      .trim()
      .max(18)
      .refine((v) => parseIdNumber(v, chinaDate(new Date())).ok, "a valid ID number (GB 11643)")
      .openapi({ description: "身份证号 of the resident registered elsewhere; matched by its keyed HMAC" }),
    householdId: z
      .uuid()
      .openapi({ description: "The household in your scope the resident should move into" }),
    reason: z.string().trim().min(2).max(500).openapi({ description: "迁入事由" }),
  })
  .openapi("NewTransferRequest");

export const create = createRoute({
  method: "post",
  path: "/v1/residents/transfer-requests",
  operationId: "requestResidentTransfer",
  tags: ["residents"],
  summary: "Ask to move a resident registered elsewhere into a household of your unit (迁入申请)",
  description:
    "The next step after a 409 duplicate-id-number. The resident is matched by the ID number's keyed HMAC; the request is decided by the centre of the resident's current village or any centre above it. An unmatched number answers 404; both answers are audited with the HMAC and counted with refused registrations (past 10 an hour, 429).",
  ...guarded("residents.transfer-request"),
  request: { body: jsonBody(NewTransferRequest) },
  responses: {
    201: jsonResponse(TransferRequestSchema, "Requested", ["Location"]),
    ...errorResponses(403, 404, 409, 429),
  },
});

export const list = createRoute({
  method: "get",
  path: "/v1/residents/transfer-requests",
  operationId: "listResidentTransfers",
  tags: ["residents"],
  summary: "Transfer requests you made or decide, newest first",
  ...guarded("residents.transfer-read"),
  request: { query: z.object({ state: TransferState.optional(), ...pageQuery }) },
  responses: {
    200: jsonResponse(pageSchema(TransferRequestSchema), "A page of transfer requests"),
    ...errorResponses(403),
  },
});

export const getOne = createRoute({
  method: "get",
  path: "/v1/residents/transfer-requests/{id}",
  operationId: "getResidentTransfer",
  tags: ["residents"],
  summary: "One transfer request you made or decide (404 for anyone else)",
  ...guarded("residents.transfer-read"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(TransferRequestSchema, "The request"), ...errorResponses(403, 404) },
});

const Decision = jsonBody(
  z
    .strictObject({ note: z.string().trim().max(500).optional().openapi({ description: "审批意见" }) })
    .openapi("TransferDecision"),
);

export const approve = createRoute({
  method: "post",
  path: "/v1/residents/transfer-requests/{id}/approve",
  operationId: "approveResidentTransfer",
  tags: ["residents"],
  summary: "Approve a transfer: the resident moves, both households are reclassified",
  description:
    "The centre of the resident's current village or one above it. 409 once decided, or `transfer-stale` when the resident or a household changed place meanwhile.",
  ...guarded("residents.transfer-decide"),
  request: { params: IdParam, body: Decision },
  responses: {
    200: jsonResponse(TransferRequestSchema, "Approved"),
    ...errorResponses(403, 404, 409, 412),
  },
});

export const refuse = createRoute({
  method: "post",
  path: "/v1/residents/transfer-requests/{id}/refuse",
  operationId: "refuseResidentTransfer",
  tags: ["residents"],
  summary: "Refuse a transfer",
  ...guarded("residents.transfer-decide"),
  request: { params: IdParam, body: Decision },
  responses: { 200: jsonResponse(TransferRequestSchema, "Refused"), ...errorResponses(403, 404, 409) },
});
