import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, makeUser, sql } from "../support/helpers";
import { makeResidentWorld, type ResidentWorld, signUp } from "../support/resident-accounts";

const BASE = "https://grid321.test/open311/v2";

/** A GeoReport call straight to the Worker (the Open311 surface is outside the /v1 OpenAPI contract). */
async function geo(path: string, init: RequestInit = {}) {
  const res = await exports.default.fetch(new Request(`${BASE}${path}`, init));
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function form(fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  };
}

/** The text of every `<name>` element in an XML body, in order. */
function xmlValues(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>|<${name}/>`, "g"))].map((m) => m[1] ?? "");
}

/** The fields of the specification's `GET requests` example, every one present on every request. */
const REQUEST_FIELDS = [
  "service_request_id",
  "status",
  "status_notes",
  "service_name",
  "service_code",
  "description",
  "agency_responsible",
  "service_notice",
  "requested_datetime",
  "updated_datetime",
  "expected_datetime",
  "address",
  "address_id",
  "zipcode",
  "lat",
  "long",
  "media_url",
];
const W3C = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let world: ResidentWorld;
let apiKey: string;
let appId: string;

beforeAll(async () => {
  world = await makeResidentWorld();
  const admin = await makeUser("admin", world.tree.city);
  const app = await call("/v1/open311/apps", {
    token: admin.token,
    body: { name: "安康随手拍", perMinute: 5 },
  });
  expect(app.status, app.text).toBe(201);
  apiKey = app.body.apiKey;
  appId = app.body.id;
});

const near = () => ({ lat: String(world.point.lat + 0.0003), long: String(world.point.lng - 0.0002) });

describe("Open311 GeoReport v2 conformance", () => {
  it("drives the whole sequence in JSON: services, definition, post, token, one request, filtered list", async () => {
    const services = await geo("/services.json");
    expect(services.status).toBe(200);
    expect(services.headers.get("content-type")).toContain("application/json");
    const list = JSON.parse(services.text) as Array<Record<string, unknown>>;
    expect(list.map((s) => s.service_code)).toEqual([
      "road",
      "street_lighting",
      "sanitation",
      "water_supply",
      "greening",
      "public_facilities",
    ]);
    for (const s of list) {
      expect(Object.keys(s).sort()).toEqual([
        "description",
        "group",
        "keywords",
        "metadata",
        "service_code",
        "service_name",
        "type",
      ]);
      expect(typeof s.service_name).toBe("string");
      expect(typeof s.metadata).toBe("boolean");
      expect(["realtime", "batch", "blackbox"]).toContain(s.type);
    }

    const definition = JSON.parse((await geo("/services/road.json")).text);
    expect(definition.service_code).toBe("road");
    const [attribute] = definition.attributes;
    expect(attribute).toMatchObject({
      variable: true,
      code: "description_public",
      datatype: "singlevaluelist",
      required: false,
      order: 1,
    });
    expect(attribute.values).toEqual([
      { key: "no", name: "不公开" },
      { key: "yes", name: "公开" },
    ]);

    const posted = await geo(
      "/requests.json",
      form({
        api_key: apiKey,
        jurisdiction_id: "ankang.gov.cn",
        service_code: "road",
        ...near(),
        address_string: "张岭社区二组路口",
        description: "路口有一个大坑，电动车差点摔倒。",
        "attribute[description_public]": "yes",
        first_name: "张",
        phone: "13912345678",
      }),
    );
    expect(posted.status, posted.text).toBe(201);
    const [created] = JSON.parse(posted.text);
    expect(Object.keys(created).sort()).toEqual([
      "account_id",
      "service_notice",
      "service_request_id",
      "token",
    ]);
    expect(typeof created.service_request_id).toBe("string");

    const token = JSON.parse((await geo(`/tokens/${created.token}.json`)).text);
    expect(token).toEqual([{ service_request_id: created.service_request_id, token: created.token }]);

    const one = await geo(`/requests/${created.service_request_id}.json`);
    expect(one.status, one.text).toBe(200);
    const [request] = JSON.parse(one.text);
    expect(Object.keys(request).sort()).toEqual([...REQUEST_FIELDS].sort());
    expect(request).toMatchObject({
      service_request_id: created.service_request_id,
      status: "open",
      service_code: "road",
      service_name: "道路破损",
      description: "路口有一个大坑，电动车差点摔倒。",
      agency_responsible: "安康市综治中心",
      address: null,
    });
    expect(request.requested_datetime).toMatch(W3C);
    expect(request.updated_datetime).toMatch(W3C);
    expect(typeof request.lat).toBe("number");
    expect(request.lat).toBe(Math.round(Number(near().lat) * 1000) / 1000);
    expect(request.long).toBe(Math.round(Number(near().long) * 1000) / 1000);
    expect(one.text).not.toContain("13912345678");

    const stored = await sql().execute({
      sql: "SELECT * FROM public_reports WHERE case_id = ?",
      args: [created.service_request_id],
    });
    expect(stored.rows[0]).toMatchObject({ channel: `open311:${appId}`, owning_unit_id: world.tree.grid.id });

    const start = new Date(Date.now() - 60_000).toISOString();
    const open = JSON.parse(
      (await geo(`/requests.json?service_code=road&status=open&start_date=${start}`)).text,
    );
    expect(open.map((r: { service_request_id: string }) => r.service_request_id)).toContain(
      created.service_request_id,
    );
    const closed = JSON.parse(
      (await geo(`/requests.json?service_code=road&status=closed&start_date=${start}`)).text,
    );
    expect(closed.map((r: { service_request_id: string }) => r.service_request_id)).not.toContain(
      created.service_request_id,
    );
    const otherService = JSON.parse(
      (await geo(`/requests.json?service_code=greening&start_date=${start}`)).text,
    );
    expect(otherService.map((r: { service_request_id: string }) => r.service_request_id)).not.toContain(
      created.service_request_id,
    );
    const before = JSON.parse((await geo(`/requests.json?end_date=${start}`)).text);
    expect(before.map((r: { service_request_id: string }) => r.service_request_id)).not.toContain(
      created.service_request_id,
    );
  });

  it("drives the same sequence in XML with the specification's element names", async () => {
    const services = await geo("/services.xml");
    expect(services.headers.get("content-type")).toContain("text/xml");
    expect(
      services.text.startsWith(
        '<?xml version="1.0" encoding="UTF-8"?><services><service><service_code>road</service_code>',
      ),
    ).toBe(true);
    expect(xmlValues(services.text, "service_code")).toHaveLength(6);
    expect(xmlValues(services.text, "metadata")).toEqual(Array(6).fill("true"));

    const definition = (await geo("/services/sanitation.xml")).text;
    expect(definition).toContain(
      "<service_definition><service_code>sanitation</service_code><attributes><attribute><variable>true</variable>",
    );
    expect(definition).toContain("<values><value><key>no</key><name>不公开</name></value>");

    const posted = await geo(
      "/requests.xml",
      form({ api_key: apiKey, service_code: "sanitation", ...near(), description: "垃圾桶满了三天没人清运" }),
    );
    expect(posted.status, posted.text).toBe(201);
    expect(posted.text).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?><service_requests><request><service_request_id>[0-9a-f-]{36}<\/service_request_id><token>[A-Za-z0-9_-]+<\/token><service_notice>/,
    );
    const [id] = xmlValues(posted.text, "service_request_id");
    const [token] = xmlValues(posted.text, "token");

    const byToken = (await geo(`/tokens/${token}.xml`)).text;
    expect(xmlValues(byToken, "service_request_id")).toEqual([id]);

    const one = (await geo(`/requests/${id}.xml`)).text;
    expect(one).toContain("<service_requests><request>");
    for (const field of REQUEST_FIELDS) expect(xmlValues(one, field), field).toHaveLength(1);
    expect(xmlValues(one, "status")).toEqual(["open"]);
    // Not marked public: the description is withheld.
    expect(xmlValues(one, "description")).toEqual([""]);
    expect(one).not.toContain("垃圾桶满了");

    const start = new Date(Date.now() - 60_000).toISOString();
    const listed = (await geo(`/requests.xml?service_code=sanitation&status=open&start_date=${start}`)).text;
    expect(xmlValues(listed, "service_request_id")).toContain(id);
  });

  it("reports a request closed once its case is resolved", async () => {
    const posted = JSON.parse(
      (await geo("/requests.json", form({ api_key: apiKey, service_code: "greening", ...near() }))).text,
    );
    const id = posted[0].service_request_id as string;
    const accepted = await call(`/v1/cases/${id}/accept`, {
      token: world.gridWorker.token,
      body: {},
      headers: { "if-match": '"1"' },
    });
    expect(accepted.status, accepted.text).toBe(200);
    const resolved = await call(`/v1/cases/${id}/resolve`, {
      token: world.gridWorker.token,
      body: { note: "已清理倒伏树木" },
      headers: { "if-match": '"2"' },
    });
    expect(resolved.status, resolved.text).toBe(200);
    for (let i = 0; i < 200; i++) {
      const [request] = JSON.parse((await geo(`/requests/${id}.json`)).text);
      if (request.status === "closed") {
        expect(request.expected_datetime).toBeNull();
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the request never became closed");
  });

  it("answers errors in the specification's format: unknown or sensitive service, missing or revoked key, bad input", async () => {
    const dispute = await geo("/services/dispute.json");
    expect(dispute.status).toBe(404);
    expect(JSON.parse(dispute.text)).toEqual([{ code: 404, description: expect.any(String) }]);
    const disputeXml = await geo("/services/public_security.xml");
    expect(disputeXml.text).toMatch(
      /<errors><error><code>404<\/code><description>[^<]+<\/description><\/error><\/errors>$/,
    );

    const sensitive = await geo(
      "/requests.json",
      form({ api_key: apiKey, service_code: "dispute", ...near() }),
    );
    expect(sensitive.status).toBe(404);
    const noKey = await geo("/requests.json", form({ service_code: "road", ...near() }));
    expect(noKey.status).toBe(403);
    expect(JSON.parse(noKey.text)[0].code).toBe(403);
    const noPlace = await geo("/requests.json", form({ api_key: apiKey, service_code: "road" }));
    expect(noPlace.status).toBe(400);
    const badDate = await geo("/requests.json?start_date=yesterday");
    expect(JSON.parse(badDate.text)).toEqual([
      { code: 400, description: "start_date must be a W3C date-time" },
    ]);
    expect((await geo("/requests.json?jurisdiction_id=xian.gov.cn")).status).toBe(404);
    expect((await geo("/requests/not-an-id.json")).status).toBe(404);
    expect((await geo("/tokens/nothing.json")).status).toBe(404);

    const admin = await makeUser("admin", world.tree.city);
    const app = await call("/v1/open311/apps", { token: admin.token, body: { name: "已停用应用" } });
    expect(
      (await call(`/v1/open311/apps/${app.body.id}/revocation`, { token: admin.token, method: "POST" }))
        .status,
    ).toBe(200);
    const revoked = await geo(
      "/requests.json",
      form({ api_key: app.body.apiKey, service_code: "road", ...near() }),
    );
    expect(revoked.status).toBe(403);
    const count = await sql().execute({
      sql: "SELECT count(*) AS n FROM public_reports WHERE channel = ?",
      args: [`open311:${app.body.id}`],
    });
    expect(Number(count.rows[0]!.n)).toBe(0);
  });

  it("limits each app's requests per minute (429 with Retry-After) and accepts a resident token instead of a key", async () => {
    const admin = await makeUser("admin", world.tree.city);
    const app = await call("/v1/open311/apps", {
      token: admin.token,
      body: { name: "限流测试", perMinute: 2 },
    });
    const post = () =>
      geo("/requests.json", form({ api_key: app.body.apiKey, service_code: "water_supply", ...near() }));
    expect((await post()).status).toBe(201);
    expect((await post()).status).toBe(201);
    const third = await post();
    // A minute boundary between calls starts a new allowance; only then may the third pass.
    if (third.status !== 201) {
      expect(third.status).toBe(429);
      expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(JSON.parse(third.text)[0].code).toBe(429);
    }

    const { token, account } = await signUp();
    const byResident = await geo(
      "/requests.json",
      form({ service_code: "road", ...near() }, { authorization: `Bearer ${token}` }),
    );
    expect(byResident.status, byResident.text).toBe(201);
    const [created] = JSON.parse(byResident.text);
    const mine = await call(`/v1/resident/reports/${created.service_request_id}`, { token });
    expect(mine.status, mine.text).toBe(200);
    const row = await sql().execute({
      sql: "SELECT reporter_id FROM public_reports WHERE case_id = ?",
      args: [created.service_request_id],
    });
    expect(row.rows[0]!.reporter_id).toBe(account.id);
    const staffToken = await geo(
      "/requests.json",
      form({ service_code: "road", ...near() }, { authorization: `Bearer ${admin.token}` }),
    );
    expect(staffToken.status).toBe(401);
  });
});
