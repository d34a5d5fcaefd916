import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { CaseWithTimeline, GridDesk } from "../../src/durable/grid-desk/grid-desk";
import { deskOf } from "./case-fixtures";
import { CaptureQueue } from "./doubles";
import { call, type TestUser } from "./helpers";
import { deliver } from "./queues";

/** A GridDesk driven by the test: its clock is set explicitly and its outbox goes to capturing queues. */
export interface DrivenDesk {
  unitId: string;
  caseEvents: CaptureQueue;
  escalations: CaptureQueue;
  /** The desk's "now" (epoch ms). */
  now(): number;
  /** Moves the desk's clock to `ms`. */
  setNow(ms: number): void;
}

/**
 * Takes over a unit's GridDesk: a clock that starts a day ahead of real time (so no real alarm falls due while
 * the test runs) and moves only when the test says, and capturing queues for its outbox.
 */
export async function driveDesk(unitId: string): Promise<DrivenDesk> {
  const clock = { now: Date.now() + 24 * 3600_000 };
  const caseEvents = new CaptureQueue();
  const escalations = new CaptureQueue();
  await runInDurableObject(deskOf(unitId), (desk: GridDesk) => {
    desk.outboxTargets = { "case-events": caseEvents, escalations };
    desk.clock = () => clock.now;
  });
  return {
    unitId,
    caseEvents,
    escalations,
    now: () => clock.now,
    setNow: (ms) => {
      clock.now = ms;
    },
  };
}

/** Runs the desk's alarm once (it must be armed). */
export async function fireAlarm(unitId: string): Promise<void> {
  expect(await runDurableObjectAlarm(deskOf(unitId))).toBe(true);
}

/** Moves the desk's clock to `ms` and runs its alarm. */
export async function alarmAt(desk: DrivenDesk, ms: number): Promise<void> {
  desk.setNow(ms);
  await fireAlarm(desk.unitId);
}

/** A case with its timeline as its desk holds it. */
export async function deskCase(unitId: string, caseId: string): Promise<CaseWithTimeline> {
  const found = (await deskOf(unitId).getCase(caseId)) as unknown as CaseWithTimeline | null;
  expect(found).not.toBeNull();
  return found!;
}

/** What must not change when a command is refused: version, state, responsible unit and the events. */
export async function fingerprint(unitId: string, caseId: string) {
  const { record, events } = await deskCase(unitId, caseId);
  return {
    version: record.version,
    state: record.state,
    responsibleUnit: record.responsibleUnit,
    deadlines: record.deadlines,
    notices: record.notices,
    events: events.map((e) => `${e.seq}:${e.type}`),
  };
}

/** Delivers (and forgets) everything the desk sent to `escalations`, through the real consumer; all acked. */
export async function deliverEscalations(desk: DrivenDesk): Promise<Array<Record<string, any>>> {
  const bodies = desk.escalations.messages.splice(0) as unknown as Array<Record<string, any>>;
  if (bodies.length === 0) return bodies;
  const { result } = await deliver("escalations", bodies);
  expect(result.explicitAcks.length).toBe(bodies.length);
  return bodies;
}

/** Delivers (and forgets) everything the desk sent to `case-events`, through the real projection consumer. */
export async function deliverCaseEvents(desk: DrivenDesk) {
  const bodies = desk.caseEvents.messages.splice(0);
  if (bodies.length === 0) return;
  const { result } = await deliver("case-events", bodies);
  expect(result.explicitAcks.length).toBe(bodies.length);
}

/** A unit's inbox items of one kind, as its centre sees them. */
export async function inbox(user: TestUser, unitId: string, kind: string) {
  const res = await call(`/v1/units/${unitId}/inbox?kind=${kind}`, { token: user.token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items as Array<Record<string, any>>;
}

/** Sets a unit's own time-limit rules through the API. */
export async function setPolicy(user: TestUser, unitId: string, rules: unknown[]) {
  const res = await call(`/v1/units/${unitId}/sla-policy`, {
    method: "PUT",
    token: user.token,
    body: { rules },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

export const MIN = 60_000;
