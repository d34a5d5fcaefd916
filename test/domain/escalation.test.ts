import { describe, expect, it } from "vitest";
import type { UnitRef } from "../../src/domain/case-model";
import {
  checkEscalation,
  checkSendDown,
  checkSupervision,
  cityOfPath,
  escalationDedupeKey,
  escalationTarget,
  hasMediationAttempt,
  inboxDedupeKey,
} from "../../src/domain/escalation";

const city: UnitRef = { id: "c", path: "/c/", level: "city" };
const county: UnitRef = { id: "co", path: "/c/co/", level: "county" };
const town: UnitRef = { id: "t", path: "/c/co/t/", level: "town" };
const village: UnitRef = { id: "v", path: "/c/co/t/v/", level: "village" };
const grid: UnitRef = { id: "g", path: "/c/co/t/v/g/", level: "grid" };
const subgrid: UnitRef = { id: "s", path: "/c/co/t/v/g/s/", level: "grid" };
const otherVillage: UnitRef = { id: "v2", path: "/c/co/t/v2/", level: "village" };

const staffAt = (u: UnitRef) => ({ role: "center_staff" as const, unitPath: u.path, unitLevel: u.level });
const open = (responsibleUnit: UnitRef, type: "livelihood" | "dispute" = "livelihood") => ({
  state: "accepted" as const,
  type,
  mediation: null,
  responsibleUnit,
});

describe("escalationTarget", () => {
  it("climbs grid → village → town → county → city, a level-3 grid going straight to its village", () => {
    expect(escalationTarget(grid)).toEqual({
      ok: true,
      target: { unitId: "v", level: "village", path: "/c/co/t/v/" },
    });
    expect(escalationTarget(subgrid)).toEqual({
      ok: true,
      target: { unitId: "v", level: "village", path: "/c/co/t/v/" },
    });
    expect(escalationTarget(village)).toEqual({
      ok: true,
      target: { unitId: "t", level: "town", path: "/c/co/t/" },
    });
    expect(escalationTarget(town)).toEqual({
      ok: true,
      target: { unitId: "co", level: "county", path: "/c/co/" },
    });
    expect(escalationTarget(county)).toEqual({
      ok: true,
      target: { unitId: "c", level: "city", path: "/c/" },
    });
  });

  it("refuses to go beyond the city with a clear error", () => {
    expect(escalationTarget(city)).toMatchObject({ ok: false, status: 409, code: "escalation-at-top" });
  });
});

describe("checkEscalation", () => {
  it("lets a missed deadline escalate any open case without reason code or mediation", () => {
    expect(checkEscalation(open(grid, "dispute"), { automatic: true })).toMatchObject({
      ok: true,
      target: { unitId: "v" },
    });
  });

  it("keeps small matters in the grid: a manual escalation from a grid or village needs a reason code", () => {
    expect(checkEscalation(open(grid), { automatic: false, reason: "too big" })).toMatchObject({
      ok: false,
      status: 400,
      code: "escalation-reason-code-required",
    });
    expect(
      checkEscalation(open(village), { automatic: false, reason: "too big", reasonCode: "nonsense" }),
    ).toMatchObject({
      ok: false,
      code: "escalation-reason-code-required",
    });
    expect(
      checkEscalation(open(village), { automatic: false, reason: "too big", reasonCode: "beyond_authority" }),
    ).toMatchObject({ ok: true, target: { unitId: "t", level: "town" } });
  });

  it("does not push conflicts upward: a dispute needs a recorded mediation attempt first", () => {
    const dispute = open(grid, "dispute");
    const request = { automatic: false, reason: "parties refuse", reasonCode: "mediation_failed" };
    expect(checkEscalation(dispute, request)).toMatchObject({
      ok: false,
      status: 409,
      code: "mediation-attempt-required",
    });
    const mediated = {
      ...dispute,
      mediation: { method: "on_site" as const, mediator: "Zhang", result: "failed" as const },
    };
    expect(checkEscalation(mediated, request)).toMatchObject({ ok: true, target: { level: "village" } });
  });

  it("lets a town escalate with a reason alone, but always needs a reason", () => {
    expect(checkEscalation(open(town), { automatic: false, reason: "county matter" })).toMatchObject({
      ok: true,
    });
    expect(checkEscalation(open(town), { automatic: false, reason: "  " })).toMatchObject({
      ok: false,
      code: "escalation-reason-required",
    });
  });

  it("refuses closed, resolved, rejected and merged cases, and escalation from the city", () => {
    for (const state of ["closed", "resolved", "rejected", "merged"] as const) {
      expect(checkEscalation({ ...open(grid), state }, { automatic: true })).toMatchObject({
        ok: false,
        status: 409,
        code: "case-not-open",
      });
    }
    expect(checkEscalation(open(city), { automatic: true })).toMatchObject({
      ok: false,
      code: "escalation-at-top",
    });
  });
});

describe("hasMediationAttempt", () => {
  it("needs a method, a mediator and a result other than pending", () => {
    expect(hasMediationAttempt(null)).toBe(false);
    expect(hasMediationAttempt({ method: "joint", mediator: "Li", result: "pending" })).toBe(false);
    expect(hasMediationAttempt({ method: "joint", result: "failed" })).toBe(false);
    expect(hasMediationAttempt({ method: "joint", mediator: "Li", result: "partially_agreed" })).toBe(true);
  });
});

describe("checkSupervision", () => {
  it("lets any centre above the responsible unit supervise or urge", () => {
    for (const u of [village, town, county, city])
      expect(checkSupervision(staffAt(u), open(grid))).toEqual({ ok: true });
  });

  it("refuses the responsible unit itself, units outside its ancestors, and non-centre roles", () => {
    expect(checkSupervision(staffAt(village), open(village))).toMatchObject({
      ok: false,
      code: "not-an-ancestor",
    });
    expect(checkSupervision(staffAt(otherVillage), open(grid))).toMatchObject({
      ok: false,
      status: 403,
      code: "not-an-ancestor",
    });
    expect(
      checkSupervision({ role: "grid_worker", unitPath: grid.path, unitLevel: "grid" }, open(subgrid)),
    ).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    expect(
      checkSupervision({ role: "leader", unitPath: city.path, unitLevel: "city" }, open(grid)),
    ).toMatchObject({
      ok: false,
      code: "forbidden",
    });
  });

  it("refuses a case that is no longer open", () => {
    expect(checkSupervision(staffAt(town), { ...open(grid), state: "closed" })).toMatchObject({
      ok: false,
      code: "case-not-open",
    });
  });
});

describe("checkSendDown", () => {
  it("sends a case down only to a unit below the one responsible", () => {
    expect(checkSendDown(staffAt(town), open(town), village)).toEqual({ ok: true });
    expect(checkSendDown(staffAt(county), open(town), grid)).toEqual({ ok: true });
    expect(checkSendDown(staffAt(town), open(town), town)).toMatchObject({
      ok: false,
      code: "target-not-below",
    });
    expect(checkSendDown(staffAt(town), open(village), otherVillage)).toMatchObject({
      ok: false,
      code: "target-not-below",
    });
    expect(checkSendDown(staffAt(otherVillage), open(village), grid)).toMatchObject({
      ok: false,
      code: "not-responsible",
    });
  });
});

describe("dedupe keys and dead-letter routing", () => {
  it("keys an escalation by case and target level, other notices by their own discriminator", () => {
    expect(escalationDedupeKey("k", "village")).toBe("escalated:k:village");
    expect(inboxDedupeKey("supervision", "k", 7)).toBe("supervision:k:7");
    expect(inboxDedupeKey("overdue", "k", "g@2026-01-01T00:00:00.000Z")).toBe(
      "overdue:k:g@2026-01-01T00:00:00.000Z",
    );
  });

  it("finds the city at the root of a path", () => {
    expect(cityOfPath(subgrid.path)).toBe("c");
    expect(cityOfPath("/")).toBeNull();
  });
});
