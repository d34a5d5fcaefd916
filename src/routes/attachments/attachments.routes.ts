import { createRoute, z } from "@hono/zod-openapi";
import { EVIDENCE_TYPES, MAX_ATTACHMENT_BYTES } from "../../domain/case-evidence";
import { MAX_ATTACHMENTS } from "../../domain/case-lifecycle";
import { errorResponses, guarded, IdParam, jsonResponse } from "../../platform/http/openapi";
import { responseHeaders } from "../../platform/http/openapi-document";

const AttachmentSchema = z
  .object({
    id: z.uuid(),
    caseId: z.uuid(),
    caseVersion: z.number().int(),
    contentType: z.enum(EVIDENCE_TYPES),
    size: z.number().int(),
    url: z.string(),
  })
  .openapi("Attachment");

const binary = { schema: z.string().openapi({ type: "string", format: "binary" }) };

/** POST /v1/cases/{id}/attachments */
export const upload = createRoute({
  method: "post",
  path: "/v1/cases/{id}/attachments",
  operationId: "uploadCaseAttachment",
  tags: ["cases"],
  summary: "Add an evidence photo to a case",
  description: `The raw image as the body with its Content-Type: JPEG, PNG, WebP or HEIC (checked by magic bytes), at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MiB, at most ${MAX_ATTACHMENTS} per case. No If-Match: adding evidence does not conflict with other changes, but it is an event and raises the version.`,
  ...guarded("attachments.upload"),
  request: {
    params: IdParam,
    query: z.object({ gridId: z.uuid().optional() }),
    body: { required: true, content: Object.fromEntries(EVIDENCE_TYPES.map((t) => [t, binary])) },
  },
  responses: {
    201: jsonResponse(AttachmentSchema, "Stored and recorded on the case", ["ETag", "Location"]),
    ...errorResponses(403, 404, 409, 413, 415, 503),
  },
});

/** GET /v1/attachments/{id} */
export const download = createRoute({
  method: "get",
  path: "/v1/attachments/{id}",
  operationId: "getAttachment",
  tags: ["cases"],
  summary: "Download an evidence photo (if its case is in your scope)",
  ...guarded("attachments.read"),
  request: { params: IdParam },
  responses: {
    200: {
      description: "The image",
      content: Object.fromEntries(EVIDENCE_TYPES.map((t) => [t, binary])),
      headers: responseHeaders("ETag"),
    },
    ...errorResponses(404, 503),
  },
});
