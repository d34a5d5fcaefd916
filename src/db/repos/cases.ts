import type { InStatement, Row } from "@libsql/client/web";
import {
  boundingBox,
  DUPLICATE_RADIUS_M,
  DUPLICATE_WINDOW_MS,
  type DuplicateHint,
  distanceMeters,
  isPossibleDuplicate,
  villageOfPath,
} from "../../domain/case-duplicates";
import { type CaseRecord, type CaseType, OPEN_STATES, type UnitRef } from "../../domain/case-model";
import type { UnitLevel } from "../../domain/units";
import type { Db } from "../../platform/db/client";

export type { DuplicateHint };

/** Units by id (id, path, level), for owning units and dispatch targets. One round trip. */
export async function unitRefs(db: Db, ids: string[]): Promise<Map<string, UnitRef>> {
  const out = new Map<string, UnitRef>();
  if (ids.length === 0) return out;
  const result = await db.$client.execute({
    sql: `SELECT id, path, level FROM units WHERE id IN (${ids.map(() => "?").join(",")})`,
    args: ids,
  });
  for (const r of result.rows) {
    out.set(String(r.id), { id: String(r.id), path: String(r.path), level: String(r.level) as UnitLevel });
  }
  return out;
}

/** Statement: the owning unit of each of `ids` already in the case directory (the projection). */
export function directoryStatement(ids: string[]): InStatement {
  return {
    sql: `SELECT id, owning_unit_id FROM cases WHERE id IN (${ids.map(() => "?").join(",")})`,
    args: ids,
  };
}

/** Reads a directory result into id → owning unit id. */
export function directoryOf(rows: Row[]): Map<string, string> {
  return new Map(rows.map((r) => [String(r.id), String(r.owning_unit_id)]));
}

/** Statement: candidate duplicates of a report (prefiltered by village, type, time, state and a lat/lng box). */
export function duplicateStatement(report: {
  id: string;
  type: CaseType;
  owningUnit: UnitRef;
  lat: number;
  lng: number;
  now: number;
}): InStatement | null {
  const villageId = villageOfPath(report.owningUnit.path);
  if (villageId === null) return null;
  const box = boundingBox(report, DUPLICATE_RADIUS_M);
  return {
    sql: `SELECT id, type, state, village_id, lat, lng, created_at, title, owning_unit_id FROM cases
          WHERE village_id = ? AND type = ? AND lat BETWEEN ? AND ?
            AND lng BETWEEN ? AND ? AND created_at >= ? AND id <> ?
            AND state IN (${OPEN_STATES.map(() => "?").join(",")})
          LIMIT 100`,
    args: [
      villageId,
      report.type,
      box.minLat,
      box.maxLat,
      box.minLng,
      box.maxLng,
      new Date(report.now - DUPLICATE_WINDOW_MS).toISOString(),
      report.id,
      ...OPEN_STATES,
    ],
  };
}

/** The nearest true duplicates among candidate rows, at most 10. */
export function duplicatesOf(
  rows: Row[],
  report: { id: string; type: CaseType; owningUnit: UnitRef; lat: number; lng: number; now: number },
): DuplicateHint[] {
  const villageId = villageOfPath(report.owningUnit.path);
  const probe = { id: report.id, type: report.type, villageId, lat: report.lat, lng: report.lng };
  return rows
    .map((r) => ({
      id: String(r.id),
      type: String(r.type) as CaseType,
      state: String(r.state) as CaseRecord["state"],
      villageId: r.village_id === null ? null : String(r.village_id),
      lat: r.lat === null ? null : Number(r.lat),
      lng: r.lng === null ? null : Number(r.lng),
      createdAt: String(r.created_at),
      title: String(r.title),
      owningUnitId: String(r.owning_unit_id),
    }))
    .filter((candidate) => isPossibleDuplicate(probe, candidate, report.now))
    .map((candidate) => ({
      id: candidate.id,
      title: candidate.title,
      state: candidate.state,
      owningUnitId: candidate.owningUnitId,
      distanceM: Math.round(distanceMeters(report, { lat: candidate.lat!, lng: candidate.lng! })),
      createdAt: candidate.createdAt,
    }))
    .sort((a, b) => a.distanceM - b.distanceM)
    .slice(0, 10);
}

export interface CaseListFilter {
  /** Subtree whose cases (by owning or responsible unit) are listed. */
  scopePath: string;
  state?: string;
  type?: string;
  severity?: string;
  from?: string;
  to?: string;
  q?: string;
  after: [string, string] | null;
  limit: number;
}

/**
 * Statement: a page of projected cases in a subtree, newest first. A case is in the subtree when its owning
 * or its responsible unit path starts with `scopePath`; each test is a range scan on its own index.
 */
export function caseListStatement(f: CaseListFilter): InStatement {
  // Paths are ids and slashes; "~" sorts after every character they use.
  const where = [
    "((owning_unit_path >= ?1 AND owning_unit_path < ?2) OR (responsible_unit_path >= ?1 AND responsible_unit_path < ?2))",
  ];
  const args: Array<string | number> = [f.scopePath, `${f.scopePath}~`];
  const add = (clause: string, ...values: Array<string | number>) => {
    where.push(clause);
    args.push(...values);
  };
  if (f.state) add("state = ?", f.state);
  if (f.type) add("type = ?", f.type);
  if (f.severity) add("severity = ?", f.severity);
  if (f.from) add("created_at >= ?", f.from);
  if (f.to) add("created_at < ?", f.to);
  if (f.q) {
    const pattern = `%${f.q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    add(
      "(title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\' OR address LIKE ? ESCAPE '\\')",
      pattern,
      pattern,
      pattern,
    );
  }
  if (f.after) add("(created_at < ? OR (created_at = ? AND id < ?))", f.after[0], f.after[0], f.after[1]);
  args.push(f.limit + 1);
  return {
    sql: `SELECT doc FROM cases WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ?`,
    args,
  };
}
