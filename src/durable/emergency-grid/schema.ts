/**
 * The EmergencyGrid's SQLite schema, applied in order at start (the version is kept in `meta`). Append new
 * steps; never edit one that has shipped.
 */
export const EMERGENCY_GRID_MIGRATIONS: ReadonlyArray<{ version: number; statements: readonly string[] }> = [
  {
    version: 1,
    statements: [
      "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
      // One line per household in roster order; members and helpers as JSON, phones sealed as in libSQL.
      `CREATE TABLE IF NOT EXISTS lines (
         household_id TEXT PRIMARY KEY,
         position INTEGER NOT NULL,
         band INTEGER NOT NULL,
         doc TEXT NOT NULL,
         vulnerable INTEGER NOT NULL,
         members INTEGER NOT NULL,
         status TEXT NOT NULL DEFAULT 'pending',
         status_at TEXT,
         shelter_id TEXT,
         persons INTEGER NOT NULL DEFAULT 0,
         case_id TEXT,
         escalated_round INTEGER NOT NULL DEFAULT 0)`,
      "CREATE INDEX IF NOT EXISTS lines_position_idx ON lines (position)",
      `CREATE TABLE IF NOT EXISTS checkins (
         id TEXT PRIMARY KEY,
         household_id TEXT NOT NULL,
         request_hash TEXT NOT NULL,
         body TEXT NOT NULL,
         actor TEXT NOT NULL,
         recorded_at TEXT NOT NULL,
         result TEXT NOT NULL)`,
      // Changes not yet acknowledged by the event's EmergencyCommand.
      "CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)",
      // needs_help lines whose urgent case is still to be reported (one per household and event).
      `CREATE TABLE IF NOT EXISTS case_outbox (
         household_id TEXT PRIMARY KEY,
         body TEXT NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0)`,
    ],
  },
];

/** Applies the steps the storage has not had yet, each in its own transaction. */
export function migrateEmergencyGrid(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").toArray()[0];
  const at = row ? Number(row.value) : 0;
  for (const step of EMERGENCY_GRID_MIGRATIONS) {
    if (step.version <= at) continue;
    storage.transactionSync(() => {
      for (const s of step.statements) sql.exec(s);
      sql.exec(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        String(step.version),
      );
    });
  }
}
