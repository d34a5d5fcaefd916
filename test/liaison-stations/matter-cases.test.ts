import { describe, expect, it } from "vitest";
import { caseIdOf, projected } from "../support/case-fixtures";
import { api, read } from "../support/client";
import { deskCase, driveDesk, MIN, setPolicy } from "../support/desk";
import { makeTree, makeUser, sql } from "../support/helpers";

const iso = (ms: number) => new Date(ms).toISOString();

/** The village's own rules for critical matters: accept within 10 min (warned 2 min before), escalate 5 min late. */
const villageCritical = {
  caseType: "*",
  severity: "critical",
  acceptWithinSeconds: 600,
  acceptWarnBeforeSeconds: 120,
  resolveWithinSeconds: 3600,
  resolveWarnBeforeSeconds: 600,
  escalateGraceSeconds: 300,
};

/** A town station with an attached deputy and a reception day on its calendar. */
async function receptionDay() {
  const tree = await makeTree();
  const [townStaff, deputy, gridWorker] = await Promise.all([
    makeUser("center_staff", tree.town),
    makeUser("deputy", tree.town),
    makeUser("grid_worker", tree.grid),
  ]);
  const stations = api(townStaff.token).v1["liaison-stations"];
  const opened = await read(
    await stations.$post({ json: { name: "城关镇人大代表联络站", unitId: tree.town.id } }),
  );
  expect(opened.status, JSON.stringify(opened.body)).toBe(201);
  if (opened.status !== 201) throw new Error("no station");
  const stationId = opened.body.id;
  const attached = await stations[":id"].deputies.$post({
    param: { id: stationId },
    json: { userIds: [deputy.id] },
  });
  expect(attached.status).toBe(200);
  const scheduled = await read(
    await api(deputy.token).v1["liaison-stations"][":id"].activities.$post({
      param: { id: stationId },
      json: { kind: "reception", title: "五月代表接待日", scheduledAt: "2026-05-05T01:00:00Z" },
    }),
  );
  if (scheduled.status !== 201) throw new Error(`no activity: ${JSON.stringify(scheduled.body)}`);
  return { tree, townStaff, deputy, gridWorker, stationId, activityId: scheduled.body.id };
}

describe("a matter raised at a liaison station is reported like any case", () => {
  it("runs on its owning unit's time-limit policy and lists a nearby open case of the same type as a duplicate", async () => {
    const w = await receptionDay();
    await setPolicy(w.townStaff, w.tree.village.id, [villageCritical]);

    // An open case of the same type 100 m away, already in the projection.
    const nearby = await read(
      await api(w.gridWorker.token).v1.cases.$post({
        header: {},
        json: {
          type: "safety_hazard",
          severity: "normal",
          title: "村口护栏松动",
          description: "村口桥头护栏松动，学生上学经过有危险。",
          location: { lat: 32.684, lng: 109.029, address: "一村村口桥头" },
          householdIds: [],
          residentIds: [],
        },
      }),
    );
    if (nearby.status !== 201) throw new Error(`no nearby case: ${JSON.stringify(nearby.body)}`);
    await projected(nearby.body.id, 1);

    const desk = await driveDesk(w.tree.grid.id);
    const t0 = desk.now();
    const matterId = crypto.randomUUID();
    const raised = await read(
      await api(w.deputy.token).v1["liaison-stations"][":id"].activities[":activityId"].matters.$post({
        param: { id: w.stationId, activityId: w.activityId },
        json: {
          id: matterId,
          summary: "群众反映村口桥头护栏松动多日无人修理，存在安全隐患",
          raisedBy: "李大姐",
          gridId: w.tree.grid.id,
          type: "safety_hazard",
          severity: "critical",
          title: "桥头护栏松动",
          householdIds: [],
          location: { lat: 32.6849, lng: 109.029, address: "一村村口桥头" },
        },
      }),
    );
    expect(raised.status, JSON.stringify(raised.body)).toBe(201);
    if (raised.status !== 201) return;
    const expected = {
      phase: "accept",
      startedAt: iso(t0),
      warnAt: iso(t0 + 8 * MIN),
      dueAt: iso(t0 + 10 * MIN),
      escalateAt: iso(t0 + 15 * MIN),
      unitId: w.tree.grid.id,
      step: null,
      policy: "effective",
    };
    const caseId = caseIdOf(w.tree.grid.id, matterId);
    expect(raised.body.case).toMatchObject({ id: caseId, state: "reported", deadlines: expected });
    expect(raised.body.duplicates).toEqual([
      expect.objectContaining({ id: nearby.body.id, owningUnitId: w.tree.grid.id, distanceM: 100 }),
    ]);

    // Stored: the desk's case runs on the village's policy; the matter names its case.
    const stored = await deskCase(w.tree.grid.id, caseId);
    expect(stored.record.deadlines).toEqual(expected);
    expect(stored.record.location).toEqual({ lat: 32.6849, lng: 109.029, address: "一村村口桥头" });
    const matter = await sql().execute({
      sql: "SELECT activity_id, case_id, owning_unit_id FROM activity_matters WHERE id = ?",
      args: [matterId],
    });
    expect(matter.rows.map((r) => [r.activity_id, r.case_id, r.owning_unit_id])).toEqual([
      [w.activityId, caseId, w.tree.grid.id],
    ]);

    // A repeat replays the first result, hints included.
    const again = await read(
      await api(w.deputy.token).v1["liaison-stations"][":id"].activities[":activityId"].matters.$post({
        param: { id: w.stationId, activityId: w.activityId },
        json: {
          id: matterId,
          summary: "群众反映村口桥头护栏松动多日无人修理，存在安全隐患",
          raisedBy: "李大姐",
          gridId: w.tree.grid.id,
          type: "safety_hazard",
          severity: "critical",
          title: "桥头护栏松动",
          householdIds: [],
          location: { lat: 32.6849, lng: 109.029, address: "一村村口桥头" },
        },
      }),
    );
    expect(again.status).toBe(200);
    if (again.status !== 200) return;
    expect(again.body.duplicates.map((d) => d.id)).toEqual([nearby.body.id]);
    expect((await deskCase(w.tree.grid.id, caseId)).record.version).toBe(1);
  });
});
