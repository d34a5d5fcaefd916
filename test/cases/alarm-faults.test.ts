import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { GridDesk } from "../../src/durable/grid-desk/grid-desk";
import { deskAlarmWatchdog } from "../../src/durable/grid-desk/watchdog";
import { deskOf, makeWorld, report } from "../support/case-fixtures";
import { alarmAt, deskCase, driveDesk, MIN } from "../support/desk";
import { sql } from "../support/helpers";

const iso = (ms: number) => new Date(ms).toISOString();

/** Makes the desk's escalation step throw `times` times, inside its transaction or just after it commits. */
async function injectFaults(unitId: string, where: "beforeCommit" | "afterCommit", times: number) {
  const left = { n: times };
  await runInDurableObject(deskOf(unitId), (desk: GridDesk) => {
    desk.faults = {
      [where]: (_caseId: string, step: string) => {
        if (step === "escalate" && left.n > 0) {
          left.n--;
          throw new Error("injected alarm fault");
        }
      },
    };
  });
  return left;
}

/** A critical case (defaults: warned at 20 min, overdue at 30, escalated at 90) already overdue. */
async function overdueCase() {
  const w = await makeWorld();
  const desk = await driveDesk(w.tree.grid.id);
  const t0 = desk.now();
  const c = await report(w.gridWorker, { severity: "critical" });
  await alarmAt(desk, t0 + 30 * MIN);
  expect((await deskCase(desk.unitId, c.id)).events.map((e) => e.type)).toEqual([
    "reported",
    "warned",
    "overdue",
  ]);
  desk.escalations.messages.splice(0);
  return { w, desk, t0, c };
}

async function expectEscalatedOnce(unitId: string, caseId: string, villageId: string) {
  const { record, events } = await deskCase(unitId, caseId);
  expect(events.filter((e) => e.type === "escalated")).toHaveLength(1);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(record).toMatchObject({ escalationCount: 1, responsibleUnit: { id: villageId }, version: 4 });
}

describe("GridDesk alarm faults", () => {
  for (const n of [1, 2, 3, 4, 5]) {
    it(`an alarm whose escalation step throws ${n}× inside its transaction still escalates exactly once`, async () => {
      const { w, desk, t0, c } = await overdueCase();
      const left = await injectFaults(desk.unitId, "beforeCommit", n);
      desk.setNow(t0 + 90 * MIN);
      for (let i = 0; i < n; i++) {
        await expect(runDurableObjectAlarm(deskOf(desk.unitId))).rejects.toThrow();
        // The throw rolled the step back: still overdue at the grid, and the alarm is armed again.
        expect((await deskCase(desk.unitId, c.id)).record.version).toBe(3);
      }
      expect(left.n).toBe(0);
      expect(await runDurableObjectAlarm(deskOf(desk.unitId))).toBe(true);
      // Further alarm runs (alarms may fire more than once) take nothing more.
      expect(await runDurableObjectAlarm(deskOf(desk.unitId))).toBe(true);
      await expectEscalatedOnce(desk.unitId, c.id, w.tree.village.id);
      const sent = desk.escalations.messages as unknown as Array<Record<string, unknown>>;
      expect(sent.filter((m) => m.kind === "escalated")).toHaveLength(1);
    });
  }

  it("an alarm that throws after the escalation committed (3×) does not escalate again on its retries", async () => {
    const { w, desk, t0, c } = await overdueCase();
    await injectFaults(desk.unitId, "afterCommit", 3);
    desk.setNow(t0 + 90 * MIN);
    await expect(runDurableObjectAlarm(deskOf(desk.unitId))).rejects.toThrow();
    await expectEscalatedOnce(desk.unitId, c.id, w.tree.village.id);
    for (let i = 0; i < 3; i++) await runDurableObjectAlarm(deskOf(desk.unitId)).catch(() => undefined);
    await expectEscalatedOnce(desk.unitId, c.id, w.tree.village.id);
    // The outbox sends the one escalation once it is flushed.
    const sent = desk.escalations.messages as unknown as Array<Record<string, unknown>>;
    expect(sent.filter((m) => m.kind === "escalated")).toHaveLength(1);
  });
});

describe("the desk alarm watchdog", () => {
  it("pokes a desk whose projected alarm is long overdue: the desk takes its due steps and the row moves on", async () => {
    const { w, desk, t0, c } = await overdueCase();
    desk.setNow(t0 + 90 * MIN);
    // The desk's alarm was lost; the projection last saw its next step long ago (a time no other test uses).
    await sql().execute({
      sql: `INSERT INTO desk_alarms (desk_id, next_alarm_at, as_of) VALUES (?, ?, ?)
            ON CONFLICT (desk_id) DO UPDATE SET next_alarm_at = excluded.next_alarm_at, as_of = excluded.as_of`,
      args: [desk.unitId, "2001-01-01T00:00:00.000Z", "2001-01-01T00:00:00.000Z"],
    });
    const tick = Date.parse("2001-01-01T00:05:00.000Z");
    // Within the grace period the watchdog leaves it alone.
    expect(await deskAlarmWatchdog(env, tick)).not.toContain(desk.unitId);
    const later = Date.parse("2001-01-01T01:00:00.000Z");
    expect(await deskAlarmWatchdog(env, later)).toContain(desk.unitId);
    await expectEscalatedOnce(desk.unitId, c.id, w.tree.village.id);
    const row = await sql().execute({
      sql: "SELECT next_alarm_at, as_of FROM desk_alarms WHERE desk_id = ?",
      args: [desk.unitId],
    });
    // The village's new clock (defaults for critical): warned 20 min after the escalation.
    expect(row.rows[0]).toMatchObject({ next_alarm_at: iso(t0 + 110 * MIN), as_of: iso(later) });
    expect(await deskAlarmWatchdog(env, later)).not.toContain(desk.unitId);
  });
});
