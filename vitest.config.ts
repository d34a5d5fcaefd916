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
};
const TEST_BATCH_TIMEOUT_S = 0.05;

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
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
