import { describe, expect, it } from "vitest";
import { call, makeTree, makeUser, sql } from "../support/helpers";
import { household, resident, storedHousehold } from "../support/household-fixtures";

describe("POST /v1/households", () => {
  it("registers a household with residents, classifies it, and stores no plaintext ID number", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const head = resident();
    const child = resident({
      name: "王小明",
      relationship: "child",
      birthDate: "2015-03-04",
      tags: ["left_behind_child"],
    });
    const res = await call("/v1/households", {
      token: worker.token,
      body: household(tree.subgrid, { residents: [head, child] }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("etag")).toBe('"1"');
    expect(res.body).toMatchObject({
      unitId: tree.subgrid.id,
      villageId: tree.village.id,
      memberCount: 2,
      computedClass: "red",
      effectiveClass: "red",
      classReasons: ["member_left_behind_child"],
      override: null,
    });
    // Red: contact every 7 days from now.
    const due = Date.parse(res.body.nextVisitDue) - Date.parse(res.body.classSince);
    expect(due).toBe(7 * 86_400_000);

    const rows = await sql().execute({
      sql: "SELECT * FROM residents WHERE household_id = ? ORDER BY name",
      args: [res.body.id],
    });
    expect(rows.rows).toHaveLength(2);
    for (const row of rows.rows) {
      const raw = JSON.stringify(row);
      expect(raw).not.toContain(head.idNumber);
      expect(raw).not.toContain(child.idNumber);
      expect(raw).not.toContain(head.idNumber.slice(6, 14)); // not even the digits of the birth date run
      expect(raw).not.toContain("13800001234");
      expect(String(row.id_number_enc)).toMatch(/^v1\./);
      expect(String(row.id_number_hmac)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      // The masking rule: only the province and prefecture digits, nothing of the birth date or sequence.
      expect(String(row.id_number_masked)).toMatch(/^\d{4}\*{14}$/);
      expect(String(row.birth_date)).toMatch(/^\d{4}-\*\*-\*\*$/);
      expect(String(row.birth_date_enc)).toMatch(/^v1\./);
      expect(row.phone_masked).toBe("138****1234");
    }
    const stored = await storedHousehold(res.body.id);
    expect(stored).toMatchObject({ class: "red", computed_class: "red", red_tags: '["left_behind_child"]' });
  });

  it("answers 409 for an ID number already registered, and writes nothing", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const person = resident();
    expect(
      (
        await call("/v1/households", {
          token: worker.token,
          body: household(tree.grid, { residents: [person] }),
        })
      ).status,
    ).toBe(201);
    const again = household(tree.grid, { residents: [resident(), { ...person, name: "李四" }] });
    const res = await call("/v1/households", { token: worker.token, body: again });
    expect(res).toBeProblem(409);
    expect(res.body.errors).toEqual([
      { path: "residents.1.idNumber", message: "a resident with this ID number is already registered" },
    ]);
    const count = await sql().execute({
      sql: "SELECT count(*) AS n FROM households WHERE address = ?",
      args: [again.address],
    });
    expect(Number(count.rows[0]!.n)).toBe(0);
  });

  it("answers 409 for the same ID number twice in one request", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const person = resident();
    const res = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { residents: [person, { ...person, relationship: "spouse" }] }),
    });
    expect(res).toBeProblem(409);
    expect(res.body.errors[0].path).toBe("residents.1.idNumber");
  });

  it("rejects impossible incomes, future birth dates, bad check digits and unknown tags with field paths", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const good = resident();
    const badCheck = resident();
    badCheck.idNumber = badCheck.idNumber.slice(0, 17) + (badCheck.idNumber[17] === "1" ? "2" : "1");
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const body = household(tree.grid, {
      incomePerCapita: -5,
      safeFamilyYears: [2999],
      residents: [
        good,
        badCheck,
        resident({ birthDate: future, idNumber: undefined }),
        resident({ tags: ["vampire"] }),
        resident({ idNumber: good.idNumber.slice(0, 17) }),
      ],
    });
    const res = await call("/v1/households", { token: worker.token, body });
    expect(res).toBeProblem(400);
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "incomePerCapita",
        "safeFamilyYears.0",
        "residents.1.idNumber",
        "residents.2.birthDate",
        "residents.3.tags.0",
        "residents.4.idNumber",
      ]),
    );
    const fractional = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { incomePerCapita: 10.5 }),
    });
    expect(fractional).toBeProblem(400);
    expect(fractional.body.errors[0].path).toBe("incomePerCapita");
    const huge = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { incomePerCapita: 1e9 }),
    });
    expect(huge).toBeProblem(400);
    const count = await sql().execute({
      sql: "SELECT count(*) AS n FROM households WHERE unit_id = ?",
      args: [tree.grid.id],
    });
    expect(Number(count.rows[0]!.n)).toBe(0);
  });

  it("rejects an ID number whose birth date does not match the resident's", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const person = resident({ birthDate: "1980-01-01" });
    const res = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { residents: [{ ...person, birthDate: "1980-01-02" }] }),
    });
    expect(res).toBeProblem(400);
    expect(res.body.errors).toEqual([
      { path: "residents.0.idNumber", message: "the ID number's birth date is not birthDate" },
    ]);
  });

  it("only places households in level-2 or level-3 grids", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const res = await call("/v1/households", { token: staff.token, body: household(tree.village) });
    expect(res).toBeProblem(400);
    expect(res.body.errors[0].path).toBe("unitId");
  });

  it("refuses roles that do not keep the registry", async () => {
    const tree = await makeTree();
    const leader = await makeUser("leader", tree.town);
    const res = await call("/v1/households", { token: leader.token, body: household(tree.grid) });
    expect(res).toBeProblem(403);
  });
});

describe("scope", () => {
  it("a grid worker of another grid gets 404 for the household, and does not see it in lists", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const other = await makeUser("grid_worker", tree.otherGrid);
    const created = await call("/v1/households", { token: worker.token, body: household(tree.subgrid) });
    expect(created.status).toBe(201);
    const res = await call(`/v1/households/${created.body.id}`, { token: other.token });
    expect(res).toBeProblem(404);
    const patch = await call(`/v1/households/${created.body.id}`, {
      method: "PATCH",
      token: other.token,
      headers: { "if-match": '"1"' },
      body: { notes: "x" },
    });
    expect(patch).toBeProblem(404);
    const list = await call("/v1/households", { token: other.token });
    expect(list.body.items).toEqual([]);
    const foreign = await call(`/v1/households?unitId=${tree.grid.id}`, { token: other.token });
    expect(foreign).toBeProblem(404);
    // The grid worker of the level-2 grid sees the level-3 grid's household.
    expect((await call(`/v1/households/${created.body.id}`, { token: worker.token })).status).toBe(200);
  });

  it("a town centre sees its whole town, filtered by class, in cursor pages", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const ids: string[] = [];
    for (const unit of [tree.grid, tree.subgrid, tree.grid2, tree.otherGrid]) {
      const res = await call("/v1/households", { token: staff.token, body: household(unit) });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const red = await call("/v1/households", {
      token: staff.token,
      body: household(tree.otherGrid, { residents: [resident({ tags: ["poverty_risk"] })] }),
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await call(
        `/v1/households?unitId=${tree.town.id}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        {
          token: staff.token,
        },
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((h: { id: string }) => h.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...ids, red.body.id].sort());
    const reds = await call(`/v1/households?unitId=${tree.town.id}&class=red`, { token: staff.token });
    expect(reds.body.items.map((h: { id: string }) => h.id)).toEqual([red.body.id]);
    const village2 = await call(`/v1/households?unitId=${tree.village2.id}`, { token: staff.token });
    expect(village2.body.items).toHaveLength(2);
  });

  it("finds a household by the exact ID number of a member (HMAC lookup)", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const person = resident();
    const created = await call("/v1/households", {
      token: staff.token,
      body: household(tree.grid, { residents: [person] }),
    });
    // A search by ID number is a use of it: it needs an enumerated purpose.
    const noPurpose = await call(`/v1/households?q=${person.idNumber}`, { token: staff.token });
    expect(noPurpose).toBeProblem(400, "purpose-required");
    const found = await call(`/v1/households?q=${person.idNumber}`, {
      token: staff.token,
      headers: { "x-purpose": "verification" },
    });
    expect(found.body.items.map((h: { id: string }) => h.id)).toEqual([created.body.id]);
    const byAddress = await call(`/v1/households?q=${encodeURIComponent(created.body.address.slice(-8))}`, {
      token: staff.token,
    });
    expect(byAddress.body.items.map((h: { id: string }) => h.id)).toEqual([created.body.id]);
    const audit = await sql().execute({
      sql: "SELECT purpose, detail FROM audit_log WHERE action = 'household.search_by_id_number' AND actor_id = ?",
      args: [staff.id],
    });
    const granted = audit.rows.filter((r) => r.purpose === "verification");
    expect(granted).toHaveLength(1);
    // Recorded by the number's keyed HMAC: neither the number nor any mask of it is in the log.
    expect(String(granted[0]!.detail)).not.toContain(person.idNumber);
    expect(String(granted[0]!.detail)).not.toContain(person.idNumber.slice(-4));
    expect(JSON.parse(String(granted[0]!.detail)).idNumberHmac).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it("refuses a search by ID number to a role that sees masked values only, recording only the denial", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const leader = await makeUser("leader", tree.town);
    const person = resident();
    await call("/v1/households", { token: staff.token, body: household(tree.grid, { residents: [person] }) });
    const res = await call(`/v1/households?q=${person.idNumber}`, { token: leader.token });
    expect(res).toBeProblem(403);
    // Since denied requests for sensitive resources are audited, the refusal leaves one `denied` row.
    const audit = await sql().execute({
      sql: "SELECT outcome, detail FROM audit_log WHERE actor_id = ?",
      args: [leader.id],
    });
    expect(audit.rows.map((r) => r.outcome)).toEqual(["denied"]);
    expect(String(audit.rows[0]!.detail)).not.toContain(person.idNumber);
  });
});

describe("PATCH /v1/households/{id}", () => {
  it("requires If-Match (428), refuses a stale one (412) without writing, and reclassifies in the same write", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    // Two households, so the village average is (12,000 + 8,000) / 2 = 10,000.
    const a = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { incomePerCapita: 12_000 }),
    });
    await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { incomePerCapita: 8_000 }),
    });
    expect(a.body.effectiveClass).toBe("green");
    const path = `/v1/households/${a.body.id}`;

    const missing = await call(path, {
      method: "PATCH",
      token: worker.token,
      body: { incomePerCapita: 9_000 },
    });
    expect(missing).toBeProblem(428);
    const stale = await call(path, {
      method: "PATCH",
      token: worker.token,
      headers: { "if-match": '"7"' },
      body: { incomePerCapita: 9_000 },
    });
    expect(stale).toBeProblem(412);
    expect(stale.body.currentVersion).toBe(1);
    expect(await storedHousehold(a.body.id)).toMatchObject({ income_per_capita: 12_000, version: 1 });

    // 9,000 against the new average (9,000 + 8,000) / 2 = 8,500: still green.
    const ok = await call(path, {
      method: "PATCH",
      token: worker.token,
      headers: { "if-match": '"1"' },
      body: { incomePerCapita: 9_000, notes: "moved to part-time work" },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("etag")).toBe('"2"');
    expect(ok.body).toMatchObject({ incomePerCapita: 9_000, effectiveClass: "green", version: 2 });

    const unstable = await call(path, {
      method: "PATCH",
      token: worker.token,
      headers: { "if-match": '"2"' },
      body: { incomeStable: false },
    });
    expect(unstable.body).toMatchObject({
      computedClass: "yellow",
      effectiveClass: "yellow",
      classReasons: ["income_not_stable"],
    });
    expect(await storedHousehold(a.body.id)).toMatchObject({
      class: "yellow",
      computed_class: "yellow",
      version: 3,
    });
    const again = await call(path, {
      method: "PATCH",
      token: worker.token,
      headers: { "if-match": '"2"' },
      body: { notes: "late" },
    });
    expect(again).toBeProblem(412);
  });

  it("overrides need a reason and an expiry, are audited, show computed and effective class, and expire", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    const worker = await makeUser("grid_worker", tree.grid);
    const created = await call("/v1/households", { token: staff.token, body: household(tree.grid) });
    const path = `/v1/households/${created.body.id}`;
    const until = new Date(Date.now() + 10 * 86_400_000).toISOString();

    const noReason = await call(path, {
      method: "PATCH",
      token: staff.token,
      headers: { "if-match": '"1"' },
      body: { override: { class: "red", until } },
    });
    expect(noReason).toBeProblem(400);
    expect(noReason.body.errors[0].path).toBe("override.reason");
    const noExpiry = await call(path, {
      method: "PATCH",
      token: staff.token,
      headers: { "if-match": '"1"' },
      body: { override: { class: "red", reason: "house fire last week" } },
    });
    expect(noExpiry.body.errors[0].path).toBe("override.until");
    const past = await call(path, {
      method: "PATCH",
      token: staff.token,
      headers: { "if-match": '"1"' },
      body: { override: { class: "red", reason: "house fire last week", until: "2020-01-01T00:00:00Z" } },
    });
    expect(past.body.errors[0].path).toBe("override.until");
    const byWorker = await call(path, {
      method: "PATCH",
      token: worker.token,
      headers: { "if-match": '"1"' },
      body: { override: { class: "red", reason: "house fire last week", until } },
    });
    expect(byWorker).toBeProblem(403);

    const set = await call(path, {
      method: "PATCH",
      token: staff.token,
      headers: { "if-match": '"1"' },
      body: { override: { class: "red", reason: "house fire last week", until } },
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      computedClass: "green",
      effectiveClass: "red",
      override: { class: "red", reason: "house fire last week", until, by: staff.id, active: true },
    });
    // The override's class sets the service: red households are owed contact every 7 days.
    expect(set.body.nextVisitDue).not.toBeNull();
    const audit = await sql().execute({
      sql: "SELECT detail FROM audit_log WHERE object_id = ? AND action = 'household.override'",
      args: [created.body.id],
    });
    expect(JSON.parse(String(audit.rows[0]!.detail))).toMatchObject({
      class: "red",
      reason: "house fire last week",
      computedClass: "green",
    });

    // A millisecond before expiry it still applies; at the expiry instant it stops.
    const justBefore = new Date(Date.parse(until) - 1).toISOString();
    const before = await call(`${path}?asOf=${justBefore}`, { token: staff.token });
    expect(before.body).toMatchObject({ effectiveClass: "red", override: { active: true } });
    const atExpiry = await call(`${path}?asOf=${until}`, { token: staff.token });
    expect(atExpiry.body).toMatchObject({
      computedClass: "green",
      effectiveClass: "green",
      override: { active: false },
    });
    const summary = await call(`/v1/units/${tree.grid.id}/households/summary?asOf=${until}`, {
      token: staff.token,
    });
    expect(summary.body.byClass).toEqual({ green: 1, yellow: 0, red: 0 });
    const summaryBefore = await call(`/v1/units/${tree.grid.id}/households/summary?asOf=${justBefore}`, {
      token: staff.token,
    });
    expect(summaryBefore.body.byClass).toEqual({ green: 0, yellow: 0, red: 1 });

    // Reclassifying at the expiry moves the stored class back, and the schedule with it.
    const re = await call(`/v1/units/${tree.grid.id}/reclassify?asOf=${until}`, {
      method: "POST",
      token: staff.token,
    });
    expect(re.body).toMatchObject({ byClass: { green: 1, yellow: 0, red: 0 }, changed: 1 });
    expect(await storedHousehold(created.body.id)).toMatchObject({ class: "green", next_visit_due: null });

    const removed = await call(path, {
      method: "PATCH",
      token: staff.token,
      headers: { "if-match": `"${(await call(path, { token: staff.token })).body.version}"` },
      body: { override: null },
    });
    expect(removed.body).toMatchObject({ override: null, effectiveClass: "green" });
  });

  it("moves a household's three-line pairings with it, so coverage counts it in its new village", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const member = await makeUser("party_member", tree.town);
    const created = await call("/v1/households", { token: staff.token, body: household(tree.grid) });
    expect(created.status).toBe(201);
    const paired = await call(`/v1/contacts/${member.id}/households`, {
      token: staff.token,
      body: { pairings: [{ householdId: created.body.id, line: "party_member" }] },
    });
    expect(paired.status).toBe(201);
    const moved = await call(`/v1/households/${created.body.id}`, {
      method: "PATCH",
      token: staff.token,
      headers: { "if-match": '"1"' },
      body: { unitId: tree.otherGrid.id },
    });
    expect(moved.status).toBe(200);
    const pairing = await sql().execute({
      sql: "SELECT unit_path FROM contact_pairings WHERE household_id = ?",
      args: [created.body.id],
    });
    expect(pairing.rows.map((r) => r.unit_path)).toEqual([tree.otherGrid.path]);
    const oldVillage = await call(`/v1/units/${tree.village.id}/coverage`, { token: staff.token });
    expect(oldVillage.status).toBe(200);
    expect(oldVillage.body).toMatchObject({ households: 0, anyLine: { covered: 0 } });
    const newVillage = await call(`/v1/units/${tree.village2.id}/coverage`, { token: staff.token });
    expect(newVillage.body).toMatchObject({ households: 1, anyLine: { covered: 1 } });
  });

  it("moves a household to another grid with its residents", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const created = await call("/v1/households", {
      token: staff.token,
      body: household(tree.grid, { residents: [resident()] }),
    });
    const moved = await call(`/v1/households/${created.body.id}`, {
      method: "PATCH",
      token: staff.token,
      headers: { "if-match": '"1"' },
      body: { unitId: tree.otherGrid.id },
    });
    expect(moved.body).toMatchObject({ unitId: tree.otherGrid.id, villageId: tree.village2.id });
    const stored = await storedHousehold(created.body.id);
    expect(stored).toMatchObject({ unit_path: tree.otherGrid.path, village_id: tree.village2.id });
    const members = await sql().execute({
      sql: "SELECT unit_path FROM residents WHERE household_id = ?",
      args: [created.body.id],
    });
    expect(members.rows[0]!.unit_path).toBe(tree.otherGrid.path);
    const counts = await call(`/v1/units/${tree.village.id}/households/summary`, { token: staff.token });
    expect(counts.body.total).toBe(0);
    // The per-village counts the town's summary sums follow the household to its new village.
    const town = await call(`/v1/units/${tree.town.id}/households/summary`, { token: staff.token });
    expect(town.body).toMatchObject({ total: 1, byClass: { green: 1, yellow: 0, red: 0 } });
    const rows = await sql().execute({
      sql: "SELECT unit_id, unit_path, n FROM household_class_counts WHERE unit_path LIKE ?",
      args: [`${tree.town.path}%`],
    });
    expect(rows.rows.map((r) => [r.unit_id, r.unit_path, Number(r.n)])).toEqual([
      [tree.village2.id, tree.village2.path, 1],
    ]);
  });
});

describe("sensitive data", () => {
  async function redHousehold() {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const head = resident({ tags: ["released_prisoner", "veteran"] });
    const minor = resident({
      name: "王小明",
      relationship: "child",
      birthDate: "2016-02-03",
      tags: ["left_behind_child"],
    });
    const created = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { residents: [head, minor] }),
    });
    expect(created.status).toBe(201);
    const [headRow, minorRow] = created.body.id
      ? (
          await sql().execute({
            sql: "SELECT id FROM residents WHERE household_id = ? ORDER BY birth_date",
            args: [created.body.id],
          })
        ).rows.map((r) => String(r.id))
      : [];
    return { tree, worker, head, minor, household: created.body, headId: headRow!, minorId: minorRow! };
  }

  it("a leader sees masked values and may not reveal", async () => {
    const { tree, head, headId, minorId, household: h } = await redHousehold();
    const leader = await makeUser("leader", tree.town);
    const res = await call(`/v1/residents/${headId}`, { token: leader.token });
    expect(res.status).toBe(200);
    // The masking rule: the ID number keeps its first 4 characters only, an adult's birth date its year only.
    expect(res.body).toMatchObject({
      idNumber: `${head.idNumber.slice(0, 4)}**************`,
      birthDate: `${head.birthDate.slice(0, 4)}-**-**`,
      birthYear: Number(head.birthDate.slice(0, 4)),
      phone: "138****1234",
      tags: ["restricted", "veteran"],
      masked: true,
    });
    expect(JSON.stringify(res.body)).not.toContain(head.idNumber);
    const minor = await call(`/v1/residents/${minorId}`, { token: leader.token });
    expect(minor.body).toMatchObject({
      name: "王**",
      birthDate: "2016-**-**",
      minor: true,
      tags: ["left_behind_child"],
    });
    const detail = await call(`/v1/households/${h.id}`, { token: leader.token });
    expect(detail.body.classReasons).toEqual(["member_left_behind_child", "member_sensitive_tag"]);
    const reveal = await call(`/v1/residents/${headId}?reveal=true`, {
      token: leader.token,
      headers: { "x-purpose": "verification" },
    });
    expect(reveal).toBeProblem(403);
  });

  it("an unmasked read without x-purpose is refused and leaves only a denial in the audit log", async () => {
    const { worker, headId } = await redHousehold();
    const res = await call(`/v1/residents/${headId}?reveal=true`, { token: worker.token });
    expect(res).toBeProblem(400);
    expect(res.body.type).toMatch(/purpose-required$/);
    expect(res.body.errors).toEqual([
      { path: "header.x-purpose", message: "required with reveal=true: one of the purpose codes" },
    ]);
    const audit = await sql().execute({
      sql: "SELECT outcome FROM audit_log WHERE object_id = ? AND action = 'resident.reveal'",
      args: [headId],
    });
    expect(audit.rows.map((r) => r.outcome)).toEqual(["denied"]);
  });

  it("an unmasked read with x-purpose returns the plain values and leaves an audit row with the purpose", async () => {
    const { worker, head, headId, tree } = await redHousehold();
    const res = await call(`/v1/residents/${headId}?reveal=true`, {
      token: worker.token,
      headers: { "x-purpose": "verification" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      idNumber: head.idNumber,
      phone: "13800001234",
      tags: ["released_prisoner", "veteran"],
      masked: false,
    });
    expect(res.headers.get("cache-control")).toBe("no-store");
    const audit = await sql().execute({
      sql: "SELECT actor_id, actor_role, purpose, scope_path, detail FROM audit_log WHERE object_id = ? AND action = 'resident.reveal'",
      args: [headId],
    });
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({
      actor_id: worker.id,
      actor_role: "grid_worker",
      purpose: "verification",
      scope_path: tree.grid.path,
    });
  });

  it("lists and household details never carry unmasked fields, even for roles that may reveal", async () => {
    const { worker, head, household: h } = await redHousehold();
    const list = await call("/v1/households", { token: worker.token });
    expect(list.body.items[0].classReasons).toContain("member_sensitive_tag");
    expect(list.body.items[0].masked).toBe(true);
    const detail = await call(`/v1/households/${h.id}`, { token: worker.token });
    expect(JSON.stringify(detail.body)).not.toContain(head.idNumber);
    expect(detail.body.residents.every((r: { masked: boolean }) => r.masked)).toBe(true);
    const revealed = await call(`/v1/households/${h.id}?reveal=true`, {
      token: worker.token,
      headers: { "x-purpose": "assistance" },
    });
    expect(revealed.body.classReasons).toEqual(["member_left_behind_child", "member_released_prisoner"]);
    expect(revealed.body.residents.every((r: { masked: boolean }) => r.masked)).toBe(true);
    const audit = await sql().execute({
      sql: "SELECT purpose FROM audit_log WHERE object_id = ? AND action = 'household.reveal'",
      args: [h.id],
    });
    expect(audit.rows.map((r) => r.purpose)).toEqual(["assistance"]);
  });
});

describe("API reference", () => {
  it("documents the household, resident and visit routes with the class labels", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    for (const path of [
      "/v1/households",
      "/v1/households/import",
      "/v1/households/{id}",
      "/v1/households/{id}/residents",
      "/v1/residents/{id}",
      "/v1/residents/{id}/move",
      "/v1/households/{id}/visits",
      "/v1/visits/overdue",
      "/v1/units/{id}/reclassify",
      "/v1/units/{id}/households/summary",
      "/v1/units/{id}/service-plan",
    ]) {
      expect(res.body.paths[path], path).toBeDefined();
    }
    expect(JSON.stringify(res.body.components.schemas.Household)).toContain("连心户");
  });
});
