import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client/web";
import type { TestProject } from "vitest/node";
import { generateAuditKey, generateJwtPrivateJwk, generatePiiKey } from "../scripts/lib/dev-keys";
import { migrate } from "../scripts/lib/migrate";
import { startSqld } from "../scripts/lib/sqld";

declare module "vitest" {
  interface ProvidedContext {
    libsqlUrl: string;
    jwtPrivateJwk: string;
    piiKey: string;
    auditKey: string;
  }
}

/** Starts a real sqld on a free loopback port with a throwaway database, migrates it, and hands its URL to the tests. */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), "grid321-test-"));
  const sqld = await startSqld({ dbPath: join(dir, "db") });
  const client = createClient({ url: sqld.url });
  await migrate(client);
  client.close();
  project.provide("libsqlUrl", sqld.url);
  project.provide("jwtPrivateJwk", await generateJwtPrivateJwk());
  project.provide("piiKey", generatePiiKey());
  project.provide("auditKey", generateAuditKey());
  return async () => {
    await sqld.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
