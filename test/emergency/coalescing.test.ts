import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildRosters } from "../../src/services/emergency";
import { until } from "../support/doubles";
import {
  checkin,
  declareFlood,
  emergencyWorld,
  gridObject,
  openSocket,
  postCheckins,
  settled,
} from "../support/emergency";
import { call } from "../support/helpers";

describe("emergency check-ins forwarded after the answer", () => {
  it("keeps every check-in of a burst, each once in the stream and in the figures, however the pushes coalesce", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    const town = await openSocket(w.townCentre, id);
    const h = w.households;
    const burst = [
      checkin(h.green, "reached_safe"),
      checkin(h.yellow, "not_reached", { note: "家中无人" }),
      checkin(h.red, "reached_safe"),
      checkin(h.elderly, "reached_safe"),
      checkin(h.twoVulnerable, "reached_safe"),
    ];
    // Five requests at once: the grid answers each after its own commit, and pushes what piled up meanwhile together.
    const answers = await Promise.all(
      burst.map((c) =>
        call(`/v1/emergencies/${id}/grids/${w.tree.grid.id}/check-ins`, {
          token: w.worker.token,
          body: { checkins: [c] },
        }),
      ),
    );
    expect(answers.map((a) => a.body.results[0].result)).toEqual(burst.map(() => "recorded"));
    await settled(id, w.tree.grid);
    await until(() => town.entries.filter((e) => e.type === "checkin").length >= burst.length);
    const streamed = town.entries.filter((e) => e.type === "checkin").map((e) => e.data.checkinId);
    expect([...streamed].sort()).toEqual(burst.map((c) => c.id).sort());
    const seqs = town.entries.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const progress = await call(`/v1/emergencies/${id}/progress?unitId=${w.tree.village.id}`, {
      token: w.villageCentre.token,
    });
    expect(progress.body.totals).toMatchObject({
      households: 5,
      reached: 4,
      notReached: 1,
      pending: 0,
      vulnerableReached: 3,
    });
    expect(await gridObject(id, w.tree.grid.id).unpushed()).toBe(0);
    town.ws.close(1000, "done");
  });

  it("sends a late subscriber each entry once: its backlog, then only what follows", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    await postCheckins(w.worker, id, w.tree.grid, [checkin(w.households.green, "reached_safe")]);
    // Connects while the entry above may still wait for its broadcast: the backlog has it, the broadcast must not repeat it.
    const late = await openSocket(w.townCentre, id);
    await postCheckins(w.otherWorker, id, w.tree.otherGrid, [checkin(w.households.other, "reached_safe")]);
    await until(() => late.entries.filter((e) => e.type === "checkin").length >= 2);
    await new Promise((r) => setTimeout(r, 150));
    const seqs = late.entries.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(late.entries.filter((e) => e.type === "checkin").map((e) => e.data.householdId)).toEqual([
      w.households.green,
      w.households.other,
    ]);
    late.ws.close(1000, "done");
  });
});

describe("emergency roster jobs", () => {
  it("reads several grids in one job, and a redelivered job writes nothing twice", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    const before = (await call(`/v1/emergencies/${id}/progress`, { token: w.townCentre.token })).body;
    expect(before.totals).toMatchObject({ households: 6, vulnerableTotal: 4 });
    await postCheckins(w.worker, id, w.tree.grid, [checkin(w.households.elderly, "reached_safe")]);
    const job = {
      kind: "emergency-roster" as const,
      eventId: id,
      grids: [w.tree.grid, w.tree.otherGrid].map((g) => ({ id: g.id, path: g.path })),
      startedAt: Date.now(),
    };
    // The queue delivers at least once: the same job again, twice.
    expect(await buildRosters(env, job)).toBe(6);
    expect(await buildRosters(env, job)).toBe(6);
    const after = (await call(`/v1/emergencies/${id}/progress`, { token: w.townCentre.token })).body;
    expect(after.totals).toMatchObject({
      households: 6,
      vulnerableTotal: 4,
      reached: 1,
      vulnerableReached: 1,
    });
    expect(after.rostersReady).toBe(before.rostersReady);
    // One entry per check-in made since: no roster entry again, no line appended twice.
    expect(after.lastSeq).toBe(before.lastSeq + 1);
    const roster = await call(`/v1/emergencies/${id}/grids/${w.tree.grid.id}/roster`, {
      token: w.worker.token,
    });
    expect(roster.body.lines).toHaveLength(5);
    expect(
      roster.body.lines.find((l: { householdId: string }) => l.householdId === w.households.elderly),
    ).toMatchObject({
      status: "reached_safe",
      position: 1,
    });
  });
});
