import {
  CASE_SEVERITIES,
  CASE_TYPES,
  type CaseEventMessage,
  type CaseRecord,
  type CaseState,
} from "../../src/domain/case-model";
import type { UnitLevel } from "../../src/domain/units";
import { shuffle } from "./doubles";
import type { TestTree, TestUnit } from "./helpers";

/** A small seeded generator (mulberry32), so a failing run can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the generator knows of each resolution, to check the resolved-at-level counts against. */
export interface ResolutionTruth {
  caseId: string;
  owningPath: string;
  level: UnitLevel;
  at: string;
}

/**
 * The case-events messages of `count` synthetic cases in a test tree, each case's events with the record as
 * it stood after them (as a GridDesk sends them): reported in one of the tree's grids over ten days, then a
 * random walk through accept, overdue, dispatch, escalation, resolve, return visit (a dissatisfied visit
 * reopens the case), close, reject and merge. Deterministic for a seed.
 */
export function syntheticCaseEvents(
  tree: TestTree,
  count: number,
  seed: number,
  start = Date.parse("2026-03-01T00:00:00Z"),
): { messages: CaseEventMessage[]; resolutions: ResolutionTruth[] } {
  const rnd = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const owners: TestUnit[] = [tree.grid, tree.grid2, tree.subgrid, tree.otherGrid];
  const messages: CaseEventMessage[] = [];
  const resolutions: ResolutionTruth[] = [];
  const villageOf = (u: TestUnit) => (u.parentId === tree.village2.id ? tree.village2 : tree.village);
  for (let i = 0; i < count; i++) {
    const owner = pick(owners);
    const ref = (u: TestUnit) => ({ id: u.id, path: u.path, level: u.level });
    let at = start + Math.floor(rnd() * 10 * 86_400_000);
    const createdAt = new Date(at).toISOString();
    let record: CaseRecord = {
      id: crypto.randomUUID(),
      type: pick(CASE_TYPES),
      severity: pick(CASE_SEVERITIES),
      state: "reported",
      version: 1,
      seq: 1,
      title: `合成事件 ${i}`,
      description: "统计汇总测试用的合成事件。",
      location: { lat: 32.68 + rnd() * 0.05, lng: 109.02 + rnd() * 0.05, address: "测试村" },
      householdIds: [],
      residentIds: [],
      mediation: null,
      reporter: { userId: crypto.randomUUID(), role: "grid_worker", unitId: owner.id },
      owningUnit: ref(owner),
      responsibleUnit: { ...ref(owner), department: null },
      coordinatorUnit: null,
      rejection: null,
      mergedInto: null,
      resolution: null,
      returnVisit: null,
      attachments: [],
      reopenCount: 0,
      createdAt,
      updatedAt: createdAt,
      closedAt: null,
      overdue: false,
      escalationCount: 0,
    };
    const emit = (
      type: string,
      actorUnit: TestUnit | null,
      payload: Record<string, unknown>,
      patch: Partial<CaseRecord>,
    ) => {
      const seq = record.seq + (type === "reported" ? 0 : 1);
      const iso = new Date(at).toISOString();
      record = { ...record, ...patch, seq, version: seq, updatedAt: iso };
      messages.push({
        kind: "case-event",
        caseId: record.id,
        seq,
        event: {
          caseId: record.id,
          seq,
          type,
          actor: actorUnit
            ? { userId: crypto.randomUUID(), role: "center_staff", unitId: actorUnit.id }
            : { system: "sla" },
          at: iso,
          payload,
        },
        record: structuredClone(record),
      });
    };
    const later = (maxMinutes: number) => {
      at += 1 + Math.floor(rnd() * maxMinutes * 60_000);
    };
    emit("reported", owner, { type: record.type, severity: record.severity }, {});
    const fate = rnd();
    if (fate < 0.1) {
      later(600);
      emit("rejected", villageOf(owner), { reason: "不属于受理范围" }, { state: "rejected" });
      continue;
    }
    if (fate < 0.15) {
      later(600);
      emit("merged", villageOf(owner), { intoCaseId: crypto.randomUUID() }, { state: "merged" });
      continue;
    }
    if (fate < 0.2) continue; // still waiting
    later(rnd() < 0.5 ? 90 : 4000);
    const acceptor = rnd() < 0.5 ? owner : villageOf(owner);
    emit(
      "accepted",
      acceptor,
      { coordinatorUnitId: acceptor.id },
      {
        state: "accepted",
        coordinatorUnit: ref(acceptor),
        responsibleUnit: { ...ref(acceptor), department: null },
      },
    );
    for (let round = 0; round < 3; round++) {
      if (rnd() < 0.25 && !record.overdue) {
        later(3000);
        emit("overdue", null, { phase: "handle" }, { overdue: true });
      }
      if (rnd() < 0.3) {
        later(600);
        const to = rnd() < 0.5 ? tree.town : tree.county;
        emit(
          "dispatched",
          villageOf(owner),
          { toUnitId: to.id, toLevel: to.level, department: "司法所" },
          { state: "dispatched", responsibleUnit: { ...ref(to), department: "司法所" } },
        );
      } else if (rnd() < 0.15) {
        later(600);
        const to = record.responsibleUnit.level === "town" ? tree.county : tree.town;
        emit(
          "escalated",
          null,
          { toUnitId: to.id, toLevel: to.level, automatic: true },
          {
            responsibleUnit: { ...ref(to), department: null },
            escalationCount: (record.escalationCount ?? 0) + 1,
          },
        );
      }
      if (rnd() < 0.15) break; // left open
      later(rnd() < 0.5 ? 600 : 20_000);
      const byUnit = [
        tree.grid,
        tree.grid2,
        tree.subgrid,
        tree.otherGrid,
        tree.village,
        tree.village2,
        tree.town,
        tree.county,
      ].find((u) => u.id === record.responsibleUnit.id)!;
      emit(
        "resolved",
        byUnit,
        { note: "已处理" },
        {
          state: "resolved",
          resolution: { note: "已处理", at: new Date(at).toISOString(), by: "x" },
        },
      );
      resolutions.push({
        caseId: record.id,
        owningPath: owner.path,
        level: record.responsibleUnit.level,
        at: new Date(at).toISOString(),
      });
      later(2000);
      const satisfaction = pick(["satisfied", "basically_satisfied", "dissatisfied"] as const);
      const reopened = satisfaction === "dissatisfied";
      emit(
        "return_visited",
        acceptor,
        { satisfaction, state: reopened ? "reopened" : "resolved" },
        {
          state: (reopened ? "reopened" : "resolved") as CaseState,
          returnVisit: { satisfaction, note: null, at: new Date(at).toISOString(), by: "x" },
          ...(reopened ? { resolution: null, reopenCount: record.reopenCount + 1 } : {}),
        },
      );
      if (reopened) continue;
      later(600);
      emit("closed", acceptor, { note: null }, { state: "closed", closedAt: new Date(at).toISOString() });
      if (rnd() < 0.1) {
        later(3000);
        emit(
          "reopened",
          tree.town,
          { reason: "群众再次反映" },
          { state: "reopened", closedAt: null, resolution: null },
        );
        continue;
      }
      break;
    }
  }
  return { messages, resolutions };
}

/** The messages shuffled, with about a third of them sent two or three times. */
export function duplicatedAndShuffled<T>(messages: readonly T[], seed: number): T[] {
  const rnd = seeded(seed);
  const out: T[] = [];
  for (const m of messages) {
    out.push(m);
    if (rnd() < 0.35) out.push(m);
    if (rnd() < 0.1) out.push(m);
  }
  return shuffle(out, seed);
}
