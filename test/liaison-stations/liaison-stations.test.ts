import { describe, expect, it } from "vitest";
import { act, caseIdOf, deskCase, projected } from "../support/case-fixtures";
import { call, makeTree, makeUser, sql, type TestTree, type TestUser } from "../support/helpers";

async function rows(query: string, args: Array<string | number>) {
  return (await sql().execute({ sql: query, args })).rows;
}

interface StationWorld {
  tree: TestTree;
  townStaff: TestUser;
  villageStaff: TestUser;
  deputy: TestUser;
  countyDeputy: TestUser;
  stationId: string;
}

/** A town station with a town deputy and a county deputy attached. */
async function stationWorld(): Promise<StationWorld> {
  const tree = await makeTree();
  const [townStaff, villageStaff, deputy, countyDeputy] = await Promise.all([
    makeUser("center_staff", tree.town),
    makeUser("center_staff", tree.village),
    makeUser("deputy", tree.town),
    makeUser("deputy", tree.county),
  ]);
  const countyStaff = await makeUser("center_staff", tree.county);
  const station = await call("/v1/liaison-stations", {
    token: townStaff.token,
    body: { name: "城关镇人大代表联络站", unitId: tree.town.id },
  });
  expect(station.status, JSON.stringify(station.body)).toBe(201);
  const attached = await call(`/v1/liaison-stations/${station.body.id}/deputies`, {
    token: countyStaff.token,
    body: { userIds: [deputy.id, countyDeputy.id] },
  });
  expect(attached.status, JSON.stringify(attached.body)).toBe(200);
  return { tree, townStaff, villageStaff, deputy, countyDeputy, stationId: station.body.id };
}

async function schedule(w: StationWorld, user: TestUser, kind: string, scheduledAt: string) {
  const res = await call(`/v1/liaison-stations/${w.stationId}/activities`, {
    token: user.token,
    body: { kind, title: `${kind} day`, scheduledAt },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

describe("liaison stations", () => {
  it("opens stations at county, town or village level and attaches deputies of their branch", async () => {
    const w = await stationWorld();
    const station = await call(`/v1/liaison-stations/${w.stationId}`, { token: w.deputy.token });
    expect(station.body).toMatchObject({ level: "town", unitId: w.tree.town.id });
    expect(station.body.deputies.map((d: any) => d.userId).sort()).toEqual(
      [w.deputy.id, w.countyDeputy.id].sort(),
    );
    const profiles = await rows(
      "SELECT user_id, station_id, deputy_level FROM contact_profiles WHERE station_id = ?",
      [w.stationId],
    );
    expect(profiles.map((p) => [p.user_id, p.deputy_level]).sort()).toEqual(
      [
        [w.deputy.id, "town"],
        [w.countyDeputy.id, "county"],
      ].sort(),
    );

    const atGrid = await call("/v1/liaison-stations", {
      token: w.townStaff.token,
      body: { name: "网格站", unitId: w.tree.grid.id },
    });
    expect(atGrid).toBeProblem(400);
    const otherBranch = await makeUser("deputy", w.tree.village2);
    const village = await call("/v1/liaison-stations", {
      token: w.villageStaff.token,
      body: { name: "一村联络站", unitId: w.tree.village.id },
    });
    expect(village.status).toBe(201);
    const wrongBranch = await call(`/v1/liaison-stations/${village.body.id}/deputies`, {
      token: w.townStaff.token,
      body: { userIds: [otherBranch.id] },
    });
    expect(wrongBranch).toBeProblem(400);
    const notDeputy = await call(`/v1/liaison-stations/${village.body.id}/deputies`, {
      token: w.townStaff.token,
      body: { userIds: [w.villageStaff.id] },
    });
    expect(notDeputy).toBeProblem(404);
    expect(
      await rows("SELECT user_id FROM contact_profiles WHERE station_id = ?", [village.body.id]),
    ).toHaveLength(0);
    const listed = await call(`/v1/units/${w.tree.town.id}/liaison-stations`, { token: w.townStaff.token });
    expect(listed.body.items.map((s: any) => s.id).sort()).toEqual([w.stationId, village.body.id].sort());
  });

  it("schedules five-days activities on the calendar with attendance and a record", async () => {
    const w = await stationWorld();
    const research = await schedule(w, w.deputy, "research", "2026-05-02T01:00:00Z");
    await schedule(w, w.townStaff, "reception", "2026-05-05T01:00:00Z");
    await schedule(w, w.countyDeputy, "visit", "2026-05-09T01:00:00Z");
    const cal = await call(
      `/v1/liaison-stations/${w.stationId}/activities?from=2026-05-01T00:00:00Z&limit=2`,
      {
        token: w.villageStaff.token,
      },
    );
    expect(cal.status).toBe(404); // the village centre is below the town station
    const page = await call(`/v1/liaison-stations/${w.stationId}/activities?limit=2`, {
      token: w.townStaff.token,
    });
    expect(page.body.items.map((a: any) => a.kind)).toEqual(["research", "reception"]);
    const next = await call(
      `/v1/liaison-stations/${w.stationId}/activities?limit=2&cursor=${page.body.nextCursor}`,
      {
        token: w.townStaff.token,
      },
    );
    expect(next.body.items.map((a: any) => a.kind)).toEqual(["visit"]);

    const recorded = await call(`/v1/liaison-stations/${w.stationId}/activities/${research}`, {
      method: "PATCH",
      token: w.deputy.token,
      body: { attendance: [w.deputy.id, w.countyDeputy.id], record: "调研农村饮水安全" },
    });
    expect(recorded.status).toBe(200);
    const stranger = await makeUser("deputy", w.tree.town);
    const badAttendance = await call(`/v1/liaison-stations/${w.stationId}/activities/${research}`, {
      method: "PATCH",
      token: w.townStaff.token,
      body: { attendance: [stranger.id] },
    });
    expect(badAttendance).toBeProblem(400);
    const notAttached = await call(`/v1/liaison-stations/${w.stationId}/activities`, {
      token: stranger.token,
      body: { kind: "visit", title: "x", scheduledAt: "2026-05-10T01:00:00Z" },
    });
    expect(notAttached).toBeProblem(403);
    const badKind = await call(`/v1/liaison-stations/${w.stationId}/activities`, {
      token: w.deputy.token,
      body: { kind: "party", title: "x", scheduledAt: "2026-05-10T01:00:00Z" },
    });
    expect(badKind).toBeProblem(400);
    const [stored] = await rows("SELECT attendance, record FROM station_activities WHERE id = ?", [research]);
    expect(JSON.parse(String(stored!.attendance))).toEqual([w.deputy.id, w.countyDeputy.id]);
    expect(stored!.record).toBe("调研农村饮水安全");
    expect(await rows("SELECT id FROM station_activities WHERE station_id = ?", [w.stationId])).toHaveLength(
      3,
    );
  });
});

describe("reception-day matters become cases", () => {
  it("one call reports the case with the deputy as reporter, linked back to the activity; a repeat replays", async () => {
    const w = await stationWorld();
    const reception = await schedule(w, w.deputy, "reception", "2026-05-05T01:00:00Z");
    const matterId = crypto.randomUUID();
    const body = {
      id: matterId,
      summary: "村道塌方，群众出行困难",
      raisedBy: "王大爷",
      gridId: w.tree.grid.id,
      type: "livelihood",
      title: "村道塌方",
      address: "一村二组",
    };
    const res = await call(`/v1/liaison-stations/${w.stationId}/activities/${reception}/matters`, {
      token: w.deputy.token,
      body,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.matter).toMatchObject({
      id: matterId,
      activityId: reception,
      caseId: caseIdOf(w.tree.grid.id, matterId),
      owningUnitId: w.tree.grid.id,
      raisedBy: "王大爷",
      caseState: "reported",
      outcome: "open",
    });
    expect(res.body.case).toMatchObject({
      id: caseIdOf(w.tree.grid.id, matterId),
      state: "reported",
      reporter: { userId: w.deputy.id, role: "deputy" },
      owningUnit: { id: w.tree.grid.id },
    });
    // The case links back: its description names the activity, the matter row names the case.
    const desk = await deskCase(w.tree.grid.id, caseIdOf(w.tree.grid.id, matterId));
    expect(desk!.record.description).toContain(`activity ${reception}`);
    expect(await rows("SELECT activity_id, case_id FROM activity_matters WHERE id = ?", [matterId])).toEqual([
      expect.objectContaining({ activity_id: reception, case_id: caseIdOf(w.tree.grid.id, matterId) }),
    ]);

    const again = await call(`/v1/liaison-stations/${w.stationId}/activities/${reception}/matters`, {
      token: w.deputy.token,
      body,
    });
    expect(again.status).toBe(200);
    expect(again.body.matter.id).toBe(matterId);
    const reused = await call(`/v1/liaison-stations/${w.stationId}/activities/${reception}/matters`, {
      token: w.deputy.token,
      body: { ...body, summary: "另一件事" },
    });
    expect(reused).toBeProblem(422);
    expect(await rows("SELECT id FROM activity_matters WHERE activity_id = ?", [reception])).toHaveLength(1);
  });

  it("refuses a matter on a day other than reception, outside the station, or by someone else, writing nothing", async () => {
    const w = await stationWorld();
    const reception = await schedule(w, w.deputy, "reception", "2026-05-05T01:00:00Z");
    const research = await schedule(w, w.deputy, "research", "2026-05-06T01:00:00Z");
    const tried: string[] = [];
    const matter = (user: TestUser, activityId: string, over: Record<string, unknown> = {}) => {
      const id = crypto.randomUUID();
      tried.push(id);
      return call(`/v1/liaison-stations/${w.stationId}/activities/${activityId}/matters`, {
        token: user.token,
        body: { id, summary: "s", gridId: w.tree.grid.id, type: "other", title: "t", ...over },
      });
    };
    const wrongDay = await matter(w.deputy, research);
    expect(wrongDay).toBeProblem(409);
    const elsewhere = await matter(w.deputy, reception, { gridId: (await makeTree()).grid.id });
    expect(elsewhere).toBeProblem(400);
    const stranger = await makeUser("deputy", w.tree.town);
    expect(await matter(stranger, reception)).toBeProblem(403);
    const admin = await makeUser("admin", w.tree.town);
    expect(await matter(admin, reception)).toBeProblem(403);
    expect(await rows("SELECT id FROM activity_matters WHERE station_id = ?", [w.stationId])).toHaveLength(0);
    for (const id of tried) expect(await deskCase(w.tree.grid.id, id)).toBeNull();
  });

  it("the reporting day shows what became of each matter since the previous reporting day", async () => {
    const w = await stationWorld();
    const earlierReport = await schedule(w, w.deputy, "reporting", "2026-04-30T01:00:00Z");
    const before = await schedule(w, w.deputy, "reception", "2026-04-20T01:00:00Z");
    const r1 = await schedule(w, w.deputy, "reception", "2026-05-05T01:00:00Z");
    const r2 = await schedule(w, w.deputy, "reception", "2026-06-05T01:00:00Z");
    const reporting = await schedule(w, w.deputy, "reporting", "2026-06-30T01:00:00Z");
    const raise = async (activityId: string, title: string) => {
      const res = await call(`/v1/liaison-stations/${w.stationId}/activities/${activityId}/matters`, {
        token: w.deputy.token,
        body: { summary: title, gridId: w.tree.grid.id, type: "livelihood", title },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.case;
    };
    await raise(before, "上期事项");
    const a = await raise(r1, "路灯不亮");
    const b = await raise(r2, "垃圾清运");
    const cc = await raise(r2, "重复反映");
    await Promise.all([projected(a.id, 1), projected(cc.id, 1)]);
    // What became of them: a is accepted, cc rejected, b untouched.
    expect((await act(w.townStaff, a.id, "accept", 1)).status).toBe(200);
    expect((await act(w.townStaff, cc.id, "reject", 1, { reason: "重复" })).status).toBe(200);
    await Promise.all([projected(a.id, 2), projected(cc.id, 2), projected(b.id, 1)]);

    const report = await call(`/v1/liaison-stations/${w.stationId}/activities/${reporting}`, {
      token: w.townStaff.token,
    });
    expect(report.status).toBe(200);
    expect(report.body.matters.map((m: any) => [m.caseId, m.caseState, m.outcome])).toEqual([
      [a.id, "accepted", "open"],
      [b.id, "reported", "open"],
      [cc.id, "rejected", "not_taken_up"],
    ]);
    expect(report.body.outcomes).toEqual({ pending: 0, open: 2, resolved: 0, closed: 0, not_taken_up: 1 });
    const earlier = await call(`/v1/liaison-stations/${w.stationId}/activities/${earlierReport}`, {
      token: w.deputy.token,
    });
    expect(earlier.body.matters.map((m: any) => m.summary)).toEqual(["上期事项"]);
    const receptionDay = await call(`/v1/liaison-stations/${w.stationId}/activities/${r2}`, {
      token: w.deputy.token,
    });
    expect(receptionDay.body.matters.map((m: any) => m.caseId)).toEqual([b.id, cc.id]);
  });
});
