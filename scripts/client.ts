/**
 * `npm run client:generate`: regenerates the web consoles' typed client, `src/client/api.d.ts`, from the
 * served `/openapi.json` with openapi-typescript (pinned). Use it with openapi-fetch (see src/client/README.md).
 * Beside it, `src/client/document-hash.ts` records the SHA-256 of the document it was generated from;
 * test/contract/client.test.ts fails when the served document no longer has that hash, i.e. when the client
 * must be regenerated (and committed).
 *
 * `defaultNonNullable: false`: a request field with a default stays optional in the generated types (the
 * API fills it in), instead of becoming required.
 */
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import openapiTS, { astToString } from "openapi-typescript";
import { servedDocument } from "./lib/openapi-document";

const OUT = new URL("../src/client/api.d.ts", import.meta.url);
const HASH = new URL("../src/client/document-hash.ts", import.meta.url);

const text = await servedDocument();
const sha256 = createHash("sha256").update(text).digest("hex");
const ast = await openapiTS(JSON.parse(text), { defaultNonNullable: false, alphabetize: false });
const header = [
  "/**",
  " * The grid321 API's types, generated from /openapi.json by `npm run client:generate` (openapi-typescript).",
  " * Do not edit: change the routes' schemas and regenerate.",
  " */",
  "",
].join("\n");
await writeFile(OUT, header + astToString(ast));
await writeFile(
  HASH,
  `/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (\`npm run client:generate\`). */\nexport const OPENAPI_SHA256 = "${sha256}";\n`,
);
console.log(`wrote src/client/api.d.ts (document sha256 ${sha256.slice(0, 12)}…)`);
