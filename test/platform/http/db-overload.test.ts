import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { isDbOverloaded, isDbUnavailable } from "../../../src/platform/db/errors";
import { makeTree, makeUser, sql, type TestTree } from "../../support/helpers";

let tree: TestTree;

beforeAll(async () => {
  tree = await makeTree();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * A libSQL address that answers every request with 429, as sqld does when more requests are in flight than
 * `--max-concurrent-requests` (128). The Worker's libSQL client takes `fetch` when it is first created for a
 * URL, so a fresh URL per test gets the stand-in; every other fetch goes through.
 */
function overloadedLibsql(): string {
  const url = `http://127.0.0.1:7/overloaded-${crypto.randomUUID()}`;
  const host = new URL(url).host;
  const real = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    const target = new Request(input as RequestInfo, init);
    if (new URL(target.url).host !== host) return real(input as RequestInfo, init);
    return Promise.resolve(new Response("Too many concurrent requests", { status: 429 }));
  });
  return url;
}

/**
 * A libSQL address that refuses its first `refusals` requests with 429, then passes each on to the real sqld,
 * as sqld does for a moment while a burst passes its limit. Counts what it refused.
 */
function briefOverload(refusals: number): { url: string; refused: () => number } {
  // A port of its own, and a fresh path so that the Worker makes a new libSQL client for it.
  const url = `http://127.0.0.1:8/brief-${crypto.randomUUID()}`;
  const prefix = new URL(url);
  const real = globalThis.fetch;
  const sqld = new URL(inject("libsqlUrl"));
  let refused = 0;
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    const target = new Request(input as RequestInfo, init);
    const at = new URL(target.url);
    if (at.host !== prefix.host) return real(input as RequestInfo, init);
    if (refused < refusals) {
      refused++;
      return Promise.resolve(new Response("Too many concurrent requests", { status: 429 }));
    }
    // The client posts to the server's root (/v2/pipeline), keeping none of the address's path.
    return real(new Request(new URL(at.pathname, sqld), target));
  });
  return { url, refused: () => refused };
}

async function callWith(
  libsqlUrl: string,
  token: string,
  path: string,
  body: unknown,
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await createApp().fetch(
    new Request(`https://grid321.test${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    { ...env, LIBSQL_URL: libsqlUrl },
  );
  return { status: res.status, headers: res.headers, body: await res.json<unknown>() };
}

const report = () => ({
  id: crypto.randomUUID(),
  type: "safety_hazard",
  severity: "normal",
  title: "巷口电线垂落",
  description: "电线垂到行人头顶高度",
});

describe("libSQL overloaded (HTTP 429)", () => {
  it("is an unavailable database, told apart from an outage", async () => {
    const url = overloadedLibsql();
    const { createClient } = await import("@libsql/client/web");
    const client = createClient({ url, fetch: globalThis.fetch });
    const error = await client.execute("SELECT 1").then(
      () => null,
      (e: unknown) => e,
    );
    expect(isDbUnavailable(error)).toBe(true);
    expect(isDbOverloaded(error)).toBe(true);
    const unreachable = await createClient({ url: "http://127.0.0.1:9" })
      .execute("SELECT 1")
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isDbOverloaded(unreachable)).toBe(false);
  });

  it("answers a write 503 with Retry-After, never 500", async () => {
    const admin = await makeUser("admin", tree.town);
    const res = await callWith(overloadedLibsql(), admin.token, "/v1/units", {
      code: `${tree.town.code}9${String(Math.floor(Math.random() * 100)).padStart(2, "0")}`,
      name: "新建村",
      level: "village",
      parentId: tree.town.id,
    });
    expect(res).toBeProblem(503, "db-unavailable");
    expect(res.headers.get("retry-after")).toBe("1");
  });

  it("waits out a short overload: a write refused 429 three times is sent again and lands once", async () => {
    const admin = await makeUser("admin", tree.town);
    const overload = briefOverload(3);
    const code = `${tree.town.code}8${String(Math.floor(Math.random() * 100)).padStart(2, "0")}`;
    const res = await callWith(overload.url, admin.token, "/v1/units", {
      code,
      name: "短暂拥堵村",
      level: "village",
      parentId: tree.town.id,
    });
    expect(res.status).toBe(201);
    expect(overload.refused()).toBe(3);
    const stored = await sql().execute({
      sql: "SELECT count(*) AS n FROM units WHERE code = ?",
      args: [code],
    });
    expect(Number(stored.rows[0]!.n)).toBe(1);
  });

  it("refuses a case report with 503 when the session check cannot be made, where an outage lets it in", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const overloaded = await makeUser("grid_worker", tree.grid);
    const down = await makeUser("grid_worker", tree.grid);
    // Past the age of the isolate's view of session changes, so each check must read them again.
    const started = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(started + 6_000);
      const refused = await callWith(overloadedLibsql(), overloaded.token, "/v1/cases", report());
      expect(refused).toBeProblem(503, "db-unavailable");
      expect(refused.headers.get("retry-after")).toBe("1");

      vi.setSystemTime(started + 12_000);
      const taken = await callWith("http://127.0.0.1:9", down.token, "/v1/cases", report());
      expect(taken.status).toBe(201);
    } finally {
      vi.useRealTimers();
    }
  });
});
