import { createRoute, z } from "@hono/zod-openapi";
import { EVIDENCE_TYPES, MAX_ATTACHMENT_BYTES } from "../../domain/case-evidence";
import { MAX_ATTACHMENTS } from "../../domain/case-lifecycle";
import { CASE_STATES, SATISFACTIONS } from "../../domain/case-model";
import { PUBLIC_SERVICES } from "../../domain/open311";
import { ifMatchHeader } from "../../platform/http/if-match";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";
import { residentBearer } from "../../platform/http/resident-auth";

const tags = ["resident-accounts"];

const Mobile = z
  .string()
  .min(1)
  .max(32)
  .openapi({ description: "Mainland mobile number (手机号)", example: "13812345678" });

const CodeRequestSchema = z.object({ mobile: Mobile }).strict().openapi("ResidentCodeRequest");
const CodeSentSchema = z
  .object({ expiresIn: z.number().int().openapi({ description: "Seconds the code stays valid (300)" }) })
  .openapi("ResidentCodeSent");
const SignInSchema = z
  .object({ mobile: Mobile, code: z.string().regex(/^\d{6}$/, "6 digits") })
  .strict()
  .openapi("ResidentSignIn");

export const ResidentAccountSchema = z
  .object({
    id: z.uuid(),
    mobile: z.string().openapi({ description: "Masked (`138****5678`)" }),
    linked: z.boolean().openapi({ description: "Whether the account is linked to a household" }),
    householdId: z.uuid().nullable(),
    linkedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("ResidentAccount");

const ResidentTokenSchema = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int(),
    refreshToken: z.string().openapi({
      description:
        "Opaque; exchange it at POST /v1/resident/auth/refresh for the next access token without a new code. Rotates on every use; a spent one presented again revokes the sign-in",
    }),
    refreshExpiresIn: z.number().int(),
    created: z.boolean().openapi({ description: "True when this sign-in created the account (sign-up)" }),
    account: ResidentAccountSchema,
  })
  .openapi("ResidentToken");

const DevCodesSchema = z
  .object({ items: z.array(z.object({ code: z.string(), createdAt: z.string() })) })
  .openapi("ResidentDevCodes");

const HouseholdLinkSchema = z
  .object({
    idNumber: z
      .string()
      .min(15)
      .max(18)
      .openapi({ description: "ID number (身份证号); matched, never stored or echoed" }),
  })
  .strict()
  .openapi("ResidentHouseholdLink");

const OwnHouseholdSchema = z
  .object({
    id: z.uuid(),
    address: z.string(),
    grid: z.object({ id: z.uuid(), name: z.string() }),
    members: z.array(z.object({ name: z.string(), relationship: z.string() })),
  })
  .openapi("ResidentOwnHousehold");

const ServiceCode = z.enum(PUBLIC_SERVICES.map((s) => s.code) as [string, ...string[]]).openapi({
  description: PUBLIC_SERVICES.map((s) => `\`${s.code}\` — ${s.name}`).join("; "),
});

const ReportSchema = z
  .object({
    id: z.uuid().optional().openapi({ description: "Client-generated id: a retry with the same id replays" }),
    serviceCode: ServiceCode,
    title: z.string().trim().min(1).max(100),
    description: z.string().trim().min(1).max(2000),
    descriptionPublic: z
      .boolean()
      .default(false)
      .openapi({ description: "Whether Open311 readers may see the description" }),
    location: z
      .object({
        lat: z.number().min(-90).max(90),
        lng: z.number().min(-180).max(180),
        address: z.string().trim().max(200).optional(),
      })
      .strict(),
  })
  .strict()
  .openapi("ResidentReport");

const State = z.enum(CASE_STATES);

export const ResidentCaseSchema = z
  .object({
    id: z.string(),
    serviceCode: z.string().nullable(),
    title: z.string(),
    description: z.string(),
    state: State,
    stateLabel: z.string(),
    version: z.number().int(),
    location: z
      .object({ lat: z.number().optional(), lng: z.number().optional(), address: z.string().optional() })
      .nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    canRate: z.boolean().openapi({ description: "Whether the case awaits the resident's rating (回访)" }),
    rating: z
      .object({ satisfaction: z.enum(SATISFACTIONS), comment: z.string().nullable(), at: z.string() })
      .nullable(),
    timeline: z.array(z.object({ at: z.string(), step: z.string(), text: z.string() })),
  })
  .openapi("ResidentCase");

const ResidentCaseItemSchema = z
  .object({
    id: z.string(),
    serviceCode: z.string(),
    title: z.string(),
    state: State,
    stateLabel: z.string(),
    createdAt: z.string(),
  })
  .openapi("ResidentCaseItem");

const RatingSchema = z
  .object({
    satisfaction: z.enum(SATISFACTIONS).openapi({
      description:
        "`satisfied` — 满意, `basically_satisfied` — 基本满意, `dissatisfied` — 不满意 (reopens the case)",
    }),
    comment: z.string().trim().max(500).nullable().default(null),
  })
  .strict()
  .openapi("ResidentRating");

const CaseIdParam = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: "id", in: "path" }, description: "Case id" }),
});

export const requestCode = createRoute({
  method: "post",
  path: "/v1/resident/auth/codes",
  operationId: "requestResidentCode",
  tags,
  summary: "Send a sign-in code to a mobile number (sign-up and login)",
  description:
    "6 digits, valid 5 minutes, single use. Per number one a minute and five an hour, per client IP twenty an hour (429 with Retry-After). In development the code goes to the local sink (`GET /v1/resident/dev/codes`).",
  security: [],
  request: { body: jsonBody(CodeRequestSchema) },
  responses: { 202: jsonResponse(CodeSentSchema, "Code sent"), ...errorResponses(429) },
});

export const signIn = createRoute({
  method: "post",
  path: "/v1/resident/auth/tokens",
  operationId: "signInResident",
  tags,
  summary: "Exchange a mobile number and its code for a resident token",
  description:
    "Creates the account on first use. A wrong, expired or used code is 401; repeated failures 429.",
  security: [],
  request: { body: jsonBody(SignInSchema) },
  responses: { 200: jsonResponse(ResidentTokenSchema, "Signed in"), ...errorResponses(429) },
});

export const refresh = createRoute({
  method: "post",
  path: "/v1/resident/auth/refresh",
  operationId: "refreshResidentToken",
  tags,
  summary: "Exchange a resident's refresh token for a new access token (the old refresh token is spent)",
  description:
    "No new code needed. Presenting an already-spent refresh token revokes its whole sign-in (token theft), as does a disabled account; an unknown, revoked or expired token is 401.",
  security: [],
  request: { body: jsonBody(z.strictObject({ refreshToken: z.string().min(20).max(200) })) },
  responses: {
    200: jsonResponse(ResidentTokenSchema, "A new access token and refresh token"),
    ...errorResponses(),
  },
});

export const devCodes = createRoute({
  method: "get",
  path: "/v1/resident/dev/codes",
  operationId: "readResidentDevCodes",
  tags,
  summary: "Read the local code sink (development and tests only; 404 in production)",
  security: [],
  request: { query: z.object({ mobile: Mobile }) },
  responses: {
    200: jsonResponse(DevCodesSchema, "The newest codes sent to the number"),
    ...errorResponses(404),
  },
});

export const me = createRoute({
  method: "get",
  path: "/v1/resident/me",
  operationId: "getResidentAccount",
  tags,
  summary: "The resident's own account",
  security: residentBearer,
  responses: { 200: jsonResponse(ResidentAccountSchema, "The account"), ...errorResponses() },
});

export const linkOwnHousehold = createRoute({
  method: "post",
  path: "/v1/resident/me/household-link",
  operationId: "linkOwnHousehold",
  tags,
  summary: "Link one's account to one's household by ID number",
  description:
    "The ID number's keyed HMAC is matched against the registry; the number is never stored on the account or echoed. 404 `no-match`; 5 tries per 15 minutes.",
  security: residentBearer,
  request: { body: jsonBody(HouseholdLinkSchema) },
  responses: { 200: jsonResponse(ResidentAccountSchema, "Linked"), ...errorResponses(404, 429) },
});

export const ownHousehold = createRoute({
  method: "get",
  path: "/v1/resident/household",
  operationId: "getOwnHousehold",
  tags,
  summary: "One's own household: address, grid, members' names",
  description:
    "No ID numbers, phones, birth dates, tags, class or income. 403 `household-not-linked` until linked.",
  security: residentBearer,
  responses: { 200: jsonResponse(OwnHouseholdSchema, "The household"), ...errorResponses(403, 404) },
});

export const report = createRoute({
  method: "post",
  path: "/v1/resident/reports",
  operationId: "reportResidentMatter",
  tags,
  summary: "Report a public matter (说事) into the grid where it lies",
  description:
    "Goes into the closed loop in the grid of the nearest registered household (else one's own household's grid). Idempotent by `id`.",
  security: residentBearer,
  request: { body: jsonBody(ReportSchema) },
  responses: {
    201: jsonResponse(ResidentCaseSchema, "Reported", ["ETag", "Location"]),
    200: jsonResponse(ResidentCaseSchema, "A replay of an earlier report with this id", ["ETag"]),
    ...errorResponses(404, 413, 422),
  },
});

export const listReports = createRoute({
  method: "get",
  path: "/v1/resident/reports",
  operationId: "listOwnReports",
  tags,
  summary: "One's own reports, newest first",
  security: residentBearer,
  request: { query: z.object(pageQuery) },
  responses: {
    200: jsonResponse(pageSchema(ResidentCaseItemSchema), "A page of reports"),
    ...errorResponses(),
  },
});

export const getReport = createRoute({
  method: "get",
  path: "/v1/resident/reports/{id}",
  operationId: "getOwnReport",
  tags,
  summary: "One's own report with its progress in plain words",
  description: "No internal notes and no staff names. 404 for anything one did not report.",
  security: residentBearer,
  request: { params: CaseIdParam },
  responses: { 200: jsonResponse(ResidentCaseSchema, "The report", ["ETag"]), ...errorResponses(404) },
});

export const rate = createRoute({
  method: "post",
  path: "/v1/resident/reports/{id}/rating",
  operationId: "rateOwnReport",
  tags,
  summary: "Rate the outcome on the return visit (回访)",
  description:
    "Only once the case is resolved (409 otherwise). `dissatisfied` reopens it. Requires If-Match.",
  security: residentBearer,
  request: { params: CaseIdParam, headers: ifMatchHeader(true), body: jsonBody(RatingSchema) },
  responses: {
    200: jsonResponse(ResidentCaseSchema, "Rated", ["ETag"]),
    ...errorResponses(403, 404, 409, 412, 428),
  },
});

export const linkByWorker = createRoute({
  method: "post",
  path: "/v1/households/{id}/resident-accounts",
  operationId: "linkResidentAccount",
  tags,
  summary: "Link a resident's account (by mobile number) to this household",
  ...guarded("resident-accounts.link"),
  request: { params: IdParam, body: jsonBody(z.object({ mobile: Mobile }).strict()) },
  responses: { 200: jsonResponse(ResidentAccountSchema, "Linked"), ...errorResponses(403, 404) },
});

const Line = z.enum(["household_lead", "party_member"]).openapi({
  description: "`household_lead` — 中心户长 (rated monthly), `party_member` — 党员 (rated yearly)",
});

const ContactToRateSchema = z
  .object({
    contactId: z.uuid(),
    line: Line,
    name: z.string(),
    period: z
      .string()
      .openapi({ description: "`YYYY-MM` for a household lead, `YYYY` for a party member (China time)" }),
    rated: z.boolean().openapi({ description: "Whether you already rated this contact for the period" }),
  })
  .openapi("ResidentContactToRate");

const ContactRatingSchema = z
  .object({ contactId: z.uuid(), line: Line, period: z.string(), rating: z.number().int().min(1).max(5) })
  .openapi("ResidentContactRating");

export const contactsToRate = createRoute({
  method: "get",
  path: "/v1/resident/contacts",
  operationId: "listContactsToRate",
  tags,
  summary: "The household lead and party members paired with one's household (群众评议)",
  description: "403 `household-not-linked` until the account is linked.",
  security: residentBearer,
  responses: {
    200: jsonResponse(z.object({ items: z.array(ContactToRateSchema) }), "The contacts"),
    ...errorResponses(403),
  },
});

export const rateContact = createRoute({
  method: "post",
  path: "/v1/resident/contacts/{id}/rating",
  operationId: "rateContact",
  tags,
  summary: "Rate a paired household lead or party member, once per period (anonymous to them)",
  description:
    "1–5. A household lead's ratings feed the month's subsidy statement and flagging; a party member's the annual review. 404 for a contact not paired with one's household, 409 `already-rated`.",
  security: residentBearer,
  request: {
    params: z.object({
      id: z.uuid().openapi({ param: { name: "id", in: "path" }, description: "The contact's user id" }),
    }),
    body: jsonBody(z.object({ rating: z.number().int().min(1).max(5) }).strict()),
  },
  responses: { 201: jsonResponse(ContactRatingSchema, "Rated"), ...errorResponses(403, 404, 409) },
});

export const memberRatings = createRoute({
  method: "get",
  path: "/v1/contacts/{id}/resident-ratings",
  operationId: "getPartyMemberResidentRatings",
  tags,
  summary: "Residents' ratings of a party member in a year, in aggregate (for the annual review)",
  description: "The count, and the average only from 3 ratings on. 404 outside your scope.",
  ...guarded("resident-ratings.read"),
  request: {
    params: IdParam,
    query: z.object({ year: z.coerce.number().int().min(2000).max(2100) }),
  },
  responses: {
    200: jsonResponse(
      z
        .object({
          memberId: z.uuid(),
          year: z.number().int(),
          count: z.number().int(),
          averageX100: z.number().int().nullable(),
          average: z.string().nullable(),
        })
        .openapi("PartyMemberResidentRatings"),
      "The aggregate",
    ),
    ...errorResponses(403, 404),
  },
});

const binary = { schema: z.string().openapi({ type: "string", format: "binary" }) };

export const addPhoto = createRoute({
  method: "post",
  path: "/v1/resident/reports/{id}/attachments",
  operationId: "addOwnReportPhoto",
  tags,
  summary: "Add a photo to one's own report",
  description: `The raw image as the body with its Content-Type: JPEG, PNG, WebP or HEIC (checked by magic bytes), at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MiB, at most ${MAX_ATTACHMENTS} per case.`,
  security: residentBearer,
  request: {
    params: CaseIdParam,
    body: { required: true, content: Object.fromEntries(EVIDENCE_TYPES.map((t) => [t, binary])) },
  },
  responses: {
    201: jsonResponse(
      z
        .object({
          id: z.uuid(),
          caseId: z.string(),
          caseVersion: z.number().int(),
          contentType: z.enum(EVIDENCE_TYPES),
          size: z.number().int(),
        })
        .openapi("ResidentPhoto"),
      "Stored and recorded on the case",
      ["ETag"],
    ),
    ...errorResponses(404, 409, 413, 415),
  },
});
