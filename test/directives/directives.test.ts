import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type FanoutMessage, markOverdueReceipts } from "../../src/db/repos/directives";
import { getDb } from "../../src/platform/db/client";
import { encodeCursor } from "../../src/platform/http/pagination";
import { consumeDirectiveFanout, directivesWatchdog } from "../../src/queues/directives";
import { call, makeTree, makeUser, sql, type TestUser } from "../support/helpers";

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

async function issue(user: TestUser, body: Record<string, unknown>) {
  return call("/v1/directives", {
    token: user.token,
    body: { title: "防汛检查", body: "排查辖区内的地质灾害隐患点并上报结果", dueAt: inAnHour(), ...body },
  });
}

/** Polls the directive until the queue has fanned out `expected` receipts in the caller's view. */
async function fannedOut(user: TestUser, id: string, expected: number) {
  for (let i = 0; i < 100; i++) {
    const res = await call(`/v1/directives/${id}`, { token: user.token });
    if (res.status === 200 && res.body.counts.total >= expected) return res;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`directive ${id} never reached ${expected} receipts`);
}

async function storedReceipts(directiveId: string) {
  const rs = await sql().execute({
    sql: "SELECT unit_id, state, acknowledged_by, completed_by, report, completed_late FROM directive_receipts WHERE directive_id = ?",
    args: [directiveId],
  });
  return new Map(rs.rows.map((r) => [String(r.unit_id), r]));
}

async function countDirectivesTitled(title: string) {
  const rs = await sql().execute({
    sql: "SELECT count(*) AS n FROM directives WHERE title = ?",
    args: [title],
  });
  return Number(rs.rows[0]!.n);
}

describe("directive fan-out", () => {
  it("sends a directive to every grid of a city through the queue, with counts by level", async () => {
    const tree = await makeTree();
    const cityStaff = await makeUser("center_staff", tree.city);
    const res = await issue(cityStaff, { levels: ["village", "grid"], priority: "urgent" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ targetCount: 6, targetLevels: ["village", "grid"], priority: "urgent" });
    const detail = await fannedOut(cityStaff, res.body.id, 6);
    expect(detail.body.counts).toEqual({ total: 6, delivered: 6, acknowledged: 0, completed: 0, overdue: 0 });
    expect(detail.body.countsByLevel.village.total).toBe(2);
    expect(detail.body.countsByLevel.grid2.total).toBe(3);
    expect(detail.body.countsByLevel.grid3.total).toBe(1);
    const stored = await storedReceipts(res.body.id);
    expect([...stored.keys()].sort()).toEqual(
      [tree.village, tree.village2, tree.grid, tree.grid2, tree.subgrid, tree.otherGrid]
        .map((u) => u.id)
        .sort(),
    );
    // The county and town are not grids: they get no receipt.
    expect(stored.has(tree.town.id)).toBe(false);
  });

  it("fans out a level in keyset ranges and a redelivered message writes nothing twice", async () => {
    const tree = await makeTree();
    const townStaff = await makeUser("center_staff", tree.town);
    const res = await issue(townStaff, { levels: ["grid"] });
    expect(res.status).toBe(201);
    await fannedOut(townStaff, res.body.id, 4);
    const message: FanoutMessage = {
      kind: "directive-fanout",
      directiveId: res.body.id,
      levels: ["grid"],
      from: tree.town.path,
      to: `${tree.town.path.slice(0, -1)}0`,
    };
    const batch = createMessageBatch("directives", [
      { id: "m1", timestamp: Date.now(), attempts: 1, body: message },
      { id: "m2", timestamp: Date.now(), attempts: 2, body: message },
    ]);
    const ctx = createExecutionContext();
    await consumeDirectiveFanout(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m1", "m2"]);
    expect((await storedReceipts(res.body.id)).size).toBe(4);
  });

  it("shows a grid its received directives and lets its own staff acknowledge and complete", async () => {
    const tree = await makeTree();
    const townStaff = await makeUser("center_staff", tree.town);
    const worker = await makeUser("grid_worker", tree.grid);
    const res = await issue(townStaff, { unitIds: [tree.grid.id, tree.otherGrid.id] });
    expect(res.status).toBe(201);
    const id = res.body.id;
    await fannedOut(townStaff, id, 2);

    const inbox = await call(`/v1/directives?unitId=${tree.grid.id}&state=delivered`, {
      token: worker.token,
    });
    expect(inbox.status).toBe(200);
    expect(inbox.body.items.map((d: { id: string }) => d.id)).toContain(id);
    expect(inbox.body.items.find((d: { id: string }) => d.id === id).receipt.state).toBe("delivered");

    const own = await call(`/v1/directives/${id}`, { token: worker.token });
    expect(own.status).toBe(200);
    expect(own.body.counts.total).toBe(1);

    const ack = await call(`/v1/directives/${id}/receipts/${tree.grid.id}/acknowledge`, {
      method: "POST",
      token: worker.token,
    });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ state: "acknowledged", acknowledgedBy: worker.id });
    const again = await call(`/v1/directives/${id}/receipts/${tree.grid.id}/acknowledge`, {
      method: "POST",
      token: worker.token,
    });
    expect(again).toBeProblem(409);

    const done = await call(`/v1/directives/${id}/receipts/${tree.grid.id}/complete`, {
      token: worker.token,
      body: { report: "已排查 3 处隐患点，均已设置警示标志", evidenceIds: [crypto.randomUUID()] },
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ state: "completed", completedBy: worker.id, completedLate: false });
    expect(done.body.evidenceIds).toHaveLength(1);

    // The village centre of otherGrid completes that grid's receipt without acknowledging first.
    const village2Staff = await makeUser("center_staff", tree.village2);
    const byCentre = await call(`/v1/directives/${id}/receipts/${tree.otherGrid.id}/complete`, {
      token: village2Staff.token,
      body: { report: "已完成" },
    });
    expect(byCentre.status).toBe(200);

    const detail = await call(`/v1/directives/${id}`, { token: townStaff.token });
    expect(detail.body.counts).toMatchObject({ total: 2, completed: 2 });
    expect(detail.body.completionRate).toBe(1);
    const stored = await storedReceipts(id);
    expect(stored.get(tree.grid.id)).toMatchObject({ state: "completed", completed_by: worker.id });
    const audit = await sql().execute({
      sql: "SELECT action FROM audit_log WHERE object_type = 'directive' AND object_id = ? ORDER BY seq",
      args: [id],
    });
    expect(audit.rows.map((r) => r.action)).toEqual([
      "directive.issue",
      "directive.receipt.acknowledge",
      "directive.receipt.complete",
      "directive.receipt.complete",
    ]);

    const page = await call(`/v1/directives/${id}/receipts?state=completed&limit=1`, {
      token: townStaff.token,
    });
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(1);
    expect(page.body.nextCursor).not.toBeNull();
  });
});

describe("overdue receipts", () => {
  it("marks open receipts past due overdue, raises one reminder each, and records late completion", async () => {
    const tree = await makeTree();
    const villageStaff = await makeUser("center_staff", tree.village);
    const worker = await makeUser("grid_worker", tree.grid);
    const res = await issue(villageStaff, {
      unitIds: [tree.grid.id, tree.grid2.id, tree.subgrid.id],
      dueAt: new Date(Date.now() + 2_000).toISOString(),
    });
    expect(res.status).toBe(201);
    const id = res.body.id;
    await fannedOut(villageStaff, id, 3);
    const finished = await call(`/v1/directives/${id}/receipts/${tree.grid2.id}/complete`, {
      token: villageStaff.token,
      body: { report: "按时完成" },
    });
    expect(finished.status).toBe(200);
    await call(`/v1/directives/${id}/receipts/${tree.grid.id}/acknowledge`, {
      method: "POST",
      token: worker.token,
    });

    // Not yet due: nothing changes.
    expect(await markOverdueReceipts(getDb(env), new Date(Date.now() - 60_000).toISOString())).toBe(0);

    await directivesWatchdog(env, new Date(Date.now() + 10_000));
    const stored = await storedReceipts(id);
    expect(stored.get(tree.grid.id)!.state).toBe("overdue");
    expect(stored.get(tree.subgrid.id)!.state).toBe("overdue");
    expect(stored.get(tree.grid2.id)!.state).toBe("completed");
    const reminders = await sql().execute({
      sql: "SELECT unit_id, kind FROM directive_reminders WHERE directive_id = ? ORDER BY unit_id",
      args: [id],
    });
    expect(reminders.rows.map((r) => r.unit_id)).toEqual([tree.grid.id, tree.subgrid.id].sort());

    // A second watchdog run finds nothing new and raises no second reminder.
    await directivesWatchdog(env, new Date(Date.now() + 20_000));
    const again = await sql().execute({
      sql: "SELECT count(*) AS n FROM directive_reminders WHERE directive_id = ?",
      args: [id],
    });
    expect(Number(again.rows[0]!.n)).toBe(2);

    const detail = await call(`/v1/directives/${id}`, { token: villageStaff.token });
    expect(detail.body.counts).toMatchObject({ total: 3, completed: 1, overdue: 2 });

    const inbox = await call(`/v1/directives?unitId=${tree.grid.id}&state=overdue`, { token: worker.token });
    expect(inbox.body.items.map((d: { id: string }) => d.id)).toEqual([id]);

    const late = await call(`/v1/directives/${id}/receipts/${tree.grid.id}/complete`, {
      token: worker.token,
      body: { report: "逾期完成" },
    });
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ state: "completed", completedLate: true });
  });
});

describe("directive scope and bad input", () => {
  it("refuses a directive to a unit outside the issuer's subtree and writes nothing", async () => {
    const tree = await makeTree();
    const other = await makeTree();
    const villageStaff = await makeUser("center_staff", tree.village);
    const title = `越权指令 ${crypto.randomUUID()}`;
    const res = await issue(villageStaff, { title, unitIds: [tree.grid.id, other.grid.id] });
    expect(res).toBeProblem(404);
    expect(res.body.errors).toEqual([{ path: "unitIds.1", message: "no such unit below the issuer" }]);
    const sibling = await issue(villageStaff, { title, unitIds: [tree.otherGrid.id] });
    expect(sibling).toBeProblem(404);
    const self = await issue(villageStaff, { title, unitIds: [tree.village.id] });
    expect(self).toBeProblem(404);
    expect(await countDirectivesTitled(title)).toBe(0);
  });

  it("refuses bad directives with 4xx problems and writes nothing", async () => {
    const tree = await makeTree();
    const townStaff = await makeUser("center_staff", tree.town);
    const worker = await makeUser("grid_worker", tree.grid);
    const title = `坏指令 ${crypto.randomUUID()}`;
    const cases: Array<[TestUser, Record<string, unknown>, number]> = [
      [worker, { title, levels: ["grid"] }, 403],
      [townStaff, { title, levels: ["county"] }, 400],
      [townStaff, { title, levels: ["grid"], unitIds: [tree.grid.id] }, 400],
      [townStaff, { title }, 400],
      [townStaff, { title, levels: ["grid"], dueAt: "2020-01-01T00:00:00Z" }, 400],
      [townStaff, { title, levels: ["grid"], dueAt: "tomorrow" }, 400],
      [townStaff, { title, levels: ["grid"], priority: "whenever" }, 400],
      [townStaff, { title, levels: ["grid"], surprise: true }, 400],
    ];
    for (const [user, body, status] of cases) {
      const res = await issue(user, body);
      expect(res, JSON.stringify({ body, got: res.status })).toBeProblem(status);
    }
    expect(await countDirectivesTitled(title)).toBe(0);
  });

  it("answers 404 or 403 to someone acknowledging or completing another unit's receipt, and changes nothing", async () => {
    const tree = await makeTree();
    const townStaff = await makeUser("center_staff", tree.town);
    const res = await issue(townStaff, { unitIds: [tree.grid.id, tree.otherGrid.id] });
    const id = res.body.id;
    await fannedOut(townStaff, id, 2);
    const otherWorker = await makeUser("grid_worker", tree.otherGrid);
    const gridWorkerOfGrid2 = await makeUser("grid_worker", tree.grid2);
    const villageLeader = await makeUser("leader", tree.village);
    const foreignCentre = await makeUser("center_staff", (await makeTree()).village);
    const attempts: Array<[TestUser, string, number]> = [
      [otherWorker, "acknowledge", 404],
      [gridWorkerOfGrid2, "acknowledge", 404],
      [foreignCentre, "acknowledge", 404],
      [townStaff, "acknowledge", 403],
      [villageLeader, "acknowledge", 403],
      [otherWorker, "complete", 404],
      [townStaff, "complete", 403],
    ];
    for (const [user, action, status] of attempts) {
      const r = await call(`/v1/directives/${id}/receipts/${tree.grid.id}/${action}`, {
        method: "POST",
        token: user.token,
        ...(action === "complete" ? { body: { report: "不是我的" } } : {}),
      });
      expect(r, `${user.role} ${action} → ${r.status}`).toBeProblem(status);
    }
    const missing = await call(`/v1/directives/${id}/receipts/${tree.grid2.id}/acknowledge`, {
      method: "POST",
      token: gridWorkerOfGrid2.token,
    });
    expect(missing).toBeProblem(404);
    const worker = await makeUser("grid_worker", tree.grid);
    const noReport = await call(`/v1/directives/${id}/receipts/${tree.grid.id}/complete`, {
      token: worker.token,
      body: { report: "" },
    });
    expect(noReport).toBeProblem(400);
    const stored = await storedReceipts(id);
    expect(stored.get(tree.grid.id)).toMatchObject({
      state: "delivered",
      acknowledged_by: null,
      report: null,
    });

    const hidden = await call(`/v1/directives/${id}`, { token: foreignCentre.token });
    expect(hidden).toBeProblem(404);
    const notMine = await call(`/v1/directives?unitId=${tree.grid.id}`, { token: otherWorker.token });
    expect(notMine).toBeProblem(404);
  });

  it("keeps a forged receipts cursor inside the caller's subtree", async () => {
    const tree = await makeTree();
    const townStaff = await makeUser("center_staff", tree.town);
    const res = await issue(townStaff, { levels: ["grid"] });
    expect(res.status).toBe(201);
    const id = res.body.id;
    await fannedOut(townStaff, id, 4);
    // The village whose path sorts last: the other village's receipts sort before its subtree.
    const [mine, theirs] =
      tree.village.path > tree.village2.path ? [tree.village, tree.village2] : [tree.village2, tree.village];
    const staff = await makeUser("center_staff", mine);
    const forged = encodeCursor(["/"]);
    const page = await call(`/v1/directives/${id}/receipts?cursor=${forged}`, { token: staff.token });
    expect(page.status).toBe(200);
    expect(page.body.items.length).toBeGreaterThan(0);
    for (const item of page.body.items) {
      const unit = await sql().execute({ sql: "SELECT path FROM units WHERE id = ?", args: [item.unitId] });
      expect(String(unit.rows[0]!.path).startsWith(mine.path)).toBe(true);
      expect(String(unit.rows[0]!.path).startsWith(theirs.path)).toBe(false);
    }
    const all = await call(`/v1/directives/${id}/receipts`, { token: staff.token });
    expect(page.body.items).toEqual(all.body.items);
  });
});
