import type { Context } from "hono";
import type { EVIDENCE_TYPES } from "../../domain/case-evidence";
import type { AppEnv } from "../../env";
import { principalOf } from "../../platform/http/auth";
import { setEtag } from "../../platform/http/if-match";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { addEvidence, evidenceFor } from "../../services/attachments";
import type { Caller } from "../../services/caller";
import type * as routes from "./attachments.routes";

function caller(c: Context<AppEnv>): Caller {
  return { principal: principalOf(c), requestId: c.get("requestId") };
}

/** POST /v1/cases/{id}/attachments */
export const upload: AppRouteHandler<typeof routes.upload> = async (c) => {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const { id: caseId } = c.req.valid("param");
  const hint = c.req.valid("query").gridId;
  const stored = await addEvidence(c.env, caller(c), caseId, hint, c.req.header("content-type"), bytes);
  const url = `/v1/attachments/${stored.id}`;
  setEtag(c, stored.caseVersion);
  c.header("location", url);
  return c.json({ ...stored, contentType: stored.contentType as (typeof EVIDENCE_TYPES)[number], url }, 201);
};

/** GET /v1/attachments/{id} */
export const download: AppRouteHandler<typeof routes.download> = async (c) => {
  const object = await evidenceFor(c.env, caller(c), c.req.valid("param").id);
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
