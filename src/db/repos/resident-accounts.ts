import type { InStatement } from "@libsql/client/web";
import { and, desc, eq, gt, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import {
  cases,
  contactPairings,
  contactProfiles,
  households,
  leadRatings,
  partyMemberRatings,
  publicReports,
  residentAccounts,
  residentCodes,
  residentDevCodes,
  residentRefreshTokens,
  residents,
  units,
  users,
} from "../schema";

export type ResidentAccountRow = typeof residentAccounts.$inferSelect;
export type PublicReportRow = typeof publicReports.$inferSelect;

/** A resident account by its id or by its mobile number's HMAC. */
export async function findResidentAccount(
  db: Db,
  by: { id: string } | { mobileHmac: string },
): Promise<ResidentAccountRow | undefined> {
  const where = "id" in by ? eq(residentAccounts.id, by.id) : eq(residentAccounts.mobileHmac, by.mobileHmac);
  return db.select().from(residentAccounts).where(where).get();
}

/**
 * The statement that issues a code unless a sending limit is reached: one conditional INSERT … SELECT, so
 * that parallel requests cannot both pass a count read beforehand. Inserts nothing when refused.
 */
export function insertCodeWithinLimits(
  row: typeof residentCodes.$inferInsert,
  limits: ReadonlyArray<{ bucket: "mobile" | "ip"; since: string; max: number }>,
): InStatement {
  // Raw SQL: drizzle's insert builder has no INSERT … SELECT … WHERE with counted sub-selects.
  const checks = limits.map((l) =>
    l.bucket === "mobile"
      ? `(SELECT count(*) FROM resident_codes WHERE mobile_hmac = ? AND created_at > ?) < ${Number(l.max)}`
      : `(SELECT count(*) FROM resident_codes WHERE ip = ? AND created_at > ?) < ${Number(l.max)}`,
  );
  return {
    sql: `INSERT INTO resident_codes (id, mobile_hmac, code_hash, ip, created_at, expires_at)
          SELECT ?, ?, ?, ?, ?, ? WHERE ${checks.join(" AND ")}`,
    args: [
      row.id,
      row.mobileHmac,
      row.codeHash,
      row.ip,
      row.createdAt,
      row.expiresAt,
      ...limits.flatMap((l) => [l.bucket === "mobile" ? row.mobileHmac : row.ip, l.since]),
    ],
  };
}

/** Spends every earlier unspent code of a number: only the newest code is valid. */
export function retireCodes(db: Db, mobileHmac: string, at: string): InStatement {
  return stmt(
    db
      .update(residentCodes)
      .set({ usedAt: at })
      .where(and(eq(residentCodes.mobileHmac, mobileHmac), isNull(residentCodes.usedAt))),
  );
}

/** When codes were sent to a number and from an address since `since` (ms), for Retry-After. */
export async function codeSendTimes(db: Db, mobileHmac: string, ip: string, since: string) {
  const [mobile, fromIp] = await Promise.all([
    db
      .select({ at: residentCodes.createdAt })
      .from(residentCodes)
      .where(and(eq(residentCodes.mobileHmac, mobileHmac), gt(residentCodes.createdAt, since))),
    db
      .select({ at: residentCodes.createdAt })
      .from(residentCodes)
      .where(and(eq(residentCodes.ip, ip), gt(residentCodes.createdAt, since))),
  ]);
  return { mobile: mobile.map((r) => Date.parse(r.at)), ip: fromIp.map((r) => Date.parse(r.at)) };
}

/** The newest unspent, unexpired code of a number, or undefined. */
export async function liveCode(db: Db, mobileHmac: string, nowIso: string) {
  return db
    .select()
    .from(residentCodes)
    .where(
      and(
        eq(residentCodes.mobileHmac, mobileHmac),
        isNull(residentCodes.usedAt),
        gt(residentCodes.expiresAt, nowIso),
      ),
    )
    .orderBy(desc(residentCodes.createdAt))
    .limit(1)
    .get();
}

/** Spends one code, only if still unspent (guard it with `mustChange`). */
export function spendCode(db: Db, id: string, at: string): InStatement {
  return stmt(
    db
      .update(residentCodes)
      .set({ usedAt: at })
      .where(and(eq(residentCodes.id, id), isNull(residentCodes.usedAt))),
  );
}

/** Creates the account of a number on its first sign-in; a zero-row insert when it exists. */
export function insertAccountIfNew(db: Db, row: typeof residentAccounts.$inferInsert): InStatement {
  return stmt(db.insert(residentAccounts).values(row).onConflictDoNothing());
}

/** Writes a code into the local sink (development and tests only; the caller checks the environment). */
export async function sinkDevCode(db: Db, mobile: string, code: string, at: string): Promise<void> {
  await db.insert(residentDevCodes).values({ mobile, code, createdAt: at });
}

/** The newest codes the local sink holds for a number. */
export async function devCodes(db: Db, mobile: string, limit = 5) {
  return db
    .select({ code: residentDevCodes.code, createdAt: residentDevCodes.createdAt })
    .from(residentDevCodes)
    .where(eq(residentDevCodes.mobile, mobile))
    .orderBy(desc(residentDevCodes.id))
    .limit(limit);
}

/** Links an account to a household (and, matched by ID number, to its resident record). */
export function linkAccount(
  db: Db,
  accountId: string,
  link: { householdId: string; residentId: string | null; linkedBy: string; linkedAt: string },
): InStatement {
  return stmt(db.update(residentAccounts).set(link).where(eq(residentAccounts.id, accountId)));
}

/** The household of an ID-number HMAC, through its resident record. */
export async function residentByIdHmac(db: Db, hmac: string) {
  return db
    .select({ id: residents.id, householdId: residents.householdId, unitPath: residents.unitPath })
    .from(residents)
    .where(eq(residents.idNumberHmac, hmac))
    .get();
}

/** A household with its grid, for linking and for the resident's view. */
export async function householdWithGrid(db: Db, householdId: string) {
  return db
    .select({
      id: households.id,
      address: households.address,
      unitId: households.unitId,
      unitPath: households.unitPath,
      unitName: units.name,
      unitLevel: units.level,
      memberCount: households.memberCount,
    })
    .from(households)
    .innerJoin(units, eq(units.id, households.unitId))
    .where(eq(households.id, householdId))
    .get();
}

/** A household's members as a resident of it may see them: names and relationship only. */
export async function householdMembers(db: Db, householdId: string) {
  // Members registered together share created_at: the head first, then the order they were added.
  return db
    .select({ name: residents.name, relationship: residents.relationship, birthYear: residents.birthYear })
    .from(residents)
    .where(eq(residents.householdId, householdId))
    .orderBy(sql`${residents.relationship} <> 'head'`, residents.createdAt, residents.id);
}

/**
 * The grid of the registered household nearest to a point, within a bounding box of about `radiusMetres`:
 * where a matter reported at that point is handled. Null when no household is near.
 */
export async function nearestHouseholdGrid(db: Db, at: { lat: number; lng: number }, radiusMetres: number) {
  const dLat = radiusMetres / 111_000;
  const dLng = radiusMetres / (111_000 * Math.max(0.1, Math.cos((at.lat * Math.PI) / 180)));
  const d2 = sql<number>`(${households.latitude} - ${at.lat}) * (${households.latitude} - ${at.lat}) + (${households.longitude} - ${at.lng}) * (${households.longitude} - ${at.lng})`;
  return db
    .select({
      lat: households.latitude,
      lng: households.longitude,
      unitId: households.unitId,
      unitPath: units.path,
      unitLevel: units.level,
    })
    .from(households)
    .innerJoin(units, eq(units.id, households.unitId))
    .where(
      and(
        sql`${households.latitude} BETWEEN ${at.lat - dLat} AND ${at.lat + dLat}`,
        sql`${households.longitude} BETWEEN ${at.lng - dLng} AND ${at.lng + dLng}`,
      ),
    )
    .orderBy(d2)
    .limit(1)
    .get();
}

/** Records a case that came in through a public channel; a replay inserts nothing. */
export function insertPublicReport(db: Db, row: typeof publicReports.$inferInsert): InStatement {
  return stmt(db.insert(publicReports).values(row).onConflictDoNothing());
}

/** A public report by case id or by Open311 token. */
export async function findPublicReport(db: Db, by: { caseId: string } | { token: string }) {
  const where = "caseId" in by ? eq(publicReports.caseId, by.caseId) : eq(publicReports.token, by.token);
  return db.select().from(publicReports).where(where).get();
}

const publicColumns = {
  report: publicReports,
  state: cases.state,
  description: publicReports.publicDescription,
  updatedAt: cases.updatedAt,
  doc: cases.doc,
};

/** A reporter's own public reports, newest first, keyset-paged by (createdAt, caseId). */
export async function reportsOf(db: Db, reporterId: string, limit: number, after: [string, string] | null) {
  return db
    .select(publicColumns)
    .from(publicReports)
    .leftJoin(cases, eq(cases.id, publicReports.caseId))
    .where(
      and(
        eq(publicReports.reporterId, reporterId),
        after
          ? or(
              lt(publicReports.createdAt, after[0]),
              and(eq(publicReports.createdAt, after[0]), lt(publicReports.caseId, after[1])),
            )
          : undefined,
      ),
    )
    .orderBy(desc(publicReports.createdAt), desc(publicReports.caseId))
    .limit(limit + 1);
}

/** Public reports for Open311 lists, newest first, with the spec's filters. */
export async function searchPublicReports(
  db: Db,
  filter: {
    ids?: string[];
    serviceCodes?: string[];
    start?: string;
    end?: string;
    states?: string[];
    limit: number;
    offset: number;
  },
) {
  return db
    .select(publicColumns)
    .from(publicReports)
    .leftJoin(cases, eq(cases.id, publicReports.caseId))
    .where(
      and(
        filter.ids ? inArray(publicReports.caseId, filter.ids) : undefined,
        filter.serviceCodes ? inArray(publicReports.serviceCode, filter.serviceCodes) : undefined,
        filter.start ? sql`${publicReports.createdAt} >= ${filter.start}` : undefined,
        filter.end ? sql`${publicReports.createdAt} <= ${filter.end}` : undefined,
        // A report not yet projected is still `reported`, so open.
        filter.states
          ? sql`coalesce(${cases.state}, 'reported') IN (SELECT value FROM json_each(${JSON.stringify(filter.states)}))`
          : undefined,
      ),
    )
    .orderBy(desc(publicReports.createdAt), desc(publicReports.caseId))
    .limit(filter.limit)
    .offset(filter.offset);
}

/** The household lead and party members paired with a household now, with their names. */
export async function pairedContacts(db: Db, householdId: string) {
  return db
    .select({
      contactId: contactPairings.contactId,
      line: contactPairings.line,
      unitPath: contactPairings.unitPath,
      name: users.displayName,
    })
    .from(contactPairings)
    .innerJoin(users, eq(users.id, contactPairings.contactId))
    .where(
      and(
        eq(contactPairings.householdId, householdId),
        inArray(contactPairings.line, ["household_lead", "party_member"]),
        isNull(contactPairings.endedAt),
      ),
    )
    .orderBy(contactPairings.line, contactPairings.since);
}

/** A party member's rating by a resident; a second one in the year inserts nothing. */
export function insertMemberRating(db: Db, row: typeof partyMemberRatings.$inferInsert): InStatement {
  return stmt(db.insert(partyMemberRatings).values(row).onConflictDoNothing());
}

/** The ratings a party member received from residents in a year. */
export async function memberRatingsOf(db: Db, memberId: string, year: number): Promise<number[]> {
  const rows = await db
    .select({ rating: partyMemberRatings.rating })
    .from(partyMemberRatings)
    .where(and(eq(partyMemberRatings.memberId, memberId), eq(partyMemberRatings.year, year)));
  return rows.map((r) => r.rating);
}

/** Which of `contactIds` a rater already rated: leads in `month`, members in `year`. */
export async function ratedContacts(
  db: Db,
  raterKey: string,
  month: string,
  year: number,
): Promise<Set<string>> {
  const [leads, members] = await Promise.all([
    db
      .select({ id: leadRatings.leadId })
      .from(leadRatings)
      .where(and(eq(leadRatings.residentId, raterKey), eq(leadRatings.period, month))),
    db
      .select({ id: partyMemberRatings.memberId })
      .from(partyMemberRatings)
      .where(and(eq(partyMemberRatings.raterKey, raterKey), eq(partyMemberRatings.year, year))),
  ]);
  return new Set([...leads, ...members].map((r) => r.id));
}

/** A party member's profile unit path, for the reviewers' scope. */
export async function memberPath(db: Db, memberId: string) {
  return db
    .select({ unitPath: contactProfiles.unitPath })
    .from(contactProfiles)
    .where(and(eq(contactProfiles.userId, memberId), eq(contactProfiles.line, "party_member")))
    .get();
}

export type ResidentRefreshTokenRow = typeof residentRefreshTokens.$inferSelect;

/** The INSERT of a newly issued resident refresh token. */
export function insertResidentRefreshToken(
  db: Db,
  row: Omit<ResidentRefreshTokenRow, "rotatedAt" | "revokedAt">,
): InStatement {
  return stmt(db.insert(residentRefreshTokens).values(row));
}

/** A resident refresh token by its hash. */
export async function findResidentRefreshToken(
  db: Db,
  tokenHash: string,
): Promise<ResidentRefreshTokenRow | undefined> {
  return db.select().from(residentRefreshTokens).where(eq(residentRefreshTokens.tokenHash, tokenHash)).get();
}

/** Spends a resident refresh token, only if still unspent and unrevoked (guard it with `mustChange`). */
export function spendResidentRefreshToken(db: Db, id: string, at: string): InStatement {
  return stmt(
    db
      .update(residentRefreshTokens)
      .set({ rotatedAt: at })
      .where(
        and(
          eq(residentRefreshTokens.id, id),
          isNull(residentRefreshTokens.rotatedAt),
          isNull(residentRefreshTokens.revokedAt),
        ),
      ),
  );
}

/** The UPDATE revoking every live token of one resident sign-in (a family). */
export function revokeResidentFamily(db: Db, familyId: string, at: string): InStatement {
  return stmt(
    db
      .update(residentRefreshTokens)
      .set({ revokedAt: at })
      .where(and(eq(residentRefreshTokens.familyId, familyId), isNull(residentRefreshTokens.revokedAt))),
  );
}
