import { exports } from "cloudflare:workers";
import createClient from "openapi-fetch";
import { describe, expect, it } from "vitest";
import type { paths } from "../../src/client/api";
import { OPENAPI_SHA256 } from "../../src/client/document-hash";
import { makeWorld } from "../support/case-fixtures";
import { checkResponse } from "../support/contract";
import { sql } from "../support/helpers";

/** The generated client as a web console would use it, calling the Worker (every response contract-checked). */
function client(token: string) {
  return createClient<paths>({
    baseUrl: "https://grid321.test",
    headers: { authorization: `Bearer ${token}` },
    fetch: async (request: Request) => {
      const res = await exports.default.fetch(request);
      const text = await res.clone().text();
      await checkResponse(request.method, request.url, { status: res.status, headers: res.headers, text });
      return res;
    },
  });
}

describe("the generated typed client (src/client)", () => {
  it("was generated from the document the Worker serves now (else run npm run client:generate)", async () => {
    const res = await exports.default.fetch(new Request("https://grid321.test/openapi.json"));
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(await res.text()));
    const served = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(served, "src/client/api.d.ts is stale: run `npm run client:generate` and commit it").toBe(
      OPENAPI_SHA256,
    );
  });

  it("drives the README's case loop: report → accept → dispatch → start → resolve → return visit → close", async () => {
    const w = await makeWorld();
    const worker = client(w.gridWorker.token);
    const village = client(w.villageCentre.token);
    const department = client(w.department.token);

    const reported = await worker.POST("/v1/cases", {
      body: {
        id: crypto.randomUUID(),
        type: "safety_hazard",
        severity: "urgent",
        title: "巷道电线垂落",
        description: "三巷12号门前电线垂到头顶高度，行人通过有危险。",
        location: { lat: 32.6841, lng: 109.0293, address: "张岭社区三巷12号" },
      },
    });
    expect(reported.response.status).toBe(201);
    const id = reported.data!.id;
    expect(reported.response.headers.get("location")).toBe(`/v1/cases/${id}`);
    let etag = reported.response.headers.get("etag")!;
    expect(etag).toBe('"1"');

    const steps = [
      () =>
        village.POST("/v1/cases/{id}/accept", {
          params: { path: { id }, header: { "if-match": etag } },
          body: { note: "村综治中心受理" },
        }),
      () =>
        village.POST("/v1/cases/{id}/dispatch", {
          params: { path: { id }, header: { "if-match": etag } },
          body: { unitId: w.tree.town.id, department: "住建局" },
        }),
      () =>
        department.POST("/v1/cases/{id}/start", {
          params: { path: { id }, header: { "if-match": etag } },
          body: {},
        }),
      () =>
        department.POST("/v1/cases/{id}/resolve", {
          params: { path: { id }, header: { "if-match": etag } },
          body: { note: "供电所已将电线重新架设到4米高" },
        }),
      () =>
        village.POST("/v1/cases/{id}/return-visit", {
          params: { path: { id }, header: { "if-match": etag } },
          body: { satisfaction: "satisfied", note: "居民满意" },
        }),
      () =>
        village.POST("/v1/cases/{id}/close", {
          params: { path: { id }, header: { "if-match": etag } },
          body: {},
        }),
    ];
    const states: string[] = [];
    for (const step of steps) {
      const { data, error, response } = await step();
      expect(error, JSON.stringify(error)).toBeUndefined();
      expect(response.status).toBe(200);
      expect(response.headers.get("etag")).toBe(`"${data!.version}"`);
      etag = response.headers.get("etag")!;
      states.push(data!.state);
    }
    expect(states).toEqual(["accepted", "dispatched", "in_progress", "resolved", "resolved", "closed"]);
    expect(etag).toBe('"7"');

    // A stale If-Match is a typed 412 problem.
    const stale = await village.POST("/v1/cases/{id}/close", {
      params: { path: { id }, header: { "if-match": '"3"' } },
      body: {},
    });
    expect(stale.response.status).toBe(412);
    expect(stale.error).toMatchObject({ status: 412 });

    const read = await worker.GET("/v1/cases/{id}", { params: { path: { id } } });
    expect(read.data!.timeline.map((e) => e.type)).toEqual([
      "reported",
      "accepted",
      "dispatched",
      "started",
      "resolved",
      "return_visited",
      "closed",
    ]);
    // Stored: the projection in libSQL reaches the closed version.
    for (let i = 0; i < 200; i++) {
      const row = (await sql().execute({ sql: "SELECT state, version FROM cases WHERE id = ?", args: [id] }))
        .rows[0];
      if (row && Number(row.version) >= 7) {
        expect(row.state).toBe("closed");
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`case ${id} not projected at version 7`);
  });
});
