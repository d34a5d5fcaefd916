import { settingsOnPath, type UserPlace } from "../db/repos/contacts";
import {
  clearFlag,
  insertFlag,
  insertRating,
  insertSubsidyItem,
  isLeadsResident,
  type LeadSummaryRow,
  leadsOf,
  type RatingRow,
  ratingsOf,
  statementRows,
  upsertSetting,
} from "../db/repos/household-leads";
import {
  averageX100,
  countCases,
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
} from "../domain/subsidy";
import { subtreeRange } from "../domain/units";
import type { Principal } from "../env";
import { GuardFailed, writeAudited } from "../platform/db/audit";
import { type Db, getDb } from "../platform/db/client";
import { problems } from "../platform/http/problem";
import { auditBy, type Caller, unitInScope } from "./caller";
import { roleUserInScope } from "./three-lines";

const KEYS = Object.values(SUBSIDY_KEYS);

async function subsidyAt(db: Db, unitPath: string): Promise<SubsidySettings> {
  return resolveSubsidy(await settingsOnPath(db, unitPath, KEYS));
}

/** A household lead in the caller's subtree; 404 otherwise, and for a lead asking about another lead. */
async function leadInScope(env: Cloudflare.Env, p: Principal, leadId: string): Promise<UserPlace> {
  if (p.role === "household_lead" && p.userId !== leadId) throw problems.notFound("household lead");
  return roleUserInScope(env, p, leadId, "household_lead", "household lead");
}

const leadAudit = (caller: Caller, action: string, lead: UserPlace, detail: Record<string, unknown>) =>
  auditBy(caller, action, { type: "household_lead", id: lead.id, scopePath: lead.unitPath }, detail);

/** The subsidy settings in force at a unit of the caller's subtree (its own or inherited, else defaults). */
export async function settingsOf(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
): Promise<SubsidySettings> {
  const unit = await unitInScope(env, caller.principal, unitId);
  return subsidyAt(getDb(env), unit.path);
}

/** Sets a unit's subsidy amounts; returns the settings now in force there. Audited. */
export async function setSettings(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  body: Partial<SubsidySettings>,
): Promise<SubsidySettings> {
  const unit = await unitInScope(env, caller.principal, unitId);
  const db = getDb(env);
  const now = new Date().toISOString();
  const statements = (Object.keys(SUBSIDY_KEYS) as Array<keyof SubsidySettings>).flatMap((field) => {
    const value = body[field];
    return value === undefined ? [] : [upsertSetting(db, unit.id, SUBSIDY_KEYS[field], String(value), now)];
  });
  await writeAudited(db, statements, [
    auditBy(caller, "subsidy.settings", { type: "unit", id: unit.id, scopePath: unit.path }, body),
  ]);
  return subsidyAt(db, unit.path);
}

/** A subsidy event as the API returns it. */
export interface LeadEvent {
  id: string;
  description: string;
  occurredAt: string;
  month: string;
  amountFen: number;
}

/**
 * Records an event a lead is rewarded for (以事奖补), once it has happened, at the amount given or the one in
 * force for the lead. Audited.
 */
export async function recordEvent(
  env: Cloudflare.Env,
  caller: Caller,
  leadId: string,
  body: { description: string; occurredAt: string; amountFen?: number },
): Promise<LeadEvent> {
  const lead = await leadInScope(env, caller.principal, leadId);
  const month = periodOf(body.occurredAt);
  // A statement is read by `YYYY-MM`: an event outside those months, or yet to happen, could never be paid.
  if (Date.parse(body.occurredAt) > Date.now() + 5 * 60_000 || !PERIOD_PATTERN.test(month)) {
    throw problems.badRequest("An event is recorded once it has happened", [
      { path: "occurredAt", message: "in the future or not in a YYYY-MM month" },
    ]);
  }
  const db = getDb(env);
  const amountFen = body.amountFen ?? (await subsidyAt(db, lead.unitPath)).eventFen;
  if (!isFen(amountFen)) {
    throw problems.badRequest("Amounts are integer fen", [{ path: "amountFen", message: "invalid" }]);
  }
  const event: LeadEvent = {
    id: crypto.randomUUID(),
    description: body.description,
    occurredAt: body.occurredAt,
    month,
    amountFen,
  };
  await writeAudited(
    db,
    [
      insertSubsidyItem(db, {
        ...event,
        leadId: lead.id,
        unitPath: lead.unitPath,
        kind: "event",
        refId: null,
        recordedBy: caller.principal.userId,
        createdAt: new Date().toISOString(),
      }),
    ],
    [leadAudit(caller, "lead.event", lead, { eventId: event.id, amountFen })],
  );
  return event;
}

/**
 * Records a resident's rating of their household lead (群众评议): the resident lives in one of the lead's
 * households (400 otherwise); once per resident and period (409). Audited.
 */
export async function rate(
  env: Cloudflare.Env,
  caller: Caller,
  leadId: string,
  body: { residentId: string; rating: number; period?: string },
): Promise<Omit<RatingRow, "unitPath" | "recordedBy">> {
  const lead = await leadInScope(env, caller.principal, leadId);
  const db = getDb(env);
  if (!(await isLeadsResident(db, lead.id, body.residentId))) {
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
  try {
    await writeAudited(
      db,
      [insertRating(db, { ...rating, unitPath: lead.unitPath, recordedBy: caller.principal.userId })],
      [
        leadAudit(caller, "lead.rating", lead, {
          residentId: rating.residentId,
          period: rating.period,
          rating: rating.rating,
        }),
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    // The insert does nothing when the resident already rated the lead for the period.
    if (error instanceof GuardFailed) {
      throw problems.conflict("already-rated", `This resident already rated the lead for ${rating.period}`);
    }
    throw error;
  }
  return rating;
}

/** A counted case of a lead's statement. */
export interface StatementCase {
  caseId: string;
  title: string;
  state: string;
  reportedAt: string;
  acceptedAt: string | null;
  amountFen: number;
  settled: boolean;
}

/**
 * A lead's month: cases paid (以案定补: accepted in the month, not rejected, merged or withdrawn, up to the
 * unit's monthly cap) and the month's other cases with the reason they are not, events, amounts (integer
 * fen), ratings and the open flag.
 */
async function buildStatement(db: Db, lead: UserPlace, month: string) {
  const settings = await subsidyAt(db, lead.unitPath);
  const { handled, items, ratings, openFlag } = await statementRows(
    db,
    lead,
    month,
    subtreeRange(lead.unitPath),
    monthBounds(month),
  );
  const settledCases = new Map(items.filter((r) => r.kind === "case").map((r) => [r.refId, r]));
  const weighed = countCases(
    handled.map((r) => {
      const settled = settledCases.get(r.id);
      settledCases.delete(r.id);
      return { ...r, settledFen: settled ? settled.amountFen : null };
    }),
    month,
    settings.caseFen,
    settings.caseCapFen,
  );
  const cases: StatementCase[] = weighed.counted.map((c) => ({
    caseId: c.id,
    title: c.title,
    state: c.state,
    reportedAt: c.reportedAt,
    acceptedAt: c.acceptedAt,
    amountFen: c.amountFen,
    settled: c.settledFen !== null,
  }));
  // A settled case stays paid even if the projection no longer lists it for the month.
  for (const s of settledCases.values()) {
    cases.push({
      caseId: s.refId ?? s.id,
      title: s.description,
      state: "unknown",
      reportedAt: s.occurredAt,
      acceptedAt: null,
      amountFen: s.amountFen,
      settled: true,
    });
  }
  const uncountedCases = weighed.uncounted.map((c) => ({
    caseId: c.id,
    title: c.title,
    state: c.state,
    reportedAt: c.reportedAt,
    acceptedAt: c.acceptedAt,
    reason: c.reason,
  }));
  const events: LeadEvent[] = items
    .filter((r) => r.kind === "event")
    .map(({ id, description, occurredAt, month, amountFen }) => ({
      id,
      description,
      occurredAt,
      month,
      amountFen,
    }));
  const totals = statementTotals([
    ...cases.map((x) => ({ kind: "case" as const, amountFen: x.amountFen })),
    ...events.map((x) => ({ kind: "event" as const, amountFen: x.amountFen })),
  ]);
  const average = averageX100(ratings);
  return {
    leadId: lead.id,
    month,
    settings,
    cases,
    uncountedCases,
    events,
    totals: { ...totals, totalYuan: yuanText(totals.totalFen) },
    rating: { count: ratings.length, averageX100: average, average: ratingText(average) },
    belowThreshold: shouldFlag(average, settings.flagBelowX100),
    flag: openFlag
      ? { period: openFlag.period, averageX100: openFlag.averageRating, flaggedAt: openFlag.flaggedAt }
      : null,
  };
}

/** A lead's month statement; a lead reads only their own. */
export async function statement(env: Cloudflare.Env, caller: Caller, leadId: string, month: string) {
  const lead = await leadInScope(env, caller.principal, leadId);
  return buildStatement(getDb(env), lead, month);
}

/**
 * Fixes the month's case amounts at the setting in force now. Idempotent: settled cases keep their amount,
 * later cases of the month are added. Returns the statement after settling. Audited.
 */
export async function settle(env: Cloudflare.Env, caller: Caller, leadId: string, month: string) {
  const lead = await leadInScope(env, caller.principal, leadId);
  const db = getDb(env);
  const current = await buildStatement(db, lead, month);
  const fresh = current.cases.filter((x) => !x.settled);
  if (!fresh.length) return current;
  const now = new Date().toISOString();
  await writeAudited(
    db,
    fresh.map((x) =>
      insertSubsidyItem(db, {
        id: crypto.randomUUID(),
        leadId: lead.id,
        unitPath: lead.unitPath,
        month,
        kind: "case",
        refId: x.caseId,
        description: x.title,
        amountFen: x.amountFen,
        occurredAt: x.acceptedAt ?? x.reportedAt,
        recordedBy: caller.principal.userId,
        createdAt: now,
      }),
    ),
    [leadAudit(caller, "lead.settle", lead, { month, cases: fresh.map((x) => x.caseId) })],
  );
  return buildStatement(db, lead, month);
}

/** A lead's flag for adjustment as the API returns it. */
export type LeadFlag = {
  leadId: string;
  period: string;
  averageX100: number;
  reason: string;
  flaggedAt: string;
};

/**
 * Flags a lead for adjustment (动态调整) when the period's average rating is below the threshold in force;
 * 409 when it has no ratings, is not below, or the lead is already flagged. Audited.
 */
export async function flag(
  env: Cloudflare.Env,
  caller: Caller,
  leadId: string,
  body: { period: string; reason?: string },
): Promise<LeadFlag> {
  const lead = await leadInScope(env, caller.principal, leadId);
  const db = getDb(env);
  const settings = await subsidyAt(db, lead.unitPath);
  const average = averageX100(await ratingsOf(db, lead.id, body.period));
  if (average === null || !shouldFlag(average, settings.flagBelowX100)) {
    throw problems.conflict(
      "not-below-threshold",
      average === null
        ? `The lead has no ratings for ${body.period}`
        : `The average rating ${ratingText(average)} is not below ${ratingText(settings.flagBelowX100)}`,
    );
  }
  const row: LeadFlag = {
    leadId: lead.id,
    period: body.period,
    averageX100: average,
    reason:
      body.reason ?? `average rating ${ratingText(average)} below ${ratingText(settings.flagBelowX100)}`,
    flaggedAt: new Date().toISOString(),
  };
  try {
    await writeAudited(
      db,
      [
        insertFlag(db, {
          id: crypto.randomUUID(),
          leadId: lead.id,
          unitPath: lead.unitPath,
          period: row.period,
          averageRating: average,
          reason: row.reason,
          flaggedBy: caller.principal.userId,
          flaggedAt: row.flaggedAt,
        }),
      ],
      [leadAudit(caller, "lead.flag", lead, row)],
      { mustChange: [0] },
    );
  } catch (error) {
    // The insert does nothing when the lead already has an open flag.
    if (error instanceof GuardFailed) {
      throw problems.conflict("already-flagged", "The lead is already flagged for adjustment");
    }
    throw error;
  }
  return row;
}

/** Clears a lead's open flag; 404 when there is none. Audited. */
export async function unflag(env: Cloudflare.Env, caller: Caller, leadId: string): Promise<void> {
  const lead = await leadInScope(env, caller.principal, leadId);
  const db = getDb(env);
  try {
    await writeAudited(
      db,
      [clearFlag(db, lead.id, new Date().toISOString())],
      [leadAudit(caller, "lead.unflag", lead, {})],
      {
        mustChange: [0],
      },
    );
  } catch (error) {
    if (error instanceof GuardFailed) throw problems.notFound("flag");
    throw error;
  }
}

/** A page of the household leads of a unit's subtree, by id; `flagged` filters by an open flag. */
export async function listLeads(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  options: { flagged?: boolean; afterId: string | null; limit: number },
): Promise<LeadSummaryRow[]> {
  const unit = await unitInScope(env, caller.principal, unitId);
  return leadsOf(getDb(env), subtreeRange(unit.path), options);
}
