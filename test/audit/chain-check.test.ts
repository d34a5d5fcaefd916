import { describe, expect, it } from "vitest";
import type { AuditLogRow } from "../../src/db/repos/audit";
import { auditHash, auditLinkMac, auditMacKey, auditRowMac } from "../../src/platform/db/audit";
import { AuditChainCheck } from "../../src/services/audit";

const key = await auditMacKey(btoa(String.fromCharCode(...new Uint8Array(32).fill(7))));

function content(seq: number) {
  return {
    id: `row-${seq}`,
    at: `2026-12-01T00:00:0${seq}.000Z`,
    actorId: "u1",
    actorRole: "admin",
    scopePath: "/c/",
    action: "unit.update",
    objectType: "unit",
    objectId: `unit-${seq}`,
    outcome: "success",
    requestId: null,
    purpose: null,
    detail: JSON.stringify({ name: `第${seq}组` }),
  };
}

/** Rows 1–3 in the plain SHA-256 chain, rows 4–6 keyed and linked from row 3's hash. */
async function history() {
  const rows: Array<{ row: AuditLogRow; link: string | null }> = [];
  let prevHash = "";
  for (const seq of [1, 2, 3]) {
    const hash = await auditHash({ ...content(seq), prevHash });
    rows.push({ row: { seq, ...content(seq), prevHash, hash }, link: null });
    prevHash = hash;
  }
  let prevLink = prevHash;
  for (const seq of [4, 5, 6]) {
    const hash = await auditRowMac(key, content(seq));
    const link = await auditLinkMac(key, prevLink, seq, hash);
    rows.push({ row: { seq, ...content(seq), prevHash: "", hash }, link });
    prevLink = link;
  }
  return { rows, genesis: { legacyThrough: 3, legacyHead: prevHash }, head: { seq: 6, mac: prevLink } };
}

async function check(
  rows: Array<{ row: AuditLogRow; link: string | null }>,
  h: Awaited<ReturnType<typeof history>>,
) {
  const c = new AuditChainCheck(key, h.genesis, h.head);
  for (const { row, link } of rows) await c.add(row, link);
  c.finish();
  return c;
}

describe("AuditChainCheck", () => {
  it("verifies rows of the plain SHA-256 era up to the genesis and keyed rows after it", async () => {
    const h = await history();
    const c = await check(h.rows, h);
    expect(c.findings).toEqual([]);
    expect(c.checked).toBe(6);
  });

  it("still finds an altered row of the plain SHA-256 era", async () => {
    const h = await history();
    const rows = h.rows.map((r) =>
      r.row.seq === 2 ? { ...r, row: { ...r.row, detail: '{"name":"伪造"}' } } : r,
    );
    expect((await check(rows, h)).findings).toEqual([{ seq: 2, id: "row-2", reason: "hash-mismatch" }]);
  });

  it("finds a keyed row re-hashed the old way, and a cut tail below the anchored head", async () => {
    const h = await history();
    const forged = { ...content(5), detail: '{"name":"伪造"}' };
    const prevHash = h.rows[3]!.row.hash;
    const rows = h.rows.map((r) =>
      r.row.seq === 5 ? { ...r, row: { seq: 5, ...forged, prevHash, hash: "" } } : r,
    );
    rows[4]!.row.hash = await auditHash({ ...forged, prevHash });
    const findings = (await check(rows, h)).findings;
    expect(findings).toContainEqual({ seq: 5, id: "row-5", reason: "row-mac-mismatch" });
    expect((await check(h.rows.slice(0, 4), h)).findings).toEqual([
      { seq: 6, id: null, reason: "missing-tail" },
    ]);
    expect((await check(h.rows.slice(0, 2), h)).findings).toEqual([
      { seq: 3, id: null, reason: "missing-tail" },
      { seq: 6, id: null, reason: "missing-tail" },
    ]);
  });
});
