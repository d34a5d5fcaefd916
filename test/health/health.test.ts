import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { call, makeTree, makeUser } from "../support/helpers";

/** The app with libSQL pointed at a closed loopback port, as when the database is down. */
async function withDbDown(path: string, token?: string) {
  const res = await createApp().fetch(
    new Request(`https://grid321.test${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }),
    { ...env, LIBSQL_URL: "http://127.0.0.1:9" },
  );
  return { status: res.status, headers: res.headers, body: await res.json<any>() };
}

describe("platform routes", () => {
  it("GET /health answers 200 when libSQL is reachable, with a request id", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "ok", db: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("echoes a well-formed client x-request-id", async () => {
    const res = await call("/health", { headers: { "x-request-id": "phone-1234-abcd" } });
    expect(res.headers.get("x-request-id")).toBe("phone-1234-abcd");
  });

  it("unknown routes answer a 404 problem", async () => {
    const res = await call("/v2/nothing");
    expect(res).toBeProblem(404);
  });

  it("publishes the ES256 public key without its private part", async () => {
    const res = await call("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.body.keys).toHaveLength(1);
    expect(res.body.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(res.body.keys[0].kid).toBeTruthy();
    expect(res.body.keys[0].d).toBeUndefined();
  });

  it("GET /health answers a 503 problem with Retry-After when libSQL is down", async () => {
    const res = await withDbDown("/health");
    expect(res).toBeProblem(503);
    expect(res.body.type).toMatch(/db-unavailable$/);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("any route answers 503, not 500, while libSQL is down", async () => {
    const tree = await makeTree();
    const admin = await makeUser("admin", tree.town);
    const res = await withDbDown(`/v1/units/${tree.town.id}`, admin.token);
    expect(res).toBeProblem(503);
    expect(res.headers.get("retry-after")).toBe("5");
  });
});
