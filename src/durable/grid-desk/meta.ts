/**
 * The desk's `meta` table (key → text): one statement to read a key and one to write it, shared by every
 * caller. A desk prepares each distinct statement once per instance, and most instances take a report or
 * two before they are evicted, so on the report path fewer distinct statements is less work per report.
 */

/** The value stored under `key`, or null. */
export function readMeta(sql: SqlStorage, key: string): string | null {
  return sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
}

/** Stores `value` under `key`; call it inside the transaction whose write it belongs to. */
export function writeMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    key,
    value,
  );
}
