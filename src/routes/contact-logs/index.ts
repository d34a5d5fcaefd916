import { createRoute, z } from "@hono/zod-openapi";
import { threeLinesAudit, userInScope, writeOnce } from "../../db/repos/three-lines";
import { isLine } from "../../domain/contacts";
import { inScope } from "../../domain/units";
import { getDb } from "../../platform/db/client";
import { principalOf, requireRole } from "../../platform/http/auth";
import { bearer, createRouter, errorResponses, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { problems } from "../../platform/http/problem";

const LINK_KINDS = ["information", "mediation"] as const;
const KindSchema = z.enum(LINK_KINDS).openapi({
  description:
    "`information` — 信息采集 (information the contact collected fed the case); `mediation` — 矛盾调解 (the contact mediated the dispute)",
});
const UserIdParam = z.object({ userId: z.uuid().openapi({ param: { name: "userId", in: "path" } }) });

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

const link = createRoute({
  method: "post",
  path: "/v1/contacts/{userId}/case-links",
  tags: ["three lines"],
  summary: "Link a contact's log to a case: information collected, or a dispute mediated",
  description:
    "By the contact themself, or by an admin, centre staff or grid worker whose subtree holds the contact. The case must be in the contact's subtree (as the projection holds it); a mediation links a dispute. `visitId` names the contact's own visit (the households area's visits) where it happened; when the case names households, the visit is at one of them. One link per contact, case and kind (409).",
  security: bearer,
  middleware: [
    requireRole("admin", "center_staff", "grid_worker", "party_member", "deputy", "household_lead"),
  ] as const,
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

const list = createRoute({
  method: "get",
  path: "/v1/contacts/{userId}/case-links",
  tags: ["three lines"],
  summary: "A contact's logs linked to cases, newest first (up to 200)",
  security: bearer,
  request: { params: UserIdParam },
  responses: { 200: jsonResponse(z.object({ items: z.array(LinkSchema) }), "Links"), ...errorResponses(404) },
});

const LINK_COLUMNS = `id, contact_id AS contactId, case_id AS caseId, kind, visit_id AS visitId, note,
  created_by AS createdBy, created_at AS createdAt`;

const linkView = (r: Record<string, unknown>) => ({
  id: String(r.id),
  contactId: String(r.contactId),
  caseId: String(r.caseId),
  kind: r.kind as (typeof LINK_KINDS)[number],
  visitId: r.visitId === null ? null : String(r.visitId),
  note: r.note === null ? null : String(r.note),
  createdBy: String(r.createdBy),
  createdAt: String(r.createdAt),
});

const bad = (path: string, message: string) =>
  problems.badRequest("The link does not hold", [{ path, message }]);

export const contactLogRoutes = createRouter()
  .openapi(link, async (c) => {
    const principal = principalOf(c);
    const { userId } = c.req.valid("param");
    const body = c.req.valid("json");
    if (isLine(principal.role) && principal.userId !== userId) {
      throw problems.forbidden("A contact links only their own logs");
    }
    const db = getDb(c.env);
    const contact = await userInScope(db, principal, userId);
    if (!isLine(contact.role)) throw bad("userId", `the user is a ${contact.role}, not a three-line contact`);
    const [found, visit] = await db.$client.batch(
      [
        {
          sql: `SELECT type, owning_unit_path AS owningPath, responsible_unit_path AS responsiblePath, doc
                FROM cases WHERE id = ?`,
          args: [body.caseId],
        },
        {
          sql: "SELECT household_id AS householdId, visitor_user_id AS visitor FROM visits WHERE id = ?",
          args: [body.visitId ?? null],
        },
      ],
      "read",
    );
    const row = found!.rows[0];
    const visible = (path: unknown) =>
      inScope(contact.unitPath, String(path)) && inScope(principal.unitPath, String(path));
    if (!row || !(visible(row.owningPath) || visible(row.responsiblePath))) {
      throw bad("caseId", "no such case in the contact's subtree (a new case is linkable once projected)");
    }
    if (body.kind === "mediation" && String(row.type) !== "dispute") {
      throw bad("kind", "a mediation links a dispute case");
    }
    if (body.visitId) {
      const v = visit!.rows[0];
      if (!v || String(v.visitor) !== contact.id) throw bad("visitId", "no such visit by this contact");
      const households = (JSON.parse(String(row.doc)) as { householdIds?: string[] }).householdIds ?? [];
      if (households.length && !households.includes(String(v.householdId))) {
        throw bad("visitId", "the visit was at none of the case's households");
      }
    }
    const out = {
      id: crypto.randomUUID(),
      contactId: contact.id,
      caseId: body.caseId,
      kind: body.kind,
      visitId: body.visitId ?? null,
      note: body.note ?? null,
      createdBy: principal.userId,
      createdAt: new Date().toISOString(),
    };
    await writeOnce(
      db,
      [
        {
          sql: `INSERT INTO contact_case_links (id, contact_id, case_id, kind, visit_id, note, unit_path, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          args: [
            out.id,
            out.contactId,
            out.caseId,
            out.kind,
            out.visitId,
            out.note,
            contact.unitPath,
            out.createdBy,
            out.createdAt,
          ],
        },
      ],
      [
        threeLinesAudit(
          principal,
          c.get("requestId"),
          "contact.case-link",
          "contact",
          contact.unitPath,
          contact.id,
          {
            caseId: out.caseId,
            kind: out.kind,
          },
        ),
      ],
      () => problems.conflict("already-linked", `The contact's ${body.kind} is already linked to this case`),
    );
    return c.json(out, 201);
  })
  .openapi(list, async (c) => {
    const db = getDb(c.env);
    const contact = await userInScope(db, principalOf(c), c.req.valid("param").userId);
    const rs = await db.$client.execute({
      sql: `SELECT ${LINK_COLUMNS} FROM contact_case_links WHERE contact_id = ? ORDER BY created_at DESC, id DESC LIMIT 200`,
      args: [contact.id],
    });
    return c.json({ items: rs.rows.map((r) => linkView(r as Record<string, unknown>)) }, 200);
  });
