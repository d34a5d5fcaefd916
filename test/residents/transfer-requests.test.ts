import { describe, expect, it } from "vitest";
import { api, read } from "../support/client";
import { makeTree, makeUser, sql, type TestTree } from "../support/helpers";
import { freshId, household, resident } from "../support/household-fixtures";

/** Two towns of one county: the resident lives in `home`, the requester works in `away`. */
async function twoTowns() {
  const home = await makeTree();
  // A second tree under its own city stands in for "anywhere else in the city" (scope is by path only).
  const away = await makeTree();
  const homeWorker = await makeUser("grid_worker", home.grid);
  const awayWorker = await makeUser("grid_worker", away.grid);
  const person = { ...resident({ name: "孙立新" }), relationship: "head" as const };
  const registered = await read(
    await api(homeWorker.token).v1.households.$post({
      json: { ...household(home.grid), residents: [person] },
    }),
  );
  expect(registered.status).toBe(201);
  const fromId = (registered.body as { id: string }).id;
  const rows = await sql().execute({
    sql: "SELECT id FROM residents WHERE household_id = ?",
    args: [fromId],
  });
  return { home, away, homeWorker, awayWorker, person, fromId, residentId: String(rows.rows[0]!.id) };
}

async function newHousehold(token: string, tree: TestTree) {
  const res = await read(await api(token).v1.households.$post({ json: household(tree.grid) }));
  expect(res.status).toBe(201);
  return (res.body as { id: string }).id;
}

describe("registering an ID number registered elsewhere", () => {
  it("answers 409 naming the transfer request, audits the refusal with the HMAC only, and 429s after 10 an hour", async () => {
    const { away, awayWorker, person } = await twoTowns();
    const first = await read(
      await api(awayWorker.token).v1.households.$post({
        json: { ...household(away.grid), residents: [person] },
      }),
    );
    expect(first).toBeProblem(409, "duplicate-id-number");
    expect(first.body).toMatchObject({
      nextStep: { action: "request-transfer", method: "POST", href: "/v1/residents/transfer-requests" },
    });
    const audit = await sql().execute({
      sql: "SELECT actor_id, outcome, object_id, scope_path, detail FROM audit_log WHERE actor_id = ? AND action = 'resident.id_number_refused'",
      args: [awayWorker.id],
    });
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({
      outcome: "denied",
      object_id: away.grid.id,
      scope_path: away.grid.path,
    });
    const detail = String(audit.rows[0]!.detail);
    expect(detail).not.toContain(person.idNumber);
    expect(detail).not.toContain(person.idNumber.slice(-4));
    expect(JSON.parse(detail)).toMatchObject({ unitId: away.grid.id, idNumberHmacs: [expect.any(String)] });
    // Nothing was written.
    const households = await sql().execute({
      sql: "SELECT count(*) AS n FROM households WHERE unit_id = ?",
      args: [away.grid.id],
    });
    expect(Number(households.rows[0]!.n)).toBe(0);

    for (let i = 2; i <= 10; i++) {
      const res = await read(
        await api(awayWorker.token).v1.households.$post({
          json: { ...household(away.grid), residents: [person] },
        }),
      );
      expect(res, `probe ${i}`).toBeProblem(409);
    }
    const limited = await read(
      await api(awayWorker.token).v1.households.$post({
        json: { ...household(away.grid), residents: [person] },
      }),
    );
    expect(limited).toBeProblem(429, "rate-limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Past the limit an unregistered number gets the same 429: the answer no longer tells the two apart.
    const fresh = { ...resident(), relationship: "head" as const };
    const unregistered = await read(
      await api(awayWorker.token).v1.households.$post({
        json: { ...household(away.grid), residents: [fresh] },
      }),
    );
    expect(unregistered).toBeProblem(429);
    // A household without ID numbers is still registered.
    expect((await api(awayWorker.token).v1.households.$post({ json: household(away.grid) })).status).toBe(
      201,
    );
  });
});

describe("parallel probes", () => {
  it("of 14 duplicate registrations at once, at most 10 answer 409 and the rest 429", async () => {
    const { away, awayWorker, person } = await twoTowns();
    const results = await Promise.all(
      Array.from({ length: 14 }, () =>
        api(awayWorker.token).v1.households.$post({ json: { ...household(away.grid), residents: [person] } }),
      ),
    );
    const statuses: number[] = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 409).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s !== 409 && s !== 429)).toEqual([]);
    const window = await sql().execute({
      sql: "SELECT n FROM pii_use_windows WHERE user_id = ? AND kind = 'id_probe'",
      args: [awayWorker.id],
    });
    expect(Number(window.rows[0]!.n)).toBeLessThanOrEqual(14);
  });
});

describe("transfer requests", () => {
  it("moves the resident when the resident's village centre approves, both households reclassified", async () => {
    const { home, away, awayWorker, person, fromId, residentId } = await twoTowns();
    const toId = await newHousehold(awayWorker.token, away);
    const created = await read(
      await api(awayWorker.token).v1.residents["transfer-requests"].$post({
        json: { idNumber: person.idNumber, householdId: toId, reason: "婚后随迁至本村" },
      }),
    );
    expect(created.status).toBe(201);
    const request = created.body as { id: string; residentId: string | null; state: string };
    // The requester learns nothing about where the resident lives.
    expect(request).toMatchObject({
      state: "pending",
      residentId: null,
      fromHouseholdId: null,
      decides: false,
    });
    const stored = await sql().execute({
      sql: "SELECT id_number_hmac, approver_path, resident_id FROM resident_transfer_requests WHERE id = ?",
      args: [request.id],
    });
    expect(stored.rows[0]).toMatchObject({ approver_path: home.village.path, resident_id: residentId });
    expect(JSON.stringify(stored.rows[0])).not.toContain(person.idNumber);

    const centre = await makeUser("center_staff", home.village);
    const listed = await read(
      await api(centre.token).v1.residents["transfer-requests"].$get({ query: { state: "pending" } }),
    );
    expect(listed.status).toBe(200);
    expect((listed.body as { items: Array<{ id: string }> }).items.map((i) => i.id)).toEqual([request.id]);

    const approved = await read(
      await api(centre.token).v1.residents["transfer-requests"][":id"].approve.$post({
        param: { id: request.id },
        json: { note: "核实无误，同意迁出" },
      }),
    );
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ state: "approved", residentId, decidedBy: centre.id });
    const moved = await sql().execute({
      sql: "SELECT household_id, unit_path, version FROM residents WHERE id = ?",
      args: [residentId],
    });
    expect(moved.rows[0]).toMatchObject({ household_id: toId, unit_path: away.grid.path, version: 2 });
    const counts = await sql().execute({
      sql: "SELECT id, member_count, version FROM households WHERE id IN (?, ?)",
      args: [fromId, toId],
    });
    const byId = Object.fromEntries(counts.rows.map((r) => [String(r.id), r]));
    expect(byId[fromId]).toMatchObject({ member_count: 0, version: 2 });
    expect(byId[toId]).toMatchObject({ member_count: 1, version: 2 });
    const audit = await sql().execute({
      sql: "SELECT action FROM audit_log WHERE object_id IN (?, ?) ORDER BY seq",
      args: [request.id, residentId],
    });
    expect(audit.rows.map((r) => r.action)).toEqual([
      "resident.transfer_requested",
      "resident.transfer_approved",
      "resident.move",
    ]);
    // The requester's grid worker now has the resident in scope; a second decision is refused.
    expect(
      (
        await api(awayWorker.token).v1.residents[":id"].$get({
          param: { id: residentId },
          query: {},
          header: {},
        })
      ).status,
    ).toBe(200);
    const twice = await read(
      await api(centre.token).v1.residents["transfer-requests"][":id"].refuse.$post({
        param: { id: request.id },
        json: {},
      }),
    );
    expect(twice).toBeProblem(409, "transfer-decided");
  });

  it("a refusal leaves the resident where they are; an unrelated centre gets 404 and the requester 403", async () => {
    const { home, away, awayWorker, person, fromId, residentId } = await twoTowns();
    const toId = await newHousehold(awayWorker.token, away);
    const created = await read(
      await api(awayWorker.token).v1.residents["transfer-requests"].$post({
        json: { idNumber: person.idNumber, householdId: toId, reason: "投靠子女" },
      }),
    );
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;

    const unrelated = await makeUser("center_staff", home.village2);
    const asUnrelated = api(unrelated.token).v1.residents["transfer-requests"];
    expect(await read(await asUnrelated[":id"].$get({ param: { id } }))).toBeProblem(404);
    expect(await read(await asUnrelated[":id"].approve.$post({ param: { id }, json: {} }))).toBeProblem(404);
    const unrelatedList = await read(await asUnrelated.$get({ query: {} }));
    expect((unrelatedList.body as { items: unknown[] }).items).toEqual([]);
    const requesterDecides = await read(
      await api(awayWorker.token).v1.residents["transfer-requests"][":id"].approve.$post({
        param: { id },
        json: {},
      }),
    );
    expect(requesterDecides).toBeProblem(403);

    // A centre above both (the town of the resident) may decide too.
    const town = await makeUser("center_staff", home.town);
    const refused = await read(
      await api(town.token).v1.residents["transfer-requests"][":id"].refuse.$post({
        param: { id },
        json: { note: "户籍信息不符" },
      }),
    );
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ state: "refused", decisionNote: "户籍信息不符", residentId });
    const stayed = await sql().execute({
      sql: "SELECT household_id FROM residents WHERE id = ?",
      args: [residentId],
    });
    expect(stayed.rows[0]).toMatchObject({ household_id: fromId });
    const seenByRequester = await read(
      await api(awayWorker.token).v1.residents["transfer-requests"][":id"].$get({ param: { id } }),
    );
    expect(seenByRequester.body).toMatchObject({ state: "refused", residentId: null });
  });

  it("an unmatched number answers 404 and counts as a probe, audited with the HMAC", async () => {
    const away = await makeTree();
    const worker = await makeUser("grid_worker", away.grid);
    const toId = await newHousehold(worker.token, away);
    const unknown = freshId("female");
    const res = await read(
      await api(worker.token).v1.residents["transfer-requests"].$post({
        json: { idNumber: unknown.idNumber, householdId: toId, reason: "迁入" },
      }),
    );
    expect(res).toBeProblem(404);
    const audit = await sql().execute({
      sql: "SELECT outcome, detail FROM audit_log WHERE actor_id = ? AND action = 'resident.transfer_unmatched'",
      args: [worker.id],
    });
    expect(audit.rows.map((r) => r.outcome)).toEqual(["denied"]);
    expect(String(audit.rows[0]!.detail)).not.toContain(unknown.idNumber);
    const window = await sql().execute({
      sql: "SELECT n FROM pii_use_windows WHERE user_id = ? AND kind = 'id_probe'",
      args: [worker.id],
    });
    expect(Number(window.rows[0]!.n)).toBe(1);
  });
});
