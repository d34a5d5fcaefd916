import { readMeta, writeMeta } from "./meta";

/**
 * The GridDesk's SQLite schema, as an ordered list of migrations. A desk stores the version it reached in
 * `meta` (`schema_version`; the Durable Object SQL API refuses `PRAGMA user_version`) and, when it starts,
 * applies every later migration in order, each in its own transaction with its version bump. Desks deployed
 * before the schema was versioned hold the tables of migration 1 and no version: migration 1 only creates
 * what is missing, so they simply move on to version 1 and beyond. Append new migrations; never edit one
 * that has shipped.
 */

/** One step of the desk's schema. */
export interface DeskMigration {
  version: number;
  /** What the step adds, for the log line. */
  description: string;
  statements: readonly string[];
}

export const DESK_MIGRATIONS: readonly DeskMigration[] = [
  {
    version: 1,
    description: "cases, their events, the outbox, meta and the deadline index",
    statements: [
      `CREATE TABLE IF NOT EXISTS cases (
         id TEXT PRIMARY KEY,
         state TEXT NOT NULL,
         version INTEGER NOT NULL,
         created_at TEXT NOT NULL,
         updated_at TEXT NOT NULL,
         request_hash TEXT NOT NULL,
         first TEXT NOT NULL, -- the first result {record, duplicates}, which replays return
         doc TEXT NOT NULL)`,
      "CREATE INDEX IF NOT EXISTS cases_created_idx ON cases (created_at, id)",
      "CREATE INDEX IF NOT EXISTS cases_state_idx ON cases (state, created_at, id)",
      `CREATE TABLE IF NOT EXISTS events (
         case_id TEXT NOT NULL,
         seq INTEGER NOT NULL,
         type TEXT NOT NULL,
         at TEXT NOT NULL,
         actor TEXT NOT NULL,
         payload TEXT NOT NULL,
         PRIMARY KEY (case_id, seq)) WITHOUT ROWID`,
      `CREATE TABLE IF NOT EXISTS outbox (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         queue TEXT NOT NULL,
         body TEXT NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0)`,
      "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
      // The next deadline step of every case with a running clock; the alarm is the earliest of these.
      `CREATE TABLE IF NOT EXISTS deadlines (
         case_id TEXT PRIMARY KEY,
         next_at INTEGER NOT NULL)`,
      "CREATE INDEX IF NOT EXISTS deadlines_next_idx ON deadlines (next_at)",
    ],
  },
  {
    version: 2,
    description: "dead_outbox: outbox rows set aside because they can never be sent",
    statements: [
      `CREATE TABLE IF NOT EXISTS dead_outbox (
         id INTEGER PRIMARY KEY, -- the outbox row's id
         queue TEXT NOT NULL,
         body TEXT NOT NULL,
         bytes INTEGER NOT NULL,
         reason TEXT NOT NULL,
         at TEXT NOT NULL)`,
    ],
  },
  {
    version: 3,
    description: "desk sequence (dseq) on events; case-event outbox rows kept until the projection confirms",
    statements: [
      // A desk-wide, gap-free event counter, starting with the first event after this migration (earlier
      // events keep NULL: their messages were already handed to the queue the old way).
      "ALTER TABLE events ADD COLUMN dseq INTEGER",
      "CREATE UNIQUE INDEX IF NOT EXISTS events_dseq_idx ON events (dseq) WHERE dseq IS NOT NULL",
      // A case-event row is marked sent (not deleted) when the queue accepts it, and deleted once the
      // projection confirms its dseq; `resend_at` is when the reconciler sends it again if no confirmation came.
      "ALTER TABLE outbox ADD COLUMN dseq INTEGER",
      "ALTER TABLE outbox ADD COLUMN sent_at INTEGER",
      "ALTER TABLE outbox ADD COLUMN resend_at INTEGER",
      "ALTER TABLE outbox ADD COLUMN resends INTEGER NOT NULL DEFAULT 0",
      "CREATE INDEX IF NOT EXISTS outbox_dseq_idx ON outbox (dseq) WHERE dseq IS NOT NULL",
      "CREATE INDEX IF NOT EXISTS outbox_resend_idx ON outbox (resend_at) WHERE sent_at IS NOT NULL",
    ],
  },
  {
    version: 4,
    description: "type and position columns for duplicate hints, village-wide hints and their pending jobs",
    statements: [
      // The desk finds possible duplicates among its own cases on create, by type and a lat/lng box.
      "ALTER TABLE cases ADD COLUMN type TEXT",
      "ALTER TABLE cases ADD COLUMN lat REAL",
      "ALTER TABLE cases ADD COLUMN lng REAL",
      `UPDATE cases SET type = json_extract(doc, '$.type'), lat = json_extract(doc, '$.location.lat'),
         lng = json_extract(doc, '$.location.lng')`,
      "CREATE INDEX IF NOT EXISTS cases_near_idx ON cases (type, lat) WHERE lat IS NOT NULL",
      // Hints from the whole village (the projection), computed after the create, outside its transaction.
      `CREATE TABLE IF NOT EXISTS village_hints (
         case_id TEXT PRIMARY KEY,
         hints TEXT NOT NULL,
         at TEXT NOT NULL)`,
      "CREATE TABLE IF NOT EXISTS hint_jobs (case_id TEXT PRIMARY KEY)",
    ],
  },
];

/** The version a desk reaches once every migration is applied. */
export const DESK_SCHEMA_VERSION = DESK_MIGRATIONS[DESK_MIGRATIONS.length - 1]!.version;

/** The schema version a desk's storage is at (0 for a new desk, or one from before versioning). */
export function deskSchemaVersion(sql: SqlStorage): number {
  const table = sql
    .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
    .toArray().length;
  if (!table) return 0;
  return Number(readMeta(sql, "schema_version") ?? 0);
}

/**
 * Applies, in order, every migration above the stored version and up to `upTo`, each with its version bump
 * in one transaction. Returns the version reached. Run it under `blockConcurrencyWhile` when the desk starts.
 *
 * @example
 * ctx.blockConcurrencyWhile(async () => migrateDesk(ctx.storage));
 */
export function migrateDesk(storage: DurableObjectStorage, upTo = DESK_SCHEMA_VERSION): number {
  const from = deskSchemaVersion(storage.sql);
  let version = from;
  for (const migration of DESK_MIGRATIONS) {
    if (migration.version <= version || migration.version > upTo) continue;
    storage.transactionSync(() => {
      for (const statement of migration.statements) storage.sql.exec(statement);
      writeMeta(storage.sql, "schema_version", String(migration.version));
    });
    version = migration.version;
  }
  // A desk that already held data says what it went through; a new desk is not news.
  if (from > 0 && version > from)
    console.log(JSON.stringify({ kind: "grid-desk-migrated", from, to: version }));
  return version;
}
