/**
 * The demo city: a small Ankang with 2 counties, 4 towns, 8 villages and their level-2 and level-3 grids,
 * and one user per role (password `grid321-demo`, local use only; `admin` also has a TOTP second factor whose
 * secret is in `.data/totp-secrets.json`). Idempotent: stable ids and INSERT OR IGNORE, so running it again
 * changes nothing (the admin's factor is re-sealed from the local secret).
 */
import type { Client, InStatement } from "@libsql/client/web";
import type { Role } from "../../src/domain/roles";
import type { UnitLevel } from "../../src/domain/units";
import { hashPassword } from "../../src/platform/crypto/password";
import { writeAudited } from "../../src/platform/db/audit";
import type { Db } from "../../src/platform/db/client";
import { demoSecondFactorStatements } from "../lib/demo-totp";
import { seedDeliberation } from "./deliberation";
import { seedHouseholds } from "./households";
import { stableId } from "./ids";

export const DEMO_PASSWORD = "grid321-demo";

/** Seeds of the other areas (households, cases, …), each idempotent, run after the tree and users. */
const areaSeeds: Array<(client: Client, tree: DemoTree) => Promise<void>> = [seedHouseholds];
// Deliberation seeds after households: its eligible numbers count the village's residents.
areaSeeds.push(seedDeliberation);

export interface DemoUnit {
  id: string;
  code: string;
  name: string;
  level: UnitLevel;
  gridLevel: number | null;
  path: string;
  parentId: string | null;
}

export interface DemoTree {
  city: DemoUnit;
  counties: DemoUnit[];
  towns: DemoUnit[];
  villages: DemoUnit[];
  /** Level-2 and level-3 grids. */
  grids: DemoUnit[];
  all: DemoUnit[];
}

const COUNTIES: Array<[string, string, Array<[string, string[]]>]> = [
  [
    "610902",
    "汉滨区",
    [
      ["江北街道", ["张岭社区", "安澜社区"]],
      ["五里镇", ["同心村", "五里村"]],
    ],
  ],
  [
    "610922",
    "石泉县",
    [
      ["城关镇", ["太平社区", "老街社区"]],
      ["池河镇", ["明星村", "新棉村"]],
    ],
  ],
];

function unit(
  parent: DemoUnit | null,
  level: UnitLevel,
  code: string,
  name: string,
  gridLevel: number | null,
): DemoUnit {
  const id = stableId(`unit:${code}`);
  return {
    id,
    code,
    name,
    level,
    gridLevel,
    path: `${parent?.path ?? "/"}${id}/`,
    parentId: parent?.id ?? null,
  };
}

/** The demo tree, computed (no I/O). */
export function demoTree(): DemoTree {
  const city = unit(null, "city", "610900", "安康市", null);
  const counties: DemoUnit[] = [];
  const towns: DemoUnit[] = [];
  const villages: DemoUnit[] = [];
  const grids: DemoUnit[] = [];
  for (const [countyCode, countyName, townSpecs] of COUNTIES) {
    const county = unit(city, "county", countyCode, countyName, null);
    counties.push(county);
    townSpecs.forEach(([townName, villageNames], t) => {
      const town = unit(county, "town", `${countyCode}${String(t + 1).padStart(3, "0")}`, townName, null);
      towns.push(town);
      villageNames.forEach((villageName, v) => {
        const village = unit(
          town,
          "village",
          `${town.code}${String(v + 1).padStart(3, "0")}`,
          villageName,
          1,
        );
        villages.push(village);
        for (let g = 1; g <= 2; g++) {
          const grid = unit(
            village,
            "grid",
            `${village.code}${String(g).padStart(3, "0")}`,
            `${villageName}第${g}网格`,
            2,
          );
          grids.push(grid);
          if (g === 1) {
            grids.push(unit(grid, "grid", `${grid.code}001`, `${villageName}第${g}网格一组`, 3));
          }
        }
      });
    });
  }
  return {
    city,
    counties,
    towns,
    villages,
    grids,
    all: [city, ...counties, ...towns, ...villages, ...grids],
  };
}

/** One demo user per role, and which unit they belong to. */
export function demoUsers(
  tree: DemoTree,
): Array<{ username: string; displayName: string; role: Role; unit: DemoUnit }> {
  const village = tree.villages[0]!;
  const grid = tree.grids[0]!;
  return [
    { username: "admin", displayName: "平台管理员", role: "admin", unit: tree.city },
    { username: "center-city", displayName: "市综治中心", role: "center_staff", unit: tree.city },
    {
      username: "center-county",
      displayName: "汉滨区综治中心",
      role: "center_staff",
      unit: tree.counties[0]!,
    },
    { username: "center-town", displayName: "江北街道综治中心", role: "center_staff", unit: tree.towns[0]! },
    { username: "center-village", displayName: "张岭社区综治中心", role: "center_staff", unit: village },
    { username: "grid-worker", displayName: "网格员 王芳", role: "grid_worker", unit: grid },
    { username: "party-member", displayName: "党员 李明", role: "party_member", unit: village },
    { username: "deputy", displayName: "人大代表 陈静", role: "deputy", unit: tree.towns[0]! },
    { username: "household-lead", displayName: "中心户长 刘强", role: "household_lead", unit: grid },
    { username: "department", displayName: "汉滨区住建局", role: "department", unit: tree.counties[0]! },
    { username: "leader", displayName: "市领导（只读）", role: "leader", unit: tree.city },
    // A second grid worker, in 安澜社区第1网格, for the emergency walk-through (two responders, two villages).
    {
      username: "grid-worker-2",
      displayName: "网格员 黄磊",
      role: "grid_worker",
      unit: tree.grids.find((g) => g.name === "安澜社区第1网格")!,
    },
  ];
}

/** Seeds the demo city into libSQL. Returns false when it was already there. */
export async function seedDemo(client: Client): Promise<boolean> {
  const tree = demoTree();
  const present = await client.execute({ sql: "SELECT 1 FROM units WHERE id = ?", args: [tree.city.id] });
  const now = new Date().toISOString();
  const statements: InStatement[] = tree.all.map((u) => ({
    sql: `INSERT OR IGNORE INTO units (id, code, name, parent_id, path, level, grid_level, depth, version, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
    args: [
      u.id,
      u.code,
      u.name,
      u.parentId,
      u.path,
      u.level,
      u.gridLevel,
      u.path.split("/").filter(Boolean).length - 1,
      now,
      now,
    ],
  }));
  for (const user of demoUsers(tree)) {
    statements.push({
      sql: `INSERT OR IGNORE INTO users (id, username, display_name, role, unit_id, unit_path, password_hash, disabled, version, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?)`,
      args: [
        stableId(`user:${user.username}`),
        user.username,
        user.displayName,
        user.role,
        user.unit.id,
        user.unit.path,
        await hashPassword(DEMO_PASSWORD),
        now,
        now,
      ],
    });
  }
  if (present.rows.length) {
    await client.batch(statements, "write");
  } else {
    await writeAudited({ $client: client } as unknown as Db, statements, [
      {
        actorId: null,
        actorRole: "system",
        scopePath: tree.city.path,
        action: "system.seed",
        objectType: "unit",
        objectId: tree.city.id,
        outcome: "success",
        requestId: null,
        detail: { units: tree.all.length, users: demoUsers(tree).length },
      },
    ]);
  }
  // The demo admin logs in with a second factor whose secret is in .data/totp-secrets.json (npm run totp:code).
  await client.batch(
    await demoSecondFactorStatements(
      demoUsers(tree).map((u) => ({ id: stableId(`user:${u.username}`), username: u.username })),
    ),
    "write",
  );
  for (const seed of areaSeeds) await seed(client, tree);
  return present.rows.length === 0;
}
