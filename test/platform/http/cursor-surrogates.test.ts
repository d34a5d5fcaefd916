import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { levelsForRole, ROLES, type Role } from "../../../src/domain/roles";
import { publishDueBulletins } from "../../../src/services/bulletins";
import { call, makeTree, makeUser, type TestTree, type TestUnit, type TestUser } from "../../support/helpers";
import { household } from "../../support/household-fixtures";
import { signUp } from "../../support/resident-accounts";

/**
 * Forged cursors holding a lone UTF-16 surrogate (base64url of their JSON): `["\ud800","x"]` from the field
 * report, and 1- and 3-element variants so every keyset arity meets one of the right length.
 */
const LONE_SURROGATE_CURSORS = {
  two: "WyJcdWQ4MDAiLCJ4Il0",
  one: "WyJcdWQ4MDAiXQ",
  three: "WyJcdWQ4MDAiLCJ4IiwieSJd",
  trailingLowSurrogate: "WyJ4IiwiXHVkZmZmIiwxXQ",
};

interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema?: { type?: string; format?: string; enum?: string[]; pattern?: string; example?: unknown };
}
interface Operation {
  parameters?: Parameter[];
  "x-roles"?: Role[];
}
interface ListEndpoint {
  path: string;
  operation: Operation;
}

let tree: TestTree;
let endpoints: ListEndpoint[];
const users = new Map<Role, TestUser>();
const resources = new Map<string, string>();

/** A user allowed to call `operation`: the town's administrator when the admin may, else the first listed role. */
async function userFor(operation: Operation): Promise<TestUser> {
  const roles = operation["x-roles"] ?? ROLES;
  const role = roles.includes("admin") ? "admin" : roles[0]!;
  let user = users.get(role);
  if (!user) {
    const level = levelsForRole(role).includes("town") ? "town" : levelsForRole(role)[0]!;
    const unit: TestUnit = level === "grid" ? tree.grid : level === "village" ? tree.village : tree.town;
    user = await makeUser(role, unit);
    users.set(role, user);
  }
  return user;
}

/** Creates (once) a resource of the collection a path parameter names, through the API, and returns its id. */
async function resourceId(collection: string, admin: TestUser): Promise<string> {
  const known = resources.get(collection);
  if (known) return known;
  const create: Record<string, () => Promise<{ status: number; body: { id?: string } }>> = {
    households: () => call("/v1/households", { token: admin.token, body: household(tree.grid) }),
    directives: () =>
      call("/v1/directives", {
        token: admin.token,
        body: {
          title: "防汛检查",
          body: "排查辖区内的地质灾害隐患点并上报结果",
          dueAt: new Date(Date.now() + 3600_000).toISOString(),
          unitIds: [tree.village.id],
        },
      }),
    "liaison-stations": () =>
      call("/v1/liaison-stations", {
        token: admin.token,
        body: { name: "城关镇人大代表联络站", unitId: tree.town.id },
      }),
  };
  const make = create[collection];
  if (!make) throw new Error(`no fixture for /v1/${collection}/{id}: add one so its list is covered`);
  const res = await make();
  expect(res.status, `${collection}: ${JSON.stringify(res.body)}`).toBe(201);
  resources.set(collection, res.body.id!);
  return res.body.id!;
}

/** A value for a required query parameter, from its schema. */
function sample(p: Parameter): string {
  const s = p.schema ?? {};
  const now = new Date();
  if (s.enum?.length) return s.enum[0]!;
  if (s.format === "date-time" || p.name === "from" || p.name === "to") {
    return p.name === "from" ? new Date(now.getTime() - 30 * 86_400_000).toISOString() : now.toISOString();
  }
  if (s.format === "date") return now.toISOString().slice(0, 10);
  if (p.name === "year") return String(now.getUTCFullYear());
  if (s.example !== undefined) return String(s.example);
  throw new Error(`no sample for required query parameter ${p.name}`);
}

/** A value for a path parameter other than an id: the first of its enum, or last week's Monday (China time). */
function pathSample(p: Parameter): string {
  if (p.schema?.enum?.length) return p.schema.enum[0]!;
  if (p.name === "from") {
    // China time (UTC+8), as the bulletins' weeks are.
    const monday = new Date(Date.now() + 8 * 3600_000);
    monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7) - 7);
    return monday.toISOString().slice(0, 10);
  }
  throw new Error(`no sample for path parameter ${p.name}`);
}

/** The URL of a list endpoint with its path parameters and required query parameters filled in. */
async function urlOf(endpoint: ListEndpoint, user: TestUser): Promise<string> {
  const admin = await userFor({ "x-roles": ["admin"] });
  let path = endpoint.path;
  for (const p of endpoint.operation.parameters ?? []) {
    if (p.in !== "path") continue;
    // A path parameter that is not an id (a bulletin's kind and period) takes a sample of its schema.
    if (p.name !== "id") {
      path = path.replace(`{${p.name}}`, pathSample(p));
      continue;
    }
    const collection = path.split("/")[2]!;
    const id =
      collection === "units"
        ? user.unit.id
        : collection === "grids"
          ? tree.grid.id
          : await resourceId(collection, admin);
    path = path.replace(`{${p.name}}`, id);
  }
  const query = new URLSearchParams();
  for (const p of endpoint.operation.parameters ?? []) {
    if (p.in === "query" && p.required) query.set(p.name, sample(p));
  }
  return `${path}?${query}`;
}

beforeAll(async () => {
  tree = await makeTree();
  // Last week's bulletin of the town, so that its versions can be listed.
  expect(await publishDueBulletins(env, Date.now(), { scopePath: tree.town.path, kinds: ["week"] })).toBe(1);
  const doc = (await call("/openapi.json")).body as { paths: Record<string, { get?: Operation }> };
  endpoints = Object.entries(doc.paths)
    .filter(([, item]) => item.get?.parameters?.some((p) => p.in === "query" && p.name === "cursor"))
    .map(([path, item]) => ({ path, operation: item.get! }));
});

describe("a cursor holding a lone surrogate", () => {
  it("is found on the list endpoints the API documents", () => {
    const paths = endpoints.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["/v1/units", "/v1/users", "/v1/audit", "/v1/cases"]));
    expect(paths).toEqual(expect.arrayContaining(["/v1/units/{id}/deliberation/sessions"]));
    expect(paths.length).toBeGreaterThanOrEqual(15);
  });

  it("answers 400 on every list endpoint, never 503, while the same call without it answers 200", async () => {
    for (const endpoint of endpoints) {
      const user = await userFor(endpoint.operation);
      // The residents' channel takes resident tokens only.
      const token = endpoint.path.startsWith("/v1/resident/") ? (await signUp()).token : user.token;
      const url = await urlOf(endpoint, user);
      const plain = await call(url, { token });
      expect(plain.status, `${url} as ${user.role}: ${JSON.stringify(plain.body)}`).toBe(200);
      for (const [kind, cursor] of Object.entries(LONE_SURROGATE_CURSORS)) {
        const res = await call(`${url}&cursor=${cursor}`, { token });
        expect(res, `${endpoint.path} with the ${kind} cursor`).toBeProblem(400);
        expect(res.headers.get("retry-after"), endpoint.path).toBeNull();
      }
    }
  });
});
