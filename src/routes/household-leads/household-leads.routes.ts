import { createRoute, z } from "@hono/zod-openapi";
import {
  PERIOD_PATTERN,
  SUBSIDY_KEYS,
  UNCOUNTED_REASON_LABELS,
  UNCOUNTED_REASONS,
} from "../../domain/subsidy";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";

const Fen = z
  .number()
  .int("money is an integer number of fen")
  .min(0, "money is never negative")
  .max(1_000_000_000_00)
  .openapi({ description: "Integer fen (分): 100 = 1 yuan" });
const Month = z
  .string()
  .regex(PERIOD_PATTERN, "a month YYYY-MM")
  .openapi({ description: "YYYY-MM (China time)" });

const SettingsSchema = z
  .object({
    caseFen: z.number().int().openapi({ description: "Amount per case handled (以案定补), fen" }),
    eventFen: z.number().int().openapi({ description: "Reward per event (以事奖补), fen" }),
    flagBelowX100: z
      .number()
      .int()
      .openapi({ description: "Flag for adjustment when the average rating ×100 is below this" }),
    caseCapFen: z
      .number()
      .int()
      .openapi({ description: "The most a lead is paid for cases in one month (以案定补 monthly cap), fen" }),
  })
  .openapi("SubsidySettings");

export const putSettings = createRoute({
  method: "put",
  path: "/v1/units/{id}/subsidy-settings",
  operationId: "setSubsidySettings",
  tags: ["household leads"],
  summary: "Set a unit's household-lead subsidy amounts (admin, center_staff); inherited down the tree",
  description: `Stored as unit settings \`${SUBSIDY_KEYS.caseFen}\`, \`${SUBSIDY_KEYS.eventFen}\`, \`${SUBSIDY_KEYS.flagBelowX100}\`, \`${SUBSIDY_KEYS.caseCapFen}\`. Money is integer fen: negative or fractional amounts are 400 and nothing is written.`,
  ...guarded("household-leads.settings"),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({
          caseFen: Fen.optional(),
          eventFen: Fen.optional(),
          flagBelowX100: z.number().int().min(100).max(500).optional(),
          caseCapFen: Fen.optional(),
        })
        .refine((b) => Object.keys(b).length > 0, "give at least one setting")
        .openapi("SubsidySettingsInput"),
    ),
  },
  responses: {
    200: jsonResponse(SettingsSchema, "The settings in force at the unit"),
    ...errorResponses(403, 404),
  },
});

export const getSettings = createRoute({
  method: "get",
  path: "/v1/units/{id}/subsidy-settings",
  operationId: "getSubsidySettings",
  tags: ["household leads"],
  summary: "The household-lead subsidy settings in force at a unit (its own or inherited, else defaults)",
  ...guarded("household-leads.read-settings"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(SettingsSchema, "Settings"), ...errorResponses(404) },
});

const LeadParam = IdParam;

const EventSchema = z
  .object({
    id: z.uuid(),
    description: z.string(),
    occurredAt: z.string(),
    month: z.string(),
    amountFen: z.number().int(),
  })
  .openapi("LeadSubsidyEvent");

export const recordEvent = createRoute({
  method: "post",
  path: "/v1/household-leads/{id}/events",
  operationId: "recordHouseholdLeadEvent",
  tags: ["household leads"],
  summary: "Record an event a lead is rewarded for (以事奖补) (admin, center_staff, grid_worker)",
  description:
    "The amount is the unit setting in force for the lead, unless `amountFen` (integer fen, not negative) is given.",
  ...guarded("household-leads.record"),
  request: {
    params: LeadParam,
    body: jsonBody(
      z
        .strictObject({
          description: z.string().trim().min(1).max(500),
          occurredAt: z.iso.datetime(),
          amountFen: Fen.optional(),
        })
        .openapi("NewLeadSubsidyEvent"),
    ),
  },
  responses: { 201: jsonResponse(EventSchema, "Recorded"), ...errorResponses(403, 404) },
});

const RatingSchema = z
  .object({
    id: z.uuid(),
    leadId: z.uuid(),
    residentId: z.uuid(),
    period: z.string(),
    rating: z.number().int(),
    createdAt: z.string(),
  })
  .openapi("LeadRating");

export const rate = createRoute({
  method: "post",
  path: "/v1/household-leads/{id}/ratings",
  operationId: "rateHouseholdLead",
  tags: ["household leads"],
  summary: "Record a resident's rating of their household lead (群众评议), 1–5, once per period",
  description:
    "Entered by the grid worker or a centre for the resident. The resident lives in one of the lead's households. A second rating by the same resident in one period is 409.",
  ...guarded("household-leads.record"),
  request: {
    params: LeadParam,
    body: jsonBody(
      z
        .strictObject({
          residentId: z.uuid(),
          rating: z.number().int("a whole number 1–5").min(1).max(5),
          period: Month.optional().openapi({ description: "Default: the current month" }),
        })
        .openapi("NewLeadRating"),
    ),
  },
  responses: { 201: jsonResponse(RatingSchema, "Recorded"), ...errorResponses(403, 404, 409) },
});

const StatementSchema = z
  .object({
    leadId: z.uuid(),
    month: z.string(),
    settings: SettingsSchema,
    cases: z.array(
      z.object({
        caseId: z.uuid(),
        title: z.string(),
        state: z.string(),
        reportedAt: z.string(),
        acceptedAt: z.string().nullable().openapi({ description: "When the case was first accepted (受理)" }),
        amountFen: z.number().int(),
        settled: z.boolean().openapi({ description: "The amount was fixed by a settlement" }),
      }),
    ),
    uncountedCases: z
      .array(
        z.object({
          caseId: z.uuid(),
          title: z.string(),
          state: z.string(),
          reportedAt: z.string(),
          acceptedAt: z.string().nullable(),
          reason: z.enum(UNCOUNTED_REASONS).openapi({
            description: Object.entries(UNCOUNTED_REASON_LABELS)
              .map(([k, v]) => `\`${k}\` — ${v}`)
              .join("; "),
          }),
        }),
      )
      .openapi({ description: "The lead's cases of the month that are not paid, with the reason" }),
    events: z.array(EventSchema),
    totals: z.object({
      cases: z.number().int(),
      events: z.number().int(),
      caseFen: z.number().int(),
      eventFen: z.number().int(),
      totalFen: z.number().int(),
      totalYuan: z.string(),
    }),
    rating: z.object({
      count: z.number().int(),
      averageX100: z.number().int().nullable(),
      average: z.string().nullable(),
    }),
    belowThreshold: z.boolean(),
    flag: z.object({ period: z.string(), averageX100: z.number().int(), flaggedAt: z.string() }).nullable(),
  })
  .openapi("LeadStatement");

export const statement = createRoute({
  method: "get",
  path: "/v1/household-leads/{id}/statement",
  operationId: "getHouseholdLeadStatement",
  tags: ["household leads"],
  summary: "A lead's month: cases handled, events, amounts (integer fen) and average rating",
  description:
    "以案定补 pays for cases, not reports. A case the lead reported (on a household's behalf the lead is the reporter) counts in the month (China time) it was first accepted, unless it is now rejected, merged or withdrawn; counted cases are taken in order of acceptance up to the unit's monthly cap (`caseCapFen`, inherited). Each is paid the case amount fixed by the month's settlement, or, before it, the amount now in force. `uncountedCases` lists the month's other cases (reported or accepted in it) with the reason they are not paid: not yet accepted, rejected, merged, withdrawn, accepted in another month, or over the monthly cap.",
  ...guarded("household-leads.statement"),
  request: { params: LeadParam, query: z.object({ month: Month }) },
  responses: { 200: jsonResponse(StatementSchema, "The statement"), ...errorResponses(403, 404) },
});

export const settle = createRoute({
  method: "post",
  path: "/v1/household-leads/{id}/settlements",
  operationId: "settleHouseholdLead",
  tags: ["household leads"],
  summary: "Fix the month's case amounts at the setting in force now (admin, center_staff)",
  description: "Idempotent: cases already settled keep their amount; later cases of the month are added.",
  ...guarded("household-leads.settle"),
  request: { params: LeadParam, body: jsonBody(z.strictObject({ month: Month }).openapi("LeadSettlement")) },
  responses: {
    200: jsonResponse(StatementSchema, "The statement after settling"),
    ...errorResponses(403, 404),
  },
});

const FlagSchema = z
  .object({
    leadId: z.uuid(),
    period: z.string(),
    averageX100: z.number().int(),
    reason: z.string(),
    flaggedAt: z.string(),
  })
  .openapi("LeadFlag");

export const flag = createRoute({
  method: "post",
  path: "/v1/household-leads/{id}/flag",
  operationId: "flagHouseholdLead",
  tags: ["household leads"],
  summary: "Flag a lead for adjustment (动态调整) when the period's average rating is below the threshold",
  description:
    "409 when the lead has no ratings in the period, the average is not below the threshold, or the lead is already flagged.",
  ...guarded("household-leads.flag"),
  request: {
    params: LeadParam,
    body: jsonBody(
      z
        .strictObject({ period: Month, reason: z.string().trim().min(1).max(500).optional() })
        .openapi("NewLeadFlag"),
    ),
  },
  responses: { 201: jsonResponse(FlagSchema, "Flagged"), ...errorResponses(403, 404, 409) },
});

export const unflag = createRoute({
  method: "delete",
  path: "/v1/household-leads/{id}/flag",
  operationId: "clearHouseholdLeadFlag",
  tags: ["household leads"],
  summary: "Clear a lead's adjustment flag (admin, center_staff)",
  ...guarded("household-leads.flag"),
  request: { params: LeadParam },
  responses: { 204: { description: "Cleared" }, ...errorResponses(403, 404) },
});

const LeadSummary = z
  .object({
    leadId: z.uuid(),
    displayName: z.string(),
    unitId: z.uuid(),
    households: z.number().int(),
    flag: z
      .union([FlagSchema, z.null()])
      .openapi({ description: "The open flag for adjustment; null when the lead is not flagged" }),
  })
  .openapi("HouseholdLeadSummary");

export const listLeads = createRoute({
  method: "get",
  path: "/v1/units/{id}/household-leads",
  operationId: "listUnitHouseholdLeads",
  tags: ["household leads"],
  summary: "The household leads of a subtree; `flagged=true` lists those flagged for adjustment",
  ...guarded("household-leads.list"),
  request: {
    params: IdParam,
    query: z.object({
      flagged: z
        .enum(["true", "false"])
        .optional()
        .openapi({ description: "Only flagged (true) or unflagged (false)" }),
      ...pageQuery,
    }),
  },
  responses: {
    200: jsonResponse(pageSchema(LeadSummary), "A page of leads, by id"),
    ...errorResponses(403, 404),
  },
});
