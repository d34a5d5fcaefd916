import type { Role } from "./roles";
import type { CaseClock } from "./sla";
import type { UnitLevel } from "./units";

/** Case types with their Chinese labels; a city may extend the list (`other` catches the rest). */
export const CASE_TYPES = [
  "dispute",
  "safety_hazard",
  "public_security",
  "livelihood",
  "assistance",
  "proxy_service",
  "emergency",
  "environment",
  "other",
] as const;
export type CaseType = (typeof CASE_TYPES)[number];

export const CASE_TYPE_LABELS: Record<CaseType, string> = {
  dispute: "矛盾纠纷",
  safety_hazard: "安全隐患",
  public_security: "治安",
  livelihood: "民生诉求",
  assistance: "社会救助",
  proxy_service: "代办事项",
  emergency: "应急",
  environment: "环境",
  other: "其他",
};

export const CASE_SEVERITIES = ["normal", "urgent", "critical"] as const;
export type CaseSeverity = (typeof CASE_SEVERITIES)[number];

export const CASE_SEVERITY_LABELS: Record<CaseSeverity, string> = {
  normal: "一般",
  urgent: "紧急",
  critical: "特急",
};

/** Lifecycle states: the closed loop plus its side exits. */
export const CASE_STATES = [
  "reported",
  "accepted",
  "dispatched",
  "in_progress",
  "resolved",
  "closed",
  "rejected",
  "merged",
  "reopened",
] as const;
export type CaseState = (typeof CASE_STATES)[number];

export const CASE_STATE_LABELS: Record<CaseState, string> = {
  reported: "已上报",
  accepted: "已受理",
  dispatched: "已分流",
  in_progress: "办理中",
  resolved: "已办结",
  closed: "已归档",
  rejected: "不予受理",
  merged: "已合并（重复）",
  reopened: "重新办理",
};

/** States in which a case is still open work (used for duplicate hints and live lists). */
export const OPEN_STATES: readonly CaseState[] = [
  "reported",
  "accepted",
  "dispatched",
  "in_progress",
  "reopened",
];

/** States a case never leaves. */
export const TERMINAL_STATES: readonly CaseState[] = ["rejected", "merged"];

export const SATISFACTIONS = ["satisfied", "basically_satisfied", "dissatisfied"] as const;
export type Satisfaction = (typeof SATISFACTIONS)[number];

export const SATISFACTION_LABELS: Record<Satisfaction, string> = {
  satisfied: "满意",
  basically_satisfied: "基本满意",
  dissatisfied: "不满意",
};

export const MEDIATION_METHODS = ["on_site", "joint", "people_mediation", "judicial", "other"] as const;
export const MEDIATION_RESULTS = ["pending", "agreed", "partially_agreed", "failed"] as const;

/** The mediation section every dispute carries (调解). */
export interface Mediation {
  parties?: Array<{ name: string; role?: string }>;
  subject?: string;
  /** Amount in dispute, in yuan. */
  amountInvolved?: number;
  peopleInvolved?: number;
  method?: (typeof MEDIATION_METHODS)[number];
  mediator?: string;
  result?: (typeof MEDIATION_RESULTS)[number];
}

export interface CaseLocation {
  lat?: number;
  lng?: number;
  address?: string;
}

/** A unit as a case refers to it: enough to check scope and level without the registry. */
export interface UnitRef {
  id: string;
  path: string;
  level: UnitLevel;
}

/** The unit (and, for departments, the department name) currently handling a case. */
export interface ResponsibleRef extends UnitRef {
  /** Set when the case was dispatched to a department of the unit (e.g. "司法所"). */
  department: string | null;
}

/** Who may act in the case loop: a staff or three-line role, or a resident (群众) through their own channel. */
export type CaseActorRole = Role | "resident";

/** Who performs a command, from their verified token. */
export interface Actor {
  userId: string;
  role: CaseActorRole;
  unitId: string;
  unitPath: string;
  unitLevel: UnitLevel;
}

export interface AttachmentRef {
  id: string;
  contentType: string;
  size: number;
  at: string;
  by: string;
  /** The case state when it was added: photos added after `reported` count as handling evidence. */
  stage: CaseState;
}

/** One case, as its GridDesk stores it and every read returns it. */
export interface CaseRecord {
  id: string;
  type: CaseType;
  severity: CaseSeverity;
  state: CaseState;
  version: number;
  /** The seq of the case's latest event; equals `version` (every change is one event). */
  seq: number;
  title: string;
  description: string;
  location: CaseLocation | null;
  householdIds: string[];
  residentIds: string[];
  mediation: Mediation | null;
  reporter: { userId: string; role: CaseActorRole; unitId: string };
  /** The unit where the case was reported; it owns the case (its GridDesk) for life. */
  owningUnit: UnitRef;
  /** The unit currently responsible for the case. */
  responsibleUnit: ResponsibleRef;
  /** The unit that accepted the case and coordinates it (return visit, close); null until accepted. */
  coordinatorUnit: UnitRef | null;
  rejection: { reason: string; at: string; by: string } | null;
  mergedInto: string | null;
  resolution: { note: string; at: string; by: string } | null;
  returnVisit: { satisfaction: Satisfaction; note: string | null; at: string; by: string } | null;
  attachments: AttachmentRef[];
  reopenCount: number;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** The running time limit (时限): deadlines of the current state at the responsible unit; null when none runs. */
  deadlines?: CaseClock | null;
  /** Whether the case ever went past a deadline (超期). */
  overdue?: boolean;
  /** How many times the case was escalated to a higher level. */
  escalationCount?: number;
  /** Supervision (督办) and urging (催办) notices from higher centres, oldest first. */
  notices?: CaseNotice[];
}

/** A supervision (督办) or urging (催办) notice on a case, shown on it and in the responsible unit's inbox. */
export interface CaseNotice {
  kind: "supervision" | "urge";
  seq: number;
  at: string;
  by: string;
  fromUnitId: string;
  /** The unit responsible when the notice was given (its inbox receives it). */
  toUnitId: string;
  message: string;
  deadline: string | null;
}

/** The content of a new report, as validated by the route. */
export interface NewCase {
  id: string;
  type: CaseType;
  severity: CaseSeverity;
  title: string;
  description: string;
  location: CaseLocation | null;
  householdIds: string[];
  residentIds: string[];
  mediation: Mediation | null;
}

/** An event in a case's log: gap-free `seq` per case. */
export interface CaseEvent {
  caseId: string;
  seq: number;
  type: string;
  actor: { userId: string; role: CaseActorRole; unitId: string } | { system: string };
  at: string;
  payload: Record<string, unknown>;
}

/** What the GridDesk's outbox sends to the `case-events` queue: one event with the case as it stood after it. */
export interface CaseEventMessage {
  kind: "case-event";
  caseId: string;
  seq: number;
  event: CaseEvent;
  record: CaseRecord;
  /** The owning desk's earliest open deadline step after this event (ISO), for the alarm watchdog. */
  deskNextAlarmAt?: string | null;
  /**
   * The event's desk sequence number: desk-wide, gap-free, in commit order (absent on events recorded before
   * desks counted them). The projection advances its per-desk watermark over these.
   */
  dseq?: number;
  /** The id of the GridDesk that recorded the event (`DurableObjectId.toString()`), with `dseq`. */
  deskId?: string;
}
