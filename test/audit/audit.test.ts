import { env } from "cloudflare:workers";
import type { InStatement, InValue } from "@libsql/client/web";
import { beforeAll, describe, expect, it } from "vitest";
import { auditHash, auditLinkMac, auditMacKey, auditRowMac } from "../../src/platform/db/audit";
import type { AuditFinding } from "../../src/services/audit";
import { api, read } from "../support/client";
import { call, makeTree, makeUser, sql, type TestTree, type TestUser } from "../support/helpers";

// Only this file calls /v1/audit/verify: it briefly breaks the shared log on purpose and mends it again.

/** The append-only triggers an attacker with database access drops first (and puts back afterwards). */
const TRIGGERS = [
  "audit_log_no_update",
  "audit_log_no_delete",
  "audit_chain_no_update",
  "audit_chain_no_delete",
];
const triggerSql = (name: string) => {
  const table = name.startsWith("audit_chain") ? "audit_chain" : "audit_log";
  const on = name.endsWith("update") ? "UPDATE" : "DELETE";
  return `CREATE TRIGGER \`${name}\` BEFORE ${on} ON \`${table}\`
BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`;
};

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

/** Runs statements as someone with raw database access would: with the append-only triggers out of the way. */
async function asAttacker(statements: InStatement[]) {
  await sql().batch(
    [...TRIGGERS.map((t) => `DROP TRIGGER ${t}`), ...statements, ...TRIGGERS.map(triggerSql)],
    "write",
  );
}

/** GET /v1/audit/verify through the typed client. */
async function verify() {
  const res = await read(await api(admin.token).v1.audit.verify.$get());
  expect(res.status).toBe(200);
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return res.body as Extract<typeof res.body, { ok: boolean }>;
}

/** The stored link of row `seq`, or null. */
async function linkAt(seq: number): Promise<string | null> {
  const rs = await sql().execute({ sql: "SELECT mac FROM audit_chain WHERE seq = ?", args: [seq] });
  return rs.rows.length ? String(rs.rows[0]!.mac) : null;
}

/** The fields of a stored row its MAC covers, optionally with another detail (as a forger would write it). */
function contentOf(row: StoredAudit, detail: string | null = row.detail) {
  const text = (k: string) => (row[k] === null ? null : String(row[k]));
  return {
    id: row.id,
    at: row.at,
    actorId: text("actor_id"),
    actorRole: text("actor_role"),
    scopePath: String(row.scope_path),
    action: String(row.action),
    objectType: String(row.object_type),
    objectId: text("object_id"),
    outcome: String(row.outcome),
    requestId: row.request_id,
    purpose: text("purpose"),
    detail,
  };
}

const finding = (seq: number, reason: AuditFinding["reason"]) => expect.objectContaining({ seq, reason });

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
  it("refuses UPDATE and DELETE of audit rows and links at the database", async () => {
    const row = await auditedRename(tree.village.id, "只能追加");
    await verify();
    await expect(
      sql().execute({ sql: "UPDATE audit_log SET outcome = 'failure' WHERE seq = ?", args: [row.seq] }),
    ).rejects.toThrow();
    await expect(
      sql().execute({ sql: "DELETE FROM audit_log WHERE seq = ?", args: [row.seq] }),
    ).rejects.toThrow();
    await expect(
      sql().execute({ sql: "UPDATE audit_chain SET mac = 'x' WHERE seq = ?", args: [row.seq] }),
    ).rejects.toThrow();
    await expect(
      sql().execute({ sql: "DELETE FROM audit_chain WHERE seq = ?", args: [row.seq] }),
    ).rejects.toThrow();
    const after = await sql().execute({
      sql: "SELECT outcome FROM audit_log WHERE seq = ?",
      args: [row.seq],
    });
    expect(after.rows[0]!.outcome).toBe("success");
  });

  it("stores each row with its own HMAC, links it at the next checkpoint, and verifies a normal run as ok", async () => {
    const rows = [];
    for (const name of ["一组", "二组", "三组"]) rows.push(await auditedRename(tree.grid.id, name));
    const key = await auditMacKey(env.AUDIT_KEY);
    for (const row of rows) {
      expect(row.prev_hash).toBe("");
      expect(await auditRowMac(key, contentOf(row))).toBe(row.hash);
    }
    const result = await verify();
    expect(result).toMatchObject({
      ok: true,
      findingCount: 0,
      findings: [],
      firstBroken: null,
      keyedFrom: 1,
    });
    expect(result.anchor!.seq).toBeGreaterThanOrEqual(rows[2]!.seq);
    expect(result.checked).toBeGreaterThanOrEqual(rows[2]!.seq);
    // Every row up to the anchored head is linked: HMAC(previous link, seq, row MAC).
    const previous = await linkAt(rows[0]!.seq - 1);
    let prev = previous ?? "";
    for (const row of rows) {
      const link = await linkAt(row.seq);
      expect(link).toBe(await auditLinkMac(key, prev, row.seq, row.hash));
      prev = link!;
    }
  });

  it("reports a tail cut after dropping the triggers as missing, against the head anchored outside the database", async () => {
    const rows = [];
    for (const name of ["甲", "乙", "丙"]) rows.push(await auditedRename(tree.village2.id, name));
    const before = await verify();
    expect(before.ok).toBe(true);
    const anchored = before.anchor!.seq;
    expect(anchored).toBeGreaterThanOrEqual(rows[2]!.seq);
    const from = rows[0]!.seq;
    const backup = `test_audit_cut_${crypto.randomUUID().replace(/-/g, "")}`;
    // Cut everything from the first of the three rows on, rows and links, keeping a copy to mend it again.
    await asAttacker([
      { sql: `CREATE TABLE ${backup}_log AS SELECT * FROM audit_log WHERE seq >= ?`, args: [from] },
      { sql: `CREATE TABLE ${backup}_chain AS SELECT * FROM audit_chain WHERE seq >= ?`, args: [from] },
      { sql: "DELETE FROM audit_chain WHERE seq >= ?", args: [from] },
      { sql: "DELETE FROM audit_log WHERE seq >= ?", args: [from] },
    ]);
    try {
      const cut = await verify();
      expect(cut.ok).toBe(false);
      expect(cut.findings).toContainEqual(finding(anchored, "missing-tail"));
      expect(cut.anchor!.seq).toBe(anchored);
      expect(
        await sql().execute({ sql: "SELECT 1 FROM audit_log WHERE seq = ?", args: [rows[2]!.seq] }),
      ).toMatchObject({ rows: [] });
    } finally {
      await sql().batch(
        [
          `INSERT INTO audit_log SELECT * FROM ${backup}_log`,
          `INSERT INTO audit_chain SELECT * FROM ${backup}_chain`,
          `DROP TABLE ${backup}_log`,
          `DROP TABLE ${backup}_chain`,
        ],
        "write",
      );
    }
    expect(await verify()).toMatchObject({ ok: true, findings: [] });
  });

  it("reports a re-hashed row: plain SHA-256 recomputed, or a MAC and link under a wrong key", async () => {
    const row = await auditedRename(tree.grid2.id, "诚实的名字");
    expect((await verify()).ok).toBe(true);
    const previous = await sql().execute({
      sql: "SELECT hash FROM audit_log WHERE seq = ?",
      args: [row.seq - 1],
    });
    const prevHash = String(previous.rows[0]?.hash ?? "");
    const forgedDetail = JSON.stringify({ name: "伪造的名字" });
    const content = contentOf(row, forgedDetail);
    const originalLink = (await linkAt(row.seq))!;
    const restore = () =>
      asAttacker([
        {
          sql: "UPDATE audit_log SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?",
          args: [row.detail, row.prev_hash, row.hash, row.seq],
        },
        { sql: "UPDATE audit_chain SET mac = ? WHERE seq = ?", args: [originalLink, row.seq] },
      ]);
    try {
      // 1. The old way: the row re-chained with plain SHA-256 over the previous row's hash.
      const sha = await auditHash({ ...content, prevHash });
      await asAttacker([
        {
          sql: "UPDATE audit_log SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?",
          args: [forgedDetail, prevHash, sha, row.seq],
        },
      ]);
      const plain = await verify();
      expect(plain.ok).toBe(false);
      expect(plain.findings).toContainEqual({ seq: row.seq, id: row.id, reason: "row-mac-mismatch" });

      // 2. A MAC under a guessed key, and the link recomputed with it too.
      const wrongKey = await auditMacKey(
        btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
      );
      const mac = await auditRowMac(wrongKey, content);
      const prevLink = (await linkAt(row.seq - 1)) ?? "";
      await asAttacker([
        {
          sql: "UPDATE audit_log SET detail = ?, prev_hash = '', hash = ? WHERE seq = ?",
          args: [forgedDetail, mac, row.seq],
        },
        {
          sql: "UPDATE audit_chain SET mac = ? WHERE seq = ?",
          args: [await auditLinkMac(wrongKey, prevLink, row.seq, mac), row.seq],
        },
      ]);
      const keyed = await verify();
      expect(keyed.ok).toBe(false);
      expect(keyed.findings).toContainEqual({ seq: row.seq, id: row.id, reason: "row-mac-mismatch" });
      expect(keyed.findings).toContainEqual({ seq: row.seq, id: row.id, reason: "link-mismatch" });
    } finally {
      await restore();
    }
    expect(await verify()).toMatchObject({ ok: true, findings: [] });
  });

  it("reports a row deleted from the middle as a gap in the sequence", async () => {
    const rows = [];
    for (const name of ["前", "中", "后"]) rows.push(await auditedRename(tree.village.id, name));
    expect((await verify()).ok).toBe(true);
    const middle = rows[1]!;
    const link = (await linkAt(middle.seq))!;
    await asAttacker([
      { sql: "DELETE FROM audit_chain WHERE seq = ?", args: [middle.seq] },
      { sql: "DELETE FROM audit_log WHERE seq = ?", args: [middle.seq] },
    ]);
    try {
      const gap = await verify();
      expect(gap.ok).toBe(false);
      expect(gap.findings).toContainEqual({ seq: middle.seq, id: null, reason: "sequence-gap" });
      expect(gap.firstBroken).toMatchObject({ seq: middle.seq, reason: "sequence-gap" });
    } finally {
      const columns = Object.keys(middle).filter((k) => Number.isNaN(Number(k)));
      await sql().batch(
        [
          {
            sql: `INSERT INTO audit_log (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
            args: columns.map((k) => middle[k] ?? null),
          },
          {
            sql: "INSERT INTO audit_chain (seq, mac, chained_at) VALUES (?, ?, ?)",
            args: [middle.seq, link, new Date().toISOString()],
          },
        ],
        "write",
      );
    }
    expect(await verify()).toMatchObject({ ok: true, findings: [] });
  });
});
