import { describe, expect, it } from "vitest";
import { makeWorld, report } from "../support/case-fixtures";
import { call, makeTree, makeUser, sql } from "../support/helpers";
import { JPEG } from "../support/images";

async function auditOf(action: string, objectId: string) {
  const rs = await sql().execute({
    sql: "SELECT actor_id, actor_role, scope_path, outcome, detail, request_id FROM audit_log WHERE action = ? AND object_id = ? ORDER BY seq",
    args: [action, objectId],
  });
  return rs.rows.map((r) => ({ ...r, detail: r.detail ? JSON.parse(String(r.detail)) : null }));
}

describe("the audit trail of reads and sessions", () => {
  it("records every download of an evidence photo, by whom and for which case", async () => {
    const w = await makeWorld();
    const { id: caseId } = await report(w.gridWorker, { title: "村口电线杆倾斜" });
    const uploaded = await call(`/v1/cases/${caseId}/attachments`, {
      method: "POST",
      token: w.gridWorker.token,
      rawBody: JPEG,
      headers: { "content-type": "image/jpeg" },
    });
    expect(uploaded.status).toBe(201);
    const requestId = `download-${crypto.randomUUID()}`;
    const got = await call(uploaded.body.url, {
      token: w.villageCentre.token,
      headers: { "x-request-id": requestId },
    });
    expect(got.status).toBe(200);
    expect(got.text.length).toBe(JPEG.length);
    expect(await auditOf("attachment.download", uploaded.body.id)).toEqual([
      {
        actor_id: w.villageCentre.id,
        actor_role: "center_staff",
        scope_path: w.tree.grid.path,
        outcome: "success",
        detail: { caseId, size: JPEG.length },
        request_id: requestId,
      },
    ]);
    // A refused download serves nothing and records no download.
    expect(await call(uploaded.body.url, { token: w.otherGridWorker.token })).toBeProblem(404);
    expect(await auditOf("attachment.download", uploaded.body.id)).toHaveLength(1);
  });

  it("records every refresh-token rotation in the token's family", async () => {
    const tree = await makeTree();
    const password = "网格员的密码-2026";
    const user = await makeUser("grid_worker", tree.grid, password);
    const login = await call("/v1/auth/login", { body: { username: user.username, password } });
    expect(login.status).toBe(200);
    const requestId = `refresh-${crypto.randomUUID()}`;
    const rotated = await call("/v1/auth/refresh", {
      body: { refreshToken: login.body.refreshToken },
      headers: { "x-request-id": requestId },
    });
    expect(rotated.status).toBe(200);
    const rows = await auditOf("auth.refresh", user.id);
    expect(rows).toEqual([
      {
        actor_id: user.id,
        actor_role: "grid_worker",
        scope_path: tree.grid.path,
        outcome: "success",
        detail: { familyId: expect.any(String) },
        request_id: requestId,
      },
    ]);
    const family = await sql().execute({
      sql: "SELECT count(*) AS n FROM refresh_tokens WHERE family_id = ?",
      args: [rows[0]!.detail.familyId],
    });
    expect(Number(family.rows[0]!.n)).toBe(2);
  });
});
