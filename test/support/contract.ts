import { exports } from "cloudflare:workers";
import { dereference, type OutputUnit, type Schema, validate } from "@cfworker/json-schema";

/**
 * Checks every response the test helpers (`call`, `api`) receive against the served `/openapi.json`: the
 * status is declared for the operation, the body matches the declared schema for its media type (JSON Schema
 * 2020-12, `#/components/schemas/…` references resolved; problems against `Problem`), the headers the API sets
 * (ETag, Location, Retry-After, Deprecation, Link, WWW-Authenticate, Server-Timing) are declared on that response, and `x-request-id` is there.
 * The document is fetched and compiled once per test file. A drift throws, so the test making the request fails.
 */

/**
 * Operations not checked yet, each with the drift that keeps it here. Empty is the goal: a drift in a route
 * file that cannot be edited right now is listed here (with the reason) instead of failing the suite, and
 * removed as soon as the route is fixed.
 */
export const UNCHECKED_OPERATIONS: ReadonlyMap<string, string> = new Map<string, string>([]);

/** Paths the Worker serves outside the document: the document itself and the reference UI. */
const UNDOCUMENTED = [/^\/openapi\.json$/, /^\/docs(\/.*)?$/];
/** Headers whose presence on a response must be declared on it. */
const DECLARED_HEADERS = [
  "etag",
  "location",
  "retry-after",
  "deprecation",
  "link",
  "www-authenticate",
  "server-timing",
];

interface Operation {
  key: string;
  pattern: RegExp;
  literals: number;
  responses: Record<
    string,
    { content?: Record<string, { schema?: Schema }>; headers?: Record<string, unknown> }
  >;
}

interface Contract {
  operations: Map<string, Operation[]>;
  lookup: Record<string, Schema | boolean>;
  problem: Schema;
}

let contract: Promise<Contract> | undefined;

/** A response to check: its status, headers and body text. */
export interface CheckedResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** The served document, compiled; `source` replaces it (to prove that a wrong schema fails a check). */
export async function loadContract(source?: object): Promise<Contract> {
  let doc = source;
  if (!doc) {
    const res = await exports.default.fetch(new Request("https://grid321.test/openapi.json"));
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}: ${text}`);
    doc = JSON.parse(text) as object;
  }
  const document = structuredClone(doc) as {
    paths: Record<string, Record<string, Operation["responses"] | unknown>>;
    components: { schemas: Record<string, Schema> };
  };
  const lookup = dereference(document as unknown as Schema);
  const operations = new Map<string, Operation[]>();
  for (const [path, item] of Object.entries(document.paths)) {
    const pattern = new RegExp(`^${path.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+")}$`);
    const literals = path.split("/").filter((s) => s && !s.startsWith("{")).length;
    for (const [method, operation] of Object.entries(item)) {
      const responses = (operation as { responses?: Operation["responses"] }).responses;
      if (!responses) continue;
      const list = operations.get(method.toUpperCase()) ?? [];
      list.push({ key: `${method.toUpperCase()} ${path}`, pattern, literals, responses });
      operations.set(method.toUpperCase(), list);
    }
  }
  // A literal segment wins over a parameter (`/v1/residents/transfer-requests` before `/v1/residents/{id}`).
  for (const list of operations.values()) list.sort((a, b) => b.literals - a.literals);
  return { operations, lookup, problem: document.components.schemas.Problem! };
}

/** Checks this test file's later responses against `source` instead of the served document (or again the served one). */
export function replaceContract(source?: object): void {
  contract = source ? loadContract(source) : undefined;
}

/** The check against the served document, compiled on first use in this test file. */
export async function checkResponse(method: string, url: string, response: CheckedResponse): Promise<void> {
  contract ??= loadContract();
  const failure = checkAgainst(await contract, method, url, response);
  if (failure) throw new Error(failure);
}

/**
 * Checks one response against a compiled contract; returns why it does not conform, or null. Exported for
 * the test proving that a wrong schema is caught.
 */
export function checkAgainst(
  contract: Contract,
  method: string,
  url: string,
  response: CheckedResponse,
): string | null {
  const path = new URL(url, "https://grid321.test").pathname;
  const verb = method.toUpperCase();
  if (verb === "OPTIONS" || UNDOCUMENTED.some((p) => p.test(path))) return null;
  const lookupMethod = verb === "HEAD" ? "GET" : verb;
  const operation = contract.operations.get(lookupMethod)?.find((o) => o.pattern.test(path));
  const where = `${verb} ${path} → ${response.status}`;
  const fail = (why: string) =>
    `Response does not match /openapi.json (${operation?.key ?? "no operation"}): ${where}: ${why}\nbody: ${response.text.slice(0, 2000)}`;
  if (!response.headers.get("x-request-id")) return fail("no x-request-id header");
  const contentType = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();

  if (!operation) {
    // Not an operation: the Worker answers 404 or 405, as a problem.
    if (response.status !== 404 && response.status !== 405) return fail("no operation serves this path");
    return validateBody(contract, contract.problem, response.text, fail);
  }
  if (UNCHECKED_OPERATIONS.has(operation.key)) return null;

  const declared = operation.responses[String(response.status)] ?? operation.responses.default;
  if (!declared) {
    return fail(
      `status ${response.status} is not declared (declared: ${Object.keys(operation.responses).join(", ")})`,
    );
  }
  const declaredHeaders = new Set(Object.keys(declared.headers ?? {}).map((h) => h.toLowerCase()));
  for (const header of DECLARED_HEADERS) {
    if (response.headers.has(header) && !declaredHeaders.has(header)) {
      return fail(`sets the ${header} header, which this response does not declare`);
    }
  }
  const content = declared.content ?? {};
  if (verb === "HEAD" || response.text === "") {
    return Object.keys(content).length && verb !== "HEAD"
      ? fail("an empty body, but content is declared")
      : null;
  }
  if (!Object.keys(content).length) return fail("a body, but this response declares none");
  const media = Object.entries(content).find(([type]) => mediaMatches(type, contentType));
  if (!media)
    return fail(`content-type "${contentType}" is not declared (${Object.keys(content).join(", ")})`);
  const schema = media[1].schema;
  if (!schema || !contentType.endsWith("json")) return null;
  return validateBody(contract, schema, response.text, fail);
}

function validateBody(
  contract: Contract,
  schema: Schema,
  text: string,
  fail: (why: string) => string,
): string | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return fail("the body is not JSON");
  }
  if (validate(body, schema, "2020-12", contract.lookup, true).valid) return null;
  const { errors } = validate(body, schema, "2020-12", contract.lookup, false);
  return fail(`the body does not match its schema:\n${describe(errors)}`);
}

/** The innermost errors (the ones that name a field), at most ten. */
function describe(errors: OutputUnit[]): string {
  const leaves = errors.filter(
    (e) => !/subschema|Property .* does not match|Items did not match/.test(e.error),
  );
  return (leaves.length ? leaves : errors)
    .slice(0, 10)
    .map((e) => `  ${e.instanceLocation}: ${e.error} (${e.keywordLocation})`)
    .join("\n");
}

function mediaMatches(declared: string, actual: string): boolean {
  if (declared === actual || declared === "*/*") return true;
  return declared.endsWith("/*") && actual.startsWith(declared.slice(0, -1));
}
