import { projectedStates, unitRefs } from "../db/repos/cases";
import {
  type ActivityRow,
  activityOf,
  attachDeputy,
  attachedDeputies,
  type CalendarFilter,
  calendarPage,
  insertActivity,
  insertMatter,
  insertStation,
  type MatterRow,
  matterById,
  mattersOfActivity,
  recordActivityStatement,
  type StationRow,
  stationAndAttachment,
  stationDeputies,
  stationsInSubtree,
  usersByIds,
} from "../db/repos/liaison-stations";
import type { DuplicateHint } from "../domain/case-duplicates";
import type { CaseLocation, CaseRecord, NewCase } from "../domain/case-model";
import {
  type ActivityKind,
  checkMatterActivity,
  isStationLevel,
  matterCaseDescription,
  matterOutcome,
  outcomeCounts,
} from "../domain/liaison";
import { inScope } from "../domain/units";
import type { Principal } from "../env";
import { writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { assertInScope } from "../platform/http/auth";
import { Problem, problems } from "../platform/http/problem";
import { auditBy, type Caller, unitInScope } from "./caller";
import { findCase, reportCases, reportProblem, sha256Hex } from "./cases";

/** A station as the caller sees it. */
export interface Station extends StationRow {
  /** The caller is a deputy attached to this station. */
  attached: boolean;
}

/** A station the caller may see (in their subtree, or they are attached to it), or 404. */
async function stationFor(env: Cloudflare.Env, p: Principal, id: string): Promise<Station> {
  const { station, attachedTo } = await stationAndAttachment(env, id, p.userId);
  const attached = p.role === "deputy" && attachedTo === id;
  if (!station || !(attached || inScope(p.unitPath, station.unitPath)))
    throw problems.notFound("liaison station");
  return { ...station, attached };
}

/** Writes to a station's calendar: its centres (in scope), an admin, or a deputy attached to it. */
function assertStationWriter(p: Principal, station: Station): void {
  if (p.role === "deputy" ? !station.attached : !inScope(p.unitPath, station.unitPath)) {
    throw problems.forbidden("Only the station's deputies and centres keep its calendar");
  }
}

/** A station with its deputies. */
async function stationView(env: Cloudflare.Env, s: StationRow) {
  return {
    id: s.id,
    name: s.name,
    level: s.level,
    unitId: s.unitId,
    createdAt: s.createdAt,
    deputies: await stationDeputies(env, s.id),
  };
}

/** A station with its deputies, if the caller may see it. */
export async function getStation(env: Cloudflare.Env, caller: Caller, id: string) {
  return stationView(env, await stationFor(env, caller.principal, id));
}

/** Opens a station at a county, town or village of the caller's subtree; audited. */
export async function openStation(
  env: Cloudflare.Env,
  caller: Caller,
  body: { name: string; unitId: string },
) {
  const unit = await unitInScope(env, caller.principal, body.unitId);
  if (!isStationLevel(unit.level)) {
    throw problems.badRequest("Liaison stations are at county, town or village level", [
      { path: "unitId", message: `a ${unit.level} unit` },
    ]);
  }
  const station: StationRow = {
    id: crypto.randomUUID(),
    name: body.name,
    level: unit.level,
    unitId: unit.id,
    unitPath: unit.path,
    createdAt: new Date().toISOString(),
  };
  await writeAudited(
    getDb(env),
    [insertStation(env, station)],
    [
      auditBy(
        caller,
        "station.create",
        { type: "liaison_station", id: station.id, scopePath: unit.path },
        {
          name: station.name,
        },
      ),
    ],
  );
  return stationView(env, station);
}

/** A page of the stations of a subtree in the caller's scope (`limit` rows at most). */
export async function stationsOf(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  afterId: string | null,
  limit: number,
) {
  const unit = await unitInScope(env, caller.principal, unitId);
  return stationsInSubtree(env, unit.path, afterId, limit);
}

/**
 * Attaches deputies to a station: each a deputy in the caller's subtree (404 otherwise) whose unit is on the
 * station's branch of the tree (400 otherwise). A deputy belongs to one station: attaching moves them.
 */
export async function attachDeputies(
  env: Cloudflare.Env,
  caller: Caller,
  stationId: string,
  userIds: string[],
) {
  const p = caller.principal;
  const station = await stationFor(env, p, stationId);
  const ids = [...new Set(userIds)];
  const found = new Map((await usersByIds(env, ids)).map((u) => [u.id, u]));
  const deputies = ids.map((id) => {
    const user = found.get(id);
    if (user?.role !== "deputy") throw problems.notFound("deputy");
    assertInScope(p, user.unitPath, "deputy");
    return user;
  });
  const errors = deputies.flatMap((d, i) =>
    inScope(d.unitPath, station.unitPath) || inScope(station.unitPath, d.unitPath)
      ? []
      : [{ path: `userIds.${i}`, message: "the deputy's unit is neither above nor below the station" }],
  );
  if (errors.length)
    throw problems.badRequest("Deputies attach to a station on their own branch of the tree", errors);
  const now = new Date().toISOString();
  const levels = await unitRefs(
    env,
    deputies.map((d) => d.unitId),
  );
  const statements = deputies.map((d) => {
    const level = levels.get(d.unitId)?.level;
    return attachDeputy(
      env,
      {
        userId: d.id,
        unitId: d.unitId,
        unitPath: d.unitPath,
        level: level && isStationLevel(level) ? level : null,
      },
      station.id,
      now,
    );
  });
  await writeAudited(getDb(env), statements, [
    auditBy(
      caller,
      "station.deputies",
      { type: "liaison_station", id: station.id, scopePath: station.unitPath },
      {
        userIds: ids,
      },
    ),
  ]);
  return stationView(env, station);
}

/** An activity as the API shows it. */
function activityView(r: ActivityRow) {
  return {
    id: r.id,
    stationId: r.stationId,
    kind: r.kind,
    title: r.title,
    scheduledAt: r.scheduledAt,
    attendance: JSON.parse(r.attendance) as string[],
    record: r.record,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
  };
}

/** An activity of a station the caller may see, or 404. */
async function activityIn(env: Cloudflare.Env, station: Station, activityId: string) {
  const row = await activityOf(env, station.id, activityId);
  if (!row) throw problems.notFound("activity");
  return row;
}

/** Schedules an activity on a station's calendar (its centres, an admin, or an attached deputy); audited. */
export async function scheduleActivity(
  env: Cloudflare.Env,
  caller: Caller,
  stationId: string,
  body: { kind: ActivityKind; title: string; scheduledAt: string },
) {
  const p = caller.principal;
  const station = await stationFor(env, p, stationId);
  assertStationWriter(p, station);
  const row: ActivityRow = {
    id: crypto.randomUUID(),
    stationId: station.id,
    unitPath: station.unitPath,
    kind: body.kind,
    title: body.title,
    scheduledAt: new Date(body.scheduledAt).toISOString(),
    attendance: "[]",
    record: null,
    createdBy: p.userId,
    createdAt: new Date().toISOString(),
  };
  await writeAudited(
    getDb(env),
    [insertActivity(env, row)],
    [
      auditBy(
        caller,
        "station.activity",
        { type: "station_activity", id: row.id, scopePath: station.unitPath },
        {
          kind: row.kind,
          scheduledAt: row.scheduledAt,
        },
      ),
    ],
  );
  return activityView(row);
}

/** A page of a station's calendar (`limit` rows at most), if the caller may see the station. */
export async function calendar(env: Cloudflare.Env, caller: Caller, filter: CalendarFilter) {
  const station = await stationFor(env, caller.principal, filter.stationId);
  const iso = (t: string | undefined) => t && new Date(t).toISOString();
  const rows = await calendarPage(env, {
    ...filter,
    stationId: station.id,
    from: iso(filter.from),
    to: iso(filter.to),
  });
  return rows.map(activityView);
}

/** Records an activity's attendance (deputies of the station; 400 otherwise) and record; audited. */
export async function recordActivity(
  env: Cloudflare.Env,
  caller: Caller,
  stationId: string,
  activityId: string,
  body: { attendance?: string[]; record?: string },
) {
  const p = caller.principal;
  const station = await stationFor(env, p, stationId);
  assertStationWriter(p, station);
  const activity = activityView(await activityIn(env, station, activityId));
  let attendance = activity.attendance;
  if (body.attendance) {
    attendance = [...new Set(body.attendance)];
    const attached = await attachedDeputies(env, station.id, attendance);
    const errors = attendance.flatMap((u, i) =>
      attached.has(u) ? [] : [{ path: `attendance.${i}`, message: "not a deputy of this station" }],
    );
    if (errors.length) throw problems.badRequest("Attendance lists the station's deputies", errors);
  }
  const record = body.record ?? activity.record;
  await writeAudited(
    getDb(env),
    [recordActivityStatement(env, activity.id, attendance, record)],
    [
      auditBy(
        caller,
        "station.record",
        { type: "station_activity", id: activity.id, scopePath: station.unitPath },
        { attendance, recorded: body.record !== undefined },
      ),
    ],
  );
  return { ...activity, attendance, record };
}

/** Matters with their case's current state: the projection first, the owning GridDesk for the rest. */
async function withOutcomes(env: Cloudflare.Env, caller: Caller, matters: MatterRow[]) {
  const states = await projectedStates(
    env,
    matters.map((m) => m.caseId),
  );
  await Promise.all(
    matters
      .filter((m) => !states.has(m.caseId) && m.owningUnitId)
      .map(async (m) => {
        const found = await findCase(env, caller, m.caseId, m.owningUnitId!);
        if (found) states.set(m.caseId, found.record.state);
      }),
  );
  return matters.map((m) => {
    const caseState = states.get(m.caseId) ?? null;
    return {
      id: m.id,
      activityId: m.activityId,
      stationId: m.stationId,
      summary: m.summary,
      raisedBy: m.raisedBy,
      caseId: m.caseId,
      owningUnitId: m.owningUnitId,
      createdAt: m.createdAt,
      caseState,
      outcome: matterOutcome(caseState),
    };
  });
}

/** An activity with its matters (reception and reporting days) and what became of them. */
export async function activityWithMatters(
  env: Cloudflare.Env,
  caller: Caller,
  stationId: string,
  activityId: string,
) {
  const station = await stationFor(env, caller.principal, stationId);
  const activity = await activityIn(env, station, activityId);
  const matters = await withOutcomes(env, caller, await mattersOfActivity(env, activity));
  return { ...activityView(activity), matters, outcomes: outcomeCounts(matters.map((m) => m.outcome)) };
}

/** A matter raised on a reception day, as the API takes it. */
export interface MatterBody {
  id?: string;
  summary: string;
  raisedBy?: string;
  gridId: string;
  type: NewCase["type"];
  severity: NewCase["severity"];
  title: string;
  householdIds: string[];
  address?: string;
  location?: CaseLocation;
}

/** Where the matter's case happened: the location given, with the address given beside it. */
function locationOf(body: MatterBody): CaseLocation | null {
  const address = body.location?.address ?? body.address;
  const location: CaseLocation = { ...body.location };
  if (address !== undefined) location.address = address;
  return Object.keys(location).length ? location : null;
}

/**
 * Turns a matter raised on a reception day into a case, reported like any other (`reportCases`: the owning
 * unit's time-limit policy, duplicate hints, idempotency), and links the two; audited. Idempotent by the
 * matter id, from which (with the owning unit) the case id is derived: a repeat returns the first result
 * (`replayed`), the same id for another matter is 422.
 */
export async function raiseMatter(
  env: Cloudflare.Env,
  caller: Caller,
  stationId: string,
  activityId: string,
  body: MatterBody,
): Promise<{
  replayed: boolean;
  matter: Awaited<ReturnType<typeof withOutcomes>>[number];
  record: CaseRecord;
  duplicates: DuplicateHint[];
}> {
  const p = caller.principal;
  const station = await stationFor(env, p, stationId);
  assertStationWriter(p, station);
  const activity = await activityIn(env, station, activityId);
  const wrongDay = checkMatterActivity(activity.kind);
  if (wrongDay) throw problems.conflict("not-a-reception-day", wrongDay);
  const owner = (await unitRefs(env, [body.gridId])).get(body.gridId);
  if (!owner || !inScope(p.unitPath, owner.path) || !inScope(station.unitPath, owner.path)) {
    throw problems.badRequest(
      "The case is reported in a village or grid under the station, in your subtree",
      [{ path: "gridId", message: "not under the station in your subtree" }],
    );
  }
  const matterId = body.id ?? crypto.randomUUID();
  const previous = await matterById(env, matterId);
  if (previous && previous.activityId !== activity.id) {
    throw new Problem(
      422,
      "idempotency-key-reused",
      "This matter id was already used for a different matter",
    );
  }
  const input: NewCase = {
    id: matterId,
    type: body.type,
    severity: body.severity,
    title: body.title,
    description: matterCaseDescription(body.summary, activity),
    location: locationOf(body),
    householdIds: body.householdIds,
    residentIds: [],
    mediation: null,
  };
  const requestHash = await sha256Hex(
    JSON.stringify(["station-matter", p.userId, owner.id, activity.id, body.raisedBy ?? null, input]),
  );
  const [outcome] = await reportCases(
    env,
    caller,
    [{ input, ownerId: owner.id, requestHash }],
    new Map([[owner.id, owner]]),
  );
  if (!outcome!.ok) throw reportProblem(outcome!);
  const { record, duplicates } = outcome!;
  if (!previous) {
    const row: MatterRow = {
      id: matterId,
      activityId: activity.id,
      stationId: station.id,
      unitPath: station.unitPath,
      summary: body.summary,
      raisedBy: body.raisedBy ?? null,
      caseId: record.id,
      owningUnitId: owner.id,
      createdBy: p.userId,
      createdAt: new Date().toISOString(),
    };
    await writeAudited(
      getDb(env),
      [insertMatter(env, row)],
      [
        auditBy(
          caller,
          "station.matter",
          { type: "station_matter", id: matterId, scopePath: station.unitPath },
          {
            activityId: activity.id,
            caseId: record.id,
          },
        ),
      ],
    );
  }
  const stored = await matterById(env, matterId);
  const [matter] = await withOutcomes(env, caller, stored ? [stored] : []);
  return { replayed: !!previous || outcome!.outcome === "replayed", matter: matter!, record, duplicates };
}
