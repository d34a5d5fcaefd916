import type { InStatement, InValue } from "@libsql/client/web";
import { beforeAll, describe, expect, it } from "vitest";
import { call, makeTree, makeUser, sql, type TestTree, type TestUser } from "../support/helpers";

// Only this file calls /v1/audit/verify: it briefly breaks the shared chain on purpose and mends it again.

const NO_UPDATE = `CREATE TRIGGER \`audit_log_no_update\` BEFORE UPDATE ON \`audit_log\`
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`;
const NO_DELETE = `CREATE TRIGGER \`audit_log_no_delete\` BEFORE DELETE ON \`audit_log\`
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`;

let tree: TestTree;
let admin: TestUser;

beforeAll(async () => {
  tree = await makeTree();
  admin = await makeUser("admin", tree.town);
});

interface StoredAudit {
  seq: number;
  id: string;
  at: string;
  detail: string | null;
  hash: string;
  prev_hash: string;
  request_id: string;
  [column: string]: InValue;
}

/** Renames a unit through the API and returns the audit row it wrote. */
async function auditedRename(unitId: string, name: string) {
  const requestId = `audit-${crypto.randomUUID()}`;
  const res = await call(`/v1/units/${unitId}`, {
    method: "PATCH",
    token: admin.token,
    body: { name },
    headers: { "x-request-id": requestId },
  });
  expect(res.status).toBe(200);
  const rs = await sql().execute({ sql: "SELECT * FROM audit_log WHERE request_id = ?", args: [requestId] });
  expect(rs.rows).toHaveLength(1);
  return rs.rows[0] as unknown as StoredAudit;
}

/** Runs statements as someone with raw database access would: with the append-only trigger out of the way. */
async function asAttacker(trigger: "audit_log_no_update" | "audit_log_no_delete", statements: InStatement[]) {
  await sql().batch(
    [`DROP TRIGGER ${trigger}`, ...statements, trigger === "audit_log_no_update" ? NO_UPDATE : NO_DELETE],
    "write",
  );
}

async function verify() {
  const res = await call("/v1/audit/verify", { token: admin.token });
  expect(res.status).toBe(200);
  return res.body as {
    ok: boolean;
    checked: number;
    firstBroken: { seq: number; id: string; reason: string } | null;
  };
}

describe("GET /v1/audit", () => {
  it("lists rows of the caller's subtree newest first, filtered, across pages", async () => {
    const rows = [];
    for (const name of ["First", "Second", "Third"]) rows.push(await auditedRename(tree.grid.id, name));
    const other = await makeTree();
    const otherAdmin = await makeUser("admin", other.town);
    await call(`/v1/units/${other.grid.id}`, {
      method: "PATCH",
      token: otherAdmin.token,
      body: { name: "Else" },
    });

    const first = await call(`/v1/audit?objectId=${tree.grid.id}&limit=2`, { token: admin.token });
    expect(first.status).toBe(200);
    expect(first.body.items.map((r: { seq: number }) => r.seq)).toEqual([rows[2]!.seq, rows[1]!.seq]);
    expect(first.body.items[0]).toMatchObject({
      id: rows[2]!.id,
      actorId: admin.id,
      actorRole: "admin",
      action: "unit.update",
      objectType: "unit",
      objectId: tree.grid.id,
      outcome: "success",
      requestId: rows[2]!.request_id,
      detail: { name: "Third" },
      hash: rows[2]!.hash,
      prevHash: rows[2]!.prev_hash,
    });
    const second = await call(`/v1/audit?objectId=${tree.grid.id}&limit=2&cursor=${first.body.nextCursor}`, {
      token: admin.token,
    });
    expect(second.body.items.map((r: { seq: number }) => r.seq)).toEqual([rows[0]!.seq]);
    expect(second.body.nextCursor).toBeNull();

    const mine = await call("/v1/audit?action=unit.update&limit=200", { token: admin.token });
    expect(mine.body.items.length).toBeGreaterThanOrEqual(3);
    for (const row of mine.body.items) {
      expect(row.scopePath.startsWith(tree.town.path)).toBe(true);
      expect(row.action).toBe("unit.update");
    }
    const foreign = await call(`/v1/audit?objectId=${other.grid.id}`, { token: admin.token });
    expect(foreign.body.items).toEqual([]);
    const byActor = await call(`/v1/audit?actorId=${otherAdmin.id}`, { token: otherAdmin.token });
    expect(byActor.body.items.map((r: { objectId: string }) => r.objectId)).toEqual([other.grid.id]);
  });

  it("filters by time and rejects bad filters", async () => {
    const row = await auditedRename(tree.grid2.id, "Timed");
    const at = String(row.at);
    const inWindow = await call(`/v1/audit?objectId=${tree.grid2.id}&from=${at}&to=${at}`, {
      token: admin.token,
    });
    expect(inWindow.body.items.map((r: { id: string }) => r.id)).toEqual([row.id]);
    const later = new Date(Date.parse(at) + 1000).toISOString();
    const after = await call(`/v1/audit?objectId=${tree.grid2.id}&from=${later}`, { token: admin.token });
    expect(after.body.items).toEqual([]);
    for (const query of ["from=yesterday", "actorId=42", "cursor=WyJ4Il0", "limit=1000"]) {
      expect(await call(`/v1/audit?${query}`, { token: admin.token }), query).toBeProblem(400);
    }
  });

  it("is for admins only", async () => {
    for (const role of ["center_staff", "leader"] as const) {
      const user = await makeUser(role, tree.town);
      expect(await call("/v1/audit", { token: user.token })).toBeProblem(403);
      expect(await call("/v1/audit/verify", { token: user.token })).toBeProblem(403);
    }
  });
});

describe("audit log integrity", () => {
  it("refuses UPDATE and DELETE of audit rows at the database", async () => {
    const row = await auditedRename(tree.village.id, "Append only");
    await expect(
      sql().execute({ sql: "UPDATE audit_log SET outcome = 'failure' WHERE seq = ?", args: [row.seq] }),
    ).rejects.toThrow(/append-only/);
    await expect(
      sql().execute({ sql: "DELETE FROM audit_log WHERE seq = ?", args: [row.seq] }),
    ).rejects.toThrow(/append-only/);
    const after = await sql().execute({
      sql: "SELECT outcome FROM audit_log WHERE seq = ?",
      args: [row.seq],
    });
    expect(after.rows[0]!.outcome).toBe("success");
  });

  it("GET /v1/audit/verify finds an intact chain, then names an altered row, then a removed one", async () => {
    const whole = await verify();
    expect(whole).toMatchObject({ ok: true, firstBroken: null });
    expect(whole.checked).toBeGreaterThan(0);

    const altered = await auditedRename(tree.village2.id, "Honest name");
    const removed = await auditedRename(tree.village2.id, "Soon gone");
    const follower = await auditedRename(tree.village2.id, "Follower");
    let alteredRestored = false;
    let removedRestored = false;
    try {
      await asAttacker("audit_log_no_update", [
        {
          sql: "UPDATE audit_log SET detail = ? WHERE seq = ?",
          args: [JSON.stringify({ name: "Forged name" }), altered.seq],
        },
      ]);
      const forged = await verify();
      expect(forged).toMatchObject({
        ok: false,
        firstBroken: { seq: Number(altered.seq), id: altered.id, reason: "hash-mismatch" },
      });
      expect(forged.checked).toBeLessThan(Number(altered.seq));

      await asAttacker("audit_log_no_update", [
        { sql: "UPDATE audit_log SET detail = ? WHERE seq = ?", args: [altered.detail, altered.seq] },
      ]);
      alteredRestored = true;
      expect((await verify()).ok).toBe(true);

      await asAttacker("audit_log_no_delete", [
        { sql: "DELETE FROM audit_log WHERE seq = ?", args: [removed.seq] },
      ]);
      const gap = await verify();
      expect(gap).toMatchObject({
        ok: false,
        firstBroken: { seq: Number(follower.seq), id: follower.id, reason: "chain-break" },
      });
    } finally {
      if (!alteredRestored) {
        await asAttacker("audit_log_no_update", [
          { sql: "UPDATE audit_log SET detail = ? WHERE seq = ?", args: [altered.detail, altered.seq] },
        ]);
      }
      const present = await sql().execute({
        sql: "SELECT 1 FROM audit_log WHERE seq = ?",
        args: [removed.seq],
      });
      if (present.rows.length === 0) {
        const columns = Object.keys(removed).filter((k) => Number.isNaN(Number(k)));
        await sql().execute({
          sql: `INSERT INTO audit_log (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
          args: columns.map((k) => removed[k] ?? null),
        });
      }
      removedRestored = true;
    }
    expect(removedRestored).toBe(true);
    const mended = await verify();
    expect(mended).toMatchObject({ ok: true, firstBroken: null });
    expect(mended.checked).toBeGreaterThanOrEqual(Number(follower.seq));
  });
});
