import { DurableObject } from "cloudflare:workers";
import { childOnTheWay, type ReachStep, townOfPath } from "../../domain/emergency";
import { inScope, subtreeRange } from "../../domain/units";
import type { EventMeta, GridCounts, GridPush } from "./messages";

/** A shelter as the event keeps it, with its live occupancy. */
export interface ShelterState {
  id: string;
  unitId: string;
  unitPath: string;
  name: string;
  capacity: number;
  occupied: number;
  free: number;
  peak: number;
}

/** Figures for a unit of the event: totals, by child unit, and its shelters. */
export interface Progress {
  event: EventMeta;
  rostersReady: number;
  totals: GridCounts;
  byChild: Array<{ unitId: string; counts: GridCounts }>;
  shelters: ShelterState[];
  lastSeq: number;
}

/** One entry of the live stream: a check-in, a roster made, or a change of the event itself. */
export interface StreamEntry {
  seq: number;
  at: string;
  type: "checkin" | "roster" | "event";
  /** The grid (or, for an event change, the commanding unit) the entry belongs to. */
  path: string;
  data: Record<string, unknown>;
}

/** What the after-action report needs from the event's live state. */
export interface AfterActionFigures {
  towns: Array<{ townId: string; vulnerableTotal: number; steps: ReachStep[]; counts: GridCounts }>;
  cases: Array<{ caseId: string; gridId: string; householdId: string; at: string }>;
  shelters: ShelterState[];
}

const ZERO: GridCounts = {
  households: 0,
  reached: 0,
  vulnerableTotal: 0,
  vulnerableReached: 0,
  moved: 0,
  needsHelp: 0,
  notReached: 0,
  pending: 0,
};
const HOLD_MS = 60_000;
/**
 * How long new stream entries wait for others before going out: every push and event change in that window
 * reaches each subscriber in one pass (one read of the stream, one SSE write), however many grids pushed.
 */
const BROADCAST_EVERY_MS = 50;
const BACKLOG_LIMIT = 5_000;
const encoder = new TextEncoder();

function add(a: GridCounts, b: GridCounts): GridCounts {
  const out = { ...a };
  for (const k of Object.keys(ZERO) as Array<keyof GridCounts>) out[k] += b[k];
  return out;
}

/** A live SSE subscriber (held in memory: SSE responses cannot hibernate). */
interface SseSubscriber {
  scope: string;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  /** The last seq its backlog held: a broadcast skips what it already got. */
  from: number;
}

/** What a hibernatable WebSocket carries: its scope and the last seq its backlog held. */
interface SocketAttachment {
  scope: string;
  from?: number;
}

/**
 * One emergency event's command post (指挥部), addressed by `idFromName(eventId)`: it aggregates the figures
 * every EmergencyGrid pushes (idempotently by each grid's change seq), keeps shelter occupancy and holds,
 * numbers every change of the event in one gap-free stream `seq`, and serves the live stream: WebSockets
 * through the Hibernation API (`ctx.acceptWebSocket`, the subscriber's scope in its attachment), or
 * Server-Sent Events. Each subscriber gets only entries inside its unit's subtree (and the event's own
 * changes), starting after the last seq it saw, so a dropped connection resumes without a gap.
 */
export class EmergencyCommand extends DurableObject<Cloudflare.Env> {
  private readonly sql: SqlStorage;
  private readonly sse = new Set<SseSubscriber>();
  /** The object's clock (epoch ms); tests may set it. */
  clock: () => number = () => Date.now();
  /** The last seq sent to live subscribers (entries after it go out with the next broadcast). */
  private broadcastSeq = 0;
  private broadcastTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      for (const s of [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        `CREATE TABLE IF NOT EXISTS grids (grid_id TEXT PRIMARY KEY, grid_path TEXT NOT NULL,
           last_seq INTEGER NOT NULL, ready_at TEXT NOT NULL, counts TEXT NOT NULL, shelters TEXT NOT NULL)`,
        "CREATE INDEX IF NOT EXISTS grids_path_idx ON grids (grid_path)",
        `CREATE TABLE IF NOT EXISTS shelters (id TEXT PRIMARY KEY, unit_id TEXT NOT NULL, unit_path TEXT NOT NULL,
           name TEXT NOT NULL, capacity INTEGER NOT NULL, occupied INTEGER NOT NULL DEFAULT 0,
           peak INTEGER NOT NULL DEFAULT 0)`,
        `CREATE TABLE IF NOT EXISTS holds (checkin_id TEXT PRIMARY KEY, shelter_id TEXT NOT NULL,
           persons INTEGER NOT NULL, until_ms INTEGER NOT NULL)`,
        `CREATE TABLE IF NOT EXISTS stream (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
           type TEXT NOT NULL, path TEXT NOT NULL, data TEXT NOT NULL)`,
        "CREATE TABLE IF NOT EXISTS reach (at TEXT NOT NULL, town_id TEXT NOT NULL, delta INTEGER NOT NULL)",
        `CREATE TABLE IF NOT EXISTS cases (case_id TEXT PRIMARY KEY, grid_id TEXT NOT NULL,
           household_id TEXT NOT NULL, at TEXT NOT NULL)`,
      ]) {
        this.sql.exec(s);
      }
      // Subscribers connecting from now on get the stream so far as their backlog.
      this.broadcastSeq = this.lastSeq();
    });
  }

  /** Sets (or replaces) what the event is, and streams the change with its log entry. */
  setEvent(event: EventMeta, change: { type: string; payload: Record<string, unknown> } | null): number {
    const seq = this.ctx.storage.transactionSync(() => {
      this.setMeta("event", JSON.stringify(event));
      return change
        ? this.append("event", event.commandUnitPath, { ...change.payload, change: change.type })
        : 0;
    });
    if (seq) this.broadcastSoon();
    return seq;
  }

  /** Registers a shelter of the event (idempotent by id). */
  addShelter(shelter: {
    id: string;
    unitId: string;
    unitPath: string;
    name: string;
    capacity: number;
  }): void {
    this.sql.exec(
      "INSERT INTO shelters (id, unit_id, unit_path, name, capacity) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      shelter.id,
      shelter.unitId,
      shelter.unitPath,
      shelter.name,
      shelter.capacity,
    );
  }

  /**
   * Admits a batch of check-ins into the event before their grid records them: refused when the event is
   * not active; each `moved` check-in holds its places in the shelter, refused (listed in `full`) when the
   * shelter does not exist or lacks the room. A hold lasts until the grid's push confirms it (or a minute).
   */
  admit(moves: Array<{ checkinId: string; shelterId: string; persons: number }>): {
    active: boolean;
    full: string[];
    unknown: string[];
  } {
    const event = this.event();
    if (event?.status !== "active") return { active: false, full: [], unknown: [] };
    const now = this.clock();
    return this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM holds WHERE until_ms < ?", now);
      const full: string[] = [];
      const unknown: string[] = [];
      for (const m of moves) {
        const shelter = this.sql
          .exec<{ capacity: number; occupied: number }>(
            "SELECT capacity, occupied FROM shelters WHERE id = ?",
            m.shelterId,
          )
          .toArray()[0];
        if (!shelter) {
          unknown.push(m.checkinId);
          continue;
        }
        const held = this.sql
          .exec<{ n: number }>(
            "SELECT COALESCE(SUM(persons), 0) AS n FROM holds WHERE shelter_id = ? AND checkin_id != ?",
            m.shelterId,
            m.checkinId,
          )
          .one().n;
        if (shelter.occupied + held + m.persons > shelter.capacity) {
          full.push(m.checkinId);
          continue;
        }
        this.sql.exec(
          "INSERT INTO holds (checkin_id, shelter_id, persons, until_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
          m.checkinId,
          m.shelterId,
          m.persons,
          now + HOLD_MS,
        );
      }
      return { active: true, full, unknown };
    });
  }

  /** Drops holds of check-ins their grid did not record (refused or replayed). */
  release(checkinIds: string[]): void {
    for (const id of checkinIds) this.sql.exec("DELETE FROM holds WHERE checkin_id = ?", id);
  }

  /**
   * Applies a grid's push: each change beyond the grid's last seq becomes a stream entry (and a reach step of
   * its town), the grid's figures and shelter people replace the old ones, occupancy and peaks move, and
   * confirmed holds go. A push not beyond what is held changes nothing, so redelivery and reordering are safe.
   */
  apply(push: GridPush): number {
    return this.applyMany([push]);
  }

  /**
   * Applies many grids' pushes in one transaction (the roster builder's, one per job). The new entries reach
   * live subscribers with the next broadcast, within `BROADCAST_EVERY_MS`, not before this returns.
   */
  applyMany(pushes: GridPush[]): number {
    this.ctx.storage.transactionSync(() => {
      for (const push of pushes) this.applyOne(push);
    });
    this.broadcastSoon();
    return this.lastSeq();
  }

  private applyOne(push: GridPush): void {
    const held = this.sql
      .exec<{ last_seq: number; shelters: string }>(
        "SELECT last_seq, shelters FROM grids WHERE grid_id = ?",
        push.gridId,
      )
      .toArray()[0];
    const last = held?.last_seq ?? 0;
    if (held && push.lastSeq <= last) return;
    if (!held) this.append("roster", push.gridPath, { gridId: push.gridId, counts: push.counts });
    const town = townOfPath(push.gridPath) ?? "";
    for (const c of push.changes) {
      if (c.seq <= last) continue;
      this.sql.exec("DELETE FROM holds WHERE checkin_id = ?", c.checkinId);
      if (c.vulnerableDelta !== 0) {
        this.sql.exec(
          "INSERT INTO reach (at, town_id, delta) VALUES (?, ?, ?)",
          c.recordedAt,
          town,
          c.vulnerableDelta,
        );
      }
      if (c.caseId) {
        this.sql.exec(
          "INSERT INTO cases (case_id, grid_id, household_id, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
          c.caseId,
          push.gridId,
          c.householdId,
          c.recordedAt,
        );
      }
      const { seq: _gridSeq, vulnerableDelta: _d, ...entry } = c;
      this.append("checkin", push.gridPath, { gridId: push.gridId, ...entry });
    }
    const old = held ? (JSON.parse(held.shelters) as Record<string, number>) : {};
    for (const id of new Set([...Object.keys(old), ...Object.keys(push.shelters)])) {
      const delta = (push.shelters[id] ?? 0) - (old[id] ?? 0);
      if (delta !== 0) {
        this.sql.exec(
          "UPDATE shelters SET occupied = occupied + ?, peak = MAX(peak, occupied + ?) WHERE id = ?",
          delta,
          delta,
          id,
        );
      }
    }
    this.sql.exec(
      `INSERT INTO grids (grid_id, grid_path, last_seq, ready_at, counts, shelters) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (grid_id) DO UPDATE SET last_seq = excluded.last_seq, counts = excluded.counts,
           shelters = excluded.shelters`,
      push.gridId,
      push.gridPath,
      push.lastSeq,
      push.rosterReadyAt,
      JSON.stringify(push.counts),
      JSON.stringify(push.shelters),
    );
  }

  /** The figures of the event inside `unitPath`: totals, by child unit on the way to each grid, shelters. */
  progress(unitPath: string): Progress | null {
    const event = this.event();
    if (!event) return null;
    const [lo, hi] = subtreeRange(unitPath);
    const grids = this.sql
      .exec<{ grid_path: string; counts: string }>(
        "SELECT grid_path, counts FROM grids WHERE grid_path >= ? AND grid_path < ?",
        lo,
        hi,
      )
      .toArray();
    let totals = ZERO;
    const byChild = new Map<string, GridCounts>();
    for (const g of grids) {
      const counts = JSON.parse(g.counts) as GridCounts;
      totals = add(totals, counts);
      const child = childOnTheWay(unitPath, g.grid_path);
      if (child) byChild.set(child, add(byChild.get(child) ?? ZERO, counts));
    }
    return {
      event,
      rostersReady: grids.length,
      totals,
      byChild: [...byChild].map(([unitId, counts]) => ({ unitId, counts })),
      shelters: this.shelters().filter((s) => inScope(unitPath, s.unitPath)),
      lastSeq: this.lastSeq(),
    };
  }

  /** Per-town reach steps and figures, cases opened and shelters, for the after-action report. */
  afterAction(): AfterActionFigures {
    const towns = new Map<string, { vulnerableTotal: number; counts: GridCounts; steps: ReachStep[] }>();
    for (const g of this.sql.exec<{ grid_path: string; counts: string }>(
      "SELECT grid_path, counts FROM grids",
    )) {
      const town = townOfPath(g.grid_path) ?? "";
      const counts = JSON.parse(g.counts) as GridCounts;
      const t = towns.get(town) ?? { vulnerableTotal: 0, counts: ZERO, steps: [] };
      t.counts = add(t.counts, counts);
      t.vulnerableTotal += counts.vulnerableTotal;
      towns.set(town, t);
    }
    for (const r of this.sql.exec<{ at: string; town_id: string; delta: number }>(
      "SELECT at, town_id, delta FROM reach",
    )) {
      towns.get(r.town_id)?.steps.push({ at: r.at, delta: r.delta });
    }
    return {
      towns: [...towns].map(([townId, t]) => ({ townId, ...t })),
      cases: this.sql
        .exec<{ case_id: string; grid_id: string; household_id: string; at: string }>(
          "SELECT case_id, grid_id, household_id, at FROM cases ORDER BY at",
        )
        .toArray()
        .map((c) => ({ caseId: c.case_id, gridId: c.grid_id, householdId: c.household_id, at: c.at })),
      shelters: this.shelters(),
    };
  }

  /** Stream entries after `after` visible in `scope`, oldest first (at most `limit`). */
  entries(scope: string, after: number, limit = BACKLOG_LIMIT): StreamEntry[] {
    return this.sql
      .exec<{ seq: number; at: string; type: StreamEntry["type"]; path: string; data: string }>(
        "SELECT seq, at, type, path, data FROM stream WHERE seq > ? ORDER BY seq LIMIT ?",
        after,
        limit,
      )
      .toArray()
      .map((r) => ({ seq: r.seq, at: r.at, type: r.type, path: r.path, data: JSON.parse(r.data) }))
      .filter((e) => visible(scope, e));
  }

  /**
   * The live stream. The Worker has authenticated the caller and checked the event; it passes the caller's
   * scope (`x-scope`) and where to resume (`?after=`, or SSE's `Last-Event-ID`). A WebSocket upgrade is
   * accepted for hibernation; anything else gets Server-Sent Events.
   */
  override async fetch(request: Request): Promise<Response> {
    const scope = request.headers.get("x-scope") ?? "";
    const url = new URL(request.url);
    const after = Number(url.searchParams.get("after") ?? request.headers.get("last-event-id") ?? "0") || 0;
    if (!scope) return new Response("no scope", { status: 400 });
    const backlog = this.entries(scope, after);
    // Everything up to here is in the backlog (or out of scope); later broadcasts skip it.
    const from = Math.max(after, this.lastSeq());
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const pair = new WebSocketPair();
      const [client, server] = [pair[0], pair[1]];
      this.ctx.acceptWebSocket(server);
      server.serializeAttachment({ scope, from } satisfies SocketAttachment);
      for (const e of backlog) server.send(JSON.stringify(e));
      return new Response(null, { status: 101, webSocket: client });
    }
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const subscriber = { scope, writer, from };
    this.sse.add(subscriber);
    void writer
      .write(encoder.encode(`retry: 1000\n\n${backlog.map(sseFrame).join("")}`))
      .catch(() => this.sse.delete(subscriber));
    return new Response(readable, {
      status: 200,
      headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
    });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    // The only message a subscriber sends is a ping; answer so clients can detect a dead link.
    if (message === "ping") ws.send("pong");
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }

  /** Schedules one broadcast of the entries appended since the last one (coalescing those that follow). */
  private broadcastSoon(): void {
    if (this.broadcastTimer) return;
    this.broadcastTimer = setTimeout(() => {
      this.broadcastTimer = null;
      this.broadcast();
    }, BROADCAST_EVERY_MS);
  }

  /** Sends every entry after `broadcastSeq` to the subscribers that may see it and did not get it yet. */
  private broadcast(): void {
    const after = this.broadcastSeq;
    const sockets = this.ctx.getWebSockets();
    const fresh = sockets.length || this.sse.size ? this.entries("/", after, Number.MAX_SAFE_INTEGER) : [];
    this.broadcastSeq = fresh.at(-1)?.seq ?? Math.max(after, this.lastSeq());
    if (!fresh.length) return;
    for (const ws of sockets) {
      const { scope, from = 0 } = (ws.deserializeAttachment() as SocketAttachment | null) ?? { scope: "" };
      for (const e of fresh) if (e.seq > from && visible(scope, e)) ws.send(JSON.stringify(e));
    }
    for (const s of this.sse) {
      const frames = fresh
        .filter((e) => e.seq > s.from && visible(s.scope, e))
        .map(sseFrame)
        .join("");
      if (frames) void s.writer.write(encoder.encode(frames)).catch(() => this.sse.delete(s));
    }
  }

  private append(type: StreamEntry["type"], path: string, data: Record<string, unknown>): number {
    this.sql.exec(
      "INSERT INTO stream (at, type, path, data) VALUES (?, ?, ?, ?)",
      new Date(this.clock()).toISOString(),
      type,
      path,
      JSON.stringify(data),
    );
    return this.lastSeq();
  }

  private lastSeq(): number {
    return this.sql.exec<{ n: number }>("SELECT COALESCE(MAX(seq), 0) AS n FROM stream").one().n;
  }

  private shelters(): ShelterState[] {
    return this.sql
      .exec<{
        id: string;
        unit_id: string;
        unit_path: string;
        name: string;
        capacity: number;
        occupied: number;
        peak: number;
      }>(
        "SELECT id, unit_id, unit_path, name, capacity, occupied, peak FROM shelters ORDER BY unit_path, name",
      )
      .toArray()
      .map((s) => ({
        id: s.id,
        unitId: s.unit_id,
        unitPath: s.unit_path,
        name: s.name,
        capacity: s.capacity,
        occupied: s.occupied,
        free: Math.max(0, s.capacity - s.occupied),
        peak: s.peak,
      }));
  }

  /** The event as last set, or null before it was. */
  event(): EventMeta | null {
    const raw = this.meta("event");
    return raw ? (JSON.parse(raw) as EventMeta) : null;
  }

  private meta(key: string): string | null {
    return (
      this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ??
      null
    );
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }
}

/** A subscriber sees entries inside its subtree, and changes of the event itself when it commands or is inside it. */
function visible(scope: string, e: StreamEntry): boolean {
  if (e.type === "event") return true;
  return inScope(scope, e.path);
}

function sseFrame(e: StreamEntry): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}
