import { createRoute, z } from "@hono/zod-openapi";
import { INBOX_STATES } from "../../db/repos/inbox";
import { INBOX_KIND_LABELS, INBOX_KINDS } from "../../domain/escalation";
import { INBOX_ACCESS_RULE } from "../../domain/inbox";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";

const Kind = z.enum(INBOX_KINDS).openapi({
  description: Object.entries(INBOX_KIND_LABELS)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; "),
});
const State = z.enum(INBOX_STATES).openapi({
  description:
    "`unread` — not yet read; `read` — read, not handled; `open` — not handled; `handled` — handled",
});

const InboxItemSchema = z
  .object({
    id: z.uuid(),
    unitId: z.uuid(),
    kind: Kind,
    caseId: z.string().nullable(),
    payload: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    readAt: z.string().nullable(),
    handledAt: z.string().nullable(),
  })
  .openapi("InboxItem");

export const list = createRoute({
  method: "get",
  path: "/v1/units/{id}/inbox",
  tags: ["inbox"],
  operationId: "listInbox",
  summary:
    "A unit's inbox: escalations, supervision and urging notices, overdue cases, cases sent down, alerts",
  description: INBOX_ACCESS_RULE,
  ...guarded("inbox.read"),
  request: {
    params: IdParam,
    query: z.object({ kind: Kind.optional(), state: State.optional(), ...pageQuery }),
  },
  responses: {
    200: jsonResponse(pageSchema(InboxItemSchema), "A page of items, newest first"),
    ...errorResponses(403, 404),
  },
});

export const mark = createRoute({
  method: "post",
  path: "/v1/units/{id}/inbox/mark",
  tags: ["inbox"],
  operationId: "markInbox",
  summary: "Mark inbox items read or handled",
  description: `Items that are not this unit's are left alone and not listed in \`updated\`. Marking is idempotent. ${INBOX_ACCESS_RULE} A caller who may only read the inbox gets 403 and nothing is marked.`,
  ...guarded("inbox.mark"),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({ ids: z.array(z.uuid()).min(1).max(200), as: z.enum(["read", "handled"]) })
        .openapi("InboxMark"),
    ),
  },
  responses: {
    200: jsonResponse(z.object({ updated: z.array(z.uuid()) }), "The items that changed"),
    ...errorResponses(403, 404),
  },
});
