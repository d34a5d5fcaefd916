import { CASE_SEVERITIES, CASE_TYPES, type CaseSeverity, type CaseState, type CaseType } from "./case-model";

/**
 * Time limits (时限) per case type × severity: how long a case may wait to be accepted, how long it may take
 * to resolve, when a warning (预警) is due before each deadline, and how long after a missed deadline the case
 * is escalated automatically. All durations are whole seconds. Pure: the clock is always passed in.
 */

/** The values of one policy entry, in seconds. */
export interface SlaValues {
  /** From `reported` until it must be accepted (受理时限). */
  acceptWithinSeconds: number;
  /** How long before the accept deadline the warning falls due. */
  acceptWarnBeforeSeconds: number;
  /** From acceptance (or reopening, or a new responsible unit) until it must be resolved (办结时限). */
  resolveWithinSeconds: number;
  /** How long before the resolve deadline the warning falls due. */
  resolveWarnBeforeSeconds: number;
  /** After a missed deadline, how long until the case is escalated to the next level automatically. */
  escalateGraceSeconds: number;
}

export const SLA_FIELDS = [
  "acceptWithinSeconds",
  "acceptWarnBeforeSeconds",
  "resolveWithinSeconds",
  "resolveWarnBeforeSeconds",
  "escalateGraceSeconds",
] as const satisfies ReadonlyArray<keyof SlaValues>;
export type SlaField = (typeof SLA_FIELDS)[number];

/** The longest duration a policy may set (one year). */
export const MAX_SLA_SECONDS = 365 * 24 * 3600;

const MIN = 60;
const HOUR = 3600;
const DAY = 24 * HOUR;

/** Built-in defaults by severity, for every case type: normal 24 h / 15 d, urgent 2 h / 3 d, critical 30 min / 24 h. */
export const DEFAULT_SLA: Readonly<Record<CaseSeverity, Readonly<SlaValues>>> = {
  normal: {
    acceptWithinSeconds: 24 * HOUR,
    acceptWarnBeforeSeconds: 4 * HOUR,
    resolveWithinSeconds: 15 * DAY,
    resolveWarnBeforeSeconds: 2 * DAY,
    escalateGraceSeconds: 1 * DAY,
  },
  urgent: {
    acceptWithinSeconds: 2 * HOUR,
    acceptWarnBeforeSeconds: 30 * MIN,
    resolveWithinSeconds: 3 * DAY,
    resolveWarnBeforeSeconds: 12 * HOUR,
    escalateGraceSeconds: 4 * HOUR,
  },
  critical: {
    acceptWithinSeconds: 30 * MIN,
    acceptWarnBeforeSeconds: 10 * MIN,
    resolveWithinSeconds: 24 * HOUR,
    resolveWarnBeforeSeconds: 4 * HOUR,
    escalateGraceSeconds: 1 * HOUR,
  },
};

/** `*` in a rule applies to every case type of that severity; a rule for a named type wins over it. */
export type SlaCaseType = CaseType | "*";

/** One rule a unit sets: some of the values for a (type, severity). Unset values are inherited. */
export interface SlaRule {
  caseType: SlaCaseType;
  severity: CaseSeverity;
  values: Partial<SlaValues>;
}

/** The rules one unit sets itself. */
export interface UnitSlaRules {
  unitId: string;
  rules: SlaRule[];
}

/** One (type, severity) of an effective policy, with the unit each value comes from (null = built-in default). */
export interface EffectiveSlaEntry {
  caseType: CaseType;
  severity: CaseSeverity;
  values: SlaValues;
  sources: Record<SlaField, string | null>;
}

/** The policy in force at a unit: one entry for every (type, severity). */
export interface EffectiveSlaPolicy {
  entries: EffectiveSlaEntry[];
}

/** A problem with a policy, as a field path and message (the route returns them as `errors`). */
export interface SlaError {
  path: string;
  message: string;
}

/**
 * The policy in force at a unit, from the rules of the unit and its ancestors (`chain`, root first): for each
 * value the nearest unit that sets it wins; at one unit a rule for the named type wins over `*`.
 *
 * @example
 * effectivePolicy([{ unitId: city, rules: [] }, { unitId: town, rules: [{ caseType: "*", severity: "critical", values: { acceptWithinSeconds: 600 } }] }])
 */
export function effectivePolicy(
  chain: readonly UnitSlaRules[],
  defaults: Readonly<Record<CaseSeverity, Readonly<SlaValues>>> = DEFAULT_SLA,
): EffectiveSlaPolicy {
  const nearestFirst = [...chain].reverse();
  const entries: EffectiveSlaEntry[] = [];
  for (const caseType of CASE_TYPES) {
    for (const severity of CASE_SEVERITIES) {
      const values = { ...defaults[severity] } as SlaValues;
      const sources = Object.fromEntries(SLA_FIELDS.map((f) => [f, null])) as Record<SlaField, string | null>;
      for (const field of SLA_FIELDS) {
        search: for (const unit of nearestFirst) {
          for (const wanted of [caseType, "*"] as const) {
            const rule = unit.rules.find((r) => r.caseType === wanted && r.severity === severity);
            const value = rule?.values[field];
            if (value !== undefined) {
              values[field] = value;
              sources[field] = unit.unitId;
              break search;
            }
          }
        }
      }
      entries.push({ caseType, severity, values, sources });
    }
  }
  return { entries };
}

/** The values in force for one (type, severity). */
export function slaValuesFor(
  policy: EffectiveSlaPolicy,
  caseType: CaseType,
  severity: CaseSeverity,
): SlaValues {
  const entry = policy.entries.find((e) => e.caseType === caseType && e.severity === severity);
  return entry ? entry.values : { ...DEFAULT_SLA[severity] };
}

/**
 * Checks the rules a unit wants to set: known type and severity, each (type, severity) at most once, every
 * duration a whole number of seconds above zero and at most a year, and within one rule no warning at or
 * after its deadline. Returns every problem found (empty when the rules are good).
 */
export function checkSlaRules(rules: readonly SlaRule[]): SlaError[] {
  const errors: SlaError[] = [];
  const seen = new Set<string>();
  rules.forEach((rule, i) => {
    const at = `rules.${i}`;
    if (rule.caseType !== "*" && !(CASE_TYPES as readonly string[]).includes(rule.caseType)) {
      errors.push({ path: `${at}.caseType`, message: "unknown case type" });
    }
    if (!(CASE_SEVERITIES as readonly string[]).includes(rule.severity)) {
      errors.push({ path: `${at}.severity`, message: "unknown severity" });
    }
    const key = `${rule.caseType}:${rule.severity}`;
    if (seen.has(key)) errors.push({ path: at, message: `a second rule for ${key}` });
    seen.add(key);
    for (const field of SLA_FIELDS) {
      const value = rule.values[field];
      if (value === undefined) continue;
      if (!Number.isInteger(value) || value <= 0) {
        errors.push({ path: `${at}.${field}`, message: "must be a whole number of seconds above zero" });
      } else if (value > MAX_SLA_SECONDS) {
        errors.push({
          path: `${at}.${field}`,
          message: `must be at most ${MAX_SLA_SECONDS} seconds (a year)`,
        });
      }
    }
    errors.push(...warningErrors(rule.values, at));
  });
  return errors;
}

/**
 * Checks a whole effective policy: in every entry each warning falls strictly before its deadline (a unit
 * that shortens a deadline must not leave an inherited warning at or past it). Returns every problem found.
 */
export function checkEffectivePolicy(policy: EffectiveSlaPolicy): SlaError[] {
  return policy.entries.flatMap((e) => warningErrors(e.values, `${e.caseType}:${e.severity}`));
}

function warningErrors(values: Partial<SlaValues>, at: string): SlaError[] {
  const errors: SlaError[] = [];
  const pairs = [
    ["acceptWarnBeforeSeconds", "acceptWithinSeconds"],
    ["resolveWarnBeforeSeconds", "resolveWithinSeconds"],
  ] as const;
  for (const [warn, within] of pairs) {
    const w = values[warn];
    const d = values[within];
    if (w !== undefined && d !== undefined && w > 0 && d > 0 && w >= d) {
      errors.push({
        path: `${at}.${warn}`,
        message: `the warning must fall before the deadline (less than ${within})`,
      });
    }
  }
  return errors;
}

/** Which clock runs in a state: waiting to be accepted, or being handled until resolved; none once resolved. */
export type SlaPhase = "accept" | "resolve";

/** The clock that runs while a case is in `state` (null: no deadline, e.g. resolved, closed, rejected, merged). */
export function slaPhaseOf(state: CaseState): SlaPhase | null {
  switch (state) {
    case "reported":
      return "accept";
    case "accepted":
    case "dispatched":
    case "in_progress":
    case "reopened":
      return "resolve";
    default:
      return null;
  }
}

/** The deadlines a case records when its clock starts; they never move when the policy changes later. */
export interface CaseDeadlines {
  phase: SlaPhase;
  startedAt: string;
  /** 预警 */
  warnAt: string;
  /** 超期 */
  dueAt: string;
  /** Automatic escalation to the next level. */
  escalateAt: string;
}

type Instant = Date | string | number;
const ms = (t: Instant) => (t instanceof Date ? t.getTime() : typeof t === "number" ? t : Date.parse(t));
const iso = (t: number) => new Date(t).toISOString();

/**
 * The deadlines of a clock started at `startedAt` under `values`. A warning that would fall before the start
 * (possible only with an inconsistent policy) is moved to the start.
 *
 * @example
 * computeDeadlines("accept", "2026-01-01T00:00:00.000Z", DEFAULT_SLA.critical).dueAt // "2026-01-01T00:30:00.000Z"
 */
export function computeDeadlines(phase: SlaPhase, startedAt: Instant, values: SlaValues): CaseDeadlines {
  const start = ms(startedAt);
  const within = phase === "accept" ? values.acceptWithinSeconds : values.resolveWithinSeconds;
  const warnBefore = phase === "accept" ? values.acceptWarnBeforeSeconds : values.resolveWarnBeforeSeconds;
  const due = start + within * 1000;
  return {
    phase,
    startedAt: iso(start),
    warnAt: iso(Math.max(start, due - warnBefore * 1000)),
    dueAt: iso(due),
    escalateAt: iso(due + values.escalateGraceSeconds * 1000),
  };
}

/**
 * The deadlines for a case that entered `state` at `enteredAt`, under the policy in force at its responsible
 * unit; null when no clock runs in that state.
 */
export function deadlinesForCase(
  input: { state: CaseState; enteredAt: Instant; caseType: CaseType; severity: CaseSeverity },
  policy: EffectiveSlaPolicy,
): CaseDeadlines | null {
  const phase = slaPhaseOf(input.state);
  if (phase === null) return null;
  return computeDeadlines(phase, input.enteredAt, slaValuesFor(policy, input.caseType, input.severity));
}

/** Case event types the GridDesk records for the deadline steps (read back by the resolution-level figures). */
export const SLA_EVENT_TYPES = { warned: "warned", overdue: "overdue" } as const;

/** The steps a deadline goes through, in order: warned (预警) → overdue (超期, supervision notice) → escalate. */
export const SLA_STEPS = ["warned", "overdue", "escalate"] as const;
export type SlaStep = (typeof SLA_STEPS)[number];

const stepAt = (d: CaseDeadlines, step: SlaStep) =>
  step === "warned" ? d.warnAt : step === "overdue" ? d.dueAt : d.escalateAt;

/**
 * The steps due at `now` that have not been taken yet, in order (`done` is the last step already recorded,
 * null if none). Idempotent: once the caller records the last returned step, the same call returns nothing.
 *
 * @example
 * dueSlaSteps(deadlines, null, deadlines.dueAt) // ["warned", "overdue"]
 */
export function dueSlaSteps(d: CaseDeadlines, done: SlaStep | null, now: Instant): SlaStep[] {
  const from = done === null ? 0 : SLA_STEPS.indexOf(done) + 1;
  const t = ms(now);
  return SLA_STEPS.slice(from).filter((step) => ms(stepAt(d, step)) <= t);
}

/** When the next step after `done` falls due (for re-arming the alarm), or null when every step was taken. */
export function nextSlaStepAt(d: CaseDeadlines, done: SlaStep | null): string | null {
  const from = done === null ? 0 : SLA_STEPS.indexOf(done) + 1;
  const step = SLA_STEPS[from];
  return step ? stepAt(d, step) : null;
}

/**
 * The time-limit rules of some units, as a route or the GridDesk loaded them before a command: every unit in
 * `unitIds` was looked up (one absent from `rules` sets none). `unavailable` means the registry could not be
 * read, so the built-in defaults apply and the case records that it ran on them.
 */
export interface SlaRulesBook {
  unitIds: string[];
  rules: Record<string, SlaRule[]>;
  unavailable?: boolean;
}

/** Which policy a case's clock was computed with: the unit's effective policy, or the built-in defaults. */
export type ClockPolicy = "effective" | "default";

/**
 * The policy in force at `unitPath` according to `book`: its effective policy when the book holds every unit
 * on the path, the defaults when there is no book or the registry was unavailable, and null when the book
 * does not cover the path (the caller must load it first).
 *
 * @example
 * policyFromBook({ unitIds: [city, town], rules: {} }, `/${city}/${town}/`) // { policy, source: "effective" }
 */
export function policyFromBook(
  book: SlaRulesBook | null | undefined,
  unitPath: string,
): { policy: EffectiveSlaPolicy; source: ClockPolicy } | null {
  if (!book || book.unavailable) return { policy: effectivePolicy([]), source: "default" };
  const ids = unitPath.split("/").filter(Boolean);
  if (!ids.every((id) => book.unitIds.includes(id))) return null;
  return {
    policy: effectivePolicy(ids.map((unitId) => ({ unitId, rules: book.rules[unitId] ?? [] }))),
    source: "effective",
  };
}

/** A case's running clock (时限): its deadlines, the unit they run for, the last step taken and the policy used. */
export interface CaseClock extends CaseDeadlines {
  /** The responsible unit when the clock started. */
  unitId: string;
  /** The last deadline step already recorded (null: none yet). */
  step: SlaStep | null;
  policy: ClockPolicy;
}

/**
 * Starts a clock for a case entering `state` at `now` with `unitId` responsible; `dueAt` (a send-down's or a
 * supervision's own deadline) replaces the policy's deadline, keeping its warning lead and grace period.
 */
export function startClock(
  input: { state: CaseState; caseType: CaseType; severity: CaseSeverity; unitId: string; now: Instant },
  policy: { policy: EffectiveSlaPolicy; source: ClockPolicy },
  dueAt?: string | null,
): CaseClock | null {
  const d = deadlinesForCase({ ...input, enteredAt: input.now }, policy.policy);
  if (d === null) return null;
  if (dueAt) {
    const values = slaValuesFor(policy.policy, input.caseType, input.severity);
    const warn = d.phase === "accept" ? values.acceptWarnBeforeSeconds : values.resolveWarnBeforeSeconds;
    const due = ms(dueAt);
    d.dueAt = iso(due);
    d.warnAt = iso(Math.max(ms(d.startedAt), due - warn * 1000));
    d.escalateAt = iso(due + values.escalateGraceSeconds * 1000);
  }
  return { ...d, unitId: input.unitId, step: null, policy: policy.source };
}

/**
 * When the clock's next step falls due (epoch ms), or null when nothing is left: every step taken, or only
 * the escalation left where there is nowhere to escalate to (the city).
 */
export function clockNextAt(clock: CaseClock | null | undefined, canEscalate: boolean): number | null {
  if (!clock) return null;
  const from = clock.step === null ? 0 : SLA_STEPS.indexOf(clock.step) + 1;
  const step = SLA_STEPS[from];
  if (!step || (step === "escalate" && !canEscalate)) return null;
  return ms(stepAt(clock, step));
}
