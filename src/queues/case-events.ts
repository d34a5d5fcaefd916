import type { InStatement } from "@libsql/client/web";
import { markInboxHandledForCaseStatement } from "../db/repos/inbox";
import { enqueueWebhookEvents, type WebhookEvent } from "../db/repos/webhooks";
import { villageOfPath } from "../domain/case-duplicates";
import { CASE_STATES, type CaseEventMessage } from "../domain/case-model";
import { webhookKindForCaseEvent } from "../domain/webhook-signature";
import { type AuditEntry, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";

/**
 * The `case-events` consumer: projects GridDesk events into libSQL (`cases`, `case_events`) and appends an
 * audit row for each newly seen event. Idempotent and order-tolerant: a case row only moves forward to a
 * higher `seq`, events are keyed by (case id, seq), so duplicated, reordered or redelivered messages change
 * nothing. The whole batch is one libSQL write transaction; messages are acked only after it commits and
 * retried (with backoff) if it fails, until `max_retries` sends them to `case-events-dlq`.
 */
export async function consumeCaseEvents(batch: MessageBatch<unknown>, env: Cloudflare.Env): Promise<void> {
  const valid: Array<{ message: Message<unknown>; body: CaseEventMessage }> = [];
  const malformed: Message<unknown>[] = [];
  for (const message of batch.messages) {
    if (isCaseEventMessage(message.body)) valid.push({ message, body: message.body });
    else malformed.push(message);
  }
  try {
    await projectCaseEvents(
      env,
      valid.map((v) => v.body),
    );
    for (const v of valid) v.message.ack();
  } catch (error) {
    const attempts = Math.max(1, ...valid.map((v) => v.message.attempts));
    console.error(
      JSON.stringify({
        kind: "case-projection-failed",
        messages: valid.length,
        attempts,
        error: String(error),
      }),
    );
    for (const v of valid) v.message.retry({ delaySeconds: Math.min(60, 2 ** attempts) });
  }
  if (malformed.length) {
    // A message that can never be projected is recorded at once instead of burning its retries.
    try {
      await recordDeadLetters(env, malformed, batch.queue, "malformed");
      for (const m of malformed) m.ack();
    } catch {
      for (const m of malformed) m.retry({ delaySeconds: 30 });
    }
  }
}

/**
 * The `case-events-dlq` consumer: events that exhausted their retries. It tries once more to project them
 * (they carry the full case, so a late success heals the projection) and records every one as a failed
 * audit row either way, so nothing disappears silently.
 */
export async function consumeCaseEventDeadLetters(
  batch: MessageBatch<unknown>,
  env: Cloudflare.Env,
): Promise<void> {
  const projectable = batch.messages.filter((m) => isCaseEventMessage(m.body));
  let projected = false;
  try {
    await projectCaseEvents(
      env,
      projectable.map((m) => m.body as CaseEventMessage),
    );
    projected = projectable.length > 0;
  } catch (error) {
    console.error(JSON.stringify({ kind: "case-dead-letter-projection-failed", error: String(error) }));
  }
  try {
    await recordDeadLetters(env, batch.messages, batch.queue, projected ? "projected-late" : "dead-letter");
    batch.ackAll();
  } catch (error) {
    console.error(JSON.stringify({ kind: "case-dead-letter-record-failed", error: String(error) }));
    batch.retryAll({ delaySeconds: 30 });
  }
}

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

const INSERT_EVENT = `INSERT OR IGNORE INTO case_events
    (case_id, seq, type, actor_id, actor_role, actor_unit_id, at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * Writes events into the libSQL projection in one transaction: the newest snapshot per case (guarded by
 * seq), every event (ignored if present), an audit row per event not seen before, each desk's next deadline
 * step (for the watchdog), and — when a user of a unit acted on a case — that unit's inbox items about the
 * case marked handled. Events not seen before that other systems may subscribe to are enqueued for webhooks
 * first (a failed write retries them; the webhook consumer sends each (event, endpoint) once).
 */
export async function projectCaseEvents(env: Cloudflare.Env, messages: CaseEventMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const db = getDb(env);
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
  for (const m of latest.values()) {
    const r = m.record;
    statements.push({
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
    });
  }
  const desks = new Map<string, CaseEventMessage>();
  for (const m of messages) {
    if (m.deskNextAlarmAt === undefined) continue;
    const current = desks.get(m.record.owningUnit.id);
    if (!current || current.event.at <= m.event.at) desks.set(m.record.owningUnit.id, m);
  }
  for (const [deskId, m] of desks) {
    statements.push({ sql: UPSERT_DESK_ALARM, args: [deskId, m.deskNextAlarmAt ?? null, m.event.at] });
  }
  const hooks: WebhookEvent[] = [];
  const audits: AuditEntry[] = [];
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
    if (!seen.has(key)) {
      if (actor) statements.push(markInboxHandledForCaseStatement(actor.unitId, e.caseId, e.at));
      const kind = webhookKindForCaseEvent(e.type);
      if (kind) {
        hooks.push({
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
        });
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
  }
  if (hooks.length) await enqueueWebhookEvents(env, db, hooks);
  await writeAudited(db, statements, audits);
}

/** Records messages that cannot be projected as failed audit rows (scoped to the case's unit when known). */
async function recordDeadLetters(
  env: Cloudflare.Env,
  messages: readonly Message<unknown>[],
  queue: string,
  reason: string,
): Promise<void> {
  const entries: AuditEntry[] = messages.map((m) => {
    const body = isCaseEventMessage(m.body) ? m.body : null;
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

function isCaseEventMessage(body: unknown): body is CaseEventMessage {
  const m = body as Partial<CaseEventMessage> | null;
  return (
    typeof m === "object" &&
    m !== null &&
    m.kind === "case-event" &&
    typeof m.caseId === "string" &&
    Number.isInteger(m.seq) &&
    typeof m.event === "object" &&
    m.event !== null &&
    m.event.seq === m.seq &&
    typeof m.record === "object" &&
    m.record !== null &&
    m.record.id === m.caseId &&
    m.record.seq === m.seq &&
    (CASE_STATES as readonly string[]).includes(m.record.state as string) &&
    typeof m.record.owningUnit?.path === "string" &&
    typeof m.record.responsibleUnit?.path === "string"
  );
}
