import type { HouseholdClass } from "./classification";
import { inScope, pathIds } from "./units";

/** Kinds of emergency event. */
export const EMERGENCY_KINDS = ["flood", "landslide", "earthquake", "fire", "epidemic", "other"] as const;
export type EmergencyKind = (typeof EMERGENCY_KINDS)[number];

export const EMERGENCY_KIND_LABELS: Record<EmergencyKind, string> = {
  flood: "洪涝",
  landslide: "山体滑坡",
  earthquake: "地震",
  fire: "火灾",
  epidemic: "疫情",
  other: "其他",
};

/** Response levels, I the most severe (Ⅰ级 特别重大) to IV (Ⅳ级 一般). */
export const RESPONSE_LEVELS = ["I", "II", "III", "IV"] as const;
export type ResponseLevel = (typeof RESPONSE_LEVELS)[number];

/** The national warning colour of each response level. */
export const LEVEL_COLOURS: Record<ResponseLevel, "red" | "orange" | "yellow" | "blue"> = {
  I: "red",
  II: "orange",
  III: "yellow",
  IV: "blue",
};

export const LEVEL_LABELS: Record<ResponseLevel, string> = {
  I: "Ⅰ级（红色，特别重大）",
  II: "Ⅱ级（橙色，重大）",
  III: "Ⅲ级（黄色，较大）",
  IV: "Ⅳ级（蓝色，一般）",
};

/** How long a household may go unreached before it is escalated, by level (minutes). */
export const REACH_INTERVAL_MINUTES: Record<ResponseLevel, number> = { I: 120, II: 240, III: 480, IV: 720 };

/** What a responder found at a household. */
export const CHECKIN_OUTCOMES = ["reached_safe", "moved", "needs_help", "not_reached"] as const;
export type CheckinOutcome = (typeof CHECKIN_OUTCOMES)[number];

export const CHECKIN_OUTCOME_LABELS: Record<CheckinOutcome, string> = {
  reached_safe: "已联系，安全",
  moved: "已转移（安置点）",
  needs_help: "需要救助",
  not_reached: "未联系上（已尝试）",
};

/** A roster line's state: `pending` until the first check-in, then the latest outcome. */
export type LineStatus = "pending" | CheckinOutcome;

/** Resident tags that put a household at the head of the roster (vulnerable residents). */
export const VULNERABLE_TAGS = [
  "elderly_living_alone",
  "left_behind_elderly",
  "disabled",
  "left_behind_child",
] as const;
const VULNERABLE: ReadonlySet<string> = new Set(VULNERABLE_TAGS);

/** Whether a resident with these tags is a vulnerable resident for the roster. */
export function isVulnerable(tags: readonly string[]): boolean {
  return tags.some((t) => VULNERABLE.has(t));
}

/** Levels that may declare or command an event (town centres and above). */
export const COMMAND_LEVELS = ["city", "county", "town"] as const;

/** Whether a unit of `level` may command an emergency event. */
export function mayCommand(level: string): boolean {
  return (COMMAND_LEVELS as readonly string[]).includes(level);
}

/** What the roster order needs of a household. */
export interface RosterCandidate {
  householdId: string;
  householdClass: HouseholdClass;
  address: string;
  vulnerableCount: number;
}

/**
 * The priority band of a household: 0 with a vulnerable resident, then 1 red, 2 yellow, 3 green.
 *
 * @example
 * rosterBand({ householdClass: "green", vulnerableCount: 1 }) // 0
 */
export function rosterBand(h: Pick<RosterCandidate, "householdClass" | "vulnerableCount">): number {
  if (h.vulnerableCount > 0) return 0;
  return h.householdClass === "red" ? 1 : h.householdClass === "yellow" ? 2 : 3;
}

/** Households in roster order: band, then more vulnerable residents first, then address and id (stable). */
export function rosterOrder<T extends RosterCandidate>(households: readonly T[]): T[] {
  return [...households].sort(
    (a, b) =>
      rosterBand(a) - rosterBand(b) ||
      b.vulnerableCount - a.vulnerableCount ||
      (a.address < b.address ? -1 : a.address > b.address ? 1 : 0) ||
      (a.householdId < b.householdId ? -1 : a.householdId > b.householdId ? 1 : 0),
  );
}

/** A line counts as reached once someone spoke to the household (safe, moved or needing help). */
export function isReached(status: LineStatus): boolean {
  return status === "reached_safe" || status === "moved" || status === "needs_help";
}

/** Changes of an event's level or units, and its end. */
export type EventChange =
  | { type: "raise" | "lower"; level: ResponseLevel }
  | { type: "add_units"; unitPaths: string[] }
  | { type: "stand_down" };

/** The state of an event that changes are checked against. */
export interface EventState {
  level: ResponseLevel;
  status: "active" | "stood_down";
  commandUnitPath: string;
  affectedPaths: string[];
}

/** A refusal of a change: status and slug for the problem. */
export interface ChangeRefusal {
  ok: false;
  status: 400 | 403 | 404 | 409;
  code: string;
  detail: string;
}

const rank = (l: ResponseLevel) => RESPONSE_LEVELS.indexOf(l);

/**
 * Whether a centre at `actorPath` may make `change` to the event: only the commanding centre or one above it;
 * a raise goes to a more severe level (toward I), a lower to a less severe one; added units lie in the
 * commanding centre's subtree and are not already covered; nothing changes after the stand-down.
 */
export function checkChange(
  event: EventState,
  change: EventChange,
  actorPath: string,
): { ok: true } | ChangeRefusal {
  const refuse = (status: ChangeRefusal["status"], code: string, detail: string): ChangeRefusal => ({
    ok: false,
    status,
    code,
    detail,
  });
  if (!inScope(actorPath, event.commandUnitPath)) {
    return refuse(403, "not-commanding-centre", "Only the commanding centre or one above it may do this");
  }
  if (event.status !== "active") return refuse(409, "event-stood-down", "The event has been stood down");
  if (change.type === "raise" && rank(change.level) >= rank(event.level)) {
    return refuse(409, "level-not-higher", `Level ${change.level} is not above ${event.level}`);
  }
  if (change.type === "lower" && rank(change.level) <= rank(event.level)) {
    return refuse(409, "level-not-lower", `Level ${change.level} is not below ${event.level}`);
  }
  if (change.type === "add_units") {
    for (const p of change.unitPaths) {
      if (!inScope(event.commandUnitPath, p)) {
        return refuse(400, "unit-outside-command", "Affected units lie in the commanding centre's subtree");
      }
      if (event.affectedPaths.some((a) => inScope(a, p))) {
        return refuse(409, "unit-already-affected", "A unit is already covered by the event");
      }
    }
  }
  return { ok: true };
}

/** Paths with those already inside another of them removed (the event's affected subtrees). */
export function outermost(paths: readonly string[]): string[] {
  const unique = [...new Set(paths)].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const p of unique) if (!kept.some((k) => inScope(k, p))) kept.push(p);
  return kept;
}

/** The id of the town a grid path lies in (the path's fourth id: city, county, town), or null. */
export function townOfPath(path: string): string | null {
  return pathIds(path)[2] ?? null;
}

/** The id of the village a grid path lies in, or null. */
export function villageOfPath(path: string): string | null {
  return pathIds(path)[3] ?? null;
}

/** The child of `unitPath` on the way to `path` (its id), or null when `path` is the unit itself or outside it. */
export function childOnTheWay(unitPath: string, path: string): string | null {
  if (!inScope(unitPath, path) || unitPath === path) return null;
  return pathIds(path)[pathIds(unitPath).length] ?? null;
}

/** One step of vulnerable residents reached: when, and how many more (or fewer, on a correction). */
export interface ReachStep {
  at: string;
  delta: number;
}

/**
 * Minutes from `start` until the cumulative reach first got to each fraction of `total` (null when it never
 * did, or when there is nobody to reach).
 *
 * @example
 * timeToFractions("2026-07-01T00:00:00Z", 4, [{ at: "2026-07-01T00:30:00Z", delta: 2 }], [0.5, 1]) // [30, null]
 */
export function timeToFractions(
  start: string,
  total: number,
  steps: readonly ReachStep[],
  fractions: readonly number[],
): Array<number | null> {
  const sorted = [...steps].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return fractions.map((f) => {
    if (total <= 0) return null;
    const need = Math.ceil(total * f);
    let sum = 0;
    for (const s of sorted) {
      sum += s.delta;
      if (sum >= need) return Math.max(0, Math.round((Date.parse(s.at) - Date.parse(start)) / 60_000));
    }
    return null;
  });
}

/** When a roster's unreached households fall due for escalation. */
export function reachDueAt(from: number, level: ResponseLevel, overrideMinutes?: number | null): number {
  return from + (overrideMinutes ?? REACH_INTERVAL_MINUTES[level]) * 60_000;
}
