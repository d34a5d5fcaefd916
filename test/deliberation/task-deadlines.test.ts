import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { reportOverdueTasks } from "../../src/services/deliberation";
import {
  chinaDay,
  deliberationVillage,
  elapseNotice,
  ok,
  registerMembers,
  resolveItem,
} from "../support/deliberation";
import { makeUser, sql } from "../support/helpers";

/**
 * The cron at `at` (a moved clock), as often as it finds work: tasks of other test files share the database,
 * so one tick may not reach this file's task.
 */
async function tick(at: number) {
  for (let i = 0; i < 20 && (await reportOverdueTasks(env, at)) > 0; i++);
}

/** The inbox items written for a task: unit, kind and step, oldest first. */
async function noticesOf(taskId: string) {
  const rs = await sql().execute({
    sql: `SELECT unit_id, kind, json_extract(payload, '$.step') AS step FROM inbox_items
          WHERE json_extract(payload, '$.taskId') = ? ORDER BY created_at, kind, unit_id`,
    args: [taskId],
  });
  return rs.rows.map((r) => `${r.step} ${r.kind} ${r.unit_id}`);
}

async function clockOf(taskId: string) {
  const rs = await sql().execute({
    sql: "SELECT sla_step, next_step_at FROM deliberation_tasks WHERE id = ?",
    args: [taskId],
  });
  return { step: rs.rows[0]?.sla_step ?? null, nextStepAt: rs.rows[0]?.next_step_at ?? null };
}

/** A village with an item through the four steps, ready for tasks. */
async function resolvedItem() {
  const v = await deliberationVillage();
  await registerMembers(v.staff, v.tree.village, "representative", ["甲", "乙", "丙"]);
  await registerMembers(v.staff, v.tree.village, "party_member", ["丁"]);
  const m = await ok("/v1/deliberation/matters", v.lead.token, {
    unitId: v.tree.grid.id,
    summary: "二组水渠淤塞，灌溉受影响",
  });
  const { itemId } = await ok(
    `/v1/deliberation/matters/${m.id}/triage`,
    v.staff.token,
    { outcome: "agenda", title: "清淤二组水渠" },
    200,
  );
  await resolveItem(v.staff, itemId);
  return { v, itemId: itemId as string };
}

describe("a task follows the time-limit steps, each once", () => {
  it("warns its owner and the village, tells the village when overdue and the town after the grace period", async () => {
    const { v, itemId } = await resolvedItem();
    const task = await ok(`/v1/deliberation/items/${itemId}/tasks`, v.staff.token, {
      title: "组织劳力清淤",
      ownerUserId: v.lead.id,
      dueOn: chinaDay(15),
    });
    const { warnAt, dueAt, escalateAt } = task.timeLimit;
    expect(task.timeLimit.step).toBeNull();
    expect(Date.parse(warnAt)).toBeLessThan(Date.parse(dueAt));
    expect(Date.parse(escalateAt) - Date.parse(dueAt)).toBe(86_400_000);
    expect(await clockOf(task.id)).toEqual({ step: null, nextStepAt: warnAt });

    await tick(Date.parse(warnAt) - 1000);
    expect(await noticesOf(task.id)).toEqual([]);

    // The cron fires twice at once at the warning: one item to the owner's grid, one to the village.
    await Promise.all([reportOverdueTasks(env, Date.parse(warnAt)), tick(Date.parse(warnAt))]);
    await tick(Date.parse(warnAt));
    expect(await noticesOf(task.id)).toEqual(
      [`warned urge ${v.tree.grid.id}`, `warned urge ${v.tree.village.id}`].sort(),
    );
    expect(await clockOf(task.id)).toEqual({ step: "warned", nextStepAt: dueAt });

    await Promise.all([tick(Date.parse(dueAt)), tick(Date.parse(dueAt))]);
    expect((await noticesOf(task.id)).filter((n) => n.startsWith("overdue"))).toEqual([
      `overdue overdue ${v.tree.village.id}`,
    ]);

    await tick(Date.parse(escalateAt) - 1000);
    expect((await noticesOf(task.id)).some((n) => n.startsWith("escalate"))).toBe(false);
    await Promise.all([tick(Date.parse(escalateAt)), tick(Date.parse(escalateAt) + 60_000)]);
    expect((await noticesOf(task.id)).filter((n) => n.startsWith("escalate"))).toEqual([
      `escalate escalated ${v.tree.town.id}`,
    ]);
    expect(await clockOf(task.id)).toEqual({ step: "escalate", nextStepAt: null });
    expect(await noticesOf(task.id)).toHaveLength(4);

    // The town centre reads the escalation in its inbox; the task shows the step taken.
    const townStaff = await makeUser("center_staff", v.tree.town);
    const inbox = await ok(`/v1/units/${v.tree.town.id}/inbox`, townStaff.token, undefined, 200, "GET");
    const escalated = inbox.items.filter(
      (i: { payload: { taskId?: string } }) => i.payload.taskId === task.id,
    );
    expect(escalated).toMatchObject([
      {
        kind: "escalated",
        payload: {
          source: "deliberation",
          step: "escalate",
          title: "组织劳力清淤",
          itemTitle: "清淤二组水渠",
        },
      },
    ]);
    const item = await ok(`/v1/deliberation/items/${itemId}`, v.staff.token, undefined, 200, "GET");
    expect(item.tasks[0].timeLimit.step).toBe("escalate");
  });

  it("skips a warning the deadline overtook, and a task done in the grace period is never escalated", async () => {
    const { v, itemId } = await resolvedItem();
    await ok(`/v1/deliberation/items/${itemId}/resolution-notice`, v.staff.token, {
      title: "关于清淤二组水渠的决议公示",
      body: "村民代表会议通过。",
    });
    await elapseNotice(itemId);
    await ok(`/v1/deliberation/items/${itemId}/decision`, v.staff.token, {}, 200);
    const task = await ok(`/v1/deliberation/items/${itemId}/tasks`, v.staff.token, {
      title: "验收清淤工程",
      ownerUnitId: v.tree.grid.id,
      dueOn: chinaDay(-1),
    });
    await tick(Date.now());
    expect(await noticesOf(task.id)).toEqual([`overdue overdue ${v.tree.village.id}`]);
    expect(await clockOf(task.id)).toEqual({ step: "overdue", nextStepAt: task.timeLimit.escalateAt });

    await ok(
      `/v1/deliberation/tasks/${task.id}/progress`,
      v.staff.token,
      { progress: 100, note: "已验收" },
      200,
    );
    expect(await clockOf(task.id)).toEqual({ step: "overdue", nextStepAt: null });
    await tick(Date.parse(task.timeLimit.escalateAt) + 86_400_000);
    expect(await noticesOf(task.id)).toEqual([`overdue overdue ${v.tree.village.id}`]);
  });
});
