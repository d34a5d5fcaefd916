import { env, exports } from "cloudflare:workers";
import { type Client, createClient } from "@libsql/client/web";
import type { Role } from "../../src/domain/roles";
import type { UnitLevel } from "../../src/domain/units";
import { hashPassword } from "../../src/platform/crypto/password";
import { signAccessToken } from "../../src/platform/crypto/tokens";
import { checkResponse } from "./contract";

let client: Client | undefined;

/** Direct access to the test sqld, for arranging data and asserting stored state. */
export function sql(): Client {
  client ??= createClient({ url: env.LIBSQL_URL });
  return client;
}

export interface CallOptions {
  method?: string;
  token?: string;
  body?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
}

/**
 * Calls the real Worker's fetch handler inside workerd, and checks the response against the served
 * `/openapi.json` (test/support/contract.ts): an undeclared status, header or a body off its schema fails.
 */
export async function call(path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: BodyInit | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const request = new Request(`https://grid321.test${path}`, {
    method: options.method ?? (body ? "POST" : "GET"),
    headers,
    body,
  });
  const res = await exports.default.fetch(request);
  const text = await res.text();
  await checkResponse(request.method, request.url, { status: res.status, headers: res.headers, text });
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json, text };
}

export interface TestUnit {
  id: string;
  code: string;
  path: string;
  level: UnitLevel;
  gridLevel: number | null;
  parentId: string | null;
}

/** A small fresh unit tree with unique codes: city → county → town → 2 villages → grids. */
export interface TestTree {
  city: TestUnit;
  county: TestUnit;
  town: TestUnit;
  village: TestUnit;
  village2: TestUnit;
  grid: TestUnit;
  grid2: TestUnit;
  subgrid: TestUnit;
  otherGrid: TestUnit;
}

async function insertUnit(parent: TestUnit | null, level: UnitLevel, code: string, gridLevel: number | null) {
  const id = crypto.randomUUID();
  const path = `${parent?.path ?? "/"}${id}/`;
  const now = new Date().toISOString();
  await sql().execute({
    sql: `INSERT INTO units (id, code, name, parent_id, path, level, grid_level, depth, version, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
    args: [
      id,
      code,
      `${level} ${code}`,
      parent?.id ?? null,
      path,
      level,
      gridLevel,
      path.split("/").filter(Boolean).length - 1,
      now,
      now,
    ],
  });
  return { id, code, path, level, gridLevel, parentId: parent?.id ?? null } satisfies TestUnit;
}

/** Creates a fresh tree for one test (a new city code each time, retried on the rare collision). */
export async function makeTree(): Promise<TestTree> {
  let city: TestUnit | undefined;
  for (let attempt = 0; !city; attempt++) {
    const prefix = String(1000 + Math.floor(Math.random() * 9000));
    try {
      city = await insertUnit(null, "city", `${prefix}00`, null);
    } catch (error) {
      if (attempt > 20) throw error;
    }
  }
  const p = city.code.slice(0, 4);
  const county = await insertUnit(city, "county", `${p}02`, null);
  const town = await insertUnit(county, "town", `${county.code}001`, null);
  const village = await insertUnit(town, "village", `${town.code}001`, 1);
  const village2 = await insertUnit(town, "village", `${town.code}002`, 1);
  const grid = await insertUnit(village, "grid", `${village.code}001`, 2);
  const grid2 = await insertUnit(village, "grid", `${village.code}002`, 2);
  const subgrid = await insertUnit(grid, "grid", `${grid.code}001`, 3);
  const otherGrid = await insertUnit(village2, "grid", `${village2.code}001`, 2);
  return { city, county, town, village, village2, grid, grid2, subgrid, otherGrid };
}

let fastHash: Promise<string> | undefined;

export interface TestUser {
  id: string;
  username: string;
  role: Role;
  unit: TestUnit;
  token: string;
}

/** Inserts a user (password "grid321-test") and mints an access token for them. */
export async function makeUser(role: Role, unit: TestUnit, password?: string): Promise<TestUser> {
  fastHash ??= hashPassword("grid321-test", 1000);
  const passwordHash = password ? await hashPassword(password, 1000) : await fastHash;
  const id = crypto.randomUUID();
  const username = `${role.replace(/_/g, "-")}-${id.slice(0, 8)}`;
  const now = new Date().toISOString();
  await sql().execute({
    sql: `INSERT INTO users (id, username, display_name, role, unit_id, unit_path, password_hash, disabled, version, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?)`,
    args: [id, username, `Test ${role}`, role, unit.id, unit.path, passwordHash, now, now],
  });
  const token = await signAccessToken(env, {
    userId: id,
    username,
    role,
    unitId: unit.id,
    unitPath: unit.path,
    unitLevel: unit.level,
    // As after a full login: privileged roles need a second factor for writes and reveals.
    amr: ["pwd", "otp"],
  });
  return { id, username, role, unit, token };
}
