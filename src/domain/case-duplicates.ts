import { type CaseRecord, type CaseState, type CaseType, OPEN_STATES } from "./case-model";
import { inScope } from "./units";

/** How near an open case of the same type must be to be offered as a possible duplicate. */
export const DUPLICATE_RADIUS_M = 200;
/** How far back duplicate hints look. */
export const DUPLICATE_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle distance in metres between two WGS-84 points (haversine). */
export function distanceMeters(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A latitude/longitude box that contains every point within `radiusM` of `p` (a cheap index prefilter). */
export function boundingBox(p: { lat: number; lng: number }, radiusM: number) {
  const dLat = (radiusM / EARTH_RADIUS_M) * (180 / Math.PI);
  const dLng = dLat / Math.max(Math.cos((p.lat * Math.PI) / 180), 1e-6);
  return { minLat: p.lat - dLat, maxLat: p.lat + dLat, minLng: p.lng - dLng, maxLng: p.lng + dLng };
}

/** A possible duplicate offered to the reporter on create. */
export interface DuplicateHint {
  id: string;
  title: string;
  state: string;
  owningUnitId: string;
  distanceM: number;
  createdAt: string;
}

export interface DuplicateCandidate {
  id: string;
  type: CaseType;
  state: CaseState;
  villageId: string | null;
  lat: number | null;
  lng: number | null;
  createdAt: string;
}

/**
 * Whether `candidate` may be a duplicate of a new report: same type, same village, still open, reported in
 * the last 7 days, within 200 m.
 */
export function isPossibleDuplicate(
  report: { id: string; type: CaseType; villageId: string | null; lat: number; lng: number },
  candidate: DuplicateCandidate,
  now: number,
): boolean {
  if (candidate.id === report.id || candidate.type !== report.type) return false;
  if (report.villageId === null || candidate.villageId !== report.villageId) return false;
  if (!OPEN_STATES.includes(candidate.state)) return false;
  if (now - Date.parse(candidate.createdAt) > DUPLICATE_WINDOW_MS) return false;
  if (candidate.lat === null || candidate.lng === null) return false;
  return distanceMeters(report, { lat: candidate.lat, lng: candidate.lng }) <= DUPLICATE_RADIUS_M;
}

/** The village a unit path belongs to: the 4th id (city/county/town/village/…), or null above villages. */
export function villageOfPath(path: string): string | null {
  return path.split("/").filter(Boolean)[3] ?? null;
}

/** A hint with the unit paths that decide who may read the case it names (kept by the desk, never sent). */
export interface ScopedDuplicateHint extends DuplicateHint {
  owningUnitPath: string;
  responsibleUnitPath: string;
}

/** A report as duplicate hints look at it. */
export interface DuplicateReport {
  id: string;
  type: CaseType;
  owningUnitPath: string;
  lat: number;
  lng: number;
}

/** The most hints a case carries. */
export const MAX_DUPLICATE_HINTS = 10;

/** The possible duplicates of `report` among `candidates` (whole cases), nearest first, at most 10. */
export function duplicateHintsAmong(
  report: DuplicateReport,
  candidates: ReadonlyArray<CaseRecord>,
  now: number,
): ScopedDuplicateHint[] {
  const probe = { ...report, villageId: villageOfPath(report.owningUnitPath) };
  return candidates
    .filter((c) =>
      isPossibleDuplicate(
        probe,
        {
          id: c.id,
          type: c.type,
          state: c.state,
          villageId: villageOfPath(c.owningUnit.path),
          lat: c.location?.lat ?? null,
          lng: c.location?.lng ?? null,
          createdAt: c.createdAt,
        },
        now,
      ),
    )
    .map((c) => ({
      id: c.id,
      title: c.title,
      state: c.state,
      owningUnitId: c.owningUnit.id,
      distanceM: Math.round(distanceMeters(report, { lat: c.location!.lat!, lng: c.location!.lng! })),
      createdAt: c.createdAt,
      owningUnitPath: c.owningUnit.path,
      responsibleUnitPath: c.responsibleUnit.path,
    }))
    .sort((a, b) => a.distanceM - b.distanceM)
    .slice(0, MAX_DUPLICATE_HINTS);
}

/** Several lists of hints as one: each case once, nearest first, at most 10. */
export function mergeDuplicateHints(
  ...lists: ReadonlyArray<ReadonlyArray<ScopedDuplicateHint>>
): ScopedDuplicateHint[] {
  const byId = new Map<string, ScopedDuplicateHint>();
  for (const list of lists) for (const h of list) if (!byId.has(h.id)) byId.set(h.id, h);
  return [...byId.values()].sort((a, b) => a.distanceM - b.distanceM).slice(0, MAX_DUPLICATE_HINTS);
}

/**
 * The hints a reader is shown: title and id only of the cases they may read (owning or responsible unit in
 * their subtree); the others only as a count. A hint stored without its paths (before they were kept) counts
 * as hidden.
 *
 * @example
 * const { duplicates, hiddenDuplicates } = hintsVisibleTo(actor, stored);
 */
export function hintsVisibleTo(
  reader: { unitPath: string },
  hints: ReadonlyArray<DuplicateHint | ScopedDuplicateHint>,
): { duplicates: DuplicateHint[]; hiddenDuplicates: number } {
  const duplicates: DuplicateHint[] = [];
  let hiddenDuplicates = 0;
  for (const h of hints) {
    const paths = "owningUnitPath" in h ? [h.owningUnitPath, h.responsibleUnitPath] : [];
    if (paths.some((p) => inScope(reader.unitPath, p))) {
      duplicates.push({
        id: h.id,
        title: h.title,
        state: h.state,
        owningUnitId: h.owningUnitId,
        distanceM: h.distanceM,
        createdAt: h.createdAt,
      });
    } else hiddenDuplicates += 1;
  }
  return { duplicates, hiddenDuplicates };
}
