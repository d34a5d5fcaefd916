import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, guarded, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { UserIdParam } from "../contacts/contacts.routes";

const KindSchema = z.enum(["information", "mediation"]).openapi({
  description:
    "`information` — 信息采集 (information the contact collected fed the case); `mediation` — 矛盾调解 (the contact mediated the dispute)",
});

const LinkSchema = z
  .object({
    id: z.uuid(),
    contactId: z.uuid(),
    caseId: z.uuid(),
    kind: KindSchema,
    visitId: z.uuid().nullable(),
    note: z.string().nullable(),
    createdBy: z.uuid(),
    createdAt: z.string(),
  })
  .openapi("ContactCaseLink");

export const link = createRoute({
  method: "post",
  path: "/v1/contacts/{userId}/case-links",
  operationId: "linkContactCase",
  tags: ["three lines"],
  summary: "Link a contact's log to a case: information collected, or a dispute mediated",
  description:
    "By the contact themself, or by an admin, centre staff or grid worker whose subtree holds the contact. The case must be in the contact's subtree (as the projection holds it); a mediation links a dispute. `visitId` names the contact's own visit (the households area's visits) where it happened; when the case names households, the visit is at one of them. The contact must be on the case: its reporter, an actor on its timeline, or paired with one of its households (403 `not-on-case` otherwise, nothing stored). One link per contact, case and kind (409).",
  ...guarded("contact-logs.link"),
  request: {
    params: UserIdParam,
    body: jsonBody(
      z
        .strictObject({
          caseId: z.uuid(),
          kind: KindSchema,
          visitId: z.uuid().optional(),
          note: z.string().trim().min(1).max(2000).optional(),
        })
        .openapi("NewContactCaseLink"),
    ),
  },
  responses: { 201: jsonResponse(LinkSchema, "Linked"), ...errorResponses(403, 404, 409) },
});

export const list = createRoute({
  method: "get",
  path: "/v1/contacts/{userId}/case-links",
  operationId: "listContactCaseLinks",
  tags: ["three lines"],
  summary: "A contact's logs linked to cases, newest first (up to 200)",
  ...guarded("contact-logs.read"),
  request: { params: UserIdParam },
  responses: { 200: jsonResponse(z.object({ items: z.array(LinkSchema) }), "Links"), ...errorResponses(404) },
});
