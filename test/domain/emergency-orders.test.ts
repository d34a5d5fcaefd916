import { describe, expect, it } from "vitest";
import { ackEscalationTargets } from "../../src/domain/emergency-orders";

describe("ackEscalationTargets", () => {
  it("names a grid's village and town with their paths", () => {
    expect(ackEscalationTargets("/c/k/t/v/g/")).toEqual([
      { unitId: "v", unitPath: "/c/k/t/v/" },
      { unitId: "t", unitPath: "/c/k/t/" },
    ]);
  });

  it("names the same centres for a third-level grid", () => {
    expect(ackEscalationTargets("/c/k/t/v/g/s/").map((t) => t.unitId)).toEqual(["v", "t"]);
  });

  it("names no unit as its own escalation target", () => {
    expect(ackEscalationTargets("/c/k/t/v/")).toEqual([{ unitId: "t", unitPath: "/c/k/t/" }]);
    expect(ackEscalationTargets("/c/k/")).toEqual([]);
  });
});
