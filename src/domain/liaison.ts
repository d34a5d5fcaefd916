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
