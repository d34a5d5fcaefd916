import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bulletinCentre, latestBulletin } from "../../src/db/repos/bulletins";
import type { WebhookDeliveryMessage } from "../../src/db/repos/webhooks";
import type { Principal } from "../../src/env";
import { getDb } from "../../src/platform/db/client";
import { Problem } from "../../src/platform/http/problem";
import {
  buildBulletin,
  publishDueBulletins,
  regenerateBulletin,
  storeRegeneration,
} from "../../src/services/bulletins";
import { CaptureQueue } from "../support/doubles";
import { syntheticCaseEvents } from "../support/figures";
import { call, makeTree, makeUser, sql, type TestTree, type TestUser } from "../support/helpers";
import { deliver } from "../support/queues";

/** Monday 2026-04-06, 10:00 in China: the last complete month is March 2026. */
const MONDAY = Date.parse("2026-04-06T02:00:00Z");
const MARCH = "2026-03-01";

/** Projects `count` synthetic March cases of the tree (seeded), as the case-events consumer receives them. */
async function project(tree: TestTree, count: number, seed: number): Promise<number> {
  const { messages } = syntheticCaseEvents(tree, count, seed);
  for (let i = 0; i < messages.length; i += 60) await deliver("case-events", messages.slice(i, i + 60));
  return messages.filter((m) => m.event.type === "reported").length;
}

/** A tree with March cases and the town's March bulletin (version 1) published by the cron. */
async function townWithBulletin() {
  const tree = await makeTree();
  const reported = await project(tree, 12, 7);
  const staff = await makeUser("center_staff", tree.town);
  expect(await publishDueBulletins(env, MONDAY, { scopePath: tree.town.path, kinds: ["month"] })).toBe(1);
  return { tree, staff, reported };
}

const principalOf = (u: TestUser): Principal => ({
  userId: u.id,
  username: u.username,
  role: u.role,
  unitId: u.unit.id,
  unitPath: u.unit.path,
  unitLevel: u.unit.level,
});

async function versionsStored(unitId: string) {
  const rs = await sql().execute({
    sql: "SELECT id, version, content FROM bulletins WHERE unit_id = ? AND period_kind = 'month' AND period_from = ? ORDER BY version",
    args: [unitId, MARCH],
  });
  return rs.rows.map((r) => ({ id: String(r.id), version: Number(r.version), content: String(r.content) }));
}

async function inboxVersions(unitId: string): Promise<number[]> {
  const rs = await sql().execute({
    sql: "SELECT payload FROM inbox_items WHERE unit_id = ? AND kind = 'bulletin'",
    args: [unitId],
  });
  return rs.rows.map((r) => (JSON.parse(String(r.payload)) as { version: number }).version).sort();
}

async function bulletinAudits(path: string) {
  const rs = await sql().execute({
    sql: `SELECT actor_id, actor_role, action, object_id, request_id, detail FROM audit_log
          WHERE object_type = 'bulletin' AND scope_path = ? ORDER BY seq`,
    args: [path],
  });
  return rs.rows.map((r) => ({
    actorId: r.actor_id,
    actorRole: r.actor_role,
    action: r.action,
    objectId: r.object_id,
    requestId: r.request_id,
    detail: JSON.parse(String(r.detail)),
  }));
}

const regeneration = (tree: TestTree, token: string, from = MARCH, kind = "month", unit = tree.town) =>
  call(`/v1/units/${unit.id}/bulletins/${kind}/${from}/regeneration`, { method: "POST", token });

describe("bulletin versions", () => {
  it("answer the same version and write nothing when a regeneration finds the figures unchanged", async () => {
    const { tree, staff } = await townWithBulletin();
    const [v1] = await versionsStored(tree.town.id);
    const res = await regeneration(tree, staff.token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      id: v1!.id,
      unitId: tree.town.id,
      kind: "month",
      from: MARCH,
      version: 1,
    });
    expect(res.body.to).toBe("2026-03-31");
    expect(await versionsStored(tree.town.id)).toEqual([v1]);
    expect(await inboxVersions(tree.town.id)).toEqual([1]);
    expect((await bulletinAudits(tree.town.path)).map((a) => a.action)).toEqual(["bulletin.generate"]);
  });

  it("store, audit and deliver version 2 when the figures changed, keeping version 1 readable", async () => {
    const { tree, staff, reported } = await townWithBulletin();
    const hook = await call(`/v1/units/${tree.town.id}/webhooks`, {
      token: staff.token,
      body: { url: "https://hooks.example.org/bulletins", events: ["bulletin.published"] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    // Late events of March reach the projection after the bulletin was published.
    const late = await project(tree, 5, 8);

    const queue = new CaptureQueue();
    const withQueue = { ...env, WEBHOOKS: queue } as unknown as Cloudflare.Env;
    const caller = { principal: principalOf(staff), requestId: `req-${crypto.randomUUID()}` };
    const done = await regenerateBulletin(
      withQueue,
      caller,
      tree.town.id,
      "month",
      MARCH,
      MONDAY + 86_400_000,
    );
    expect(done.created).toBe(true);
    expect(done.row).toMatchObject({
      unitId: tree.town.id,
      periodFrom: MARCH,
      periodTo: "2026-03-31",
      version: 2,
    });

    const stored = await versionsStored(tree.town.id);
    expect(stored.map((v) => v.version)).toEqual([1, 2]);
    expect(stored[1]!.id).toBe(done.row.id);
    expect(JSON.parse(stored[0]!.content).headline.reported).toBe(reported);
    expect(JSON.parse(stored[1]!.content).headline.reported).toBe(reported + late);
    // One new inbox item and one webhook offer, both naming version 2.
    expect(await inboxVersions(tree.town.id)).toEqual([1, 2]);
    const offered = (queue.messages as unknown as WebhookDeliveryMessage[]).filter(
      (m) => m.event.kind === "bulletin.published",
    );
    expect(offered).toHaveLength(1);
    expect(offered[0]!.endpointId).toBe(hook.body.id);
    expect(offered[0]!.event.data).toMatchObject({
      unitId: tree.town.id,
      bulletinId: done.row.id,
      version: 2,
      kind: "month",
      from: MARCH,
      reported: reported + late,
    });
    // The cron's version 1 by the system, the regeneration by the staff member, each naming unit, period, version.
    expect(await bulletinAudits(tree.town.path)).toEqual([
      {
        actorId: null,
        actorRole: "system",
        action: "bulletin.generate",
        objectId: stored[0]!.id,
        requestId: null,
        detail: { unitId: tree.town.id, kind: "month", from: MARCH, to: "2026-03-31", version: 1 },
      },
      {
        actorId: staff.id,
        actorRole: "center_staff",
        action: "bulletin.regenerate",
        objectId: done.row.id,
        requestId: caller.requestId,
        detail: { unitId: tree.town.id, kind: "month", from: MARCH, to: "2026-03-31", version: 2 },
      },
    ]);

    // The list shows the period once, at its latest version; the versions list and each id read both.
    const list = await call(`/v1/units/${tree.town.id}/bulletins?kind=month`, { token: staff.token });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([expect.objectContaining({ id: done.row.id, version: 2 })]);
    const versions = await call(`/v1/units/${tree.town.id}/bulletins/month/${MARCH}/versions`, {
      token: staff.token,
    });
    expect(versions.status).toBe(200);
    expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(versions.body.nextCursor).toBeNull();
    const paged = await call(`/v1/units/${tree.town.id}/bulletins/month/${MARCH}/versions?limit=1`, {
      token: staff.token,
    });
    expect(paged.body.items.map((v: { version: number }) => v.version)).toEqual([2]);
    const rest = await call(
      `/v1/units/${tree.town.id}/bulletins/month/${MARCH}/versions?limit=1&cursor=${paged.body.nextCursor}`,
      { token: staff.token },
    );
    expect(rest.body.items.map((v: { id: string }) => v.id)).toEqual([stored[0]!.id]);
    const first = await call(`/v1/bulletins/${stored[0]!.id}`, { token: staff.token });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ version: 1, content: { headline: { reported } } });
    const second = await call(`/v1/bulletins/${done.row.id}?format=csv`, { token: staff.token });
    expect(second.status).toBe(200);
    expect(second.text).toContain("第 2 版");

    // Regenerating again with nothing new answers version 2 over HTTP and delivers nothing more.
    const again = await regeneration(tree, staff.token);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: done.row.id, version: 2 });
    expect((await versionsStored(tree.town.id)).length).toBe(2);
    expect(await inboxVersions(tree.town.id)).toEqual([1, 2]);
  });

  it("store version 2 once when two regenerations run at once, answering both with it", async () => {
    const { tree, staff } = await townWithBulletin();
    const county = await makeUser("center_staff", tree.county);
    await project(tree, 4, 9);
    const [a, b] = await Promise.all([regeneration(tree, staff.token), regeneration(tree, county.token)]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.body.version).toBe(2);
    expect(b.body.id).toBe(a.body.id);
    const stored = await versionsStored(tree.town.id);
    expect(stored.map((v) => v.version)).toEqual([1, 2]);
    expect(stored[1]!.id).toBe(a.body.id);
    expect(await inboxVersions(tree.town.id)).toEqual([1, 2]);
    const audits = await bulletinAudits(tree.town.path);
    expect(audits.filter((x) => x.action === "bulletin.regenerate")).toHaveLength(1);
    const winner = a.status === 201 ? staff : county;
    expect(audits.at(-1)).toMatchObject({ actorId: winner.id, objectId: a.body.id, detail: { version: 2 } });
  });

  it("refuse a regeneration that read a version another one has since superseded with other content", async () => {
    const { tree, staff } = await townWithBulletin();
    const db = getDb(env);
    const centre = (await bulletinCentre(db, tree.town.id))!;
    const v1 = (await latestBulletin(db, tree.town.id, "month", MARCH))!;
    const caller = { principal: principalOf(staff), requestId: crypto.randomUUID() };
    await project(tree, 3, 10);
    const middle = await regenerateBulletin(env, caller, tree.town.id, "month", MARCH, MONDAY + 60_000);
    expect(middle.row.version).toBe(2);
    // Figures read after version 2: a regeneration still holding version 1 as the latest loses the race.
    await project(tree, 3, 11);
    const period = { from: MARCH, to: "2026-03-31" };
    const newer = await buildBulletin(db, centre, "month", period);
    const error = await storeRegeneration(env, caller, centre, v1, newer, MONDAY + 120_000).catch((e) => e);
    expect(error).toBeInstanceOf(Problem);
    expect(error).toMatchObject({ status: 409, slug: "bulletin-regenerated" });
    expect((await versionsStored(tree.town.id)).map((v) => v.version)).toEqual([1, 2]);
    expect(await inboxVersions(tree.town.id)).toEqual([1, 2]);
    // The same stale read with the winner's content is answered with the winner.
    const stale = await storeRegeneration(env, caller, centre, v1, JSON.parse(middle.row.content), MONDAY);
    expect(stale).toEqual({ row: middle.row, created: false });
    // Read again, the newer figures become version 3.
    const next = await regeneration(tree, staff.token);
    expect(next.status).toBe(201);
    expect(next.body.version).toBe(3);
    expect((await bulletinAudits(tree.town.path)).map((a) => a.detail.version)).toEqual([1, 2, 3]);
  });

  it("are written once per period by the cron, which fires twice and again after a regeneration", async () => {
    const { tree, staff } = await townWithBulletin();
    await project(tree, 3, 12);
    expect((await regeneration(tree, staff.token)).status).toBe(201);
    const scope = { scopePath: tree.town.path, kinds: ["month"] as const };
    const runs = await Promise.all([
      publishDueBulletins(env, MONDAY, scope),
      publishDueBulletins(env, MONDAY + 60_000, scope),
    ]);
    expect(runs).toEqual([0, 0]);
    expect((await versionsStored(tree.town.id)).map((v) => v.version)).toEqual([1, 2]);
    const generated = (await bulletinAudits(tree.town.path)).filter((a) => a.action === "bulletin.generate");
    expect(generated).toHaveLength(1);
  });

  it("answer 404 outside the caller's subtree or for a period without a bulletin, and write nothing", async () => {
    const { tree } = await townWithBulletin();
    const other = await makeTree();
    const stranger = await makeUser("center_staff", other.town);
    const res = await regeneration(tree, stranger.token);
    expect(res).toBeProblem(404, "not-found");
    const unknown = await call(`/v1/units/${crypto.randomUUID()}/bulletins/month/${MARCH}/regeneration`, {
      method: "POST",
      token: stranger.token,
    });
    expect(unknown).toBeProblem(404, "not-found");
    const versions = await call(`/v1/units/${tree.town.id}/bulletins/month/${MARCH}/versions`, {
      token: stranger.token,
    });
    expect(versions).toBeProblem(404, "not-found");
    const staff = await makeUser("center_staff", tree.town);
    expect(await regeneration(tree, staff.token, "2026-02-01")).toBeProblem(404, "not-found");
    expect(await regeneration(tree, staff.token, "2026-03-30", "week")).toBeProblem(404, "not-found");
    expect((await versionsStored(tree.town.id)).map((v) => v.version)).toEqual([1]);
    expect((await bulletinAudits(tree.town.path)).map((a) => a.action)).toEqual(["bulletin.generate"]);
  });

  it("answer 400 for a village, a day that starts no period or an unknown kind, and 403 for readers", async () => {
    const { tree, staff } = await townWithBulletin();
    const village = await regeneration(tree, staff.token, MARCH, "month", tree.village);
    expect(village).toBeProblem(400, "bad-request");
    expect(village.body.errors).toEqual([{ path: "params.id", message: "a village issues no bulletins" }]);
    const grid = await call(`/v1/units/${tree.grid.id}/bulletins/month/${MARCH}/versions`, {
      token: staff.token,
    });
    expect(grid).toBeProblem(400, "bad-request");
    const notFirst = await regeneration(tree, staff.token, "2026-03-02");
    expect(notFirst).toBeProblem(400, "bad-request");
    expect(notFirst.body.errors).toEqual([{ path: "params.from", message: "not the first day of a month" }]);
    expect(await regeneration(tree, staff.token, "2026-03-31", "week")).toBeProblem(400, "bad-request");
    for (const from of ["2026-02-30", "1e309", "%F0%9F%8F%A0", "%ED%A0%80", "2026-03-01x"]) {
      const res = await regeneration(tree, staff.token, from);
      expect(res.status, from).toBe(400);
      expect(res).toBeProblem(400);
    }
    expect(await regeneration(tree, staff.token, MARCH, "day")).toBeProblem(400, "validation");
    const badId = await call(`/v1/units/not-a-uuid/bulletins/month/${MARCH}/regeneration`, {
      method: "POST",
      token: staff.token,
    });
    expect(badId).toBeProblem(400, "validation");
    const cursor = await call(`/v1/units/${tree.town.id}/bulletins/month/${MARCH}/versions?cursor=WyJ4Il0`, {
      token: staff.token,
    });
    expect(cursor).toBeProblem(400);
    const leader = await makeUser("leader", tree.town);
    expect(await regeneration(tree, leader.token)).toBeProblem(403, "forbidden");
    const worker = await makeUser("grid_worker", tree.grid);
    expect(await regeneration(tree, worker.token)).toBeProblem(403, "forbidden");
    // Readers may still read the versions.
    const read = await call(`/v1/units/${tree.town.id}/bulletins/month/${MARCH}/versions`, {
      token: leader.token,
    });
    expect(read.status).toBe(200);
    expect((await versionsStored(tree.town.id)).map((v) => v.version)).toEqual([1]);
  });
});
