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

/**
 * The time limits a unit above may cap, where a smaller value is tighter. Warning leads are not capped: they
 * only have to fall before their deadline.
 */
export const CAPPED_SLA_FIELDS = [
  "acceptWithinSeconds",
  "resolveWithinSeconds",
  "escalateGraceSeconds",
] as const satisfies readonly SlaField[];
export type CappedSlaField = (typeof CAPPED_SLA_FIELDS)[number];

const isCapped = (field: SlaField): field is CappedSlaField =>
  (CAPPED_SLA_FIELDS as readonly SlaField[]).includes(field);

/**
 * A time limit set by a unit, which bounds the units below it: the unit, the rule it is in (`*` or a named
 * type) and its value in seconds.
 */
export interface SlaCap {
  unitId: string;
  ruleType: SlaCaseType;
  value: number;
}

/**
 * Leave to exceed a cap, granted by the unit that set it or by an admin when the rule was written. It holds
 * while that unit's value is no tighter than `value`; once the unit tightens further the cap applies again.
 */
export type SlaWaiver = SlaCap;

/** One rule a unit sets: some of the values for a (type, severity). Unset values are inherited. */
export interface SlaRule {
  caseType: SlaCaseType;
  severity: CaseSeverity;
  values: Partial<SlaValues>;
  /** Caps from units above that this rule's values may exceed (recorded by the service, never sent by clients). */
  waivers?: Partial<Record<CappedSlaField, SlaWaiver[]>>;
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
  /**
   * For each time limit a unit above bounds at the last unit of the chain, the tightest such value and the
   * unit that set it (a cap that unit holds leave to exceed is not listed).
   */
  caps: Partial<Record<CappedSlaField, SlaCap>>;
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
 * value the nearest unit that sets it wins, at one unit a rule for the named type wins over `*`, and a time
 * limit is never looser than the tightest value a unit above set (its cap), unless the unit holds leave to
 * exceed that cap (see `applySlaCaps`). A value cut to a cap names the capping unit as its source.
 *
 * @example
 * effectivePolicy([{ unitId: city, rules: [] }, { unitId: town, rules: [{ caseType: "*", severity: "critical", values: { acceptWithinSeconds: 600 } }] }])
 */
export function effectivePolicy(
  chain: readonly UnitSlaRules[],
  defaults: Readonly<Record<CaseSeverity, Readonly<SlaValues>>> = DEFAULT_SLA,
): EffectiveSlaPolicy {
  const entries: EffectiveSlaEntry[] = [];
  for (const caseType of CASE_TYPES) {
    for (const severity of CASE_SEVERITIES) {
      const { values, sources, ceilings } = walkChain(chain, caseType, severity, defaults);
      entries.push({ caseType, severity, values, sources, caps: ceilings });
    }
  }
  return { entries };
}

/** The value a unit's rules set for one (type, severity) and field, and the rule it is in. */
function valueSetBy(
  rules: readonly SlaRule[],
  caseType: CaseType,
  severity: CaseSeverity,
  field: SlaField,
): { value: number; rule: SlaRule } | null {
  for (const wanted of [caseType, "*"] as const) {
    const rule = rules.find((r) => r.caseType === wanted && r.severity === severity);
    const value = rule?.values[field];
    if (rule && value !== undefined) return { value, rule };
  }
  return null;
}

/** Whether `rule` holds leave to exceed `cap` for `field` (granted at a value the cap has not gone below). */
function waives(rule: SlaRule, field: CappedSlaField, cap: SlaCap): boolean {
  return (rule.waivers?.[field] ?? []).some(
    (w) => w.unitId === cap.unitId && w.ruleType === cap.ruleType && cap.value >= w.value,
  );
}

/** The tightest cap (the farthest unit above wins a tie), or null. */
function tightest(caps: readonly SlaCap[]): SlaCap | null {
  return caps.reduce<SlaCap | null>((t, c) => (t === null || c.value < t.value ? c : t), null);
}

const WARNINGS = [
  ["acceptWarnBeforeSeconds", "acceptWithinSeconds"],
  ["resolveWarnBeforeSeconds", "resolveWithinSeconds"],
] as const;

interface ChainWalk {
  values: SlaValues;
  sources: Record<SlaField, string | null>;
  /** The caps in force below the chain's last unit, per field. */
  caps: Record<CappedSlaField, SlaCap[]>;
  /** The tightest cap from above that binds the chain's last unit, per field. */
  ceilings: Partial<Record<CappedSlaField, SlaCap>>;
}

/**
 * Walks the chain root first for one (type, severity), keeping every cap set so far. A value above a cap it
 * holds no leave for is cut to the tightest such cap; a warning left at or after a deadline cut that way takes
 * the capping unit's warning lead, so a unit above can tighten without tripping on a warning set below.
 */
function walkChain(
  chain: readonly UnitSlaRules[],
  caseType: CaseType,
  severity: CaseSeverity,
  defaults: Readonly<Record<CaseSeverity, Readonly<SlaValues>>>,
): ChainWalk {
  const values = { ...defaults[severity] } as SlaValues;
  const sources = Object.fromEntries(SLA_FIELDS.map((f) => [f, null])) as Record<SlaField, string | null>;
  const caps: Record<CappedSlaField, SlaCap[]> = {
    acceptWithinSeconds: [],
    resolveWithinSeconds: [],
    escalateGraceSeconds: [],
  };
  const ceilings: Partial<Record<CappedSlaField, SlaCap>> = {};
  const seen = new Map<string, { values: SlaValues; sources: Record<SlaField, string | null> }>();
  chain.forEach((unit, i) => {
    const cutBy: Partial<Record<SlaField, string>> = {};
    for (const field of SLA_FIELDS) {
      const set = valueSetBy(unit.rules, caseType, severity, field);
      if (!isCapped(field)) {
        if (set) [values[field], sources[field]] = [set.value, unit.unitId];
        continue;
      }
      const above = caps[field];
      const open = set ? above.filter((c) => !waives(set.rule, field, c)) : above;
      if (i === chain.length - 1) {
        const ceiling = tightest(open);
        if (ceiling) ceilings[field] = ceiling;
      }
      if (!set) continue;
      const binding = tightest(open.filter((c) => set.value > c.value));
      if (binding) cutBy[field] = binding.unitId;
      [values[field], sources[field]] = binding ? [binding.value, binding.unitId] : [set.value, unit.unitId];
      // Caps this value holds leave to exceed no longer bind the subtree below, where this value applies.
      const kept = above.filter((c) => set.value <= c.value || open.includes(c));
      caps[field] = [...kept, { unitId: unit.unitId, ruleType: set.rule.caseType, value: set.value }];
    }
    for (const [warn, within] of WARNINGS) {
      const capper = cutBy[within];
      const then = capper === undefined ? undefined : seen.get(capper);
      if (then && values[warn] >= values[within] && then.values[warn] < values[within]) {
        [values[warn], sources[warn]] = [then.values[warn], then.sources[warn]];
      }
    }
    seen.set(unit.unitId, { values: { ...values }, sources: { ...sources } });
  });
  return { values, sources, caps, ceilings };
}

/** A value a unit wants to set above a cap it may not lift. */
export interface SlaCapViolation {
  /** `rules.<i>.<field>` of the request. */
  path: string;
  field: CappedSlaField;
  /** The first case type (and the severity) the value would apply to above the cap. */
  caseType: CaseType;
  severity: CaseSeverity;
  value: number;
  /** The tightest cap it exceeds without leave, and the unit that set it. */
  cap: number;
  capUnitId: string;
}

/**
 * Checks the rules a unit wants to set against the caps of the units above it (`above`: their own rules, root
 * first). A unit may tighten what it inherits; a value above a cap needs the unit that set the cap (the
 * actor's unit) or an admin, or leave already held for at least that value in the unit's `previous` rules.
 * Returns the rules with every lifted cap recorded as a waiver, and a violation for each value above a cap
 * that may not be lifted (the tightest one per rule and field).
 *
 * @example
 * applySlaCaps([{ unitId: town, rules: [{ caseType: "*", severity: "critical", values: { acceptWithinSeconds: 1800 } }] }],
 *   [{ caseType: "*", severity: "critical", values: { acceptWithinSeconds: 31536000 } }], [], { unitId: village, admin: false })
 *   .violations // [{ path: "rules.0.acceptWithinSeconds", cap: 1800, capUnitId: town, … }]
 */
export function applySlaCaps(
  above: readonly UnitSlaRules[],
  rules: readonly SlaRule[],
  previous: readonly SlaRule[],
  actor: { unitId: string; admin: boolean },
): { rules: SlaRule[]; violations: SlaCapViolation[] } {
  const walks = new Map<string, ChainWalk>();
  const capsFor = (caseType: CaseType, severity: CaseSeverity, field: CappedSlaField) => {
    const key = `${caseType}:${severity}`;
    const walk = walks.get(key) ?? walkChain(above, caseType, severity, DEFAULT_SLA);
    walks.set(key, walk);
    return walk.caps[field];
  };
  const violations: SlaCapViolation[] = [];
  const out = rules.map((rule, i): SlaRule => {
    const { waivers: _ignored, ...bare } = rule;
    const granted: Partial<Record<CappedSlaField, SlaWaiver[]>> = {};
    const before = previous.find((p) => p.caseType === rule.caseType && p.severity === rule.severity);
    for (const field of CAPPED_SLA_FIELDS) {
      const value = rule.values[field];
      if (value === undefined) continue;
      const held = (cap: SlaCap) => {
        const was = before?.values[field];
        return before !== undefined && was !== undefined && value <= was && waives(before, field, cap);
      };
      const refused = new Map<string, SlaCapViolation>();
      for (const caseType of typesOf(rules, rule, field)) {
        for (const cap of capsFor(caseType, rule.severity, field)) {
          if (value <= cap.value) continue;
          if (actor.admin || actor.unitId === cap.unitId || held(cap)) {
            const list = granted[field] ?? [];
            granted[field] = list;
            if (!list.some((w) => w.unitId === cap.unitId && w.ruleType === cap.ruleType))
              list.push({ ...cap });
            continue;
          }
          const known = refused.get(field);
          if (!known || cap.value < known.cap) {
            refused.set(field, {
              path: `rules.${i}.${field}`,
              field,
              caseType,
              severity: rule.severity,
              value,
              cap: cap.value,
              capUnitId: cap.unitId,
            });
          }
        }
      }
      violations.push(...refused.values());
    }
    return Object.keys(granted).length ? { ...bare, waivers: granted } : bare;
  });
  return { rules: out, violations };
}

/** The case types a rule's value for `field` applies to among `rules` (a `*` rule yields to a named one setting it). */
function typesOf(rules: readonly SlaRule[], rule: SlaRule, field: SlaField): CaseType[] {
  if (rule.caseType !== "*") return [rule.caseType];
  return CASE_TYPES.filter(
    (t) =>
      !rules.some((r) => r.caseType === t && r.severity === rule.severity && r.values[field] !== undefined),
  );
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
