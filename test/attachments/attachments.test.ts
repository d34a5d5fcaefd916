import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { act, deskCase, makeWorld, must, report } from "../support/case-fixtures";
import { call } from "../support/helpers";
import { bytes, HEIC, JPEG, PNG, WEBP } from "../support/images";

function upload(token: string, caseId: string, body: Uint8Array, contentType: string) {
  return call(`/v1/cases/${caseId}/attachments`, {
    method: "POST",
    token,
    rawBody: body,
    headers: { "content-type": contentType },
  });
}

describe("evidence photos", () => {
  it("stores a photo in R2, records it on the case, and serves it to people in scope only", async () => {
    const w = await makeWorld();
    const { id } = await report(w.gridWorker);
    const res = await upload(w.gridWorker.token, id, JPEG, "image/jpeg");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      caseId: id,
      caseVersion: 2,
      contentType: "image/jpeg",
      size: JPEG.length,
    });
    expect(res.headers.get("etag")).toBe('"2"');
    const stored = (await deskCase(w.tree.grid.id, id))!;
    expect(stored.record.attachments).toEqual([
      expect.objectContaining({ id: res.body.id, stage: "reported", by: w.gridWorker.id }),
    ]);
    expect(stored.events.at(-1)).toMatchObject({ seq: 2, type: "attachment_added" });
    expect(await env.EVIDENCE.head(`evidence/${res.body.id}`)).not.toBeNull();

    const got = await call(res.body.url, { token: w.villageCentre.token });
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("image/jpeg");
    expect(got.headers.get("x-content-type-options")).toBe("nosniff");
    expect(got.text.length).toBe(JPEG.length);
    expect(await call(res.body.url, { token: w.otherGridWorker.token })).toBeProblem(404);
    expect(await call(`/v1/attachments/${crypto.randomUUID()}`, { token: w.leader.token })).toBeProblem(404);
  });

  it("accepts PNG, WebP and HEIC by their bytes", async () => {
    const w = await makeWorld();
    const { id } = await report(w.gridWorker);
    for (const [body, type] of [
      [PNG, "image/png"],
      [WEBP, "image/webp"],
      [HEIC, "image/heic"],
    ] as const) {
      expect((await upload(w.gridWorker.token, id, body, type)).status).toBe(201);
    }
  });

  it("refuses a wrong type or size with a 4xx problem and leaves the case unchanged", async () => {
    const w = await makeWorld();
    const { id } = await report(w.gridWorker);
    const cases: Array<[Uint8Array, string, number]> = [
      [JPEG, "image/png", 415],
      [bytes("GIF89a", [1, 0, 1, 0, 0, 0]), "image/gif", 415],
      [bytes("<svg onload=alert(1)>"), "image/jpeg", 415],
      [JPEG, "text/plain", 415],
      [new Uint8Array(0), "image/jpeg", 415],
    ];
    for (const [body, type, status] of cases) {
      const res = await upload(w.gridWorker.token, id, body, type);
      expect(res, `${type} → ${res.status}`).toBeProblem(status);
    }
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    big.set(JPEG);
    expect(await upload(w.gridWorker.token, id, big, "image/jpeg")).toBeProblem(413);
    expect((await deskCase(w.tree.grid.id, id))?.record).toMatchObject({ version: 1, attachments: [] });
  });

  it("a case holds at most 20 attachments; closed cases and bystanders get none", async () => {
    const w = await makeWorld();
    const { id } = await report(w.gridWorker);
    for (let i = 0; i < 20; i++)
      expect((await upload(w.gridWorker.token, id, JPEG, "image/jpeg")).status).toBe(201);
    const tooMany = await upload(w.gridWorker.token, id, JPEG, "image/jpeg");
    expect(tooMany).toBeProblem(409);
    expect((await deskCase(w.tree.grid.id, id))?.record.attachments).toHaveLength(20);

    const other = await report(w.gridWorker);
    expect(await upload(w.leader.token, other.id, JPEG, "image/jpeg")).toBeProblem(403);
    expect(await upload(w.otherGridWorker.token, other.id, JPEG, "image/jpeg")).toBeProblem(404);
    await must(w.villageCentre, other.id, "reject", 1, { reason: "not ours" });
    expect(await upload(w.gridWorker.token, other.id, JPEG, "image/jpeg")).toBeProblem(409);
  });

  it("a handling photo and a resolution note are enough evidence to close without a return visit", async () => {
    const w = await makeWorld();
    const { id } = await report(w.gridWorker);
    await must(w.gridWorker, id, "accept", 1);
    await must(w.gridWorker, id, "resolve", 2, { note: "Swept and cleared" });
    expect(await act(w.gridWorker, id, "close", 3)).toBeProblem(409);
    const photo = await upload(w.gridWorker.token, id, JPEG, "image/jpeg");
    expect(photo.body.caseVersion).toBe(4);
    const closed = await must(w.gridWorker, id, "close", 4);
    expect(closed.state).toBe("closed");
  });
});
