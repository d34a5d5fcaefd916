/**
 * `npm run stats:rebuild`: rebuilds the case roll-ups (`case_rollups`) of the libSQL database named by
 * LIBSQL_URL (with LIBSQL_AUTH_TOKEN for Turso) from the stored case events, in SQL inside the database one
 * China month at a time (`rebuildRollupsInSql`), and prints how long it took.
 * Pause the `case-events` consumer while it runs: events projected meanwhile would be miscounted.
 * `--scope=<unit path>` rebuilds one city's subtree only; `--verbose` prints each month.
 */
import { createClient } from "@libsql/client/web";
import { rebuildRollupsInSql } from "../../src/db/repos/figures";

const url = process.env.LIBSQL_URL;
if (!url) {
  console.error("Set LIBSQL_URL (and LIBSQL_AUTH_TOKEN for Turso), e.g. LIBSQL_URL=http://127.0.0.1:8080");
  process.exit(2);
}
const scopePath = process.argv.find((a) => a.startsWith("--scope="))?.slice("--scope=".length);
const verbose = process.argv.includes("--verbose");
const client = createClient({
  url: url.replace(/^libsql:/, "https:"),
  authToken: process.env.LIBSQL_AUTH_TOKEN,
});
const started = performance.now();
const done = await rebuildRollupsInSql(
  { $client: client },
  {
    ...(scopePath ? { scopePath } : {}),
    onSlice: verbose
      ? (s) => console.log(`${s.from.slice(0, 7)}: ${s.rows} rows in ${s.ms.toFixed(0)} ms`)
      : undefined,
  },
);
const seconds = (performance.now() - started) / 1000;
console.log(`wrote ${done.rows} roll-up rows over ${done.slices} months in ${seconds.toFixed(2)} s`);
client.close();
