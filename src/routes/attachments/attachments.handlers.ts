import type { EVIDENCE_TYPES } from "../../domain/case-evidence";
import { callerOf } from "../../platform/http/auth";
import { setEtag } from "../../platform/http/if-match";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { addEvidence, evidenceFor } from "../../services/attachments";
import type * as routes from "./attachments.routes";

/** POST /v1/cases/{id}/attachments */
export const upload: AppRouteHandler<typeof routes.upload> = async (c) => {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const { id: caseId } = c.req.valid("param");
  const hint = c.req.valid("query").gridId;
  const stored = await addEvidence(c.env, callerOf(c), caseId, hint, c.req.header("content-type"), bytes);
  const url = `/v1/attachments/${stored.id}`;
  setEtag(c, stored.caseVersion);
  c.header("location", url);
  return c.json({ ...stored, contentType: stored.contentType as (typeof EVIDENCE_TYPES)[number], url }, 201);
};

/** GET /v1/attachments/{id} */
export const download: AppRouteHandler<typeof routes.download> = async (c) => {
  const object = await evidenceFor(c.env, callerOf(c), c.req.valid("param").id);
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
};
