import { createRoute, z } from "@hono/zod-openapi";
import {
  checkEvidence,
  declaredImageType,
  EVIDENCE_TYPES,
  MAX_ATTACHMENT_BYTES,
} from "../../domain/case-evidence";
import { ACTIONS, canSeeCase, MAX_ATTACHMENTS } from "../../domain/case-lifecycle";
import type { CaseRecord } from "../../domain/case-model";
import type { CommandResult } from "../../durable/grid-desk/grid-desk";
import { principalOf } from "../../platform/http/auth";
import { bearer, createRouter, errorResponses, IdParam, jsonResponse } from "../../platform/http/openapi";
import { Problem, problems } from "../../platform/http/problem";
import { actorOf, callDesk, deskOf, deskProblem, withCaseDesk } from "../cases";

/** R2 key of an attachment; its metadata names the case and its owning unit, so a download finds the desk. */
const objectKey = (attachmentId: string) => `evidence/${attachmentId}`;

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

const upload = createRoute({
  method: "post",
  path: "/v1/cases/{id}/attachments",
  tags: ["cases"],
  summary: "Add an evidence photo to a case",
  description: `The raw image as the body with its Content-Type: JPEG, PNG, WebP or HEIC (checked by magic bytes), at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MiB, at most ${MAX_ATTACHMENTS} per case. No If-Match: adding evidence does not conflict with other changes, but it is an event and raises the version.`,
  security: bearer,
  request: {
    params: IdParam,
    query: z.object({ gridId: z.uuid().optional() }),
    body: { required: true, content: Object.fromEntries(EVIDENCE_TYPES.map((t) => [t, binary])) },
  },
  responses: {
    201: jsonResponse(AttachmentSchema, "Stored and recorded on the case"),
    ...errorResponses(403, 404, 409, 413, 415, 503),
  },
});

const download = createRoute({
  method: "get",
  path: "/v1/attachments/{id}",
  tags: ["cases"],
  summary: "Download an evidence photo (if its case is in your scope)",
  security: bearer,
  request: { params: IdParam },
  responses: {
    200: { description: "The image", content: Object.fromEntries(EVIDENCE_TYPES.map((t) => [t, binary])) },
    ...errorResponses(404, 503),
  },
});

export const attachmentRoutes = createRouter()
  .openapi(upload, async (c) => {
    const p = principalOf(c);
    const actor = actorOf(p);
    const { id: caseId } = c.req.valid("param");
    const hint = c.req.valid("query").gridId;
    const declared = declaredImageType(c.req.header("content-type"));
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const bad = checkEvidence(declared, bytes);
    if (bad) {
      if (bytes.length > MAX_ATTACHMENT_BYTES) throw new Problem(413, "body-too-large", bad);
      throw new Problem(415, "unsupported-media-type", bad);
    }

    // Check before storing anything; the desk checks again, atomically, when it records the attachment.
    const found = await withCaseDesk(c, caseId, hint, async (desk) => {
      const got = (await desk.getCase(caseId)) as { record: CaseRecord } | null;
      return got ? { record: got.record } : null;
    });
    const record = found.record;
    if (!canSeeCase(actor, record)) throw problems.notFound("case");
    if (!ACTIONS.attach.from.includes(record.state)) {
      throw problems.conflict(
        "illegal-transition",
        `A case in state ${record.state} takes no more attachments`,
      );
    }
    if (!ACTIONS.attach.may(actor, record))
      throw problems.forbidden(`Only ${ACTIONS.attach.who} may add evidence`);
    if (record.attachments.length >= MAX_ATTACHMENTS) {
      throw problems.conflict("too-many-attachments", `A case holds at most ${MAX_ATTACHMENTS} attachments`);
    }

    const attachmentId = crypto.randomUUID();
    const owner = record.owningUnit.id;
    await callDesk(c, () =>
      c.env.EVIDENCE.put(objectKey(attachmentId), bytes, {
        httpMetadata: { contentType: declared },
        customMetadata: { caseId, owningUnitId: owner, uploadedBy: p.userId },
      }),
    );
    let result: CommandResult;
    try {
      result = (await deskOf(c.env, owner).command(
        caseId,
        { action: "attach", attachment: { id: attachmentId, contentType: declared, size: bytes.length } },
        actor,
        null,
      )) as CommandResult;
    } catch (error) {
      await c.env.EVIDENCE.delete(objectKey(attachmentId)).catch(() => undefined);
      return callDesk(c, () => Promise.reject(error));
    }
    if (!result.ok) {
      await c.env.EVIDENCE.delete(objectKey(attachmentId)).catch(() => undefined);
      throw deskProblem(result);
    }
    c.header("etag", `"${result.record.version}"`);
    c.header("location", `/v1/attachments/${attachmentId}`);
    return c.json(
      {
        id: attachmentId,
        caseId,
        caseVersion: result.record.version,
        contentType: declared as (typeof EVIDENCE_TYPES)[number],
        size: bytes.length,
        url: `/v1/attachments/${attachmentId}`,
      },
      201,
    );
  })
  .openapi(download, async (c) => {
    const actor = actorOf(principalOf(c));
    const { id } = c.req.valid("param");
    const object = await callDesk(c, () => c.env.EVIDENCE.get(objectKey(id)));
    const caseId = object?.customMetadata?.caseId;
    const owner = object?.customMetadata?.owningUnitId;
    if (!object || !caseId || !owner) throw problems.notFound("attachment");
    const found = (await callDesk(c, () => deskOf(c.env, owner).getCase(caseId))) as {
      record: CaseRecord;
    } | null;
    // Only attachments the case recorded count: an upload whose recording failed is not served.
    if (!found || !canSeeCase(actor, found.record) || !found.record.attachments.some((a) => a.id === id)) {
      await object.body.cancel();
      throw problems.notFound("attachment");
    }
    return new Response(object.body, {
      status: 200,
      headers: {
        "content-type": object.httpMetadata?.contentType ?? "application/octet-stream",
        "content-length": String(object.size),
        "cache-control": "private, max-age=3600",
        "x-content-type-options": "nosniff",
        etag: object.httpEtag,
      },
    });
  });
