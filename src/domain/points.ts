import { chinaYear } from "./china-time";
import { inScope } from "./units";
/** Evidence a party member's fulfilment (践诺) can point to. */
export const EVIDENCE_KINDS = ["visit", "case", "mediation"] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

export const EVIDENCE_KIND_LABELS: Record<EvidenceKind, string> = {
  visit: "走访",
  case: "办理事件",
  mediation: "矛盾调解",
};

/** Default points per kind of evidence, before any unit setting. */
export const DEFAULT_POINTS: Record<EvidenceKind, number> = { visit: 2, case: 5, mediation: 8 };

/** The unit-setting key for the points of one kind (set on the branch's unit, inherited down). */
export const pointsKey = (kind: EvidenceKind) => `points.${kind}`;

/** Annual review ratings (评议). */
export const REVIEW_RATINGS = ["excellent", "qualified", "basically_qualified", "unqualified"] as const;
export type ReviewRating = (typeof REVIEW_RATINGS)[number];

export const REVIEW_RATING_LABELS: Record<ReviewRating, string> = {
  excellent: "优秀",
  qualified: "合格",
  basically_qualified: "基本合格",
  unqualified: "不合格",
};

/** Parses a points setting: an integer 0–1000, or undefined when unusable. */
export function parsePoints(value: string): number | undefined {
  return /^\d{1,4}$/.test(value.trim()) && Number(value) <= 1000 ? Number(value) : undefined;
}

/**
 * The points a kind of evidence earns under the settings on the branch unit's path: the deepest setting
 * wins, the default applies otherwise.
 */
export function pointsFor(
  kind: EvidenceKind,
  settings: ReadonlyArray<{ depth: number; key: string; value: string }>,
): number {
  let best: { depth: number; points: number } | undefined;
  for (const s of settings) {
    if (s.key !== pointsKey(kind)) continue;
    const points = parsePoints(s.value);
    if (points !== undefined && (!best || s.depth > best.depth)) best = { depth: s.depth, points };
  }
  return best ? best.points : DEFAULT_POINTS[kind];
}

/** A ledger entry as far as totals are concerned. */
export interface LedgerEntry {
  memberId: string;
  points: number;
}

/** A member's total: the plain sum of the ledger, corrections included (they are entries too). */
export function ledgerTotal(entries: readonly LedgerEntry[]): number {
  return entries.reduce((sum, e) => sum + e.points, 0);
}

/** A ranked member: competition ranking ("1224"), ties share a rank and the next rank skips. */
export interface Ranked<T> {
  rank: number;
  item: T;
}

/** Ranks members by total points, highest first; ties keep their given order and share a rank. */
export function rankByPoints<T extends { total: number }>(items: readonly T[]): Ranked<T>[] {
  const sorted = [...items].sort((a, b) => b.total - a.total);
  const out: Ranked<T>[] = [];
  sorted.forEach((item, i) => {
    const rank = i > 0 && sorted[i - 1]!.total === item.total ? out[i - 1]!.rank : i + 1;
    out.push({ rank, item });
  });
  return out;
}

/** The year (China time, UTC+8) an ISO time falls in: the year a piece of evidence counts toward. */
export function yearOf(iso: string): number {
  return chinaYear(iso);
}

/** The ledger reason of a fulfilment's entry, naming the kind of evidence and its id. */
export function fulfilmentReason(kind: EvidenceKind, evidenceId: string, points: number): string {
  return `践诺 ${EVIDENCE_KIND_LABELS[kind]} (${kind} ${evidenceId}): ${points} points`;
}

/**
 * Whether a case counts as evidence for a member. A `case` is one the member reported (on behalf of
 * residents) or fed through a contact log; a `mediation` must be a dispute the member reported or logged
 * as mediated. Returns an error message, or null when it counts.
 */
export function checkCaseEvidence(
  kind: "case" | "mediation",
  c: { type: string; reporterId: string; state: string },
  memberId: string,
  linkedKinds: readonly string[],
): string | null {
  if (c.state === "rejected" || c.state === "merged") return `a ${c.state} case earns no points`;
  if (kind === "mediation") {
    if (c.type !== "dispute") return "a mediation is a dispute case";
    return c.reporterId === memberId || linkedKinds.includes("mediation")
      ? null
      : "the member neither reported this dispute nor logged mediating it";
  }
  return c.reporterId === memberId || linkedKinds.length > 0
    ? null
    : "the member neither reported this case nor logged a contact that fed it";
}

/** How a fulfilment stands: it earns its points only once `confirmed`. */
export const FULFILMENT_STATUSES = ["pending", "confirmed", "rejected"] as const;
export type FulfilmentStatus = (typeof FULFILMENT_STATUSES)[number];

export const FULFILMENT_STATUS_LABELS: Record<FulfilmentStatus, string> = {
  pending: "待确认",
  confirmed: "已确认",
  rejected: "未通过",
};

/** Case events whose actor handled the case (受理, 办理, 办结): such a user confirms fulfilments on it. */
export const HANDLING_EVENT_TYPES: readonly string[] = ["accepted", "started", "resolved"];

/** Levels whose centre holds a branch's review: the village (level-1 grid) and every level above it. */
const REVIEW_LEVELS: readonly string[] = ["city", "county", "town", "village"];

/** The user deciding on a fulfilment, from their verified token. */
export interface Confirmer {
  userId: string;
  role: string;
  unitPath: string;
  unitLevel: string;
}

/**
 * Who may confirm or reject a party member's fulfilment: never the member; centre staff (or an admin) of the
 * member's village or a unit above it (the branch's review); or, for case evidence, a user who handled the
 * case (`handlerIds`). Returns the refusal, or null when the confirmer may decide.
 */
export function confirmRefusal(
  confirmer: Confirmer,
  member: { id: string; unitPath: string },
  handlerIds: readonly string[],
): string | null {
  if (confirmer.userId === member.id) return "a member cannot confirm their own fulfilment";
  const reviewer =
    (confirmer.role === "center_staff" || confirmer.role === "admin") &&
    REVIEW_LEVELS.includes(confirmer.unitLevel) &&
    inScope(confirmer.unitPath, member.unitPath);
  if (reviewer || handlerIds.includes(confirmer.userId)) return null;
  return "a fulfilment is confirmed by centre staff of the member's village or above, or by the case's handler";
}
