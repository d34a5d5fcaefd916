import {
  type Actor,
  type AttachmentRef,
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
import type { Role } from "./roles";
import { inScope, type UnitLevel } from "./units";

/**
 * The case lifecycle (事件闭环) as a pure state machine: which command is legal in which state, who may
 * perform it at which level, and what it changes. The GridDesk applies its decisions; nothing here does I/O.
 *
 *   reported → accepted → dispatched → in_progress → resolved → closed
 *   side exits: rejected (reason), merged (duplicate of another case), reopened (from resolved or closed)
 *
 * Escalation, supervision and deadlines (next issue) add rows to `ACTIONS`; the shape is open for them.
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
] as const;
export type CaseAction = (typeof CASE_ACTIONS)[number];

/** The most attachments one case may hold. */
export const MAX_ATTACHMENTS = 20;

/** Centre levels (综治中心): every level above the level-2/3 grids. */
export const CENTRE_LEVELS: readonly UnitLevel[] = ["city", "county", "town", "village"];
/** Levels that have functional departments (职能部门). */
export const DEPARTMENT_LEVELS: readonly UnitLevel[] = ["city", "county", "town"];
/** Roles that may report a case. */
export const REPORTER_ROLES: readonly Role[] = [
  "grid_worker",
  "center_staff",
  "party_member",
  "deputy",
  "household_lead",
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
  | { action: "attach"; attachment: Omit<AttachmentRef, "stage" | "at" | "by"> };

/** Why a command was refused; the route maps `status` to a problem. */
export interface Refusal {
  ok: false;
  status: 400 | 403 | 409;
  code: string;
  detail: string;
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

interface ActionRule {
  /** States the action may start from. */
  from: readonly CaseState[];
  /** Who may perform it, described for the API reference. */
  who: string;
  may(actor: Actor, c: CaseRecord): boolean;
}

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
    who: "the unit that coordinates the case (its centre, or its grid worker for matters kept in the grid)",
    may: isCoordinator,
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
  };
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
export function decide(c: CaseRecord, command: CaseCommand, actor: Actor, now: string): Decision | Refusal {
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
  }

  return {
    ok: true,
    record: next,
    event: { caseId: c.id, seq: next.seq, type, actor: actorRef(actor), at: now, payload },
  };
}
