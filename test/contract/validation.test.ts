import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api } from "../support/client";
import { type CheckedResponse, checkAgainst, loadContract, replaceContract } from "../support/contract";
import { call, makeTree, makeUser, type TestTree } from "../support/helpers";

/** The parts of the document these tests make wrong on purpose. */
interface Doc {
  paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
  components: { schemas: Record<string, { properties: Record<string, unknown>; required: string[] }> };
}

let served: Doc;
let tree: TestTree;
let token: string;
let created = 0;

/** POST /v1/units through the Worker directly (not `call`, which would check it), read once. */
async function createUnit(): Promise<{ url: string; response: CheckedResponse }> {
  const request = new Request("https://grid321.test/v1/units", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      code: `${tree.village.code}${900 + ++created}`, // fresh under this test file's own village
      name: "测试网格",
      level: "grid",
      parentId: tree.village.id,
    }),
  });
  const res = await exports.default.fetch(request);
  return { url: request.url, response: { status: res.status, headers: res.headers, text: await res.text() } };
}

beforeAll(async () => {
  served = (await call("/openapi.json")).body;
  tree = await makeTree();
  token = (await makeUser("admin", tree.city)).token;
});

describe("responses are checked against the served document", () => {
  it("accepts a real response that matches its operation", async () => {
    const { url, response } = await createUnit();
    expect(response.status).toBe(201);
    expect(checkAgainst(await loadContract(served), "POST", url, response)).toBeNull();
  });

  it("fails when the body does not match the declared schema", async () => {
    const wrong: Doc = structuredClone(served);
    wrong.components.schemas.Unit!.properties.name = { type: "integer" };
    const { url, response } = await createUnit();
    const failure = checkAgainst(await loadContract(wrong), "POST", url, response);
    expect(failure).toMatch(/POST \/v1\/units \S+ 201: the body does not match its schema/);
    expect(failure).toMatch(/#\/name/);
  });

  it("fails when a required field is missing from the body", async () => {
    const wrong: Doc = structuredClone(served);
    wrong.components.schemas.Unit!.properties.district = { type: "string" };
    wrong.components.schemas.Unit!.required.push("district");
    const { url, response } = await createUnit();
    expect(checkAgainst(await loadContract(wrong), "POST", url, response)).toMatch(/"district"/);
  });

  it("fails when the status is not declared for the operation", async () => {
    const wrong: Doc = structuredClone(served);
    delete wrong.paths["/v1/units"]!.post!.responses["201"];
    const { url, response } = await createUnit();
    expect(checkAgainst(await loadContract(wrong), "POST", url, response)).toMatch(
      /status 201 is not declared/,
    );
  });

  it("fails when the response sets a header it does not declare", async () => {
    const wrong: Doc = structuredClone(served);
    delete wrong.paths["/v1/units"]!.post!.responses["201"]!.headers!.ETag;
    const { url, response } = await createUnit();
    expect(checkAgainst(await loadContract(wrong), "POST", url, response)).toMatch(/sets the etag header/);
  });

  it("checks problems against the Problem schema", async () => {
    const wrong: Doc = structuredClone(served);
    wrong.components.schemas.Problem!.properties.status = { type: "string" };
    const request = new Request("https://grid321.test/v1/units", { headers: {} });
    const res = await exports.default.fetch(request);
    const response = { status: res.status, headers: res.headers, text: await res.text() };
    expect(response.status).toBe(401);
    expect(checkAgainst(await loadContract(served), "GET", request.url, response)).toBeNull();
    expect(checkAgainst(await loadContract(wrong), "GET", request.url, response)).toMatch(/#\/status/);
  });

  it("makes call() and api() themselves throw on a drift, so the test making the request fails", async () => {
    await expect(call(`/v1/units/${tree.grid.id}`, { token })).resolves.toMatchObject({ status: 200 });
    const wrong: Doc = structuredClone(served);
    wrong.components.schemas.Unit!.properties.code = { type: "integer" };
    replaceContract(wrong);
    try {
      await expect(call(`/v1/units/${tree.grid.id}`, { token })).rejects.toThrow(/GET \/v1\/units\/\{id\}/);
      await expect(api(token).v1.units[":id"].$get({ param: { id: tree.grid.id } })).rejects.toThrow(
        /the body does not match its schema/,
      );
    } finally {
      replaceContract();
    }
  });
});
