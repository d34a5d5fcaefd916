import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { markInboxHandledForCase } from "../../src/db/repos/inbox";
import { getDb } from "../../src/platform/db/client";
import { call, makeTree, makeUser, sql, type TestTree } from "../support/helpers";
import { deliver, escalationMessage } from "../support/queues";

/** Fills the village's inbox: 5 escalations, 2 supervision notices, 1 overdue, at increasing times. */
async function fill(tree: TestTree) {
  const caseIds = Array.from({ length: 5 }, () => crypto.randomUUID());
  const at = (i: number) => new Date(Date.parse("2026-06-01T00:00:00.000Z") + i * 60_000).toISOString();
  const messages = [
    ...caseIds.map((caseId, i) => escalationMessage(tree, caseId, { at: at(i) })),
    ...caseIds.slice(0, 2).map((caseId, i) =>
      escalationMessage(tree, caseId, {
        kind: "supervision",
        dedupeKey: `supervision:${caseId}:9`,
        message: "Hurry",
        at: at(10 + i),
        seq: 9,
      }),
    ),
    escalationMessage(tree, caseIds[4]!, {
      kind: "overdue",
      dedupeKey: `overdue:${caseIds[4]}:${tree.grid.id}@${at(20)}`,
      at: at(20),
    }),
  ];
  const { result } = await deliver("escalations", messages);
  expect(result.explicitAcks).toHaveLength(messages.length);
  return caseIds;
}

describe("GET /v1/units/{id}/inbox", () => {
  it("lists a unit's items newest first in cursor pages, filtered by kind", async () => {
    const tree = await makeTree();
    await fill(tree);
    const staff = await makeUser("center_staff", tree.village);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(
        `/v1/units/${tree.village.id}/inbox?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
        {
          token: staff.token,
        },
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i: any) => i.createdAt));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(8);
    expect([...seen].sort().reverse()).toEqual(seen);

    const supervision = await call(`/v1/units/${tree.village.id}/inbox?kind=supervision`, {
      token: staff.token,
    });
    expect(supervision.body.items).toHaveLength(2);
    expect(supervision.body.items[0]).toMatchObject({
      kind: "supervision",
      payload: { message: "Hurry" },
      readAt: null,
    });
    const overdue = await call(`/v1/units/${tree.village.id}/inbox?kind=overdue`, { token: staff.token });
    expect(overdue.body.items).toHaveLength(1);
  });

  it("is scoped: a centre above sees it, a sibling gets 404, a grid worker gets 404 for the village", async () => {
    const tree = await makeTree();
    await fill(tree);
    const town = await makeUser("center_staff", tree.town);
    const sibling = await makeUser("center_staff", tree.village2);
    const worker = await makeUser("grid_worker", tree.grid);
    expect((await call(`/v1/units/${tree.village.id}/inbox`, { token: town.token })).body.items).toHaveLength(
      8,
    );
    expect(await call(`/v1/units/${tree.village.id}/inbox`, { token: sibling.token })).toBeProblem(404);
    expect(await call(`/v1/units/${tree.village.id}/inbox`, { token: worker.token })).toBeProblem(404);
    const household = await makeUser("household_lead", tree.village);
    expect(await call(`/v1/units/${tree.village.id}/inbox`, { token: household.token })).toBeProblem(403);
  });

  it("refuses an unknown kind or state and a forged cursor with 400", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    for (const q of ["kind=party", "state=lost", "cursor=bm90LWEtY3Vyc29y"]) {
      expect(await call(`/v1/units/${tree.village.id}/inbox?${q}`, { token: staff.token })).toBeProblem(400);
    }
  });
});

describe("marking inbox items", () => {
  it("marks items read, then handled, only the unit's own, idempotently and audited", async () => {
    const tree = await makeTree();
    await fill(tree);
    const other = await makeTree();
    await fill(other);
    const staff = await makeUser("center_staff", tree.village);
    const list = await call(`/v1/units/${tree.village.id}/inbox?kind=escalated`, { token: staff.token });
    const ids = list.body.items.slice(0, 2).map((i: any) => i.id);
    const foreign = (
      await sql().execute({
        sql: "SELECT id FROM inbox_items WHERE unit_id = ? LIMIT 1",
        args: [other.village.id],
      })
    ).rows[0]!.id as string;

    const read = await call(`/v1/units/${tree.village.id}/inbox/mark`, {
      token: staff.token,
      body: { ids: [...ids, foreign], as: "read" },
    });
    expect(read.status).toBe(200);
    expect(read.body.updated).toEqual([...ids].sort());
    const again = await call(`/v1/units/${tree.village.id}/inbox/mark`, {
      token: staff.token,
      body: { ids, as: "read" },
    });
    expect(again.body.updated).toEqual([]);

    const unread = await call(`/v1/units/${tree.village.id}/inbox?state=unread`, { token: staff.token });
    expect(unread.body.items).toHaveLength(6);
    const readOnly = await call(`/v1/units/${tree.village.id}/inbox?state=read`, { token: staff.token });
    expect(readOnly.body.items.map((i: any) => i.id).sort()).toEqual([...ids].sort());

    const handled = await call(`/v1/units/${tree.village.id}/inbox/mark`, {
      token: staff.token,
      body: { ids: [ids[0]], as: "handled" },
    });
    expect(handled.body.updated).toEqual([ids[0]]);
    const foreignRow = await sql().execute({
      sql: "SELECT read_at FROM inbox_items WHERE id = ?",
      args: [foreign],
    });
    expect(foreignRow.rows[0]!.read_at).toBeNull();
    const audit = await sql().execute({
      sql: "SELECT action FROM audit_log WHERE object_id = ? AND action LIKE 'inbox.%' ORDER BY seq",
      args: [tree.village.id],
    });
    expect(audit.rows.map((r) => r.action)).toEqual([
      "inbox.mark-read",
      "inbox.mark-read",
      "inbox.mark-handled",
    ]);
  });

  it("refuses an empty or non-UUID id list with 400", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    for (const body of [
      { ids: [], as: "read" },
      { ids: ["x"], as: "read" },
      { ids: [crypto.randomUUID()], as: "gone" },
    ]) {
      expect(await call(`/v1/units/${tree.village.id}/inbox/mark`, { token: staff.token, body })).toBeProblem(
        400,
      );
    }
  });

  it("markInboxHandledForCase closes every open item of that unit about the case, and nothing else", async () => {
    const tree = await makeTree();
    const caseIds = await fill(tree);
    const marked = await markInboxHandledForCase(
      getDb(env),
      tree.village.id,
      caseIds[0]!,
      "2026-06-02T00:00:00.000Z",
    );
    expect(marked).toBe(2);
    const rows = await sql().execute({
      sql: "SELECT case_id, handled_at, read_at FROM inbox_items WHERE unit_id = ? AND handled_at IS NOT NULL",
      args: [tree.village.id],
    });
    expect(rows.rows).toHaveLength(2);
    expect(rows.rows.every((r) => r.case_id === caseIds[0] && r.read_at === "2026-06-02T00:00:00.000Z")).toBe(
      true,
    );
    expect(await markInboxHandledForCase(getDb(env), tree.village.id, caseIds[0]!)).toBe(0);
  });
});
