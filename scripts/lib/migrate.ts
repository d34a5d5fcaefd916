import { readdir, readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Client } from "@libsql/client/web";

export const MIGRATIONS_DIR = new URL("../../migrations/", import.meta.url).pathname;

/** Splits a migration file into statements at drizzle-kit's `--> statement-breakpoint` markers. */
export function splitStatements(source: string): string[] {
  return source
    .split(/^--> statement-breakpoint\s*$/m)
    .map((s) =>
      s
        .split("\n")
        .filter((line) => !line.startsWith("--"))
        .join("\n")
        .trim(),
    )
    .filter((s) => s.length > 0);
}

/**
 * Applies every `migrations/NNNN_*.sql` not yet recorded in `_migrations`, each in one write batch
 * (all-or-nothing), in file-name order. Returns the names applied.
 */
export async function migrate(client: Client, dir = MIGRATIONS_DIR): Promise<string[]> {
  await client.execute(
    "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
  );
  const done = new Set(
    (await client.execute("SELECT name FROM _migrations")).rows.map((r) => String(r.name)),
  );
  const files = (await readdir(dir)).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
  const applied: string[] = [];
  for (const file of files) {
    if (done.has(file)) continue;
    const statements = splitStatements(await readFile(join(dir, file), "utf8"));
    await client.batch(
      [
        ...statements,
        {
          sql: "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
          args: [file, new Date().toISOString()],
        },
      ],
      "write",
    );
    applied.push(file);
  }
  return applied;
}
