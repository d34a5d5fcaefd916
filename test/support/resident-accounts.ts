import { expect } from "vitest";
import { type CaseWorld, makeWorld } from "./case-fixtures";
import { call } from "./helpers";
import { household, resident } from "./household-fixtures";

/** A fresh mainland mobile number (tests share the database, so every test signs up its own). */
export function freshMobile(): string {
  return `139${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
}

/** A random point far from other tests' households, so nearest-household placement is this test's own. */
export function freshPoint(): { lat: number; lng: number } {
  return {
    lat: 40 + Math.round(Math.random() * 100_000) / 10_000,
    lng: 80 + Math.round(Math.random() * 400_000) / 10_000,
  };
}

/** A distinct client address per call site, so the per-IP limits of one test do not touch another's. */
export function freshIp(): string {
  return `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
}

/** The newest code the local sink holds for a number. */
export async function sunkCode(mobile: string): Promise<string> {
  const res = await call(`/v1/resident/dev/codes?mobile=${mobile}`);
  expect(res.status, res.text).toBe(200);
  return res.body.items[0].code as string;
}

/** Signs a resident up (code through the dev sink) and returns their token and account. */
export async function signUp(mobile = freshMobile(), ip = freshIp()) {
  const headers = { "cf-connecting-ip": ip };
  const sent = await call("/v1/resident/auth/codes", { body: { mobile }, headers });
  expect(sent.status, sent.text).toBe(202);
  const res = await call("/v1/resident/auth/tokens", {
    body: { mobile, code: await sunkCode(mobile) },
    headers,
  });
  expect(res.status, res.text).toBe(200);
  return {
    mobile,
    token: res.body.accessToken as string,
    refreshToken: res.body.refreshToken as string,
    account: res.body.account,
  };
}

/** A case world with one registered household at a fresh point, with a head whose ID number is known. */
export interface ResidentWorld extends CaseWorld {
  householdId: string;
  point: { lat: number; lng: number };
  idNumber: string;
}

export async function makeResidentWorld(): Promise<ResidentWorld> {
  const world = await makeWorld();
  const point = freshPoint();
  const head = resident({ name: "王建国", tags: ["disabled"] });
  const res = await call("/v1/households", {
    token: world.gridWorker.token,
    body: household(world.tree.grid, {
      location: point,
      residents: [head, resident({ name: "王小明", relationship: "child" })],
    }),
  });
  expect(res.status, res.text).toBe(201);
  return { ...world, householdId: res.body.id, point, idNumber: head.idNumber };
}

/** A report body for POST /v1/resident/reports near `point`. */
export function residentReport(point: { lat: number; lng: number }, over: Record<string, unknown> = {}) {
  return {
    id: crypto.randomUUID(),
    serviceCode: "street_lighting",
    title: "村口路灯不亮",
    description: "村口第三根路灯连续三晚不亮，夜里行人看不清路。",
    location: { lat: point.lat + 0.0005, lng: point.lng, address: "张岭社区村口" },
    ...over,
  };
}
