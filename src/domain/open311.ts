import type { CaseState, CaseType } from "./case-model";

/**
 * An Open311 GeoReport v2 service: a public matter type a resident or a public-facing app may report. Only
 * matters about public things are offered; disputes, security and anything about persons never are.
 */
export interface PublicService {
  code: string;
  name: string;
  description: string;
  group: string;
  keywords: string;
  /** The case type the report becomes in the closed loop. */
  caseType: CaseType;
}

/** The public service catalogue (公共服务类诉求), the only types Open311 offers or returns. */
export const PUBLIC_SERVICES: readonly PublicService[] = [
  {
    code: "road",
    name: "道路破损",
    description: "路面坑洼、塌陷、破损等",
    group: "市政设施",
    keywords: "道路,坑洼,路面",
    caseType: "safety_hazard",
  },
  {
    code: "street_lighting",
    name: "路灯故障",
    description: "路灯不亮、损坏或白天常亮",
    group: "市政设施",
    keywords: "路灯,照明",
    caseType: "livelihood",
  },
  {
    code: "sanitation",
    name: "环境卫生",
    description: "垃圾堆放、清运不及时、污水外溢",
    group: "环境",
    keywords: "垃圾,卫生,污水",
    caseType: "environment",
  },
  {
    code: "water_supply",
    name: "供水问题",
    description: "停水、水管破裂、水质异常",
    group: "民生",
    keywords: "停水,水管,供水",
    caseType: "livelihood",
  },
  {
    code: "greening",
    name: "绿化养护",
    description: "树木倒伏、绿地损毁、杂草丛生",
    group: "环境",
    keywords: "绿化,树木,草坪",
    caseType: "environment",
  },
  {
    code: "public_facilities",
    name: "公共设施损坏",
    description: "健身器材、公交站台、井盖、护栏等损坏",
    group: "市政设施",
    keywords: "井盖,护栏,健身器材,站台",
    caseType: "safety_hazard",
  },
];

/** The public service of a code, or undefined (an unknown or non-public code). */
export function publicService(code: string): PublicService | undefined {
  return PUBLIC_SERVICES.find((s) => s.code === code);
}

/** The two statuses of GeoReport v2: a case is `closed` once resolved, closed, rejected or merged. */
export function open311Status(state: CaseState): "open" | "closed" {
  return state === "resolved" || state === "closed" || state === "rejected" || state === "merged"
    ? "closed"
    : "open";
}

/** The case states an Open311 status filter stands for. */
export function statesOf(status: "open" | "closed"): CaseState[] {
  return status === "closed"
    ? ["resolved", "closed", "rejected", "merged"]
    : ["reported", "accepted", "dispatched", "in_progress", "reopened"];
}

/**
 * A coordinate rounded to 3 decimal places (about 110 m of latitude, less of longitude at Ankang's 32.7°N),
 * so that a public read does not point at one house in a residential grid.
 */
export function roundCoordinate(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The rough distance in metres between two points (equirectangular; fine within a few kilometres). */
export function distanceMetres(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180;
  const x = (b.lng - a.lng) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  const y = (b.lat - a.lat) * rad;
  return Math.sqrt(x * x + y * y) * 6_371_000;
}

/** How far from the nearest registered household a location may be and still be placed in its grid. */
export const GRID_PLACEMENT_RADIUS_METRES = 1000;

/** What the agency is called in every Open311 answer. */
export const AGENCY_RESPONSIBLE = "安康市综治中心";

/** How long a matter takes at most in the closed loop, for `expected_datetime` (the default resolve limit). */
export const EXPECTED_RESOLUTION_DAYS = 7;
