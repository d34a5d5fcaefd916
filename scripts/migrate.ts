/**
 * `npm run db:migrate`: applies pending migrations to the libSQL database named by LIBSQL_URL (with
 * LIBSQL_AUTH_TOKEN for Turso), e.g. before `wrangler deploy`.
 */
import { createClient } from "@libsql/client/web";
import { migrate } from "./lib/migrate";

const url = process.env.LIBSQL_URL;
if (!url) {
  console.error(
    "Set LIBSQL_URL (and LIBSQL_AUTH_TOKEN for Turso), e.g. LIBSQL_URL=libsql://grid321-ankang.turso.io",
  );
  process.exit(2);
}
const client = createClient({
  url: url.replace(/^libsql:/, "https:"),
  authToken: process.env.LIBSQL_AUTH_TOKEN,
});
const applied = await migrate(client);
console.log(applied.length ? `applied: ${applied.join(", ")}` : "up to date");
client.close();
