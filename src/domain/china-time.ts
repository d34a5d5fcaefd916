/** China Standard Time is UTC+8 all year (no daylight saving). */
export const CHINA_OFFSET_MS = 8 * 3_600_000;

/** The China calendar fields of an instant (epoch ms, ISO text or a Date). */
function shifted(at: number | string | Date): Date {
  const ms = typeof at === "number" ? at : typeof at === "string" ? Date.parse(at) : at.getTime();
  return new Date(ms + CHINA_OFFSET_MS);
}

/**
 * The China date (`YYYY-MM-DD`) of an instant: the day that matters to people (notice periods, "today").
 *
 * @example
 * chinaDate("2026-01-31T17:00:00Z"); // "2026-02-01"
 */
export function chinaDate(at: number | string | Date): string {
  return shifted(at).toISOString().slice(0, 10);
}

/** The China year of an instant. */
export function chinaYear(at: number | string | Date): number {
  return shifted(at).getUTCFullYear();
}

/** The China month (`YYYY-MM`) of an instant. */
export function chinaMonth(at: number | string | Date): string {
  const d = shifted(at);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** The instant (epoch ms) a China calendar month starts; `month` is 1–12 and may run past 12 into the next year. */
export function chinaMonthStart(year: number, month: number): number {
  return Date.UTC(year, month - 1, 1) - CHINA_OFFSET_MS;
}
