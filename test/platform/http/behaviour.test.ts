import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CallOptions,
  call,
  makeTree,
  makeUser,
  sql,
  type TestTree,
  type TestUser,
} from "../../support/helpers";

// Every request here is bad in some way; afterAll proves none of them wrote anything.
const PREFIX = `http-${crypto.randomUUID()}`;
let n = 0;
let tree: TestTree;
let admin: TestUser;
let unitsBefore = 0;
const seenRequestIds = new Set<string>();

async function countUnder(path: string) {
  const rs = await sql().execute({
    sql: "SELECT (SELECT count(*) FROM units WHERE path LIKE ?1) AS units, (SELECT count(*) FROM users WHERE unit_path LIKE ?1) AS users",
    args: [`${path}%`],
  });
  return { units: Number(rs.rows[0]!.units), users: Number(rs.rows[0]!.users) };
}

/** A call tagged with this file's request-id prefix; asserts the id comes back on the response. */
async function tagged(path: string, options: CallOptions = {}) {
  const requestId = `${PREFIX}-${++n}`;
  const res = await call(path, {
    ...options,
    headers: { ...(options.headers ?? {}), "x-request-id": requestId },
  });
  expect(res.headers.get("x-request-id")).toBe(requestId);
  seenRequestIds.add(requestId);
  return res;
}

function newVillage(overrides: Record<string, unknown> = {}) {
  return {
    code: `${tree.town.code}901`,
    name: "New village",
    level: "village",
    parentId: tree.town.id,
    ...overrides,
  };
}

beforeAll(async () => {
  tree = await makeTree();
  admin = await makeUser("admin", tree.town);
  unitsBefore = (await countUnder(tree.town.path)).units;
});

afterAll(async () => {
  expect(seenRequestIds.size).toBeGreaterThan(20);
  const audit = await sql().execute({
    sql: "SELECT count(*) AS n FROM audit_log WHERE request_id LIKE ?",
    args: [`${PREFIX}%`],
  });
  expect(Number(audit.rows[0]!.n)).toBe(0);
  expect(await countUnder(tree.town.path)).toEqual({ units: unitsBefore, users: 1 });
});

describe("bad input answers a 4xx problem", () => {
  it("malformed JSON → 400", async () => {
    for (const rawBody of ["{bad", '{"code": "1",}', "", "[1, 2"]) {
      const res = await tagged("/v1/units", {
        method: "POST",
        token: admin.token,
        rawBody,
        headers: { "content-type": "application/json" },
      });
      expect(res, JSON.stringify(rawBody)).toBeProblem(400);
    }
  });

  it("a body that is JSON but not an object → 400 at the root", async () => {
    for (const body of [null, [1, 2], "village", 42]) {
      const res = await tagged("/v1/units", { token: admin.token, body });
      expect(res, JSON.stringify(body)).toBeProblem(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: "(root)" })]);
    }
  });

  it("an unknown field → 400 naming that field", async () => {
    const res = await tagged("/v1/units", {
      token: admin.token,
      body: newVillage({ colour: "red", owner: 1 }),
    });
    expect(res).toBeProblem(400);
    expect(res.body.errors).toEqual([
      { path: "colour", message: "unknown field" },
      { path: "owner", message: "unknown field" },
    ]);
  });

  it("a wrong type → 400 with the field's path", async () => {
    const res = await tagged("/v1/units", {
      token: admin.token,
      body: newVillage({ code: 610902001901, name: ["x"] }),
    });
    expect(res).toBeProblem(400);
    expect((res.body.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual(["code", "name"]);
  });

  it("an oversized string → 400 with the field's path", async () => {
    const res = await tagged("/v1/units", {
      token: admin.token,
      body: newVillage({ name: "长".repeat(101) }),
    });
    expect(res).toBeProblem(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: "name" })]);
    const login = await tagged("/v1/auth/login", { body: { username: "u".repeat(65), password: "p" } });
    expect(login).toBeProblem(400);
    expect(login.body.errors).toEqual([expect.objectContaining({ path: "username" })]);
  });

  it("a bad cursor → 400 naming the cursor", async () => {
    for (const cursor of ["garbage", "W10", "WyJhIiwiYiJd", "eyJhIjoxfQ", "%E0%A4%A", "x".repeat(600)]) {
      const res = await tagged(`/v1/units?cursor=${cursor}`, { token: admin.token });
      expect(res, cursor).toBeProblem(400);
      expect(res.body.errors[0].path).toMatch(/cursor/);
    }
  });

  it("a bad id → 400 naming the path parameter", async () => {
    for (const path of ["/v1/units/not-a-uuid", "/v1/users/123", "/v1/units/x'%20OR%201=1/children"]) {
      const res = await tagged(path, { token: admin.token });
      expect(res, path).toBeProblem(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: "param.id" })]);
    }
    const patch = await tagged("/v1/units/42", { method: "PATCH", token: admin.token, body: { name: "x" } });
    expect(patch).toBeProblem(400);
  });

  it("a body over 1 MiB → 413, on public and authenticated routes", async () => {
    const big = JSON.stringify(newVillage({ name: "x".repeat(1024 * 1024) }));
    const res = await tagged("/v1/units", {
      method: "POST",
      token: admin.token,
      rawBody: big,
      headers: { "content-type": "application/json" },
    });
    expect(res).toBeProblem(413);
    const login = await tagged("/v1/auth/login", {
      method: "POST",
      rawBody: JSON.stringify({ username: "x", password: "y".repeat(1024 * 1024) }),
      headers: { "content-type": "application/json" },
    });
    expect(login).toBeProblem(413);
  });

  it("import paths take bodies over 1 MiB, up to their own documented limit", async () => {
    const rows = Array.from({ length: 12_000 }, (_, i) => ({
      code: `${tree.town.code}${String(i % 900).padStart(3, "0")}`,
      name: `Imported village number ${i}`,
      level: "village",
      parentCode: "999999999", // no such parent: every row is refused, nothing written
    }));
    const body = JSON.stringify({ rows });
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const res = await tagged("/v1/units/import", {
      method: "POST",
      token: admin.token,
      rawBody: body,
      headers: { "content-type": "application/json" },
    });
    expect(res).toBeProblem(400);
    expect(res.body.type).toMatch(/import-rows-invalid$/);

    const huge = `{"rows":[${'"x",'.repeat(4.3 * 1024 * 1024)}"x"]}`;
    expect(huge.length).toBeGreaterThan(16 * 1024 * 1024);
    const tooBig = await tagged("/v1/units/import", {
      method: "POST",
      token: admin.token,
      rawBody: huge,
      headers: { "content-type": "application/json" },
    });
    expect(tooBig).toBeProblem(413);
  });

  it("a write body that is not JSON → 415", async () => {
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const res = await tagged("/v1/units", {
        method: "POST",
        token: admin.token,
        rawBody: JSON.stringify(newVillage()),
        headers: { "content-type": type },
      });
      expect(res, type).toBeProblem(415);
    }
    const untyped = await tagged("/v1/units", { method: "POST", token: admin.token, rawBody: "{}" });
    expect(untyped).toBeProblem(415);
    const typed = await tagged("/v1/units", {
      method: "POST",
      token: admin.token,
      rawBody: "{}",
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    expect(typed).toBeProblem(400);
  });
});

describe("routing", () => {
  it("a wrong method on an existing path → 405 with Allow", async () => {
    const cases: Array<[string, string, string]> = [
      ["PUT", "/v1/me", "GET, HEAD"],
      ["DELETE", "/health", "GET, HEAD"],
      ["PATCH", "/v1/units", "GET, HEAD, POST"],
      ["POST", `/v1/units/${tree.grid.id}/children`, "GET, HEAD"],
      ["PUT", `/v1/units/${tree.grid.id}`, "GET, HEAD, PATCH, DELETE"],
      ["GET", "/v1/auth/login", "POST"],
      ["DELETE", "/openapi.json", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await tagged(path, { method, token: admin.token });
      expect(res, `${method} ${path}`).toBeProblem(405);
      expect(res.headers.get("allow"), `${method} ${path}`).toBe(allow);
    }
  });

  it("an unknown path → 404 problem without Allow", async () => {
    for (const path of ["/v2/units", "/v1/units/x/y/z", "/"]) {
      const res = await tagged(path, { token: admin.token });
      expect(res, path).toBeProblem(404);
      expect(res.headers.get("allow")).toBeNull();
    }
  });

  it("HEAD works where GET does", async () => {
    const res = await tagged("/health", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
  });
});

describe("CORS", () => {
  const allowed = (env.CORS_ORIGINS ?? "").split(",")[0]!.trim();

  it("answers a preflight from an allowed origin with that origin", async () => {
    expect(allowed).toMatch(/^https:\/\//);
    const res = await tagged("/v1/units", {
      method: "OPTIONS",
      headers: {
        origin: allowed,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, if-match",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(res.headers.get("access-control-allow-methods")).toMatch(/POST/);
    expect(res.headers.get("access-control-allow-headers")).toMatch(/authorization/);
    expect(res.headers.get("access-control-allow-headers")).toMatch(/if-match/);

    const simple = await tagged("/health", { headers: { origin: allowed } });
    expect(simple.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(simple.headers.get("access-control-expose-headers")).toMatch(/x-request-id/);
  });

  it("gives another origin no CORS grant", async () => {
    const res = await tagged("/v1/units", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const simple = await tagged("/health", { headers: { origin: "https://evil.example" } });
    expect(simple.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("request ids", () => {
  it("gives every response a fresh x-request-id when the client's is missing or malformed", async () => {
    const responses = [
      await call("/health"),
      await call("/nowhere"),
      await call("/v1/me"),
      await call("/v1/me", { headers: { "x-request-id": "bad id with spaces" } }),
      await call("/v1/units", { method: "POST", rawBody: "x", headers: { "content-type": "text/plain" } }),
    ];
    const ids = responses.map((r) => r.headers.get("x-request-id"));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
