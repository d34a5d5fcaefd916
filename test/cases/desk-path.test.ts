import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src";
import { deskKeyOfCaseId, isKeyedCaseId } from "../../src/domain/case-id";
import type { NewCase } from "../../src/domain/case-model";
import { legacyDeskOf } from "../../src/durable/grid-desk/address";
import type { DeskRules, GridDesk } from "../../src/durable/grid-desk/grid-desk";
import { deskRulesChanged } from "../../src/queues/desk-rules";
import {
  caseIdOf,
  deskCase,
  deskOf,
  makeWorld,
  newReport,
  projected,
  report,
} from "../support/case-fixtures";
import { MIN, setPolicy } from "../support/desk";
import { until } from "../support/doubles";
import { call, makeUser, sql } from "../support/helpers";

/** A village's critical cases: accept within 10 min, resolve within 1 h. */
const shortCritical = {
  caseType: "*",
  severity: "critical",
  acceptWithinSeconds: 600,
  acceptWarnBeforeSeconds: 120,
  resolveWithinSeconds: 3600,
  resolveWarnBeforeSeconds: 600,
  escalateGraceSeconds: 300,
};

/** A request to the Worker with libSQL unreachable (nothing listens on port 9). */
async function withLibsqlDown(
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await worker.fetch!(
    new Request(`https://grid321.test${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    }) as never,
    { ...env, LIBSQL_URL: "http://127.0.0.1:9" } as unknown as Cloudflare.Env,
    createExecutionContext(),
  );
  return { status: res.status, body: (await res.json()) as Record<string, any>, headers: res.headers };
}

/** The count of one Server-Timing metric (`desc="n=…"`), e.g. libSQL round trips as `db`. */
function timingCount(headers: Headers, metric: string): number {
  const entry = (headers.get("server-timing") ?? "").split(", ").find((e) => e.startsWith(`${metric};`));
  const n = entry?.match(/desc="n=(\d+)"/)?.[1];
  if (n === undefined) throw new Error(`no ${metric} in Server-Timing: ${headers.get("server-timing")}`);
  return Number(n);
}

const rulesOf = async (unitId: string) => (await deskOf(unitId).rules()) as DeskRules | null;

describe("a case id names its desk", () => {
  it("the same client id or Idempotency-Key sent to four grids at once, 20 requests in parallel, is four distinct cases, each once", async () => {
    const w = await makeWorld();
    const grids = [w.tree.grid, w.tree.grid2, w.tree.subgrid, w.tree.otherGrid];
    const clientId = crypto.randomUUID();
    const key = `离线-${crypto.randomUUID()}`.replace(/[^\x21-\x7e]/g, "k");
    const base = newReport();
    const send = (gridId: string, withKey: boolean) =>
      call("/v1/cases", {
        token: w.townCentre.token,
        body: withKey ? { ...base, id: undefined, gridId } : { ...base, id: clientId, gridId },
        headers: withKey ? { "idempotency-key": key } : {},
      });
    for (const withKey of [false, true]) {
      const requests = Array.from({ length: 20 }, (_, i) => ({ grid: grids[i % 4]!, withKey }));
      const answers = await Promise.all(requests.map((r) => send(r.grid.id, r.withKey)));
      const byGrid = new Map<string, Array<{ status: number; id: string }>>();
      answers.forEach((res, i) => {
        const list = byGrid.get(requests[i]!.grid.id) ?? [];
        list.push({ status: res.status, id: res.body.id });
        byGrid.set(requests[i]!.grid.id, list);
      });
      const ids = new Set<string>();
      for (const grid of grids) {
        const got = byGrid.get(grid.id)!;
        expect(got.map((g) => g.status).sort()).toEqual([200, 200, 200, 200, 201]);
        expect(new Set(got.map((g) => g.id)).size).toBe(1);
        const id = got[0]!.id;
        if (!withKey) expect(id).toBe(caseIdOf(grid.id, clientId));
        expect(isKeyedCaseId(id)).toBe(true);
        ids.add(id);
        const stored = await deskCase(grid.id, id);
        expect(stored?.record.owningUnit.id).toBe(grid.id);
        expect(stored?.events.map((e) => e.type)).toEqual(["reported"]);
      }
      expect(ids.size).toBe(4);
      // Each grid's case is projected and read as its own, from its own grid's worker too.
      for (const id of ids) await projected(id, 1);
      const rows = await sql().execute({
        sql: `SELECT owning_unit_id FROM cases WHERE id IN (${[...ids].map(() => "?").join(",")})`,
        args: [...ids],
      });
      expect(rows.rows.map((r) => r.owning_unit_id).sort()).toEqual(grids.map((g) => g.id).sort());
    }
    const gridWorker = await makeUser("grid_worker", w.tree.grid2);
    const mine = await call(`/v1/cases/${caseIdOf(w.tree.grid2.id, clientId)}`, { token: gridWorker.token });
    expect(mine.status).toBe(200);
    expect(mine.body.owningUnit.id).toBe(w.tree.grid2.id);
  });

  it("a case is read and commanded with no libSQL round trip, counted in Server-Timing", async () => {
    const w = await makeWorld();
    // Authentication reads the isolate's recent session changes every few seconds: a first write warms them.
    const warm = await report(w.gridWorker);
    const warmed = await call(`/v1/cases/${warm.id}/accept`, {
      token: w.villageCentre.token,
      body: {},
      headers: { "if-match": '"1"' },
    });
    // Another user's first write reads nothing: the view is the isolate's, not the user's.
    expect(timingCount(warmed.headers, "db")).toBe(0);
    const created = await call("/v1/cases", { token: w.gridWorker.token, body: newReport() });
    expect(created.status).toBe(201);
    expect(timingCount(created.headers, "db")).toBe(0);
    expect(timingCount(created.headers, "desk")).toBeGreaterThanOrEqual(1);
    const id = created.body.id as string;
    expect(deskKeyOfCaseId(id)).not.toBeNull();

    const read = await call(`/v1/cases/${id}`, { token: w.villageCentre.token });
    expect(read.status).toBe(200);
    expect(timingCount(read.headers, "db")).toBe(0);
    expect(timingCount(read.headers, "desk")).toBe(1);
    expect(read.headers.get("server-timing")).toMatch(/auth;dur=[\d.]+;desc="n=1", .*total;dur=[\d.]+$/);

    const accepted = await call(`/v1/cases/${id}/accept`, {
      token: w.villageCentre.token,
      body: {},
      headers: { "if-match": '"1"' },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body).toMatchObject({
      state: "accepted",
      version: 2,
      deadlines: { policy: "effective" },
    });
    expect(timingCount(accepted.headers, "db")).toBe(0);
    expect(timingCount(accepted.headers, "desk")).toBe(1);
    expect((await deskCase(w.tree.grid.id, id))?.record.version).toBe(2);

    // A list needs libSQL, and says so.
    const list = await call("/v1/cases", { token: w.villageCentre.token });
    expect(timingCount(list.headers, "db")).toBeGreaterThanOrEqual(1);
  });

  it("a case from before keyed ids (plain UUID, in the desk named by its unit id) is still found through the projection", async () => {
    const w = await makeWorld();
    const id = crypto.randomUUID();
    const input: NewCase = {
      id,
      type: "livelihood",
      severity: "normal",
      title: "老旧小区路灯不亮",
      description: "三组路灯已坏一周",
      location: null,
      householdIds: [],
      residentIds: [],
      mediation: null,
    };
    const legacy = legacyDeskOf(env, w.tree.grid.id);
    const actor = {
      userId: w.gridWorker.id,
      role: "grid_worker" as const,
      unitId: w.tree.grid.id,
      unitPath: w.tree.grid.path,
      unitLevel: "grid" as const,
    };
    const owner = { id: w.tree.grid.id, path: w.tree.grid.path, level: "grid" as const };
    const made = await legacy.create({ input, owningUnit: owner, requestHash: "legacy" }, actor);
    expect(made.ok).toBe(true);
    await projected(id, 1);
    const read = await call(`/v1/cases/${id}`, { token: w.townCentre.token });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, title: "老旧小区路灯不亮", owningUnit: { id: w.tree.grid.id } });
    expect(timingCount(read.headers, "db")).toBe(1);
    const accepted = await call(`/v1/cases/${id}/accept`, {
      token: w.villageCentre.token,
      body: {},
      headers: { "if-match": '"1"' },
    });
    expect(accepted.status).toBe(200);
    expect(await deskCase(w.tree.grid.id, id)).toBeNull();
  });
});

describe("the rules a desk needs live in the desk", () => {
  it("a policy change reaches the desks below the unit and applies to new deadlines", async () => {
    const w = await makeWorld();
    const before = await report(w.gridWorker, { severity: "critical" });
    const other = await call("/v1/cases", {
      token: w.villageCentre.token,
      body: newReport({ gridId: w.tree.grid2.id, severity: "critical" }),
    });
    expect(before.deadlines).toMatchObject({ policy: "effective" });
    const acceptMs = (d: { startedAt: string; dueAt: string }) =>
      Date.parse(d.dueAt) - Date.parse(d.startedAt);
    expect(acceptMs(before.deadlines)).toBe(30 * MIN);
    const versionBefore = (await rulesOf(w.tree.grid.id))!.version;

    await setPolicy(w.townCentre, w.tree.village.id, [shortCritical]);
    for (const grid of [w.tree.grid, w.tree.grid2]) {
      const held = (await rulesOf(grid.id))!;
      expect(held.version).toBeGreaterThan(versionBefore);
      expect(held.book.rules[w.tree.village.id]).toEqual([
        expect.objectContaining({ caseType: "*", severity: "critical" }),
      ]);
    }
    expect(other.status).toBe(201);
    const after = await report(w.gridWorker, { severity: "critical" });
    expect(after.deadlines).toMatchObject({ policy: "effective" });
    expect(acceptMs(after.deadlines)).toBe(10 * MIN);
    // Deadlines already running stay as they were.
    expect(acceptMs((await deskCase(w.tree.grid.id, before.id))!.record.deadlines!)).toBe(30 * MIN);
  });

  it("a grid created or moved through the API holds its rules before its first report", async () => {
    const w = await makeWorld();
    const admin = await makeUser("admin", w.tree.town);
    await setPolicy(w.townCentre, w.tree.village.id, [shortCritical]);
    const created = await call("/v1/units", {
      token: admin.token,
      body: {
        code: `${w.tree.village.code}009`,
        name: "第九村民小组",
        level: "grid",
        parentId: w.tree.village.id,
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const gridId = (created.body as { id: string }).id;
    const held = await rulesOf(gridId);
    expect(held?.book.rules[w.tree.village.id]).toEqual([
      expect.objectContaining({
        caseType: "*",
        severity: "critical",
        values: expect.objectContaining({ acceptWithinSeconds: 600 }),
      }),
    ]);
    // Moved under the other village, which has no rules of its own: the old village's rules leave the desk.
    const moved = await call(`/v1/units/${gridId}`, {
      method: "PATCH",
      token: admin.token,
      headers: { "if-match": '"1"' },
      body: { parentId: w.tree.village2.id, code: `${w.tree.village2.code}009` },
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    const after = await rulesOf(gridId);
    expect(after!.version).toBeGreaterThan(held!.version);
    expect(after!.book.unitIds).toContain(w.tree.village2.id);
    expect(after!.book.rules[w.tree.village.id]).toBeUndefined();
  });

  it("through the desk-rules queue, a change is pushed page by page into every desk below, and an older version never overwrites a newer one", async () => {
    const w = await makeWorld();
    await report(w.gridWorker);
    await setPolicy(w.townCentre, w.tree.town.id, [shortCritical]);
    const held = (await rulesOf(w.tree.grid.id))!;
    await env.DESK_RULES.send(deskRulesChanged(w.tree.town.path, held.version + 1_000));
    await until(async () => (await rulesOf(w.tree.subgrid.id))?.version === held.version + 1_000);
    await until(async () => (await rulesOf(w.tree.grid.id))?.version === held.version + 1_000);
    expect((await rulesOf(w.tree.otherGrid.id))?.book.rules[w.tree.town.id]).toHaveLength(1);
    // A late, older push is ignored.
    expect(await deskOf(w.tree.grid.id).putRules({ unitIds: [], rules: {} }, held.version)).toBe(
      held.version + 1_000,
    );
    expect((await rulesOf(w.tree.grid.id))?.book.rules[w.tree.town.id]).toHaveLength(1);
  });

  it("with libSQL down a report goes in on the rules its desk last had", async () => {
    const w = await makeWorld();
    await setPolicy(w.townCentre, w.tree.village.id, [shortCritical]);
    await report(w.gridWorker);
    const created = await withLibsqlDown(
      "/v1/cases",
      w.gridWorker.token,
      newReport({ severity: "critical" }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(timingCount(created.headers, "db")).toBe(0);
    const d = created.body.deadlines;
    expect(d.policy).toBe("effective");
    expect(Date.parse(d.dueAt) - Date.parse(d.startedAt)).toBe(10 * MIN);
    expect((await deskCase(w.tree.grid.id, created.body.id))?.record.deadlines?.policy).toBe("effective");
  });

  it("a report with gridId goes in while libSQL is down (the desk knows its unit); a desk that never had a case needs libSQL once", async () => {
    const w = await makeWorld();
    await report(w.gridWorker);
    const body = newReport({ gridId: w.tree.grid.id, title: "村道积水" });
    const created = await withLibsqlDown("/v1/cases", w.villageCentre.token, body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      id: caseIdOf(w.tree.grid.id, body.id),
      owningUnit: { id: w.tree.grid.id },
    });
    expect(created.headers.get("location")).toBe(`/v1/cases/${created.body.id}`);
    expect((await deskCase(w.tree.grid.id, created.body.id))?.record.title).toBe("村道积水");
    // Replayed the same while down, still from the desk alone.
    expect((await withLibsqlDown("/v1/cases", w.villageCentre.token, body)).status).toBe(200);
    // Out of scope is refused by the desk itself.
    const elsewhere = await withLibsqlDown("/v1/cases", w.gridWorker.token, {
      ...newReport(),
      gridId: w.tree.grid.id,
    });
    expect(elsewhere.status).toBe(201);
    const foreign = await withLibsqlDown(
      "/v1/cases",
      w.otherGridWorker.token,
      newReport({ gridId: w.tree.grid.id }),
    );
    expect(foreign.status).toBe(404);
    // grid2's desk has never had a case: its unit must come from the registry.
    const fresh = await withLibsqlDown(
      "/v1/cases",
      w.villageCentre.token,
      newReport({ gridId: w.tree.grid2.id }),
    );
    expect(fresh.status).toBe(503);
    expect(fresh.headers.get("retry-after")).toBe("1");
  });
});

describe("the desk's alarm", () => {
  it("once its events are confirmed and its hints computed, waits for the next deadline step instead of the write's safety net", async () => {
    const w = await makeWorld();
    const before = Date.now();
    const created = await report(w.gridWorker);
    const desk = deskOf(w.tree.grid.id);
    const state = () =>
      runInDurableObject(desk, async (d: GridDesk, s) => ({
        projection: d.projectionState(),
        hintJobs: s.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM hint_jobs").one().n,
        outboxRows: s.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n,
        nextStep: s.storage.sql.exec<{ at: number | null }>("SELECT min(next_at) AS at FROM deadlines").one()
          .at,
        alarm: await s.storage.getAlarm(),
      }));
    // Right after the write, the safety net (30 s) backs up the outbox.
    const early = await state();
    expect(early.alarm).not.toBeNull();
    expect(early.alarm!).toBeLessThanOrEqual(before + 31_000 + 5_000);
    await projected(created.id as string, 1);
    await until(async () => {
      const s = await state();
      return (
        s.projection.unconfirmed === 0 &&
        s.projection.unsent === 0 &&
        s.hintJobs === 0 &&
        s.alarm !== early.alarm
      );
    });
    const settled = await state();
    expect(settled.projection.confirmedDseq).toBe(settled.projection.lastDseq);
    // What the desk kept in memory meanwhile (the sent mark, the confirmation, the hint job) is written.
    expect(settled.outboxRows).toBe(0);
    expect(settled.nextStep).not.toBeNull();
    // The case's first deadline step (default policy: hours away), not a wake-up that finds nothing to do.
    expect(settled.alarm).toBe(settled.nextStep);
    expect(settled.alarm!).toBeGreaterThan(Date.now() + 10 * 60_000);
  });
});

describe("duplicate hints", () => {
  it("the create answers with the desk's own near cases; village-wide hints follow on the case, titles only for cases the reader may read", async () => {
    const w = await makeWorld();
    const spot = { lat: 32.7, lng: 109.03 };
    const first = await report(w.gridWorker, {
      title: "三组路口流浪犬聚集",
      type: "public_security",
      location: spot,
    });
    const second = await report(w.gridWorker, {
      title: "路口有流浪犬",
      type: "public_security",
      location: { lat: 32.7001, lng: 109.03 },
    });
    expect(second.duplicates).toEqual([
      expect.objectContaining({
        id: first.id,
        title: "三组路口流浪犬聚集",
        owningUnitId: w.tree.grid.id,
        distanceM: 11,
      }),
    ]);
    await projected(first.id, 1);
    await projected(second.id, 1);

    const grid2Worker = await makeUser("grid_worker", w.tree.grid2);
    const mine = await call("/v1/cases", {
      token: grid2Worker.token,
      body: newReport({ title: "流浪犬", type: "public_security", location: { lat: 32.7002, lng: 109.03 } }),
    });
    expect(mine.status).toBe(201);
    expect(mine.body).toMatchObject({ duplicates: [], hiddenDuplicates: 0 });
    const id = mine.body.id as string;

    await until(async () => {
      const seen = await call(`/v1/cases/${id}`, { token: w.villageCentre.token });
      return seen.body.duplicates?.length === 2;
    });
    const byCentre = await call(`/v1/cases/${id}`, { token: w.villageCentre.token });
    expect(byCentre.body.duplicates.map((d: { id: string }) => d.id)).toEqual([second.id, first.id]);
    expect(byCentre.body.hiddenDuplicates).toBe(0);
    // The grid-2 worker may not read grid 1's cases: counted, never named.
    const byReporter = await call(`/v1/cases/${id}`, { token: grid2Worker.token });
    expect(byReporter.status).toBe(200);
    expect(byReporter.body).toMatchObject({ duplicates: [], hiddenDuplicates: 2 });
    expect(JSON.stringify(byReporter.body)).not.toContain("流浪犬聚集");
  });
});
