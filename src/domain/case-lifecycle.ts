import {
  type Actor,
  type AttachmentRef,
  type CaseActorRole,
  type CaseEvent,
  type CaseRecord,
  type CaseState,
  type Mediation,
  type NewCase,
  type ResponsibleRef,
  type Satisfaction,
  TERMINAL_STATES,
  type UnitRef,
} from "./case-model";
import {
  checkEscalation,
  checkSendDown,
  ESCALATION_EVENT_TYPES,
  type EscalationReasonCode,
  isStrictAncestor,
} from "./escalation";
import {
  type CaseClock,
  clockNextAt,
  policyFromBook,
  SLA_EVENT_TYPES,
  type SlaRulesBook,
  type SlaStep,
  slaPhaseOf,
  startClock,
} from "./sla";
import { inScope, type UnitLevel } from "./units";

/**
 * The case lifecycle (事件闭环) as a pure state machine: which command is legal in which state, who may
 * perform it at which level, and what it changes. The GridDesk applies its decisions; nothing here does I/O.
 *
 *   reported → accepted → dispatched → in_progress → resolved → closed
 *   side exits: rejected (reason), merged (duplicate of another case), reopened (from resolved or closed)
 *
 * Escalation (上报上级), sending down (下派), supervision (督办) and urging (催办) are actions too; their routing
 * rules live in `./escalation`. Every accepted command also settles the case's clock (时限, `./sla`): a new
 * one starts when the case enters a phase (accept, resolve) or a new unit becomes responsible.
 */

/** Every command a case accepts. */
export const CASE_ACTIONS = [
  "accept",
  "reject",
  "merge",
  "dispatch",
  "start",
  "resolve",
  "return_visit",
  "close",
  "reopen",
  "attach",
  "escalate",
  "send_down",
  "supervise",
  "urge",
] as const;
export type CaseAction = (typeof CASE_ACTIONS)[number];

/** The most attachments one case may hold. */
export const MAX_ATTACHMENTS = 20;

/** Centre levels (综治中心): every level above the level-2/3 grids. */
export const CENTRE_LEVELS: readonly UnitLevel[] = ["city", "county", "town", "village"];
/** Levels that have functional departments (职能部门). */
export const DEPARTMENT_LEVELS: readonly UnitLevel[] = ["city", "county", "town"];
/** Roles that may report a case. */
export const REPORTER_ROLES: readonly CaseActorRole[] = [
  "grid_worker",
  "center_staff",
  "party_member",
  "deputy",
  "household_lead",
  "resident",
];

export type CaseCommand =
  | { action: "accept"; note?: string | null }
  | { action: "reject"; reason: string }
  | { action: "merge"; intoCaseId: string; note?: string | null }
  | { action: "dispatch"; target: ResponsibleRef; note?: string | null }
  | { action: "start"; note?: string | null }
  | { action: "resolve"; note: string; mediation?: Mediation | null }
  | { action: "return_visit"; satisfaction: Satisfaction; note?: string | null }
  | { action: "close"; note?: string | null }
  | { action: "reopen"; reason: string }
  | { action: "attach"; attachment: Omit<AttachmentRef, "stage" | "at" | "by"> }
  | { action: "escalate"; reason: string; reasonCode?: EscalationReasonCode | null }
  | { action: "send_down"; target: UnitRef; reason: string; deadline?: string | null }
  | { action: "supervise"; message: string; deadline: string }
  | { action: "urge"; message: string; deadline?: string | null };

/** The refusal code that asks the caller to load the time-limit policy of `policyPath` and try again. */
export const SLA_POLICY_NEEDED = "sla-policy-needed";

/** Why a command was refused; the route maps `status` to a problem. */
export interface Refusal {
  ok: false;
  status: 400 | 403 | 409;
  code: string;
  detail: string;
  /** With `SLA_POLICY_NEEDED`: the unit path whose policy the new clock needs. */
  policyPath?: string;
}

/** An accepted command: the case after it and the event that records it. */
export interface Decision {
  ok: true;
  record: CaseRecord;
  event: CaseEvent;
}

const refuse = (status: Refusal["status"], code: string, detail: string): Refusal => ({
  ok: false,
  status,
  code,
  detail,
});

const isCentreStaff = (a: Actor) => a.role === "center_staff" && CENTRE_LEVELS.includes(a.unitLevel);
/** The actor works in `unit` itself. */
const at = (a: Actor, unit: UnitRef | null) => unit !== null && a.unitId === unit.id;
/** `unit` lies in the actor's subtree (the actor's unit or a unit below it). */
const atOrAbove = (a: Actor, unit: UnitRef | null) => unit !== null && inScope(a.unitPath, unit.path);

/** A small matter (小事): what a grid worker may take on in the grid without the village centre. */
export function isSmallMatter(c: Pick<CaseRecord, "severity" | "type">): boolean {
  return c.severity === "normal" && c.type !== "emergency";
}

/** Whether the actor may see the case: its owning or its responsible unit is in the actor's subtree. */
export function canSeeCase(actor: Actor, c: Pick<CaseRecord, "owningUnit" | "responsibleUnit">): boolean {
  return inScope(actor.unitPath, c.owningUnit.path) || inScope(actor.unitPath, c.responsibleUnit.path);
}

/** Whether the actor is the one handling the case now (办理): the responsible unit's grid worker, centre or department. */
function isHandler(a: Actor, c: CaseRecord): boolean {
  if (!at(a, c.responsibleUnit)) return false;
  if (c.responsibleUnit.department !== null) return a.role === "department";
  return a.role === "grid_worker" || isCentreStaff(a);
}

/** Whether the actor coordinates the case: the accepting unit (grid worker or centre), or a centre above it. */
function isCoordinator(a: Actor, c: CaseRecord): boolean {
  if (c.coordinatorUnit === null) return false;
  if (a.role === "grid_worker") return at(a, c.coordinatorUnit);
  return isCentreStaff(a) && atOrAbove(a, c.coordinatorUnit);
}

/** Whether the actor may triage a new report: a centre at or above the responsible unit, or its grid worker. */
function isTriager(a: Actor, c: CaseRecord): boolean {
  if (a.role === "grid_worker") return at(a, c.responsibleUnit);
  return isCentreStaff(a) && atOrAbove(a, c.responsibleUnit);
}

/** Whether the actor is the resident who reported the case: they judge its outcome on the return visit. */
const isResidentReporter = (a: Actor, c: CaseRecord) =>
  a.role === "resident" && a.userId === c.reporter.userId;

interface ActionRule {
  /** States the action may start from. */
  from: readonly CaseState[];
  /** Who may perform it, described for the API reference. */
  who: string;
  may(actor: Actor, c: CaseRecord): boolean;
}

/** A centre strictly above the unit now responsible (one of its ancestors): may supervise and urge. */
const isSuperior = (a: Actor, c: CaseRecord) =>
  isCentreStaff(a) && isStrictAncestor(a.unitPath, c.responsibleUnit.path);

const OPEN: readonly CaseState[] = ["reported", "accepted", "dispatched", "in_progress", "reopened"];

/** The table of actions: legal source states and who may act. */
export const ACTIONS: Record<CaseAction, ActionRule> = {
  accept: {
    from: ["reported"],
    who: "the grid worker of the reporting grid (small matters only) or a centre at or above it",
    may: (a, c) => isTriager(a, c) && (a.role !== "grid_worker" || isSmallMatter(c)),
  },
  reject: {
    from: ["reported"],
    who: "a centre at or above the responsible unit",
    may: (a, c) => isCentreStaff(a) && atOrAbove(a, c.responsibleUnit),
  },
  merge: {
    from: ["reported", "accepted"],
    who: "whoever may triage the case",
    may: (a, c) => isTriager(a, c) || isCoordinator(a, c),
  },
  dispatch: {
    from: ["accepted", "dispatched", "in_progress", "reopened"],
    who: "a centre that coordinates the case",
    may: (a, c) => isCentreStaff(a) && isCoordinator(a, c),
  },
  start: {
    from: ["accepted", "dispatched", "reopened"],
    who: "the responsible unit's handler (its department if dispatched to one)",
    may: isHandler,
  },
  resolve: {
    from: ["accepted", "dispatched", "in_progress", "reopened"],
    who: "the responsible unit's handler or a centre that coordinates the case",
    may: (a, c) => isHandler(a, c) || (isCentreStaff(a) && isCoordinator(a, c)),
  },
  return_visit: {
    from: ["resolved"],
    who: "the unit that coordinates the case (its centre, or its grid worker for matters kept in the grid), or the resident who reported it",
    may: (a, c) => isCoordinator(a, c) || isResidentReporter(a, c),
  },
  close: {
    from: ["resolved"],
    who: "the unit that coordinates the case",
    may: isCoordinator,
  },
  reopen: {
    from: ["resolved", "closed"],
    who: "the unit that coordinates the case",
    may: isCoordinator,
  },
  attach: {
    from: ["reported", "accepted", "dispatched", "in_progress", "resolved", "reopened"],
    who: "the reporter, the handler, or a centre at or above the owning or responsible unit",
    may: (a, c) =>
      a.userId === c.reporter.userId ||
      isHandler(a, c) ||
      (isCentreStaff(a) && (atOrAbove(a, c.owningUnit) || atOrAbove(a, c.responsibleUnit))),
  },
  escalate: {
    from: OPEN,
    who: "the responsible unit's handler or a centre at or above it",
    may: (a, c) => isHandler(a, c) || (isCentreStaff(a) && atOrAbove(a, c.responsibleUnit)),
  },
  send_down: {
    from: ["accepted", "dispatched", "in_progress", "reopened"],
    who: "the responsible centre or a centre above it",
    may: (a, c) => isCentreStaff(a) && atOrAbove(a, c.responsibleUnit),
  },
  supervise: {
    from: OPEN,
    who: "a centre above the responsible unit (one of its ancestors)",
    may: isSuperior,
  },
  urge: {
    from: OPEN,
    who: "a centre above the responsible unit (one of its ancestors)",
    may: isSuperior,
  },
};

/** The actions the actor may perform on the case right now (for clients to show buttons). */
export function allowedActions(c: CaseRecord, actor: Actor): CaseAction[] {
  return CASE_ACTIONS.filter(
    (action) => ACTIONS[action].from.includes(c.state) && ACTIONS[action].may(actor, c),
  );
}

/** Whether the case has the evidence closure needs: a satisfied return visit, or a resolution note with a handling photo. */
export function hasClosureEvidence(c: CaseRecord): boolean {
  if (c.returnVisit && c.returnVisit.satisfaction !== "dissatisfied") return true;
  return (
    c.resolution !== null &&
    c.resolution.note.trim().length > 0 &&
    c.attachments.some((a) => a.stage !== "reported")
  );
}

const actorRef = (a: Actor) => ({ userId: a.userId, role: a.role, unitId: a.unitId });

/**
 * A new report (上报) by `actor` in `owningUnit`, or why it is refused. The owning unit is a village or a
 * grid inside the actor's subtree; only disputes carry a mediation section.
 */
export function reportCase(
  input: NewCase,
  actor: Actor,
  owningUnit: UnitRef,
  now: string,
  sla?: SlaRulesBook | null,
): Decision | Refusal {
  if (!REPORTER_ROLES.includes(actor.role)) return refuse(403, "forbidden", "Your role may not report cases");
  if (!inScope(actor.unitPath, owningUnit.path)) {
    return refuse(403, "forbidden", "Cases are reported in your own unit or a unit below it");
  }
  if (owningUnit.level !== "grid" && owningUnit.level !== "village") {
    return refuse(400, "owning-unit-level", "A case is reported in a village or a grid; give gridId");
  }
  if (input.mediation && input.type !== "dispute") {
    return refuse(400, "mediation-only-for-disputes", "Only a dispute carries a mediation section");
  }
  const record: CaseRecord = {
    id: input.id,
    type: input.type,
    severity: input.severity,
    state: "reported",
    version: 1,
    seq: 1,
    title: input.title,
    description: input.description,
    location: input.location,
    householdIds: input.householdIds,
    residentIds: input.residentIds,
    mediation: input.mediation,
    reporter: actorRef(actor),
    owningUnit,
    responsibleUnit: { ...owningUnit, department: null },
    coordinatorUnit: null,
    rejection: null,
    mergedInto: null,
    resolution: null,
    returnVisit: null,
    attachments: [],
    reopenCount: 0,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    deadlines: null,
    overdue: false,
    escalationCount: 0,
    notices: [],
  };
  // A report is never refused for want of a policy: an uncovered unit runs on the defaults, and says so.
  const policy = policyFromBook(sla, owningUnit.path) ?? policyFromBook(null, owningUnit.path)!;
  record.deadlines = startClock(
    { state: record.state, caseType: record.type, severity: record.severity, unitId: owningUnit.id, now },
    policy,
  );
  return {
    ok: true,
    record,
    event: {
      caseId: record.id,
      seq: 1,
      type: "reported",
      actor: actorRef(actor),
      at: now,
      payload: { type: record.type, severity: record.severity, owningUnitId: owningUnit.id },
    },
  };
}

function checkDispatchTarget(actor: Actor, c: CaseRecord, target: ResponsibleRef): Refusal | null {
  const below = inScope(actor.unitPath, target.path);
  const above = inScope(target.path, actor.unitPath) && target.id !== actor.unitId;
  if (!below && !above) {
    return refuse(
      400,
      "dispatch-target",
      "Dispatch within your subtree or to a department of a unit above you",
    );
  }
  if (target.department !== null && !DEPARTMENT_LEVELS.includes(target.level)) {
    return refuse(400, "dispatch-target", "Departments exist at city, county and town level");
  }
  if (above && target.department === null) {
    return refuse(
      400,
      "dispatch-target",
      "Above your own unit a case is dispatched to a department; moving it to a centre is escalation",
    );
  }
  if (target.id === c.responsibleUnit.id && target.department === c.responsibleUnit.department) {
    return refuse(409, "already-responsible", "The case is already with that unit");
  }
  return null;
}

/**
 * Decides a command on a case: the case after it and its event, or a refusal (409 when the action is not
 * legal in the current state or its preconditions fail, 403 when the actor may not perform it, 400 for bad
 * arguments). The version check (412) happens before this, in the GridDesk.
 */
export function decide(
  c: CaseRecord,
  command: CaseCommand,
  actor: Actor,
  now: string,
  sla?: SlaRulesBook | null,
): Decision | Refusal {
  const rule = ACTIONS[command.action];
  if (TERMINAL_STATES.includes(c.state) || !rule.from.includes(c.state)) {
    return refuse(
      409,
      "illegal-transition",
      `A case in state ${c.state} cannot ${command.action.replace("_", " ")}`,
    );
  }
  if (!rule.may(actor, c)) {
    return refuse(403, "forbidden", `Only ${rule.who} may ${command.action.replace("_", " ")} this case`);
  }

  const next: CaseRecord = { ...c, version: c.version + 1, seq: c.seq + 1, updatedAt: now };
  let type: string;
  let payload: Record<string, unknown> = {};
  let dueAt: string | null = null;
  const by = actor.userId;

  switch (command.action) {
    case "accept": {
      next.state = "accepted";
      const unit: UnitRef = { id: actor.unitId, path: actor.unitPath, level: actor.unitLevel };
      next.coordinatorUnit = unit;
      next.responsibleUnit = { ...unit, department: null };
      type = "accepted";
      payload = { note: command.note ?? null, coordinatorUnitId: unit.id };
      break;
    }
    case "reject":
      next.state = "rejected";
      next.rejection = { reason: command.reason, at: now, by };
      type = "rejected";
      payload = { reason: command.reason };
      break;
    case "merge":
      if (command.intoCaseId === c.id)
        return refuse(400, "merge-into-self", "A case cannot be merged into itself");
      next.state = "merged";
      next.mergedInto = command.intoCaseId;
      type = "merged";
      payload = { intoCaseId: command.intoCaseId, note: command.note ?? null };
      break;
    case "dispatch": {
      const bad = checkDispatchTarget(actor, c, command.target);
      if (bad) return bad;
      next.state = "dispatched";
      next.responsibleUnit = command.target;
      type = "dispatched";
      payload = {
        toUnitId: command.target.id,
        toLevel: command.target.level,
        department: command.target.department,
        note: command.note ?? null,
      };
      break;
    }
    case "start":
      next.state = "in_progress";
      type = "started";
      payload = { note: command.note ?? null };
      break;
    case "resolve": {
      const mediation =
        c.type === "dispute" ? { ...(c.mediation ?? {}), ...(command.mediation ?? {}) } : null;
      if (command.mediation && c.type !== "dispute") {
        return refuse(400, "mediation-only-for-disputes", "Only a dispute carries a mediation section");
      }
      if (mediation && (!mediation.result || mediation.result === "pending")) {
        return refuse(409, "mediation-result-required", "A dispute is resolved with its mediation result");
      }
      next.state = "resolved";
      next.mediation = mediation;
      next.resolution = { note: command.note, at: now, by };
      next.returnVisit = null;
      type = "resolved";
      payload = { note: command.note, ...(mediation ? { mediation } : {}) };
      break;
    }
    case "return_visit":
      next.returnVisit = { satisfaction: command.satisfaction, note: command.note ?? null, at: now, by };
      if (command.satisfaction === "dissatisfied") {
        next.state = "reopened";
        next.resolution = null;
        next.reopenCount = c.reopenCount + 1;
      }
      type = "return_visited";
      payload = { satisfaction: command.satisfaction, note: command.note ?? null, state: next.state };
      break;
    case "close":
      if (!hasClosureEvidence(c)) {
        return refuse(
          409,
          "closure-needs-evidence",
          "Closing needs a satisfied return visit, or a resolution note with at least one handling photo",
        );
      }
      next.state = "closed";
      next.closedAt = now;
      type = "closed";
      payload = { note: command.note ?? null };
      break;
    case "reopen":
      next.state = "reopened";
      next.resolution = null;
      next.returnVisit = null;
      next.closedAt = null;
      next.reopenCount = c.reopenCount + 1;
      type = "reopened";
      payload = { reason: command.reason };
      break;
    case "attach": {
      if (c.attachments.length >= MAX_ATTACHMENTS) {
        return refuse(409, "too-many-attachments", `A case holds at most ${MAX_ATTACHMENTS} attachments`);
      }
      const attachment: AttachmentRef = { ...command.attachment, at: now, by, stage: c.state };
      next.attachments = [...c.attachments, attachment];
      type = "attachment_added";
      payload = { attachment };
      break;
    }
    case "escalate": {
      const check = checkEscalation(c, {
        automatic: false,
        reason: command.reason,
        reasonCode: command.reasonCode ?? null,
      });
      if (!check.ok) return check;
      next.responsibleUnit = {
        id: check.target.unitId,
        path: check.target.path,
        level: check.target.level,
        department: null,
      };
      next.escalationCount = (c.escalationCount ?? 0) + 1;
      type = ESCALATION_EVENT_TYPES.escalated;
      payload = escalationPayload(c, next, command.reason, command.reasonCode ?? null, false);
      break;
    }
    case "send_down": {
      const check = checkSendDown(actor, c, command.target);
      if (!check.ok) return check;
      const bad = futureDeadline(command.deadline, now);
      if (bad) return bad;
      next.state = "dispatched";
      next.responsibleUnit = { ...command.target, department: null };
      dueAt = command.deadline ?? null;
      type = ESCALATION_EVENT_TYPES.sentDown;
      payload = {
        fromUnitId: c.responsibleUnit.id,
        toUnitId: command.target.id,
        toLevel: command.target.level,
        reason: command.reason,
        deadline: command.deadline ?? null,
      };
      break;
    }
    case "supervise":
    case "urge": {
      const bad = futureDeadline(command.deadline, now);
      if (bad) return bad;
      const notice = {
        kind: command.action === "supervise" ? ("supervision" as const) : ("urge" as const),
        seq: next.seq,
        at: now,
        by,
        fromUnitId: actor.unitId,
        toUnitId: c.responsibleUnit.id,
        message: command.message,
        deadline: command.deadline ?? null,
      };
      next.notices = [...(c.notices ?? []), notice];
      type =
        command.action === "supervise" ? ESCALATION_EVENT_TYPES.supervised : ESCALATION_EVENT_TYPES.urged;
      payload = {
        fromUnitId: actor.unitId,
        toUnitId: c.responsibleUnit.id,
        message: command.message,
        deadline: notice.deadline,
      };
      break;
    }
  }

  const clock = settleClock(c, next, now, sla, dueAt);
  if (clock === null) return needPolicy(next.responsibleUnit.path);
  next.deadlines = clock.deadlines;
  return {
    ok: true,
    record: next,
    event: { caseId: c.id, seq: next.seq, type, actor: actorRef(actor), at: now, payload },
  };
}

const needPolicy = (path: string): Refusal => ({
  ...refuse(409, SLA_POLICY_NEEDED, "The time-limit policy of the responsible unit must be loaded first"),
  policyPath: path,
});

function futureDeadline(deadline: string | null | undefined, now: string): Refusal | null {
  if (deadline && Date.parse(deadline) <= Date.parse(now)) {
    return refuse(400, "deadline-in-past", "A deadline must lie in the future");
  }
  return null;
}

function escalationPayload(
  before: CaseRecord,
  after: CaseRecord,
  reason: string,
  reasonCode: string | null,
  automatic: boolean,
): Record<string, unknown> {
  return {
    fromUnitId: before.responsibleUnit.id,
    fromLevel: before.responsibleUnit.level,
    toUnitId: after.responsibleUnit.id,
    toLevel: after.responsibleUnit.level,
    reason,
    reasonCode,
    automatic,
  };
}

/**
 * The clock after a change: none when the new state runs no clock; a new one when the case enters another
 * phase, gets a new responsible unit, or is given its own deadline; otherwise the running one. Null when a
 * new clock needs a policy `sla` does not hold.
 */
function settleClock(
  before: CaseRecord,
  after: CaseRecord,
  now: string,
  sla: SlaRulesBook | null | undefined,
  dueAt: string | null,
): { deadlines: CaseClock | null } | null {
  const phase = slaPhaseOf(after.state);
  if (phase === null) return { deadlines: null };
  const running = before.deadlines ?? null;
  const sameUnit =
    before.responsibleUnit.id === after.responsibleUnit.id &&
    before.responsibleUnit.department === after.responsibleUnit.department;
  if (running && running.phase === phase && sameUnit && !dueAt) return { deadlines: running };
  const policy = policyFromBook(sla, after.responsibleUnit.path);
  if (policy === null) return null;
  return {
    deadlines: startClock(
      {
        state: after.state,
        caseType: after.type,
        severity: after.severity,
        unitId: after.responsibleUnit.id,
        now,
      },
      policy,
      dueAt,
    ),
  };
}

/** Who records the deadline steps: the system, not a user. */
export const SLA_ACTOR = { system: "sla" } as const;

/** When the case's next deadline step falls due (epoch ms), or null when none is left. */
export function nextStepAt(c: CaseRecord): number | null {
  return clockNextAt(c.deadlines, c.responsibleUnit.level !== "city");
}

/**
 * Takes one deadline step on a case (the alarm's work): `warned` (预警), `overdue` (超期: the level above is
 * told) or `escalate` (automatic escalation to the next centre, whose policy starts a new clock). Each is an
 * event with the next seq. Refused when the step is not the next one due at `now`, or (with
 * `SLA_POLICY_NEEDED`) when the new unit's policy is not in `sla`.
 */
export function applySlaStep(
  c: CaseRecord,
  step: SlaStep,
  now: string,
  sla?: SlaRulesBook | null,
): Decision | Refusal {
  const clock = c.deadlines;
  const at = nextStepAt(c);
  if (!clock || at === null || at > Date.parse(now) || !OPEN.includes(c.state)) {
    return refuse(409, "step-not-due", `No ${step} step is due on this case`);
  }
  const expected: SlaStep = clock.step === null ? "warned" : clock.step === "warned" ? "overdue" : "escalate";
  if (expected !== step) return refuse(409, "step-not-due", `The next step is ${expected}, not ${step}`);
  const next: CaseRecord = { ...c, version: c.version + 1, seq: c.seq + 1, updatedAt: now };
  let type: string;
  let payload: Record<string, unknown>;
  const base = { phase: clock.phase, unitId: clock.unitId, dueAt: clock.dueAt };
  switch (step) {
    case "warned":
      next.deadlines = { ...clock, step };
      type = SLA_EVENT_TYPES.warned;
      payload = { ...base, warnAt: clock.warnAt };
      break;
    case "overdue":
      next.deadlines = { ...clock, step };
      next.overdue = true;
      type = SLA_EVENT_TYPES.overdue;
      payload = { ...base, escalateAt: clock.escalateAt };
      break;
    case "escalate": {
      const check = checkEscalation(c, { automatic: true });
      if (!check.ok) return check;
      next.responsibleUnit = {
        id: check.target.unitId,
        path: check.target.path,
        level: check.target.level,
        department: null,
      };
      next.escalationCount = (c.escalationCount ?? 0) + 1;
      const policy = policyFromBook(sla, next.responsibleUnit.path);
      if (policy === null) return needPolicy(next.responsibleUnit.path);
      next.deadlines = startClock(
        {
          state: next.state,
          caseType: next.type,
          severity: next.severity,
          unitId: next.responsibleUnit.id,
          now,
        },
        policy,
      );
      type = ESCALATION_EVENT_TYPES.escalated;
      payload = { ...escalationPayload(c, next, "deadline missed (超期未办)", null, true), missed: base };
      break;
    }
  }
  return {
    ok: true,
    record: next,
    event: { caseId: c.id, seq: next.seq, type, actor: SLA_ACTOR, at: now, payload },
  };
}
