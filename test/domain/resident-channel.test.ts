import { describe, expect, it } from "vitest";
import { ACTIONS, reportCase } from "../../src/domain/case-lifecycle";
import type { Actor, CaseRecord, UnitRef } from "../../src/domain/case-model";
import {
  distanceMetres,
  open311Status,
  PUBLIC_SERVICES,
  publicService,
  roundCoordinate,
  statesOf,
} from "../../src/domain/open311";
import { codeSendRefusal, normalizeMobile, residentWording } from "../../src/domain/resident-channel";

describe("normalizeMobile", () => {
  it("keeps an 11-digit mainland number and drops spaces, dashes and +86/0086", () => {
    expect(normalizeMobile("13812345678")).toBe("13812345678");
    expect(normalizeMobile("+86 138-1234-5678")).toBe("13812345678");
    expect(normalizeMobile("0086 13812345678")).toBe("13812345678");
  });
  it("refuses anything else", () => {
    for (const bad of ["1381234567", "23812345678", "12812345678", "138123456789", "", "+1 4155550100"]) {
      expect(normalizeMobile(bad), bad).toBeNull();
    }
  });
});

describe("codeSendRefusal", () => {
  const now = 10_000_000;
  it("allows a first code", () => {
    expect(codeSendRefusal([], [], now)).toBeNull();
  });
  it("refuses a second code to a number within a minute, until that minute is over", () => {
    expect(codeSendRefusal([now - 20_000], [], now)).toEqual({
      limit: { bucket: "mobile", windowSeconds: 60, max: 1 },
      retryAfterSeconds: 40,
    });
    expect(codeSendRefusal([now - 61_000], [], now)).toBeNull();
  });
  it("refuses a sixth code to a number within an hour", () => {
    const sends = [5, 4, 3, 2, 1].map((m) => now - m * 600_000);
    expect(codeSendRefusal(sends, [], now)?.limit).toMatchObject({ bucket: "mobile", windowSeconds: 3600 });
  });
  it("refuses a twenty-first code from one address within an hour", () => {
    const sends = Array.from({ length: 20 }, (_, i) => now - (i + 2) * 60_000);
    expect(codeSendRefusal([], sends, now)?.limit.bucket).toBe("ip");
    expect(codeSendRefusal([], sends.slice(1), now)).toBeNull();
  });
});

describe("residentWording", () => {
  it("words the steps a resident follows and hides internal ones", () => {
    expect(residentWording("resolved")).toBe("已办结，请您评价办理结果");
    for (const internal of ["supervised", "urged", "attachment_added", "sent_down", "deadline_warned"]) {
      expect(residentWording(internal), internal).toBeNull();
    }
  });
});

describe("the public service catalogue", () => {
  it("offers no disputes, security or matters about persons", () => {
    const types = new Set(PUBLIC_SERVICES.map((s) => s.caseType));
    for (const never of ["dispute", "public_security", "assistance", "proxy_service", "emergency"]) {
      expect(types.has(never as never), never).toBe(false);
      expect(publicService(never)).toBeUndefined();
    }
    expect(publicService("road")?.caseType).toBe("safety_hazard");
  });
  it("maps case states onto open and closed, and back", () => {
    expect(open311Status("in_progress")).toBe("open");
    expect(open311Status("reopened")).toBe("open");
    expect(open311Status("resolved")).toBe("closed");
    expect(open311Status("merged")).toBe("closed");
    for (const state of statesOf("open")) expect(open311Status(state)).toBe("open");
    for (const state of statesOf("closed")) expect(open311Status(state)).toBe("closed");
  });
  it("rounds a coordinate to about 100 m", () => {
    expect(roundCoordinate(32.684449)).toBe(32.684);
    expect(roundCoordinate(109.0295)).toBe(109.03);
    const exact = { lat: 32.684449, lng: 109.029449 };
    const rounded = { lat: roundCoordinate(exact.lat), lng: roundCoordinate(exact.lng) };
    expect(distanceMetres(exact, rounded)).toBeLessThan(100);
    expect(distanceMetres({ lat: 32.684, lng: 109.029 }, { lat: 32.685, lng: 109.029 })).toBeGreaterThan(100);
  });
});

describe("residents in the case lifecycle", () => {
  const grid: UnitRef = { id: "g", path: "/c/co/t/v/g/", level: "grid" };
  const resident: Actor = {
    userId: "r1",
    role: "resident",
    unitId: grid.id,
    unitPath: grid.path,
    unitLevel: "grid",
  };
  const input = {
    id: "11111111-1111-4111-8111-111111111111",
    type: "environment" as const,
    severity: "normal" as const,
    title: "垃圾未清运",
    description: "三天没人清运",
    location: null,
    householdIds: [],
    residentIds: [],
    mediation: null,
  };
  const reported = () => {
    const decision = reportCase(input, resident, grid, "2026-12-01T00:00:00.000Z");
    if (!decision.ok) throw new Error(decision.detail);
    return decision.record;
  };
  it("lets a resident report into the grid they act in", () => {
    expect(reported().reporter).toEqual({ userId: "r1", role: "resident", unitId: "g" });
  });
  it("lets only the reporting resident rate a resolved case, and no resident accept, resolve or close", () => {
    const c: CaseRecord = { ...reported(), state: "resolved", coordinatorUnit: grid };
    expect(ACTIONS.return_visit.may(resident, c)).toBe(true);
    expect(ACTIONS.return_visit.may({ ...resident, userId: "r2" }, c)).toBe(false);
    for (const action of ["accept", "resolve", "close", "reopen", "dispatch", "reject"] as const) {
      expect(ACTIONS[action].may(resident, { ...c, state: "reported" }), action).toBe(false);
      expect(ACTIONS[action].may(resident, c), action).toBe(false);
    }
  });
});
