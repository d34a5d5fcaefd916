import type { CheckinOutcome, LineStatus, ResponseLevel } from "../../domain/emergency";

/** What an emergency DO knows of its event. */
export interface EventMeta {
  id: string;
  title: string;
  kind: string;
  level: ResponseLevel;
  status: "active" | "stood_down";
  commandUnitId: string;
  commandUnitPath: string;
  affectedPaths: string[];
  declaredAt: string;
  stoodDownAt: string | null;
  reachIntervalMinutes: number | null;
}

/** A grid's figures, as its EmergencyGrid pushes them. */
export interface GridCounts {
  households: number;
  reached: number;
  vulnerableTotal: number;
  vulnerableReached: number;
  moved: number;
  needsHelp: number;
  notReached: number;
  pending: number;
}

/** One recorded check-in that changed a roster line, for the stream. */
export interface LineChange {
  /** Gap-free per grid: the command ignores a change it already has. */
  seq: number;
  checkinId: string;
  householdId: string;
  outcome: CheckinOutcome;
  status: LineStatus;
  at: string;
  recordedAt: string;
  shelterId: string | null;
  caseId: string | null;
  /** Vulnerable residents reached by this change (negative when a line falls back to not reached). */
  vulnerableDelta: number;
}

/** What an EmergencyGrid sends its event's EmergencyCommand after a commit (idempotent, order-tolerant). */
export interface GridPush {
  gridId: string;
  gridPath: string;
  rosterReadyAt: string;
  counts: GridCounts;
  /** People per shelter from this grid's `moved` lines. */
  shelters: Record<string, number>;
  changes: LineChange[];
  /** The grid's last change seq this push covers: a push not beyond what the command holds is ignored. */
  lastSeq: number;
}
