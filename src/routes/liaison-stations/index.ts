import { createRoute, z } from "@hono/zod-openapi";
import type { InStatement } from "@libsql/client/web";
import type { Context } from "hono";
import { directoryOf, directoryStatement, unitRefs } from "../../db/repos/cases";
import { roleUserInScope, threeLinesAudit, unitInScope } from "../../db/repos/three-lines";
import {
  CASE_SEVERITIES,
  CASE_STATE_LABELS,
  CASE_TYPE_LABELS,
  CASE_TYPES,
  type CaseRecord,
  type NewCase,
} from "../../domain/case-model";
import {
  ACTIVITY_KIND_LABELS,
  ACTIVITY_KINDS,
  type ActivityKind,
  checkMatterActivity,
  isStationLevel,
  matterCaseDescription,
  matterOutcome,
  outcomeCounts,
  STATION_LEVELS,
} from "../../domain/liaison";
import { inScope, subtreeRange } from "../../domain/units";
import type { CreateResult } from "../../durable/grid-desk/grid-desk";
import type { AppEnv, Principal } from "../../env";
import { writeAudited } from "../../platform/db/audit";
import { type Db, getDb } from "../../platform/db/client";
import { principalOf, requireRole } from "../../platform/http/auth";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { decodeCursor, pageQuery, pageSchema, toPage } from "../../platform/http/pagination";
import { Problem, problems } from "../../platform/http/problem";
import { actorOf, callDesk, deskOf, deskProblem } from "../cases";

const labels = (entries: Record<string, string>) =>
  Object.entries(entries)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; ");

const KindSchema = z.enum(ACTIVITY_KINDS).openapi({ description: labels(ACTIVITY_KIND_LABELS) });
const StationParams = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
});
const ActivityParams = StationParams.extend({
  activityId: z.uuid().openapi({ param: { name: "activityId", in: "path" } }),
});

const StationSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    level: z.enum(STATION_LEVELS),
    unitId: z.uuid(),
    createdAt: z.string(),
    deputies: z.array(z.object({ userId: z.uuid(), displayName: z.string(), unitId: z.uuid() })),
  })
  .openapi("LiaisonStation");

const ActivitySchema = z
  .object({
    id: z.uuid(),
    stationId: z.uuid(),
    kind: KindSchema,
    title: z.string(),
    scheduledAt: z.string(),
    attendance: z.array(z.uuid()).openapi({ description: "Deputies who attended" }),
    record: z.string().nullable(),
    createdBy: z.uuid(),
    createdAt: z.string(),
  })
  .openapi("StationActivity");

const MatterSchema = z
  .object({
    id: z.uuid(),
    activityId: z.uuid(),
    stationId: z.uuid(),
    summary: z.string(),
    raisedBy: z.string().nullable(),
    caseId: z.uuid(),
    owningUnitId: z.uuid().nullable(),
    createdAt: z.string(),
    caseState: z
      .string()
      .nullable()
      .openapi({
        description: `The case's current state (${labels(CASE_STATE_LABELS)}); null if unreadable`,
      }),
    outcome: z.enum(["pending", "open", "resolved", "closed", "not_taken_up"]),
  })
  .openapi("StationMatter");

const createStation = createRoute({
  method: "post",
  path: "/v1/liaison-stations",
  tags: ["liaison stations"],
  summary:
    "Open a deputy liaison station (人大代表联络站) at a county, town or village (admin, center_staff)",
  security: bearer,
  middleware: [requireRole("admin", "center_staff")] as const,
  request: {
    body: jsonBody(
      z
        .strictObject({ name: z.string().trim().min(1).max(100), unitId: z.uuid() })
        .openapi("NewLiaisonStation"),
    ),
  },
  responses: { 201: jsonResponse(StationSchema, "Opened"), ...errorResponses(403, 404) },
});

const getStation = createRoute({
  method: "get",
  path: "/v1/liaison-stations/{id}",
  tags: ["liaison stations"],
  summary: "A station and its deputies",
  security: bearer,
  request: { params: StationParams },
  responses: { 200: jsonResponse(StationSchema, "The station"), ...errorResponses(404) },
});

const listStations = createRoute({
  method: "get",
  path: "/v1/units/{id}/liaison-stations",
  tags: ["liaison stations"],
  summary: "The liaison stations of a subtree",
  security: bearer,
  request: { params: IdParam, query: z.object(pageQuery) },
  responses: {
    200: jsonResponse(pageSchema(StationSchema.omit({ deputies: true })), "A page of stations"),
    ...errorResponses(404),
  },
});

const attachDeputies = createRoute({
  method: "post",
  path: "/v1/liaison-stations/{id}/deputies",
  tags: ["liaison stations"],
  summary: "Attach deputies to a station (代表进站) (admin, center_staff)",
  description:
    "A deputy of the station's unit, of a unit above it (a county deputy at a town station) or below it. A deputy belongs to one station: attaching moves them.",
  security: bearer,
  middleware: [requireRole("admin", "center_staff")] as const,
  request: {
    params: StationParams,
    body: jsonBody(z.strictObject({ userIds: z.array(z.uuid()).min(1).max(50) }).openapi("AttachDeputies")),
  },
  responses: { 200: jsonResponse(StationSchema, "The station"), ...errorResponses(403, 404) },
});

const scheduleActivity = createRoute({
  method: "post",
  path: "/v1/liaison-stations/{id}/activities",
  tags: ["liaison stations"],
  summary: "Schedule a five-days activity (五个日) on a station's calendar",
  description: "By centre staff of the station's subtree, an admin, or a deputy attached to the station.",
  security: bearer,
  middleware: [requireRole("admin", "center_staff", "deputy")] as const,
  request: {
    params: StationParams,
    body: jsonBody(
      z
        .strictObject({
          kind: KindSchema,
          title: z.string().trim().min(1).max(200),
          scheduledAt: z.iso.datetime(),
        })
        .openapi("NewStationActivity"),
    ),
  },
  responses: { 201: jsonResponse(ActivitySchema, "Scheduled"), ...errorResponses(403, 404) },
});

const calendar = createRoute({
  method: "get",
  path: "/v1/liaison-stations/{id}/activities",
  tags: ["liaison stations"],
  summary: "A station's calendar, by scheduled time",
  security: bearer,
  request: {
    params: StationParams,
    query: z.object({
      from: z.iso.datetime().optional(),
      to: z.iso.datetime().optional(),
      kind: KindSchema.optional(),
      ...pageQuery,
    }),
  },
  responses: {
    200: jsonResponse(pageSchema(ActivitySchema), "A page of activities"),
    ...errorResponses(404),
  },
});

const recordActivity = createRoute({
  method: "patch",
  path: "/v1/liaison-stations/{id}/activities/{activityId}",
  tags: ["liaison stations"],
  summary: "Record an activity's attendance and record (活动记录)",
  description: "Attendance lists deputies attached to the station.",
  security: bearer,
  middleware: [requireRole("admin", "center_staff", "deputy")] as const,
  request: {
    params: ActivityParams,
    body: jsonBody(
      z
        .strictObject({
          attendance: z.array(z.uuid()).max(200).optional(),
          record: z.string().trim().min(1).max(20_000).optional(),
        })
        .refine((b) => b.attendance !== undefined || b.record !== undefined, "give attendance or a record")
        .openapi("StationActivityRecord"),
    ),
  },
  responses: { 200: jsonResponse(ActivitySchema, "The activity"), ...errorResponses(403, 404) },
});

const getActivity = createRoute({
  method: "get",
  path: "/v1/liaison-stations/{id}/activities/{activityId}",
  tags: ["liaison stations"],
  summary: "An activity; a reception day with its matters, a reporting day with what became of each matter",
  description:
    "A reporting day (述职日) lists the matters raised at the station's reception days since the previous reporting day up to this one, each with its case's current state (from the projection, or live from the case's GridDesk when not yet projected) and outcome counts.",
  security: bearer,
  request: { params: ActivityParams },
  responses: {
    200: jsonResponse(
      ActivitySchema.extend({
        matters: z.array(MatterSchema),
        outcomes: z.record(z.string(), z.number().int()),
      }),
      "The activity",
    ),
    ...errorResponses(404),
  },
});

const raiseMatter = createRoute({
  method: "post",
  path: "/v1/liaison-stations/{id}/activities/{activityId}/matters",
  tags: ["liaison stations"],
  summary: "Turn a matter raised on a reception day into a case, in one call",
  description:
    "Reports a case in `gridId` (a village or grid under the station, inside your own subtree) with you as reporter; the case description names the activity, and the matter keeps the case id. Idempotent by `id` (also the case id): a repeat returns the first result.",
  security: bearer,
  middleware: [requireRole("center_staff", "deputy")] as const,
  request: {
    params: ActivityParams,
    body: jsonBody(
      z
        .strictObject({
          id: z.uuid().optional().openapi({ description: "Client-generated id of the matter and its case" }),
          summary: z.string().trim().min(1).max(2000),
          raisedBy: z
            .string()
            .trim()
            .min(1)
            .max(100)
            .optional()
            .openapi({ description: "The voter who raised it" }),
          gridId: z.uuid(),
          type: z.enum(CASE_TYPES).openapi({ description: labels(CASE_TYPE_LABELS) }),
          severity: z.enum(CASE_SEVERITIES).default("normal"),
          title: z.string().trim().min(1).max(200),
          householdIds: z.array(z.uuid()).max(50).default([]),
          address: z.string().trim().min(1).max(300).optional(),
        })
        .openapi("NewStationMatter"),
    ),
  },
  responses: {
    201: jsonResponse(
      z.object({ matter: MatterSchema, case: z.record(z.string(), z.unknown()) }),
      "The matter and its case",
    ),
    200: jsonResponse(
      z.object({ matter: MatterSchema, case: z.record(z.string(), z.unknown()) }),
      "A replay",
    ),
    ...errorResponses(403, 404, 409, 422, 503),
  },
});

type Row = Record<string, unknown>;
const text = (v: unknown) => (v === null || v === undefined ? null : String(v));

interface Station {
  id: string;
  name: string;
  level: (typeof STATION_LEVELS)[number];
  unitId: string;
  unitPath: string;
  createdAt: string;
  /** The caller is a deputy attached to this station. */
  attached: boolean;
}

/** A station the caller may see (in their subtree, or they are attached to it), or 404. */
async function stationFor(db: Db, p: Principal, id: string): Promise<Station> {
  const [station, profile] = await db.$client.batch(
    [
      {
        sql: "SELECT id, name, level, unit_id AS unitId, unit_path AS unitPath, created_at AS createdAt FROM liaison_stations WHERE id = ?",
        args: [id],
      },
      { sql: "SELECT station_id AS stationId FROM contact_profiles WHERE user_id = ?", args: [p.userId] },
    ],
    "read",
  );
  const r = station!.rows[0];
  const attached = p.role === "deputy" && text(profile!.rows[0]?.stationId) === id;
  if (!r || !(attached || inScope(p.unitPath, String(r.unitPath))))
    throw problems.notFound("liaison station");
  return {
    id: String(r.id),
    name: String(r.name),
    level: r.level as Station["level"],
    unitId: String(r.unitId),
    unitPath: String(r.unitPath),
    createdAt: String(r.createdAt),
    attached,
  };
}

/** Writes to a station's calendar: its centres (in scope), an admin, or a deputy attached to it. */
function assertStationWriter(p: Principal, station: Station): void {
  if (p.role === "deputy" ? !station.attached : !inScope(p.unitPath, station.unitPath)) {
    throw problems.forbidden("Only the station's deputies and centres keep its calendar");
  }
}

async function stationView(db: Db, s: Station) {
  const rs = await db.$client.execute({
    sql: `SELECT u.id, u.display_name AS displayName, u.unit_id AS unitId FROM contact_profiles p
          JOIN users u ON u.id = p.user_id WHERE p.station_id = ? AND u.role = 'deputy' ORDER BY u.id`,
    args: [s.id],
  });
  return {
    id: s.id,
    name: s.name,
    level: s.level,
    unitId: s.unitId,
    createdAt: s.createdAt,
    deputies: rs.rows.map((r) => ({
      userId: String(r.id),
      displayName: String(r.displayName),
      unitId: String(r.unitId),
    })),
  };
}

const ACTIVITY_COLUMNS = `id, station_id AS stationId, kind, title, scheduled_at AS scheduledAt, attendance, record,
  created_by AS createdBy, created_at AS createdAt`;
const activityView = (r: Row) => ({
  id: String(r.id),
  stationId: String(r.stationId),
  kind: r.kind as ActivityKind,
  title: String(r.title),
  scheduledAt: String(r.scheduledAt),
  attendance: JSON.parse(String(r.attendance)) as string[],
  record: text(r.record),
  createdBy: String(r.createdBy),
  createdAt: String(r.createdAt),
});

async function activityOf(db: Db, station: Station, activityId: string) {
  const rs = await db.$client.execute({
    sql: `SELECT ${ACTIVITY_COLUMNS} FROM station_activities WHERE id = ? AND station_id = ?`,
    args: [activityId, station.id],
  });
  if (!rs.rows[0]) throw problems.notFound("activity");
  return activityView(rs.rows[0] as Row);
}

const MATTER_COLUMNS = `m.id, m.activity_id AS activityId, m.station_id AS stationId, m.summary, m.raised_by AS raisedBy,
  m.case_id AS caseId, m.owning_unit_id AS owningUnitId, m.created_at AS createdAt, m.unit_path AS unitPath`;

/** Matters with their case's current state: the projection first, the owning GridDesk for the rest. */
async function withOutcomes(c: Context<AppEnv>, db: Db, matters: Row[]) {
  const ids = matters.map((m) => String(m.caseId));
  const states = new Map<string, string>();
  if (ids.length) {
    const rs = await db.$client.execute({
      sql: "SELECT id, state FROM cases WHERE id IN (SELECT value FROM json_each(?))",
      args: [JSON.stringify(ids)],
    });
    for (const r of rs.rows) states.set(String(r.id), String(r.state));
  }
  await Promise.all(
    matters
      .filter((m) => !states.has(String(m.caseId)) && m.owningUnitId)
      .map(async (m) => {
        const found = (await callDesk(c, () =>
          deskOf(c.env, String(m.owningUnitId)).getCase(String(m.caseId)),
        )) as { record: CaseRecord } | null;
        if (found) states.set(String(m.caseId), found.record.state);
      }),
  );
  return matters.map((m) => {
    const state = states.get(String(m.caseId)) ?? null;
    return {
      id: String(m.id),
      activityId: String(m.activityId),
      stationId: String(m.stationId),
      summary: String(m.summary),
      raisedBy: text(m.raisedBy),
      caseId: String(m.caseId),
      owningUnitId: text(m.owningUnitId),
      createdAt: String(m.createdAt),
      caseState: state,
      outcome: matterOutcome(state),
    };
  });
}

async function sha256Hex(value: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export const liaisonStationRoutes = createRouter()
  .openapi(createStation, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const unit = await unitInScope(db, principal, body.unitId);
    if (!isStationLevel(unit.level)) {
      throw problems.badRequest("Liaison stations are at county, town or village level", [
        { path: "unitId", message: `a ${unit.level} unit` },
      ]);
    }
    const station: Station = {
      id: crypto.randomUUID(),
      name: body.name,
      level: unit.level,
      unitId: unit.id,
      unitPath: unit.path,
      createdAt: new Date().toISOString(),
      attached: false,
    };
    await writeAudited(
      db,
      [
        {
          sql: "INSERT INTO liaison_stations (id, name, level, unit_id, unit_path, created_at) VALUES (?, ?, ?, ?, ?, ?)",
          args: [station.id, station.name, station.level, unit.id, unit.path, station.createdAt],
        },
      ],
      [
        threeLinesAudit(
          principal,
          c.get("requestId"),
          "station.create",
          "liaison_station",
          unit.path,
          station.id,
          {
            name: station.name,
          },
        ),
      ],
    );
    return c.json({ ...(await stationView(db, station)) }, 201);
  })
  .openapi(getStation, async (c) => {
    const db = getDb(c.env);
    const station = await stationFor(db, principalOf(c), c.req.valid("param").id);
    return c.json(await stationView(db, station), 200);
  })
  .openapi(listStations, async (c) => {
    const principal = principalOf(c);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, 1, ["string"]) as [string] | null;
    const db = getDb(c.env);
    const unit = await unitInScope(db, principal, c.req.valid("param").id);
    const [lo, hi] = subtreeRange(unit.path);
    const rs = await db.$client.execute({
      sql: `SELECT id, name, level, unit_id AS unitId, created_at AS createdAt FROM liaison_stations
            WHERE unit_path >= ? AND unit_path < ? AND (? IS NULL OR id > ?) ORDER BY id LIMIT ?`,
      args: [lo, hi, after?.[0] ?? null, after?.[0] ?? null, limit + 1],
    });
    return c.json(
      toPage(
        rs.rows as unknown as Row[],
        limit,
        (r) => ({
          id: String(r.id),
          name: String(r.name),
          level: r.level as Station["level"],
          unitId: String(r.unitId),
          createdAt: String(r.createdAt),
        }),
        (r) => [String(r.id)],
      ),
      200,
    );
  })
  .openapi(attachDeputies, async (c) => {
    const principal = principalOf(c);
    const { userIds } = c.req.valid("json");
    const db = getDb(c.env);
    const station = await stationFor(db, principal, c.req.valid("param").id);
    const ids = [...new Set(userIds)];
    const deputies = await Promise.all(
      ids.map((id) => roleUserInScope(db, principal, id, "deputy", "deputy")),
    );
    const errors = deputies.flatMap((d, i) =>
      inScope(d.unitPath, station.unitPath) || inScope(station.unitPath, d.unitPath)
        ? []
        : [{ path: `userIds.${i}`, message: "the deputy's unit is neither above nor below the station" }],
    );
    if (errors.length)
      throw problems.badRequest("Deputies attach to a station on their own branch of the tree", errors);
    const now = new Date().toISOString();
    const levels = await unitRefs(
      db,
      deputies.map((d) => d.unitId),
    );
    const statements: InStatement[] = deputies.map((d) => {
      const level = levels.get(d.unitId)?.level;
      return {
        sql: `INSERT INTO contact_profiles (user_id, line, unit_id, unit_path, deputy_level, station_id, updated_at)
              VALUES (?, 'deputy', ?, ?, ?, ?, ?)
              ON CONFLICT (user_id) DO UPDATE SET station_id = excluded.station_id,
                deputy_level = coalesce(deputy_level, excluded.deputy_level), updated_at = excluded.updated_at`,
        args: [d.id, d.unitId, d.unitPath, level && isStationLevel(level) ? level : null, station.id, now],
      };
    });
    await writeAudited(db, statements, [
      threeLinesAudit(
        principal,
        c.get("requestId"),
        "station.deputies",
        "liaison_station",
        station.unitPath,
        station.id,
        {
          userIds: ids,
        },
      ),
    ]);
    return c.json(await stationView(db, station), 200);
  })
  .openapi(scheduleActivity, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const station = await stationFor(db, principal, c.req.valid("param").id);
    assertStationWriter(principal, station);
    const now = new Date().toISOString();
    const activity = {
      id: crypto.randomUUID(),
      stationId: station.id,
      kind: body.kind,
      title: body.title,
      scheduledAt: new Date(body.scheduledAt).toISOString(),
      attendance: [] as string[],
      record: null,
      createdBy: principal.userId,
      createdAt: now,
    };
    await writeAudited(
      db,
      [
        {
          sql: `INSERT INTO station_activities (id, station_id, unit_path, kind, title, scheduled_at, attendance, record, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, '[]', NULL, ?, ?)`,
          args: [
            activity.id,
            station.id,
            station.unitPath,
            activity.kind,
            activity.title,
            activity.scheduledAt,
            principal.userId,
            now,
          ],
        },
      ],
      [
        threeLinesAudit(
          principal,
          c.get("requestId"),
          "station.activity",
          "station_activity",
          station.unitPath,
          activity.id,
          {
            kind: activity.kind,
            scheduledAt: activity.scheduledAt,
          },
        ),
      ],
    );
    return c.json(activity, 201);
  })
  .openapi(calendar, async (c) => {
    const principal = principalOf(c);
    const { from, to, kind, limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, 2, ["string", "string"]) as [string, string] | null;
    const db = getDb(c.env);
    const station = await stationFor(db, principal, c.req.valid("param").id);
    const where = ["station_id = ?"];
    const args: Array<string | number> = [station.id];
    if (from) {
      where.push("scheduled_at >= ?");
      args.push(new Date(from).toISOString());
    }
    if (to) {
      where.push("scheduled_at < ?");
      args.push(new Date(to).toISOString());
    }
    if (kind) {
      where.push("kind = ?");
      args.push(kind);
    }
    if (after) {
      where.push("(scheduled_at > ? OR (scheduled_at = ? AND id > ?))");
      args.push(after[0], after[0], after[1]);
    }
    args.push(limit + 1);
    const rs = await db.$client.execute({
      sql: `SELECT ${ACTIVITY_COLUMNS} FROM station_activities WHERE ${where.join(" AND ")} ORDER BY scheduled_at, id LIMIT ?`,
      args,
    });
    return c.json(
      toPage(rs.rows as unknown as Row[], limit, activityView, (r) => [String(r.scheduledAt), String(r.id)]),
      200,
    );
  })
  .openapi(recordActivity, async (c) => {
    const principal = principalOf(c);
    const { id, activityId } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const station = await stationFor(db, principal, id);
    assertStationWriter(principal, station);
    const activity = await activityOf(db, station, activityId);
    let attendance = activity.attendance;
    if (body.attendance) {
      attendance = [...new Set(body.attendance)];
      const rs = await db.$client.execute({
        sql: `SELECT user_id AS id FROM contact_profiles WHERE station_id = ? AND user_id IN (SELECT value FROM json_each(?))`,
        args: [station.id, JSON.stringify(attendance)],
      });
      const attached = new Set(rs.rows.map((r) => String(r.id)));
      const errors = attendance.flatMap((u, i) =>
        attached.has(u) ? [] : [{ path: `attendance.${i}`, message: "not a deputy of this station" }],
      );
      if (errors.length) throw problems.badRequest("Attendance lists the station's deputies", errors);
    }
    const record = body.record ?? activity.record;
    await writeAudited(
      db,
      [
        {
          sql: "UPDATE station_activities SET attendance = ?, record = ? WHERE id = ?",
          args: [JSON.stringify(attendance), record, activity.id],
        },
      ],
      [
        threeLinesAudit(
          principal,
          c.get("requestId"),
          "station.record",
          "station_activity",
          station.unitPath,
          activity.id,
          {
            attendance,
            recorded: body.record !== undefined,
          },
        ),
      ],
    );
    return c.json({ ...activity, attendance, record }, 200);
  })
  .openapi(getActivity, async (c) => {
    const principal = principalOf(c);
    const { id, activityId } = c.req.valid("param");
    const db = getDb(c.env);
    const station = await stationFor(db, principal, id);
    const activity = await activityOf(db, station, activityId);
    let statement: InStatement | null = null;
    if (activity.kind === "reception") {
      statement = {
        sql: `SELECT ${MATTER_COLUMNS} FROM activity_matters m WHERE m.activity_id = ? ORDER BY m.created_at, m.id`,
        args: [activity.id],
      };
    } else if (activity.kind === "reporting") {
      // The matters of reception days after the previous reporting day, up to this one.
      statement = {
        sql: `SELECT ${MATTER_COLUMNS} FROM activity_matters m JOIN station_activities a ON a.id = m.activity_id
              WHERE m.station_id = ? AND a.scheduled_at <= ?
                AND a.scheduled_at > coalesce((SELECT max(p.scheduled_at) FROM station_activities p
                  WHERE p.station_id = ? AND p.kind = 'reporting' AND p.scheduled_at < ?), '')
              ORDER BY a.scheduled_at, m.created_at, m.id`,
        args: [station.id, activity.scheduledAt, station.id, activity.scheduledAt],
      };
    }
    const rows = statement ? ((await db.$client.execute(statement)).rows as unknown as Row[]) : [];
    const matters = await withOutcomes(c, db, rows);
    return c.json({ ...activity, matters, outcomes: outcomeCounts(matters.map((m) => m.outcome)) }, 200);
  })
  .openapi(raiseMatter, async (c) => {
    const principal = principalOf(c);
    const { id, activityId } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const station = await stationFor(db, principal, id);
    assertStationWriter(principal, station);
    const activity = await activityOf(db, station, activityId);
    const wrongDay = checkMatterActivity(activity.kind);
    if (wrongDay) throw problems.conflict("not-a-reception-day", wrongDay);
    const owner = (await unitRefs(db, [body.gridId])).get(body.gridId);
    if (!owner || !inScope(principal.unitPath, owner.path) || !inScope(station.unitPath, owner.path)) {
      throw problems.badRequest(
        "The case is reported in a village or grid under the station, in your subtree",
        [{ path: "gridId", message: "not under the station in your subtree" }],
      );
    }
    const matterId = body.id ?? crypto.randomUUID();
    // A repeat of the same matter replays; the same id for another matter or case owner is 422.
    const [existing, directory] = await db.$client.batch(
      [
        { sql: "SELECT activity_id AS activityId FROM activity_matters WHERE id = ?", args: [matterId] },
        directoryStatement([matterId]),
      ],
      "read",
    );
    const knownOwner = directoryOf(directory!.rows).get(matterId);
    const previous = existing!.rows[0];
    if (
      (previous && String(previous.activityId) !== activity.id) ||
      (knownOwner && knownOwner !== owner.id)
    ) {
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
      location: body.address ? { address: body.address } : null,
      householdIds: body.householdIds,
      residentIds: [],
      mediation: null,
    };
    const requestHash = await sha256Hex(
      JSON.stringify([
        "station-matter",
        principal.userId,
        owner.id,
        activity.id,
        body.raisedBy ?? null,
        input,
      ]),
    );
    const actor = actorOf(principal);
    const result = (await callDesk(
      c,
      () =>
        deskOf(c.env, owner.id).create(
          { input, owningUnit: owner, requestHash, duplicates: [] },
          actor,
        ) as Promise<CreateResult>,
    )) as CreateResult;
    if (!result.ok) throw deskProblem(result);
    const now = new Date().toISOString();
    if (!previous) {
      await writeAudited(
        db,
        [
          {
            sql: `INSERT OR IGNORE INTO activity_matters (id, activity_id, station_id, unit_path, summary, raised_by, case_id, owning_unit_id, created_by, created_at)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            args: [
              matterId,
              activity.id,
              station.id,
              station.unitPath,
              body.summary,
              body.raisedBy ?? null,
              result.record.id,
              owner.id,
              principal.userId,
              now,
            ],
          },
        ],
        [
          threeLinesAudit(
            principal,
            c.get("requestId"),
            "station.matter",
            "station_matter",
            station.unitPath,
            matterId,
            {
              activityId: activity.id,
              caseId: result.record.id,
            },
          ),
        ],
      );
    }
    const stored = await db.$client.execute({
      sql: `SELECT ${MATTER_COLUMNS} FROM activity_matters m WHERE m.id = ?`,
      args: [matterId],
    });
    const [matter] = await withOutcomes(c, db, stored.rows as unknown as Row[]);
    c.header("location", `/v1/cases/${result.record.id}?gridId=${owner.id}`);
    return c.json(
      { matter: matter!, case: result.record as unknown as Record<string, unknown> },
      previous || result.outcome === "replayed" ? 200 : 201,
    );
  });
