/**
 * The served `/openapi.json`, built in Node without starting workerd: src/app.ts is bundled with esbuild
 * (the `cloudflare:workers` imports replaced by inert stand-ins, since building the document runs no
 * Durable Object or binding) and the app answers `GET /openapi.json` through `app.request`, so the
 * document is exactly what the Worker serves, `finishDocument` included.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Builds the app and returns its `/openapi.json` text; throws with the app's answer when it is not a 200. */
export async function servedDocument(): Promise<string> {
  // Under the project (git-ignored .wrangler) so the bundle resolves the project's node_modules.
  const dir = join(ROOT, ".wrangler", "tmp", `openapi-${process.pid}-${Date.now()}`);
  await mkdir(dir, { recursive: true });
  const outfile = join(dir, "app.mjs");
  try {
    await build({
      stdin: { contents: 'export { createApp } from "./src/app";', resolveDir: ROOT, loader: "ts" },
      bundle: true,
      format: "esm",
      platform: "neutral",
      mainFields: ["module", "main"],
      conditions: ["workerd", "worker", "import"],
      external: ["node:*"],
      outfile,
      logLevel: "error",
      plugins: [
        {
          name: "cloudflare-stand-ins",
          setup(b) {
            b.onResolve({ filter: /^cloudflare:/ }, (args) => ({ path: args.path, namespace: "stand-in" }));
            b.onLoad({ filter: /.*/, namespace: "stand-in" }, () => ({
              contents: "export class DurableObject {}\nexport const env = {};\n",
              loader: "js",
            }));
          },
        },
      ],
    });
    const { createApp } = (await import(pathToFileURL(outfile).href)) as typeof import("../../src/app");
    const app = createApp();
    // The request log line is the Worker's, not this script's output.
    const log = console.log;
    console.log = () => {};
    try {
      const res = await app.request("/openapi.json", {}, { CORS_ORIGINS: "" });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}: ${text}`);
      return text;
    } finally {
      console.log = log;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
