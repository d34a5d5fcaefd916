import { describe, expect, it } from "vitest";
import { deskList, deskOf, makeWorld } from "../support/case-fixtures";
import { api, read } from "../support/client";

/** A report at `gridId` with a fresh id. */
function chineseReport(gridId: string) {
  return {
    id: crypto.randomUUID(),
    gridId,
    type: "safety_hazard" as const,
    severity: "normal" as const,
    title: "路灯不亮",
    description: "三组村口的路灯连续三晚不亮，夜里行人看不清路。",
  };
}

/** Reports a case at a grid through the typed client. */
function reportAt(token: string, gridId: string) {
  return api(token).v1.cases.$post({ json: chineseReport(gridId), header: {} });
}

describe("closing a GridDesk for its unit's deletion", () => {
  it("a closed desk refuses every report as 404 and stores nothing; reopened, it accepts again", async () => {
    const w = await makeWorld();
    const desk = deskOf(w.tree.grid.id);
    expect(await desk.closeForDeletion()).toEqual({ ok: true });

    const refused = await read(await reportAt(w.gridWorker.token, w.tree.grid.id));
    expect(refused).toBeProblem(404, "not-found");
    expect((refused.body as { detail?: string }).detail).toBe("No such unit");
    const synced = await api(w.gridWorker.token).v1.cases.sync.$post({
      json: { reports: [chineseReport(w.tree.grid.id), chineseReport(w.tree.grid.id)] },
    });
    expect(synced.status).toBe(200);
    const { results } = (await synced.json()) as { results: Array<{ status: string; error?: unknown }> };
    expect(results.map((r) => r.status)).toEqual(["error", "error"]);
    expect(results[0]!.error).toMatchObject({ status: 404, detail: "No such unit" });
    expect(await deskList(w.tree.grid.id, { limit: 10 })).toEqual([]);

    await desk.reopen();
    const accepted = await reportAt(w.gridWorker.token, w.tree.grid.id);
    expect(accepted.status).toBe(201);
    const created = (await accepted.json()) as { id: string };
    expect((await deskList(w.tree.grid.id, { limit: 10 })).map((c) => c.id)).toEqual([created.id]);
  });

  it("a desk that holds a case refuses to close, with the number of its cases, and keeps taking reports", async () => {
    const w = await makeWorld();
    const desk = deskOf(w.tree.grid.id);
    expect((await reportAt(w.gridWorker.token, w.tree.grid.id)).status).toBe(201);
    expect((await reportAt(w.gridWorker.token, w.tree.grid.id)).status).toBe(201);
    expect(await desk.closeForDeletion()).toEqual({ ok: false, cases: 2 });
    expect((await reportAt(w.gridWorker.token, w.tree.grid.id)).status).toBe(201);
    expect(await deskList(w.tree.grid.id, { limit: 10 })).toHaveLength(3);
  });

  it("closing twice is harmless and one reopen opens it", async () => {
    const w = await makeWorld();
    const desk = deskOf(w.tree.grid.id);
    expect(await desk.closeForDeletion()).toEqual({ ok: true });
    expect(await desk.closeForDeletion()).toEqual({ ok: true });
    await desk.reopen();
    expect((await reportAt(w.gridWorker.token, w.tree.grid.id)).status).toBe(201);
  });
});
