import { describe, expect, it } from "vitest";
import { api, read } from "../support/client";
import { makeTree, makeUser, sql, type TestTree, type TestUnit } from "../support/helpers";

const YEAR = 365 * 86400;
type RuleBody = {
  caseType: "*";
  severity: "critical";
  acceptWithinSeconds?: number;
  resolveWithinSeconds?: number;
  escalateGraceSeconds?: number;
};
const critical = (values: Omit<RuleBody, "caseType" | "severity">): RuleBody => ({
  caseType: "*",
  severity: "critical",
  ...values,
});
/** What center-village tried: one year for every time limit of critical cases. */
const oneYear = critical({
  acceptWithinSeconds: YEAR,
  resolveWithinSeconds: YEAR,
  escalateGraceSeconds: YEAR,
});

const put = (token: string, unit: TestUnit, rules: RuleBody[]) =>
  api(token)
    .v1.units[":id"]["sla-policy"].$put({ param: { id: unit.id }, json: { rules } })
    .then(read);
const get = (token: string, unit: TestUnit) =>
  api(token)
    .v1.units[":id"]["sla-policy"].$get({ param: { id: unit.id } })
    .then(read);

async function stored(unit: TestUnit) {
  const rows = await sql().execute({
    sql: "SELECT value FROM unit_settings WHERE unit_id = ? AND key = 'sla_policy'",
    args: [unit.id],
  });
  return rows.rows[0] ? JSON.parse(String(rows.rows[0].value)) : null;
}

async function audits(unit: TestUnit) {
  const rows = await sql().execute({
    sql: "SELECT COUNT(*) AS n FROM audit_log WHERE object_id = ? AND action = 'sla-policy.update'",
    args: [unit.id],
  });
  return Number(rows.rows[0]!.n);
}

/** A tree whose town centre has set a 30-minute acceptance for every critical case. */
async function townSetsThirtyMinutes() {
  const tree = await makeTree();
  const [townStaff, villageStaff, admin, gridWorker] = await Promise.all([
    makeUser("center_staff", tree.town),
    makeUser("center_staff", tree.village),
    makeUser("admin", tree.city),
    makeUser("grid_worker", tree.grid),
  ]);
  const set = await put(townStaff.token, tree.town, [critical({ acceptWithinSeconds: 1800 })]);
  expect(set.status, JSON.stringify(set.body)).toBe(200);
  return { tree, townStaff, villageStaff, admin, gridWorker };
}

/** Reports a critical case at the tree's grid and returns its accept deadline in seconds from the report. */
async function criticalAcceptSeconds(token: string, tree: TestTree) {
  const res = await read(
    await api(token).v1.cases.$post({
      json: {
        id: crypto.randomUUID(),
        gridId: tree.grid.id,
        type: "safety_hazard",
        severity: "critical",
        title: "河堤出现管涌",
        description: "二组河堤脚下出现管涌，水流带沙，堤后三户人家需要转移。",
      },
      header: {},
    }),
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  if (res.status !== 201) throw new Error("not reported");
  const d = res.body.deadlines!;
  expect(d).toMatchObject({ phase: "accept", unitId: tree.grid.id, policy: "effective" });
  return (Date.parse(d.dueAt) - Date.parse(d.startedAt)) / 1000;
}

const entryOf = (body: { entries: Array<{ caseType: string; severity: string }> }, caseType: string) =>
  body.entries.find((e) => e.caseType === caseType && e.severity === "critical") as
    | {
        values: Record<string, number>;
        sources: Record<string, string | null>;
        caps: Record<string, { unitId: string; value: number }>;
      }
    | undefined;

describe("a unit may tighten the time limits it inherits, never loosen them", () => {
  it("refuses center-village's one year under center-town's 30 minutes with 409 naming field, cap and unit, and writes nothing", async () => {
    const { tree, villageStaff, gridWorker } = await townSetsThirtyMinutes();
    const res = await put(villageStaff.token, tree.village, [oneYear]);
    expect(res).toBeProblem(409, "sla-above-cap");
    const body = res.body;
    if (!("caps" in body && "errors" in body && "detail" in body)) throw new Error("no caps in the problem");
    expect(body.caps).toEqual([
      {
        path: "rules.0.acceptWithinSeconds",
        field: "acceptWithinSeconds",
        caseType: "dispute",
        severity: "critical",
        value: YEAR,
        cap: 1800,
        unitId: tree.town.id,
      },
    ]);
    expect(body.errors).toEqual([expect.objectContaining({ path: "rules.0.acceptWithinSeconds" })]);
    expect(body.detail).toEqual(expect.stringContaining(tree.town.id));
    expect(body.detail).toEqual(expect.stringContaining("1800"));
    expect(await stored(tree.village)).toBeNull();
    expect(await audits(tree.village)).toBe(0);
    expect(await criticalAcceptSeconds(gridWorker.token, tree)).toBe(1800);
  });

  it("accepts an equal or tighter value, and limits the town does not set", async () => {
    const { tree, villageStaff, gridWorker } = await townSetsThirtyMinutes();
    const equal = await put(villageStaff.token, tree.village, [
      critical({ acceptWithinSeconds: 1800, resolveWithinSeconds: 2 * 86400 }),
    ]);
    expect(equal.status, JSON.stringify(equal.body)).toBe(200);
    const tighter = await put(villageStaff.token, tree.village, [critical({ acceptWithinSeconds: 1200 })]);
    expect(tighter.status).toBe(200);
    expect(await stored(tree.village)).toEqual([
      { caseType: "*", severity: "critical", values: { acceptWithinSeconds: 1200 } },
    ]);
    expect(await criticalAcceptSeconds(gridWorker.token, tree)).toBe(1200);
  });

  it("lets an admin, or the town that set the cap, loosen it; the village keeps that leave but cannot widen it", async () => {
    const { tree, townStaff, villageStaff, admin, gridWorker } = await townSetsThirtyMinutes();
    const byAdmin = await put(admin.token, tree.village, [oneYear]);
    expect(byAdmin.status, JSON.stringify(byAdmin.body)).toBe(200);
    expect((await stored(tree.village))[0].waivers).toEqual({
      acceptWithinSeconds: [{ unitId: tree.town.id, ruleType: "*", value: 1800 }],
    });
    expect(await criticalAcceptSeconds(gridWorker.token, tree)).toBe(YEAR);

    const byTown = await put(townStaff.token, tree.village, [critical({ acceptWithinSeconds: 7200 })]);
    expect(byTown.status).toBe(200);
    // The village may restate or tighten what it was allowed, not go past it.
    expect(
      (await put(villageStaff.token, tree.village, [critical({ acceptWithinSeconds: 3600 })])).status,
    ).toBe(200);
    expect(
      await put(villageStaff.token, tree.village, [critical({ acceptWithinSeconds: 7200 })]),
    ).toBeProblem(409, "sla-above-cap");
    expect((await stored(tree.village))[0].values).toEqual({ acceptWithinSeconds: 3600 });
    expect(await criticalAcceptSeconds(gridWorker.token, tree)).toBe(3600);
  });

  it("shows in GET which values a unit above caps, with that unit's id and value", async () => {
    const { tree, townStaff, villageStaff } = await townSetsThirtyMinutes();
    expect(
      (await put(villageStaff.token, tree.village, [critical({ acceptWithinSeconds: 900 })])).status,
    ).toBe(200);
    const village = await get(villageStaff.token, tree.village);
    expect(village.status).toBe(200);
    if (village.status !== 200) return;
    expect(entryOf(village.body, "emergency")).toMatchObject({
      values: { acceptWithinSeconds: 900 },
      sources: { acceptWithinSeconds: tree.village.id },
      caps: { acceptWithinSeconds: { unitId: tree.town.id, value: 1800 } },
    });
    expect(Object.keys(entryOf(village.body, "emergency")!.caps)).toEqual(["acceptWithinSeconds"]);
    const normal = village.body.entries.find((e) => e.severity === "normal");
    expect(normal?.caps).toEqual({});

    // Below the village the tighter of the two binds; at the town itself nothing above caps it.
    const grid = await get(villageStaff.token, tree.grid);
    if (grid.status !== 200) throw new Error("no policy");
    expect(entryOf(grid.body, "dispute")!.caps).toEqual({
      acceptWithinSeconds: { unitId: tree.village.id, value: 900 },
    });
    const town = await get(townStaff.token, tree.town);
    if (town.status !== 200) throw new Error("no policy");
    expect(entryOf(town.body, "dispute")!.caps).toEqual({});
  });

  it("caps a looser value set before the town tightened: GET and a case reported afterwards get the capped deadline", async () => {
    const tree = await makeTree();
    const [townStaff, villageStaff, gridWorker] = await Promise.all([
      makeUser("center_staff", tree.town),
      makeUser("center_staff", tree.village),
      makeUser("grid_worker", tree.grid),
    ]);
    // With nothing set above, the village may set an hour (looser than the built-in 30 minutes).
    expect(
      (await put(villageStaff.token, tree.village, [critical({ acceptWithinSeconds: 3600 })])).status,
    ).toBe(200);
    expect(await criticalAcceptSeconds(gridWorker.token, tree)).toBe(3600);

    const tightened = await put(townStaff.token, tree.town, [critical({ acceptWithinSeconds: 1200 })]);
    expect(tightened.status, JSON.stringify(tightened.body)).toBe(200);
    expect(await stored(tree.village)).toEqual([
      { caseType: "*", severity: "critical", values: { acceptWithinSeconds: 3600 } },
    ]);
    const village = await get(villageStaff.token, tree.village);
    if (village.status !== 200) throw new Error("no policy");
    expect(entryOf(village.body, "public_security")).toMatchObject({
      values: { acceptWithinSeconds: 1200 },
      sources: { acceptWithinSeconds: tree.town.id },
      caps: { acceptWithinSeconds: { unitId: tree.town.id, value: 1200 } },
    });
    expect(await criticalAcceptSeconds(gridWorker.token, tree)).toBe(1200);
  });
});
