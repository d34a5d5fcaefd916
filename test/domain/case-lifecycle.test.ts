import { describe, expect, it } from "vitest";
import {
  allowedActions,
  type CaseCommand,
  canSeeCase,
  decide,
  hasClosureEvidence,
  MAX_ATTACHMENTS,
  reportCase,
} from "../../src/domain/case-lifecycle";
import type { Actor, CaseRecord, NewCase, UnitRef } from "../../src/domain/case-model";
import type { Role } from "../../src/domain/roles";

const unit = (path: string, level: UnitRef["level"]): UnitRef => ({
  id: path.split("/").filter(Boolean).at(-1)!,
  path,
  level,
});
const city = unit("/city/", "city");
const town = unit("/city/county/town/", "town");
const village = unit("/city/county/town/village/", "village");
const grid = unit("/city/county/town/village/grid/", "grid");
const otherGrid = unit("/city/county/town/village2/grid9/", "grid");

const actor = (role: Role, u: UnitRef, userId = `${role}@${u.id}`): Actor => ({
  userId,
  role,
  unitId: u.id,
  unitPath: u.path,
  unitLevel: u.level,
});
const gridWorker = actor("grid_worker", grid);
const villageCentre = actor("center_staff", village);
const townCentre = actor("center_staff", town);
const townDepartment = actor("department", town);
const NOW = "2026-11-20T08:00:00.000Z";

const report = (over: Partial<NewCase> = {}): NewCase => ({
  id: "00000000-0000-4000-8000-000000000001",
  type: "livelihood",
  severity: "normal",
  title: "Street light out",
  description: "",
  location: { lat: 32.68, lng: 109.02 },
  householdIds: [],
  residentIds: [],
  mediation: null,
  ...over,
});

function reported(over: Partial<NewCase> = {}, by = gridWorker): CaseRecord {
  const d = reportCase(report(over), by, grid, NOW);
  if (!d.ok) throw new Error(d.detail);
  return d.record;
}

function apply(c: CaseRecord, command: CaseCommand, by: Actor): CaseRecord {
  const d = decide(c, command, by, NOW);
  if (!d.ok) throw new Error(`${d.status} ${d.code}: ${d.detail}`);
  expect(d.record.version).toBe(c.version + 1);
  expect(d.event.seq).toBe(c.seq + 1);
  return d.record;
}

const photo = (id: string): CaseCommand => ({
  action: "attach",
  attachment: { id, contentType: "image/jpeg", size: 10 },
});

describe("reporting", () => {
  it("a grid worker reports in their grid: reported, version 1, the grid owns and is responsible", () => {
    const d = reportCase(report(), gridWorker, grid, NOW);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.record).toMatchObject({
      state: "reported",
      version: 1,
      seq: 1,
      owningUnit: grid,
      responsibleUnit: { ...grid, department: null },
      coordinatorUnit: null,
    });
    expect(d.event).toMatchObject({ seq: 1, type: "reported", caseId: d.record.id });
  });

  it("refuses roles that do not report, units outside the reporter's subtree, and units above villages", () => {
    expect(reportCase(report(), actor("leader", village), grid, NOW)).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(reportCase(report(), gridWorker, otherGrid, NOW)).toMatchObject({ ok: false, status: 403 });
    expect(reportCase(report(), townCentre, town, NOW)).toMatchObject({ ok: false, status: 400 });
  });

  it("only a dispute carries a mediation section", () => {
    expect(reportCase(report({ mediation: { subject: "x" } }), gridWorker, grid, NOW)).toMatchObject({
      ok: false,
      code: "mediation-only-for-disputes",
    });
    expect(
      reportCase(report({ type: "dispute", mediation: { subject: "x" } }), gridWorker, grid, NOW).ok,
    ).toBe(true);
  });
});

describe("the closed loop", () => {
  it("village accepts and dispatches to a town department, which resolves; the village return-visits and closes", () => {
    let c = reported();
    c = apply(c, { action: "accept" }, villageCentre);
    expect(c).toMatchObject({
      state: "accepted",
      coordinatorUnit: village,
      responsibleUnit: { id: village.id },
    });
    c = apply(c, { action: "dispatch", target: { ...town, department: "司法所" } }, villageCentre);
    expect(c).toMatchObject({ state: "dispatched", responsibleUnit: { id: town.id, department: "司法所" } });
    c = apply(c, { action: "start" }, townDepartment);
    expect(c.state).toBe("in_progress");
    c = apply(c, { action: "resolve", note: "Light replaced" }, townDepartment);
    expect(c).toMatchObject({ state: "resolved", resolution: { note: "Light replaced" } });
    c = apply(c, { action: "return_visit", satisfaction: "satisfied" }, villageCentre);
    expect(c.state).toBe("resolved");
    c = apply(c, { action: "close" }, villageCentre);
    expect(c).toMatchObject({ state: "closed", closedAt: NOW, version: 7, seq: 7 });
  });

  it("a grid worker keeps a small matter in the grid: accept, resolve with a photo, close", () => {
    let c = reported();
    c = apply(c, { action: "accept" }, gridWorker);
    expect(c.coordinatorUnit).toEqual(grid);
    c = apply(c, photo("p1"), gridWorker);
    c = apply(c, { action: "resolve", note: "Fixed" }, gridWorker);
    expect(hasClosureEvidence(c)).toBe(true);
    c = apply(c, { action: "close" }, gridWorker);
    expect(c.state).toBe("closed");
  });

  it("a grid worker may not accept an urgent case or an emergency: those go to the village", () => {
    for (const over of [{ severity: "urgent" as const }, { type: "emergency" as const }]) {
      const d = decide(reported(over), { action: "accept" }, gridWorker, NOW);
      expect(d).toMatchObject({ ok: false, status: 403 });
      expect(decide(reported(over), { action: "accept" }, villageCentre, NOW).ok).toBe(true);
    }
  });

  it("a dissatisfied return visit reopens the case and clears its resolution", () => {
    let c = apply(reported(), { action: "accept" }, villageCentre);
    c = apply(c, { action: "resolve", note: "done" }, villageCentre);
    c = apply(c, { action: "return_visit", satisfaction: "dissatisfied", note: "still dark" }, villageCentre);
    expect(c).toMatchObject({ state: "reopened", resolution: null, reopenCount: 1 });
    expect(allowedActions(c, villageCentre)).toEqual(expect.arrayContaining(["dispatch", "resolve"]));
    c = apply(c, { action: "resolve", note: "done again" }, villageCentre);
    expect(c.state).toBe("resolved");
  });

  it("a closed case can be reopened by its coordinator", () => {
    let c = apply(reported(), { action: "accept" }, villageCentre);
    c = apply(c, { action: "resolve", note: "done" }, villageCentre);
    c = apply(c, { action: "return_visit", satisfaction: "basically_satisfied" }, villageCentre);
    c = apply(c, { action: "close" }, villageCentre);
    c = apply(c, { action: "reopen", reason: "came back" }, villageCentre);
    expect(c).toMatchObject({ state: "reopened", closedAt: null, returnVisit: null });
  });

  it("reject and merge are final", () => {
    const rejected = apply(reported(), { action: "reject", reason: "not a matter for us" }, villageCentre);
    expect(rejected.rejection?.reason).toBe("not a matter for us");
    const merged = apply(reported(), { action: "merge", intoCaseId: "other" }, gridWorker);
    expect(merged.mergedInto).toBe("other");
    for (const c of [rejected, merged]) {
      expect(allowedActions(c, villageCentre)).toEqual([]);
      expect(decide(c, { action: "accept" }, villageCentre, NOW)).toMatchObject({ status: 409 });
    }
    expect(decide(reported(), { action: "merge", intoCaseId: reported().id }, gridWorker, NOW)).toMatchObject(
      {
        status: 400,
      },
    );
  });
});

describe("refusals", () => {
  it("an action not legal in the state is 409, whoever asks", () => {
    expect(decide(reported(), { action: "close" }, villageCentre, NOW)).toMatchObject({
      ok: false,
      status: 409,
      code: "illegal-transition",
    });
    expect(decide(reported(), { action: "resolve", note: "x" }, townDepartment, NOW)).toMatchObject({
      status: 409,
    });
  });

  it("a legal action by the wrong role or unit is 403", () => {
    const accepted = apply(reported(), { action: "accept" }, villageCentre);
    const dispatched = apply(
      accepted,
      { action: "dispatch", target: { ...town, department: "住建办" } },
      villageCentre,
    );
    expect(
      decide(accepted, { action: "dispatch", target: { ...grid, department: null } }, gridWorker, NOW),
    ).toMatchObject({
      status: 403,
    });
    expect(decide(dispatched, { action: "start" }, actor("center_staff", town), NOW)).toMatchObject({
      status: 403,
    });
    expect(
      decide(dispatched, { action: "start" }, actor("department", unit("/city/county/", "county")), NOW),
    ).toMatchObject({
      status: 403,
    });
    expect(decide(reported(), { action: "reject", reason: "no" }, gridWorker, NOW)).toMatchObject({
      status: 403,
    });
    expect(
      decide(
        reported(),
        { action: "accept" },
        actor("center_staff", unit("/city/county/town/village2/", "village")),
        NOW,
      ),
    ).toMatchObject({
      status: 403,
    });
  });

  it("closure needs evidence: a satisfied return visit, or a resolution note with a handling photo", () => {
    let c = apply(reported(), photo("report-photo"), gridWorker);
    c = apply(c, { action: "accept" }, villageCentre);
    c = apply(c, { action: "resolve", note: "Fixed" }, villageCentre);
    // The photo taken when reporting shows the problem, not the fix.
    expect(decide(c, { action: "close" }, villageCentre, NOW)).toMatchObject({
      status: 409,
      code: "closure-needs-evidence",
    });
    const withPhoto = apply(c, photo("after"), villageCentre);
    expect(decide(withPhoto, { action: "close" }, villageCentre, NOW).ok).toBe(true);
    const visited = apply(c, { action: "return_visit", satisfaction: "satisfied" }, villageCentre);
    expect(decide(visited, { action: "close" }, villageCentre, NOW).ok).toBe(true);
  });

  it("a dispute is resolved only with its mediation result", () => {
    let c = apply(
      reported({ type: "dispute", mediation: { subject: "boundary wall" } }),
      { action: "accept" },
      villageCentre,
    );
    expect(decide(c, { action: "resolve", note: "talked" }, villageCentre, NOW)).toMatchObject({
      status: 409,
      code: "mediation-result-required",
    });
    c = apply(
      c,
      { action: "resolve", note: "talked", mediation: { result: "agreed", method: "on_site" } },
      villageCentre,
    );
    expect(c.mediation).toEqual({ subject: "boundary wall", result: "agreed", method: "on_site" });
  });

  it("dispatch goes down the subtree, or up only to a department; not to the same place twice", () => {
    const accepted = apply(reported(), { action: "accept" }, villageCentre);
    expect(
      decide(accepted, { action: "dispatch", target: { ...town, department: null } }, villageCentre, NOW),
    ).toMatchObject({
      status: 400,
      code: "dispatch-target",
    });
    expect(
      decide(
        accepted,
        { action: "dispatch", target: { ...otherGrid, department: null } },
        villageCentre,
        NOW,
      ),
    ).toMatchObject({
      status: 400,
    });
    expect(
      decide(accepted, { action: "dispatch", target: { ...grid, department: "x" } }, villageCentre, NOW),
    ).toMatchObject({
      status: 400,
    });
    expect(
      decide(accepted, { action: "dispatch", target: { ...village, department: null } }, villageCentre, NOW),
    ).toMatchObject({
      status: 409,
    });
    const toGrid = apply(
      accepted,
      { action: "dispatch", target: { ...grid, department: null } },
      villageCentre,
    );
    expect(allowedActions(toGrid, gridWorker)).toEqual(
      expect.arrayContaining(["start", "resolve", "attach"]),
    );
  });

  it(`a case holds at most ${MAX_ATTACHMENTS} attachments`, () => {
    let c = reported();
    for (let i = 0; i < MAX_ATTACHMENTS; i++) c = apply(c, photo(`p${i}`), gridWorker);
    expect(decide(c, photo("one-more"), gridWorker, NOW)).toMatchObject({
      status: 409,
      code: "too-many-attachments",
    });
  });
});

describe("scope", () => {
  it("a case is visible from the owning unit's or the responsible unit's subtree", () => {
    let c = apply(reported(), { action: "accept" }, villageCentre);
    expect(canSeeCase(actor("grid_worker", otherGrid), c)).toBe(false);
    expect(canSeeCase(actor("leader", city), c)).toBe(true);
    c = apply(c, { action: "dispatch", target: { ...town, department: "司法所" } }, villageCentre);
    expect(canSeeCase(townDepartment, c)).toBe(true);
    expect(canSeeCase(actor("department", unit("/city/county/town2/", "town")), c)).toBe(false);
  });
});
