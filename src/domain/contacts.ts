import type { Role } from "./roles";

/** The three lines (三线) and their Chinese labels. */
export const LINES = ["party_member", "deputy", "household_lead"] as const;
export type Line = (typeof LINES)[number];

export const LINE_LABELS: Record<Line, string> = {
  party_member: "党员联系群众",
  deputy: "人大代表联系选民",
  household_lead: "中心户长联系村民",
};

/** Deputy levels a deputy (and a liaison station) can sit at. */
export const DEPUTY_LEVELS = ["county", "town", "village"] as const;
export type DeputyLevel = (typeof DEPUTY_LEVELS)[number];

/** The unit setting holding the most households one contact should look after. */
export const MAX_HOUSEHOLDS_KEY = "contacts.max_households";
/** Without a setting: a household lead usually leads 10 to 30 households. */
export const DEFAULT_MAX_HOUSEHOLDS = 30;

/** Whether a role is one of the three lines. */
export function isLine(role: Role | string): role is Line {
  return (LINES as readonly string[]).includes(role);
}

/**
 * Which line a contact may pair on: a contact pairs on their own role's line only (a party member is not a
 * household lead by pairing). Returns an error message or null.
 */
export function checkPairingLine(contactRole: string, line: Line): string | null {
  if (!isLine(contactRole)) return "the user is not a three-line contact";
  return contactRole === line ? null : `a ${contactRole} pairs on the ${contactRole} line, not ${line}`;
}

/** Parses a max-households setting value: a positive integer, or undefined when unusable. */
export function parseMaxHouseholds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,4}$/.test(value.trim())) return undefined;
  const n = Number(value);
  return n > 0 ? n : undefined;
}

/** The setting that applies to a unit: the deepest one on its path wins. */
export function resolveSetting<T>(
  settings: ReadonlyArray<{ depth: number; value: string }>,
  parse: (value: string) => T | undefined,
  fallback: T,
): T {
  let best: { depth: number; value: T } | undefined;
  for (const s of settings) {
    const v = parse(s.value);
    if (v !== undefined && (!best || s.depth > best.depth)) best = { depth: s.depth, value: v };
  }
  return best ? best.value : fallback;
}

/** Coverage of one line: households with an active contact on it, out of all households. */
export interface LineCoverage {
  covered: number;
  share: number;
}

/** The share `part / whole` rounded to 4 places (0 when there is nothing to cover). */
export function share(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}

/** Coverage per line from the counts of covered households. */
export function lineCoverage(
  households: number,
  covered: Partial<Record<Line, number>>,
): Record<Line, LineCoverage> {
  const out = {} as Record<Line, LineCoverage>;
  for (const line of LINES) {
    const n = covered[line] ?? 0;
    out[line] = { covered: n, share: share(n, households) };
  }
  return out;
}

/** Contacts whose active households exceed `max`, most loaded first. */
export function overloaded<T extends { households: number }>(contacts: readonly T[], max: number): T[] {
  return contacts.filter((c) => c.households > max).sort((a, b) => b.households - a.households);
}

/** The unit setting holding how many days back a contact (visit, call, reception) may be dated. */
export const LATE_WINDOW_KEY = "contacts.late_window_days";
/** Without a setting: a contact is recorded within a week of making it. */
export const DEFAULT_LATE_WINDOW_DAYS = 7;
/** A contact recorded more than this after it happened is marked as recorded late (补录). */
export const RECORDED_LATE_AFTER_MS = 24 * 60 * 60_000;

/** Parses a back-dating window setting: whole days 0–365, or undefined when unusable. */
export function parseLateWindowDays(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,3}$/.test(value.trim())) return undefined;
  const n = Number(value);
  return n <= 365 ? n : undefined;
}

/** Whether a contact dated `at` may be recorded `now`, and whether it is recorded late. */
export type ContactTiming = { ok: true; recordedLate: boolean } | { ok: false; reason: string };

/**
 * The back-dating rule for contacts with households: a contact dated more than `windowDays` before it is
 * recorded is refused (it would earn points and move a household's visit clock long after the fact); one
 * recorded more than a day after it happened is accepted and marked as recorded late. Future slack is the
 * caller's rule.
 */
export function contactTiming(atMs: number, nowMs: number, windowDays: number): ContactTiming {
  if (nowMs - atMs > windowDays * 86_400_000) {
    return { ok: false, reason: `more than ${windowDays} days back` };
  }
  return { ok: true, recordedLate: nowMs - atMs > RECORDED_LATE_AFTER_MS };
}

/** A case's timeline as far as who is on it: its reporter and the actors of its events. */
export interface CaseTimeline {
  reporterId: string;
  events: ReadonlyArray<{ actorId: string | null; type: string }>;
}

/**
 * Whether a contact is on a case, so that a log of theirs may be linked to it: they reported it, acted on its
 * timeline, or are paired with one of its households (`pairedWithHousehold`, read from the pairings).
 */
export function isOnCase(contactId: string, timeline: CaseTimeline, pairedWithHousehold: boolean): boolean {
  return (
    timeline.reporterId === contactId ||
    timeline.events.some((e) => e.actorId === contactId) ||
    pairedWithHousehold
  );
}
