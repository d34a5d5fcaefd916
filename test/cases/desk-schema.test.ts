import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { GridDesk } from "../../src/durable/grid-desk/grid-desk";
import {
  DESK_MIGRATIONS,
  DESK_SCHEMA_VERSION,
  deskSchemaVersion,
  migrateDesk,
} from "../../src/durable/grid-desk/schema";
import { deskOf, makeWorld, must, report } from "../support/case-fixtures";
import { deskCase } from "../support/desk";

/** Tables of the desk's SQLite, by name. */
async function tablesOf(unitId: string): Promise<string[]> {
  return runInDurableObject(deskOf(unitId), (_desk: GridDesk, state) =>
    state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .toArray()
      .map((r) => r.name),
  );
}

/**
 * Rebuilds a desk's storage as it stood at schema `version` (0: before versioning), keeping its cases, events,
 * deadlines and owner: every table is dropped, migrations up to `version` are applied, the rows go back in
 * with the columns of that version. Later migrations (any number of them) then run when the desk restarts.
 */
function rebuildAt(storage: DurableObjectStorage, version: number) {
  const sql = storage.sql;
  const rows = (query: string) => sql.exec(query).toArray();
  const cases = rows(
    "SELECT id, state, version, created_at, updated_at, request_hash, first, doc FROM cases",
  );
  const events = rows("SELECT case_id, seq, type, at, actor, payload FROM events");
  const deadlines = rows("SELECT case_id, next_at FROM deadlines");
  const meta = rows("SELECT key, value FROM meta WHERE key IN ('owning_unit', 'closed')");
  const tables = rows(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  );
  for (const { name } of tables) sql.exec(`DROP TABLE "${String(name)}"`);
  migrateDesk(storage, Math.max(1, version));
  const put = (table: string, list: Record<string, SqlStorageValue>[]) => {
    for (const row of list) {
      const columns = Object.keys(row);
      sql.exec(
        `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
        ...Object.values(row),
      );
    }
  };
  put("cases", cases);
  put("events", events);
  put("deadlines", deadlines);
  put("meta", meta);
  if (version === 0) sql.exec("DELETE FROM meta WHERE key = 'schema_version'");
}

/** A desk holding one accepted case, whose storage is then wound back to `version` (1, or 0: before versioning). */
async function deskAt(version: number) {
  const w = await makeWorld();
  const c = await report(w.gridWorker, {
    title: "井盖松动",
    description: "二组路口的井盖松动，车辆经过时响声很大。",
  });
  await must(w.villageCentre, c.id, "accept", 1);
  const before = await deskCase(w.tree.grid.id, c.id);
  await runInDurableObject(deskOf(w.tree.grid.id), (_desk: GridDesk, state) => {
    rebuildAt(state.storage, version);
    expect(deskSchemaVersion(state.storage.sql)).toBe(version);
  });
  return { w, c, before };
}

describe("the GridDesk's versioned schema", () => {
  it("a new desk is at the latest version, with every table of every migration", async () => {
    const w = await makeWorld();
    await report(w.gridWorker);
    expect(DESK_SCHEMA_VERSION).toBe(DESK_MIGRATIONS.length);
    expect(await deskOf(w.tree.grid.id).schemaVersion()).toEqual({
      version: DESK_SCHEMA_VERSION,
      latest: DESK_SCHEMA_VERSION,
    });
    expect(await tablesOf(w.tree.grid.id)).toEqual(
      expect.arrayContaining(["cases", "deadlines", "dead_outbox", "events", "meta", "outbox"]),
    );
  });

  for (const version of [1, 0]) {
    it(`a desk at ${version === 0 ? "the unversioned schema" : "migration 1"} migrates forward when it starts, losing no case`, async () => {
      const { w, c, before } = await deskAt(version);
      expect(await tablesOf(w.tree.grid.id)).not.toContain("dead_outbox");

      await evictDurableObject(deskOf(w.tree.grid.id));
      expect(await deskOf(w.tree.grid.id).schemaVersion()).toEqual({
        version: DESK_SCHEMA_VERSION,
        latest: DESK_SCHEMA_VERSION,
      });
      expect(await tablesOf(w.tree.grid.id)).toContain("dead_outbox");
      expect(await deskCase(w.tree.grid.id, c.id)).toEqual(before);
      expect(await deskOf(w.tree.grid.id).deadOutbox()).toBe(0);
      // The migrated desk keeps working on the case it kept.
      const dispatched = await must(w.villageCentre, c.id, "dispatch", 2, { unitId: w.tree.grid.id });
      expect(dispatched.state).toBe("dispatched");
      expect((await deskCase(w.tree.grid.id, c.id)).events.map((e) => e.seq)).toEqual([1, 2, 3]);
    });
  }

  it("a desk at migration 2 moves to desk sequence numbers: earlier events keep none, the next one is dseq 1", async () => {
    const w = await makeWorld();
    const c = await report(w.gridWorker, { title: "路灯不亮", description: "三组村道的路灯连续三晚不亮。" });
    const desk = deskOf(w.tree.grid.id);
    await runInDurableObject(desk, (_desk: GridDesk, state) => rebuildAt(state.storage, 2));
    await evictDurableObject(desk);
    expect((await desk.schemaVersion()).version).toBe(DESK_SCHEMA_VERSION);
    await must(w.villageCentre, c.id, "accept", 1);
    const dseqs = await runInDurableObject(desk, (_desk: GridDesk, state) =>
      state.storage.sql
        .exec<{ seq: number; dseq: number | null }>("SELECT seq, dseq FROM events ORDER BY seq")
        .toArray()
        .map((e) => ({ ...e })),
    );
    expect(dseqs).toEqual([
      { seq: 1, dseq: null },
      { seq: 2, dseq: 1 },
    ]);
    expect((await desk.projectionState()).lastDseq).toBe(1);
  });
});
