/**
 * `npm run stats:rebuild`: rebuilds the case roll-ups (`case_rollups`) of the libSQL database named by
 * LIBSQL_URL (with LIBSQL_AUTH_TOKEN for Turso) from the stored case events, and prints how long it took.
 * Pause the `case-events` consumer while it runs: events projected meanwhile would be miscounted.
 * `--scope=<unit path>` rebuilds one city's subtree only.
 */
import { createClient } from "@libsql/client/web";
import { rebuildRollups } from "../../src/db/repos/figures";

const url = process.env.LIBSQL_URL;
if (!url) {
  console.error("Set LIBSQL_URL (and LIBSQL_AUTH_TOKEN for Turso), e.g. LIBSQL_URL=http://127.0.0.1:8080");
  process.exit(2);
}
const scopePath = process.argv.find((a) => a.startsWith("--scope="))?.slice("--scope=".length);
const client = createClient({
  url: url.replace(/^libsql:/, "https:"),
  authToken: process.env.LIBSQL_AUTH_TOKEN,
});
const started = performance.now();
const done = await rebuildRollups({ $client: client }, scopePath ? { scopePath } : {});
const seconds = (performance.now() - started) / 1000;
console.log(
  `wrote ${done.rows} roll-up row increments from ${done.events} events of ${done.cases} cases in ${seconds.toFixed(2)} s`,
);
client.close();
