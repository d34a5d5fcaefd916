import { createRoute, z } from "@hono/zod-openapi";
import type { InStatement } from "@libsql/client/web";
import {
  roleUserInScope,
  type ScopedUser,
  settingsOnPath,
  threeLinesAudit,
  unitInScope,
  writeOnce,
} from "../../db/repos/three-lines";
import {
  averageX100,
  caseCountsForSubsidy,
  isFen,
  monthBounds,
  PERIOD_PATTERN,
  periodOf,
  ratingText,
  resolveSubsidy,
  SUBSIDY_KEYS,
  type SubsidySettings,
  shouldFlag,
  statementTotals,
  yuanText,
} from "../../domain/subsidy";
import { subtreeRange } from "../../domain/units";
import type { Principal } from "../../env";
import { GuardFailed, writeAudited } from "../../platform/db/audit";
import { type Db, getDb } from "../../platform/db/client";
import { principalOf, requireRole } from "../../platform/http/auth";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { decodeCursor, pageQuery, pageSchema, toPage } from "../../platform/http/pagination";
import { problems } from "../../platform/http/problem";

const STAFF = ["admin", "center_staff"] as const;
const RECORDERS = ["admin", "center_staff", "grid_worker"] as const;
const KEYS = Object.values(SUBSIDY_KEYS);

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
  })
  .openapi("SubsidySettings");

const putSettings = createRoute({
  method: "put",
  path: "/v1/units/{id}/subsidy-settings",
  tags: ["household leads"],
  summary: "Set a unit's household-lead subsidy amounts (admin, center_staff); inherited down the tree",
  description: `Stored as unit settings \`${SUBSIDY_KEYS.caseFen}\`, \`${SUBSIDY_KEYS.eventFen}\`, \`${SUBSIDY_KEYS.flagBelowX100}\`. Money is integer fen: negative or fractional amounts are 400 and nothing is written.`,
  security: bearer,
  middleware: [requireRole(...STAFF)] as const,
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({
          caseFen: Fen.optional(),
          eventFen: Fen.optional(),
          flagBelowX100: z.number().int().min(100).max(500).optional(),
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

const getSettings = createRoute({
  method: "get",
  path: "/v1/units/{id}/subsidy-settings",
  tags: ["household leads"],
  summary: "The household-lead subsidy settings in force at a unit (its own or inherited, else defaults)",
  security: bearer,
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

const recordEvent = createRoute({
  method: "post",
  path: "/v1/household-leads/{id}/events",
  tags: ["household leads"],
  summary: "Record an event a lead is rewarded for (以事奖补) (admin, center_staff, grid_worker)",
  description:
    "The amount is the unit setting in force for the lead, unless `amountFen` (integer fen, not negative) is given.",
  security: bearer,
  middleware: [requireRole(...RECORDERS)] as const,
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

const rate = createRoute({
  method: "post",
  path: "/v1/household-leads/{id}/ratings",
  tags: ["household leads"],
  summary: "Record a resident's rating of their household lead (群众评议), 1–5, once per period",
  description:
    "Entered by the grid worker or a centre for the resident. The resident lives in one of the lead's households. A second rating by the same resident in one period is 409.",
  security: bearer,
  middleware: [requireRole(...RECORDERS)] as const,
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
        amountFen: z.number().int(),
        settled: z.boolean().openapi({ description: "The amount was fixed by a settlement" }),
      }),
    ),
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

const statement = createRoute({
  method: "get",
  path: "/v1/household-leads/{id}/statement",
  tags: ["household leads"],
  summary: "A lead's month: cases handled, events, amounts (integer fen) and average rating",
  description:
    "Cases handled: cases the lead reported (on a household's behalf the lead is the reporter) in the month (China time), except rejected or merged ones, as the case projection holds them. Each is paid the case amount fixed by the month's settlement, or, before it, the amount now in force.",
  security: bearer,
  middleware: [requireRole("admin", "center_staff", "leader", "grid_worker", "household_lead")] as const,
  request: { params: LeadParam, query: z.object({ month: Month }) },
  responses: { 200: jsonResponse(StatementSchema, "The statement"), ...errorResponses(403, 404) },
});

const settle = createRoute({
  method: "post",
  path: "/v1/household-leads/{id}/settlements",
  tags: ["household leads"],
  summary: "Fix the month's case amounts at the setting in force now (admin, center_staff)",
  description: "Idempotent: cases already settled keep their amount; later cases of the month are added.",
  security: bearer,
  middleware: [requireRole(...STAFF)] as const,
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

const flag = createRoute({
  method: "post",
  path: "/v1/household-leads/{id}/flag",
  tags: ["household leads"],
  summary: "Flag a lead for adjustment (动态调整) when the period's average rating is below the threshold",
  description:
    "409 when the lead has no ratings in the period, the average is not below the threshold, or the lead is already flagged.",
  security: bearer,
  middleware: [requireRole(...STAFF)] as const,
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

const unflag = createRoute({
  method: "delete",
  path: "/v1/household-leads/{id}/flag",
  tags: ["household leads"],
  summary: "Clear a lead's adjustment flag (admin, center_staff)",
  security: bearer,
  middleware: [requireRole(...STAFF)] as const,
  request: { params: LeadParam },
  responses: { 204: { description: "Cleared" }, ...errorResponses(403, 404) },
});

const LeadSummary = z
  .object({
    leadId: z.uuid(),
    displayName: z.string(),
    unitId: z.uuid(),
    households: z.number().int(),
    flag: FlagSchema.nullable(),
  })
  .openapi("HouseholdLeadSummary");

const listLeads = createRoute({
  method: "get",
  path: "/v1/units/{id}/household-leads",
  tags: ["household leads"],
  summary: "The household leads of a subtree; `flagged=true` lists those flagged for adjustment",
  security: bearer,
  middleware: [requireRole("admin", "center_staff", "leader", "grid_worker")] as const,
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

type Row = Record<string, unknown>;

async function subsidyAt(db: Db, unitPath: string): Promise<SubsidySettings> {
  return resolveSubsidy(await settingsOnPath(db, unitPath, KEYS));
}

async function leadInScope(db: Db, p: Principal, leadId: string): Promise<ScopedUser> {
  if (p.role === "household_lead" && p.userId !== leadId) throw problems.notFound("household lead");
  return roleUserInScope(db, p, leadId, "household_lead", "household lead");
}

const flagView = (r: Row) => ({
  leadId: String(r.leadId),
  period: String(r.period),
  averageX100: Number(r.averageX100),
  reason: String(r.reason),
  flaggedAt: String(r.flaggedAt),
});
const FLAG_COLUMNS =
  "lead_id AS leadId, period, average_rating_x100 AS averageX100, reason, flagged_at AS flaggedAt";

/** The cases a lead handled in a month, by the documented rule (see `caseCountsForSubsidy`). */
function handledCasesStatement(lead: ScopedUser, month: string): InStatement {
  const [lo, hi] = subtreeRange(lead.unitPath);
  const [from, to] = monthBounds(month);
  // A lead reports only inside their own subtree, so the owning path range bounds the scan.
  return {
    sql: `SELECT id, title, state, created_at AS reportedAt FROM cases
          WHERE owning_unit_path >= ? AND owning_unit_path < ? AND created_at >= ? AND created_at < ? AND reporter_id = ?
          ORDER BY created_at, id`,
    args: [lo, hi, from, to, lead.id],
  };
}

async function buildStatement(db: Db, lead: ScopedUser, month: string) {
  const settings = await subsidyAt(db, lead.unitPath);
  const [handled, items, ratings, flagRow] = await db.$client.batch(
    [
      handledCasesStatement(lead, month),
      {
        sql: `SELECT id, kind, ref_id AS refId, description, amount_fen AS amountFen, occurred_at AS occurredAt, month
              FROM lead_subsidy_items WHERE lead_id = ? AND month = ? ORDER BY occurred_at, id`,
        args: [lead.id, month],
      },
      { sql: "SELECT rating FROM lead_ratings WHERE lead_id = ? AND period = ?", args: [lead.id, month] },
      {
        sql: `SELECT ${FLAG_COLUMNS} FROM lead_flags WHERE lead_id = ? AND cleared_at IS NULL`,
        args: [lead.id],
      },
    ],
    "read",
  );
  const settledCases = new Map(
    items!.rows.filter((r) => r.kind === "case").map((r) => [String(r.refId), r as Row]),
  );
  const cases: z.infer<typeof StatementSchema>["cases"] = [];
  for (const r of handled!.rows) {
    const settled = settledCases.get(String(r.id));
    settledCases.delete(String(r.id));
    if (!settled && !caseCountsForSubsidy(String(r.state))) continue;
    cases.push({
      caseId: String(r.id),
      title: String(r.title),
      state: String(r.state),
      reportedAt: String(r.reportedAt),
      amountFen: settled ? Number(settled.amountFen) : settings.caseFen,
      settled: Boolean(settled),
    });
  }
  // A settled case stays paid even if the projection no longer lists it for the month.
  for (const s of settledCases.values()) {
    cases.push({
      caseId: String(s.refId),
      title: String(s.description),
      state: "unknown",
      reportedAt: String(s.occurredAt),
      amountFen: Number(s.amountFen),
      settled: true,
    });
  }
  const events = items!.rows
    .filter((r) => r.kind === "event")
    .map((r) => ({
      id: String(r.id),
      description: String(r.description),
      occurredAt: String(r.occurredAt),
      month: String(r.month),
      amountFen: Number(r.amountFen),
    }));
  const totals = statementTotals([
    ...cases.map((x) => ({ kind: "case" as const, amountFen: x.amountFen })),
    ...events.map((x) => ({ kind: "event" as const, amountFen: x.amountFen })),
  ]);
  const values = ratings!.rows.map((r) => Number(r.rating));
  const average = averageX100(values);
  const open = flagRow!.rows[0] as Row | undefined;
  return {
    leadId: lead.id,
    month,
    settings,
    cases,
    events,
    totals: { ...totals, totalYuan: yuanText(totals.totalFen) },
    rating: { count: values.length, averageX100: average, average: ratingText(average) },
    belowThreshold: shouldFlag(average, settings.flagBelowX100),
    flag: open
      ? {
          period: String(open.period),
          averageX100: Number(open.averageX100),
          flaggedAt: String(open.flaggedAt),
        }
      : null,
  };
}

export const householdLeadRoutes = createRouter()
  .openapi(putSettings, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const unit = await unitInScope(db, principal, id);
    const now = new Date().toISOString();
    const values: Array<[string, number | undefined]> = [
      [SUBSIDY_KEYS.caseFen, body.caseFen],
      [SUBSIDY_KEYS.eventFen, body.eventFen],
      [SUBSIDY_KEYS.flagBelowX100, body.flagBelowX100],
    ];
    const statements: InStatement[] = values
      .filter((v): v is [string, number] => v[1] !== undefined)
      .map(([key, value]) => ({
        sql: `INSERT INTO unit_settings (unit_id, key, value, updated_at) VALUES (?, ?, ?, ?)
              ON CONFLICT (unit_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        args: [unit.id, key, String(value), now],
      }));
    await writeAudited(db, statements, [
      threeLinesAudit(principal, c.get("requestId"), "subsidy.settings", "unit", unit.path, unit.id, body),
    ]);
    return c.json(await subsidyAt(db, unit.path), 200);
  })
  .openapi(getSettings, async (c) => {
    const db = getDb(c.env);
    const unit = await unitInScope(db, principalOf(c), c.req.valid("param").id);
    return c.json(await subsidyAt(db, unit.path), 200);
  })
  .openapi(recordEvent, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const lead = await leadInScope(db, principal, c.req.valid("param").id);
    const month = periodOf(body.occurredAt);
    // A statement is read by `YYYY-MM`: an event outside those months, or yet to happen, could never be paid.
    if (Date.parse(body.occurredAt) > Date.now() + 5 * 60_000 || !PERIOD_PATTERN.test(month)) {
      throw problems.badRequest("An event is recorded once it has happened", [
        { path: "occurredAt", message: "in the future or not in a YYYY-MM month" },
      ]);
    }
    const amountFen = body.amountFen ?? (await subsidyAt(db, lead.unitPath)).eventFen;
    if (!isFen(amountFen))
      throw problems.badRequest("Amounts are integer fen", [{ path: "amountFen", message: "invalid" }]);
    const event = {
      id: crypto.randomUUID(),
      description: body.description,
      occurredAt: body.occurredAt,
      month,
      amountFen,
    };
    await writeAudited(
      db,
      [
        {
          sql: `INSERT INTO lead_subsidy_items (id, lead_id, unit_path, month, kind, ref_id, description, amount_fen, occurred_at, recorded_by, created_at)
                VALUES (?, ?, ?, ?, 'event', NULL, ?, ?, ?, ?, ?)`,
          args: [
            event.id,
            lead.id,
            lead.unitPath,
            event.month,
            event.description,
            amountFen,
            event.occurredAt,
            principal.userId,
            new Date().toISOString(),
          ],
        },
      ],
      [
        threeLinesAudit(
          principal,
          c.get("requestId"),
          "lead.event",
          "household_lead",
          lead.unitPath,
          lead.id,
          {
            eventId: event.id,
            amountFen,
          },
        ),
      ],
    );
    return c.json(event, 201);
  })
  .openapi(rate, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const lead = await leadInScope(db, principal, c.req.valid("param").id);
    const rs = await db.$client.execute({
      sql: `SELECT r.id FROM residents r JOIN contact_pairings p ON p.household_id = r.household_id
            WHERE r.id = ? AND p.contact_id = ? AND p.line = 'household_lead' AND p.ended_at IS NULL`,
      args: [body.residentId, lead.id],
    });
    if (!rs.rows[0]) {
      throw problems.badRequest("Only residents of the lead's households rate the lead", [
        { path: "residentId", message: "not a resident of the lead's households" },
      ]);
    }
    const now = new Date().toISOString();
    const rating = {
      id: crypto.randomUUID(),
      leadId: lead.id,
      residentId: body.residentId,
      period: body.period ?? periodOf(now),
      rating: body.rating,
      createdAt: now,
    };
    await writeOnce(
      db,
      [
        {
          sql: `INSERT INTO lead_ratings (id, lead_id, resident_id, period, rating, unit_path, recorded_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          args: [
            rating.id,
            lead.id,
            rating.residentId,
            rating.period,
            rating.rating,
            lead.unitPath,
            principal.userId,
            now,
          ],
        },
      ],
      [
        threeLinesAudit(
          principal,
          c.get("requestId"),
          "lead.rating",
          "household_lead",
          lead.unitPath,
          lead.id,
          {
            residentId: rating.residentId,
            period: rating.period,
            rating: rating.rating,
          },
        ),
      ],
      () => problems.conflict("already-rated", `This resident already rated the lead for ${rating.period}`),
    );
    return c.json(rating, 201);
  })
  .openapi(statement, async (c) => {
    const db = getDb(c.env);
    const lead = await leadInScope(db, principalOf(c), c.req.valid("param").id);
    return c.json(await buildStatement(db, lead, c.req.valid("query").month), 200);
  })
  .openapi(settle, async (c) => {
    const principal = principalOf(c);
    const { month } = c.req.valid("json");
    const db = getDb(c.env);
    const lead = await leadInScope(db, principal, c.req.valid("param").id);
    const current = await buildStatement(db, lead, month);
    const now = new Date().toISOString();
    const fresh = current.cases.filter((x) => !x.settled);
    if (fresh.length) {
      await writeAudited(
        db,
        fresh.map((x) => ({
          sql: `INSERT OR IGNORE INTO lead_subsidy_items (id, lead_id, unit_path, month, kind, ref_id, description, amount_fen, occurred_at, recorded_by, created_at)
                VALUES (?, ?, ?, ?, 'case', ?, ?, ?, ?, ?, ?)`,
          args: [
            crypto.randomUUID(),
            lead.id,
            lead.unitPath,
            month,
            x.caseId,
            x.title,
            x.amountFen,
            x.reportedAt,
            principal.userId,
            now,
          ],
        })),
        [
          threeLinesAudit(
            principal,
            c.get("requestId"),
            "lead.settle",
            "household_lead",
            lead.unitPath,
            lead.id,
            {
              month,
              cases: fresh.map((x) => x.caseId),
            },
          ),
        ],
      );
    }
    return c.json(await buildStatement(db, lead, month), 200);
  })
  .openapi(flag, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const lead = await leadInScope(db, principal, c.req.valid("param").id);
    const settings = await subsidyAt(db, lead.unitPath);
    const rs = await db.$client.execute({
      sql: "SELECT rating FROM lead_ratings WHERE lead_id = ? AND period = ?",
      args: [lead.id, body.period],
    });
    const average = averageX100(rs.rows.map((r) => Number(r.rating)));
    if (average === null || !shouldFlag(average, settings.flagBelowX100)) {
      throw problems.conflict(
        "not-below-threshold",
        average === null
          ? `The lead has no ratings for ${body.period}`
          : `The average rating ${ratingText(average)} is not below ${ratingText(settings.flagBelowX100)}`,
      );
    }
    const row = {
      leadId: lead.id,
      period: body.period,
      averageX100: average,
      reason:
        body.reason ?? `average rating ${ratingText(average)} below ${ratingText(settings.flagBelowX100)}`,
      flaggedAt: new Date().toISOString(),
    };
    await writeOnce(
      db,
      [
        {
          sql: `INSERT INTO lead_flags (id, lead_id, unit_path, period, average_rating_x100, reason, flagged_by, flagged_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          args: [
            crypto.randomUUID(),
            lead.id,
            lead.unitPath,
            row.period,
            average,
            row.reason,
            principal.userId,
            row.flaggedAt,
          ],
        },
      ],
      [
        threeLinesAudit(
          principal,
          c.get("requestId"),
          "lead.flag",
          "household_lead",
          lead.unitPath,
          lead.id,
          row,
        ),
      ],
      () => problems.conflict("already-flagged", "The lead is already flagged for adjustment"),
    );
    return c.json(row, 201);
  })
  .openapi(unflag, async (c) => {
    const principal = principalOf(c);
    const db = getDb(c.env);
    const lead = await leadInScope(db, principal, c.req.valid("param").id);
    try {
      await writeAudited(
        db,
        [
          {
            sql: "UPDATE lead_flags SET cleared_at = ? WHERE lead_id = ? AND cleared_at IS NULL",
            args: [new Date().toISOString(), lead.id],
          },
        ],
        [
          threeLinesAudit(
            principal,
            c.get("requestId"),
            "lead.unflag",
            "household_lead",
            lead.unitPath,
            lead.id,
            {},
          ),
        ],
        { mustChange: [0] },
      );
    } catch (error) {
      if (error instanceof GuardFailed) throw problems.notFound("flag");
      throw error;
    }
    return c.body(null, 204);
  })
  .openapi(listLeads, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const { flagged, limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, 1, ["string"]) as [string] | null;
    const db = getDb(c.env);
    const unit = await unitInScope(db, principal, id);
    const [lo, hi] = subtreeRange(unit.path);
    const filter =
      flagged === "true" ? "AND f.lead_id IS NOT NULL" : flagged === "false" ? "AND f.lead_id IS NULL" : "";
    // Flagged leads come from the flags' own path index; the rest from the users in the subtree.
    const rs = await db.$client.execute({
      sql: `SELECT u.id AS leadId, u.display_name AS displayName, u.unit_id AS unitId,
              (SELECT count(*) FROM contact_pairings p WHERE p.contact_id = u.id AND p.line = 'household_lead' AND p.ended_at IS NULL) AS households,
              f.lead_id AS flagLead, f.period, f.average_rating_x100 AS averageX100, f.reason, f.flagged_at AS flaggedAt
            FROM users u LEFT JOIN lead_flags f ON f.lead_id = u.id AND f.cleared_at IS NULL
            WHERE u.role = 'household_lead' AND u.unit_path >= ? AND u.unit_path < ? ${filter}
              AND (? IS NULL OR u.id > ?)
            ORDER BY u.id LIMIT ?`,
      args: [lo, hi, after?.[0] ?? null, after?.[0] ?? null, limit + 1],
    });
    return c.json(
      toPage(
        rs.rows as unknown as Row[],
        limit,
        (r) => ({
          leadId: String(r.leadId),
          displayName: String(r.displayName),
          unitId: String(r.unitId),
          households: Number(r.households),
          flag: r.flagLead === null ? null : flagView({ ...r, leadId: r.flagLead }),
        }),
        (r) => [String(r.leadId)],
      ),
      200,
    );
  });
