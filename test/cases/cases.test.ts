import { describe, expect, it } from "vitest";
import {
  act,
  caseIdOf,
  deskCase,
  makeWorld,
  must,
  newReport,
  projected,
  report,
} from "../support/case-fixtures";
import { call, sql } from "../support/helpers";

describe("reporting a case", () => {
  it("a grid worker reports in their grid: 201, version 1 as ETag, stored in the grid's desk", async () => {
    const w = await makeWorld();
    const body = newReport();
    const res = await call("/v1/cases", { token: w.gridWorker.token, body });
    expect(res.status).toBe(201);
    expect(res.headers.get("etag")).toBe('"1"');
    const id = caseIdOf(w.tree.grid.id, body.id);
    expect(res.headers.get("location")).toBe(`/v1/cases/${id}`);
    expect(res.body).toMatchObject({
      id,
      state: "reported",
      version: 1,
      type: "safety_hazard",
      owningUnit: { id: w.tree.grid.id, level: "grid" },
      responsibleUnit: { id: w.tree.grid.id, department: null },
      reporter: { userId: w.gridWorker.id, role: "grid_worker" },
      duplicates: [],
      hiddenDuplicates: 0,
    });
    expect(res.body.actions).toEqual(expect.arrayContaining(["accept", "merge", "attach"]));
    const stored = await deskCase(w.tree.grid.id, id);
    expect(stored?.record.version).toBe(1);
    expect(stored?.events.map((e) => [e.seq, e.type])).toEqual([[1, "reported"]]);
  });

  it("a replay of the same report returns the first result (200, same body); another report under the id is 422", async () => {
    const w = await makeWorld();
    const body = newReport();
    const first = await call("/v1/cases", { token: w.gridWorker.token, body });
    expect(first.status).toBe(201);
    const again = await call("/v1/cases", { token: w.gridWorker.token, body: { ...body } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const changed = await call("/v1/cases", {
      token: w.gridWorker.token,
      body: { ...body, title: "Something else" },
    });
    expect(changed).toBeProblem(422);
    const byOther = await call("/v1/cases", {
      token: w.villageCentre.token,
      body: { ...body, gridId: w.tree.grid.id },
    });
    expect(byOther).toBeProblem(422);
    const stored = await deskCase(w.tree.grid.id, caseIdOf(w.tree.grid.id, body.id));
    expect(stored?.record.title).toBe(body.title);
    expect(stored?.events).toHaveLength(1);
  });

  it("a replay returns the first result even after the case has moved on", async () => {
    const w = await makeWorld();
    const body = newReport();
    const first = await call("/v1/cases", { token: w.gridWorker.token, body });
    await must(w.villageCentre, first.body.id, "accept", 1);
    const again = await call("/v1/cases", { token: w.gridWorker.token, body });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
  });

  it("an Idempotency-Key stands for one case per user: same key, same case; other user, other case", async () => {
    const w = await makeWorld();
    const { id: _id, ...body } = newReport();
    const key = `phone-${crypto.randomUUID()}`;
    const a = await call("/v1/cases", {
      token: w.gridWorker.token,
      body,
      headers: { "idempotency-key": key },
    });
    const b = await call("/v1/cases", {
      token: w.gridWorker.token,
      body,
      headers: { "idempotency-key": key },
    });
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.body.id).toBe(a.body.id);
    const c = await call("/v1/cases", {
      token: w.gridWorker.token,
      body: { ...body, title: "changed" },
      headers: { "idempotency-key": key },
    });
    expect(c).toBeProblem(422);
    const other = await call("/v1/cases", {
      token: w.villageCentre.token,
      body: { ...body, gridId: w.tree.grid.id },
      headers: { "idempotency-key": key },
    });
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(a.body.id);
  });

  it("a centre reports in a grid below it with gridId; a grid worker cannot report in another grid", async () => {
    const w = await makeWorld();
    const ok = await call("/v1/cases", {
      token: w.villageCentre.token,
      body: newReport({ gridId: w.tree.grid2.id }),
    });
    expect(ok.status).toBe(201);
    expect(ok.body.owningUnit.id).toBe(w.tree.grid2.id);
    const outside = await call("/v1/cases", {
      token: w.gridWorker.token,
      body: newReport({ gridId: w.tree.otherGrid.id }),
    });
    expect(outside).toBeProblem(404);
    const leader = await call("/v1/cases", {
      token: w.leader.token,
      body: newReport({ gridId: w.tree.grid.id }),
    });
    expect(leader).toBeProblem(403);
  });

  it("bad input is a 400 problem and stores nothing", async () => {
    const w = await makeWorld();
    const bad = [
      newReport({ type: "alien_landing" }),
      newReport({ location: { lat: 91, lng: 10 } }),
      newReport({ location: { lat: 32.6 } }),
      newReport({ description: "x".repeat(4001) }),
      newReport({ title: "" }),
      newReport({ colour: "red" }),
      newReport({ id: "not-a-uuid" }),
      newReport({ mediation: { subject: "not a dispute" } }),
    ];
    for (const body of bad) {
      const res = await call("/v1/cases", { token: w.gridWorker.token, body });
      expect(res, `${JSON.stringify(body).slice(0, 80)} → ${res.status}`).toBeProblem(400);
      if (typeof body.id === "string" && body.id.length === 36) {
        expect(await deskCase(w.tree.grid.id, caseIdOf(w.tree.grid.id, body.id))).toBeNull();
      }
    }
    const noAuth = await call("/v1/cases", { body: newReport() });
    expect(noAuth).toBeProblem(401);
  });
});

describe("the closed loop through the API", () => {
  it("grid worker reports, village accepts and dispatches to a town department, which resolves; village return-visits and closes", async () => {
    const w = await makeWorld();
    const created = await report(w.gridWorker);
    const id = created.id;
    let c = await must(w.villageCentre, id, "accept", 1, { note: "We take it" });
    expect(c).toMatchObject({ state: "accepted", coordinatorUnit: { id: w.tree.village.id } });
    c = await must(w.villageCentre, id, "dispatch", 2, { unitId: w.tree.town.id, department: "住建办" });
    expect(c).toMatchObject({
      state: "dispatched",
      responsibleUnit: { id: w.tree.town.id, department: "住建办" },
    });
    expect((await act(w.townCentre, id, "start", 3)).status).toBe(403);
    c = await must(w.department, id, "start", 3);
    c = await must(w.department, id, "resolve", 4, { note: "Cable re-hung at 4 m" });
    c = await must(w.villageCentre, id, "return-visit", 5, {
      satisfaction: "satisfied",
      note: "Resident happy",
    });
    c = await must(w.villageCentre, id, "close", 6);
    expect(c).toMatchObject({ state: "closed", version: 7 });

    const res = await call(`/v1/cases/${id}`, { token: w.gridWorker.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"7"');
    expect(res.body.timeline.map((e: any) => [e.seq, e.type])).toEqual([
      [1, "reported"],
      [2, "accepted"],
      [3, "dispatched"],
      [4, "started"],
      [5, "resolved"],
      [6, "return_visited"],
      [7, "closed"],
    ]);
    expect(res.body.timeline[2].actor).toMatchObject({ userId: w.villageCentre.id, role: "center_staff" });

    const row = await projected(id, 7);
    expect(row).toMatchObject({ state: "closed", seq: 7, responsible_unit_id: w.tree.town.id });
    const events = await sql().execute({
      sql: "SELECT seq, type FROM case_events WHERE case_id = ? ORDER BY seq",
      args: [id],
    });
    expect(events.rows.map((r) => r.type)).toEqual(res.body.timeline.map((e: any) => e.type));
    const audit = await sql().execute({
      sql: "SELECT action, actor_id FROM audit_log WHERE object_type = 'case' AND object_id = ? ORDER BY seq",
      args: [id],
    });
    expect(audit.rows.map((r) => r.action)).toEqual(res.body.timeline.map((e: any) => `case.${e.type}`));
  });

  it("If-Match: missing is 428, malformed 400, stale 412 with the current version; the case is unchanged", async () => {
    const w = await makeWorld();
    const { id } = await report(w.gridWorker);
    const missing = await act(w.villageCentre, id, "accept", null);
    expect(missing).toBeProblem(428);
    const malformed = await call(`/v1/cases/${id}/accept`, {
      token: w.villageCentre.token,
      body: {},
      headers: { "if-match": "yesterday" },
    });
    expect(malformed).toBeProblem(400);
    await must(w.villageCentre, id, "accept", 1);
    const stale = await act(w.villageCentre, id, "dispatch", 1, { unitId: w.tree.grid.id });
    expect(stale).toBeProblem(412);
    expect(stale.body.currentVersion).toBe(2);
    expect(stale.headers.get("etag")).toBe('"2"');
    expect((await deskCase(w.tree.grid.id, id))?.record).toMatchObject({
      version: 2,
      state: "accepted",
    });
  });

  it("an illegal transition is 409 and a role that may not act is 403; neither changes the case", async () => {
    const w = await makeWorld();
    const { id } = await report(w.gridWorker);
    const close = await act(w.villageCentre, id, "close", 1);
    expect(close).toBeProblem(409);
    expect(close.body.type).toMatch(/illegal-transition$/);
    const reject = await act(w.gridWorker, id, "reject", 1, { reason: "not mine" });
    expect(reject).toBeProblem(403);
    const leader = await act(w.leader, id, "accept", 1);
    expect(leader).toBeProblem(403);
    const foreign = await act(w.otherGridWorker, id, "accept", 1);
    expect(foreign).toBeProblem(404);
    const noEvidence = await must(w.villageCentre, id, "accept", 1);
    await must(w.villageCentre, id, "resolve", noEvidence.version, { note: "done" });
    const closeWithoutEvidence = await act(w.villageCentre, id, "close", 3);
    expect(closeWithoutEvidence).toBeProblem(409);
    expect(closeWithoutEvidence.body.type).toMatch(/closure-needs-evidence$/);
    expect((await deskCase(w.tree.grid.id, id))?.record).toMatchObject({
      version: 3,
      state: "resolved",
    });
  });

  it("bad command bodies are 400: unknown satisfaction, missing reason, unknown dispatch unit", async () => {
    const w = await makeWorld();
    const { id } = await report(w.gridWorker);
    expect(await act(w.villageCentre, id, "reject", 1, {})).toBeProblem(400);
    await must(w.villageCentre, id, "accept", 1);
    expect(await act(w.villageCentre, id, "dispatch", 2, { unitId: crypto.randomUUID() })).toBeProblem(400);
    expect(await act(w.villageCentre, id, "dispatch", 2, { unitId: w.tree.otherGrid.id })).toBeProblem(400);
    await must(w.villageCentre, id, "resolve", 2, { note: "ok" });
    expect(await act(w.villageCentre, id, "return-visit", 3, { satisfaction: "meh" })).toBeProblem(400);
    const dissatisfied = await must(w.villageCentre, id, "return-visit", 3, { satisfaction: "dissatisfied" });
    expect(dissatisfied).toMatchObject({ state: "reopened", reopenCount: 1 });
  });

  it("merge needs a visible target case; merged cases are final", async () => {
    const w = await makeWorld();
    const a = await report(w.gridWorker);
    const b = await report(w.gridWorker);
    const foreign = await report(w.otherGridWorker);
    expect(await act(w.gridWorker, b.id, "merge", 1, { intoCaseId: foreign.id })).toBeProblem(400);
    expect(await act(w.gridWorker, b.id, "merge", 1, { intoCaseId: crypto.randomUUID() })).toBeProblem(400);
    const merged = await must(w.gridWorker, b.id, "merge", 1, { intoCaseId: a.id });
    expect(merged).toMatchObject({ state: "merged", mergedInto: a.id, actions: [] });
    expect(await act(w.gridWorker, a.id, "merge", 1, { intoCaseId: b.id })).toBeProblem(409);
  });
});

describe("reading cases", () => {
  it("GET /v1/cases/{id} is scoped: another grid's worker gets 404, the county leader sees it", async () => {
    const w = await makeWorld();
    const { id } = await report(w.gridWorker);
    expect(await call(`/v1/cases/${id}`, { token: w.otherGridWorker.token })).toBeProblem(404);
    expect((await call(`/v1/cases/${id}`, { token: w.leader.token })).status).toBe(200);
    expect(await call(`/v1/cases/${crypto.randomUUID()}`, { token: w.leader.token })).toBeProblem(404);
  });

  it("a case is found from its id alone, before the projection has it; an old ?gridId= hint is still accepted", async () => {
    const w = await makeWorld();
    const { id } = await report(w.gridWorker);
    await projected(id, 1);
    await sql().execute({ sql: "DELETE FROM cases WHERE id = ?", args: [id] }); // as if not yet projected
    const read = await call(`/v1/cases/${id}`, { token: w.villageCentre.token });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, owningUnit: { id: w.tree.grid.id } });
    expect(
      (await call(`/v1/cases/${id}?gridId=${w.tree.otherGrid.id}`, { token: w.townCentre.token })).status,
    ).toBe(200);
    expect(await must(w.villageCentre, id, "accept", 1)).toMatchObject({ id, state: "accepted" });
  });

  it("GET /v1/grids/{id}/cases lists the grid's live cases, newest first, by state, with pages", async () => {
    const w = await makeWorld();
    const a = await report(w.gridWorker);
    const b = await report(w.gridWorker);
    const c = await report(w.gridWorker);
    await must(w.villageCentre, b.id, "accept", 1);
    const all = await call(`/v1/grids/${w.tree.grid.id}/cases?limit=2`, { token: w.gridWorker.token });
    expect(all.status).toBe(200);
    expect(all.body.items.map((i: any) => i.id)).toEqual([c.id, b.id]);
    const next = await call(`/v1/grids/${w.tree.grid.id}/cases?limit=2&cursor=${all.body.nextCursor}`, {
      token: w.gridWorker.token,
    });
    expect(next.body).toEqual({ items: [expect.objectContaining({ id: a.id })], nextCursor: null });
    const accepted = await call(`/v1/grids/${w.tree.grid.id}/cases?state=accepted`, {
      token: w.villageCentre.token,
    });
    expect(accepted.body.items.map((i: any) => [i.id, i.version])).toEqual([[b.id, 2]]);
    expect(await call(`/v1/grids/${w.tree.grid.id}/cases`, { token: w.otherGridWorker.token })).toBeProblem(
      404,
    );
  });

  it("GET /v1/cases searches the projection in scope, with filters and cursor pages", async () => {
    const w = await makeWorld();
    const a = await report(w.gridWorker, {
      type: "dispute",
      title: "Boundary wall quarrel",
      severity: "urgent",
    });
    const b = await report(w.gridWorker, { title: "Blocked drain" });
    const other = await report(w.otherGridWorker, { title: "Blocked drain too" });
    const accepted = await must(w.villageCentre, b.id, "accept", 1);
    await Promise.all([projected(a.id, 1), projected(b.id, accepted.version), projected(other.id, 1)]);

    const mine = await call("/v1/cases", { token: w.villageCentre.token });
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((i: any) => i.id)).toEqual([b.id, a.id]);
    const town = await call("/v1/cases?limit=2", { token: w.townCentre.token });
    expect(town.body.items.map((i: any) => i.id)).toEqual([other.id, b.id]);
    const page2 = await call(`/v1/cases?limit=2&cursor=${town.body.nextCursor}`, {
      token: w.townCentre.token,
    });
    expect(page2.body).toEqual({ items: [expect.objectContaining({ id: a.id })], nextCursor: null });

    const q = (query: string) =>
      call(`/v1/cases?${query}`, { token: w.townCentre.token }).then((r) =>
        r.body.items.map((i: any) => i.id),
      );
    expect(await q("state=accepted")).toEqual([b.id]);
    expect(await q("type=dispute")).toEqual([a.id]);
    expect(await q("severity=urgent")).toEqual([a.id]);
    expect(await q("q=drain")).toEqual([other.id, b.id]);
    expect(await q("q=100%25")).toEqual([]);
    expect(await q(`unitId=${w.tree.village2.id}`)).toEqual([other.id]);
    expect(await q(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);

    expect(
      await call(`/v1/cases?unitId=${w.tree.village2.id}`, { token: w.villageCentre.token }),
    ).toBeProblem(404);
    expect(await call("/v1/cases?state=lost", { token: w.villageCentre.token })).toBeProblem(400);
    expect(await call("/v1/cases?cursor=garbage", { token: w.villageCentre.token })).toBeProblem(400);
  });

  it("GET /v1/cases from/to given in whole seconds count a case reported within that second as at or after it", async () => {
    const w = await makeWorld();
    const c = await report(w.gridWorker);
    await projected(c.id, 1);
    // createdAt carries milliseconds ("…:08.674Z"); the client's bound does not ("…:08Z").
    const second = `${String(c.createdAt).slice(0, 19)}Z`;
    const ids = (query: string) =>
      call(`/v1/cases?${query}`, { token: w.villageCentre.token }).then((r) => {
        expect(r.status).toBe(200);
        return r.body.items.map((i: any) => i.id);
      });
    expect(await ids(`from=${second}`)).toEqual([c.id]);
    expect(await ids(`to=${second}`)).toEqual([]);
    expect(await ids(`from=${second}&to=${new Date(Date.parse(second) + 1000).toISOString()}`)).toEqual([
      c.id,
    ]);
  });

  it("a case dispatched to a town department is in that department's list", async () => {
    const w = await makeWorld();
    const { id } = await report(w.gridWorker);
    await must(w.villageCentre, id, "accept", 1);
    const c = await must(w.villageCentre, id, "dispatch", 2, {
      unitId: w.tree.town.id,
      department: "司法所",
    });
    await projected(id, c.version);
    const res = await call("/v1/cases?state=dispatched", { token: w.department.token });
    expect(res.body.items.map((i: any) => i.id)).toContain(id);
  });
});

describe("duplicate hints", () => {
  it("lists open cases of the same type within 200 m in the same village from the last 7 days", async () => {
    const w = await makeWorld();
    const near = await report(w.gridWorker, { location: { lat: 32.684, lng: 109.029 } });
    const far = await report(w.gridWorker, { location: { lat: 32.69, lng: 109.029 } });
    const otherType = await report(w.gridWorker, {
      type: "dispute",
      location: { lat: 32.684, lng: 109.029 },
    });
    const otherVillage = await report(w.otherGridWorker, { location: { lat: 32.684, lng: 109.029 } });
    const closed = await report(w.gridWorker, { location: { lat: 32.6841, lng: 109.029 } });
    await must(w.villageCentre, closed.id, "reject", 1, { reason: "prank" });
    await Promise.all([near, far, otherType, otherVillage].map((c) => projected(c.id, 1)));
    await projected(closed.id, 2);

    const res = await call("/v1/cases", {
      token: w.villageCentre.token,
      body: newReport({ gridId: w.tree.grid2.id, location: { lat: 32.6849, lng: 109.029 } }),
    });
    expect(res.status).toBe(201);
    // The create answers from the owning desk's own cases (none in grid2); the village's follow on the case.
    expect(res.body).toMatchObject({ duplicates: [], hiddenDuplicates: 0 });
    const expected = [
      expect.objectContaining({
        id: near.id,
        owningUnitId: w.tree.grid.id,
        distanceM: 100,
        state: "reported",
      }),
    ];
    const deadline = Date.now() + 10_000;
    let seen = await call(`/v1/cases/${res.body.id}`, { token: w.villageCentre.token });
    while (seen.body.duplicates?.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      seen = await call(`/v1/cases/${res.body.id}`, { token: w.villageCentre.token });
    }
    expect(seen.status).toBe(200);
    expect(seen.body.duplicates).toEqual(expected);
    expect(seen.body.hiddenDuplicates).toBe(0);
  });
});

describe("offline sync", () => {
  it("takes many reports and answers each: created, replayed or error", async () => {
    const w = await makeWorld();
    const first = newReport();
    await call("/v1/cases", { token: w.villageCentre.token, body: { ...first, gridId: w.tree.grid.id } });
    const reports = [
      { ...first, gridId: w.tree.grid.id },
      newReport({ gridId: w.tree.grid.id }),
      newReport({ gridId: w.tree.grid2.id }),
      newReport({ gridId: w.tree.otherGrid.id }),
      { ...first, gridId: w.tree.grid.id, title: "changed" },
      newReport({ gridId: w.tree.grid2.id, mediation: { subject: "not a dispute" } }),
    ];
    const res = await call("/v1/cases/sync", { token: w.villageCentre.token, body: { reports } });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => [r.id, r.status, r.error?.status])).toEqual([
      [reports[0]!.id, "replayed", undefined],
      [reports[1]!.id, "created", undefined],
      [reports[2]!.id, "created", undefined],
      [reports[3]!.id, "error", 404],
      [reports[4]!.id, "error", 422],
      [reports[5]!.id, "error", 400],
    ]);
    expect(res.body.results[2].case.owningUnit.id).toBe(w.tree.grid2.id);
    expect(res.body.results[2].case.id).toBe(caseIdOf(w.tree.grid2.id, reports[2]!.id));
    expect((await deskCase(w.tree.grid2.id, caseIdOf(w.tree.grid2.id, reports[2]!.id)))?.record.state).toBe(
      "reported",
    );
    expect(await deskCase(w.tree.grid2.id, caseIdOf(w.tree.grid2.id, reports[5]!.id))).toBeNull();

    const tooMany = await call("/v1/cases/sync", {
      token: w.villageCentre.token,
      body: { reports: Array.from({ length: 101 }, () => newReport()) },
    });
    expect(tooMany).toBeProblem(400);
    const noIds = await call("/v1/cases/sync", {
      token: w.villageCentre.token,
      body: { reports: [{ ...newReport(), id: undefined }] },
    });
    expect(noIds).toBeProblem(400);
  });
});

describe("report sizes against the queue message a report becomes", () => {
  /** 2,000 Chinese characters (6,000 UTF-8 bytes). */
  const longChinese = "村道塌方群众出行困难请尽快处理".repeat(134).slice(0, 2000);
  /** Content that fits the schema but not one queue message: control characters are 6 bytes each in JSON. */
  const control = (n: number) => "\u0001".repeat(n);
  const oversized = () =>
    newReport({
      type: "dispute",
      description: control(4000),
      mediation: {
        parties: Array.from({ length: 50 }, () => ({ name: control(100), role: control(100) })),
      },
    });

  it("an offline sync of 100 reports of 2,000 Chinese characters each is accepted in full", async () => {
    const w = await makeWorld();
    const reports = Array.from({ length: 100 }, (_, i) =>
      newReport({ gridId: w.tree.grid.id, title: `第${i + 1}号报告`, description: longChinese }),
    );
    const res = await call("/v1/cases/sync", { token: w.villageCentre.token, body: { reports } });
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(200);
    expect(res.body.results.map((r: any) => r.status)).toEqual(reports.map(() => "created"));
    const stored = await deskCase(w.tree.grid.id, caseIdOf(w.tree.grid.id, reports[99]!.id));
    expect(stored?.record.description).toBe(longChinese);
  });

  it("a report too large for one queue message is refused up front: 413 alone, its own 413 in a sync", async () => {
    const w = await makeWorld();
    const single = oversized();
    expect(await call("/v1/cases", { token: w.gridWorker.token, body: single })).toBeProblem(
      413,
      "message-too-large",
    );
    expect(await deskCase(w.tree.grid.id, caseIdOf(w.tree.grid.id, single.id))).toBeNull();

    const fine = newReport({ gridId: w.tree.grid.id, description: longChinese });
    const big = { ...oversized(), gridId: w.tree.grid.id };
    const res = await call("/v1/cases/sync", {
      token: w.villageCentre.token,
      body: { reports: [fine, big] },
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => [r.id, r.status, r.error?.status])).toEqual([
      [fine.id, "created", undefined],
      [big.id, "error", 413],
    ]);
    expect(res.body.results[1].error.type).toMatch(/\/message-too-large$/);
    expect((await deskCase(w.tree.grid.id, caseIdOf(w.tree.grid.id, fine.id)))?.record.state).toBe(
      "reported",
    );
    expect(await deskCase(w.tree.grid.id, caseIdOf(w.tree.grid.id, big.id))).toBeNull();
  });
});
