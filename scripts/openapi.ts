/**
 * `npm run openapi:dump [-- <file>]`: writes the served `/openapi.json` (pretty-printed) to `<file>`, or to
 * stdout. `npm run lint:openapi` lints that file with Redocly's recommended rules (redocly.yaml).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { servedDocument } from "./lib/openapi-document";

const text = JSON.stringify(JSON.parse(await servedDocument()), null, 2);
const out = process.argv[2];
if (out) {
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${text}\n`);
} else process.stdout.write(`${text}\n`);
