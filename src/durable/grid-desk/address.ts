import { deskKeyOf, deskKeyOfCaseId } from "../../domain/case-id";
import type { GridDesk } from "./grid-desk";

/**
 * How a GridDesk is addressed. A desk is named by its owning unit's desk key (`deskKeyOf`), which every keyed
 * case id carries, so a case's desk follows from its id alone. Desks from before keyed ids were named by the
 * unit id itself; they still hold the cases reported then (legacy, see `legacyDeskOf`).
 *
 * @example
 * const desk = deskOfUnit(env, gridId);
 * const same = deskOfCase(env, caseId); // for a case reported in gridId
 */
export function deskOfUnit(env: Cloudflare.Env, unitId: string): DurableObjectStub<GridDesk> {
  return deskOfKey(env, deskKeyOf(unitId));
}

/** The desk a keyed case id names, or null for a legacy id. */
export function deskOfCase(env: Cloudflare.Env, caseId: string): DurableObjectStub<GridDesk> | null {
  const key = deskKeyOfCaseId(caseId);
  return key === null ? null : deskOfKey(env, key);
}

/** The desk that holds a unit's cases reported before case ids were keyed (named by the unit id). */
export function legacyDeskOf(env: Cloudflare.Env, unitId: string): DurableObjectStub<GridDesk> {
  return env.GRID_DESK.get(env.GRID_DESK.idFromName(unitId));
}

function deskOfKey(env: Cloudflare.Env, key: string): DurableObjectStub<GridDesk> {
  return env.GRID_DESK.get(env.GRID_DESK.idFromName(`desk:${key}`));
}
