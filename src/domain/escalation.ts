import {
  type CaseActorRole,
  type CaseEvent,
  type CaseRecord,
  type CaseState,
  type Mediation,
  OPEN_STATES,
  type UnitRef,
} from "./case-model";
import { inScope, pathIds, type UnitLevel } from "./units";

/**
 * Escalation (上报上级), supervision (督办), urging (催办) and sending down (下派) across the levels, as pure
 * rules. Policy: small matters stay in the grid, big matters in the village, conflicts are not pushed upward.
 */

/** The centre levels an escalation climbs through, top down; a grid's next centre is its village. */
const CENTRE_DEPTH: Record<Exclude<UnitLevel, "grid">, number> = { city: 0, county: 1, town: 2, village: 3 };

/** What a message to the `escalations` queue (and the inbox item it becomes) is about. */
export const INBOX_KINDS = [
  "escalated",
  "supervision",
  "overdue",
  "dispatched",
  "urge",
  "alert",
  "bulletin",
] as const;
export type InboxKind = (typeof INBOX_KINDS)[number];

export const INBOX_KIND_LABELS: Record<InboxKind, string> = {
  escalated: "上报上级",
  supervision: "督办",
  overdue: "超期",
  dispatched: "下派",
  urge: "催办",
  alert: "系统告警",
  bulletin: "定期通报",
};

/** Case event types of the commands of this module, as the GridDesk records them. */
export const ESCALATION_EVENT_TYPES = {
  escalated: "escalated",
  supervised: "supervised",
  urged: "urged",
  sentDown: "sent_down",
} as const;

/** Reason codes a manual escalation from a grid or a village must carry (small matters stay in the grid). */
export const ESCALATION_REASON_CODES = [
  "beyond_authority",
  "needs_higher_coordination",
  "major_risk",
  "mediation_failed",
  "involves_multiple_units",
  "policy_question",
] as const;
export type EscalationReasonCode = (typeof ESCALATION_REASON_CODES)[number];

export const ESCALATION_REASON_LABELS: Record<EscalationReasonCode, string> = {
  beyond_authority: "超出本级权限",
  needs_higher_coordination: "需上级协调",
  major_risk: "重大风险",
  mediation_failed: "调解不成",
  involves_multiple_units: "涉及多个单位",
  policy_question: "政策问题",
};

/** Roles that may supervise, urge, escalate or send down a case: the staff of a centre (and administrators). */
export const CENTRE_COMMAND_ROLES: readonly CaseActorRole[] = ["center_staff", "admin"];

/** A refused escalation/supervision/send-down: `status` is what the route answers. */
export interface EscalationRefusal {
  ok: false;
  status: 400 | 403 | 409;
  code: string;
  detail: string;
}

const refuse = (status: EscalationRefusal["status"], code: string, detail: string): EscalationRefusal => ({
  ok: false,
  status,
  code,
  detail,
});

/** Where an escalation goes: the next centre up. */
export interface EscalationTarget {
  unitId: string;
  level: Exclude<UnitLevel, "grid">;
  /** The materialized path of the target unit (a prefix of the source path). */
  path: string;
}

/**
 * The next centre above a unit: grid (level 2 or 3) → its village → town → county → city. The city is the
 * top: escalating from it is refused.
 *
 * @example
 * escalationTarget({ id: v, path: "/c/co/t/v/", level: "village" }) // { ok: true, target: { unitId: "t", level: "town", path: "/c/co/t/" } }
 */
export function escalationTarget(from: UnitRef): { ok: true; target: EscalationTarget } | EscalationRefusal {
  if (from.level === "city") {
    return refuse(
      409,
      "escalation-at-top",
      "The city is the top level; a case cannot be escalated beyond it",
    );
  }
  const ids = pathIds(from.path);
  const level: EscalationTarget["level"] =
    from.level === "grid"
      ? "village"
      : from.level === "village"
        ? "town"
        : from.level === "town"
          ? "county"
          : "city";
  const depth = CENTRE_DEPTH[level];
  const unitId = ids[depth];
  if (unitId === undefined || ids.length <= depth + 1) {
    return refuse(409, "escalation-no-target", `The unit has no ${level} above it`);
  }
  return { ok: true, target: { unitId, level, path: `/${ids.slice(0, depth + 1).join("/")}/` } };
}

/** The dedupe key of an escalation: one per (case, target level), however often it is sent. */
export function escalationDedupeKey(caseId: string, targetLevel: UnitLevel): string {
  return inboxDedupeKey("escalated", caseId, targetLevel);
}

/**
 * The dedupe key of an inbox message: `kind:caseId:discriminator`. Escalations use the target level (one per
 * case and level); overdue notices the responsible unit and deadline (`unitId@dueAt`); supervision, urging and
 * dispatch the case event's `seq`, since each of those is its own notice.
 */
export function inboxDedupeKey(
  kind: Exclude<InboxKind, "alert">,
  caseId: string,
  discriminator: string | number,
): string {
  return `${kind}:${caseId}:${discriminator}`;
}

/** Whether a dispute records a mediation attempt (调解): a method, a mediator and a result other than pending. */
export function hasMediationAttempt(mediation: Mediation | null | undefined): boolean {
  return Boolean(
    mediation?.method && mediation.mediator && mediation.result && mediation.result !== "pending",
  );
}

/** The facts of a case an escalation decision needs. */
export type EscalationCase = Pick<CaseRecord, "state" | "type" | "mediation"> & { responsibleUnit: UnitRef };

/**
 * Checks an escalation of `c` to the next centre and returns the target. Manual escalations ("beyond this
 * level's power") from a grid or a village need a reason code, and a dispute needs a recorded mediation attempt
 * first; automatic escalations (a missed deadline) skip those rules. Closed, resolved, rejected and merged cases
 * cannot be escalated; nor can anything beyond the city.
 */
export function checkEscalation(
  c: EscalationCase,
  request: { automatic: boolean; reasonCode?: string | null; reason?: string | null },
): { ok: true; target: EscalationTarget } | EscalationRefusal {
  if (!isOpen(c.state)) {
    return refuse(409, "case-not-open", `A case in state ${c.state} cannot be escalated`);
  }
  const target = escalationTarget(c.responsibleUnit);
  if (!target.ok) return target;
  if (request.automatic) return target;
  if (!request.reason || request.reason.trim() === "") {
    return refuse(400, "escalation-reason-required", "An escalation needs a reason");
  }
  const low = c.responsibleUnit.level === "grid" || c.responsibleUnit.level === "village";
  if (low) {
    if (!request.reasonCode || !(ESCALATION_REASON_CODES as readonly string[]).includes(request.reasonCode)) {
      return refuse(
        400,
        "escalation-reason-code-required",
        `Small matters stay in the grid: escalating from a ${c.responsibleUnit.level} needs a reason code (${ESCALATION_REASON_CODES.join(", ")})`,
      );
    }
    if (c.type === "dispute" && !hasMediationAttempt(c.mediation)) {
      return refuse(
        409,
        "mediation-attempt-required",
        "Conflicts are not pushed upward: record a mediation attempt (method, mediator, result) before escalating a dispute",
      );
    }
  }
  return target;
}

/**
 * Whether the actor's unit may supervise (督办) or urge (催办) a case: only a centre strictly above the unit
 * now responsible, i.e. one of its ancestors.
 */
export function checkSupervision(
  actor: { role: CaseActorRole; unitPath: string; unitLevel: UnitLevel },
  c: Pick<CaseRecord, "state"> & { responsibleUnit: UnitRef },
): { ok: true } | EscalationRefusal {
  if (!CENTRE_COMMAND_ROLES.includes(actor.role) || actor.unitLevel === "grid") {
    return refuse(403, "forbidden", "Only the staff of a higher-level centre may supervise or urge a case");
  }
  if (!isStrictAncestor(actor.unitPath, c.responsibleUnit.path)) {
    return refuse(
      403,
      "not-an-ancestor",
      "Only a centre above the unit responsible for the case may supervise or urge it",
    );
  }
  if (!isOpen(c.state)) {
    return refuse(409, "case-not-open", `A case in state ${c.state} cannot be supervised`);
  }
  return { ok: true };
}

/**
 * Whether a centre may send a case down (下派) to `target`: the actor's unit is the responsible unit or above
 * it, and the target lies strictly below the responsible unit.
 */
export function checkSendDown(
  actor: { role: CaseActorRole; unitPath: string; unitLevel: UnitLevel },
  c: Pick<CaseRecord, "state"> & { responsibleUnit: UnitRef },
  target: UnitRef,
): { ok: true } | EscalationRefusal {
  if (!CENTRE_COMMAND_ROLES.includes(actor.role) || actor.unitLevel === "grid") {
    return refuse(403, "forbidden", "Only the staff of a centre may send a case down");
  }
  if (!inScope(actor.unitPath, c.responsibleUnit.path)) {
    return refuse(
      403,
      "not-responsible",
      "Only the responsible centre or one above it may send the case down",
    );
  }
  if (!isStrictAncestor(c.responsibleUnit.path, target.path)) {
    return refuse(
      400,
      "target-not-below",
      "A case can only be sent down to a unit below the one responsible",
    );
  }
  if (!isOpen(c.state)) {
    return refuse(409, "case-not-open", `A case in state ${c.state} cannot be sent down`);
  }
  return { ok: true };
}

/** Whether `ancestorPath` is a proper ancestor of `path`. */
export function isStrictAncestor(ancestorPath: string, path: string): boolean {
  return path.length > ancestorPath.length && path.startsWith(ancestorPath);
}

/** The city (root) of a unit path, where dead letters are reported. */
export function cityOfPath(path: string): string | null {
  return pathIds(path)[0] ?? null;
}

function isOpen(state: CaseState): boolean {
  return OPEN_STATES.includes(state);
}

/** Kinds of message the `escalations` queue carries (every inbox kind but the system's own alerts). */
export const ESCALATION_MESSAGE_KINDS = [
  "escalated",
  "overdue",
  "supervision",
  "urge",
  "dispatched",
] as const;
export type EscalationMessageKind = (typeof ESCALATION_MESSAGE_KINDS)[number];

/**
 * A message on the `escalations` queue, sent by a GridDesk's outbox after it recorded the case event. The
 * consumer turns it into one inbox item of `targetUnitId`, keyed by `dedupeKey`.
 */
export interface EscalationMessage {
  kind: EscalationMessageKind;
  caseId: string;
  /** The unit that was responsible when the event happened (null for system notices without one). */
  fromUnitId: string | null;
  targetUnitId: string;
  targetLevel: UnitLevel;
  /** `kind:caseId:discriminator`, see `inboxDedupeKey`. */
  dedupeKey: string;
  reason: string | null;
  reasonCode?: string | null;
  /** When the case event happened (ISO 8601); the inbox item's time. */
  at: string;
  /** The case event's seq. */
  seq?: number | null;
  automatic?: boolean;
  actorId?: string | null;
  /** The text of a supervision or urging notice. */
  message?: string | null;
  /** A new deadline set with a supervision notice or a send-down. */
  deadline?: string | null;
  /** A snapshot of the case for the inbox list. */
  case?: { title: string; type: string; severity: string; state: string } | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const optionalText = (v: unknown, max: number) =>
  v === undefined || v === null || (typeof v === "string" && v.length <= max);

/** Whether a queue body is a well-formed escalation message (a malformed one can never be written). */
export function isEscalationMessage(body: unknown): body is EscalationMessage {
  const m = body as Partial<EscalationMessage> | null;
  if (typeof m !== "object" || m === null) return false;
  if (!(ESCALATION_MESSAGE_KINDS as readonly string[]).includes(m.kind as string)) return false;
  if (typeof m.caseId !== "string" || !UUID.test(m.caseId)) return false;
  if (typeof m.targetUnitId !== "string" || !UUID.test(m.targetUnitId)) return false;
  if (
    m.fromUnitId !== null &&
    m.fromUnitId !== undefined &&
    (typeof m.fromUnitId !== "string" || !UUID.test(m.fromUnitId))
  )
    return false;
  if (!["city", "county", "town", "village", "grid"].includes(m.targetLevel as string)) return false;
  if (typeof m.dedupeKey !== "string" || m.dedupeKey.length > 300) return false;
  if (!m.dedupeKey.startsWith(`${m.kind}:${m.caseId}:`)) return false;
  if (typeof m.at !== "string" || Number.isNaN(Date.parse(m.at))) return false;
  if (m.seq !== undefined && m.seq !== null && !Number.isInteger(m.seq)) return false;
  return (
    optionalText(m.reason, 2000) &&
    optionalText(m.reasonCode, 100) &&
    optionalText(m.message, 2000) &&
    optionalText(m.deadline, 40) &&
    optionalText(m.actorId, 100)
  );
}

/**
 * The messages the GridDesk's outbox sends to the `escalations` queue for a case event, in the same
 * transaction as the event: an overdue notice to the centre above the unit that missed the deadline, an
 * escalation to its new centre, a supervision or urging notice to the responsible unit, a case sent down
 * to its new unit. Other events send none.
 *
 * @example
 * escalationMessagesFor(before, decision.record, decision.event) // [{ kind: "escalated", targetLevel: "village", … }]
 */
export function escalationMessagesFor(
  before: CaseRecord,
  after: CaseRecord,
  event: CaseEvent,
): EscalationMessage[] {
  const p = event.payload;
  const text = (v: unknown) => (typeof v === "string" ? v : null);
  const common = {
    caseId: after.id,
    fromUnitId: before.responsibleUnit.id,
    at: event.at,
    seq: event.seq,
    actorId: "userId" in event.actor ? event.actor.userId : null,
    case: { title: after.title, type: after.type, severity: after.severity, state: after.state },
  };
  const toResponsible = { targetUnitId: after.responsibleUnit.id, targetLevel: after.responsibleUnit.level };
  switch (event.type) {
    case "overdue": {
      const target = escalationTarget(before.responsibleUnit);
      if (!target.ok) return [];
      return [
        {
          ...common,
          kind: "overdue",
          targetUnitId: target.target.unitId,
          targetLevel: target.target.level,
          dedupeKey: inboxDedupeKey("overdue", after.id, `${before.responsibleUnit.id}@${text(p.dueAt)}`),
          reason: "deadline missed (超期)",
          automatic: true,
          deadline: text(p.dueAt),
        },
      ];
    }
    case ESCALATION_EVENT_TYPES.escalated:
      return [
        {
          ...common,
          ...toResponsible,
          kind: "escalated",
          dedupeKey: escalationDedupeKey(after.id, after.responsibleUnit.level),
          reason: text(p.reason),
          reasonCode: text(p.reasonCode),
          automatic: p.automatic === true,
          deadline: after.deadlines?.dueAt ?? null,
        },
      ];
    case ESCALATION_EVENT_TYPES.supervised:
    case ESCALATION_EVENT_TYPES.urged: {
      const kind = event.type === ESCALATION_EVENT_TYPES.supervised ? "supervision" : "urge";
      return [
        {
          ...common,
          ...toResponsible,
          kind,
          dedupeKey: inboxDedupeKey(kind, after.id, event.seq),
          reason: null,
          message: text(p.message),
          deadline: text(p.deadline),
        },
      ];
    }
    case ESCALATION_EVENT_TYPES.sentDown:
      return [
        {
          ...common,
          ...toResponsible,
          kind: "dispatched",
          dedupeKey: inboxDedupeKey("dispatched", after.id, event.seq),
          reason: text(p.reason),
          deadline: after.deadlines?.dueAt ?? null,
        },
      ];
    default:
      return [];
  }
}
