import { describe, expect, it } from "vitest";
import migration0520 from "../../migrations/0520_pii_masking.sql?raw";
import { splitStatements } from "../../scripts/lib/migrate";
import { chinaDate } from "../../src/domain/china-time";
import { idCheckCharacter, isRealDate, makeIdNumber } from "../../src/domain/id-number";
import { isMinorInYear } from "../../src/domain/pii";
import type { Role } from "../../src/domain/roles";
import { api, read } from "../support/client";
import { makeTree, makeUser, sql, type TestTree } from "../support/helpers";
import { household } from "../support/household-fixtures";

/**
 * The rebuild attack of a masked ID number (GB 11643: region 6 digits, birth date 8, sequence 3, a check
 * character derived from the 17 others). The attacker knows the region (the household's unit code gives the
 * county away) and counts every number consistent with everything visible. The masking rule: at least
 * 10,000 candidates remain, for every resident, whatever a masked role reads and from a dump without PII_KEY.
 */

/** What one view shows about a person, as the attack uses it. */
interface Visible {
  /** The ID number as shown (`*` hides a character). */
  mask: string;
  /** The birth date as shown: a full date, `YYYY-**-**`, or absent. */
  birthDate: string | null;
  birthYear: number | null;
  gender: "male" | "female";
  /** Whether the person is shown as a minor (by the documented birth-year rule in a masked view). */
  minor: boolean | null;
  /** The region the attacker takes as known: the county code at the start of the household's unit code. */
  region: string;
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

function shows(mask: string, index: number, digit: string): boolean {
  const c = mask[index];
  return c === undefined || c === "*" || c === digit;
}

/** The days of a year up to `today` that are consistent with what the view shows about the birth date. */
function candidateDates(v: Visible, today: string): string[] {
  const exact = v.birthDate && isRealDate(v.birthDate) ? v.birthDate : null;
  if (exact) return [exact];
  const year = v.birthYear ?? Number(v.birthDate?.slice(0, 4));
  const years = Number.isFinite(year) ? [year] : Array.from({ length: 127 }, (_, i) => 1900 + i);
  const dates: string[] = [];
  for (const y of years) {
    if (v.minor !== null && isMinorInYear(y, Number(today.slice(0, 4))) !== v.minor) continue;
    for (let d = Date.UTC(y, 0, 1); d < Date.UTC(y + 1, 0, 1); d += 86_400_000) {
      const date = new Date(d).toISOString().slice(0, 10);
      if (date <= today) dates.push(date);
    }
  }
  return dates;
}

/**
 * Every ID number consistent with a view: the region, each candidate date, each sequence of the gender's
 * parity, the check character computed; kept when every visible character of the mask agrees.
 */
function candidates(v: Visible, today: string): { count: number; has: (id: string) => boolean } {
  const found = new Set<string>();
  const region = v.region;
  let regionSum = 0;
  for (let i = 0; i < 6; i++) regionSum += Number(region[i]) * WEIGHTS[i]!;
  const regionShown = [...region].every((ch, i) => shows(v.mask, i, ch));
  if (!regionShown) return { count: 0, has: () => false };
  for (const date of candidateDates(v, today)) {
    const digits = date.replace(/-/g, "");
    if (![...digits].every((ch, i) => shows(v.mask, 6 + i, ch))) continue;
    let dateSum = regionSum;
    for (let i = 0; i < 8; i++) dateSum += Number(digits[i]) * WEIGHTS[6 + i]!;
    for (let seq = v.gender === "male" ? 1 : 0; seq < 1000; seq += 2) {
      const s = String(seq).padStart(3, "0");
      if (!shows(v.mask, 14, s[0]!) || !shows(v.mask, 15, s[1]!) || !shows(v.mask, 16, s[2]!)) continue;
      const sum =
        dateSum + Number(s[0]) * WEIGHTS[14]! + Number(s[1]) * WEIGHTS[15]! + Number(s[2]) * WEIGHTS[16]!;
      const check = "10X98765432"[sum % 11]!;
      if (!shows(v.mask, 17, check)) continue;
      found.add(`${region}${digits}${s}${check}`);
    }
  }
  return { count: found.size, has: (id) => found.has(id) };
}

interface Person {
  name: string;
  gender: "male" | "female";
  birthDate: string;
  idNumber: string;
  relationship: "head" | "spouse" | "child";
}

/** A household in `tree.grid` whose residents' ID numbers carry the county's own region code. */
async function householdOfFour(tree: TestTree) {
  const year = Number(chinaDate(new Date()).slice(0, 4));
  const region = tree.county.code;
  const seq = () => Math.floor(Math.random() * 400) * 2;
  const people: Person[] = (
    [
      { name: "张建国", gender: "male", birthDate: "1975-04-12", relationship: "head" },
      { name: "李秀英", gender: "female", birthDate: "1978-11-30", relationship: "spouse" },
      // Turned 18 on 2 January this year: an adult by the exact rule, a minor by the birth-year rule.
      { name: "张晓东", gender: "male", birthDate: `${year - 18}-01-02`, relationship: "child" },
      { name: "张小妹", gender: "female", birthDate: `${year - 9}-06-15`, relationship: "child" },
    ] as const
  ).map((p) => ({
    ...p,
    idNumber: makeIdNumber(region, p.birthDate, seq() + (p.gender === "male" ? 1 : 0)),
  }));
  const worker = await makeUser("grid_worker", tree.grid);
  const res = await read(
    await api(worker.token).v1.households.$post({
      json: {
        ...household(tree.grid),
        residents: people.map((p) => ({ ...p, phone: "13800001234", tags: [] })),
      },
    }),
  );
  expect(res.status).toBe(201);
  const created = res.body as { id: string };
  return { householdId: created.id, people };
}

function visibleOf(
  r: {
    idNumber: string | null;
    birthDate: string;
    birthYear?: number;
    gender: "male" | "female";
    minor: boolean;
  },
  region: string,
): Visible {
  return {
    mask: r.idNumber ?? "*".repeat(18),
    birthDate: r.birthDate,
    birthYear: r.birthYear ?? null,
    gender: r.gender,
    minor: r.minor,
    region,
  };
}

const MASKED_ROLES: Role[] = ["leader", "department", "party_member", "deputy", "household_lead"];
const UNMASK_ROLES_BY_DEFAULT: Role[] = ["admin", "center_staff", "grid_worker"];

describe("the rebuild attack of a masked ID number", () => {
  it("leaves at least 10,000 candidates for every resident, as each masked role reads the API", async () => {
    const tree = await makeTree();
    const { householdId, people } = await householdOfFour(tree);
    const today = chinaDate(new Date());
    const byName = new Map(people.map((p) => [p.name, p]));
    const cache = new Map<string, number>();
    const counted: Array<{ role: Role; where: string; name: string; count: number }> = [];

    for (const role of [...MASKED_ROLES, ...UNMASK_ROLES_BY_DEFAULT]) {
      const user = await makeUser(role, role === "grid_worker" ? tree.grid : tree.village);
      const client = api(user.token);
      // The attacker's knowledge of the region: the unit code of the household's grid.
      const unit = await client.v1.units[":id"].$get({ param: { id: tree.grid.id } });
      expect(unit.status).toBe(200);
      const region = (await unit.json()).code.slice(0, 6);

      const list = await read(
        await client.v1.households.$get({ query: { unitId: tree.grid.id }, header: {} }),
      );
      expect(list.status).toBe(200);
      const listText = JSON.stringify(list.body);
      for (const p of people) {
        expect(listText).not.toContain(p.idNumber.slice(6, 14));
        expect(listText).not.toContain(p.birthDate);
      }

      const detail = await read(
        await client.v1.households[":id"].$get({ param: { id: householdId }, query: {}, header: {} }),
      );
      expect(detail.status).toBe(200);
      const residents = (detail.body as { residents: Array<{ id: string; name: string } & object> })
        .residents;
      expect(residents).toHaveLength(people.length);
      const views: Array<{
        where: string;
        view: Parameters<typeof visibleOf>[0] & { id: string; name: string };
      }> = residents.map((r) => ({ where: "household detail", view: r as never }));
      for (const r of residents) {
        const one = await read(
          await client.v1.residents[":id"].$get({ param: { id: r.id }, query: {}, header: {} }),
        );
        expect(one.status).toBe(200);
        views.push({ where: "resident detail", view: one.body as never });
      }
      for (const { where, view } of views) {
        expect(view).toMatchObject({ masked: true });
        const visible = visibleOf(view, region);
        // Masked minors' names hide who they are; match them by the visible first character and birth year.
        const person =
          byName.get(view.name) ??
          people.find(
            (p) => p.name[0] === view.name[0] && view.birthDate.startsWith(p.birthDate.slice(0, 4)),
          );
        const key = JSON.stringify(visible);
        let count = cache.get(key);
        if (count === undefined) {
          const found = candidates(visible, today);
          // The attack is sound: the true number is among the candidates (when the name tells who it is).
          if (person) expect(found.has(person.idNumber)).toBe(true);
          count = found.count;
          cache.set(key, count);
        }
        counted.push({ role, where, name: view.name, count });
      }
    }
    expect(counted.length).toBe(8 * people.length * 2);
    const tooFew = counted.filter((c) => c.count < 10_000);
    expect(tooFew).toEqual([]);
  });

  it("leaves at least 10,000 candidates for every resident from the raw rows of a dump without PII_KEY", async () => {
    const tree = await makeTree();
    const { householdId, people } = await householdOfFour(tree);
    const today = chinaDate(new Date());
    const rows = await sql().execute({
      sql: `SELECT r.*, u.code AS unit_code FROM residents r
              JOIN households h ON h.id = r.household_id JOIN units u ON u.id = h.unit_id
            WHERE r.household_id = ?`,
      args: [householdId],
    });
    expect(rows.rows).toHaveLength(people.length);
    for (const row of rows.rows) {
      const person = people.find((p) => p.name === row.name)!;
      const dump = JSON.stringify(row);
      expect(dump).not.toContain(person.idNumber);
      expect(dump).not.toContain(person.idNumber.slice(6, 14));
      expect(dump).not.toContain(person.idNumber.slice(-4));
      expect(dump).not.toContain(person.birthDate);
      const birthDate = String(row.birth_date);
      const visible: Visible = {
        mask: String(row.id_number_masked),
        birthDate,
        birthYear: row.birth_year === null ? null : Number(row.birth_year),
        gender: row.gender as "male" | "female",
        minor: null,
        region: String(row.unit_code).slice(0, 6),
      };
      const found = candidates(visible, today);
      expect(found.has(person.idNumber)).toBe(true);
      expect(found.count, `${person.name}: ${visible.mask} ${birthDate}`).toBeGreaterThanOrEqual(10_000);
    }
    // Nor does the audit log of the registration carry any of it.
    const audit = await sql().execute({
      sql: "SELECT detail FROM audit_log WHERE scope_path LIKE ?",
      args: [`${tree.grid.path}%`],
    });
    const log = JSON.stringify(audit.rows);
    for (const p of people) {
      expect(log).not.toContain(p.idNumber.slice(6, 14));
      expect(log).not.toContain(p.idNumber.slice(-4));
    }
  });

  it("migration 0520 brings rows stored the old way under the rule, and a reveal still shows the full date", async () => {
    const tree = await makeTree();
    const { householdId, people } = await householdOfFour(tree);
    const head = people[0]!;
    // Store the head the way rows were stored before 0520: old mask, full birth date, no sealed date.
    await sql().execute({
      sql: `UPDATE residents SET id_number_masked = ?, birth_date = ?, birth_date_enc = NULL
            WHERE household_id = ? AND name = ?`,
      args: [
        `${head.idNumber.slice(0, 4)}**********${head.idNumber.slice(-4)}`,
        head.birthDate,
        householdId,
        head.name,
      ],
    });
    const before = await sql().execute({
      sql: "SELECT id, id_number_masked, birth_date, gender FROM residents WHERE household_id = ? AND name = ?",
      args: [householdId, head.name],
    });
    const old = before.rows[0]!;
    const today = chinaDate(new Date());
    const region = tree.county.code;
    const oldVisible: Visible = {
      mask: String(old.id_number_masked),
      birthDate: String(old.birth_date),
      birthYear: null,
      gender: "male",
      minor: null,
      region,
    };
    expect(candidates(oldVisible, today).count).toBe(1);

    // Replay the migration's data changes (its UPDATE statements; they are idempotent).
    for (const statement of splitStatements(migration0520).filter((s) => s.startsWith("UPDATE"))) {
      await sql().execute(statement);
    }
    const after = await sql().execute({
      sql: "SELECT id_number_masked, birth_date, birth_year FROM residents WHERE id = ?",
      args: [String(old.id)],
    });
    const row = after.rows[0]!;
    expect(row).toMatchObject({
      id_number_masked: `${head.idNumber.slice(0, 4)}**************`,
      birth_date: `${head.birthDate.slice(0, 4)}-**-**`,
      birth_year: Number(head.birthDate.slice(0, 4)),
    });
    const visible: Visible = {
      ...oldVisible,
      mask: String(row.id_number_masked),
      birthDate: String(row.birth_date),
    };
    expect(candidates(visible, today).count).toBeGreaterThanOrEqual(10_000);

    // The full birth date is still there for a granted reveal: the sealed ID number encodes it.
    const worker = await makeUser("grid_worker", tree.grid);
    const revealed = await read(
      await api(worker.token).v1.residents[":id"].$get({
        param: { id: String(old.id) },
        query: { reveal: "true" },
        header: { "x-purpose": "verification" },
      }),
    );
    expect(revealed.status).toBe(200);
    expect(revealed.body).toMatchObject({
      idNumber: head.idNumber,
      birthDate: head.birthDate,
      masked: false,
    });
  });

  it("counts what the old mask and a full birth date left: one candidate (the attack works)", () => {
    const id = "610902197504121031";
    expect(idCheckCharacter(id)).toBe("1");
    const visible: Visible = {
      mask: `${id.slice(0, 4)}**********${id.slice(-4)}`,
      birthDate: "1975-04-12",
      birthYear: 1975,
      gender: "male",
      minor: false,
      region: "610902",
    };
    const found = candidates(visible, "2026-12-01");
    expect(found.count).toBe(1);
    expect(found.has(id)).toBe(true);
  });
});
