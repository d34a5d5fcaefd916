import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { makeTree, makeUser, type TestTree, type TestUser } from "../../support/helpers";

let tree: TestTree;
let admin: TestUser;

beforeAll(async () => {
  tree = await makeTree();
  admin = await makeUser("admin", tree.town);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Calls the app with libSQL at `libsqlUrl` instead of the test database; everything else is the test env. */
async function withLibsql(libsqlUrl: string, path: string, init: { method?: string; body?: unknown } = {}) {
  const requestId = `db-error-${crypto.randomUUID()}`;
  const res = await createApp().fetch(
    new Request(`https://grid321.test${path}`, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${admin.token}`,
        "x-request-id": requestId,
        ...(init.body ? { "content-type": "application/json" } : {}),
      },
      body: init.body ? JSON.stringify(init.body) : undefined,
    }),
    { ...env, LIBSQL_URL: libsqlUrl },
  );
  return { status: res.status, headers: res.headers, body: await res.json<unknown>(), requestId };
}

/** The JSON lines written to console.error that carry `requestId`. */
function errorLinesFor(
  spy: { mock: { calls: unknown[][] } },
  requestId: string,
): Array<Record<string, unknown>> {
  return spy.mock.calls
    .map((args) => String(args[0]))
    .filter((line) => line.includes(requestId))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const newVillage = () => ({
  code: `${tree.town.code}9${String(Math.floor(Math.random() * 100)).padStart(2, "0")}`,
  name: "新建村",
  level: "village",
  parentId: tree.town.id,
});

describe("database errors", () => {
  it("a schema error (no such table) answers 500 with a log line, on a read and on an audited write", async () => {
    const empty = inject("emptyLibsqlUrl");
    const spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const read = await withLibsql(empty, `/v1/units/${tree.grid.id}`);
    expect(read).toBeProblem(500, "internal");
    expect(read.headers.get("retry-after")).toBeNull();
    const [readLog] = errorLinesFor(spy, read.requestId);
    expect(readLog?.error).toMatch(/Failed query: select .* from "units"/);

    const write = await withLibsql(empty, "/v1/units", { method: "POST", body: newVillage() });
    expect(write).toBeProblem(500, "internal");
    expect(errorLinesFor(spy, write.requestId)).toHaveLength(1);
  });

  it("an unreachable libSQL answers 503 with Retry-After, on a read, a list and an audited write", async () => {
    const down = "http://127.0.0.1:1";
    const spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (const [path, init] of [
      [`/v1/units/${tree.grid.id}`, {}],
      ["/v1/users?limit=5", {}],
      ["/v1/units", { method: "POST", body: newVillage() }],
    ] as const) {
      const res = await withLibsql(down, path, init);
      expect(res, path).toBeProblem(503, "db-unavailable");
      expect(res.headers.get("retry-after"), path).toBe("5");
      expect(errorLinesFor(spy, res.requestId)[0]?.kind, path).toBe("db-unavailable");
    }
  });
});
