import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { GridDesk } from "../../src/durable/grid-desk/grid-desk";
import { DESK_MIGRATIONS, DESK_SCHEMA_VERSION, deskSchemaVersion } from "../../src/durable/grid-desk/schema";
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
    // Undo what migration 2 added.
    state.storage.sql.exec("DROP TABLE dead_outbox");
    if (version === 0) state.storage.sql.exec("DELETE FROM meta WHERE key = 'schema_version'");
    else state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'schema_version'", String(version));
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
});
