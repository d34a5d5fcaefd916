import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deliberationVillage, ok } from "../support/deliberation";
import { call, makeUser, sql, type TestUnit, type TestUser } from "../support/helpers";
import { bytes, JPEG, PNG } from "../support/images";

/** Records a session of `unit` held at `heldAt`. */
function session(staff: TestUser, unit: TestUnit, kind = "open_talk", heldAt = new Date().toISOString()) {
  return ok(`/v1/units/${unit.id}/deliberation/sessions`, staff.token, {
    kind,
    title: "三月说事会",
    heldAt,
    place: "村委会议室",
  });
}

function upload(token: string, sessionId: string, body: Uint8Array, contentType: string, kind = "photo") {
  return call(`/v1/deliberation/sessions/${sessionId}/attachments?kind=${kind}`, {
    method: "POST",
    token,
    rawBody: body,
    headers: { "content-type": contentType },
  });
}

async function storedRows(sessionId: string) {
  return (
    await sql().execute({
      sql: "SELECT id, kind, content_type, size FROM deliberation_attachments WHERE session_id = ?",
      args: [sessionId],
    })
  ).rows;
}

describe("a session's photos and sign-in sheet", () => {
  it("stores them in R2, lists them on the session and serves them, audited, to readers of the session", async () => {
    const v = await deliberationVillage();
    const s = await session(v.staff, v.tree.village);
    const sheet = await upload(v.staff.token, s.id, PNG, "image/png", "sign_in_sheet");
    expect(sheet.status, JSON.stringify(sheet.body)).toBe(201);
    expect(sheet.body).toMatchObject({
      sessionId: s.id,
      kind: "sign_in_sheet",
      contentType: "image/png",
      size: PNG.length,
      uploadedBy: v.staff.id,
    });
    expect(sheet.headers.get("location")).toBe(sheet.body.url);
    const photo = await upload(v.staff.token, s.id, JPEG, "image/jpeg");
    expect(photo.status).toBe(201);
    expect(photo.body.kind).toBe("photo");
    expect(await env.EVIDENCE.head(`deliberation/${sheet.body.id}`)).not.toBeNull();
    expect(await storedRows(s.id)).toHaveLength(2);

    const got = await ok(`/v1/deliberation/sessions/${s.id}`, v.lead.token, undefined, 200);
    expect(got.attachments.map((a: { id: string }) => a.id).sort()).toEqual(
      [sheet.body.id, photo.body.id].sort(),
    );

    const down = await call(sheet.body.url, { token: v.lead.token });
    expect(down.status).toBe(200);
    expect(down.headers.get("content-type")).toBe("image/png");
    expect(down.text.length).toBe(PNG.length);
    const audit = await sql().execute({
      sql: "SELECT action FROM audit_log WHERE object_id = ? ORDER BY seq",
      args: [sheet.body.id],
    });
    expect(audit.rows.map((r) => r.action)).toEqual([
      "deliberation.attachment",
      "deliberation.attachment.download",
    ]);

    // Another village's people see nothing of it.
    expect(await call(sheet.body.url, { token: v.otherStaff.token })).toBeProblem(404);
    expect(await upload(v.otherStaff.token, s.id, JPEG, "image/jpeg")).toBeProblem(404);
    expect(
      await call(`/v1/deliberation/attachments/${crypto.randomUUID()}`, { token: v.staff.token }),
    ).toBeProblem(404);
  });

  it("refuses wrong types (415), oversize bodies (413), wrong roles (403) and bad kinds (400), storing nothing", async () => {
    const v = await deliberationVillage();
    const s = await session(v.staff, v.tree.village);
    for (const [body, type] of [
      [JPEG, "image/png"],
      [bytes("%PDF-1.7\n"), "application/pdf"],
      [bytes("<svg onload=alert(1)>"), "image/jpeg"],
      [new Uint8Array(0), "image/jpeg"],
    ] as const)
      expect(await upload(v.staff.token, s.id, body, type), type).toBeProblem(415);
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    big.set(JPEG);
    expect(await upload(v.staff.token, s.id, big, "image/jpeg")).toBeProblem(413);
    expect(await upload(v.party.token, s.id, JPEG, "image/jpeg")).toBeProblem(403);
    expect(await upload(v.staff.token, s.id, JPEG, "image/jpeg", "selfie")).toBeProblem(400);
    // A grid's centre is below the village: it reads the session but adds nothing to it.
    const gridStaff = await makeUser("center_staff", v.tree.grid);
    expect(await upload(gridStaff.token, s.id, JPEG, "image/jpeg")).toBeProblem(403);
    expect(await storedRows(s.id)).toHaveLength(0);
  });

  it("holds at most 30 per session", async () => {
    const v = await deliberationVillage();
    const s = await session(v.staff, v.tree.village);
    await sql().execute({
      sql: `INSERT INTO deliberation_attachments
              (id, session_id, unit_path, kind, content_type, size, uploaded_by, uploaded_at)
            SELECT lower(hex(randomblob(16))), ?, '/x/', 'photo', 'image/jpeg', 1, ?, ? FROM
              (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 29) SELECT i FROM n)`,
      args: [s.id, v.staff.id, new Date().toISOString()],
    });
    expect((await upload(v.staff.token, s.id, JPEG, "image/jpeg")).status).toBe(201);
    const over = await upload(v.staff.token, s.id, JPEG, "image/jpeg");
    expect(over).toBeProblem(409, "too-many-attachments");
    expect(await storedRows(s.id)).toHaveLength(30);
  });
});

describe("a unit's sessions", () => {
  it("lists the unit's subtree newest first, filtered by kind and period, page by page", async () => {
    const v = await deliberationVillage();
    const day = (d: string, h = "10:00") => new Date(`${d}T${h}:00+08:00`).toISOString();
    const a = await session(v.staff, v.tree.village, "open_talk", day("2026-03-01"));
    const b = await session(v.staff, v.tree.village, "consultation", day("2026-03-10"));
    const c = await session(v.staff, v.tree.grid, "open_talk", day("2026-03-31", "23:30"));
    const d = await session(v.staff, v.tree.grid2, "policy_briefing", day("2026-04-01", "00:30"));
    await session(v.otherStaff, v.tree.village2, "open_talk", day("2026-03-05"));
    const list = (unit: TestUnit, token: string, q = "") =>
      ok(`/v1/units/${unit.id}/deliberation/sessions?${q}`, token, undefined, 200);

    const all = await list(v.tree.village, v.staff.token);
    expect(all.items.map((s: { id: string }) => s.id)).toEqual([d.id, c.id, b.id, a.id]);
    expect(all.nextCursor).toBeNull();
    const march = await list(v.tree.village, v.staff.token, "from=2026-03-01&to=2026-03-31");
    expect(march.items.map((s: { id: string }) => s.id)).toEqual([c.id, b.id, a.id]);
    const talks = await list(v.tree.village, v.staff.token, "kind=open_talk");
    expect(talks.items.map((s: { id: string }) => s.id)).toEqual([c.id, a.id]);

    const first = await list(v.tree.village, v.staff.token, "limit=3");
    expect(first.items).toHaveLength(3);
    const second = await list(v.tree.village, v.staff.token, `limit=3&cursor=${first.nextCursor}`);
    expect(second.items.map((s: { id: string }) => s.id)).toEqual([a.id]);
    expect(second.nextCursor).toBeNull();

    // A grid's household lead sees the village's own sessions and their grid's, not the neighbouring grid's.
    const fromGrid = await list(v.tree.village, v.lead.token);
    expect(fromGrid.items.map((s: { id: string }) => s.id)).toEqual([c.id, b.id, a.id]);
    // The county sees the village from above.
    expect((await list(v.tree.village, v.county.token)).items).toHaveLength(4);

    expect(
      await call(`/v1/units/${v.tree.village.id}/deliberation/sessions`, { token: v.otherStaff.token }),
    ).toBeProblem(404);
    for (const q of ["kind=meeting", "from=2026-02-30", "from=2026-04-01&to=2026-03-01", "cursor=abc"])
      expect(
        await call(`/v1/units/${v.tree.village.id}/deliberation/sessions?${q}`, { token: v.staff.token }),
        q,
      ).toBeProblem(400);
  });
});
