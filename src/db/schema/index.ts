import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The administrative tree: city → county → town → village (level-1 grid) → grid (level 2, level 3).
 * `path` is the materialized path of ids (`/cityId/countyId/…/thisId/`); scope checks are prefix tests on it.
 */
export const units = sqliteTable(
  "units",
  {
    id: text("id").primaryKey(),
    code: text("code").notNull(),
    name: text("name").notNull(),
    parentId: text("parent_id"),
    path: text("path").notNull(),
    level: text("level", { enum: ["city", "county", "town", "village", "grid"] }).notNull(),
    gridLevel: integer("grid_level"),
    depth: integer("depth").notNull(),
    version: integer("version").notNull().default(1),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("units_code_uq").on(t.code),
    index("units_parent_idx").on(t.parentId, t.code),
    index("units_path_idx").on(t.path),
    index("units_level_idx").on(t.level, t.path),
  ],
);

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    username: text("username").notNull(),
    displayName: text("display_name").notNull(),
    role: text("role").notNull(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    phone: text("phone"),
    passwordHash: text("password_hash").notNull(),
    disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
    version: integer("version").notNull().default(1),
    /** Raised when the user's sessions are revoked; access tokens of a lower epoch lose writes and reveals. */
    sessionEpoch: integer("session_epoch").notNull().default(0),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    /** When `disabled` or `session_epoch` last changed (database clock, epoch ms): set by a trigger only. */
    sessionChangedAt: integer("session_changed_at").notNull().default(0),
  },
  (t) => [
    uniqueIndex("users_username_uq").on(t.username),
    index("users_unit_idx").on(t.unitId),
    index("users_path_idx").on(t.unitPath),
    index("users_session_changed_idx").on(t.sessionChangedAt),
  ],
);

/** Refresh tokens are stored only as SHA-256 hashes; a family links every rotation of one login. */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    familyId: text("family_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    expiresAt: text("expires_at").notNull(),
    createdAt: text("created_at").notNull(),
    rotatedAt: text("rotated_at"),
    revokedAt: text("revoked_at"),
    /** The login's authentication methods, space-separated (`pwd`, `pwd otp`), kept across rotations. */
    amr: text("amr").notNull().default("pwd"),
  },
  (t) => [
    uniqueIndex("refresh_tokens_hash_uq").on(t.tokenHash),
    index("refresh_tokens_family_idx").on(t.familyId),
  ],
);

/** Failed logins per username, for throttling. */
export const loginFailures = sqliteTable(
  "login_failures",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    username: text("username").notNull(),
    at: text("at").notNull(),
    /** The client IP (`cf-connecting-ip`), or `unknown`. */
    ip: text("ip").notNull().default("unknown"),
    kind: text("kind", { enum: ["password", "second_factor"] })
      .notNull()
      .default("password"),
  },
  (t) => [
    index("login_failures_user_idx").on(t.username, t.at),
    index("login_failures_pair_idx").on(t.username, t.kind, t.ip, t.at),
    index("login_failures_ip_idx").on(t.ip, t.at),
  ],
);

/** A user's TOTP factor (RFC 6238): the secret sealed with PII_KEY, and the last accepted time step. */
export const userSecondFactors = sqliteTable("user_second_factors", {
  userId: text("user_id").primaryKey(),
  secretEnc: text("secret_enc").notNull(),
  confirmedAt: text("confirmed_at"),
  lastUsedStep: integer("last_used_step"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/** Single-use recovery codes of a second factor, stored as SHA-256 hashes. */
export const recoveryCodes = sqliteTable(
  "recovery_codes",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    codeHash: text("code_hash").notNull(),
    usedAt: text("used_at"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("recovery_codes_hash_uq").on(t.userId, t.codeHash)],
);

/** The challenge a correct password earns a user with a second factor: stored as its hash, spent once. */
export const loginChallenges = sqliteTable(
  "login_challenges",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    challengeHash: text("challenge_hash").notNull(),
    ip: text("ip").notNull(),
    expiresAt: text("expires_at").notNull(),
    usedAt: text("used_at"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("login_challenges_hash_uq").on(t.challengeHash)],
);

/**
 * Append-only audit log. Rows up to `auditChainGenesis.legacyThrough`: `hash` = SHA-256(prevHash + canonical
 * content). Later rows: `hash` = HMAC-SHA-256 under AUDIT_KEY of the content, `prevHash` = ''; they are
 * linked in `auditChain` after the fact (src/platform/db/audit.ts).
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    at: text("at").notNull(),
    actorId: text("actor_id"),
    actorRole: text("actor_role"),
    scopePath: text("scope_path").notNull(),
    action: text("action").notNull(),
    objectType: text("object_type").notNull(),
    objectId: text("object_id"),
    outcome: text("outcome").notNull(),
    requestId: text("request_id"),
    purpose: text("purpose"),
    detail: text("detail"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    uniqueIndex("audit_log_id_uq").on(t.id),
    index("audit_log_scope_idx").on(t.scopePath, t.seq),
    index("audit_log_object_idx").on(t.objectType, t.objectId),
  ],
);

/** Where the keyed chain starts: the last plain SHA-256 row and its hash (one row, written by migration 0530). */
export const auditChainGenesis = sqliteTable("audit_chain_genesis", {
  id: integer("id").primaryKey(),
  legacyThrough: integer("legacy_through").notNull(),
  legacyHead: text("legacy_head").notNull(),
  createdAt: text("created_at").notNull(),
});

/** The keyed links of audit rows, appended by the audit anchor: `mac` = HMAC(prev mac, seq, row hash). */
export const auditChain = sqliteTable("audit_chain", {
  seq: integer("seq").primaryKey(),
  mac: text("mac").notNull(),
  chainedAt: text("chained_at").notNull(),
});

/** Never holds a row: a guarded write inserts 0 here to abort its batch on the CHECK (see `writeAudited`). */
export const auditWriteGuard = sqliteTable("audit_write_guard", {
  changed: integer("changed").notNull(),
});

/** Settings inherited down the unit tree (a key set on a unit applies to its whole subtree). */
export const unitSettings = sqliteTable(
  "unit_settings",
  {
    unitId: text("unit_id").notNull(),
    key: text("key").notNull(),
    value: text("value").notNull(),
    updatedAt: text("updated_at").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
  },
  (t) => [uniqueIndex("unit_settings_uq").on(t.unitId, t.key)],
);

export * from "./cases";
export * from "./deliberation";
export * from "./directives";
export * from "./emergency";
export * from "./escalation";
export * from "./figures";
export * from "./households";
export * from "./projection";
export * from "./resident-accounts";
export * from "./three-lines";
