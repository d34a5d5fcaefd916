import { createRoute, z } from "@hono/zod-openapi";
import type { InStatement } from "@libsql/client/web";
import {
  branchOf,
  roleUserInScope,
  settingsOnPath,
  threeLinesAudit,
  unitInScope,
  writeOnce,
} from "../../db/repos/three-lines";
import {
  checkCaseEvidence,
  EVIDENCE_KIND_LABELS,
  EVIDENCE_KINDS,
  type EvidenceKind,
  fulfilmentReason,
  pointsFor,
  pointsKey,
  REVIEW_RATING_LABELS,
  REVIEW_RATINGS,
  yearOf,
} from "../../domain/points";
import { inScope, subtreeRange } from "../../domain/units";
import type { Principal } from "../../env";
import { writeAudited } from "../../platform/db/audit";
import { getDb } from "../../platform/db/client";
import { principalOf, requireRole } from "../../platform/http/auth";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { decodeCursor, encodeCursor, pageQuery } from "../../platform/http/pagination";
import { Problem, problems } from "../../platform/http/problem";

const labels = (entries: Record<string, string>) =>
  Object.entries(entries)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; ");

const EvidenceKindSchema = z.enum(EVIDENCE_KINDS).openapi({ description: labels(EVIDENCE_KIND_LABELS) });
const RatingSchema = z.enum(REVIEW_RATINGS).openapi({ description: labels(REVIEW_RATING_LABELS) });
const Year = z.coerce.number().int().min(2000).max(2100);
const MemberParam = z.object({
  memberId: z.uuid().openapi({ param: { name: "memberId", in: "path" } }),
});
const YearQuery = z.object({ year: Year.openapi({ description: "The year, e.g. 2026" }) });

const PledgeSchema = z
  .object({
    id: z.uuid(),
    memberId: z.uuid(),
    year: z.number().int(),
    text: z.string(),
    target: z.string(),
    dueDate: z.string(),
    createdAt: z.string(),
  })
  .openapi("PartyPledge");

const FulfilmentSchema = z
  .object({
    id: z.uuid(),
    memberId: z.uuid(),
    pledgeId: z.uuid().nullable(),
    year: z.number().int(),
    evidenceKind: EvidenceKindSchema,
    evidenceId: z.uuid(),
    note: z.string().nullable(),
    points: z.number().int(),
    createdAt: z.string(),
  })
  .openapi("PartyFulfilment");

const EntrySchema = z
  .object({
    seq: z.number().int(),
    year: z.number().int(),
    points: z.number().int(),
    reason: z.string(),
    sourceKind: z.enum(["fulfilment", "correction"]),
    sourceId: z.string(),
    createdBy: z.uuid(),
    createdAt: z.string(),
  })
  .openapi("PartyPointEntry");

const ReviewSchema = z
  .object({
    id: z.uuid(),
    memberId: z.uuid(),
    year: z.number().int(),
    rating: RatingSchema,
    note: z.string().nullable(),
    reviewedBy: z.uuid(),
    createdAt: z.string(),
  })
  .openapi("PartyReview");

const createPledge = createRoute({
  method: "post",
  path: "/v1/party-members/{memberId}/pledges",
  tags: ["party points"],
  summary: "Make a pledge for a year (承诺); a member pledges only for themself",
  security: bearer,
  middleware: [requireRole("party_member")] as const,
  request: {
    params: MemberParam,
    body: jsonBody(
      z
        .strictObject({
          year: Year,
          text: z.string().trim().min(1).max(1000),
          target: z.string().trim().min(1).max(500),
          dueDate: z.iso.date().openapi({ description: "YYYY-MM-DD, inside the pledge's year" }),
        })
        .openapi("NewPartyPledge"),
    ),
  },
  responses: { 201: jsonResponse(PledgeSchema, "Pledged"), ...errorResponses(403) },
});

const listPledges = createRoute({
  method: "get",
  path: "/v1/party-members/{memberId}/pledges",
  tags: ["party points"],
  summary: "A member's pledges and fulfilments for a year",
  security: bearer,
  request: { params: MemberParam, query: YearQuery },
  responses: {
    200: jsonResponse(
      z.object({ pledges: z.array(PledgeSchema), fulfilments: z.array(FulfilmentSchema) }),
      "Pledges and fulfilments",
    ),
    ...errorResponses(404),
  },
});

const createFulfilment = createRoute({
  method: "post",
  path: "/v1/party-members/{memberId}/fulfilments",
  tags: ["party points"],
  summary: "Record a fulfilment (践诺) pointing to evidence; earns points into the ledger",
  description: `Evidence: a \`visit\` the member made (the households area's visits), a \`case\` the member reported or fed through a contact log, or a \`mediation\` — a dispute case the member reported or logged as mediated. Each piece of evidence counts once per member. Points per kind come from the unit setting \`${pointsKey("visit")}\` / \`${pointsKey("case")}\` / \`${pointsKey("mediation")}\` on the member's branch unit or above (the deepest wins), else the defaults.`,
  security: bearer,
  middleware: [requireRole("party_member")] as const,
  request: {
    params: MemberParam,
    body: jsonBody(
      z
        .strictObject({
          evidenceKind: EvidenceKindSchema,
          evidenceId: z.uuid(),
          pledgeId: z.uuid().optional(),
          note: z.string().trim().min(1).max(2000).optional(),
        })
        .openapi("NewPartyFulfilment"),
    ),
  },
  responses: {
    201: jsonResponse(FulfilmentSchema.extend({ entry: EntrySchema }), "Recorded, with its ledger entry"),
    ...errorResponses(403, 409),
  },
});

const createCorrection = createRoute({
  method: "post",
  path: "/v1/party-members/{memberId}/point-corrections",
  tags: ["party points"],
  summary: "Correct the ledger with a new entry (admin, center_staff); entries are never changed",
  security: bearer,
  middleware: [requireRole("admin", "center_staff")] as const,
  request: {
    params: MemberParam,
    body: jsonBody(
      z
        .strictObject({
          correctsSeq: z.number().int().min(1).openapi({ description: "The ledger entry being corrected" }),
          points: z
            .number()
            .int()
            .min(-1000)
            .max(1000)
            .refine((n) => n !== 0, "a correction changes the total"),
          reason: z.string().trim().min(1).max(500),
        })
        .openapi("NewPartyPointCorrection"),
    ),
  },
  responses: { 201: jsonResponse(EntrySchema, "The correction entry"), ...errorResponses(403, 404) },
});

const getPoints = createRoute({
  method: "get",
  path: "/v1/party-members/{memberId}/points",
  tags: ["party points"],
  summary: "A member's ledger for a year (every entry with its reason and source) and total",
  security: bearer,
  request: { params: MemberParam, query: YearQuery },
  responses: {
    200: jsonResponse(
      z.object({
        memberId: z.uuid(),
        year: z.number().int(),
        total: z.number().int(),
        entries: z.array(EntrySchema),
        review: ReviewSchema.nullable(),
      }),
      "The ledger",
    ),
    ...errorResponses(404),
  },
});

const createReview = createRoute({
  method: "post",
  path: "/v1/party-members/{memberId}/reviews",
  tags: ["party points"],
  summary: "Record the branch's annual review (评议) of a member: one rating per year",
  description:
    "By centre staff (or an admin) of the member's branch unit or a unit above it. A second review of the same year is 409.",
  security: bearer,
  middleware: [requireRole("admin", "center_staff")] as const,
  request: {
    params: MemberParam,
    body: jsonBody(
      z
        .strictObject({
          year: Year,
          rating: RatingSchema,
          note: z.string().trim().min(1).max(2000).optional(),
        })
        .openapi("NewPartyReview"),
    ),
  },
  responses: { 201: jsonResponse(ReviewSchema, "Recorded"), ...errorResponses(403, 404, 409) },
});

const RankedSchema = z
  .object({
    rank: z.number().int().openapi({ description: "Competition rank: ties share a rank, the next skips" }),
    memberId: z.uuid(),
    displayName: z.string(),
    unitId: z.uuid(),
    total: z.number().int(),
    review: RatingSchema.nullable(),
  })
  .openapi("PartyPointsRank");

const ranking = createRoute({
  method: "get",
  path: "/v1/units/{id}/party-points",
  tags: ["party points"],
  summary: "Rank the party members of a subtree by their points for a year",
  description: "Highest total first; members without entries rank with 0. Ties are ordered by member id.",
  security: bearer,
  middleware: [requireRole("admin", "center_staff", "leader", "grid_worker", "party_member")] as const,
  request: { params: IdParam, query: z.object({ year: YearQuery.shape.year, ...pageQuery }) },
  responses: {
    200: jsonResponse(
      z.object({ year: z.number().int(), items: z.array(RankedSchema), nextCursor: z.string().nullable() }),
      "A page of the ranking",
    ),
    ...errorResponses(403, 404),
  },
});

type Row = Record<string, unknown>;
const text = (v: unknown) => (v === null || v === undefined ? null : String(v));

const PLEDGE_COLUMNS =
  "id, member_id AS memberId, year, text, target, due_date AS dueDate, created_at AS createdAt";
const FULFILMENT_COLUMNS = `id, member_id AS memberId, pledge_id AS pledgeId, year, evidence_kind AS evidenceKind,
  evidence_id AS evidenceId, note, points, created_at AS createdAt`;
const ENTRY_COLUMNS = `seq, year, points, reason, source_kind AS sourceKind, source_id AS sourceId,
  created_by AS createdBy, created_at AS createdAt`;
const REVIEW_COLUMNS =
  "id, member_id AS memberId, year, rating, note, reviewed_by AS reviewedBy, created_at AS createdAt";

const pledgeView = (r: Row) => ({
  id: String(r.id),
  memberId: String(r.memberId),
  year: Number(r.year),
  text: String(r.text),
  target: String(r.target),
  dueDate: String(r.dueDate),
  createdAt: String(r.createdAt),
});
const fulfilmentView = (r: Row) => ({
  id: String(r.id),
  memberId: String(r.memberId),
  pledgeId: text(r.pledgeId),
  year: Number(r.year),
  evidenceKind: r.evidenceKind as EvidenceKind,
  evidenceId: String(r.evidenceId),
  note: text(r.note),
  points: Number(r.points),
  createdAt: String(r.createdAt),
});
const entryView = (r: Row) => ({
  seq: Number(r.seq),
  year: Number(r.year),
  points: Number(r.points),
  reason: String(r.reason),
  sourceKind: r.sourceKind as "fulfilment" | "correction",
  sourceId: String(r.sourceId),
  createdBy: String(r.createdBy),
  createdAt: String(r.createdAt),
});
const reviewView = (r: Row) => ({
  id: String(r.id),
  memberId: String(r.memberId),
  year: Number(r.year),
  rating: r.rating as (typeof REVIEW_RATINGS)[number],
  note: text(r.note),
  reviewedBy: String(r.reviewedBy),
  createdAt: String(r.createdAt),
});

/** Only the member may act for themself: a pledge or fulfilment for another member is refused (403). */
function assertSelf(p: Principal, memberId: string, what: string): void {
  if (p.userId !== memberId) {
    throw new Problem(403, "forbidden", `A party member records ${what} only for themself`);
  }
}

const evidenceError = (message: string) =>
  problems.badRequest("The evidence does not count for this member", [{ path: "evidenceId", message }]);

/** Checks the evidence against the stored data; returns when it happened. */
async function verifyEvidence(
  db: ReturnType<typeof getDb>,
  memberId: string,
  kind: EvidenceKind,
  evidenceId: string,
): Promise<string> {
  if (kind === "visit") {
    const rs = await db.$client.execute({
      sql: "SELECT visitor_user_id AS visitor, visited_at AS at FROM visits WHERE id = ?",
      args: [evidenceId],
    });
    const visit = rs.rows[0];
    if (!visit) throw evidenceError("no such visit");
    if (String(visit.visitor) !== memberId) throw evidenceError("the visit was made by someone else");
    return String(visit.at);
  }
  const [found, links] = await db.$client.batch(
    [
      {
        sql: "SELECT type, reporter_id AS reporterId, state, created_at AS at FROM cases WHERE id = ?",
        args: [evidenceId],
      },
      {
        sql: "SELECT kind FROM contact_case_links WHERE contact_id = ? AND case_id = ?",
        args: [memberId, evidenceId],
      },
    ],
    "read",
  );
  const c = found!.rows[0];
  if (!c) throw evidenceError("no such case (a new case counts once it is projected, within seconds)");
  const error = checkCaseEvidence(
    kind,
    { type: String(c.type), reporterId: String(c.reporterId), state: String(c.state) },
    memberId,
    links!.rows.map((r) => String(r.kind)),
  );
  if (error) throw evidenceError(error);
  return String(c.at);
}

export const partyPointRoutes = createRouter()
  .openapi(createPledge, async (c) => {
    const principal = principalOf(c);
    const { memberId } = c.req.valid("param");
    assertSelf(principal, memberId, "pledges");
    const body = c.req.valid("json");
    if (Number(body.dueDate.slice(0, 4)) !== body.year) {
      throw problems.badRequest("The due date falls inside the pledge's year", [
        { path: "dueDate", message: `not in ${body.year}` },
      ]);
    }
    const db = getDb(c.env);
    const row = {
      id: crypto.randomUUID(),
      memberId,
      year: body.year,
      text: body.text,
      target: body.target,
      dueDate: body.dueDate,
      createdAt: new Date().toISOString(),
    };
    await writeOnce(
      db,
      [
        {
          sql: `INSERT INTO party_pledges (id, member_id, unit_path, year, text, target, due_date, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          args: [
            row.id,
            memberId,
            principal.unitPath,
            row.year,
            row.text,
            row.target,
            row.dueDate,
            row.createdAt,
          ],
        },
      ],
      [
        threeLinesAudit(
          principal,
          c.get("requestId"),
          "party.pledge",
          "party_pledge",
          principal.unitPath,
          row.id,
          {
            year: row.year,
          },
        ),
      ],
      () => problems.conflict("duplicate", "This pledge exists"),
    );
    return c.json(row, 201);
  })
  .openapi(listPledges, async (c) => {
    const principal = principalOf(c);
    const { memberId } = c.req.valid("param");
    const { year } = c.req.valid("query");
    const db = getDb(c.env);
    await roleUserInScope(db, principal, memberId, "party_member", "party member");
    const [pledges, fulfilments] = await db.$client.batch(
      [
        {
          sql: `SELECT ${PLEDGE_COLUMNS} FROM party_pledges WHERE member_id = ? AND year = ? ORDER BY due_date, id`,
          args: [memberId, year],
        },
        {
          sql: `SELECT ${FULFILMENT_COLUMNS} FROM party_fulfilments WHERE member_id = ? AND year = ? ORDER BY created_at, id`,
          args: [memberId, year],
        },
      ],
      "read",
    );
    return c.json(
      {
        pledges: pledges!.rows.map((r) => pledgeView(r as Row)),
        fulfilments: fulfilments!.rows.map((r) => fulfilmentView(r as Row)),
      },
      200,
    );
  })
  .openapi(createFulfilment, async (c) => {
    const principal = principalOf(c);
    const { memberId } = c.req.valid("param");
    assertSelf(principal, memberId, "fulfilments");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const member = await roleUserInScope(db, principal, memberId, "party_member", "party member");
    let year: number;
    const at = await verifyEvidence(db, memberId, body.evidenceKind, body.evidenceId);
    if (body.pledgeId) {
      const rs = await db.$client.execute({
        sql: "SELECT year FROM party_pledges WHERE id = ? AND member_id = ?",
        args: [body.pledgeId, memberId],
      });
      if (!rs.rows[0]) {
        throw problems.badRequest("No such pledge of this member", [
          { path: "pledgeId", message: "not found" },
        ]);
      }
      year = Number(rs.rows[0].year);
    } else {
      year = yearOf(at);
    }
    const branch = await branchOf(db, member);
    const points = pointsFor(
      body.evidenceKind,
      await settingsOnPath(db, branch.path, [pointsKey(body.evidenceKind)]),
    );
    const now = new Date().toISOString();
    const fulfilment = {
      id: crypto.randomUUID(),
      memberId,
      pledgeId: body.pledgeId ?? null,
      year,
      evidenceKind: body.evidenceKind,
      evidenceId: body.evidenceId,
      note: body.note ?? null,
      points,
      createdAt: now,
    };
    const reason = fulfilmentReason(body.evidenceKind, body.evidenceId, points);
    const statements: InStatement[] = [
      {
        sql: `INSERT INTO party_fulfilments (id, member_id, pledge_id, unit_path, year, evidence_kind, evidence_id, note, points, created_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        args: [
          fulfilment.id,
          memberId,
          fulfilment.pledgeId,
          member.unitPath,
          year,
          body.evidenceKind,
          body.evidenceId,
          fulfilment.note,
          points,
          now,
        ],
      },
      {
        sql: `INSERT INTO party_point_entries (member_id, year, points, reason, source_kind, source_id, created_by, created_at)
              VALUES (?, ?, ?, ?, 'fulfilment', ?, ?, ?)`,
        args: [memberId, year, points, reason, fulfilment.id, principal.userId, now],
      },
    ];
    await writeOnce(
      db,
      statements,
      [
        threeLinesAudit(
          principal,
          c.get("requestId"),
          "party.fulfil",
          "party_fulfilment",
          member.unitPath,
          fulfilment.id,
          {
            evidenceKind: body.evidenceKind,
            evidenceId: body.evidenceId,
            points,
          },
        ),
      ],
      () => problems.conflict("evidence-claimed", "This evidence already counts for this member"),
    );
    const entry = await db.$client.execute({
      sql: `SELECT ${ENTRY_COLUMNS} FROM party_point_entries WHERE source_kind = 'fulfilment' AND source_id = ?`,
      args: [fulfilment.id],
    });
    return c.json({ ...fulfilment, entry: entryView(entry.rows[0] as Row) }, 201);
  })
  .openapi(createCorrection, async (c) => {
    const principal = principalOf(c);
    const { memberId } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const member = await roleUserInScope(db, principal, memberId, "party_member", "party member");
    const rs = await db.$client.execute({
      sql: "SELECT year FROM party_point_entries WHERE seq = ? AND member_id = ?",
      args: [body.correctsSeq, memberId],
    });
    if (!rs.rows[0]) {
      throw problems.badRequest("No such ledger entry of this member", [
        { path: "correctsSeq", message: "not found" },
      ]);
    }
    const year = Number(rs.rows[0].year);
    const now = new Date().toISOString();
    const [inserted] = await writeAudited(
      db,
      [
        {
          sql: `INSERT INTO party_point_entries (member_id, year, points, reason, source_kind, source_id, created_by, created_at)
                VALUES (?, ?, ?, ?, 'correction', ?, ?, ?) RETURNING ${ENTRY_COLUMNS}`,
          args: [memberId, year, body.points, body.reason, String(body.correctsSeq), principal.userId, now],
        },
      ],
      [
        threeLinesAudit(
          principal,
          c.get("requestId"),
          "party.points.correct",
          "party_points",
          member.unitPath,
          memberId,
          {
            correctsSeq: body.correctsSeq,
            points: body.points,
            reason: body.reason,
          },
        ),
      ],
    );
    return c.json(entryView(inserted!.rows[0] as Row), 201);
  })
  .openapi(getPoints, async (c) => {
    const principal = principalOf(c);
    const { memberId } = c.req.valid("param");
    const { year } = c.req.valid("query");
    const db = getDb(c.env);
    await roleUserInScope(db, principal, memberId, "party_member", "party member");
    const [entries, review] = await db.$client.batch(
      [
        {
          sql: `SELECT ${ENTRY_COLUMNS} FROM party_point_entries WHERE member_id = ? AND year = ? ORDER BY seq`,
          args: [memberId, year],
        },
        {
          sql: `SELECT ${REVIEW_COLUMNS} FROM party_reviews WHERE member_id = ? AND year = ?`,
          args: [memberId, year],
        },
      ],
      "read",
    );
    const items = entries!.rows.map((r) => entryView(r as Row));
    return c.json(
      {
        memberId,
        year,
        total: items.reduce((sum, e) => sum + e.points, 0),
        entries: items,
        review: review!.rows[0] ? reviewView(review!.rows[0] as Row) : null,
      },
      200,
    );
  })
  .openapi(createReview, async (c) => {
    const principal = principalOf(c);
    const { memberId } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const member = await roleUserInScope(db, principal, memberId, "party_member", "party member");
    const branch = await branchOf(db, member);
    if (!inScope(principal.unitPath, branch.path)) {
      throw problems.forbidden("The annual review is held by the member's branch unit or a unit above it");
    }
    const review = {
      id: crypto.randomUUID(),
      memberId,
      year: body.year,
      rating: body.rating,
      note: body.note ?? null,
      reviewedBy: principal.userId,
      createdAt: new Date().toISOString(),
    };
    await writeOnce(
      db,
      [
        {
          sql: `INSERT INTO party_reviews (id, member_id, unit_path, year, rating, note, reviewed_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          args: [
            review.id,
            memberId,
            member.unitPath,
            review.year,
            review.rating,
            review.note,
            review.reviewedBy,
            review.createdAt,
          ],
        },
      ],
      [
        threeLinesAudit(
          principal,
          c.get("requestId"),
          "party.review",
          "party_review",
          member.unitPath,
          review.id,
          {
            year: review.year,
            rating: review.rating,
          },
        ),
      ],
      () => problems.conflict("already-reviewed", `The member already has a review for ${body.year}`),
    );
    return c.json(review, 201);
  })
  .openapi(ranking, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const { year, limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, 2, ["number", "string"]) as [number, string] | null;
    const db = getDb(c.env);
    const unit = await unitInScope(db, principal, id);
    const [lo, hi] = subtreeRange(unit.path);
    // RANK() over the whole subtree, so a later page keeps the ranks of the first.
    const rs = await db.$client.execute({
      sql: `WITH totals AS (
              SELECT u.id AS memberId, u.display_name AS displayName, u.unit_id AS unitId,
                coalesce((SELECT sum(e.points) FROM party_point_entries e WHERE e.member_id = u.id AND e.year = ?), 0) AS total
              FROM users u WHERE u.role = 'party_member' AND u.unit_path >= ? AND u.unit_path < ?
            ), ranked AS (SELECT *, RANK() OVER (ORDER BY total DESC) AS rank FROM totals)
            SELECT r.*, (SELECT rating FROM party_reviews v WHERE v.member_id = r.memberId AND v.year = ?) AS review
            FROM ranked r
            WHERE ? IS NULL OR r.total < ? OR (r.total = ? AND r.memberId > ?)
            ORDER BY r.total DESC, r.memberId LIMIT ?`,
      args: [
        year,
        lo,
        hi,
        year,
        after?.[0] ?? null,
        after?.[0] ?? null,
        after?.[0] ?? null,
        after?.[1] ?? null,
        limit + 1,
      ],
    });
    const rows = rs.rows.map((r) => ({
      rank: Number(r.rank),
      memberId: String(r.memberId),
      displayName: String(r.displayName),
      unitId: String(r.unitId),
      total: Number(r.total),
      review: text(r.review) as (typeof REVIEW_RATINGS)[number] | null,
    }));
    const more = rows.length > limit;
    const items = more ? rows.slice(0, limit) : rows;
    const last = items[items.length - 1];
    return c.json(
      { year, items, nextCursor: more && last ? encodeCursor([last.total, last.memberId]) : null },
      200,
    );
  });
