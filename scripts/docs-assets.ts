/**
 * `npm run docs:assets` (also run by `prepare` after every `npm install`/`npm ci`, and by `npm run dev`):
 * copies the API reference's browser bundle from the pinned devDependency `swagger-ui-dist` into
 * `public/docs/vendor/`, which Workers static assets serve beside `/docs`. The copies are git-ignored; the
 * version lives in package-lock.json. A nested biome.json there keeps third-party code out of `npm run lint`.
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const FILES = ["swagger-ui-bundle.js", "swagger-ui.css"];
const VENDOR_BIOME = {
  root: false,
  extends: "//",
  files: { maxSize: 16 * 1024 * 1024 },
  formatter: { enabled: false },
  linter: { enabled: false },
  assist: { enabled: false },
};

/** Where the copies go, served at `/docs/vendor/<file>`. */
export const DOCS_VENDOR_DIR = fileURLToPath(new URL("../public/docs/vendor/", import.meta.url));

/** Copies the bundle files into {@link DOCS_VENDOR_DIR} and returns the package version copied. */
export async function copyDocsAssets(): Promise<string> {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("swagger-ui-dist/package.json");
  const { version } = require(manifest) as { version: string };
  await mkdir(DOCS_VENDOR_DIR, { recursive: true });
  for (const file of FILES) await copyFile(join(dirname(manifest), file), join(DOCS_VENDOR_DIR, file));
  await writeFile(join(DOCS_VENDOR_DIR, "biome.json"), `${JSON.stringify(VENDOR_BIOME)}\n`);
  return version;
}

/** Where the dashboard's copy of Apache ECharts goes, served at `/dashboard/vendor/echarts.min.js`. */
export const DASHBOARD_VENDOR_DIR = fileURLToPath(new URL("../public/dashboard/vendor/", import.meta.url));

/** Copies the pinned devDependency `echarts`'s browser bundle into {@link DASHBOARD_VENDOR_DIR}; returns its version. */
export async function copyDashboardAssets(): Promise<string> {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("echarts/package.json");
  const { version } = require(manifest) as { version: string };
  await mkdir(DASHBOARD_VENDOR_DIR, { recursive: true });
  await copyFile(
    join(dirname(manifest), "dist", "echarts.min.js"),
    join(DASHBOARD_VENDOR_DIR, "echarts.min.js"),
  );
  await writeFile(join(DASHBOARD_VENDOR_DIR, "biome.json"), `${JSON.stringify(VENDOR_BIOME)}\n`);
  return version;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const version = await copyDocsAssets();
  console.log(`docs: swagger-ui-dist ${version} copied to public/docs/vendor/`);
  const echarts = await copyDashboardAssets();
  console.log(`dashboard: echarts ${echarts} copied to public/dashboard/vendor/`);
}
