import { describe, expect, it } from "vitest";
import { api, read } from "../support/client";
import { makeTree, makeUser, sql } from "../support/helpers";
import { household, resident } from "../support/household-fixtures";

/** A grid worker and one resident of their grid. */
async function workerWithResident() {
  const tree = await makeTree();
  const worker = await makeUser("grid_worker", tree.grid);
  const person = { ...resident({ name: "赵德明" }), relationship: "head" as const };
  const created = await read(
    await api(worker.token).v1.households.$post({ json: { ...household(tree.grid), residents: [person] } }),
  );
  expect(created.status).toBe(201);
  const rows = await sql().execute({
    sql: "SELECT id FROM residents WHERE household_id = ?",
    args: [(created.body as { id: string }).id],
  });
  return { tree, worker, person, residentId: String(rows.rows[0]!.id) };
}

/** The `errors[].path` of a problem body. */
function errorPaths(body: unknown): string[] {
  const errors = (body as { errors?: Array<{ path: string }> } | null)?.errors ?? [];
  return errors.map((e) => e.path);
}

function reveal(token: string, id: string, header: Record<string, string>) {
  return api(token).v1.residents[":id"].$get({ param: { id }, query: { reveal: "true" }, header });
}

describe("purposes of a reveal", () => {
  it("refuses a purpose that is not an enumerated code, or a reference of the wrong shape, with 400", async () => {
    const { worker, residentId } = await workerWithResident();
    const cases: Array<[Record<string, string>, string]> = [
      [{ "x-purpose": "xxxx" }, "header.x-purpose"],
      [{ "x-purpose": "看看" }, "header.x-purpose"],
      [{ "x-purpose": "case_handling" }, "header.x-purpose-ref"],
      [{ "x-purpose": "case_handling", "x-purpose-ref": "案件123" }, "header.x-purpose-ref"],
      [{ "x-purpose": "verification", "x-purpose-ref": crypto.randomUUID() }, "header.x-purpose-ref"],
      [{ "x-purpose-ref": crypto.randomUUID() }, "header.x-purpose"],
    ];
    for (const [header, path] of cases) {
      const res = await read(await reveal(worker.token, residentId, header));
      expect(res, JSON.stringify(header)).toBeProblem(400, "purpose-invalid");
      expect(errorPaths(res.body)).toEqual([path]);
    }
    // A bad purpose is refused even without a reveal.
    const plain = await read(
      await api(worker.token).v1.residents[":id"].$get({
        param: { id: residentId },
        query: {},
        header: { "x-purpose": "curiosity" },
      }),
    );
    expect(plain).toBeProblem(400, "purpose-invalid");
    const granted = await sql().execute({
      sql: "SELECT count(*) AS n FROM audit_log WHERE object_id = ? AND action = 'resident.reveal' AND outcome = 'success'",
      args: [residentId],
    });
    expect(Number(granted.rows[0]!.n)).toBe(0);
  });

  it("records the purpose code and its reference in the reveal's audit row", async () => {
    const { worker, residentId, person, tree } = await workerWithResident();
    const caseId = crypto.randomUUID();
    const res = await read(
      await reveal(worker.token, residentId, { "x-purpose": "case_handling", "x-purpose-ref": caseId }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ idNumber: person.idNumber, birthDate: person.birthDate, masked: false });
    const audit = await sql().execute({
      sql: "SELECT actor_id, purpose, scope_path, detail, outcome FROM audit_log WHERE object_id = ? AND action = 'resident.reveal'",
      args: [residentId],
    });
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({
      actor_id: worker.id,
      purpose: "case_handling",
      scope_path: tree.grid.path,
      outcome: "success",
    });
    expect(JSON.parse(String(audit.rows[0]!.detail))).toMatchObject({ purposeRef: caseId });
    const legal = await read(
      await reveal(worker.token, residentId, {
        "x-purpose": "legal_request",
        "x-purpose-ref": "汉公(刑)调字〔2026〕18号",
      }),
    );
    expect(legal.status).toBe(200);
  });
});

describe("the reveal limit", () => {
  it("answers the 61st reveal in an hour with 429 and Retry-After, and alerts the city centre once", async () => {
    const { tree, worker, residentId } = await workerWithResident();
    for (let i = 0; i < 60; i++) {
      const res = await reveal(worker.token, residentId, { "x-purpose": "verification" });
      expect(res.status, `reveal ${i + 1}`).toBe(200);
    }
    const over = await read(await reveal(worker.token, residentId, { "x-purpose": "verification" }));
    expect(over).toBeProblem(429, "rate-limited");
    const retryAfter = Number(over.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(3000);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    const again = await read(await reveal(worker.token, residentId, { "x-purpose": "verification" }));
    expect(again).toBeProblem(429);

    const alerts = await sql().execute({
      sql: "SELECT unit_id, unit_path, kind, payload FROM inbox_items WHERE unit_id = ? AND kind = 'alert'",
      args: [tree.city.id],
    });
    expect(alerts.rows).toHaveLength(1);
    expect(alerts.rows[0]).toMatchObject({ unit_path: tree.city.path });
    expect(JSON.parse(String(alerts.rows[0]!.payload))).toMatchObject({
      alert: "pii.reveal_limit_exceeded",
      userId: worker.id,
      limit: 60,
    });
    const granted = await sql().execute({
      sql: "SELECT outcome, count(*) AS n FROM audit_log WHERE object_id = ? AND action = 'resident.reveal' GROUP BY outcome",
      args: [residentId],
    });
    expect(Object.fromEntries(granted.rows.map((r) => [r.outcome, Number(r.n)]))).toEqual({
      success: 60,
      denied: 1,
    });
  });

  it("counts parallel reveals atomically: of 70 at once, exactly 60 are granted", async () => {
    const { worker, residentId } = await workerWithResident();
    const results = await Promise.all(
      Array.from({ length: 70 }, () => reveal(worker.token, residentId, { "x-purpose": "assistance" })),
    );
    const statuses: number[] = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(60);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it("takes a unit's own limit from its settings", async () => {
    const { tree, worker, residentId } = await workerWithResident();
    await sql().execute({
      sql: "INSERT INTO unit_settings (unit_id, key, value) VALUES (?, 'pii.reveals_per_hour', '2')",
      args: [tree.village.id],
    });
    expect((await reveal(worker.token, residentId, { "x-purpose": "visit" })).status).toBe(200);
    expect((await reveal(worker.token, residentId, { "x-purpose": "visit" })).status).toBe(200);
    expect(await read(await reveal(worker.token, residentId, { "x-purpose": "visit" }))).toBeProblem(429);
  });
});
