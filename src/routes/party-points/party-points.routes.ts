import { createRoute, z } from "@hono/zod-openapi";
import {
  EVIDENCE_KIND_LABELS,
  EVIDENCE_KINDS,
  FULFILMENT_STATUS_LABELS,
  FULFILMENT_STATUSES,
  pointsKey,
  REVIEW_RATING_LABELS,
  REVIEW_RATINGS,
} from "../../domain/points";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery } from "../../platform/http/pagination";

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
    status: z.enum(FULFILMENT_STATUSES).openapi({
      description: `${labels(FULFILMENT_STATUS_LABELS)}. Points are in the ledger only once confirmed.`,
    }),
    decidedBy: z.uuid().nullable().openapi({ description: "Who confirmed or rejected it" }),
    decidedAt: z.string().nullable(),
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

export const createPledge = createRoute({
  method: "post",
  path: "/v1/party-members/{memberId}/pledges",
  operationId: "createPledge",
  tags: ["party points"],
  summary: "Make a pledge for a year (承诺); a member pledges only for themself",
  ...guarded("party-points.record"),
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

export const listPledges = createRoute({
  method: "get",
  path: "/v1/party-members/{memberId}/pledges",
  operationId: "listPledges",
  tags: ["party points"],
  summary: "A member's pledges and fulfilments for a year",
  ...guarded("party-points.read"),
  request: { params: MemberParam, query: YearQuery },
  responses: {
    200: jsonResponse(
      z.object({ pledges: z.array(PledgeSchema), fulfilments: z.array(FulfilmentSchema) }),
      "Pledges and fulfilments",
    ),
    ...errorResponses(404),
  },
});

export const createFulfilment = createRoute({
  method: "post",
  path: "/v1/party-members/{memberId}/fulfilments",
  operationId: "reportFulfilment",
  tags: ["party points"],
  summary: "Record a fulfilment (践诺) pointing to evidence; pending until someone else confirms it",
  description: `The fulfilment is \`pending\` and earns nothing until it is confirmed by someone other than the member (\`POST …/fulfilments/{fulfilmentId}/decision\`); \`entry\` is null until then. Evidence: a \`visit\` the member made (the households area's visits), a \`case\` the member reported or fed through a contact log, or a \`mediation\` — a dispute case the member reported or logged as mediated. Each piece of evidence counts once per member. Points per kind come from the unit setting \`${pointsKey("visit")}\` / \`${pointsKey("case")}\` / \`${pointsKey("mediation")}\` on the member's branch unit or above (the deepest wins), else the defaults.`,
  ...guarded("party-points.record"),
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
    201: jsonResponse(
      FulfilmentSchema.extend({ entry: z.null().openapi({ description: "No ledger entry while pending" }) }),
      "Recorded, pending confirmation",
    ),
    ...errorResponses(403, 409),
  },
});

export const decideFulfilment = createRoute({
  method: "post",
  path: "/v1/party-members/{memberId}/fulfilments/{fulfilmentId}/decision",
  operationId: "decideFulfilment",
  tags: ["party points"],
  summary: "Confirm or reject a member's pending fulfilment; a confirmation writes its ledger entry",
  description:
    "Someone other than the member decides: centre staff (or an admin) of the member's village or a unit above it (the branch's review), or a user who handled the case the fulfilment points to (accepted, started or resolved it). Anyone else is 403 `confirmation-rule`; a fulfilment decided already is 409 `already-decided`.",
  ...guarded("party-points.confirm"),
  request: {
    params: MemberParam.extend({
      fulfilmentId: z.uuid().openapi({ param: { name: "fulfilmentId", in: "path" } }),
    }),
    body: jsonBody(
      z
        .strictObject({
          decision: z.enum(["confirm", "reject"]),
          note: z.string().trim().min(1).max(2000).optional(),
        })
        .openapi("PartyFulfilmentDecision"),
    ),
  },
  responses: {
    200: jsonResponse(
      FulfilmentSchema.extend({
        entry: EntrySchema.nullable().openapi({ description: "The ledger entry of a confirmation" }),
      }),
      "Decided",
    ),
    ...errorResponses(403, 404, 409),
  },
});

export const createCorrection = createRoute({
  method: "post",
  path: "/v1/party-members/{memberId}/point-corrections",
  operationId: "correctPoints",
  tags: ["party points"],
  summary: "Correct the ledger with a new entry (admin, center_staff); entries are never changed",
  ...guarded("party-points.correct"),
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

export const getPoints = createRoute({
  method: "get",
  path: "/v1/party-members/{memberId}/points",
  operationId: "getPartyMemberPoints",
  tags: ["party points"],
  summary: "A member's ledger for a year (every entry with its reason and source) and total",
  ...guarded("party-points.read"),
  request: { params: MemberParam, query: YearQuery },
  responses: {
    200: jsonResponse(
      z.object({
        memberId: z.uuid(),
        year: z.number().int(),
        total: z.number().int(),
        entries: z.array(EntrySchema),
        review: z
          .union([ReviewSchema, z.null()])
          .openapi({ description: "The year's review; null before it is held" }),
      }),
      "The ledger",
    ),
    ...errorResponses(404),
  },
});

export const createReview = createRoute({
  method: "post",
  path: "/v1/party-members/{memberId}/reviews",
  operationId: "reviewPartyMember",
  tags: ["party points"],
  summary: "Record the branch's annual review (评议) of a member: one rating per year",
  description:
    "By centre staff (or an admin) of the member's branch unit or a unit above it. A second review of the same year is 409.",
  ...guarded("party-points.review"),
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

export const ranking = createRoute({
  method: "get",
  path: "/v1/units/{id}/party-points",
  operationId: "listUnitPartyPoints",
  tags: ["party points"],
  summary: "Rank the party members of a subtree by their points for a year",
  description: "Highest total first; members without entries rank with 0. Ties are ordered by member id.",
  ...guarded("party-points.rank"),
  request: { params: IdParam, query: z.object({ year: YearQuery.shape.year, ...pageQuery }) },
  responses: {
    200: jsonResponse(
      z.object({ year: z.number().int(), items: z.array(RankedSchema), nextCursor: z.string().nullable() }),
      "A page of the ranking",
    ),
    ...errorResponses(403, 404),
  },
});
