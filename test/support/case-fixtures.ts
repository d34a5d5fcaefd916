import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { caseIdFor } from "../../src/domain/case-id";
import type { CaseRecord } from "../../src/domain/case-model";
import { deskOfUnit } from "../../src/durable/grid-desk/address";
import type { CaseWithTimeline, GridDesk } from "../../src/durable/grid-desk/grid-desk";
import { call, makeTree, makeUser, sql, type TestTree, type TestUser } from "./helpers";

/** A fresh tree with the people of the case loop: the grid's worker, the village and town centres, a town department. */
export interface CaseWorld {
  tree: TestTree;
  gridWorker: TestUser;
  otherGridWorker: TestUser;
  villageCentre: TestUser;
  townCentre: TestUser;
  department: TestUser;
  leader: TestUser;
}

export async function makeWorld(): Promise<CaseWorld> {
  const tree = await makeTree();
  const [gridWorker, otherGridWorker, villageCentre, townCentre, department, leader] = await Promise.all([
    makeUser("grid_worker", tree.grid),
    makeUser("grid_worker", tree.otherGrid),
    makeUser("center_staff", tree.village),
    makeUser("center_staff", tree.town),
    makeUser("department", tree.town),
    makeUser("leader", tree.county),
  ]);
  return { tree, gridWorker, otherGridWorker, villageCentre, townCentre, department, leader };
}

/** A report body with a fresh id near Ankang. */
export function newReport(over: Record<string, unknown> = {}) {
  return {
    id: crypto.randomUUID(),
    type: "safety_hazard",
    severity: "normal",
    title: "Loose power line over the lane",
    description: "A cable hangs low across the lane by house 12.",
    location: { lat: 32.684, lng: 109.029, address: "Lane 3, house 12" },
    ...over,
  };
}

/** The id of the case a client reports as `clientId` in `unitId` (the server derives it from both). */
export function caseIdOf(unitId: string, clientId: string): string {
  return caseIdFor(unitId, clientId);
}

/** Reports a case and returns its body (asserting 201). */
export async function report(user: TestUser, over: Record<string, unknown> = {}) {
  const res = await call("/v1/cases", { token: user.token, body: newReport(over) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Runs a command with the given If-Match and returns the raw response. */
export function act(
  user: TestUser,
  caseId: string,
  action: string,
  version: number | null,
  body: unknown = {},
) {
  return call(`/v1/cases/${caseId}/${action}`, {
    token: user.token,
    body,
    headers: version === null ? {} : { "if-match": `"${version}"` },
  });
}

/** Runs a command that must succeed; returns the case after it. */
export async function must(
  user: TestUser,
  caseId: string,
  action: string,
  version: number,
  body: unknown = {},
) {
  const res = await act(user, caseId, action, version, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.version).toBe(version + 1);
  return res.body;
}

/** The GridDesk of a unit (named by the unit's desk key, as the Worker addresses it). */
export function deskOf(unitId: string) {
  return deskOfUnit(env, unitId);
}

/** Waits until the libSQL projection of a case reaches `version` (the queue consumer runs in the background). */
export async function projected(caseId: string, version: number, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = (await sql().execute({ sql: "SELECT * FROM cases WHERE id = ?", args: [caseId] })).rows[0];
    if (row && Number(row.version) >= version) return row;
    if (Date.now() > deadline) throw new Error(`case ${caseId} not projected at version ${version}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A case as its desk holds it (RPC typing cannot express the free-form event payloads, hence the cast). */
export async function deskCase(unitId: string, caseId: string): Promise<CaseWithTimeline | null> {
  return (await deskOf(unitId).getCase(caseId)) as unknown as CaseWithTimeline | null;
}

/** A desk's cases, newest first. */
export async function deskList(
  unitId: string,
  options: Parameters<GridDesk["listCases"]>[0],
): Promise<CaseRecord[]> {
  return (await deskOf(unitId).listCases(options)) as unknown as CaseRecord[];
}
