import type { InStatement } from "@libsql/client/web";
import { rollupStatementsForEvents } from "../db/repos/figures";
import { markInboxHandledForCaseStatement } from "../db/repos/inbox";
import { type DeskBatch, deskWatermarkStatements } from "../db/repos/projection";
import { offerWebhookOutbox, type WebhookEvent, webhookOutboxStatement } from "../db/repos/webhooks";
import { villageOfPath } from "../domain/case-duplicates";
import type { CaseEventMessage } from "../domain/case-model";
import { webhookKindForCaseEvent } from "../domain/webhook-signature";
import type { GridDesk } from "../durable/grid-desk/grid-desk";
import { type AuditEntry, GuardFailed, writeAudited } from "../platform/db/audit";
import { type Db, getDb } from "../platform/db/client";
import { DEAD_LETTER_BACKOFF, defineConsumer, exponentialBackoff } from "../platform/queues/consume";
import { CaseEventMessageSchema, DeadLetterSchema } from "./messages";

/** Retry delay for the n-th attempt: 2 s, 4 s, 8 s … capped at a minute. */
const projectionRetryDelay = exponentialBackoff({ base: 2, max: 60 });

/**
 * The `case-events` consumer: projects GridDesk events into libSQL (`cases`, `case_events`) and appends an
 * audit row for each newly seen event. Idempotent and order-tolerant: a case row only moves forward to a
 * higher `seq`, events are keyed by (case id, seq), so duplicated, reordered or redelivered messages change
 * nothing. The whole batch is one libSQL write; messages are acked only after it commits and retried (with
 * backoff) if it fails, until `max_retries` sends them to `case-events-dlq`. A malformed message is recorded
 * as a dead letter in the audit log at once and acked.
 */
export const consumeCaseEvents = defineConsumer({
  name: "case-events",
  schema: CaseEventMessageSchema,
  backoff: projectionRetryDelay,
  poison: { record: (messages, env, queue) => recordDeadLetters(env, messages, queue, "malformed") },
  handle: (deliveries, env) =>
    projectCaseEvents(
      env,
      deliveries.map((d) => d.body),
    ),
});

/**
 * The `case-events-dlq` consumer: events that exhausted their retries. It tries once more to project them
 * (they carry the full case, so a late success heals the projection) and records every one as a failed
 * audit row either way, so nothing disappears silently.
 */
export const consumeCaseEventDeadLetters = defineConsumer({
  name: "case-events-dlq",
  schema: DeadLetterSchema,
  backoff: DEAD_LETTER_BACKOFF,
  poison: { logOnly: true },
  handle: async (deliveries, env, { queue }) => {
    const projectable = deliveries.flatMap((d) => {
      const parsed = CaseEventMessageSchema.safeParse(d.body);
      return parsed.success ? [parsed.data] : [];
    });
    let projected = false;
    try {
      await projectCaseEvents(env, projectable);
      projected = projectable.length > 0;
    } catch (error) {
      console.error(JSON.stringify({ kind: "case-dead-letter-projection-failed", error: String(error) }));
    }
    await recordDeadLetters(env, deliveries, queue, projected ? "projected-late" : "dead-letter");
  },
});

const UPSERT_CASE = `INSERT INTO cases (
    id, owning_unit_id, owning_unit_path, village_id, responsible_unit_id, responsible_unit_path,
    responsible_level, responsible_department, coordinator_unit_id, type, severity, state, title, description,
    address, lat, lng, reporter_id, version, seq, created_at, updated_at, closed_at, projected_at, doc,
    resolved_at, resolved_level, overdue, escalation_count)
  VALUES (?1, ?2, COALESCE((SELECT path FROM units WHERE id = ?2), ?3), ?4, ?5,
    COALESCE((SELECT path FROM units WHERE id = ?5), ?6), ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
    ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)
  ON CONFLICT (id) DO UPDATE SET
    responsible_unit_id = excluded.responsible_unit_id,
    responsible_unit_path = excluded.responsible_unit_path,
    responsible_level = excluded.responsible_level,
    responsible_department = excluded.responsible_department,
    coordinator_unit_id = excluded.coordinator_unit_id,
    type = excluded.type, severity = excluded.severity, state = excluded.state, title = excluded.title,
    description = excluded.description, address = excluded.address, lat = excluded.lat, lng = excluded.lng,
    version = excluded.version, seq = excluded.seq, updated_at = excluded.updated_at,
    closed_at = excluded.closed_at, projected_at = excluded.projected_at, doc = excluded.doc,
    resolved_at = excluded.resolved_at, resolved_level = excluded.resolved_level, overdue = excluded.overdue,
    escalation_count = excluded.escalation_count
  WHERE excluded.seq > cases.seq AND excluded.owning_unit_id = cases.owning_unit_id`;

/** Each desk's next deadline step, for the alarm watchdog; a row only moves forward in `as_of`. */
const UPSERT_DESK_ALARM = `INSERT INTO desk_alarms (desk_id, next_alarm_at, as_of) VALUES (?, ?, ?)
  ON CONFLICT (desk_id) DO UPDATE SET next_alarm_at = excluded.next_alarm_at, as_of = excluded.as_of
  WHERE excluded.as_of >= desk_alarms.as_of`;

const INSERT_EVENT = `INSERT INTO case_events
    (case_id, seq, type, actor_id, actor_role, actor_unit_id, at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (case_id, seq) DO NOTHING`;

/** Rounds of re-reading when another batch projected some of the same events at the same moment. */
const RACE_ROUNDS = 4;

/**
 * Writes events into the libSQL projection in one write: the newest snapshot per case (guarded by seq), every
 * event (skipped if present), an audit row per event not seen before, each desk's next deadline step (for the
 * watchdog), each desk's projection watermark (the highest `dseq` up to which every event is held, advanced
 * only contiguously), and — when a user of a unit acted on a case — that unit's inbox items about the case
 * marked handled. Events not seen before that other systems may subscribe to are written to `webhook_outbox`
 * in the same write.
 *
 * "Not seen before" is decided inside the write: the insert of each event believed new must insert its row
 * (`mustChange`), so if another batch projected the same event in the meantime the whole write rolls back
 * and is redone with a fresh read. Two batches carrying the same events at once therefore audit and offer
 * each event once.
 *
 * After the commit, each desk is told its watermark (`confirmProjected`: it stops sending those events again)
 * and the webhook offers are sent. Neither can undo the projection: a desk not told sends its events again
 * (a no-op here that confirms anew), and an offer not sent stays in the outbox for the cron sweep.
 */
export async function projectCaseEvents(env: Cloudflare.Env, messages: CaseEventMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const db = getDb(env);
  for (let round = 1; ; round++) {
    const plan = await planProjection(db, messages);
    let results: Awaited<ReturnType<typeof writeAudited>>;
    try {
      results = await writeAudited(db, plan.statements, plan.audits, { mustChange: plan.mustChange });
    } catch (error) {
      if (error instanceof GuardFailed && round < RACE_ROUNDS) continue;
      throw error;
    }
    const watermarks = [...plan.watermarks].map(([deskId, index]) => ({
      deskId,
      dseq: Number(results[index]?.rows[0]?.projected_dseq ?? 0),
    }));
    await Promise.all([confirmToDesks(env, watermarks), offerWebhookOutbox(env, db, plan.hooks)]);
    return;
  }
}

/** Tells each desk how far the projection holds its events; a desk that cannot be reached is told next time. */
async function confirmToDesks(
  env: Cloudflare.Env,
  watermarks: ReadonlyArray<{ deskId: string; dseq: number }>,
): Promise<void> {
  await Promise.all(
    watermarks
      .filter((w) => w.dseq > 0)
      .map(async ({ deskId, dseq }) => {
        try {
          const desk = env.GRID_DESK.get(env.GRID_DESK.idFromString(deskId)) as DurableObjectStub<GridDesk>;
          await desk.confirmProjected(dseq);
        } catch (error) {
          console.error(
            JSON.stringify({ kind: "projection-confirm-failed", deskId, dseq, error: String(error) }),
          );
        }
      }),
  );
}

interface ProjectionPlan {
  statements: InStatement[];
  /** Indices of the event inserts that must insert their row (the events believed new). */
  mustChange: number[];
  audits: AuditEntry[];
  hooks: WebhookEvent[];
  /** Per desk id, the index of the statement that returns its new watermark. */
  watermarks: Map<string, number>;
}

/** The batch's events that carry a desk sequence number, by desk. */
function deskBatches(messages: readonly CaseEventMessage[]): DeskBatch[] {
  const desks = new Map<string, DeskBatch>();
  for (const m of messages) {
    if (m.deskId === undefined || m.dseq === undefined) continue;
    let desk = desks.get(m.deskId);
    if (!desk) {
      const owner = m.record.owningUnit;
      desk = { deskId: m.deskId, unitId: owner.id, unitPath: owner.path, events: [] };
      desks.set(m.deskId, desk);
    }
    desk.events.push({ dseq: m.dseq, caseId: m.caseId, seq: m.seq, at: m.event.at });
  }
  return [...desks.values()];
}

/** Reads which events are already projected and builds the write for the rest. */
async function planProjection(db: Db, messages: CaseEventMessage[]): Promise<ProjectionPlan> {
  const latest = new Map<string, CaseEventMessage>();
  const events = new Map<string, CaseEventMessage>();
  for (const m of messages) {
    const current = latest.get(m.caseId);
    if (!current || current.seq < m.seq) latest.set(m.caseId, m);
    events.set(`${m.caseId}|${m.seq}`, m);
  }
  const caseIds = [...latest.keys()];
  const known = await db.$client.execute({
    sql: `SELECT case_id, seq FROM case_events WHERE case_id IN (${caseIds.map(() => "?").join(",")})`,
    args: caseIds,
  });
  const seen = new Set(known.rows.map((r) => `${r.case_id}|${r.seq}`));
  const now = new Date().toISOString();
  const statements: InStatement[] = [];
  for (const m of latest.values()) statements.push(upsertCase(m, now));
  const desks = new Map<string, CaseEventMessage>();
  for (const m of messages) {
    if (m.deskNextAlarmAt === undefined) continue;
    const current = desks.get(m.record.owningUnit.id);
    if (!current || current.event.at <= m.event.at) desks.set(m.record.owningUnit.id, m);
  }
  for (const [deskId, m] of desks) {
    statements.push({ sql: UPSERT_DESK_ALARM, args: [deskId, m.deskNextAlarmAt ?? null, m.event.at] });
  }
  const watermarks = new Map<string, number>();
  for (const desk of deskBatches(messages)) {
    const { statements: deskStatements, watermarkAt } = deskWatermarkStatements(desk, now);
    watermarks.set(desk.deskId, statements.length + watermarkAt);
    statements.push(...deskStatements);
  }
  const mustChange: number[] = [];
  const hooks: WebhookEvent[] = [];
  const audits: AuditEntry[] = [];
  const nowMs = Date.parse(now);
  const fresh: CaseEventMessage[] = [];
  for (const [key, m] of events) {
    const e = m.event;
    const actor = "userId" in e.actor ? e.actor : null;
    statements.push({
      sql: INSERT_EVENT,
      args: [
        e.caseId,
        e.seq,
        e.type,
        actor?.userId ?? null,
        actor?.role ?? null,
        actor?.unitId ?? null,
        e.at,
        JSON.stringify(e.payload),
      ],
    });
    if (seen.has(key)) continue;
    mustChange.push(statements.length - 1);
    fresh.push(m);
    if (actor) statements.push(markInboxHandledForCaseStatement(actor.unitId, e.caseId, e.at));
    const hook = webhookEventOf(m);
    if (hook) {
      hooks.push(hook);
      statements.push(webhookOutboxStatement(db, hook, nowMs));
    }
    audits.push({
      actorId: actor?.userId ?? null,
      actorRole: actor?.role ?? null,
      scopePath: m.record.owningUnit.path,
      action: `case.${e.type}`,
      objectType: "case",
      objectId: e.caseId,
      outcome: "success",
      requestId: null,
      detail: { seq: e.seq, at: e.at },
    });
  }
  // Roll-ups count only events first seen here, in this write: a replay rolls back with the event inserts.
  statements.push(...rollupStatementsForEvents(fresh));
  return { statements, mustChange, audits, hooks, watermarks };
}

/** The newest snapshot of a case, written only over an older `seq` of the same owner. */
function upsertCase(m: CaseEventMessage, now: string): InStatement {
  const r = m.record;
  return {
    sql: UPSERT_CASE,
    args: [
      r.id,
      r.owningUnit.id,
      r.owningUnit.path,
      villageOfPath(r.owningUnit.path),
      r.responsibleUnit.id,
      r.responsibleUnit.path,
      r.responsibleUnit.level,
      r.responsibleUnit.department,
      r.coordinatorUnit?.id ?? null,
      r.type,
      r.severity,
      r.state,
      r.title,
      r.description,
      r.location?.address ?? null,
      r.location?.lat ?? null,
      r.location?.lng ?? null,
      r.reporter.userId,
      r.version,
      r.seq,
      r.createdAt,
      r.updatedAt,
      r.closedAt,
      now,
      JSON.stringify(r),
      r.resolution?.at ?? null,
      r.resolution ? r.responsibleUnit.level : null,
      r.overdue ? 1 : 0,
      r.escalationCount ?? 0,
    ],
  };
}

/** The webhook event of a case event other systems may subscribe to, or null. */
function webhookEventOf(m: CaseEventMessage): WebhookEvent | null {
  const e = m.event;
  const kind = webhookKindForCaseEvent(e.type);
  if (!kind) return null;
  return {
    id: `${e.caseId}:${e.seq}`,
    kind,
    at: e.at,
    unitPath: m.record.owningUnit.path,
    caseId: e.caseId,
    data: {
      caseId: e.caseId,
      seq: e.seq,
      type: e.type,
      payload: e.payload,
      state: m.record.state,
      severity: m.record.severity,
      title: m.record.title,
      responsibleUnitId: m.record.responsibleUnit.id,
      responsibleLevel: m.record.responsibleUnit.level,
    },
  };
}

/** Records messages that cannot be projected as failed audit rows (scoped to the case's unit when known). */
async function recordDeadLetters(
  env: Cloudflare.Env,
  messages: ReadonlyArray<{ id: string; attempts: number; body: unknown }>,
  queue: string,
  reason: string,
): Promise<void> {
  const entries: AuditEntry[] = messages.map((m) => {
    const parsed = CaseEventMessageSchema.safeParse(m.body);
    const body = parsed.success ? parsed.data : null;
    return {
      actorId: null,
      actorRole: null,
      scopePath: body?.record.owningUnit.path ?? "/",
      action: "case-event.dead-letter",
      objectType: "case",
      objectId: body?.caseId ?? null,
      outcome: "failure",
      requestId: null,
      detail: {
        queue,
        reason,
        messageId: m.id,
        attempts: m.attempts,
        seq: body?.seq ?? null,
        eventType: body?.event.type ?? null,
        ...(body ? {} : { body: JSON.stringify(m.body ?? null).slice(0, 2000) }),
      },
    };
  });
  await writeAudited(getDb(env), [], entries);
}
