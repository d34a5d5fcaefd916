import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Queue consumers as wrangler.toml declares them, with the batch timeout cut to 50 ms: tests wait for
 * projections and notices, and a 1–5 s timeout per hop is most of their time. Sizes, retries and dead-letter
 * queues stay as deployed.
 */
const QUEUE_CONSUMERS = {
  "case-events": { maxBatchSize: 100, maxRetries: 10, deadLetterQueue: "case-events-dlq" },
  "case-events-dlq": { maxBatchSize: 50, maxRetries: 10 },
  escalations: { maxBatchSize: 50, maxRetries: 8, deadLetterQueue: "escalations-dlq" },
  "escalations-dlq": { maxBatchSize: 50, maxRetries: 10 },
  webhooks: { maxBatchSize: 20, maxRetries: 6, deadLetterQueue: "webhooks-dlq" },
  "webhooks-dlq": { maxBatchSize: 20, maxRetries: 10 },
  directives: { maxBatchSize: 10, maxRetries: 8, deadLetterQueue: "directives-dlq" },
  "directives-dlq": { maxBatchSize: 20, maxRetries: 10 },
  "desk-rules": { maxBatchSize: 10, maxRetries: 10 },
  "emergency-rosters": { maxBatchSize: 10, maxRetries: 8, deadLetterQueue: "emergency-rosters-dlq" },
  "emergency-rosters-dlq": { maxBatchSize: 10, maxRetries: 10 },
};
const TEST_BATCH_TIMEOUT_S = 0.05;

/*
 * Tests use their own generated secrets (test/global-setup.ts), never a developer's `.dev.vars`. The pool
 * reads wrangler.toml through wrangler, which also loads a `.dev.vars` beside it, and neither the pool nor
 * wrangler has an option to skip that file (the `.dev.vars.<env>` shadow needs an `[env.<env>]` section and
 * still announces itself). So every value the Worker reads is bound below, which overrides anything from
 * `.dev.vars`, and wrangler logs at "warn" here so it does not print "Using secrets defined in .dev.vars"
 * once per test file. `npm run dev` keeps its secrets in .data/dev.vars, so normally there is no such file.
 */
process.env.WRANGLER_LOG ??= "warn";

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      // workerd's verbose mode logs every failed subrequest as an "uncaught exception" with a native stack,
      // even when the Worker catches it (a plain `await fetch(closedPort).catch(…)` prints two). The outage
      // tests point libSQL at a closed port on purpose, so verbose output is noise there. Unhandled
      // rejections in the Worker still fail the run through vitest; WORKERD_VERBOSE=1 turns the log back on.
      verbose: process.env.WORKERD_VERBOSE === "1",
      miniflare: {
        queueConsumers: Object.fromEntries(
          Object.entries(QUEUE_CONSUMERS).map(([queue, options]) => [
            queue,
            { ...options, maxBatchTimeout: TEST_BATCH_TIMEOUT_S },
          ]),
        ),
        bindings: {
          ENVIRONMENT: "test",
          LIBSQL_URL: inject("libsqlUrl"),
          LIBSQL_AUTH_TOKEN: "",
          JWT_PRIVATE_JWK: inject("jwtPrivateJwk"),
          PII_KEY: inject("piiKey"),
          AUDIT_KEY: inject("auditKey"),
          JWT_PREVIOUS_PUBLIC_JWKS: "",
          JWT_ISSUER: "https://grid321.test",
          JWT_AUDIENCE: "grid321-api",
          CORS_ORIGINS: "https://console.grid321.test",
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/global-setup.ts", "./test/platform/http/empty-sqld.global-setup.ts"],
    setupFiles: ["./test/support/setup.ts"],
    include: ["test/**/*.test.ts"],
    silent: "passed-only",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
