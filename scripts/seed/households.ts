/**
 * Demo households and residents that exercise every classification rule and the service plans: green,
 * green exactly at the village average, yellow by each failed condition (below average, 2 safe years only,
 * unstable income, the literal yellow rule), red by each red tag, an active and an expired override, an
 * overdue red household, visits, and named helpers. Idempotent: stable ids and INSERT OR IGNORE.
 * ID numbers and phones are encrypted with PII_KEY (from the environment or `.data/dev.vars`).
 */
import { existsSync, readFileSync } from "node:fs";
import type { Client, InStatement } from "@libsql/client/web";
import {
  chinaYear,
  classifyHousehold,
  effectiveClass,
  RED_TAGS,
  safeYearsMask,
} from "../../src/domain/classification";
import { makeIdNumber } from "../../src/domain/id-number";
import { maskedBirthDate } from "../../src/domain/pii";
import { DEFAULT_CADENCE, nextVisitDue } from "../../src/domain/service-plan";
import { piiKeys, sealIdentity } from "../../src/platform/crypto/pii";
import { DEV_VARS_PATH, parseDevVars } from "../lib/dev-vars";
import type { DemoTree, DemoUnit } from "./demo";
import { stableId } from "./ids";

const DAY = 86_400_000;

interface SeedResident {
  name: string;
  gender: "male" | "female";
  birthDate: string;
  relationship: string;
  tags: string[];
  phone?: string;
}

interface SeedHousehold {
  key: string;
  grid: DemoUnit;
  address: string;
  headName: string;
  income: number;
  stable: boolean;
  safeYears: number[];
  residents: SeedResident[];
  notes?: string;
  override?: { class: "green" | "yellow" | "red"; reason: string; untilDays: number };
  createdDaysAgo?: number;
  visitDaysAgo?: number;
}

function piiKeyFromEnvironment(): string {
  if (process.env.PII_KEY) return process.env.PII_KEY;
  const key = existsSync(DEV_VARS_PATH)
    ? parseDevVars(readFileSync(DEV_VARS_PATH, "utf8")).get("PII_KEY")
    : undefined;
  if (!key)
    throw new Error("PII_KEY is neither in the environment nor in .data/dev.vars; run npm run dev once");
  return key;
}

function head(name: string, gender: "male" | "female", birthDate: string, tags: string[] = []): SeedResident {
  return { name, gender, birthDate, relationship: "head", tags, phone: "13991500000" };
}

/** The demo households, computed (no I/O). */
export function demoHouseholds(tree: DemoTree, now = new Date()): SeedHousehold[] {
  const y = chinaYear(now);
  const safe3 = [y - 3, y - 2, y - 1];
  const byVillage = (v: number) => tree.grids.filter((g) => g.path.startsWith(tree.villages[v]!.path));
  const [g1, g1sub, g2] = byVillage(0);
  const [h1, , h2] = byVillage(1);
  const list: SeedHousehold[] = [
    // Village 0: incomes sum to 80,000 over 8 households, an average of exactly 10,000.
    {
      key: "green",
      grid: g1!,
      address: "张岭社区1组3号",
      headName: "张国强",
      income: 14_000,
      stable: true,
      safeYears: safe3,
      residents: [
        head("张国强", "male", "1975-04-12"),
        { name: "李秀英", gender: "female", birthDate: "1977-09-30", relationship: "spouse", tags: [] },
      ],
    },
    {
      key: "green-at-average",
      grid: g1!,
      address: "张岭社区1组5号",
      headName: "陈志明",
      income: 10_000,
      stable: true,
      safeYears: safe3,
      residents: [head("陈志明", "male", "1969-01-08", ["veteran"])],
    },
    {
      key: "yellow-below-average",
      grid: g1sub!,
      address: "张岭社区1组一小组2号",
      headName: "赵丽",
      income: 9_000,
      stable: true,
      safeYears: safe3,
      residents: [head("赵丽", "female", "1985-11-02")],
    },
    {
      key: "yellow-two-safe-years",
      grid: g1sub!,
      address: "张岭社区1组一小组7号",
      headName: "孙伟",
      income: 13_000,
      stable: true,
      safeYears: safe3.slice(1),
      residents: [head("孙伟", "male", "1980-06-21")],
    },
    {
      key: "yellow-unstable",
      grid: g2!,
      address: "张岭社区2组1号",
      headName: "周磊",
      income: 12_000,
      stable: false,
      safeYears: safe3,
      residents: [head("周磊", "male", "1990-03-15", ["migrant_worker"])],
    },
    {
      key: "yellow-literal",
      grid: g2!,
      address: "张岭社区2组9号",
      headName: "吴芳",
      income: 6_000,
      stable: true,
      safeYears: [y - 3],
      residents: [head("吴芳", "female", "1972-12-24", ["low_income"])],
      createdDaysAgo: 45,
    },
    {
      key: "override-active",
      grid: g2!,
      address: "张岭社区2组11号",
      headName: "郑强",
      income: 5_000,
      stable: true,
      safeYears: safe3,
      residents: [head("郑强", "male", "1966-05-05")],
      override: { class: "red", reason: "房屋火灾，临时重点帮扶", untilDays: 30 },
    },
    {
      key: "override-expired",
      grid: g1!,
      address: "张岭社区1组12号",
      headName: "冯娟",
      income: 11_000,
      stable: true,
      safeYears: safe3,
      residents: [head("冯娟", "female", "1979-08-08")],
      override: { class: "yellow", reason: "家庭矛盾调解观察期", untilDays: -3 },
    },
  ];
  // Red: one household per red tag, spread over village 1's grids; the child ones carry minors' data.
  const members: Record<string, SeedResident[]> = {
    left_behind_child: [
      head("王建军", "male", "1983-02-14", ["migrant_worker"]),
      {
        name: "王小雨",
        gender: "female",
        birthDate: "2015-07-01",
        relationship: "child",
        tags: ["left_behind_child"],
      },
    ],
    left_behind_woman: [head("刘梅", "female", "1986-10-10", ["left_behind_woman"])],
    left_behind_elderly: [
      head("黄大爷", "male", "1940-01-20", ["left_behind_elderly", "elderly_living_alone"]),
    ],
    disabled: [head("林涛", "male", "1978-04-04", ["disabled"])],
    poverty_risk: [head("何平", "male", "1970-09-09", ["poverty_risk", "chronic_illness"])],
    in_prison: [
      head("高敏", "female", "1982-03-03"),
      { name: "罗刚", gender: "male", birthDate: "1980-01-01", relationship: "spouse", tags: ["in_prison"] },
    ],
    released_prisoner: [head("梁军", "male", "1975-12-12", ["released_prisoner"])],
  };
  RED_TAGS.forEach((tag, i) => {
    list.push({
      key: `red-${tag}`,
      grid: i % 2 === 0 ? h1! : h2!,
      address: `安澜社区${(i % 2) + 1}组${i + 1}号`,
      headName: members[tag]![0]!.name,
      income: 5_000 + i * 1_000,
      stable: i % 3 !== 0,
      safeYears: i % 2 ? safe3 : [],
      residents: members[tag]!,
      createdDaysAgo: tag === "disabled" ? 20 : 3,
      visitDaysAgo: tag === "left_behind_child" ? 1 : undefined,
    });
  });
  return list;
}

/**
 * Seeds the demo households into libSQL (called by `scripts/seed/demo.ts` after the tree and users).
 * Classes are computed with `classifyHousehold` over each village's seeded totals.
 */
export async function seedHouseholds(client: Client, tree: DemoTree): Promise<void> {
  const now = new Date();
  const nowIso = now.toISOString();
  const keys = await piiKeys(piiKeyFromEnvironment());
  const households = demoHouseholds(tree, now);
  const villageOf = (g: DemoUnit) => g.path.split("/").filter(Boolean)[3]!;
  const totals = new Map<string, { incomeSum: number; households: number }>();
  for (const h of households) {
    const t = totals.get(villageOf(h.grid)) ?? { incomeSum: 0, households: 0 };
    totals.set(villageOf(h.grid), { incomeSum: t.incomeSum + h.income, households: t.households + 1 });
  }
  const gridWorker = stableId("user:grid-worker");
  const partyMember = stableId("user:party-member");
  const statements: InStatement[] = [];
  let sequence = 100;
  for (const h of households) {
    const id = stableId(`household:${h.key}`);
    const created = new Date(now.getTime() - (h.createdDaysAgo ?? 0) * DAY).toISOString();
    const result = classifyHousehold(
      {
        incomePerCapita: h.income,
        incomeStable: h.stable,
        safeFamilyYears: h.safeYears,
        memberTags: h.residents.flatMap((r) => r.tags),
      },
      totals.get(villageOf(h.grid))!,
      now,
    );
    const override = h.override
      ? {
          class: h.override.class,
          reason: h.override.reason,
          until: new Date(now.getTime() + h.override.untilDays * DAY).toISOString(),
        }
      : null;
    const klass = effectiveClass(result.class, override, now);
    const visitAt =
      h.visitDaysAgo !== undefined ? new Date(now.getTime() - h.visitDaysAgo * DAY).toISOString() : null;
    const due = nextVisitDue(klass, DEFAULT_CADENCE, visitAt, created);
    const redTags = JSON.stringify(RED_TAGS.filter((t) => h.residents.some((r) => r.tags.includes(t))));
    statements.push({
      sql: `INSERT OR IGNORE INTO households (id, unit_id, unit_path, address, latitude, longitude, head_name, income_per_capita,
              income_stable, safe_years_mask, notes, red_tags, member_count, computed_class, class, class_reasons, class_since,
              classified_at, override_class, override_reason, override_until, override_by, last_visit_at, next_visit_due,
              version, created_at, updated_at)
            VALUES (?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
      args: [
        id,
        h.grid.id,
        h.grid.path,
        h.address,
        h.headName,
        h.income,
        h.stable ? 1 : 0,
        safeYearsMask(h.safeYears),
        h.notes ?? `demo: ${h.key}`,
        redTags,
        h.residents.length,
        result.class,
        klass,
        JSON.stringify(result.reasons),
        created,
        nowIso,
        override?.class ?? null,
        override?.reason ?? null,
        override?.until ?? null,
        override ? stableId("user:center-village") : null,
        visitAt,
        due,
        created,
        created,
      ],
    });
    for (const [m, r] of h.residents.entries()) {
      const rid = stableId(`resident:${h.key}:${m}`);
      sequence += 2;
      const idNumber = makeIdNumber("610902", r.birthDate, sequence + (r.gender === "male" ? 1 : 0));
      const phone = r.phone ? `${r.phone.slice(0, 7)}${String(sequence).padStart(4, "0")}` : null;
      // Stored as the API stores it: the birth year and a region-only mask in plaintext, the rest sealed.
      const sealed = await sealIdentity(keys, "resident", rid, { idNumber, phone, birthDate: r.birthDate });
      statements.push({
        sql: `INSERT OR IGNORE INTO residents (id, household_id, unit_path, name, gender, birth_date, birth_date_enc, id_number_enc,
                id_number_hmac, id_number_masked, phone_enc, phone_masked, relationship, tags, version, created_at, updated_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
        args: [
          rid,
          id,
          h.grid.path,
          r.name,
          r.gender,
          maskedBirthDate(Number(r.birthDate.slice(0, 4))),
          sealed.birthDateEnc,
          sealed.idNumberEnc,
          sealed.idNumberHmac,
          sealed.idNumberMasked,
          sealed.phoneEnc,
          sealed.phoneMasked,
          r.relationship,
          JSON.stringify(r.tags),
          created,
          created,
        ],
      });
    }
    if (visitAt) {
      statements.push({
        sql: `INSERT OR IGNORE INTO visits (id, household_id, unit_path, visitor_user_id, visitor_role, kind, visited_at, notes, latitude, longitude, recorded_by, created_at)
              VALUES (?, ?, ?, ?, 'party_member', 'visit', ?, '上门看望，了解学习情况', NULL, NULL, ?, ?)`,
        args: [stableId(`visit:${h.key}`), id, h.grid.path, partyMember, visitAt, partyMember, visitAt],
      });
    }
    if (klass === "red") {
      statements.push({
        sql: `INSERT OR IGNORE INTO household_helpers (id, household_id, user_id, unit_path, line, kind, since, until, created_by)
              VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
        args: [
          stableId(`helper:${h.key}`),
          id,
          h.key === "red-left_behind_child" ? partyMember : gridWorker,
          h.grid.path,
          h.key === "red-left_behind_child" ? "party_member" : "grid_worker",
          h.key === "red-left_behind_child" ? "one_to_one" : "one_to_many",
          created,
          gridWorker,
        ],
      });
    }
  }
  await client.batch(statements, "write");
}
