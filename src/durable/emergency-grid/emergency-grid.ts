import { DurableObject } from "cloudflare:workers";
import { insertInboxItemStatement } from "../../db/repos/inbox";
import { caseIdFor } from "../../domain/case-id";
import {
  type CheckinOutcome,
  isReached,
  type LineStatus,
  REACH_INTERVAL_MINUTES,
  type ResponseLevel,
  townOfPath,
  villageOfPath,
} from "../../domain/emergency";
import { inScope } from "../../domain/units";
import type { Principal } from "../../env";
import { getDb } from "../../platform/db/client";
import { reportCases } from "../../services/cases";
import type { EmergencyCommand } from "../emergency-command/emergency-command";
import type { GridCounts, GridPush, LineChange } from "../emergency-command/messages";
import { migrateEmergencyGrid } from "./schema";

/** A member of a roster household as the line keeps it: phones stay sealed (opened only on an audited read). */
export interface RosterMember {
  residentId: string;
  name: string;
  relationship: string;
  tags: string[];
  vulnerable: boolean;
  phoneEnc: string | null;
  phoneMasked: string | null;
}

/** A paired helper or three-line contact of a household. */
export interface RosterContact {
  userId: string;
  name: string;
  line: string;
  phone: string | null;
}

/** One household of a roster, as the builder hands it over. */
export interface RosterLineInput {
  householdId: string;
  address: string;
  householdClass: string;
  band: number;
  vulnerableCount: number;
  memberCount: number;
  members: RosterMember[];
  contacts: RosterContact[];
}

/** A roster line as read back, with its state. */
export interface RosterLine extends RosterLineInput {
  position: number;
  status: LineStatus;
  statusAt: string | null;
  shelterId: string | null;
  caseId: string | null;
}

/** What a grid's roster is made for. */
export interface RosterSetup {
  eventId: string;
  eventTitle: string;
  gridId: string;
  gridPath: string;
  level: ResponseLevel;
  reachIntervalMinutes: number | null;
  /** Epoch ms the reach interval runs from (the declaration, or when the grid joined the event). */
  startedAt: number;
}

/** One check-in as a responder's phone sends it (online or from an offline batch). */
export interface CheckinInput {
  /** The phone's id for this check-in: a repeat replays, the same id with other content is 422. */
  id: string;
  householdId: string;
  outcome: CheckinOutcome;
  note: string | null;
  shelterId: string | null;
  persons: number | null;
  /** When it happened in the field (ISO; null: when it was recorded); the latest check-in sets the state. */
  at: string | null;
  location: { lat: number; lng: number } | null;
}

/** The answer for one check-in. */
export type CheckinResult =
  | {
      ok: true;
      id: string;
      outcome: "recorded" | "replayed";
      householdId: string;
      status: LineStatus;
      caseId: string | null;
    }
  | { ok: false; id: string; status: 404 | 409 | 422; code: string; detail: string };

/** Changes per push to the event (a push is one RPC; a larger backlog goes in several). */
const PUSH_LIMIT = 500;

/**
 * One emergency event's roster for one grid (应急花名册), addressed by `idFromName("<eventId>:<gridId>")`, and the
 * only writer of that grid's check-ins. Each batch of check-ins is one synchronous transaction over the
 * object's own SQLite — check the household is on the roster and the responder may act, dedupe by the
 * phone's id, write the check-in, move the line — with nothing awaited in between and no libSQL on the path.
 * The check-in is answered after that commit; the changed lines go to the event's EmergencyCommand (progress
 * and stream) afterwards, one push in flight at a time with the changes recorded meanwhile coalesced, and a
 * `needs_help` line gets its one urgent case through `reportCases` (its id fixed by event and household, so a
 * retry replays). Whatever did not go out is retried by the alarm, which also escalates households not
 * reached within the event's interval to the village and town centres' inboxes.
 */
export class EmergencyGrid extends DurableObject<Cloudflare.Env> {
  private readonly sql: SqlStorage;
  /** The object's clock (epoch ms); tests set it to drive the reach interval without waiting. */
  clock: () => number = () => Date.now();
  /** The push to the event in flight, if any, and whether changes were recorded since it was read. */
  private pushing: Promise<void> | null = null;
  private pushAgain = false;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => migrateEmergencyGrid(ctx.storage));
  }

  /**
   * Loads (or extends) the roster: households already on it keep their state, new ones are appended in the
   * order given. Arms the reach alarm. Returns the grid's figures (with any changes not yet acknowledged) for
   * the builder to hand to the event in one call for many grids; redelivery returns the current figures.
   */
  async loadRoster(setup: RosterSetup, lines: RosterLineInput[]): Promise<GridPush> {
    this.ctx.storage.transactionSync(() => {
      if (!this.meta("event_id")) {
        this.setMeta("event_id", setup.eventId);
        this.setMeta("setup", JSON.stringify(setup));
        this.setMeta("due_at", String(this.dueFrom(setup, setup.startedAt)));
        this.setMeta("round", "0");
        this.setMeta("change_seq", "0");
      }
      const start = this.sql
        .exec<{ n: number }>("SELECT COALESCE(MAX(position), -1) + 1 AS n FROM lines")
        .one().n;
      lines.forEach((line, i) => {
        const { householdId, band, vulnerableCount, memberCount } = line;
        this.sql.exec(
          `INSERT INTO lines (household_id, position, band, doc, vulnerable, members) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (household_id) DO NOTHING`,
          householdId,
          start + i,
          band,
          JSON.stringify(line),
          vulnerableCount,
          memberCount,
        );
      });
      this.setMeta("ready_at", this.meta("ready_at") ?? new Date(this.clock()).toISOString());
    });
    // The alarm follows from the stored state (the reach interval, pending pushes), so setting it again is harmless.
    await this.rearm();
    return this.pushPayload(setup);
  }

  /** The roster in priority order with each line's state, or null before it is loaded. */
  roster(): { setup: RosterSetup; readyAt: string; lines: RosterLine[] } | null {
    const setup = this.setup();
    if (!setup) return null;
    const lines = this.sql
      .exec<{
        doc: string;
        position: number;
        status: string;
        status_at: string | null;
        shelter_id: string | null;
        case_id: string | null;
      }>("SELECT doc, position, status, status_at, shelter_id, case_id FROM lines ORDER BY position")
      .toArray()
      .map((r) => ({
        ...(JSON.parse(r.doc) as RosterLineInput),
        position: r.position,
        status: r.status as LineStatus,
        statusAt: r.status_at,
        shelterId: r.shelter_id,
        caseId: r.case_id,
      }));
    return { setup, readyAt: this.meta("ready_at") ?? "", lines };
  }

  /**
   * Records check-ins by `actor`, idempotently by the phone's id, in one transaction. A household not on this
   * roster, or a responder who is neither in the grid's subtree nor a named helper or contact of the
   * household, is 404 for that item and nothing of it is written. `shelterRefused` names check-ins the event
   * refused a shelter place for (409). One result per item, in order.
   */
  async checkIn(
    items: CheckinInput[],
    actor: Principal,
    requestId: string,
    shelterRefused: ReadonlySet<string> = new Set(),
  ): Promise<CheckinResult[]> {
    const setup = this.setup();
    if (!setup) return items.map((i) => fail(i.id, 404, "roster-not-ready", "This grid has no roster yet"));
    const now = new Date(this.clock()).toISOString();
    const results = this.ctx.storage.transactionSync(() =>
      items.map((item) => this.checkInOne(setup, item, actor, requestId, now, shelterRefused)),
    );
    if (results.some((r) => r.ok && r.outcome === "recorded")) {
      this.pushSoon();
      this.ctx.waitUntil(this.reportPendingCases());
    }
    return results;
  }

  /**
   * Forwards the recorded changes to the event's EmergencyCommand without holding up the check-in: one push
   * in flight at a time, and whatever is recorded meanwhile goes in the next one, so a busy grid sends one
   * push per round trip, not one per check-in. The changes are committed before this runs; a failed push
   * leaves them in `changes` and arms the alarm, which sends them again.
   */
  private pushSoon(): void {
    if (this.pushing) {
      this.pushAgain = true;
      return;
    }
    this.pushing = (async () => {
      try {
        do {
          this.pushAgain = false;
          const sent = await this.push();
          if (sent === "failed") {
            await this.rearm();
            return;
          }
          if (sent === "more") this.pushAgain = true;
        } while (this.pushAgain);
      } finally {
        this.pushing = null;
      }
    })();
    this.ctx.waitUntil(this.pushing);
  }

  private checkInOne(
    setup: RosterSetup,
    item: CheckinInput,
    actor: Principal,
    requestId: string,
    now: string,
    shelterRefused: ReadonlySet<string>,
  ): CheckinResult {
    // The fingerprint is of what the phone sent, so a repeat without a time still replays.
    const hash = JSON.stringify(item);
    const seen = this.sql
      .exec<{ request_hash: string; result: string }>(
        "SELECT request_hash, result FROM checkins WHERE id = ?",
        item.id,
      )
      .toArray()[0];
    if (seen) {
      if (seen.request_hash !== hash) {
        return fail(item.id, 422, "idempotency-key-reused", "This check-in id was used for another check-in");
      }
      return { ...(JSON.parse(seen.result) as CheckinResult & { ok: true }), outcome: "replayed" };
    }
    const line = this.sql
      .exec<{
        doc: string;
        status: string;
        status_at: string | null;
        vulnerable: number;
        case_id: string | null;
      }>(
        "SELECT doc, status, status_at, vulnerable, case_id FROM lines WHERE household_id = ?",
        item.householdId,
      )
      .toArray()[0];
    if (!line) return fail(item.id, 404, "not-on-roster", "No such household on this grid's roster");
    const doc = JSON.parse(line.doc) as RosterLineInput;
    const named = doc.contacts.some((c) => c.userId === actor.userId);
    if (!inScope(actor.unitPath, setup.gridPath) && !named) {
      return fail(item.id, 404, "not-on-roster", "No such household on this grid's roster");
    }
    if (shelterRefused.has(item.id)) {
      return fail(item.id, 409, "shelter-full", "The shelter has no free places left for this household");
    }
    const at = item.at ?? now;
    const latest = line.status_at === null || at >= line.status_at;
    let caseId = line.case_id;
    if (item.outcome === "needs_help" && caseId === null) {
      caseId = caseIdFor(setup.gridId, `emergency:${setup.eventId}:${item.householdId}`);
      this.sql.exec(
        "INSERT INTO case_outbox (household_id, body) VALUES (?, ?) ON CONFLICT DO NOTHING",
        item.householdId,
        JSON.stringify({ item, actor, requestId, address: doc.address }),
      );
      this.sql.exec("UPDATE lines SET case_id = ? WHERE household_id = ?", caseId, item.householdId);
    }
    const status = latest ? item.outcome : (line.status as LineStatus);
    if (latest) {
      const persons = item.outcome === "moved" ? (item.persons ?? doc.memberCount) : 0;
      this.sql.exec(
        "UPDATE lines SET status = ?, status_at = ?, shelter_id = ?, persons = ? WHERE household_id = ?",
        item.outcome,
        at,
        item.outcome === "moved" ? item.shelterId : null,
        persons,
        item.householdId,
      );
      const before = isReached(line.status as LineStatus);
      const after = isReached(item.outcome);
      this.queueChange({
        checkinId: item.id,
        householdId: item.householdId,
        outcome: item.outcome,
        status,
        at,
        recordedAt: now,
        shelterId: item.outcome === "moved" ? item.shelterId : null,
        caseId,
        vulnerableDelta: before === after ? 0 : after ? line.vulnerable : -line.vulnerable,
      });
    }
    const result: CheckinResult = {
      ok: true,
      id: item.id,
      outcome: "recorded",
      householdId: item.householdId,
      status,
      caseId,
    };
    this.sql.exec(
      "INSERT INTO checkins (id, household_id, request_hash, body, actor, recorded_at, result) VALUES (?, ?, ?, ?, ?, ?, ?)",
      item.id,
      item.householdId,
      hash,
      JSON.stringify({ ...item, at }),
      JSON.stringify({ userId: actor.userId, role: actor.role, unitId: actor.unitId }),
      now,
      JSON.stringify(result),
    );
    return result;
  }

  /** How many recorded changes the event has not acknowledged yet (0 once every push went through). */
  unpushed(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM changes").one().n;
  }

  /** Every check-in recorded here, oldest first (for the after-action report and tests). */
  checkins(): Array<CheckinInput & { recordedAt: string; actor: unknown }> {
    return this.sql
      .exec<{ body: string; actor: string; recorded_at: string }>(
        "SELECT body, actor, recorded_at FROM checkins ORDER BY recorded_at, id",
      )
      .toArray()
      .map((r) => ({
        ...(JSON.parse(r.body) as CheckinInput),
        recordedAt: r.recorded_at,
        actor: JSON.parse(r.actor),
      }));
  }

  /**
   * The alarm: escalates households still not reached when the interval ran out (one inbox item for the
   * village centre and one for the town centre per round, deduplicated), then retries pushes and cases.
   */
  override async alarm(): Promise<void> {
    try {
      await this.escalateUnreached();
      await this.push();
      await this.reportPendingCases();
    } finally {
      await this.rearm();
    }
  }

  private async escalateUnreached(): Promise<void> {
    const setup = this.setup();
    const due = Number(this.meta("due_at") ?? Number.POSITIVE_INFINITY);
    const now = this.clock();
    if (!setup || now < due) return;
    // A stood-down event escalates nothing more (the read is outside any transaction; marking is idempotent).
    const event = await this.commandStub(setup.eventId).event();
    if (event?.status !== "active") {
      this.sql.exec("DELETE FROM meta WHERE key = 'due_at'");
      return;
    }
    const round = Number(this.meta("round") ?? "0") + 1;
    const unreached = this.sql
      .exec<{ household_id: string; doc: string; vulnerable: number }>(
        `SELECT household_id, doc, vulnerable FROM lines
         WHERE status IN ('pending', 'not_reached') AND escalated_round < ? ORDER BY position`,
        round,
      )
      .toArray();
    if (unreached.length) {
      const households = unreached.map((r) => ({
        householdId: r.household_id,
        address: (JSON.parse(r.doc) as RosterLineInput).address,
        vulnerable: r.vulnerable,
      }));
      const targets = [villageOfPath(setup.gridPath), townOfPath(setup.gridPath)].filter(
        (id): id is string => id !== null,
      );
      const createdAt = new Date(now).toISOString();
      const statements = await Promise.all(
        targets.map((unitId) =>
          insertInboxItemStatement({
            unitId,
            unitPath: setup.gridPath.slice(0, setup.gridPath.indexOf(`/${unitId}/`) + unitId.length + 2),
            kind: "escalated",
            caseId: null,
            dedupeKey: `emergency-not-reached:${setup.eventId}:${setup.gridId}:${unitId}:${round}`,
            payload: {
              emergency: setup.eventId,
              title: `应急事件未联系户：${setup.eventTitle}`,
              gridId: setup.gridId,
              round,
              households,
            },
            createdAt,
          }),
        ),
      );
      // Written before the lines are marked: a failure leaves them due, and the dedupe key makes a repeat harmless.
      await getDb(this.env).$client.batch(statements, "write");
    }
    this.ctx.storage.transactionSync(() => {
      for (const r of unreached) {
        this.sql.exec("UPDATE lines SET escalated_round = ? WHERE household_id = ?", round, r.household_id);
      }
      this.setMeta("round", String(round));
      this.setMeta("due_at", String(this.dueFrom(setup, now)));
    });
  }

  private async rearm(): Promise<void> {
    const pending =
      this.sql
        .exec<{ n: number }>(
          "SELECT (SELECT COUNT(*) FROM changes) + (SELECT COUNT(*) FROM case_outbox) AS n",
        )
        .one().n > 0;
    const due = Number(this.meta("due_at") ?? Number.POSITIVE_INFINITY);
    // The interval runs on the object's clock; the real alarm is set relative to it.
    const untilDue = due - this.clock();
    const next = Math.min(Date.now() + Math.max(0, untilDue), pending ? Date.now() + 5_000 : Infinity);
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next);
  }

  private dueFrom(setup: RosterSetup, from: number): number {
    return from + (setup.reachIntervalMinutes ?? REACH_INTERVAL_MINUTES[setup.level]) * 60_000;
  }

  /** The grid's figures and the changes not yet acknowledged by the event (at most 500, oldest first). */
  private pushPayload(setup: RosterSetup): GridPush {
    const changes = this.sql
      .exec<{ seq: number; body: string }>("SELECT seq, body FROM changes ORDER BY seq LIMIT ?", PUSH_LIMIT)
      .toArray();
    return {
      lastSeq: changes.length ? changes[changes.length - 1]!.seq : Number(this.meta("change_seq") ?? "0"),
      gridId: setup.gridId,
      gridPath: setup.gridPath,
      rosterReadyAt: this.meta("ready_at") ?? "",
      counts: this.counts(),
      shelters: Object.fromEntries(
        this.sql
          .exec<{ shelter_id: string; n: number }>(
            "SELECT shelter_id, SUM(persons) AS n FROM lines WHERE status = 'moved' AND shelter_id IS NOT NULL GROUP BY shelter_id",
          )
          .toArray()
          .map((r) => [r.shelter_id, r.n]),
      ),
      changes: changes.map((c) => ({ ...(JSON.parse(c.body) as Omit<LineChange, "seq">), seq: c.seq })),
    };
  }

  /**
   * Sends unacknowledged changes (at most `PUSH_LIMIT`) and the current figures to the event's
   * EmergencyCommand: `more` when changes are left over for another push.
   */
  private async push(): Promise<"done" | "more" | "failed"> {
    const setup = this.setup();
    if (!setup) return "done";
    const push = this.pushPayload(setup);
    if (!push.changes.length) return "done";
    try {
      await this.commandStub(setup.eventId).apply(push);
      this.sql.exec("DELETE FROM changes WHERE seq <= ?", push.lastSeq);
      return push.changes.length >= PUSH_LIMIT ? "more" : "done";
    } catch (error) {
      console.error(
        JSON.stringify({ kind: "emergency-push-failed", grid: setup.gridId, error: String(error) }),
      );
      return "failed";
    }
  }

  private commandStub(eventId: string): DurableObjectStub<EmergencyCommand> {
    return this.env.EMERGENCY_COMMAND.get(this.env.EMERGENCY_COMMAND.idFromName(eventId));
  }

  /** Reports the urgent case of each `needs_help` household still waiting for one (idempotent by its id). */
  private async reportPendingCases(): Promise<void> {
    const setup = this.setup();
    if (!setup) return;
    const rows = this.sql
      .exec<{ household_id: string; body: string }>("SELECT household_id, body FROM case_outbox LIMIT 50")
      .toArray();
    for (const row of rows) {
      const { item, actor, requestId, address } = JSON.parse(row.body) as {
        item: CheckinInput;
        actor: Principal;
        requestId: string;
        address: string;
      };
      const clientId = `emergency:${setup.eventId}:${row.household_id}`;
      const input = {
        id: clientId,
        type: "emergency" as const,
        severity: "urgent" as const,
        title: `应急求助：${address}`.slice(0, 200),
        description: `${setup.eventTitle}（应急事件 ${setup.eventId}）现场报告需要救助：${item.note ?? "未注明"}`,
        location: item.location ? { ...item.location, address } : { address },
        householdIds: [row.household_id],
        residentIds: [],
        mediation: null,
      };
      try {
        const [outcome] = await reportCases(
          this.env,
          { principal: actor, requestId },
          [{ input, ownerId: setup.gridId, requestHash: clientId }],
          new Map([[setup.gridId, { id: setup.gridId, path: setup.gridPath, level: "grid" }]]),
        );
        const final = outcome?.ok || (outcome && outcome.status !== 503);
        if (!outcome?.ok)
          console.error(JSON.stringify({ kind: "emergency-case-refused", clientId, outcome }));
        if (final) this.sql.exec("DELETE FROM case_outbox WHERE household_id = ?", row.household_id);
        else
          this.sql.exec(
            "UPDATE case_outbox SET attempts = attempts + 1 WHERE household_id = ?",
            row.household_id,
          );
      } catch (error) {
        console.error(JSON.stringify({ kind: "emergency-case-failed", clientId, error: String(error) }));
      }
    }
  }

  private counts(): GridCounts {
    return this.sql
      .exec<{ [K in keyof GridCounts]: number }>(
        `SELECT COUNT(*) AS households,
           COALESCE(SUM(status IN ('reached_safe', 'moved', 'needs_help')), 0) AS reached,
           COALESCE(SUM(vulnerable), 0) AS vulnerableTotal,
           COALESCE(SUM(CASE WHEN status IN ('reached_safe', 'moved', 'needs_help') THEN vulnerable ELSE 0 END), 0) AS vulnerableReached,
           COALESCE(SUM(status = 'moved'), 0) AS moved,
           COALESCE(SUM(status = 'needs_help'), 0) AS needsHelp,
           COALESCE(SUM(status = 'not_reached'), 0) AS notReached,
           COALESCE(SUM(status = 'pending'), 0) AS pending
         FROM lines`,
      )
      .one();
  }

  /** Queues a change for the event, numbered gap-free per grid. */
  private queueChange(change: Omit<LineChange, "seq">): void {
    const seq = Number(this.meta("change_seq") ?? "0") + 1;
    this.sql.exec("INSERT INTO changes (seq, body) VALUES (?, ?)", seq, JSON.stringify(change));
    this.setMeta("change_seq", String(seq));
  }

  private setup(): RosterSetup | null {
    const raw = this.meta("setup");
    return raw ? (JSON.parse(raw) as RosterSetup) : null;
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

function fail(id: string, status: 404 | 409 | 422, code: string, detail: string): CheckinResult {
  return { ok: false, id, status, code, detail };
}
