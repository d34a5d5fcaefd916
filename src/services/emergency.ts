import {
  appendLogStatement,
  caseStates,
  type EventRecord,
  eventLog,
  eventsVisibleIn,
  findEvent,
  gridsUnder,
  insertEventStatement,
  insertEventUnitsStatement,
  insertShelterStatement,
  rosterSources,
  type ShelterRow,
  unitsByIds,
  updateEventStatement,
} from "../db/repos/emergency";
import {
  checkChange,
  type EmergencyKind,
  type EventChange,
  isVulnerable,
  mayCommand,
  outermost,
  type ResponseLevel,
  rosterBand,
  rosterOrder,
  timeToFractions,
} from "../domain/emergency";
import { inScope } from "../domain/units";
import type {
  AfterActionFigures,
  EmergencyCommand,
  Progress,
} from "../durable/emergency-command/emergency-command";
import type { EventMeta, GridPush } from "../durable/emergency-command/messages";
import type {
  CheckinInput,
  CheckinResult,
  EmergencyGrid,
  RosterLine,
  RosterLineInput,
} from "../durable/emergency-grid/emergency-grid";
import type { Principal } from "../env";
import { openContact, piiKeys } from "../platform/crypto/pii";
import { GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { Problem, problems } from "../platform/http/problem";
import { timedStub } from "../platform/http/timing";
import { sendInBatches } from "../platform/queues/send";
import { auditBy, type Caller, unitInScope } from "./caller";

type Env = Cloudflare.Env;

/** A fan-out job of the `emergency-rosters` queue: build the rosters of these grids for the event. */
export interface RosterJob {
  kind: "emergency-roster";
  eventId: string;
  grids: Array<{ id: string; path: string }>;
  /** Epoch ms the grids' reach interval runs from. */
  startedAt: number;
}

/**
 * Grids per roster job (about 50 KB of ids and paths, well inside a queue message): a job's households,
 * residents and contacts are one set-based read whatever its size, and its figures reach the event in one
 * call, so fewer, larger jobs make a county's rosters in a few consumer batches (3,935 grids: 20 jobs).
 */
const GRIDS_PER_JOB = 200;
/**
 * Rosters a job loads at once: each is a new Durable Object to create and write, and a batch of jobs starting
 * thousands together only makes them queue for the same storage and CPU.
 */
const LOADS_IN_FLIGHT = 25;

/** The EmergencyCommand of an event, its calls timed for Server-Timing (`desk`). */
export function commandOf(env: Env, eventId: string): DurableObjectStub<EmergencyCommand> {
  return timedStub(env.EMERGENCY_COMMAND.get(env.EMERGENCY_COMMAND.idFromName(eventId)));
}

/** The EmergencyGrid of an event's grid, its calls timed for Server-Timing (`desk`). */
export function gridOf(env: Env, eventId: string, gridId: string): DurableObjectStub<EmergencyGrid> {
  return timedStub(env.EMERGENCY_GRID.get(env.EMERGENCY_GRID.idFromName(`${eventId}:${gridId}`)));
}

/** An event's meta as the Durable Objects keep it. */
function metaOf(e: EventRecord): EventMeta {
  return {
    id: e.id,
    title: e.title,
    kind: e.kind,
    level: e.level,
    status: e.status,
    commandUnitId: e.commandUnitId,
    commandUnitPath: e.commandUnitPath,
    affectedPaths: e.units.map((u) => u.unitPath),
    declaredAt: e.declaredAt,
    stoodDownAt: e.stoodDownAt,
    reachIntervalMinutes: e.reachIntervalMinutes,
  };
}

/** Whether the caller may see the event: its scope holds the commanding unit or overlaps an affected subtree. */
function visibleTo(p: Principal, e: EventRecord): boolean {
  if (inScope(p.unitPath, e.commandUnitPath)) return true;
  return e.units.some((u) => inScope(p.unitPath, u.unitPath) || inScope(u.unitPath, p.unitPath));
}

/** The event if the caller may see it; 404 otherwise (as for one that does not exist). */
export async function eventFor(env: Env, p: Principal, id: string): Promise<EventRecord> {
  const event = await findEvent(getDb(env), id);
  if (!event || !visibleTo(p, event)) throw problems.notFound("emergency event");
  return event;
}

/** What a centre declares. */
export interface Declaration {
  kind: EmergencyKind;
  level: ResponseLevel;
  title: string;
  instructions: string;
  unitIds: string[];
  commandUnitId?: string;
  reachIntervalMinutes?: number;
}

/** Sends the roster jobs of `grids` (the whole city's 39,410 grids are 198 messages). */
async function enqueueRosters(
  env: Env,
  eventId: string,
  grids: Array<{ id: string; path: string }>,
  startedAt: number,
) {
  const jobs: RosterJob[] = [];
  for (let i = 0; i < grids.length; i += GRIDS_PER_JOB) {
    jobs.push({ kind: "emergency-roster", eventId, grids: grids.slice(i, i + GRIDS_PER_JOB), startedAt });
  }
  await sendInBatches(env.EMERGENCY_ROSTERS, jobs);
}

/** Affected units by id, each in the commanding unit's subtree; 404 naming the bad ones. */
async function affectedUnits(env: Env, commandPath: string, ids: string[], field: string) {
  const found = await unitsByIds(getDb(env), [...new Set(ids)]);
  const errors = ids.flatMap((id, i) => {
    const u = found.get(id);
    return u && inScope(commandPath, u.path)
      ? []
      : [{ path: `${field}.${i}`, message: "no such unit under the commanding centre" }];
  });
  if (errors.length)
    throw new Problem(404, "not-found", "Some affected units are not under the commanding centre", {
      errors,
    });
  const paths = outermost(ids.map((id) => found.get(id)!.path));
  return [...found.values()].filter((u) => paths.includes(u.path));
}

/**
 * Declares an event (宣布启动应急响应): the commanding centre (the caller's unit or one inside its subtree, a
 * town or above) and the affected subtrees inside it are checked, the event, its units and the first log
 * entry are written in one audited batch, the EmergencyCommand learns the event, and one roster job per
 * 200 grids goes on the `emergency-rosters` queue.
 */
export async function declareEvent(env: Env, caller: Caller, input: Declaration): Promise<EventRecord> {
  const p = caller.principal;
  const command = await unitInScope(env, p, input.commandUnitId ?? p.unitId);
  if (!mayCommand(command.level)) {
    throw problems.badRequest("Only a town, county or city centre commands an emergency", [
      { path: "commandUnitId", message: "not a town, county or city" },
    ]);
  }
  const affected = await affectedUnits(env, command.path, input.unitIds, "unitIds");
  const db = getDb(env);
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  const row = {
    id,
    kind: input.kind,
    level: input.level,
    status: "active" as const,
    title: input.title,
    instructions: input.instructions,
    commandUnitId: command.id,
    commandUnitPath: command.path,
    reachIntervalMinutes: input.reachIntervalMinutes ?? null,
    declaredBy: p.userId,
    declaredAt: now,
    stoodDownAt: null,
    version: 1,
    updatedAt: now,
  };
  const logged = {
    kind: input.kind,
    level: input.level,
    unitIds: affected.map((u) => u.id),
    commandUnitId: command.id,
  };
  await writeAudited(
    db,
    [
      insertEventStatement(db, row),
      insertEventUnitsStatement(db, id, affected, now),
      appendLogStatement(id, "declared", p.userId, now, logged),
    ],
    [auditBy(caller, "emergency.declare", { type: "emergency_event", id, scopePath: command.path }, logged)],
  );
  const event: EventRecord = { ...row, units: affected.map((u) => ({ unitId: u.id, unitPath: u.path })) };
  await commandOf(env, id).setEvent(metaOf(event), { type: "declared", payload: logged });
  await enqueueRosters(
    env,
    id,
    await gridsUnder(
      db,
      affected.map((u) => u.path),
    ),
    Date.parse(now),
  );
  return event;
}

/**
 * Raises or lowers the level, adds affected units (their rosters follow through the queue) or stands the
 * event down (解除): only the commanding centre or one above it, checked by the pure rule; the change and
 * its log entry are one audited, version-guarded batch (409 if another change won the race).
 */
export async function changeEvent(
  env: Env,
  caller: Caller,
  id: string,
  change: EventChange | { type: "add_units"; unitIds: string[] },
): Promise<EventRecord> {
  const p = caller.principal;
  const event = await eventFor(env, p, id);
  const db = getDb(env);
  let added: Array<{ id: string; path: string }> = [];
  let rule: EventChange = change as EventChange;
  if (change.type === "add_units" && "unitIds" in change) {
    const found = await unitsByIds(db, change.unitIds);
    const missing = change.unitIds.findIndex(
      (u) => !found.has(u) || !inScope(p.unitPath, found.get(u)!.path),
    );
    if (missing >= 0)
      throw new Problem(404, "not-found", "No such unit", {
        errors: [{ path: `unitIds.${missing}`, message: "no such unit" }],
      });
    added = outermost(change.unitIds.map((u) => found.get(u)!.path)).map(
      (path) => [...found.values()].find((u) => u.path === path)!,
    );
    rule = { type: "add_units", unitPaths: added.map((u) => u.path) };
  }
  const verdict = checkChange(
    {
      level: event.level,
      status: event.status,
      commandUnitPath: event.commandUnitPath,
      affectedPaths: event.units.map((u) => u.unitPath),
    },
    rule,
    p.unitPath,
  );
  if (!verdict.ok) throw new Problem(verdict.status, verdict.code, verdict.detail);
  const now = new Date().toISOString();
  const set =
    rule.type === "raise" || rule.type === "lower"
      ? { level: rule.level }
      : rule.type === "stand_down"
        ? { status: "stood_down" as const, stoodDownAt: now }
        : {};
  const payload =
    rule.type === "add_units"
      ? { unitIds: added.map((u) => u.id) }
      : rule.type === "stand_down"
        ? {}
        : { from: event.level, to: rule.level };
  const type =
    rule.type === "stand_down"
      ? "stood_down"
      : rule.type === "add_units"
        ? "units_added"
        : rule.type === "raise"
          ? "raised"
          : "lowered";
  const statements = [
    updateEventStatement(db, id, event.version, set, now),
    appendLogStatement(id, type, p.userId, now, payload),
  ];
  if (added.length) statements.push(insertEventUnitsStatement(db, id, added, now));
  try {
    await writeAudited(
      db,
      statements,
      [
        auditBy(
          caller,
          `emergency.${type}`,
          { type: "emergency_event", id, scopePath: event.commandUnitPath },
          payload,
        ),
      ],
      {
        mustChange: [0],
      },
    );
  } catch (error) {
    if (error instanceof GuardFailed)
      throw problems.conflict("event-changed", "The event changed meanwhile; read it and try again");
    throw error;
  }
  const next: EventRecord = {
    ...event,
    ...set,
    version: event.version + 1,
    updatedAt: now,
    units: [...event.units, ...added.map((u) => ({ unitId: u.id, unitPath: u.path }))],
  };
  await commandOf(env, id).setEvent(metaOf(next), { type, payload });
  if (added.length)
    await enqueueRosters(
      env,
      id,
      await gridsUnder(
        db,
        added.map((u) => u.path),
      ),
      Date.parse(now),
    );
  return next;
}

/** Events the caller may see, active first. */
export function listEvents(env: Env, p: Principal, limit: number) {
  return eventsVisibleIn(getDb(env), p.unitPath, limit);
}

/** The event with its log. */
export async function eventWithLog(env: Env, p: Principal, id: string) {
  const event = await eventFor(env, p, id);
  return { event, log: await eventLog(getDb(env), id) };
}

/**
 * Builds the rosters of a job's grids: reads the grids' households, residents, helpers and three-line contacts
 * in one round trip (beside the event's own read), orders each grid's households (vulnerable residents, red, yellow, green) and loads them
 * into the grids' EmergencyGrid objects, which push their figures to the event. Loading is idempotent, so a
 * redelivered job changes nothing.
 */
export async function buildRosters(env: Env, job: RosterJob): Promise<number> {
  const db = getDb(env);
  const [event, src] = await Promise.all([
    findEvent(db, job.eventId),
    rosterSources(
      db,
      job.grids.map((g) => g.id),
    ),
  ]);
  if (!event) return 0;
  const members = groupBy(src.residents, (r) => r.householdId);
  const contacts = groupBy([...src.helpers, ...src.pairings], (c) => c.householdId);
  const byGrid = groupBy(src.households, (h) => h.unitId);
  const pushes = await mapLimited(job.grids, LOADS_IN_FLIGHT, async (grid) => {
    const lines: RosterLineInput[] = (byGrid.get(grid.id) ?? []).map((h) => {
      const people = (members.get(h.id) ?? []).map((r) => {
        const tags = JSON.parse(r.tags) as string[];
        return {
          residentId: r.id,
          name: r.name,
          relationship: r.relationship,
          tags,
          vulnerable: isVulnerable(tags),
          phoneEnc: r.phoneEnc,
          phoneMasked: r.phoneMasked,
        };
      });
      const vulnerableCount = people.filter((m) => m.vulnerable).length;
      return {
        householdId: h.id,
        address: h.address,
        householdClass: h.class,
        band: rosterBand({ householdClass: h.class, vulnerableCount }),
        vulnerableCount,
        memberCount: Math.max(h.memberCount, people.length),
        members: people,
        contacts: [...new Map((contacts.get(h.id) ?? []).map((c) => [c.userId, c])).values()].map((c) => ({
          userId: c.userId,
          name: c.name,
          line: c.line,
          phone: c.phone,
        })),
      };
    });
    const ordered = rosterOrder(lines.map((l) => ({ ...l, householdClass: l.householdClass as "red" })));
    return gridOf(env, job.eventId, grid.id).loadRoster(
      {
        eventId: event.id,
        eventTitle: event.title,
        gridId: grid.id,
        gridPath: grid.path,
        level: event.level,
        reachIntervalMinutes: event.reachIntervalMinutes,
        startedAt: job.startedAt,
      },
      ordered,
    );
  });
  // One call hands every grid's figures to the event, instead of one per grid on the command's single thread.
  await commandOf(env, job.eventId).applyMany(pushes as GridPush[]);
  return src.households.length;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in the order of `items`. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const list = out.get(key(item)) ?? [];
    list.push(item);
    out.set(key(item), list);
  }
  return out;
}

/** The grid of an event the caller may act in: inside an affected subtree and the caller's scope. */
function assertGridOfEvent(event: EventRecord, gridPath: string | null) {
  if (!gridPath || !event.units.some((u) => inScope(u.unitPath, gridPath))) throw problems.notFound("roster");
}

/** A roster line as a responder reads it: phones opened (for this event's responders) or masked. */
export interface RosterView extends Omit<RosterLine, "members"> {
  members: Array<Omit<RosterLine["members"][number], "phoneEnc" | "phoneMasked"> & { phone: string | null }>;
}

/**
 * A grid's roster for a responder of the event. The caller must be in the grid's subtree (its grid worker,
 * a centre above it, a three-line contact of its village) or be named on one of its lines (a helper): then
 * the event makes them a responder, phones are unmasked, and the read is audited first with purpose
 * `emergency` bound to the event (`detail.eventId`, the residents shown). With libSQL down the audit cannot
 * be written, so the read is refused (503) rather than unaudited.
 */
export async function readRoster(env: Env, caller: Caller, eventId: string, gridId: string) {
  const p = caller.principal;
  const event = await eventFor(env, p, eventId);
  const roster = await gridOf(env, eventId, gridId).roster();
  if (!roster) {
    const unit = (await unitsByIds(getDb(env), [gridId])).get(gridId);
    assertGridOfEvent(event, unit?.path ?? null);
    if (!inScope(p.unitPath, unit!.path)) throw problems.notFound("roster");
    throw problems.conflict(
      "roster-not-ready",
      "The roster of this grid is still being made; try again shortly",
    );
  }
  const gridPath = roster.setup.gridPath;
  assertGridOfEvent(event, gridPath);
  const inGrid = inScope(p.unitPath, gridPath);
  const lines = inGrid
    ? roster.lines
    : roster.lines.filter((l) => l.contacts.some((c) => c.userId === p.userId));
  if (!lines.length && !inGrid) throw problems.notFound("roster");
  const residentIds = lines.flatMap((l) => l.members.filter((m) => m.phoneEnc).map((m) => m.residentId));
  await writeAudited(
    getDb(env),
    [],
    [
      {
        ...auditBy(
          caller,
          "emergency.roster_read",
          { type: "emergency_roster", id: gridId, scopePath: gridPath },
          {
            eventId,
            households: lines.length,
            residentIds,
            fields: ["phone"],
          },
        ),
        purpose: "emergency",
      },
    ],
  );
  const keys = await piiKeys(env.PII_KEY);
  const view: RosterView[] = await Promise.all(
    lines.map(async (l) => ({
      ...l,
      members: await Promise.all(
        l.members.map(async ({ phoneEnc, phoneMasked, ...m }) => ({
          ...m,
          phone: phoneEnc
            ? (await openContact(keys, "resident", m.residentId, { idNumberEnc: null, phoneEnc })).phone
            : phoneMasked,
        })),
      ),
    })),
  );
  return { eventId, gridId, gridPath, readyAt: roster.readyAt, lines: view };
}

/**
 * Records a batch of check-ins in one grid (online or an offline backlog): the event admits them (active,
 * shelter places held for `moved`), the grid's EmergencyGrid records them idempotently, and holds of items
 * it did not record are released. No libSQL on this path. One result per item, in order.
 */
export async function checkIn(
  env: Env,
  caller: Caller,
  eventId: string,
  gridId: string,
  items: CheckinInput[],
): Promise<CheckinResult[]> {
  const command = commandOf(env, eventId);
  const moves = items.flatMap((i) =>
    i.outcome === "moved" && i.shelterId
      ? [{ checkinId: i.id, shelterId: i.shelterId, persons: i.persons ?? 1 }]
      : [],
  );
  const admitted = await command.admit(moves);
  if (!admitted.active)
    throw problems.conflict(
      "event-not-active",
      "The event is not active (never declared here, or stood down)",
    );
  const unknown = new Set(admitted.unknown);
  const refused = new Set(admitted.full);
  const results = (await gridOf(env, eventId, gridId).checkIn(
    items.filter((i) => !unknown.has(i.id)),
    caller.principal,
    caller.requestId,
    refused,
  )) as CheckinResult[];
  let next = 0;
  const out = items.map(
    (i): CheckinResult =>
      unknown.has(i.id)
        ? {
            ok: false,
            id: i.id,
            status: 404,
            code: "shelter-not-found",
            detail: "No such shelter in this event",
          }
        : results[next++]!,
  );
  const release = out.filter((r) => !(r.ok && r.outcome === "recorded")).map((r) => r.id);
  if (moves.length && release.length) await command.release(release);
  return out;
}

/** Registers a shelter of the event at a unit inside an affected subtree (audited). */
export async function addShelter(
  env: Env,
  caller: Caller,
  eventId: string,
  input: { unitId: string; name: string; address: string; capacity: number },
): Promise<ShelterRow> {
  const event = await eventFor(env, caller.principal, eventId);
  const unit = await unitInScope(env, caller.principal, input.unitId);
  if (!inScope(event.commandUnitPath, unit.path)) throw problems.notFound("unit");
  if (event.status !== "active") throw problems.conflict("event-stood-down", "The event has been stood down");
  const db = getDb(env);
  const row: ShelterRow = {
    id: crypto.randomUUID(),
    eventId,
    unitId: unit.id,
    unitPath: unit.path,
    name: input.name,
    address: input.address,
    capacity: input.capacity,
    createdBy: caller.principal.userId,
    createdAt: new Date().toISOString(),
  };
  await writeAudited(
    db,
    [insertShelterStatement(db, row)],
    [
      auditBy(
        caller,
        "emergency.shelter_add",
        { type: "emergency_shelter", id: row.id, scopePath: unit.path },
        { eventId, capacity: row.capacity },
      ),
    ],
  );
  await commandOf(env, eventId).addShelter(row);
  return row;
}

/** The event's figures for a unit in the caller's scope (default: the caller's own unit). */
export async function progressOf(
  env: Env,
  p: Principal,
  eventId: string,
  unitId?: string,
): Promise<Progress> {
  await eventFor(env, p, eventId);
  const unitPath = unitId ? (await unitInScope(env, p, unitId)).path : p.unitPath;
  const progress = (await commandOf(env, eventId).progress(unitPath)) as Progress | null;
  if (!progress) throw problems.notFound("emergency event");
  return progress;
}

/**
 * Opens the live stream for the caller's subtree: the request (a WebSocket upgrade, or anything else for
 * Server-Sent Events) goes to the event's EmergencyCommand with the caller's scope and resume point.
 */
export async function openStream(
  env: Env,
  p: Principal,
  eventId: string,
  request: Request,
  after: number | undefined,
) {
  await eventFor(env, p, eventId);
  const url = new URL(`https://emergency-command/stream`);
  const resume = after ?? (Number(request.headers.get("last-event-id")) || 0);
  url.searchParams.set("after", String(resume));
  const headers = new Headers({ "x-scope": p.unitPath });
  const upgrade = request.headers.get("upgrade");
  if (upgrade) headers.set("upgrade", upgrade);
  return commandOf(env, eventId).fetch(new Request(url, { headers }));
}

/** The after-action report: timeline, reach per town, cases and their outcomes, shelter peaks. */
export interface AfterActionReport {
  event: EventRecord;
  final: boolean;
  timeline: Array<{
    seq: number;
    type: string;
    at: string;
    actorId: string;
    payload: Record<string, unknown>;
  }>;
  towns: Array<{
    townId: string;
    townName: string;
    vulnerableTotal: number;
    vulnerableReached: number;
    minutesTo50: number | null;
    minutesTo90: number | null;
    minutesTo100: number | null;
    households: number;
    reached: number;
    moved: number;
    needsHelp: number;
  }>;
  cases: Array<{ caseId: string; gridId: string; householdId: string; openedAt: string; state: string }>;
  shelters: Array<{ id: string; name: string; capacity: number; peak: number; occupied: number }>;
}

/** Builds the after-action report for a centre in scope of the commanding unit (final once stood down). */
export async function afterActionReport(env: Env, p: Principal, eventId: string): Promise<AfterActionReport> {
  const event = await eventFor(env, p, eventId);
  const db = getDb(env);
  const [log, figures] = await Promise.all([
    eventLog(db, eventId),
    commandOf(env, eventId).afterAction() as Promise<AfterActionFigures>,
  ]);
  const [states, towns] = await Promise.all([
    caseStates(
      db,
      figures.cases.map((c) => c.caseId),
    ),
    unitsByIds(
      db,
      figures.towns.map((t) => t.townId),
    ),
  ]);
  return {
    event,
    final: event.status === "stood_down",
    timeline: log.map((l) => ({
      seq: l.seq,
      type: l.type,
      at: l.at,
      actorId: l.actorId,
      payload: JSON.parse(l.payload),
    })),
    towns: figures.towns.map((t) => {
      const [m50, m90, m100] = timeToFractions(event.declaredAt, t.vulnerableTotal, t.steps, [0.5, 0.9, 1]);
      return {
        townId: t.townId,
        townName: towns.get(t.townId)?.name ?? "",
        vulnerableTotal: t.vulnerableTotal,
        vulnerableReached: t.counts.vulnerableReached,
        minutesTo50: m50 ?? null,
        minutesTo90: m90 ?? null,
        minutesTo100: m100 ?? null,
        households: t.counts.households,
        reached: t.counts.reached,
        moved: t.counts.moved,
        needsHelp: t.counts.needsHelp,
      };
    }),
    cases: figures.cases.map((c) => ({
      caseId: c.caseId,
      gridId: c.gridId,
      householdId: c.householdId,
      openedAt: c.at,
      state: states.get(c.caseId) ?? "reported",
    })),
    shelters: figures.shelters.map((s) => ({
      id: s.id,
      name: s.name,
      capacity: s.capacity,
      peak: s.peak,
      occupied: s.occupied,
    })),
  };
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The after-action report as CSV: one section per table, a blank line between them. */
export function afterActionCsv(r: AfterActionReport): string {
  const rows: unknown[][] = [
    ["section", "seq_or_id", "name_or_type", "at", "a", "b", "c", "d"],
    ...r.timeline.map((t) => ["timeline", t.seq, t.type, t.at, JSON.stringify(t.payload), "", "", ""]),
    ...r.towns.map((t) => [
      "town",
      t.townId,
      t.townName,
      "",
      t.vulnerableTotal,
      t.minutesTo50,
      t.minutesTo90,
      t.minutesTo100,
    ]),
    ...r.cases.map((c) => ["case", c.caseId, c.state, c.openedAt, c.householdId, c.gridId, "", ""]),
    ...r.shelters.map((s) => ["shelter", s.id, s.name, "", s.capacity, s.peak, s.occupied, ""]),
  ];
  return `${rows.map((row) => row.map(csvCell).join(",")).join("\r\n")}\r\n`;
}
