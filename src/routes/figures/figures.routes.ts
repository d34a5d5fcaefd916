import { createRoute, z } from "@hono/zod-openapi";
import { GRANULARITIES, LEAGUE_SORTS } from "../../domain/case-figures";
import { CASE_SEVERITY_LABELS, CASE_STATES, CASE_TYPE_LABELS, CASE_TYPES } from "../../domain/case-model";
import { UNIT_LEVELS } from "../../domain/units";
import { errorResponses, guarded, IdParam, jsonResponse } from "../../platform/http/openapi";

const labels = (entries: Record<string, string>) =>
  Object.entries(entries)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; ");

const Rate = z
  .number()
  .nullable()
  .openapi({ description: "A share between 0 and 1; null when there is nothing to divide by" });
const Minutes = z.number().int().nullable().openapi({
  description:
    "Minutes, read from a fixed-bucket histogram (within one bucket of the exact value); null without data",
});
const ChinaDay = z
  .string()
  .max(10)
  .openapi({ description: "A China date (UTC+8), YYYY-MM-DD", example: "2026-03-01" });
const TypeSchema = z.enum(CASE_TYPES).openapi({ description: labels(CASE_TYPE_LABELS) });

const PeriodQuery = {
  from: ChinaDay.openapi({ description: "First China day of the period (YYYY-MM-DD), included" }),
  to: ChinaDay.openapi({
    description: "Last China day of the period (YYYY-MM-DD), included; at most ten years after `from`",
  }),
};

const SatisfactionSchema = z
  .object({
    satisfied: z.number().int(),
    basicallySatisfied: z.number().int(),
    dissatisfied: z.number().int(),
    rate: Rate.openapi({
      description: "Satisfied or basically satisfied return visits over all return visits",
    }),
  })
  .openapi("Satisfaction");

const figureFields = {
  reported: z.number().int().openapi({ description: "Cases reported (上报)" }),
  accepted: z.number().int().openapi({ description: "Acceptances (受理)" }),
  rejected: z.number().int(),
  merged: z.number().int(),
  resolved: z.number().int().openapi({ description: "Resolutions (办结)" }),
  resolvedOnTime: z.number().int().openapi({ description: "Resolutions of cases that never went overdue" }),
  closed: z.number().int().openapi({ description: "Closures (归档)" }),
  reopened: z.number().int().openapi({ description: "Reopenings, dissatisfied return visits included" }),
  overdue: z.number().int().openapi({ description: "Deadlines missed (超期)" }),
  escalated: z.number().int().openapi({ description: "Escalations to a higher level" }),
  closureRate: Rate.openapi({ description: "Closures over reports" }),
  onTimeRate: Rate.openapi({ description: "On-time resolutions over resolutions" }),
  reopenRate: Rate.openapi({ description: "Reopenings over resolutions" }),
  escalationRate: Rate.openapi({ description: "Escalations over reports" }),
  settledLocallyRate: Rate.openapi({
    description:
      "Resolutions in the grid or village over all resolutions (小事不出网格, 大事不出村; target above 0.9)",
  }),
  resolvedAtLevel: z.array(z.object({ level: z.enum(UNIT_LEVELS), count: z.number().int(), share: Rate })),
  minutesToAccept: z.object({ p50: Minutes, p90: Minutes }),
  minutesToResolve: z.object({ p50: Minutes, p90: Minutes }),
  satisfaction: SatisfactionSchema,
};

const FiguresSchema = z.object(figureFields).openapi("CaseFigures");

const CaseFiguresReportSchema = z
  .object({
    unitId: z.uuid(),
    from: z.string(),
    to: z.string(),
    granularity: z.enum(GRANULARITIES),
    totals: FiguresSchema,
    byType: z.array(z.object({ type: TypeSchema, ...figureFields })),
    trend: z.array(
      z.object({
        period: z
          .string()
          .openapi({ description: "The day, the Monday of the week, or the month (YYYY-MM)" }),
        reported: z.number().int(),
        accepted: z.number().int(),
        resolved: z.number().int(),
        closed: z.number().int(),
        overdue: z.number().int(),
      }),
    ),
  })
  .openapi("CaseFiguresReport");

export const caseFigures = createRoute({
  method: "get",
  path: "/v1/units/{id}/figures/cases",
  tags: ["figures"],
  operationId: "getCaseFigures",
  summary: "Case figures of a unit's subtree over a period: counts, rates, times, levels, trend",
  description: `Read from the case roll-ups the projection keeps (one row per unit, China day, case type and severity; severities: ${labels(CASE_SEVERITY_LABELS)}), about a second behind the desks. Counts are of what happened in the period (reports, acceptances, resolutions, closures…), not of the cases' current states (${CASE_STATES.join(", ")}). No personal data.`,
  ...guarded("figures.read"),
  request: {
    params: IdParam,
    query: z.object({
      ...PeriodQuery,
      granularity: z.enum(GRANULARITIES).default("day").openapi({ description: "How the trend is cut" }),
      type: TypeSchema.optional(),
    }),
  },
  responses: { 200: jsonResponse(CaseFiguresReportSchema, "The figures"), ...errorResponses(400, 403, 404) },
});

const LeagueSchema = z
  .object({
    unitId: z.uuid(),
    from: z.string(),
    to: z.string(),
    previousFrom: z.string(),
    previousTo: z.string(),
    items: z.array(
      z.object({
        unitId: z.uuid(),
        name: z.string(),
        level: z.enum(UNIT_LEVELS),
        figures: FiguresSchema,
        previous: FiguresSchema,
        change: z.object({
          reported: z.number().int(),
          closureRate: Rate,
          onTimeRate: Rate,
          overdue: z.number().int(),
          escalationRate: Rate,
        }),
      }),
    ),
  })
  .openapi("LeagueTable");

export const league = createRoute({
  method: "get",
  path: "/v1/units/{id}/league",
  tags: ["figures"],
  operationId: "getLeagueTable",
  summary: "League table of a unit's children over a period, with the change against the previous period",
  description:
    "Every child unit with its case figures for the period and for the previous period of the same length, sorted by `sort` (rates with nothing to divide by last).",
  ...guarded("figures.read"),
  request: {
    params: IdParam,
    query: z.object({
      ...PeriodQuery,
      sort: z.enum(LEAGUE_SORTS).default("closureRate"),
      order: z.enum(["asc", "desc"]).default("desc"),
    }),
  },
  responses: { 200: jsonResponse(LeagueSchema, "The table"), ...errorResponses(400, 403, 404) },
});

const HotspotsSchema = z
  .object({
    type: z.literal("FeatureCollection"),
    features: z.array(
      z.object({
        type: z.literal("Feature"),
        geometry: z.object({
          type: z.literal("Polygon"),
          coordinates: z.array(z.array(z.array(z.number()))),
        }),
        properties: z.object({
          count: z.number().int(),
          center: z.object({ lat: z.number(), lng: z.number() }),
        }),
      }),
    ),
  })
  .openapi("Hotspots");

export const hotspots = createRoute({
  method: "get",
  path: "/v1/units/{id}/hotspots",
  tags: ["figures"],
  operationId: "getHotspots",
  summary: "Hot spots: cases reported in a subtree over a period, counted on square cells, as GeoJSON",
  description:
    "A GeoJSON FeatureCollection (RFC 7946, coordinates [lng, lat]) of square cells of `cell` degrees with the number of cases reported in each, densest first. Only counts: no case, person or address.",
  ...guarded("figures.read"),
  request: {
    params: IdParam,
    query: z.object({
      ...PeriodQuery,
      type: TypeSchema.optional(),
      cell: z
        .enum(["0.005", "0.01", "0.05", "0.1"])
        .default("0.01")
        .openapi({ description: "Cell size in degrees" }),
      limit: z.coerce.number().int().min(1).max(5000).default(1000),
    }),
  },
  responses: {
    200: jsonResponse(HotspotsSchema, "The cells"),
    ...errorResponses(400, 403, 404),
  },
});

const SatisfactionReportSchema = z
  .object({
    unitId: z.uuid(),
    from: z.string(),
    to: z.string(),
    totals: SatisfactionSchema,
    byType: z.array(z.object({ type: TypeSchema, ...SatisfactionSchema.shape })),
    dissatisfied: z.array(
      z.object({
        caseId: z.string(),
        title: z.string(),
        type: z.string(),
        state: z.string(),
        owningUnitId: z.string(),
        visitedAt: z.string(),
        note: z.string().nullable(),
      }),
    ),
  })
  .openapi("SatisfactionReport");

export const satisfaction = createRoute({
  method: "get",
  path: "/v1/units/{id}/figures/satisfaction",
  tags: ["figures"],
  operationId: "getSatisfactionFigures",
  summary: "Return-visit satisfaction (跟踪回访) by case type, and the dissatisfied closures to visit again",
  description:
    "Satisfaction of the return visits made in the period, by case type, from the roll-ups; `dissatisfied` lists the subtree's cases whose return visit in the period found the resident dissatisfied, newest first (at most `limit`).",
  ...guarded("figures.read"),
  request: {
    params: IdParam,
    query: z.object({ ...PeriodQuery, limit: z.coerce.number().int().min(1).max(500).default(100) }),
  },
  responses: { 200: jsonResponse(SatisfactionReportSchema, "The figures"), ...errorResponses(400, 403, 404) },
});

const Counted = z.object({ covered: z.number().int(), share: z.number() });
const ServiceFiguresSchema = z
  .object({
    unitId: z.uuid(),
    from: z.string(),
    to: z.string(),
    asOf: z.string().openapi({ description: "The instant the household and coverage figures are read at" }),
    households: z.object({
      total: z.number().int(),
      byClass: z.object({ green: z.number().int(), yellow: z.number().int(), red: z.number().int() }),
      overdueVisits: z
        .object({
          total: z.number().int(),
          green: z.number().int(),
          yellow: z.number().int(),
          red: z.number().int(),
        })
        .openapi({ description: "Households whose next visit was due before `asOf`, by class" }),
    }),
    coverage: z.object({
      households: z.number().int(),
      lines: z.object({ party_member: Counted, household_lead: Counted, deputy: Counted }),
      anyLine: Counted,
      redWithoutHelper: z.number().int().openapi({ description: "Red households without a named helper" }),
      overloadedContacts: z
        .number()
        .int()
        .openapi({ description: "Contacts paired with more households than the unit's maximum" }),
    }),
    directives: z
      .object({
        issued: z.number().int(),
        receipts: z.number().int(),
        acknowledged: z.number().int(),
        completed: z.number().int(),
        completedLate: z.number().int(),
        overdue: z.number().int(),
        completionRate: Rate,
        acknowledgementRate: Rate,
        minutesToAcknowledge: z.object({ p50: z.number().int().nullable() }),
        minutesToComplete: z.object({ p50: z.number().int().nullable() }),
      })
      .openapi({
        description:
          "Directives (指令) the subtree's units issued in the period, with their receipts: completion and acknowledgement shares and median minutes from delivery",
      }),
    partyPoints: z.object({
      points: z.number().int(),
      entries: z.number().int(),
      members: z.number().int(),
    }),
    leadSubsidies: z.object({
      amountFen: z.number().int().openapi({ description: "Subsidy amounts in fen (分)" }),
      items: z.number().int(),
      leads: z.number().int(),
    }),
  })
  .openapi("ServiceFigures");

export const serviceFigures = createRoute({
  method: "get",
  path: "/v1/units/{id}/figures/service",
  tags: ["figures"],
  operationId: "getServiceFigures",
  summary:
    "Household-service figures of a subtree: classes, overdue visits, three-line coverage, directives, points",
  description:
    "Households by class and overdue visits and the three-line coverage as of now; directives issued in the period (completion, acknowledgement, median times), party points recorded and household-lead subsidies that occurred in the period. Read from the households, three-line and directive modules. Only counts, no personal data.",
  ...guarded("figures.read"),
  request: { params: IdParam, query: z.object({ ...PeriodQuery }) },
  responses: { 200: jsonResponse(ServiceFiguresSchema, "The figures"), ...errorResponses(400, 403, 404) },
});
