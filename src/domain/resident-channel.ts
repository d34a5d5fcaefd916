import type { CaseState } from "./case-model";

/** Sign-in codes are 6 digits. */
export const RESIDENT_CODE_DIGITS = 6;
/** A sign-in code is valid 5 minutes. */
export const RESIDENT_CODE_TTL_SECONDS = 5 * 60;
/** A resident's access token lives 1 hour; the refresh token then gives the next one without a new code. */
export const RESIDENT_TOKEN_TTL_SECONDS = 60 * 60;
/** A resident's refresh token lives 30 days (as staff's); each use spends it and gives the next. */
export const RESIDENT_REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

/**
 * How many codes may be sent, per mobile number and per client IP, within a window: a number gets one code a
 * minute and five an hour; one address asks for at most twenty numbers' codes an hour.
 */
export const CODE_SEND_LIMITS = [
  { bucket: "mobile", windowSeconds: 60, max: 1 },
  { bucket: "mobile", windowSeconds: 3600, max: 5 },
  { bucket: "ip", windowSeconds: 3600, max: 20 },
] as const;

/** One window of the code-sending limits. */
export type CodeSendLimit = (typeof CODE_SEND_LIMITS)[number];

/**
 * A mainland mobile number in its 11-digit form (`13812345678`), from what a person types: spaces, dashes and
 * a `+86`/`0086` prefix are dropped. Null for anything else.
 *
 * @example
 * normalizeMobile("+86 138-1234-5678"); // "13812345678"
 */
export function normalizeMobile(input: string): string | null {
  const compact = input.replace(/[\s-]/g, "").replace(/^(\+86|0086)/, "");
  return /^1[3-9]\d{9}$/.test(compact) ? compact : null;
}

/** Which limit a new code would break, given the times (ms) of earlier sends to the number and from the IP; null if none. */
export function codeSendRefusal(
  mobileSends: readonly number[],
  ipSends: readonly number[],
  now: number,
): { limit: CodeSendLimit; retryAfterSeconds: number } | null {
  for (const limit of CODE_SEND_LIMITS) {
    const since = now - limit.windowSeconds * 1000;
    const times = (limit.bucket === "mobile" ? mobileSends : ipSends).filter((t) => t > since).sort();
    if (times.length >= limit.max) {
      const oldest = times[times.length - limit.max]!;
      return { limit, retryAfterSeconds: Math.max(1, Math.ceil((oldest - since) / 1000)) };
    }
  }
  return null;
}

/** Where a timeline step stands, in words for the resident who reported (no notes, no staff names). */
const RESIDENT_WORDING: Record<string, string> = {
  reported: "已收到您反映的问题",
  accepted: "已受理，正在安排办理",
  dispatched: "已转交相关单位办理",
  started: "正在办理",
  resolved: "已办结，请您评价办理结果",
  return_visited: "已收到您的评价",
  closed: "已办结归档",
  reopened: "已重新办理",
  rejected: "不予受理",
  merged: "与已反映的同一问题合并办理",
  escalated: "已提请上级综治中心协调",
};

/**
 * The resident-safe wording of a case event, or null for events a resident does not see (supervision,
 * urging, evidence and time-limit bookkeeping are internal).
 */
export function residentWording(eventType: string): string | null {
  return RESIDENT_WORDING[eventType] ?? null;
}

/** The states in which a reporting resident may rate the outcome (the return visit, 回访). */
export const RATEABLE_STATES: readonly CaseState[] = ["resolved"];
