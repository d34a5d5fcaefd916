import { describe, expect, it } from "vitest";
import { report as staffReport } from "../support/case-fixtures";
import { call, sql } from "../support/helpers";
import {
  freshIp,
  freshMobile,
  makeResidentWorld,
  residentReport,
  signUp,
} from "../support/resident-accounts";

const accountRow = async (id: string) =>
  (await sql().execute({ sql: "SELECT * FROM resident_accounts WHERE id = ?", args: [id] })).rows[0]!;

describe("what a resident may read (the scope matrix)", () => {
  it("before linking: reports and follows own reports, but has no household", async () => {
    const world = await makeResidentWorld();
    const { token } = await signUp();
    expect(await call("/v1/resident/household", { token })).toBeProblem(403, "household-not-linked");
    const made = await call("/v1/resident/reports", { token, body: residentReport(world.point) });
    expect(made.status, made.text).toBe(201);
    const own = await call(`/v1/resident/reports/${made.body.id}`, { token });
    expect(own.status, own.text).toBe(200);
  });

  it("links by ID number once, never echoing it; a wrong number is 404 and changes nothing", async () => {
    const world = await makeResidentWorld();
    const { token, account } = await signUp();
    const ip = { "cf-connecting-ip": freshIp() };
    const wrong = `${world.idNumber.slice(0, 14)}${world.idNumber.slice(14) === "0000" ? "0001" : "0000"}`;
    const miss = await call("/v1/resident/me/household-link", {
      token,
      body: { idNumber: wrong },
      headers: ip,
    });
    expect(miss).toBeProblem(404, "no-match");
    expect((await accountRow(account.id)).household_id).toBeNull();

    const linked = await call("/v1/resident/me/household-link", {
      token,
      body: { idNumber: world.idNumber },
      headers: ip,
    });
    expect(linked.status, linked.text).toBe(200);
    expect(linked.body.linked).toBe(true);
    expect(linked.body.householdId).toBe(world.householdId);
    expect(linked.text).not.toContain(world.idNumber);
    const stored = await accountRow(account.id);
    expect(stored.household_id).toBe(world.householdId);
    expect(Object.values(stored).join("|")).not.toContain(world.idNumber);
    const audit = await sql().execute({
      sql: "SELECT detail FROM audit_log WHERE object_id = ? AND action = 'resident_account.link'",
      args: [account.id],
    });
    expect(audit.rows.map((r) => r.detail).join("|")).not.toContain(world.idNumber.slice(6, 14));
    expect(audit.rows).toHaveLength(2);
  });

  it("once linked: reads own household's address, grid and members' names, never ID numbers, phones, tags or class", async () => {
    const world = await makeResidentWorld();
    const { token } = await signUp();
    const ip = { "cf-connecting-ip": freshIp() };
    expect(
      (
        await call("/v1/resident/me/household-link", {
          token,
          body: { idNumber: world.idNumber },
          headers: ip,
        })
      ).status,
    ).toBe(200);
    const res = await call("/v1/resident/household", { token });
    expect(res.status, res.text).toBe(200);
    expect(res.body.id).toBe(world.householdId);
    expect(res.body.grid.id).toBe(world.tree.grid.id);
    expect(res.body.members).toEqual([
      { name: "王建国", relationship: "head" },
      { name: "王小明", relationship: "child" },
    ]);
    for (const secret of [
      world.idNumber,
      "13800001234",
      "disabled",
      "incomePerCapita",
      "class",
      "tags",
      "birth",
    ]) {
      expect(res.text).not.toContain(secret);
    }
  });

  it("a grid worker links a resident by mobile number in their own grid; another grid's worker gets 404", async () => {
    const world = await makeResidentWorld();
    const { mobile, token, account } = await signUp();
    const outside = await call(`/v1/households/${world.householdId}/resident-accounts`, {
      token: world.otherGridWorker.token,
      body: { mobile },
    });
    expect(outside).toBeProblem(404, "not-found");
    expect((await accountRow(account.id)).household_id).toBeNull();
    const unknown = await call(`/v1/households/${world.householdId}/resident-accounts`, {
      token: world.gridWorker.token,
      body: { mobile: freshMobile() },
    });
    expect(unknown).toBeProblem(404, "not-found");
    const res = await call(`/v1/households/${world.householdId}/resident-accounts`, {
      token: world.gridWorker.token,
      body: { mobile },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.householdId).toBe(world.householdId);
    expect((await accountRow(account.id)).linked_by).toBe(`grid_worker:${world.gridWorker.id}`);
    expect((await call("/v1/resident/household", { token })).status).toBe(200);
    // A resident cannot link anyone: the staff route refuses their token.
    expect(
      await call(`/v1/households/${world.householdId}/resident-accounts`, { token, body: { mobile } }),
    ).toBeProblem(401, "unauthorized");
  });

  it("never reads another resident's report or a staff report (404, the denial audited), nor staff routes", async () => {
    const world = await makeResidentWorld();
    const alice = await signUp();
    const bob = await signUp();
    const made = await call("/v1/resident/reports", {
      token: alice.token,
      body: residentReport(world.point),
    });
    expect(made.status, made.text).toBe(201);
    expect(await call(`/v1/resident/reports/${made.body.id}`, { token: bob.token })).toBeProblem(
      404,
      "not-found",
    );
    const denied = await sql().execute({
      sql: "SELECT count(*) AS n FROM audit_log WHERE actor_id = ? AND object_id = ? AND outcome = 'denied'",
      args: [bob.account.id, made.body.id],
    });
    expect(Number(denied.rows[0]!.n)).toBe(1);
    const bobs = await call("/v1/resident/reports", { token: bob.token });
    expect(bobs.body.items).toEqual([]);

    const staffCase = await staffReport(world.gridWorker);
    expect(await call(`/v1/resident/reports/${staffCase.id}`, { token: alice.token })).toBeProblem(
      404,
      "not-found",
    );
    expect(await call(`/v1/cases/${made.body.id}`, { token: alice.token })).toBeProblem(401, "unauthorized");
    expect(await call(`/v1/households/${world.householdId}`, { token: alice.token })).toBeProblem(
      401,
      "unauthorized",
    );
  });
});
