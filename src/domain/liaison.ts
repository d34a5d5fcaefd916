/** The "five days" (五个日) of a deputy liaison station. */
export const ACTIVITY_KINDS = ["research", "deliberation", "reception", "visit", "reporting"] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

export const ACTIVITY_KIND_LABELS: Record<ActivityKind, string> = {
  research: "调研日",
  deliberation: "议事日",
  reception: "接待日",
  visit: "走访日",
  reporting: "述职日",
};

/** Station levels: county, town or village (the unit the station belongs to has that level). */
export const STATION_LEVELS = ["county", "town", "village"] as const;
export type StationLevel = (typeof STATION_LEVELS)[number];

/** Only a reception day takes matters that become cases. Returns an error message or null. */
export function checkMatterActivity(kind: ActivityKind): string | null {
  return kind === "reception" ? null : `matters are raised on a reception day, not a ${kind} day`;
}

/** The case text for a reception-day matter, naming the activity it came from. */
export function matterCaseDescription(summary: string, activity: { id: string; title: string }): string {
  return `${summary}\n\n[来源：人大代表联络站接待日「${activity.title}」activity ${activity.id}]`;
}

/** Whether a unit of `level` may hold a liaison station (its level is the station's level). */
export function isStationLevel(level: string): level is StationLevel {
  return (STATION_LEVELS as readonly string[]).includes(level);
}

/** What became of a matter, from its case's state: still open, resolved, closed, or not taken up. */
export type MatterOutcome = "pending" | "open" | "resolved" | "closed" | "not_taken_up";

/** Maps a case state (null while the case is not readable yet) to the matter's outcome on a reporting day. */
export function matterOutcome(state: string | null): MatterOutcome {
  if (state === null) return "pending";
  if (state === "resolved") return "resolved";
  if (state === "closed") return "closed";
  if (state === "rejected" || state === "merged") return "not_taken_up";
  return "open";
}

/** Counts matters per outcome (every outcome present, zero included). */
export function outcomeCounts(outcomes: readonly MatterOutcome[]): Record<MatterOutcome, number> {
  const counts: Record<MatterOutcome, number> = {
    pending: 0,
    open: 0,
    resolved: 0,
    closed: 0,
    not_taken_up: 0,
  };
  for (const o of outcomes) counts[o] += 1;
  return counts;
}
