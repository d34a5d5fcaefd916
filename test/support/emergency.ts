import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { maskPhone, piiKeys, sealContact } from "../../src/platform/crypto/pii";
import { until } from "./doubles";
import { call, makeTree, makeUser, sql, type TestTree, type TestUnit, type TestUser } from "./helpers";

/** A resident to insert: name, tags and an optional phone (sealed as the registry seals it). */
export interface SeedResident {
  name: string;
  tags?: string[];
  phone?: string;
}

/** Inserts a household of `cls` with its residents straight into the registry. */
export async function seedHousehold(
  grid: TestUnit,
  cls: "green" | "yellow" | "red",
  address: string,
  people: SeedResident[] = [],
): Promise<string> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  await sql().execute({
    sql: `INSERT INTO households (id, unit_id, unit_path, address, head_name, income_per_capita, income_stable,
            computed_class, class, class_reasons, class_since, classified_at, member_count, version, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, 12000, 1, ?, ?, '[]', ?, ?, ?, 1, ?, ?)`,
    args: [
      id,
      grid.id,
      grid.path,
      address,
      people[0]?.name ?? "张三",
      cls,
      cls,
      now,
      now,
      people.length,
      now,
      now,
    ],
  });
  const keys = await piiKeys(env.PII_KEY);
  for (const person of people) {
    const rid = crypto.randomUUID();
    const sealed = await sealContact(keys, "resident", rid, { phone: person.phone ?? null });
    await sql().execute({
      sql: `INSERT INTO residents (id, household_id, unit_path, name, gender, birth_date, relationship, tags, phone_enc,
              phone_masked, version, created_at, updated_at)
            VALUES (?, ?, ?, ?, 'female', '1950-**-**', 'head', ?, ?, ?, 1, ?, ?)`,
      args: [
        rid,
        id,
        grid.path,
        person.name,
        JSON.stringify(person.tags ?? []),
        sealed.phoneEnc,
        person.phone ? maskPhone(person.phone) : null,
        now,
        now,
      ],
    });
  }
  return id;
}

/** A town with households and responders, ready for an event over its two villages. */
export interface EmergencyWorld {
  tree: TestTree;
  townCentre: TestUser;
  countyCentre: TestUser;
  villageCentre: TestUser;
  village2Centre: TestUser;
  worker: TestUser;
  otherWorker: TestUser;
  households: {
    green: string;
    yellow: string;
    red: string;
    elderly: string;
    twoVulnerable: string;
    other: string;
  };
}

/** Builds the world: in the first grid one household of each kind, in the second village's grid one red one. */
export async function emergencyWorld(): Promise<EmergencyWorld> {
  const tree = await makeTree();
  const [townCentre, countyCentre, villageCentre, village2Centre, worker, otherWorker] = await Promise.all([
    makeUser("center_staff", tree.town),
    makeUser("center_staff", tree.county),
    makeUser("center_staff", tree.village),
    makeUser("center_staff", tree.village2),
    makeUser("grid_worker", tree.grid),
    makeUser("grid_worker", tree.otherGrid),
  ]);
  const green = await seedHousehold(tree.grid, "green", "张岭社区 1 巷 1 号", [
    { name: "王一", phone: "13800000001" },
  ]);
  const yellow = await seedHousehold(tree.grid, "yellow", "张岭社区 1 巷 2 号", [{ name: "王二" }]);
  const red = await seedHousehold(tree.grid, "red", "张岭社区 1 巷 3 号", [
    { name: "王三", tags: ["poverty_risk"] },
  ]);
  const elderly = await seedHousehold(tree.grid, "green", "张岭社区 1 巷 9 号", [
    { name: "李奶奶", tags: ["elderly_living_alone"], phone: "13900000009" },
  ]);
  const twoVulnerable = await seedHousehold(tree.grid, "red", "张岭社区 1 巷 5 号", [
    { name: "赵爷爷", tags: ["left_behind_elderly"], phone: "13900000005" },
    { name: "赵小明", tags: ["left_behind_child"] },
  ]);
  const other = await seedHousehold(tree.otherGrid, "red", "安澜社区 2 巷 1 号", [
    { name: "陈奶奶", tags: ["disabled"], phone: "13700000001" },
  ]);
  return {
    tree,
    townCentre,
    countyCentre,
    villageCentre,
    village2Centre,
    worker,
    otherWorker,
    households: { green, yellow, red, elderly, twoVulnerable, other },
  };
}

/** Declares a flood over the town's two villages and waits until the grids (four, unless told) have rosters. */
export async function declareFlood(
  w: EmergencyWorld,
  over: Record<string, unknown> = {},
  grids = 4,
): Promise<string> {
  const res = await call("/v1/emergencies", {
    token: w.townCentre.token,
    body: {
      kind: "flood",
      level: "II",
      title: "汉江洪水：江北街道沿江村组转移",
      instructions: "逐户联系沿江住户，独居老人、留守儿童优先转移至安置点。",
      unitIds: [w.tree.village.id, w.tree.village2.id],
      ...over,
    },
  });
  expect(res.status, res.text).toBe(201);
  const id = res.body.id as string;
  await until(async () => {
    const p = await call(`/v1/emergencies/${id}/progress`, { token: w.townCentre.token });
    return p.status === 200 && p.body.rostersReady === grids;
  }, 20_000);
  return id;
}

/** A check-in body. */
export function checkin(householdId: string, outcome: string, over: Record<string, unknown> = {}) {
  return { id: crypto.randomUUID(), householdId, outcome, ...over };
}

/**
 * Posts check-ins to a grid of an event, then waits until the grid has handed them to the event (a grid
 * answers a check-in before its push), so that progress and the stream hold them when this returns.
 */
export async function postCheckins(user: TestUser, eventId: string, grid: TestUnit, checkins: unknown[]) {
  const res = await call(`/v1/emergencies/${eventId}/grids/${grid.id}/check-ins`, {
    token: user.token,
    body: { checkins },
  });
  await settled(eventId, grid);
  return res;
}

/** The EmergencyGrid of an event's grid. */
export function gridObject(eventId: string, gridId: string) {
  return env.EMERGENCY_GRID.get(env.EMERGENCY_GRID.idFromName(`${eventId}:${gridId}`));
}

/** Waits until the grid's EmergencyGrid has no change the event has not acknowledged. */
export async function settled(eventId: string, grid: TestUnit): Promise<void> {
  const g = gridObject(eventId, grid.id);
  await until(async () => (await g.unpushed()) === 0);
}

/** Opens the event's WebSocket stream as `user`, collecting every entry it receives. */
export async function openSocket(user: TestUser, eventId: string, after?: number) {
  const query = after === undefined ? "" : `?after=${after}`;
  const res = await exports.default.fetch(
    new Request(`https://grid321.test/v1/emergencies/${eventId}/stream${query}`, {
      headers: { authorization: `Bearer ${user.token}`, upgrade: "websocket" },
    }),
  );
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const entries: Array<{ seq: number; type: string; path: string; data: Record<string, unknown> }> = [];
  ws.addEventListener("message", (m) => {
    entries.push(JSON.parse(String(m.data)));
  });
  ws.accept();
  return { ws, entries };
}
