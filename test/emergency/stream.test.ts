import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { until } from "../support/doubles";
import { checkin, declareFlood, emergencyWorld, openSocket, postCheckins } from "../support/emergency";
import { call } from "../support/helpers";

describe("emergency live stream", () => {
  it("shows each centre only its own subtree, plus the event's own changes", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    const mine = await openSocket(w.villageCentre, id);
    const theirs = await openSocket(w.village2Centre, id);
    const town = await openSocket(w.townCentre, id);
    await postCheckins(w.worker, id, w.tree.grid, [checkin(w.households.elderly, "reached_safe")]);
    await postCheckins(w.otherWorker, id, w.tree.otherGrid, [checkin(w.households.other, "not_reached")]);
    await call(`/v1/emergencies/${id}/level`, { token: w.townCentre.token, body: { level: "I" } });
    const checkins = (s: typeof mine) =>
      s.entries.filter((e) => e.type === "checkin").map((e) => e.data.householdId);
    await until(() => town.entries.some((e) => e.type === "event" && e.data.change === "raised"));
    await until(
      () =>
        mine.entries.some((e) => e.data.change === "raised") &&
        theirs.entries.some((e) => e.data.change === "raised"),
    );
    expect(checkins(town).sort()).toEqual([w.households.elderly, w.households.other].sort());
    expect(checkins(mine)).toEqual([w.households.elderly]);
    expect(checkins(theirs)).toEqual([w.households.other]);
    expect(mine.entries.filter((e) => e.type === "roster")).toHaveLength(3);
    expect(theirs.entries.filter((e) => e.type === "roster")).toHaveLength(1);
    for (const s of [mine, theirs, town]) s.ws.close(1000, "done");
  });

  it("resumes after a dropped WebSocket from the last seq seen, missing nothing", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    const first = await openSocket(w.townCentre, id);
    await postCheckins(w.worker, id, w.tree.grid, [checkin(w.households.green, "reached_safe")]);
    await until(() => first.entries.some((e) => e.type === "checkin"));
    const lastSeen = first.entries.at(-1)!.seq;
    first.ws.close(1001, "network dropped");
    await postCheckins(w.worker, id, w.tree.grid, [
      checkin(w.households.yellow, "reached_safe"),
      checkin(w.households.red, "needs_help", { note: "屋顶漏水，需要转移" }),
    ]);
    await postCheckins(w.otherWorker, id, w.tree.otherGrid, [checkin(w.households.other, "reached_safe")]);
    const resumed = await openSocket(w.townCentre, id, lastSeen);
    await until(() => resumed.entries.length >= 3);
    expect(resumed.entries.map((e) => e.seq)).toEqual([lastSeen + 1, lastSeen + 2, lastSeen + 3]);
    expect(resumed.entries.map((e) => e.data.householdId)).toEqual([
      w.households.yellow,
      w.households.red,
      w.households.other,
    ]);
    const progress = await call(`/v1/emergencies/${id}/progress`, { token: w.townCentre.token });
    expect(progress.body.lastSeq).toBe(lastSeen + 3);
    resumed.ws.close(1000, "done");
  });

  it("falls back to Server-Sent Events, resuming from Last-Event-ID", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    await postCheckins(w.worker, id, w.tree.grid, [checkin(w.households.green, "reached_safe")]);
    const { lastSeq } = (await call(`/v1/emergencies/${id}/progress`, { token: w.villageCentre.token })).body;
    const res = await exports.default.fetch(
      new Request(`https://grid321.test/v1/emergencies/${id}/stream`, {
        headers: { authorization: `Bearer ${w.villageCentre.token}`, "last-event-id": String(lastSeq - 1) },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    const text = new TextDecoder().decode(value);
    expect(text).toContain(`id: ${lastSeq}\nevent: checkin\n`);
    expect(text).not.toContain(`id: ${lastSeq - 1}\n`);
    await reader.cancel();
  });

  it("answers the after-action report as JSON and CSV after the stand-down", async () => {
    const w = await emergencyWorld();
    const id = await declareFlood(w);
    await postCheckins(w.worker, id, w.tree.grid, [
      checkin(w.households.twoVulnerable, "reached_safe"),
      checkin(w.households.elderly, "needs_help", { note: "独居老人发烧" }),
    ]);
    await call(`/v1/emergencies/${id}/stand-down`, { token: w.townCentre.token, method: "POST" });
    const res = await call(`/v1/emergencies/${id}/report`, { token: w.countyCentre.token });
    expect(res.status).toBe(200);
    expect(res.body.final).toBe(true);
    expect(res.body.timeline.map((t: { type: string }) => t.type)).toEqual(["declared", "stood_down"]);
    expect(res.body.towns).toEqual([
      expect.objectContaining({
        townId: w.tree.town.id,
        vulnerableTotal: 4,
        vulnerableReached: 3,
        minutesTo50: 0,
        minutesTo100: null,
      }),
    ]);
    expect(res.body.cases).toHaveLength(1);
    expect(res.body.cases[0].householdId).toBe(w.households.elderly);
    const csv = await call(`/v1/emergencies/${id}/report?format=csv`, { token: w.countyCentre.token });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(csv.text).toContain(`town,${w.tree.town.id},`);
    expect(await call(`/v1/emergencies/${id}/report`, { token: w.otherWorker.token })).toMatchObject({
      status: 200,
    });
  });
});
