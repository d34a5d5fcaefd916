import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
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
    globalSetup: ["./test/global-setup.ts"],
    setupFiles: ["./test/support/setup.ts"],
    include: ["test/**/*.test.ts"],
    silent: "passed-only",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
