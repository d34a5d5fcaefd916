import { describe, expect, it } from "vitest";
import { call, isProblem } from "../helpers";

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
    expect(isProblem(res, 404)).toBe(true);
  });

  it("publishes the ES256 public key without its private part", async () => {
    const res = await call("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.body.keys).toHaveLength(1);
    expect(res.body.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(res.body.keys[0].kid).toBeTruthy();
    expect(res.body.keys[0].d).toBeUndefined();
  });
});
