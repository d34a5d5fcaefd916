import { describe, expect, it } from "vitest";
import { allowedMethods } from "../../../src/platform/http/methods";

const routes = [
  { method: "ALL", path: "*" },
  { method: "ALL", path: "/v1/*" },
  { method: "GET", path: "/v1/units" },
  { method: "POST", path: "/v1/units" },
  { method: "GET", path: "/v1/units/:id" },
  { method: "PATCH", path: "/v1/units/:id" },
  { method: "PATCH", path: "/v1/units/:id" },
  { method: "DELETE", path: "/v1/units/:id" },
  { method: "GET", path: "/v1/units/:id/children" },
  { method: "GET", path: "/.well-known/jwks.json" },
];

describe("allowedMethods", () => {
  it("lists each method a route answers on the path, GET bringing HEAD, in a stable order", () => {
    expect(allowedMethods(routes, "/v1/units")).toEqual(["GET", "HEAD", "POST"]);
    expect(allowedMethods(routes, "/v1/units/0a3d02a3-6dd4-4a55-bca8-9465d17c4fd2")).toEqual([
      "GET",
      "HEAD",
      "PATCH",
      "DELETE",
    ]);
    expect(allowedMethods(routes, "/v1/units/x/children")).toEqual(["GET", "HEAD"]);
  });

  it("ignores middleware and answers nothing for paths no route has", () => {
    expect(allowedMethods(routes, "/v1/nothing")).toEqual([]);
    expect(allowedMethods(routes, "/v1/units/x/y")).toEqual([]);
    expect(allowedMethods(routes, "/")).toEqual([]);
  });

  it("matches literal dots literally", () => {
    expect(allowedMethods(routes, "/.well-known/jwks.json")).toEqual(["GET", "HEAD"]);
    expect(allowedMethods(routes, "/.well-known/jwksXjson")).toEqual([]);
  });
});
