import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startSqld } from "../../../scripts/lib/sqld";

declare module "vitest" {
  interface ProvidedContext {
    /** A second sqld whose database has no tables: every query of the app fails with "no such table". */
    emptyLibsqlUrl: string;
  }
}

/** Starts a second, never-migrated sqld for the database-error tests. */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), "grid321-empty-"));
  const sqld = await startSqld({ dbPath: join(dir, "db") });
  project.provide("emptyLibsqlUrl", sqld.url);
  return async () => {
    await sqld.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
