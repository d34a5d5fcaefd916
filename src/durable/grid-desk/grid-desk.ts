import { DurableObject } from "cloudflare:workers";
import { villageDuplicateHints } from "../../db/repos/cases";
import { loadSlaRulesBook } from "../../db/repos/sla-policy";
import {
  boundingBox,
  DUPLICATE_RADIUS_M,
  DUPLICATE_WINDOW_MS,
  type DuplicateHint,
  type DuplicateReport,
  duplicateHintsAmong,
  mergeDuplicateHints,
  type ScopedDuplicateHint,
} from "../../domain/case-duplicates";
import {
  applySlaStep,
  type CaseCommand,
  canSeeCase,
  decide,
  nextStepAt,
  reportCase,
  SLA_POLICY_NEEDED,
} from "../../domain/case-lifecycle";
import type {
  Actor,
  CaseEvent,
  CaseEventMessage,
  CaseRecord,
  CaseState,
  CaseType,
  NewCase,
  UnitRef,
} from "../../domain/case-model";
import { OPEN_STATES } from "../../domain/case-model";
import { escalationMessagesFor } from "../../domain/escalation";
import { dueSlaSteps, type SlaRulesBook } from "../../domain/sla";
import { inScope } from "../../domain/units";
import { getDb } from "../../platform/db/client";
import { fitsOneMessage } from "../../platform/queues/send";
import { readMeta, writeMeta } from "./meta";
import { Outbox, type OutboxTarget } from "./outbox";
import { confirmProjected, type DeskProjectionState, deskProjectionState, nextDeskSeq } from "./reconcile";
import { DESK_SCHEMA_VERSION, deskSchemaVersion, migrateDesk } from "./schema";

/** A refusal the route turns into a problem (404 also covers cases outside the caller's scope). */
export interface DeskFailure {
  ok: false;
  status: 400 | 403 | 404 | 409 | 412 | 413 | 422;
  code: string;
  detail: string;
  currentVersion?: number;
  /** With `SLA_POLICY_NEEDED`: load this unit path's time-limit policy and send the command again. */
  policyPath?: string;
}

/** Test-only fault injection for the deadline steps of the alarm. */
export interface DeskFaults {
  /** Called inside a step's transaction after its writes: throwing rolls the step back. */
  beforeCommit?: (caseId: string, step: string) => void;
  /** Called after a step committed, before the alarm finishes. */
  afterCommit?: (caseId: string, step: string) => void;
}

export type CommandResult = { ok: true; record: CaseRecord } | DeskFailure;
export type CreateResult =
  | {
      ok: true;
      outcome: "created" | "replayed";
      record: CaseRecord;
      /** Possible duplicates among this desk's own cases, with the paths that decide who may read them. */
      duplicates: Array<DuplicateHint | ScopedDuplicateHint>;
    }
  | DeskFailure;

/**
 * One report for `create`/`createMany`. `requestHash` fingerprints the request for idempotent replays.
 * `duplicates` (older callers) are extra hints kept with the first result; the desk adds its own.
 */
export interface CreateInput {
  input: NewCase;
  owningUnit: UnitRef;
  requestHash: string;
  duplicates?: ScopedDuplicateHint[];
}

/** One report for `report`: the desk knows its own owning unit. */
export type ReportItem = Omit<CreateInput, "owningUnit" | "duplicates">;

/** The answer to `report`: one result per item, or a request to name the owning unit (a new desk). */
export type ReportAnswer = { ok: true; results: CreateResult[] } | { ok: false; needsOwner: true };

export interface CaseWithTimeline {
  record: CaseRecord;
  events: CaseEvent[];
  /** Possible duplicates: the desk's own at create, and the village's once computed; scoped by the reader. */
  duplicates?: Array<DuplicateHint | ScopedDuplicateHint>;
}

/** The time-limit rules a desk keeps for its owning unit's path, with the policy version they reflect. */
export interface DeskRules {
  version: number;
  /** When the desk stored them (ISO). */
  at: string;
  book: SlaRulesBook;
}

export type { OutboxTarget } from "./outbox";

/** After a failed flush the alarm retries, backing off from 5 s to 5 min. */
const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 5 * 60_000;
/** The alarm that backs up the post-commit flush when a command writes to the outbox. */
const SAFETY_NET_MS = 30_000;
/** Deadline steps taken per alarm run and case batch (the alarm re-arms for the rest). */
const STEP_BATCH = 200;
/** Cached rules older than this are refreshed in the background after a write (pushes are the main path). */
const RULES_TTL_MS = 15 * 60_000;
/** After libSQL failed to give a new desk its rules, creates use the defaults this long before trying again. */
const RULES_RETRY_MS = 30_000;
/** Village-hint jobs taken per round. */
const HINT_BATCH = 20;
/** How long after a report its village-wide hints are computed (see `afterCreate`). */
const HINT_DELAY_MS = 1_500;

const OPEN: ReadonlySet<CaseState> = new Set(OPEN_STATES);

const fail = (
  status: DeskFailure["status"],
  code: string,
  detail: string,
  currentVersion?: number,
): DeskFailure => ({ ok: false, status, code, detail, ...(currentVersion ? { currentVersion } : {}) });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The earlier of two times (epoch ms), null meaning none. */
const earliest = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));

/**
 * The per-grid case desk (网格工作台): one SQLite-backed Durable Object per owning unit, addressed by
 * `env.GRID_DESK.idFromName(unitId)`, and the only writer of that unit's cases.
 *
 * Every command is one synchronous `transactionSync`: read the case, check it with the pure lifecycle,
 * write the case, its event (gap-free per-case `seq`, version + 1) and an outbox row. Nothing is awaited
 * between the read and the write, so concurrent commands serialize on the case version. After the commit
 * the outbox is flushed to the `case-events` queue; an alarm retries whatever did not go out. Alarms may
 * run more than once; flushing is idempotent because consumers ignore a `seq` they already have.
 *
 * Time limits: a case's clock (deadlines computed by the pure lifecycle with the policy the route loaded and
 * passed in) is kept with the case, and its next step in the `deadlines` table. The single alarm is the
 * earliest of an outbox retry and the next step; the alarm takes every due step (warned → overdue →
 * escalate), each its own event in its own transaction with its outbox rows (`escalations` notices too), and
 * re-arms. A step already taken is never taken again, so repeated or retried alarms are harmless.
 *
 * @example
 * const desk = env.GRID_DESK.get(env.GRID_DESK.idFromName(gridId));
 * const result = await desk.command(caseId, { action: "accept" }, actor, 1);
 */
export class GridDesk extends DurableObject<Cloudflare.Env> {
  private readonly sql: SqlStorage;
  /** Queue bindings the outbox sends to, by queue name (tests swap in doubles). */
  outboxTargets: Record<string, OutboxTarget>;
  private readonly outbox: Outbox;
  private alarmAt: number | null = null;
  private flushing: Promise<void> | null = null;
  private flushAgain = false;
  /** The desk's clock (epoch ms); tests set it to drive deadlines without waiting. */
  clock: () => number = () => Date.now();
  /** Test-only fault injection (see `DeskFaults`). */
  faults: DeskFaults = {};
  private rulesRetryAt = 0;
  private refreshingRules: Promise<void> | null = null;
  private hinting: Promise<void> | null = null;
  /** Village-wide hints are due to be computed when this settles (see `afterCreate`). */
  private hintsDue: Promise<void> | null = null;
  /** A report queued village-hint work since the current hint run read its jobs. */
  private hintJobsAdded = false;
  /** Village-hint jobs done; their rows go with the desk's next write. */
  private readonly hintJobsDone = new Set<string>();
  /**
   * What the desk read from its `meta` table, kept in memory (undefined: not read yet). Every write of those
   * keys goes through this class and drops its copy, so a write in a transaction that rolls back leaves
   * nothing stale: the next read goes to storage again.
   */
  private memo: { owner?: UnitRef | null; rules?: DeskRules | null; closed?: boolean } = {};

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.outboxTargets = { "case-events": env.CASE_EVENTS, escalations: env.ESCALATIONS };
    this.outbox = new Outbox(ctx.storage, () => this.outboxTargets);
    void ctx.blockConcurrencyWhile(async () => {
      migrateDesk(ctx.storage);
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Reports a new case (idempotent by case id): created, a replay of the first result, or a refusal. */
  create(item: CreateInput, actor: Actor, sla?: SlaRulesBook | null): CreateResult {
    const now = this.nowIso();
    const book = this.withCachedRules(sla);
    const result = this.transact(() => this.createOne(item, actor, now, book));
    this.afterCreate([result]);
    return result;
  }

  /**
   * Reports cases in this desk's unit: the path of every new case, with no libSQL read for a desk that knows
   * its unit and rules. The desk's own owning unit wins over `owner`; a desk that has none yet answers
   * `needsOwner` and the caller asks again with the unit from the registry. Out of the actor's scope is 404
   * "No such unit". Time limits come from the rules the desk keeps (`putRules`); a desk that never had any
   * reads them once, outside the transaction (the built-in defaults, labelled so, if libSQL cannot answer).
   * Duplicate hints come from the desk's own cases; village-wide ones follow in the background.
   */
  async report(items: ReportItem[], actor: Actor, owner: UnitRef | null): Promise<ReportAnswer> {
    const unit = this.owningUnit() ?? owner;
    if (!unit) return { ok: false, needsOwner: true };
    if (!inScope(actor.unitPath, unit.path)) {
      return { ok: true, results: items.map(() => fail(404, "not-found", "No such unit")) };
    }
    const book = await this.rulesOf(unit);
    const now = this.nowIso();
    const results = this.transact(() =>
      items.map((item) => this.createOne({ ...item, owningUnit: unit }, actor, now, book)),
    );
    this.afterCreate(results);
    return { ok: true, results };
  }

  /**
   * Stores the time-limit rules for this desk's path (pushed after a policy change above it), unless the
   * desk already holds a newer version. Returns the version the desk holds afterwards.
   */
  putRules(book: SlaRulesBook, version: number): number {
    const held = this.cachedRules();
    if (held && held.version >= version) return held.version;
    this.storeRules(book, version);
    return version;
  }

  /** The rules this desk keeps, or null (operations and tests). */
  rules(): DeskRules | null {
    return this.cachedRules();
  }

  /**
   * Closes the desk ahead of its unit's deletion, atomically: refused with the number of cases if the desk
   * holds any, otherwise the desk is marked closed and refuses every new report (404 "No such unit") until
   * `reopen`. The check and the mark are one synchronous transaction, so no report can slip in between.
   *
   * @example
   * const closed = await desk.closeForDeletion();
   * if (!closed.ok) throw problems.conflict("unit-has-cases", `${closed.cases} cases`);
   */
  closeForDeletion(): { ok: true } | { ok: false; cases: number } {
    return this.ctx.storage.transactionSync(() => {
      const cases = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM cases").one().n;
      if (cases > 0) return { ok: false as const, cases };
      writeMeta(this.sql, "closed", "1");
      this.memo.closed = undefined;
      return { ok: true as const };
    });
  }

  /** Opens a closed desk again (its unit's deletion failed after `closeForDeletion`). */
  reopen(): void {
    this.sql.exec("DELETE FROM meta WHERE key = 'closed'");
    this.memo.closed = undefined;
  }

  /** Reports many cases (an offline phone's backlog) in one transaction; one result per item, in order. */
  createMany(items: CreateInput[], actor: Actor, sla?: SlaRulesBook | null): CreateResult[] {
    const now = this.nowIso();
    const book = this.withCachedRules(sla);
    const results = this.transact(() => items.map((item) => this.createOne(item, actor, now, book)));
    this.afterCreate(results);
    return results;
  }

  /**
   * Applies a command to a case. `expectedVersion` is the client's If-Match (null only for additive
   * commands such as attaching evidence): 404 unknown or out of scope, 412 stale, then the lifecycle's 409/403/400.
   * Time limits come from the rules the desk keeps for its own path, with `sla` (rules the route loaded)
   * over them; if a new clock needs a unit neither covers, nothing is written and the result asks for that
   * unit's policy (`SLA_POLICY_NEEDED`). Without `sla`, or with an `unavailable` one, such a clock runs on the
   * default policy.
   */
  command(
    caseId: string,
    command: CaseCommand,
    actor: Actor,
    expectedVersion: number | null,
    sla?: SlaRulesBook | null,
  ): CommandResult {
    const now = this.nowIso();
    const result = this.transact((): CommandResult => {
      const record = this.load(caseId);
      if (!record || !canSeeCase(actor, record)) return fail(404, "not-found", "No such case");
      if (expectedVersion !== null && expectedVersion !== record.version) {
        return fail(
          412,
          "stale-version",
          `The case is at version ${record.version}, not ${expectedVersion}`,
          record.version,
        );
      }
      let decision = decide(record, command, actor, now, this.withCachedRules(sla));
      if (!decision.ok && decision.code === SLA_POLICY_NEEDED && (!sla || sla.unavailable)) {
        decision = decide(record, command, actor, now, sla);
      }
      if (!decision.ok) {
        const failure = fail(decision.status, decision.code, decision.detail);
        return decision.policyPath ? { ...failure, policyPath: decision.policyPath } : failure;
      }
      const tooLarge = tooLargeToAnnounce(decision.event, decision.record);
      if (tooLarge) return tooLarge;
      this.update(record, decision.record, decision.event);
      return { ok: true, record: decision.record };
    });
    this.afterWrite(result.ok);
    return result;
  }

  /**
   * The watchdog's poke: takes any deadline step that is due (as the alarm would), flushes the outbox, makes
   * sure the alarm is armed, and returns the desk's next deadline step (ISO) or null.
   */
  async poke(): Promise<string | null> {
    try {
      await this.takeDueSteps();
      this.outbox.requeue(Date.now());
      await this.flush();
    } finally {
      this.alarmAt = null;
      this.rescheduleAlarm();
    }
    return iso(this.nextDeadlineAt());
  }

  /** One case with its full timeline, or null if this desk does not own it. Scope is the caller's check. */
  getCase(caseId: string): CaseWithTimeline | null {
    const record = this.load(caseId);
    if (!record) return null;
    const events = this.sql
      .exec<{ seq: number; type: string; at: string; actor: string; payload: string }>(
        "SELECT seq, type, at, actor, payload FROM events WHERE case_id = ? ORDER BY seq",
        caseId,
      )
      .toArray()
      .map((e) => ({
        caseId,
        seq: e.seq,
        type: e.type,
        at: e.at,
        actor: JSON.parse(e.actor),
        payload: JSON.parse(e.payload),
      }));
    return { record, events, duplicates: this.hintsOf(caseId) };
  }

  /** This desk's cases, newest first, optionally in one state; keyset-paged by (createdAt, id). */
  listCases(options: { state?: CaseState; limit: number; after?: [string, string] | null }): CaseRecord[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (options.state) {
      where.push("state = ?");
      args.push(options.state);
    }
    if (options.after) {
      where.push("(created_at < ? OR (created_at = ? AND id < ?))");
      args.push(options.after[0], options.after[0], options.after[1]);
    }
    args.push(options.limit);
    return this.sql
      .exec<{ doc: string }>(
        `SELECT doc FROM cases ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
        ...args,
      )
      .toArray()
      .map((r) => JSON.parse(r.doc) as CaseRecord);
  }

  /** The unit this desk belongs to, once it has a case (lets reads check scope without the registry). */
  owningUnit(): UnitRef | null {
    if (this.memo.owner === undefined) this.memo.owner = this.metaJson<UnitRef>("owning_unit");
    return this.memo.owner;
  }

  /** Outbox rows not yet sent (operations and tests). */
  pendingOutbox(): number {
    return this.outbox.pending();
  }

  /** Outbox rows set aside because they could never be sent as one queue message (operations and tests). */
  deadOutbox(): number {
    return this.outbox.dead();
  }

  /** The schema version of this desk's storage (`DESK_SCHEMA_VERSION` once it has started). */
  schemaVersion(): { version: number; latest: number } {
    return { version: deskSchemaVersion(this.sql), latest: DESK_SCHEMA_VERSION };
  }

  /**
   * Takes every deadline step that is due, retries the outbox, and re-arms for what is left. Safe to run any
   * number of times; if it throws, the steps it committed stay taken and the retry takes the rest.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    try {
      await this.takeDueSteps();
      this.outbox.requeue(Date.now());
      await this.flush();
      await this.runHintJobs();
    } finally {
      // Written with the alarm's own commit: a desk woken by its alarm is often evicted soon after.
      this.saveBookkeepingInThisTurn();
      this.rescheduleAlarm();
      if (this.pendingHintJobs()) this.scheduleAlarm(Date.now() + SAFETY_NET_MS);
    }
  }

  /**
   * A write transaction of the desk. It also writes the bookkeeping kept in memory since the last one (sent
   * marks and a confirmation, see `Outbox`; finished village-hint jobs), which then costs no commit
   * of its own. A rollback leaves that bookkeeping in memory.
   */
  private transact<T>(write: () => T): T {
    const result = this.ctx.storage.transactionSync(() => {
      this.writeBookkeeping();
      return write();
    });
    this.bookkeepingSaved();
    return result;
  }

  /** Writes the bookkeeping kept in memory; `bookkeepingSaved` once it is part of a commit. */
  private writeBookkeeping(): void {
    this.outbox.writeUnsaved();
    for (const id of this.hintJobsDone) this.sql.exec("DELETE FROM hint_jobs WHERE case_id = ?", id);
  }

  private bookkeepingSaved(): void {
    this.outbox.saved();
    this.hintJobsDone.clear();
  }

  /**
   * Writes the bookkeeping outside a transaction of its own: it commits with the other writes of this turn
   * (the alarm's move), one commit for both.
   */
  private saveBookkeepingInThisTurn(): void {
    this.writeBookkeeping();
    this.bookkeepingSaved();
  }

  private nowIso(): string {
    return new Date(this.clock()).toISOString();
  }

  /**
   * Takes the due deadline steps of every case, oldest first, one transaction per case. A step that needs
   * another unit's policy (an automatic escalation) is left for a second round, after the policies of those
   * units were read from libSQL outside any transaction (the defaults if libSQL is unavailable).
   */
  private async takeDueSteps(): Promise<void> {
    let book: SlaRulesBook | null = { unitIds: [], rules: {} };
    for (let round = 0; round < 2; round++) {
      const needed = new Set<string>();
      const done = new Set<string>();
      for (;;) {
        const now = this.clock();
        const due = this.sql
          .exec<{ case_id: string }>(
            "SELECT case_id FROM deadlines WHERE next_at <= ? ORDER BY next_at, case_id LIMIT ?",
            now,
            STEP_BATCH + done.size,
          )
          .toArray()
          .filter((r) => !done.has(r.case_id));
        if (due.length === 0) break;
        for (const { case_id: caseId } of due) {
          done.add(caseId);
          const path = this.takeStepsOf(caseId, new Date(now).toISOString(), book);
          if (path) needed.add(path);
        }
        if (due.length < STEP_BATCH) break;
      }
      if (needed.size === 0) return;
      book = await loadSlaRulesBook(getDb(this.env), [...needed]);
    }
  }

  /** Takes the due steps of one case; returns the unit path whose policy the next step needs, if any. */
  private takeStepsOf(caseId: string, now: string, book: SlaRulesBook | null): string | null {
    for (;;) {
      let needs: string | null = null;
      let taken: string | null = null;
      this.transact(() => {
        const record = this.load(caseId);
        if (!record) {
          this.sql.exec("DELETE FROM deadlines WHERE case_id = ?", caseId);
          return;
        }
        const clock = record.deadlines;
        const step = clock ? dueSlaSteps(clock, clock.step, now)[0] : undefined;
        const at = nextStepAt(record);
        if (!step || at === null || at > Date.parse(now)) {
          this.trackDeadline(record);
          return;
        }
        const decision = applySlaStep(record, step, now, this.withCachedRules(book));
        if (!decision.ok) {
          if (decision.code === SLA_POLICY_NEEDED && decision.policyPath) needs = decision.policyPath;
          else this.trackDeadline({ ...record, deadlines: null });
          return;
        }
        this.update(record, decision.record, decision.event);
        this.faults.beforeCommit?.(caseId, step);
        taken = step;
      });
      if (taken === null) return needs;
      this.faults.afterCommit?.(caseId, taken);
    }
  }

  private createOne(item: CreateInput, actor: Actor, now: string, sla?: SlaRulesBook | null): CreateResult {
    if (this.isClosed()) return fail(404, "not-found", "No such unit");
    const existing = this.sql
      .exec<{ request_hash: string; first: string }>(
        "SELECT request_hash, first FROM cases WHERE id = ?",
        item.input.id,
      )
      .toArray()[0];
    if (existing) {
      // The same id or Idempotency-Key again: the first result if it is the same request, else 422.
      if (existing.request_hash === item.requestHash) {
        const first = JSON.parse(existing.first) as { record: CaseRecord; duplicates: DuplicateHint[] };
        return { ok: true, outcome: "replayed", record: first.record, duplicates: first.duplicates };
      }
      return fail(
        422,
        "idempotency-key-reused",
        "This case id or Idempotency-Key was already used for a different report",
      );
    }
    const owner = this.owningUnit();
    if (owner && owner.id !== item.owningUnit.id) {
      return fail(400, "wrong-desk", "This desk belongs to another unit");
    }
    const decision = reportCase(item.input, actor, item.owningUnit, now, sla);
    if (!decision.ok) return fail(decision.status, decision.code, decision.detail);
    const tooLarge = tooLargeToAnnounce(decision.event, decision.record);
    if (tooLarge) return tooLarge;
    if (!owner) {
      writeMeta(this.sql, "owning_unit", JSON.stringify(item.owningUnit));
      this.memo.owner = undefined;
    }
    const duplicates = mergeDuplicateHints(item.duplicates ?? [], this.localHints(decision.record, now));
    const doc = JSON.stringify(decision.record);
    const { lat, lng } = decision.record.location ?? {};
    this.sql.exec(
      "INSERT INTO cases (id, state, version, created_at, updated_at, request_hash, first, doc, type, lat, lng) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      decision.record.id,
      decision.record.state,
      decision.record.version,
      decision.record.createdAt,
      decision.record.updatedAt,
      item.requestHash,
      // The first result, as `{ record, duplicates }`: the record's JSON is `doc`, not serialized twice.
      `{"record":${doc},"duplicates":${JSON.stringify(duplicates)}}`,
      doc,
      decision.record.type,
      lat ?? null,
      lng ?? null,
    );
    if (lat !== undefined && lng !== undefined) {
      this.sql.exec("INSERT OR IGNORE INTO hint_jobs (case_id) VALUES (?)", decision.record.id);
      this.hintJobsAdded = true;
    }
    this.trackDeadline(decision.record);
    this.record(decision.event, decision.record);
    return { ok: true, outcome: "created", record: decision.record, duplicates };
  }

  /** Possible duplicates of a new case among this desk's own open cases (an index range, then the rule). */
  private localHints(record: CaseRecord, now: string): ScopedDuplicateHint[] {
    const report = reportOf(record);
    if (!report) return [];
    const box = boundingBox(report, DUPLICATE_RADIUS_M);
    const nowMs = Date.parse(now);
    // Type, box and window in SQL; the open states and the rule itself in `duplicateHintsAmong`. A short
    // statement: each desk prepares its own, and most desks take a report or two before they are evicted.
    const candidates = this.sql
      .exec<{ state: string; doc: string }>(
        `SELECT state, doc FROM cases
         WHERE type = ? AND lat BETWEEN ? AND ? AND lng BETWEEN ? AND ? AND created_at >= ? LIMIT 200`,
        report.type,
        box.minLat,
        box.maxLat,
        box.minLng,
        box.maxLng,
        new Date(nowMs - DUPLICATE_WINDOW_MS).toISOString(),
      )
      .toArray()
      .filter((r) => OPEN.has(r.state as CaseState))
      .map((r) => JSON.parse(r.doc) as CaseRecord);
    return duplicateHintsAmong(report, candidates, nowMs);
  }

  /** The hints of a case: its desk's own from the create, and the village's once computed. */
  private hintsOf(caseId: string): Array<DuplicateHint | ScopedDuplicateHint> {
    const first = this.sql
      .exec<{ first: string }>("SELECT first FROM cases WHERE id = ?", caseId)
      .toArray()[0];
    const local = first
      ? ((JSON.parse(first.first) as { duplicates?: ScopedDuplicateHint[] }).duplicates ?? [])
      : [];
    const village = this.sql
      .exec<{ hints: string }>("SELECT hints FROM village_hints WHERE case_id = ?", caseId)
      .toArray()[0];
    const wide = village ? (JSON.parse(village.hints) as ScopedDuplicateHint[]) : [];
    return mergeDuplicateHints(local, wide);
  }

  /** Whether village-hint jobs are waiting (the done ones are rows still, until the next write). */
  private pendingHintJobs(): boolean {
    const rows = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM hint_jobs").one().n;
    return rows > this.hintJobsDone.size;
  }

  /**
   * Computes village-wide hints for new cases from the projection, outside any case transaction, and keeps
   * them with the case. Concurrent callers share one run; what fails waits for the alarm.
   */
  private runHintJobs(): Promise<void> {
    if (this.hinting) return this.hinting;
    this.hinting = (async () => {
      try {
        for (;;) {
          this.hintJobsAdded = false;
          // The jobs with what the hint rule needs of their cases, in one read (no case documents parsed):
          // every case of a desk is owned by the desk's own unit.
          const path = this.owningUnit()?.path ?? null;
          const rows = this.sql
            .exec<{ id: string; type: CaseType | null; lat: number | null; lng: number | null }>(
              `SELECT j.case_id AS id, c.type, c.lat, c.lng
               FROM hint_jobs j LEFT JOIN cases c ON c.id = j.case_id LIMIT ?`,
              HINT_BATCH + this.hintJobsDone.size,
            )
            .toArray()
            .filter((r) => !this.hintJobsDone.has(r.id))
            .slice(0, HINT_BATCH);
          if (rows.length === 0) return;
          const jobs = rows.map((r) => r.id);
          const reports = rows.flatMap(({ id, type, lat, lng }): DuplicateReport[] =>
            type && path && lat !== null && lng !== null
              ? [{ id, type, owningUnitPath: path, lat, lng }]
              : [],
          );
          const now = this.clock();
          const found = reports.length ? await villageDuplicateHints(this.env, reports, now) : new Map();
          const kept = [...found].filter(([, hints]) => hints.length > 0);
          const at = new Date(now).toISOString();
          // The jobs are done: their rows go with the next write, the one below if there are hints to keep
          // (computed again if the desk restarts first).
          for (const id of jobs) this.hintJobsDone.add(id);
          if (kept.length > 0) {
            this.transact(() => {
              for (const [id, hints] of kept) {
                this.sql.exec(
                  `INSERT INTO village_hints (case_id, hints, at) VALUES (?, ?, ?)
                   ON CONFLICT (case_id) DO UPDATE SET hints = excluded.hints, at = excluded.at`,
                  id,
                  JSON.stringify(hints),
                  at,
                );
              }
            });
          }
          // A short batch was the last, unless reports came in while this one waited on libSQL.
          if (jobs.length < HINT_BATCH && !this.hintJobsAdded) return;
        }
      } catch (error) {
        console.error(JSON.stringify({ kind: "village-hints-failed", error: String(error) }));
      } finally {
        this.hinting = null;
        this.settleAlarm();
      }
    })();
    return this.hinting;
  }

  /** The rules this desk keeps, or null if it never had any. */
  private cachedRules(): DeskRules | null {
    if (this.memo.rules === undefined) this.memo.rules = this.metaJson<DeskRules>("sla_rules");
    return this.memo.rules;
  }

  /** A JSON value of the desk's `meta` table, or null if it has none. */
  private metaJson<T>(key: string): T | null {
    const value = readMeta(this.sql, key);
    return value === null ? null : (JSON.parse(value) as T);
  }

  private storeRules(book: SlaRulesBook, version: number): void {
    const value: DeskRules = {
      version,
      at: new Date().toISOString(),
      book: { unitIds: book.unitIds, rules: book.rules },
    };
    writeMeta(this.sql, "sla_rules", JSON.stringify(value));
    this.memo.rules = undefined;
  }

  /**
   * `sla` with the rules this desk keeps beneath it: what the caller loaded wins for its units, the desk's
   * copy covers the rest of its path. An `unavailable` or missing `sla` leaves the desk's copy alone.
   */
  private withCachedRules(sla: SlaRulesBook | null | undefined): SlaRulesBook | null | undefined {
    const held = this.cachedRules();
    if (!held) return sla;
    if (!sla || sla.unavailable) return held.book;
    return {
      unitIds: [...new Set([...held.book.unitIds, ...sla.unitIds])],
      rules: { ...held.book.rules, ...sla.rules },
    };
  }

  /**
   * The rules for a report in `unit`. A desk that has them never waits on libSQL (a copy past its TTL is
   * refreshed in the background); a desk that never had any reads them once, before the transaction, and
   * runs on the built-in defaults (clocks labelled `default`) if libSQL cannot answer.
   */
  private async rulesOf(unit: UnitRef): Promise<SlaRulesBook | null> {
    const held = this.cachedRules();
    if (held) {
      if (Date.now() - Date.parse(held.at) > RULES_TTL_MS) this.refreshRulesInBackground(unit);
      return held.book;
    }
    if (Date.now() < this.rulesRetryAt) return null;
    const version = Date.now();
    const book = await loadSlaRulesBook(getDb(this.env), [unit.path]);
    if (book.unavailable) {
      this.rulesRetryAt = Date.now() + RULES_RETRY_MS;
      return null;
    }
    this.putRules(book, version);
    return this.cachedRules()?.book ?? book;
  }

  private refreshRulesInBackground(unit: UnitRef): void {
    if (this.refreshingRules) return;
    const version = Date.now();
    this.refreshingRules = loadSlaRulesBook(getDb(this.env), [unit.path])
      .then((book) => {
        if (!book.unavailable) this.putRules(book, version);
      })
      .finally(() => {
        this.refreshingRules = null;
      });
    this.ctx.waitUntil(this.refreshingRules);
  }

  /**
   * After reports: flush as after any write, and compute village-wide hints a moment later. The delay lets
   * the projection take in the reports of the last second (a duplicate is usually reported by several people
   * at once, from other grids) and makes one libSQL read of the reports a desk takes meanwhile. A timer, not
   * the storage alarm, which would cost a write and a run of every alarm step per report; if the desk is
   * evicted first, the jobs wait in `hint_jobs` for the safety-net alarm `afterWrite` set.
   */
  private afterCreate(results: CreateResult[]): void {
    const created = results.some((r) => r.ok && r.outcome === "created");
    this.afterWrite(created);
    if (!created || this.hintsDue) return;
    this.hintsDue = new Promise<void>((resolve) => setTimeout(resolve, HINT_DELAY_MS)).then(() => {
      this.hintsDue = null;
      return this.runHintJobs();
    });
    this.ctx.waitUntil(this.hintsDue);
  }

  /** Whether the desk was closed for its unit's deletion. */
  private isClosed(): boolean {
    this.memo.closed ??= readMeta(this.sql, "closed") !== null;
    return this.memo.closed;
  }

  private load(caseId: string): CaseRecord | null {
    const row = this.sql.exec<{ doc: string }>("SELECT doc FROM cases WHERE id = ?", caseId).toArray()[0];
    return row ? (JSON.parse(row.doc) as CaseRecord) : null;
  }

  /** Stores a changed case with its event and outbox rows; runs inside the command's transaction. */
  private update(before: CaseRecord, after: CaseRecord, event: CaseEvent): void {
    this.sql.exec(
      "UPDATE cases SET state = ?, version = ?, updated_at = ?, doc = ? WHERE id = ?",
      after.state,
      after.version,
      after.updatedAt,
      JSON.stringify(after),
      after.id,
    );
    this.trackDeadline(after);
    this.record(event, after);
    for (const message of escalationMessagesFor(before, after, event)) {
      this.outbox.add("escalations", message);
    }
  }

  /** Keeps the case's next deadline step in `deadlines` (or removes it when none is left). */
  private trackDeadline(record: CaseRecord): void {
    const at = nextStepAt(record);
    if (at === null) this.sql.exec("DELETE FROM deadlines WHERE case_id = ?", record.id);
    else {
      this.sql.exec(
        "INSERT INTO deadlines (case_id, next_at) VALUES (?, ?) ON CONFLICT (case_id) DO UPDATE SET next_at = excluded.next_at",
        record.id,
        at,
      );
    }
  }

  /** The earliest next deadline step of this desk's cases (epoch ms), or null. */
  private nextDeadlineAt(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT min(next_at) AS at FROM deadlines").one().at;
  }

  /** Appends the event (with the desk's next `dseq`) and its outbox row; runs inside the command's transaction. */
  private record(event: CaseEvent, record: CaseRecord): void {
    const dseq = nextDeskSeq(this.sql);
    this.sql.exec(
      "INSERT INTO events (case_id, seq, type, at, actor, payload, dseq) VALUES (?, ?, ?, ?, ?, ?, ?)",
      event.caseId,
      event.seq,
      event.type,
      event.at,
      JSON.stringify(event.actor),
      JSON.stringify(event.payload),
      dseq,
    );
    const desk = { id: this.ctx.id.toString(), dseq };
    this.outbox.add("case-events", caseEventMessage(event, record, iso(this.nextDeadlineAt()), desk), dseq);
  }

  /** After a commit: make sure an alarm backs up the outbox, then flush it without holding up the caller. */
  private afterWrite(wrote: boolean): void {
    if (!wrote) return;
    this.scheduleAlarm(Date.now() + SAFETY_NET_MS);
    const flushing = this.flush().catch((error: unknown) => {
      console.error(JSON.stringify({ kind: "outbox-flush-failed", error: String(error) }));
    });
    this.ctx.waitUntil(flushing);
  }

  /**
   * Sends every outbox row, oldest first, deleting each chunk once the queue accepted it. Concurrent callers
   * share one run; a call during a run makes it go round once more, so rows are batched under load.
   */
  private flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      let sent = false;
      try {
        do {
          this.flushAgain = false;
          await this.outbox.send();
        } while (this.flushAgain);
        sent = true;
      } finally {
        this.flushing = null;
        // Everything went out: the alarm needs only the resends of what was sent and the deadline steps.
        if (sent) this.scheduleAlarm(earliest(this.outbox.nextMarkResendAt(), this.nextDeadlineAt()));
        else this.rescheduleAlarm();
      }
    })();
    return this.flushing;
  }

  /** The time the alarm should next fire: the earliest of an outbox retry and the next deadline step. */
  private nextAlarmAt(): number | null {
    const { attempts, resendAt: resend } = this.outbox.schedule();
    const step = this.nextDeadlineAt();
    // Case events the projection has not confirmed are sent again from their resend time (reconcile.ts).
    const deadline = earliest(resend, step);
    if (attempts === null) return deadline;
    const retry = Date.now() + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempts, 10));
    return deadline === null ? retry : Math.min(retry, deadline);
  }

  /**
   * Arms the alarm for what is still pending. When nothing is, an alarm already set stays: it will find
   * nothing to do, which is cheaper than deleting and re-setting it around every command.
   */
  private rescheduleAlarm(): void {
    const at = this.nextAlarmAt();
    if (at !== null) this.scheduleAlarm(at);
  }

  /** Sets the alarm to `at` unless an earlier one is already set (or `at` is null). */
  private scheduleAlarm(at: number | null): void {
    if (at === null || (this.alarmAt !== null && this.alarmAt <= at)) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /**
   * The projection holds every event of this desk up to `dseq` (called by the `case-events` consumer after
   * it committed): their outbox rows are dropped and no longer sent again. Returns the confirmed `dseq`.
   */
  confirmProjected(dseq: number): number {
    const confirmed = confirmProjected(this.sql, this.outbox, dseq);
    this.settleAlarm();
    return confirmed;
  }

  /**
   * Moves the alarm later once only deadline steps need it: no outbox row left to send or to confirm, no
   * village-hint job, no flush or hint run under way. The safety net armed at every write then does not wake
   * an idle desk (a new instance, its storage opened again) only to find nothing to do: the alarm waits for
   * the next deadline step, or is deleted when there is none.
   */
  private settleAlarm(): void {
    if (this.alarmAt === null || this.flushing || this.hinting || this.hintsDue) return;
    if (this.outbox.inFlight() || this.pendingHintJobs()) return;
    // Nothing left in flight: the bookkeeping kept in memory is written, in the commit that moves the alarm.
    this.saveBookkeepingInThisTurn();
    const step = this.nextDeadlineAt();
    if (step !== null && step <= this.alarmAt) return;
    this.alarmAt = step;
    if (step === null) void this.ctx.storage.deleteAlarm();
    else void this.ctx.storage.setAlarm(step);
  }

  /**
   * The reconciler's poke (the cron watchdog, operations): sends again every case event the projection has not
   * confirmed and that was sent at least `minAgeMs` ago (default: all of them), then reports where the desk
   * stands. Idempotent: the consumers ignore what they already hold.
   */
  async reconcile(options: { minAgeMs?: number } = {}): Promise<DeskProjectionState & { resent: number }> {
    const resent = this.outbox.requeue(Date.now(), options.minAgeMs ?? 0);
    try {
      await this.flush();
    } finally {
      this.rescheduleAlarm();
    }
    return { ...deskProjectionState(this.sql, this.outbox), resent };
  }

  /** What this desk knows of its projection: last and confirmed `dseq`, unconfirmed and unsent events. */
  projectionState(): DeskProjectionState {
    return deskProjectionState(this.sql, this.outbox);
  }

  /**
   * Sets the first wait for a confirmation before a case event is sent again, for events already waiting too,
   * and re-arms the alarm for it (tests: "the wait is over").
   */
  setResendAfter(ms: number): void {
    this.outbox.setResendAfter(ms);
    this.rescheduleAlarm();
  }
}

/** The `case-events` message announcing `event`, with the case as it is after it. */
function caseEventMessage(
  event: CaseEvent,
  record: CaseRecord,
  deskNextAlarmAt: string | null,
  desk: { id: string; dseq: number },
): CaseEventMessage {
  const { caseId, seq } = event;
  return {
    kind: "case-event",
    caseId,
    seq,
    event,
    record,
    deskNextAlarmAt,
    deskId: desk.id,
    dseq: desk.dseq,
  };
}

/**
 * A change whose `case-events` message could not be sent as one queue message is refused before anything is
 * written (413), so nothing is accepted that the projection would never see. The alarm time is a placeholder
 * of the same length as the real one.
 */
function tooLargeToAnnounce(event: CaseEvent, record: CaseRecord): DeskFailure | null {
  const desk = { id: "0".repeat(64), dseq: Number.MAX_SAFE_INTEGER };
  if (fitsOneMessage(caseEventMessage(event, record, new Date(0).toISOString(), desk))) {
    return null;
  }
  return fail(
    413,
    "message-too-large",
    "The case with this change is too large to publish; shorten the text",
  );
}

/** A case as duplicate hints look at it, or null without a position. */
function reportOf(record: CaseRecord): DuplicateReport | null {
  const { lat, lng } = record.location ?? {};
  if (lat === undefined || lng === undefined) return null;
  return { id: record.id, type: record.type, owningUnitPath: record.owningUnit.path, lat, lng };
}
