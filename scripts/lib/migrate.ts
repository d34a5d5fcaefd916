import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
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

/** Thrown when a migration file differs from the one already applied to the database. */
export class MigrationChanged extends Error {}

/**
 * Applies every `migrations/NNNN_*.sql` not yet recorded in `_migrations`, each in one write batch
 * (all-or-nothing), in file-name order, and records its SHA-256. A file that changed after it was applied
 * stops the run: migrations only ever add. Returns the names applied.
 */
export async function migrate(client: Client, dir = MIGRATIONS_DIR): Promise<string[]> {
  await client.execute(
    "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL, sha256 TEXT)",
  );
  const done = new Map(
    (await client.execute("SELECT name, sha256 FROM _migrations")).rows.map((r) => [
      String(r.name),
      r.sha256,
    ]),
  );
  const files = (await readdir(dir)).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
  const applied: string[] = [];
  for (const file of files) {
    const source = await readFile(join(dir, file), "utf8");
    const sha256 = createHash("sha256").update(source).digest("hex");
    if (done.has(file)) {
      const recorded = done.get(file);
      if (recorded && recorded !== sha256) {
        throw new MigrationChanged(
          `migration ${file} changed after it was applied to this database; write a new migration instead ` +
            "(for a local dev database, delete .data/ to start over)",
        );
      }
      continue;
    }
    await client.batch(
      [
        ...splitStatements(source),
        {
          sql: "INSERT INTO _migrations (name, applied_at, sha256) VALUES (?, ?, ?)",
          args: [file, new Date().toISOString(), sha256],
        },
      ],
      "write",
    );
    applied.push(file);
  }
  return applied;
}
