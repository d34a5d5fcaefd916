import { describe, expect, it } from "vitest";
import { must } from "../support/case-fixtures";
import { call, sql } from "../support/helpers";
import { JPEG, PNG } from "../support/images";
import { makeResidentWorld, type ResidentWorld, residentReport, signUp } from "../support/resident-accounts";

/** The grid worker accepts and resolves a resident's report (a small matter kept in the grid). */
async function resolveInGrid(world: ResidentWorld, caseId: string) {
  const accepted = await must(world.gridWorker, caseId, "accept", 1, { note: "网格员已受理" });
  return must(world.gridWorker, caseId, "resolve", accepted.version, {
    note: "内部备注：已联系电工李师傅更换灯泡",
  });
}

describe("a resident's reports: into the grid, followed in plain words, rated on the return visit", () => {
  it("reports into the grid where the location lies, through the case loop, and replays by id", async () => {
    const world = await makeResidentWorld();
    const { token, account } = await signUp();
    const body = residentReport(world.point);
    const res = await call("/v1/resident/reports", { token, body });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get("location")).toBe(`/v1/resident/reports/${res.body.id}`);
    expect(res.body).toMatchObject({
      serviceCode: "street_lighting",
      state: "reported",
      stateLabel: "已上报",
      canRate: false,
    });
    expect(res.body.timeline).toEqual([
      { at: expect.any(String), step: "reported", text: "已收到您反映的问题" },
    ]);

    const staffView = await call(`/v1/cases/${res.body.id}`, { token: world.gridWorker.token });
    expect(staffView.status, staffView.text).toBe(200);
    expect(staffView.body.owningUnit.id).toBe(world.tree.grid.id);
    expect(staffView.body.reporter).toMatchObject({ userId: account.id, role: "resident" });
    expect(staffView.body.type).toBe("livelihood");

    const stored = await sql().execute({
      sql: "SELECT * FROM public_reports WHERE case_id = ?",
      args: [res.body.id],
    });
    expect(stored.rows[0]).toMatchObject({
      reporter_id: account.id,
      channel: "resident",
      owning_unit_id: world.tree.grid.id,
    });

    const replay = await call("/v1/resident/reports", { token, body });
    expect(replay.status, replay.text).toBe(200);
    expect(replay.body.id).toBe(res.body.id);
    const reused = await call("/v1/resident/reports", { token, body: { ...body, title: "另一件事" } });
    expect(reused).toBeProblem(422, "idempotency-key-reused");

    const list = await call("/v1/resident/reports", { token });
    expect(list.body.items.map((i: { id: string }) => i.id)).toEqual([res.body.id]);
  });

  it("refuses non-public matter types and places far from any grid, writing nothing", async () => {
    const world = await makeResidentWorld();
    const { token, account } = await signUp();
    const dispute = await call("/v1/resident/reports", {
      token,
      body: residentReport(world.point, { serviceCode: "dispute" }),
    });
    expect(dispute).toBeProblem(400, "validation");
    const far = await call("/v1/resident/reports", {
      token,
      body: residentReport({ lat: -45, lng: -170 }),
    });
    expect(far).toBeProblem(400, "bad-request");
    const rows = await sql().execute({
      sql: "SELECT count(*) AS n FROM public_reports WHERE reporter_id = ?",
      args: [account.id],
    });
    expect(Number(rows.rows[0]!.n)).toBe(0);
  });

  it("shows progress without internal notes; a satisfied rating is kept on the resolved case", async () => {
    const world = await makeResidentWorld();
    const { token } = await signUp();
    const made = await call("/v1/resident/reports", { token, body: residentReport(world.point) });
    const early = await call(`/v1/resident/reports/${made.body.id}/rating`, {
      token,
      body: { satisfaction: "satisfied" },
      headers: { "if-match": '"1"' },
    });
    expect(early).toBeProblem(409, "illegal-transition");

    const resolved = await resolveInGrid(world, made.body.id);
    const view = await call(`/v1/resident/reports/${made.body.id}`, { token });
    expect(view.status).toBe(200);
    expect(view.headers.get("etag")).toBe(`"${resolved.version}"`);
    expect(view.body.canRate).toBe(true);
    expect(view.body.timeline.map((t: { step: string }) => t.step)).toEqual([
      "reported",
      "accepted",
      "resolved",
    ]);
    expect(view.text).not.toContain("李师傅");
    expect(view.text).not.toContain(world.gridWorker.id);

    const missing = await call(`/v1/resident/reports/${made.body.id}/rating`, {
      token,
      body: { satisfaction: "satisfied" },
    });
    expect(missing).toBeProblem(428, "if-match-required");
    const rated = await call(`/v1/resident/reports/${made.body.id}/rating`, {
      token,
      body: { satisfaction: "satisfied", comment: "修得很快，谢谢！" },
      headers: { "if-match": `"${resolved.version}"` },
    });
    expect(rated.status, rated.text).toBe(200);
    expect(rated.body.state).toBe("resolved");
    expect(rated.body.rating).toMatchObject({ satisfaction: "satisfied", comment: "修得很快，谢谢！" });
    expect(rated.body.canRate).toBe(true);
  });

  it("a dissatisfied rating reopens the case, as the closed loop defines; a stale If-Match is 412", async () => {
    const world = await makeResidentWorld();
    const { token } = await signUp();
    const other = await signUp();
    const made = await call("/v1/resident/reports", { token, body: residentReport(world.point) });
    const resolved = await resolveInGrid(world, made.body.id);
    const stale = await call(`/v1/resident/reports/${made.body.id}/rating`, {
      token,
      body: { satisfaction: "dissatisfied" },
      headers: { "if-match": `"${resolved.version - 1}"` },
    });
    expect(stale).toBeProblem(412, "stale-version");
    const notMine = await call(`/v1/resident/reports/${made.body.id}/rating`, {
      token: other.token,
      body: { satisfaction: "satisfied" },
      headers: { "if-match": `"${resolved.version}"` },
    });
    expect(notMine).toBeProblem(404, "not-found");

    const rated = await call(`/v1/resident/reports/${made.body.id}/rating`, {
      token,
      body: { satisfaction: "dissatisfied", comment: "路灯还是不亮" },
      headers: { "if-match": `"${resolved.version}"` },
    });
    expect(rated.status, rated.text).toBe(200);
    expect(rated.body.state).toBe("reopened");
    expect(rated.body.canRate).toBe(false);
    expect(rated.body.timeline.at(-1)).toMatchObject({ step: "return_visited" });
    const staff = await call(`/v1/cases/${made.body.id}`, { token: world.gridWorker.token });
    expect(staff.body.reopenCount).toBe(1);
    expect(staff.body.returnVisit).toMatchObject({ satisfaction: "dissatisfied", note: "路灯还是不亮" });
  });

  it("adds photos to one's own report; a wrong type is 415, an oversized photo 413, another's report 404", async () => {
    const world = await makeResidentWorld();
    const { token } = await signUp();
    const other = await signUp();
    const made = await call("/v1/resident/reports", { token, body: residentReport(world.point) });
    const path = `/v1/resident/reports/${made.body.id}/attachments`;
    const photo = await call(path, { token, rawBody: JPEG, headers: { "content-type": "image/jpeg" } });
    expect(photo.status, photo.text).toBe(201);
    expect(photo.body).toMatchObject({
      caseId: made.body.id,
      caseVersion: 2,
      contentType: "image/jpeg",
      size: JPEG.length,
    });
    const staff = await call(`/v1/cases/${made.body.id}`, { token: world.gridWorker.token });
    expect(staff.body.attachments.map((a: { id: string }) => a.id)).toEqual([photo.body.id]);

    expect(await call(path, { token, rawBody: PNG, headers: { "content-type": "image/jpeg" } })).toBeProblem(
      415,
      "unsupported-media-type",
    );
    const huge = new Uint8Array(10 * 1024 * 1024 + 1);
    huge.set(JPEG);
    expect(await call(path, { token, rawBody: huge, headers: { "content-type": "image/jpeg" } })).toBeProblem(
      413,
      "body-too-large",
    );
    expect(
      await call(path, { token: other.token, rawBody: JPEG, headers: { "content-type": "image/jpeg" } }),
    ).toBeProblem(404, "not-found");
    const after = await call(`/v1/cases/${made.body.id}`, { token: world.gridWorker.token });
    expect(after.body.attachments).toHaveLength(1);
  });
});
