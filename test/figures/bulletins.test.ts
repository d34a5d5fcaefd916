import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { WebhookDeliveryMessage } from "../../src/db/repos/webhooks";
import { lastCompletePeriod } from "../../src/domain/bulletins";
import { publishDueBulletins } from "../../src/services/bulletins";
import { CaptureQueue } from "../support/doubles";
import { syntheticCaseEvents } from "../support/figures";
import { call, makeTree, makeUser, sql } from "../support/helpers";
import { deliver } from "../support/queues";

/** The bytes of a response, undecoded (a text decoder would drop the CSV's BOM). */
async function rawBytes(path: string, token: string): Promise<Uint8Array> {
  const res = await exports.default.fetch(
    new Request(`https://grid321.test${path}`, { headers: { authorization: `Bearer ${token}` } }),
  );
  return new Uint8Array(await res.arrayBuffer());
}

/** Monday 2026-04-06, 10:00 in China: the last complete week is 03-30..04-05, the last month March. */
const MONDAY = Date.parse("2026-04-06T02:00:00Z");

describe("periodic bulletins", () => {
  it("are published once per centre and period even when the cron fires twice at once and again later", async () => {
    const tree = await makeTree();
    const { messages } = syntheticCaseEvents(tree, 25, 42);
    for (let i = 0; i < messages.length; i += 60) await deliver("case-events", messages.slice(i, i + 60));
    const staff = await makeUser("center_staff", tree.town);
    const hook = await call(`/v1/units/${tree.town.id}/webhooks`, {
      token: staff.token,
      body: { url: "https://hooks.example.org/bulletins", events: ["bulletin.published"] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);

    const queue = new CaptureQueue();
    const withQueue = { ...env, WEBHOOKS: queue } as unknown as Cloudflare.Env;
    const scope = { scopePath: tree.city.path };
    const runs = await Promise.all([
      publishDueBulletins(withQueue, MONDAY, scope),
      publishDueBulletins(withQueue, MONDAY, scope),
    ]);
    const again = await publishDueBulletins(withQueue, MONDAY + 5 * 60_000, scope);
    // City, county and town, a week and a month each: six bulletins, whichever run wrote them.
    expect(runs[0]! + runs[1]!).toBe(6);
    expect(again).toBe(0);
    const stored = await sql().execute({
      sql: `SELECT unit_id, period_kind, period_from, period_to, version FROM bulletins
            WHERE unit_id IN (?, ?, ?) ORDER BY unit_id, period_kind`,
      args: [tree.city.id, tree.county.id, tree.town.id],
    });
    expect(stored.rows).toHaveLength(6);
    expect(stored.rows.every((r) => Number(r.version) === 1)).toBe(true);
    expect(new Set(stored.rows.map((r) => `${r.period_kind} ${r.period_from} ${r.period_to}`))).toEqual(
      new Set(["week 2026-03-30 2026-04-05", "month 2026-03-01 2026-03-31"]),
    );
    const inbox = await sql().execute({
      sql: "SELECT count(*) AS n FROM inbox_items WHERE unit_id = ? AND kind = 'bulletin'",
      args: [tree.town.id],
    });
    expect(Number(inbox.rows[0]!.n)).toBe(2);
    // The town's endpoint is offered each of the town's two bulletins once.
    const offered = (queue.messages as unknown as WebhookDeliveryMessage[]).filter(
      (m) => m.event.kind === "bulletin.published" && m.event.data.unitId === tree.town.id,
    );
    expect(offered.map((m) => m.event.data.kind).sort()).toEqual(["month", "week"]);

    // The month's bulletin of the town counts March's reports of its subtree.
    const list = await call(`/v1/units/${tree.town.id}/bulletins?kind=month`, { token: staff.token });
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const id = list.body.items[0].id;
    const one = await call(`/v1/bulletins/${id}`, { token: staff.token });
    expect(one.status).toBe(200);
    expect(one.body.content.headline.reported).toBe(
      messages.filter((m) => m.event.type === "reported").length,
    );
    expect(one.body.content).toMatchObject({ kind: "month", from: "2026-03-01", to: "2026-03-31" });
    expect(one.body.content.oldestOpen.length).toBeGreaterThan(0);

    const csv = await call(`/v1/bulletins/${id}?format=csv`, { token: staff.token });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect([...(await rawBytes(`/v1/bulletins/${id}?format=csv`, staff.token)).slice(0, 3)]).toEqual([
      0xef, 0xbb, 0xbf,
    ]);
    expect(csv.text).toContain("定期通报");
    expect(csv.text).toContain(`上报,${one.body.content.headline.reported},`);

    const xlsx = await call(`/v1/bulletins/${id}?format=xlsx`, { token: staff.token });
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get("content-type")).toContain("spreadsheetml");
    // A ZIP container (an XLSX workbook): the local file header signature PK\x03\x04.
    expect([...(await rawBytes(`/v1/bulletins/${id}?format=xlsx`, staff.token)).slice(0, 4)]).toEqual([
      0x50, 0x4b, 0x03, 0x04,
    ]);
  });

  it("are listed only for town, county and city centres in the caller's subtree", async () => {
    const tree = await makeTree();
    const other = await makeTree();
    const staff = await makeUser("center_staff", tree.county);
    const worker = await makeUser("grid_worker", tree.grid);
    expect((await call(`/v1/units/${tree.town.id}/bulletins`, { token: staff.token })).status).toBe(200);
    expect(await call(`/v1/units/${tree.village.id}/bulletins`, { token: staff.token })).toMatchObject({
      status: 400,
    });
    expect((await call(`/v1/units/${other.town.id}/bulletins`, { token: staff.token })).status).toBe(404);
    expect((await call(`/v1/units/${tree.town.id}/bulletins`, { token: worker.token })).status).toBe(403);
    expect((await call(`/v1/bulletins/${crypto.randomUUID()}`, { token: staff.token })).status).toBe(404);
    expect((await call(`/v1/units/${tree.town.id}/bulletins?kind=day`, { token: staff.token })).status).toBe(
      400,
    );
  });

  it("cover the last complete week (Monday to Sunday) and month in China time", () => {
    // Sunday 23:30 in China is still inside the week.
    expect(lastCompletePeriod("week", Date.parse("2026-04-05T15:30:00Z"))).toEqual({
      from: "2026-03-23",
      to: "2026-03-29",
    });
    expect(lastCompletePeriod("week", Date.parse("2026-04-05T16:00:00Z"))).toEqual({
      from: "2026-03-30",
      to: "2026-04-05",
    });
    expect(lastCompletePeriod("month", Date.parse("2026-01-01T00:00:00Z"))).toEqual({
      from: "2025-12-01",
      to: "2025-12-31",
    });
  });
});
