import { describe, expect, it } from "vitest";
import { act, deskCase, makeWorld, must, newReport, projected, report } from "../../support/case-fixtures";
import { call, sql } from "../../support/helpers";

// JSON can spell a lone UTF-16 surrogate ("\ud800"); JSON.stringify below sends exactly that escape. libSQL
// cannot carry such a string, so it must be refused at the door instead of reaching a desk or the database.
const LONE = "Broken \ud800 text";

describe("lone surrogates in JSON bodies", () => {
  it("refuses a report whose title holds a lone surrogate with 400 and records no case", async () => {
    const w = await makeWorld();
    const body = newReport({ title: LONE });
    const res = await call("/v1/cases", { token: w.gridWorker.token, body });
    expect(res).toBeProblem(400);
    expect(res.body.errors).toEqual([
      { path: "title", message: "not valid Unicode text (a lone surrogate)" },
    ]);
    expect(await deskCase(w.tree.grid.id, body.id)).toBeNull();

    // A well-formed surrogate pair (an emoji) is fine, and the case reaches the projection.
    const ok = await report(w.gridWorker, { title: "Fallen tree 🌳" });
    expect((await projected(ok.id, 1)).title).toBe("Fallen tree 🌳");
  });

  it("refuses a lone surrogate deep in a sync report with 400 and records none of the batch", async () => {
    const w = await makeWorld();
    const good = newReport();
    const bad = newReport({ location: { address: LONE } });
    const res = await call("/v1/cases/sync", { token: w.gridWorker.token, body: { reports: [good, bad] } });
    expect(res).toBeProblem(400);
    expect(res.body.errors[0].path).toBe("reports.1.location.address");
    expect(await deskCase(w.tree.grid.id, good.id)).toBeNull();
    expect(await deskCase(w.tree.grid.id, bad.id)).toBeNull();
  });

  it("refuses a command whose reason holds a lone surrogate with 400 and leaves the case unchanged", async () => {
    const w = await makeWorld();
    const c = await report(w.gridWorker);
    const res = await act(w.villageCentre, c.id, "reject", 1, { reason: LONE });
    expect(res).toBeProblem(400);
    expect(res.body.errors[0].path).toBe("reason");
    const stored = await deskCase(w.tree.grid.id, c.id);
    expect(stored?.record.state).toBe("reported");
    expect(stored?.record.version).toBe(1);
    expect(stored?.events).toHaveLength(1);
    await must(w.villageCentre, c.id, "reject", 1, { reason: "Not a matter for the grid" });
  });

  it("refuses a webhook description with a lone surrogate with 400, not 500, and stores no endpoint", async () => {
    const w = await makeWorld();
    const res = await call(`/v1/units/${w.tree.village.id}/webhooks`, {
      token: w.villageCentre.token,
      body: { url: "https://hooks.example.com/grid321", events: ["case.escalated"], description: LONE },
    });
    expect(res).toBeProblem(400);
    expect(res.body.errors[0].path).toBe("description");
    const rows = await sql().execute({
      sql: "SELECT count(*) AS n FROM webhook_endpoints WHERE unit_id = ?",
      args: [w.tree.village.id],
    });
    expect(Number(rows.rows[0]!.n)).toBe(0);
  });
});
