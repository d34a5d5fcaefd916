import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { auditMacKey, auditRowMac, GuardFailed, writeAudited } from "../../src/platform/db/audit";
import { getDb } from "../../src/platform/db/client";
import { makeTree, sql, type TestTree } from "../support/helpers";

let tree: TestTree;

beforeAll(async () => {
  tree = await makeTree();
});

const rename = (id: string, name: string, version: number) => ({
  sql: "UPDATE units SET name = ?, version = version + 1 WHERE id = ? AND version = ?",
  args: [name, id, version],
});

function entry(requestId: string, objectId: string) {
  return {
    actorId: null,
    actorRole: "admin",
    scopePath: tree.town.path,
    action: "unit.update",
    objectType: "unit",
    objectId,
    outcome: "success" as const,
    requestId,
    detail: { name: "测试" },
  };
}

async function stored(requestId: string) {
  const rs = await sql().execute({ sql: "SELECT * FROM audit_log WHERE request_id = ?", args: [requestId] });
  return rs.rows;
}

async function unitName(id: string) {
  const rs = await sql().execute({ sql: "SELECT name, version FROM units WHERE id = ?", args: [id] });
  return rs.rows[0];
}

describe("writeAudited", () => {
  it("commits the change and its audit row in one batch, the row carrying its HMAC under AUDIT_KEY", async () => {
    const requestId = `wa-${crypto.randomUUID()}`;
    const results = await writeAudited(
      getDb(env),
      [rename(tree.grid.id, "第一网格", 1), rename(tree.grid2.id, "第二网格", 1)],
      [entry(requestId, tree.grid.id)],
      { mustChange: [0, 1] },
    );
    expect(results.map((r) => r.rowsAffected)).toEqual([1, 1]);
    expect(await unitName(tree.grid.id)).toMatchObject({ name: "第一网格", version: 2 });
    const [row] = await stored(requestId);
    expect(row).toMatchObject({ prev_hash: "", action: "unit.update", object_id: tree.grid.id });
    const key = await auditMacKey(env.AUDIT_KEY);
    expect(row!.hash).toBe(
      await auditRowMac(key, {
        id: String(row!.id),
        at: String(row!.at),
        actorId: null,
        actorRole: "admin",
        scopePath: tree.town.path,
        action: "unit.update",
        objectType: "unit",
        objectId: tree.grid.id,
        outcome: "success",
        requestId,
        purpose: null,
        detail: JSON.stringify({ name: "测试" }),
      }),
    );
  });

  it("rolls back everything, audit row included, when a guarded statement changes no row", async () => {
    const requestId = `wa-${crypto.randomUUID()}`;
    const before = await unitName(tree.village.id);
    // Statement 0 would change a row; statement 1 is guarded and loses its version (999 never matches).
    const failure = await writeAudited(
      getDb(env),
      [rename(tree.village.id, "不该留下", Number(before!.version)), rename(tree.village2.id, "也不该", 999)],
      [entry(requestId, tree.village.id)],
      { mustChange: [1] },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GuardFailed);
    expect((failure as GuardFailed).statementIndex).toBe(1);
    expect(await unitName(tree.village.id)).toEqual(before);
    expect(await stored(requestId)).toEqual([]);
  });

  it("still tells a constraint violation of the change from a lost guard", async () => {
    const requestId = `wa-${crypto.randomUUID()}`;
    const failure = await writeAudited(
      getDb(env),
      [
        rename(tree.subgrid.id, "子网格", 1),
        { sql: "UPDATE units SET name = NULL WHERE id = ?", args: [tree.subgrid.id] },
      ],
      [entry(requestId, tree.subgrid.id)],
      { mustChange: [0, 1] },
    ).catch((error: unknown) => error);
    expect(failure).not.toBeInstanceOf(GuardFailed);
    expect(failure).toBeInstanceOf(Error);
    expect(await unitName(tree.subgrid.id)).toMatchObject({ version: 1 });
    expect(await stored(requestId)).toEqual([]);
  });
});
