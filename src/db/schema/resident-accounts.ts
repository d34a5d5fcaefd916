import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * A resident's own account (群众 as a user): found by the keyed HMAC of their mobile number, which is stored
 * sealed and masked besides. Linked to a household (and to its resident record, when matched by ID number) by
 * the grid worker or by the resident's ID number; until then a resident may only report and follow reports.
 */
export const residentAccounts = sqliteTable(
  "resident_accounts",
  {
    id: text("id").primaryKey(),
    mobileHmac: text("mobile_hmac").notNull(),
    mobileEnc: text("mobile_enc").notNull(),
    mobileMasked: text("mobile_masked").notNull(),
    householdId: text("household_id"),
    residentId: text("resident_id"),
    /** `grid_worker:<user id>` or `id_number`. */
    linkedBy: text("linked_by"),
    linkedAt: text("linked_at"),
    disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
    sessionEpoch: integer("session_epoch").notNull().default(0),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("resident_accounts_mobile_uq").on(t.mobileHmac),
    index("resident_accounts_household_idx").on(t.householdId),
  ],
);

/** One-time sign-in codes: stored only as keyed hashes, valid 5 minutes, spent once. */
export const residentCodes = sqliteTable(
  "resident_codes",
  {
    id: text("id").primaryKey(),
    mobileHmac: text("mobile_hmac").notNull(),
    codeHash: text("code_hash").notNull(),
    ip: text("ip").notNull(),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at").notNull(),
    usedAt: text("used_at"),
  },
  (t) => [
    index("resident_codes_mobile_idx").on(t.mobileHmac, t.createdAt),
    index("resident_codes_ip_idx").on(t.ip, t.createdAt),
  ],
);

/** The local code sink: plain codes, written only when ENVIRONMENT is `development` or `test`. */
export const residentDevCodes = sqliteTable(
  "resident_dev_codes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    mobile: text("mobile").notNull(),
    code: text("code").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("resident_dev_codes_mobile_idx").on(t.mobile, t.id)],
);

/**
 * Cases that came in through a public channel (a resident's own app or an Open311 client): the public
 * service type, the Open311 token, where it lies, and whether the reporter made the description public.
 */
export const publicReports = sqliteTable(
  "public_reports",
  {
    caseId: text("case_id").primaryKey(),
    token: text("token").notNull(),
    /** `resident` or `open311:<app id>`. */
    channel: text("channel").notNull(),
    reporterId: text("reporter_id").notNull(),
    serviceCode: text("service_code").notNull(),
    title: text("title").notNull(),
    owningUnitId: text("owning_unit_id").notNull(),
    descriptionPublic: integer("description_public", { mode: "boolean" }).notNull().default(false),
    /** The description, kept here only when the reporter made it public (Open311 reads show it). */
    publicDescription: text("public_description"),
    lat: real("lat").notNull(),
    lng: real("lng").notNull(),
    address: text("address"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("public_reports_token_uq").on(t.token),
    index("public_reports_reporter_idx").on(t.reporterId, t.createdAt),
    index("public_reports_created_idx").on(t.createdAt, t.caseId),
  ],
);

/** Apps registered to post Open311 requests: the api_key only as its SHA-256, a per-minute allowance. */
export const open311Apps = sqliteTable(
  "open311_apps",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull(),
    perMinute: integer("per_minute").notNull().default(30),
    revokedAt: text("revoked_at"),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("open311_apps_key_uq").on(t.keyHash)],
);

/** Calls per app and UTC minute, for the per-app rate limit. */
export const open311AppCalls = sqliteTable(
  "open311_app_calls",
  {
    appId: text("app_id").notNull(),
    minute: text("minute").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.minute] })],
);

/**
 * Residents' ratings of the party members paired with their household, once per resident and year (the
 * rater is the resident record, or the account when linked without one). Read only in aggregate.
 */
export const partyMemberRatings = sqliteTable(
  "party_member_ratings",
  {
    id: text("id").primaryKey(),
    memberId: text("member_id").notNull(),
    raterKey: text("rater_key").notNull(),
    year: integer("year").notNull(),
    rating: integer("rating").notNull(),
    unitPath: text("unit_path").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("party_member_ratings_once_uq").on(t.memberId, t.raterKey, t.year)],
);

/**
 * Residents' refresh tokens, stored only as SHA-256 hashes; a family links every rotation of one sign-in, and
 * `session_epoch` is the account's epoch at sign-in (raising the account's revokes every older family).
 */
export const residentRefreshTokens = sqliteTable(
  "resident_refresh_tokens",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    familyId: text("family_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    sessionEpoch: integer("session_epoch").notNull(),
    expiresAt: text("expires_at").notNull(),
    createdAt: text("created_at").notNull(),
    rotatedAt: text("rotated_at"),
    revokedAt: text("revoked_at"),
  },
  (t) => [
    uniqueIndex("resident_refresh_tokens_hash_uq").on(t.tokenHash),
    index("resident_refresh_tokens_family_idx").on(t.familyId),
    index("resident_refresh_tokens_account_idx").on(t.accountId),
  ],
);
