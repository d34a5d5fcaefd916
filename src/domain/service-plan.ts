import type { HouseholdClass } from "./classification";

/**
 * Service plans by class (精细化服务): how often a household must be contacted.
 * green — on request, no scheduled visits; yellow — every 30 days by a nearby three-line contact or the
 * grid worker; red — named helpers, contact every 7 days. Each cadence is a unit setting
 * (`unit_settings`) inherited down the tree: the setting on the nearest ancestor (or the unit itself) wins,
 * key by key.
 */

/** Days between contacts per class; null means no scheduled visits. */
export type Cadence = Record<HouseholdClass, number | null>;

export const DEFAULT_CADENCE: Cadence = { green: null, yellow: 30, red: 7 };

/** The `unit_settings` key holding the cadence of a class (value: whole days, or `none`). */
export const CADENCE_KEYS: Record<HouseholdClass, string> = {
  green: "households.cadence.greenDays",
  yellow: "households.cadence.yellowDays",
  red: "households.cadence.redDays",
};

/** Largest cadence a setting may give, in days. */
export const MAX_CADENCE_DAYS = 366;

/** One cadence setting found on a unit of the path, with that unit's depth (0 = city). */
export interface CadenceSetting {
  depth: number;
  key: string;
  value: string;
}

/** Parses a stored cadence value: whole days 1–366, or `none`; anything else is ignored (undefined). */
export function parseCadenceValue(value: string): number | null | undefined {
  if (value === "none") return null;
  if (!/^\d{1,3}$/.test(value)) return undefined;
  const days = Number(value);
  return days >= 1 && days <= MAX_CADENCE_DAYS ? days : undefined;
}

/** The cadence in force for a unit, from the settings on its path: the deepest setting of each key wins. */
export function resolveCadence(settings: readonly CadenceSetting[]): Cadence {
  const cadence: Cadence = { ...DEFAULT_CADENCE };
  for (const klass of ["green", "yellow", "red"] as const) {
    const found = settings
      .filter((s) => s.key === CADENCE_KEYS[klass] && parseCadenceValue(s.value) !== undefined)
      .sort((a, b) => b.depth - a.depth)[0];
    if (found) cadence[klass] = parseCadenceValue(found.value) as number | null;
  }
  return cadence;
}

/**
 * When the next contact is due: the cadence after the later of the last contact and the moment the household
 * entered its class (a household that just turned red is not late for visits it was never owed);
 * null for a class without scheduled visits.
 */
export function nextVisitDue(
  klass: HouseholdClass,
  cadence: Cadence,
  lastVisitAt: string | null,
  classSince: string,
): string | null {
  const days = cadence[klass];
  if (days === null) return null;
  const base = lastVisitAt && lastVisitAt > classSince ? lastVisitAt : classSince;
  return new Date(new Date(base).getTime() + days * 86_400_000).toISOString();
}

/** Whole days a due date is late at `asOf` (0 when not late). */
export function daysLate(due: string | null, asOf: Date): number {
  if (!due) return 0;
  const late = asOf.getTime() - new Date(due).getTime();
  return late > 0 ? Math.floor(late / 86_400_000) : 0;
}
