/**
 * `npm run demo`: runs the README's walk-throughs against a fresh local stack and fails when the README is
 * not what a fresh clone shows. It starts its own stack (scripts/check/stack.ts: sqld with a new database in a
 * temp dir, migrations, the demo city, `wrangler dev`, then the demo cases, as `npm run dev` does) on free
 * loopback ports, so it runs beside `npm run dev` and in CI alike. Then, in the README's order and with the
 * README's requests:
 *
 * 1. start-up: `/health`, `/docs`, the admin's login through the TOTP challenge, the demo city's size;
 * 2. the case loop demo, step by step, each printed line compared with the README's comment;
 * 3. time limits, inboxes, escalation and webhooks, with a local webhook receiver. The README's policy takes
 *    about four minutes of waiting; by default every duration of that policy (and every wait) is divided by
 *    3 — 20 s to accept, warned 7 s before, 10 s grace — which gives the same events, inbox items and figures
 *    in about 80 s. `npm run demo -- --real-time` runs the README's own figures; `--skip-escalation` skips it;
 * 4. households, residents and masking; 5. the three lines; 6. the residents' own channel and Open311 (sign-up
 *    through the development code sink, report, follow, rate, the GeoReport v2 reads and posts); 7. village
 *    deliberation, from a matter raised at an open talk through the four steps to the notice period, then the
 *    seeded item whose notice period is over to a published result and the public board; 8. every source file
 *    the README names exists.
 *
 * Ids, versions and the grid come from the responses (Location, `v.id`, `v.version`), never from this file.
 * Each check prints `ok` or `FAIL` with what was seen and what the README says; the last line is
 * `demo: N passed, M failed`, and the exit code is 1 when anything failed. The stack is stopped in any case.
 */
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhookSignature } from "../../src/domain/webhook-signature";
import { withDevStack } from "../check/stack";
import { type Answer, Api, Checks, README, sleep } from "./client";

const args = new Set(process.argv.slice(2));
const REAL_TIME = args.has("--real-time");
const SKIP_ESCALATION = args.has("--skip-escalation");
/** Every duration and wait of the escalation walk-through is divided by this. */
const SCALE = REAL_TIME ? 1 : 3;

const checks = new Checks();

async function startup(api: Api) {
  checks.section("Two commands on a fresh machine");
  checks.same("curl /health", (await api.get("/health")).status, 200);
  const docs = await api.get("/docs");
  checks.ok("/docs", docs.status === 200 && String(docs.v).includes("swagger-ui"), docs.status);
  checks.same("/openapi.json", (await api.get("/openapi.json")).v.openapi?.slice(0, 3), "3.1");

  const { first, token } = await api.loginWithTotp("admin");
  checks.ok(
    "admin login answers { challenge, methods, expiresIn }",
    typeof first.v.challenge === "string" && Array.isArray(first.v.methods) && first.v.expiresIn > 0,
    { methods: first.v.methods, expiresIn: first.v.expiresIn },
  );
  const counties = await api.get("/v1/units?level=county", token);
  checks.ok(
    'curl "$B/v1/units?level=county" with the admin token',
    counties.status === 200 && counties.v.items.length === 2,
    `${counties.status} ${counties.v.items?.map((u: { name: string }) => u.name).join(", ")}`,
  );
  const centreCity = await api.post("/v1/auth/login", "", {
    username: "center-city",
    password: "grid321-demo",
  });
  checks.ok(
    "center-city logs in with the password alone, secondFactorEnrollmentRequired: true",
    centreCity.status === 200 && centreCity.v.secondFactorEnrollmentRequired === true,
    `${centreCity.status} secondFactorEnrollmentRequired=${centreCity.v.secondFactorEnrollmentRequired}`,
  );

  const byLevel = new Map<string, number>();
  let cursor: string | null = null;
  do {
    const page: Answer = await api.get(`/v1/units?limit=100${cursor ? `&cursor=${cursor}` : ""}`, token);
    for (const u of page.v.items as Array<{ level: string; gridLevel: number | null }>) {
      const key = u.level === "grid" ? `level-${u.gridLevel} grid` : u.level;
      byLevel.set(key, (byLevel.get(key) ?? 0) + 1);
    }
    cursor = page.v.nextCursor;
  } while (cursor);
  const size = ["city", "county", "town", "village", "level-2 grid", "level-3 grid"]
    .map((k) => `${byLevel.get(k) ?? 0} ${k}`)
    .join(", ");
  checks.same("the demo city", size, "1 city, 2 county, 4 town, 8 village, 16 level-2 grid, 8 level-3 grid");
  checks.readme("1 city, 2 counties, 4 towns, 8 villages (level-1 grids), 16 level-2 and 8 level-3");
}

async function caseLoop(api: Api) {
  checks.section("Case loop demo");
  const GW = await api.login("grid-worker");
  const VILLAGE = await api.login("center-village");
  const DEPT = await api.login("department");
  const DEPT_UNIT = (await api.get("/v1/me", DEPT)).v.unit.id as string;

  // 1. report, replay
  const clientId = crypto.randomUUID();
  const REPORT = {
    id: clientId,
    type: "safety_hazard",
    severity: "urgent",
    title: "Loose power line over Lane 3",
    description: "A cable hangs at head height across the lane by house 12.",
    location: { lat: 32.6841, lng: 109.0293, address: "张岭社区 Lane 3, house 12" },
  };
  const report = await api.post("/v1/cases", GW, REPORT);
  const v = report.v;
  checks.same("report: status", report.status, 201);
  const duplicates = (v.duplicates ?? []) as Array<{ title: string; distanceM: number }>;
  checks.same(
    "report: state version level duplicates",
    [
      v.state,
      v.version,
      v.owningUnit?.level,
      duplicates.map((d) => `${d.title} ${d.distanceM} m`).join(),
    ].join(" "),
    "reported 1 grid 巷道电线垂落 52 m",
  );
  checks.readme("reported 1 grid 巷道电线垂落 52 m");
  const replay = await api.post("/v1/cases", GW, REPORT);
  checks.same("the same report again", replay.status, 200);
  checks.ok("…with the first result", replay.v.id === v.id && replay.v.version === v.version, replay.v.id);

  const CASE = v.id as string;
  const location = report.headers.get("location") ?? "";
  checks.ok("Location names the case", location.startsWith(`/v1/cases/${CASE}`), location);
  if (README.includes("CASE=$(node -e 'console.log(crypto.randomUUID())')"))
    checks.ok("the case id is the id the phone picked ($CASE in the README)", CASE === clientId, CASE);
  const GRID = (await api.get(`/v1/cases/${CASE}`, GW)).v.owningUnit.id as string;
  const at = (action: string) => `/v1/cases/${CASE}/${action}?gridId=${GRID}`;

  // 2. accept, dispatch to 住建局, a stale If-Match, close too early
  checks.same(
    "accept",
    (await api.command(at("accept"), VILLAGE, 1, { note: "Accepted by the village centre" })).v.state,
    "accepted",
  );
  const dispatched = (
    await api.command(at("dispatch"), VILLAGE, 2, { unitId: DEPT_UNIT, department: "住建局" })
  ).v;
  checks.same(
    "dispatch",
    [dispatched.state, dispatched.responsibleUnit?.level, dispatched.responsibleUnit?.department].join(" "),
    "dispatched county 住建局",
  );
  const stale = (await api.command(at("dispatch"), VILLAGE, 2, { unitId: GRID })).v;
  checks.ok(
    "dispatch with If-Match 2 again",
    stale.status === 412,
    `${stale.status} ${stale.detail}`,
    "README: 412",
  );
  const early = (await api.command(at("close"), VILLAGE, 3, {})).v;
  checks.ok("close before resolved", early.status === 409, `${early.status} ${early.detail}`, "README: 409");

  // 3. the department, 4. return visit and close
  checks.same("start", (await api.command(at("start"), DEPT, 3, {})).v.state, "in_progress");
  checks.same(
    "resolve",
    (await api.command(at("resolve"), DEPT, 4, { note: "Cable re-hung at 4 m by the power company" })).v
      .state,
    "resolved",
  );
  checks.same(
    "return visit",
    (
      await api.command(at("return-visit"), VILLAGE, 5, {
        satisfaction: "satisfied",
        note: "Resident content",
      })
    ).v.state,
    "resolved",
  );
  const closed = (await api.command(at("close"), VILLAGE, 6, {})).v;
  checks.same("close", `${closed.state} v${closed.version}`, "closed v7");
  checks.readme("# closed v7");

  const timeline = (await api.get(`/v1/cases/${CASE}`, GW)).v.timeline as Array<{
    seq: number;
    type: string;
  }>;
  checks.ok("timeline", timeline.length === 7, timeline.map((e) => `${e.seq} ${e.type}`).join(", "));
  const live = await api.get(`/v1/grids/${GRID}/cases?limit=5`, GW);
  checks.ok(
    "the grid worker's live list",
    live.status === 200 && live.v.items.some((c: { id: string }) => c.id === CASE),
    (live.v.items ?? []).map((c: { state: string; title: string }) => `${c.state} ${c.title}`).join("; "),
  );
  await sleep(2000);
  const projected = await api.get("/v1/cases?state=closed&q=Lane%203", VILLAGE);
  checks.same("the projection a second later", projected.v.items?.length, 1);

  // evidence photo
  const other = await api.post("/v1/cases", GW, {
    type: "environment",
    title: "Rubbish by the bridge",
    location: { address: "张岭社区 bridge" },
  });
  const photo = await api.call("POST", `/v1/cases/${other.v.id}/attachments`, {
    token: GW,
    headers: { "content-type": "image/jpeg" },
    raw: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...new TextEncoder().encode("demo-photo")]),
  });
  const got = await fetch(`${api.base}${photo.v.url}`, { headers: { authorization: `Bearer ${VILLAGE}` } });
  await got.body?.cancel();
  checks.same("the photo", `${got.status} ${got.headers.get("content-type")}`, "200 image/jpeg");
}

/** A local receiver like scripts/webhooks/receiver.ts, collecting the deliveries. */
async function webhookReceiver(): Promise<{
  url: string;
  secret: { value: string };
  deliveries: Array<{ event: string; valid: boolean; body: any }>;
  close(): void;
}> {
  const secret = { value: "" };
  const deliveries: Array<{ event: string; valid: boolean; body: any }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const header = String(req.headers["x-grid321-signature"] ?? "");
      const valid = await verifyWebhookSignature(secret.value, body, header, Math.floor(Date.now() / 1000));
      deliveries.push({
        event: String(req.headers["x-grid321-event"]),
        valid,
        body: JSON.parse(body || "null"),
      });
      res.writeHead(valid ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, secret, deliveries, close: () => server.close() };
}

async function escalation(api: Api) {
  checks.section(
    `Time limits, inboxes, escalation and webhooks (${REAL_TIME ? "the README's policy, real time" : `the README's policy and waits divided by ${SCALE}`})`,
  );
  if (SKIP_ESCALATION) {
    checks.note("skipped (--skip-escalation): it waits about four minutes in real time, 80 s scaled");
    return;
  }
  const s = (seconds: number) => Math.round(seconds / SCALE);
  const wait = (seconds: number) => sleep((seconds * 1000) / SCALE);
  const GW = await api.login("grid-worker");
  const VILLAGE = await api.login("center-village");
  const TOWN = await api.login("center-town");
  const me = async (token: string) => (await api.get("/v1/me", token)).v.unit.id as string;
  const TOWN_ID = await me(TOWN);
  const VILLAGE_ID = await me(VILLAGE);
  const GRID_ID = await me(GW);

  // 1. the short policy, and a bad one
  checks.readme('"acceptWithinSeconds":60,"acceptWarnBeforeSeconds":20');
  checks.readme('"resolveWithinSeconds":120,"resolveWarnBeforeSeconds":30,"escalateGraceSeconds":30');
  const policy = await api.call("PUT", `/v1/units/${VILLAGE_ID}/sla-policy`, {
    token: TOWN,
    body: {
      rules: [
        {
          caseType: "*",
          severity: "critical",
          acceptWithinSeconds: s(60),
          acceptWarnBeforeSeconds: s(20),
          resolveWithinSeconds: s(120),
          resolveWarnBeforeSeconds: s(30),
          escalateGraceSeconds: s(30),
        },
      ],
    },
  });
  checks.same(
    "PUT sla-policy: the source of acceptWithinSeconds",
    policy.v.entries?.find((e: { severity: string }) => e.severity === "critical")?.sources
      .acceptWithinSeconds,
    VILLAGE_ID,
  );
  const bad = await api.call("PUT", `/v1/units/${VILLAGE_ID}/sla-policy`, {
    token: TOWN,
    body: { rules: [{ caseType: "*", severity: "critical", acceptWithinSeconds: 0 }] },
  });
  checks.same("a bad policy", bad.v.status, 400);

  // 2. webhooks
  const receiver = await webhookReceiver();
  try {
    const hook = await api.post(`/v1/units/${TOWN_ID}/webhooks`, TOWN, {
      url: receiver.url,
      events: ["case.overdue", "case.escalated"],
    });
    receiver.secret.value = hook.v.secret;
    checks.ok("the webhook's secret, shown once", typeof hook.v.secret === "string", `${hook.status}`);
    const privateHook = await api.post(`/v1/units/${TOWN_ID}/webhooks`, TOWN, {
      url: "https://169.254.169.254/latest",
      events: ["case.escalated"],
    });
    checks.same("a webhook to a private address", privateHook.v.status, 400);

    // 3. the critical case
    const reported = await api.post("/v1/cases", GW, {
      type: "safety_hazard",
      severity: "critical",
      title: "Gas smell in stairwell 2",
      location: { address: "张岭社区 block 4" },
    });
    const CASE = reported.v.id as string;
    const show = async () => (await api.get(`/v1/cases/${CASE}?gridId=${GRID_ID}`, TOWN)).v;
    const d = (await show()).deadlines;
    const reportedAt = Date.parse(reported.v.createdAt);
    const after = (iso: string) => Math.round((Date.parse(iso) - reportedAt) / 1000);
    checks.ok(
      "deadlines",
      d?.phase === "accept" &&
        d.unitId === GRID_ID &&
        d.policy === "effective" &&
        Math.abs(after(d.dueAt) - s(60)) <= 1 &&
        Math.abs(after(d.escalateAt) - s(90)) <= 1,
      `phase ${d?.phase}, dueAt +${after(d?.dueAt)} s, escalateAt +${after(d?.escalateAt)} s, policy ${d?.policy}`,
      `README: accept, +60 s, +90 s, effective${SCALE === 1 ? "" : ` (divided by ${SCALE})`}`,
    );

    // 4. nobody accepts
    await wait(100);
    const timeline = (v: any) =>
      `${v.timeline.map((e: { seq: number; type: string }) => `${e.seq} ${e.type}`).join(", ")} → ${v.responsibleUnit.level}`;
    checks.same(
      "after 100 s",
      timeline(await show()),
      "1 reported, 2 warned, 3 overdue, 4 escalated → village",
    );
    checks.readme("#   1 reported, 2 warned, 3 overdue, 4 escalated → village");
    const inbox1 = await api.get(`/v1/units/${VILLAGE_ID}/inbox?state=open`, VILLAGE);
    checks.same(
      "the village's inbox",
      inbox1.v.items
        .map(
          (i: any) => `${i.kind} ${i.caseId === CASE ? "<case>" : i.caseId} automatic=${i.payload.automatic}`,
        )
        .join("\n"),
      "escalated <case> automatic=true\noverdue <case> automatic=true",
    );
    checks.readme("#   escalated <case> automatic=true\n#   overdue <case> automatic=true");

    // 5. the village misses its deadline too
    await wait(95);
    checks.same(
      "after 95 s more",
      timeline(await show()),
      "1 reported, 2 warned, 3 overdue, 4 escalated, 5 warned, 6 overdue, 7 escalated → town",
    );
    checks.readme(
      "#   1 reported, 2 warned, 3 overdue, 4 escalated, 5 warned, 6 overdue, 7 escalated → town",
    );
    const townInbox = await api.get(`/v1/units/${TOWN_ID}/inbox?kind=escalated`, TOWN);
    checks.same(
      "the town's inbox",
      townInbox.v.items
        .map(
          (i: any) =>
            `${i.kind} ${i.caseId === CASE ? "<case>" : i.caseId} from ${i.payload.fromUnitId === VILLAGE_ID ? "<village>" : i.payload.fromUnitId}`,
        )
        .join("\n"),
      "escalated <case> from <village>",
    );
    const signed = receiver.deliveries.map((x) => `${x.event} ${x.valid ? "valid" : "INVALID"}`);
    checks.ok(
      "the receiver got four signed deliveries",
      receiver.deliveries.length === 4 && receiver.deliveries.every((x) => x.valid),
      signed.join(", "),
    );
    checks.readme("Meanwhile the receiver printed four signed deliveries");
    const last = receiver.deliveries.find((x) => x.body?.id === `${CASE}:7`);
    checks.ok(
      'the delivery "<case>:7"',
      last?.body?.kind === "case.escalated" && last?.body?.data?.responsibleLevel === "town",
      `${last?.event} ${last?.body?.kind} responsibleLevel=${last?.body?.data?.responsibleLevel}`,
    );

    // 6. the town accepts, sends it down, urges; the village may neither supervise nor escalate without a code
    const ver = async () => (await show()).version as number;
    const at = (action: string) => `/v1/cases/${CASE}/${action}?gridId=${GRID_ID}`;
    const IN_1H = new Date(Date.now() + 3600e3).toISOString();
    const accepted = (await api.command(at("accept"), TOWN, await ver(), {})).v;
    checks.same("town accepts", `${accepted.state} ${accepted.responsibleUnit?.level}`, "accepted town");
    const down = (
      await api.command(at("send-down"), TOWN, await ver(), {
        unitId: VILLAGE_ID,
        reason: "The village has the gas company's number",
        deadline: IN_1H,
      })
    ).v;
    checks.same(
      "send-down",
      `${down.state} ${down.responsibleUnit?.level} due ${down.deadlines?.dueAt === IN_1H ? "<in 1 h>" : down.deadlines?.dueAt}`,
      "dispatched village due <in 1 h>",
    );
    const urged = (
      await api.command(at("urge"), TOWN, await ver(), { message: "Residents are waiting outside" })
    ).v;
    checks.same("urge", urged.notices?.map((n: { kind: string }) => n.kind).join(), "urge");
    const supervise = (
      await api.command(at("supervise"), VILLAGE, await ver(), { message: "x", deadline: IN_1H })
    ).v;
    checks.same("the village supervises", supervise.status, 403);
    const escalate = (await api.command(at("escalate"), VILLAGE, await ver(), { reason: "Needs the town" }))
      .v;
    checks.ok(
      "the village escalates without a reason code",
      escalate.status === 400 &&
        /reason ?code/i.test(`${escalate.detail} ${JSON.stringify(escalate.errors ?? [])}`),
      `${escalate.status} ${escalate.detail}`,
      "README: 400 … needs a reason code",
    );
    await sleep(5000);
    const inbox2 = await api.get(`/v1/units/${VILLAGE_ID}/inbox?state=open`, VILLAGE);
    checks.same(
      "the village's inbox",
      inbox2.v.items.map((i: any) => i.kind).join(" "),
      "urge dispatched escalated overdue",
    );
    checks.readme("#   urge dispatched escalated overdue");

    // 7. resolved by the village
    const resolved = (
      await api.command(at("resolve"), VILLAGE, await ver(), { note: "Valve closed by the gas company" })
    ).v;
    checks.same("resolve", `${resolved.state} ${resolved.deadlines}`, "resolved null");
    await sleep(3000);
    const inbox3 = await api.get(`/v1/units/${VILLAGE_ID}/inbox?state=open`, VILLAGE);
    checks.same("the village's open inbox", inbox3.v.items.length, 0);
    const FROM = new Date(Date.now() - 3600e3).toISOString();
    const TO = new Date(Date.now() + 60e3).toISOString();
    const levels = await api.get(`/v1/units/${TOWN_ID}/resolution-levels?from=${FROM}&to=${TO}`, TOWN);
    const l = levels.v;
    const figures = `${l.resolvedAtLevel
      .filter((x: { count: number }) => x.count)
      .map((x: { level: string; count: number }) => `${x.level} ${x.count}`)
      .join(", ")}; overdue ${l.overdueRate.toFixed(2)}, escalated ${l.escalationRate.toFixed(2)}`;
    checks.same("resolution levels", figures, "county 1, village 2; overdue 0.14, escalated 0.14");
    checks.readme("#   county 1, village 2; overdue 0.14, escalated 0.14");
  } finally {
    receiver.close();
  }
}

async function households(api: Api) {
  checks.section("Households, residents and the refined service");
  const TOWN = await api.login("center-town");
  const red = await api.get("/v1/households?class=red", TOWN);
  checks.ok(
    'curl "$B/v1/households?class=red"',
    red.status === 200 && red.v.items.every((h: any) => h.effectiveClass === "red"),
    red.status,
  );
  checks.same("red households of 江北街道", red.v.items.length, 8);
  checks.readme("| field 'v.items.length'   # 8");
  const HOUSEHOLD = red.v.items[0].id as string;
  const RESIDENT = (await api.get(`/v1/households/${HOUSEHOLD}`, TOWN)).v.residents[0].id as string;
  const masked = (await api.get(`/v1/residents/${RESIDENT}`, TOWN)).v;
  checks.same(
    "masked birth date and ID number",
    `${masked.birthDate} ${masked.idNumber}`,
    "1975-**-** 6109**************",
  );
  checks.readme("#   1975-**-** 6109**************");
  const revealed = await api.get(`/v1/residents/${RESIDENT}?reveal=true`, TOWN, {
    "x-purpose": "verification",
  });
  checks.ok(
    'reveal=true with "x-purpose: verification"',
    revealed.status === 200 &&
      revealed.v.masked === false &&
      /^\d{17}[\dX]$/.test(revealed.v.idNumber) &&
      /^\d{4}-\d{2}-\d{2}$/.test(revealed.v.birthDate),
    `${revealed.status} masked=${revealed.v.masked} birthDate ${revealed.v.birthDate}`,
  );
  const noPurpose = await api.get(`/v1/residents/${RESIDENT}?reveal=true`, TOWN);
  checks.ok(
    "reveal without x-purpose",
    noPurpose.status === 400 && String(noPurpose.v.type).endsWith("purpose-required"),
    `${noPurpose.status} ${noPurpose.v.type}`,
    "README: 400 purpose-required",
  );
  const overdue = await api.get("/v1/visits/overdue", TOWN);
  checks.ok(
    'curl "$B/v1/visits/overdue"',
    overdue.status === 200 && overdue.v.items.length > 0,
    overdue.v.items.map((i: any) => `${i.address} ${i.effectiveClass} ${i.daysLate} d`).join("; "),
  );
  const patch = await api.call("PATCH", `/v1/households/${HOUSEHOLD}`, { token: TOWN, body: { notes: "x" } });
  checks.same("PATCH /v1/households/{id} without If-Match", patch.status, 428);
}

async function threeLines(api: Api) {
  checks.section("The three lines: party points, household-lead subsidies, liaison stations");
  const PARTY = await api.login("party-member");
  const LEAD = await api.login("household-lead");
  const VILLAGE = await api.login("center-village");
  const partyId = (await api.get("/v1/me", PARTY)).v.user.id as string;
  const leadId = (await api.get("/v1/me", LEAD)).v.user.id as string;
  const villageId = (await api.get("/v1/me", VILLAGE)).v.unit.id as string;
  const year = new Date(Date.now() + 8 * 3600e3).getUTCFullYear();
  const pledge = { year, text: "每月走访联系户", target: "12 次走访", dueDate: `${year}-12-31` };
  const own = await api.post(`/v1/party-members/${partyId}/pledges`, PARTY, pledge);
  checks.same("a member pledges for themself", own.status, 201);
  const others = await api.post(`/v1/party-members/${leadId}/pledges`, PARTY, pledge);
  checks.same("…and for anyone else", others.status, 403);
  const points = await api.get(`/v1/party-members/${partyId}/points?year=${year}`, PARTY);
  checks.same(`GET /v1/party-members/{id}/points?year=${year}`, points.status, 200);
  const ranking = await api.get(`/v1/units/${villageId}/party-points?year=${year}`, VILLAGE);
  checks.same("GET /v1/units/{id}/party-points?year=", ranking.status, 200);
  const coverage = await api.get(`/v1/units/${villageId}/coverage`, VILLAGE);
  checks.same("GET /v1/units/{id}/coverage", coverage.status, 200);
  const month = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 7);
  const statement = await api.get(`/v1/household-leads/${leadId}/statement?month=${month}`, VILLAGE);
  checks.same("GET /v1/household-leads/{id}/statement?month=", statement.status, 200);
  const badSettings = await api.call("PUT", `/v1/units/${villageId}/subsidy-settings`, {
    token: VILLAGE,
    body: { caseFen: -1 },
  });
  checks.same("a negative subsidy amount", badSettings.status, 400);
  const leads = await api.get(`/v1/units/${villageId}/household-leads?flagged=true`, VILLAGE);
  checks.same("GET /v1/units/{id}/household-leads?flagged=true", leads.status, 200);
}

/** curl's `-d a=b -d c=d`: the pairs joined with `&`, as they are (curl does not encode them). */
function form(api: Api, path: string, pairs: string[], token?: string) {
  return api.call("POST", path, {
    token,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    raw: pairs.join("&"),
  });
}

/** The admin's token through the TOTP challenge; a code is taken once, so a second login waits for the next. */
async function adminToken(api: Api): Promise<string | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const { token } = await api.loginWithTotp("admin");
    if (token) return token;
    await sleep(10_000);
  }
  return undefined;
}

async function residents(api: Api) {
  checks.section("Residents' own channel and Open311");
  checks.readme(
    "The demo city's households have no coordinates (`location` is\nnull in `GET /v1/households`)",
  );
  const MOBILE = "13900001111";
  const json = { "content-type": "application/json" };

  // 1. sign up through the development code sink
  const sent = await api.call("POST", "/v1/resident/auth/codes", { body: { mobile: MOBILE } });
  checks.same("POST /v1/resident/auth/codes", sent.v, { expiresIn: 300 });
  checks.readme('# {"expiresIn":300}');
  const CODE = (await api.get(`/v1/resident/dev/codes?mobile=${MOBILE}`)).v.items[0].code as string;
  checks.ok("the dev sink's code", /^\d{6}$/.test(CODE), CODE);
  const signedUp = await api.call("POST", "/v1/resident/auth/tokens", {
    body: { mobile: MOBILE, code: CODE },
  });
  let RT = signedUp.v.accessToken as string;
  const RR = signedUp.v.refreshToken as string;
  checks.ok("POST /v1/resident/auth/tokens signs up", signedUp.v.created === true && !!RT, signedUp.status);
  const me = (await api.get("/v1/resident/me", RT)).v;
  checks.same("GET /v1/resident/me", `${me.mobile} linked=${me.linked}`, "139****1111 linked=false");
  checks.readme("# 139****1111 linked=false");

  // 2. not linked: no grid for the report
  const REPORT = {
    serviceCode: "street_lighting",
    title: "村口路灯不亮",
    description: "村口第三根路灯连续三晚不亮",
    location: { lat: 32.6846, lng: 109.0301 },
  };
  checks.readme(`REPORT='${JSON.stringify(REPORT)}'`);
  const early = (
    await api.call("POST", "/v1/resident/reports", { token: RT, headers: json, raw: JSON.stringify(REPORT) })
  ).v;
  checks.same(
    "a report before the link",
    `${early.status} ${early.errors?.[0]?.message}`,
    "400 no registered household within 1 km",
  );
  checks.readme("# 400 no registered household within 1 km");

  // 3. the grid worker links the number
  const GW = await api.login("grid-worker");
  const VILLAGE = await api.login("center-village");
  const firstHousehold = (await api.get("/v1/households?limit=1", GW)).v.items[0];
  const HH = firstHousehold.id as string;
  checks.same("the demo household's location", firstHousehold.location, null);
  const link = await api.post(`/v1/households/${HH}/resident-accounts`, GW, { mobile: MOBILE });
  checks.same("POST /v1/households/{id}/resident-accounts", link.v.linked, true);
  const household = (await api.get("/v1/resident/household", RT)).v;
  checks.same("GET /v1/resident/household", household.grid?.name, "张岭社区第1网格");
  checks.readme("# 张岭社区第1网格");
  const GRID = household.grid.id as string;

  // 4. the same report, now into the household's grid
  const reported = await api.call("POST", "/v1/resident/reports", {
    token: RT,
    headers: json,
    raw: JSON.stringify(REPORT),
  });
  const ID = reported.v.id as string;
  checks.same("the report after the link", reported.status, 201);
  const owning = (await api.get(`/v1/cases/${ID}`, VILLAGE)).v.owningUnit?.id;
  checks.same("its grid is the household's (the fallback)", owning === GRID, true);

  // 5. the village centre accepts and resolves
  const accepted = await api.command(`/v1/cases/${ID}/accept`, VILLAGE, 1, {});
  checks.same("accept with If-Match 1", `${accepted.status} ${accepted.v.state}`, "200 accepted");
  const resolved = await api.command(`/v1/cases/${ID}/resolve`, VILLAGE, 2, { note: "已更换灯泡" });
  checks.same(
    "resolve with If-Match 2",
    `${resolved.status} ${resolved.v.state} v${resolved.v.version}`,
    "200 resolved v3",
  );

  // 6. follow and rate
  const followed = (await api.get(`/v1/resident/reports/${ID}`, RT)).v;
  const words = (followed.timeline ?? []).map((t: { text: string }) => t.text).join(" → ");
  checks.same(
    "the resident's timeline",
    words,
    "已收到您反映的问题 → 已受理，正在安排办理 → 已办结，请您评价办理结果",
  );
  checks.readme("# 已收到您反映的问题 → 已受理，正在安排办理 → 已办结，请您评价办理结果");
  const rated = await api.command(`/v1/resident/reports/${ID}/rating`, RT, 3, {
    satisfaction: "dissatisfied",
    comment: "路灯还是不亮",
  });
  checks.same("the dissatisfied rating", rated.v.stateLabel, "重新办理");
  checks.readme("# 重新办理");

  // 7. Open311, from the projection
  await sleep(2000);
  checks.readme("sleep 2");
  const one = (await api.get(`/open311/v2/requests/${ID}.json`)).v;
  checks.same("GET /open311/v2/requests/{id}.json", one[0]?.status, "open");
  const listed = (await api.get("/open311/v2/requests.json?service_code=street_lighting")).v as any[];
  checks.same(
    "GET /open311/v2/requests.json?service_code=street_lighting",
    listed
      .map((r) => `${r.status} ${r.service_name} description=${r.description} ${r.lat},${r.long}`)
      .join("\n"),
    "open 路灯故障 description=null 32.685,109.03",
  );
  checks.readme("# open 路灯故障 description=null 32.685,109.03");

  // GeoReport v2 with the resident's token
  const services = (await api.get("/open311/v2/services.json")).v as Array<{ service_code: string }>;
  checks.same(
    "GET /open311/v2/services.json",
    services.map((s) => s.service_code).join(" "),
    "road street_lighting sanitation water_supply greening public_facilities",
  );
  checks.readme("# road street_lighting sanitation water_supply greening public_facilities");
  const point = ["lat=32.6846", "long=109.0301"];
  const posted = await form(
    api,
    "/open311/v2/requests.json",
    ["service_code=road", ...point, "description=村口路面塌陷", "attribute[description_public]=yes"],
    RT,
  );
  const TK = posted.v[0]?.token as string;
  checks.ok(
    "POST /open311/v2/requests.json with the resident token",
    posted.status === 201 && !!TK,
    posted.status,
  );
  const RID = (await api.get(`/open311/v2/tokens/${TK}.json`)).v[0]?.service_request_id as string;
  checks.same("GET /open311/v2/tokens/{token}.json", RID, posted.v[0]?.service_request_id);
  await sleep(2000);
  const road = (await api.get(`/open311/v2/requests/${RID}.json`)).v[0];
  checks.same(
    "GET /open311/v2/requests/{id}.json",
    `${road?.status} ${road?.service_name} ${road?.description}`,
    "open 道路破损 村口路面塌陷",
  );
  checks.readme("# open 道路破损 村口路面塌陷");
  const xml = String((await api.get("/open311/v2/requests.xml?service_code=road&status=open")).v);
  checks.same(
    "GET /open311/v2/requests.xml | grep -o '<service_name>…'",
    (xml.match(/<service_name>[^<]*<\/service_name>/g) ?? []).join("\n"),
    "<service_name>道路破损</service_name>",
  );
  checks.readme("# <service_name>道路破损</service_name>");
  const dispute = await form(api, "/open311/v2/requests.json", ["service_code=dispute", ...point], RT);
  checks.same("a dispute through Open311", dispute.v, [
    { code: 404, description: "No public service dispute" },
  ]);
  checks.readme('# [{"code":404,"description":"No public service dispute"}]');
  const noKey = await form(api, "/open311/v2/requests.json", [
    "api_key=not-a-key",
    "service_code=road",
    ...point,
  ]);
  checks.same("an unknown api_key", noKey.v, [
    { code: 403, description: "The api_key is not valid or was revoked" },
  ]);
  checks.readme('# [{"code":403,"description":"The api_key is not valid or was revoked"}]');

  // the refresh token: the next access token without a code, once
  const refreshed = await api.call("POST", "/v1/resident/auth/refresh", { body: { refreshToken: RR } });
  RT = refreshed.v.accessToken;
  checks.same("POST /v1/resident/auth/refresh", refreshed.status, 200);
  checks.same(
    "GET /v1/resident/me with the new token",
    (await api.get("/v1/resident/me", RT)).v.linked,
    true,
  );
  const again = await api.call("POST", "/v1/resident/auth/refresh", { body: { refreshToken: RR } });
  checks.same("the same refresh token again", again.v.status, 401);
  checks.readme("a second use revokes the sign-in");
  const newer = await api.call("POST", "/v1/resident/auth/refresh", {
    body: { refreshToken: refreshed.v.refreshToken },
  });
  checks.same("…which revoked the sign-in: the newer refresh token is refused too", newer.status, 401);

  // The README's claim about an app's api_key in the demo city (no household to fall back to).
  const ADMIN = await adminToken(api);
  if (!ADMIN) {
    checks.ok("the admin logs in for an Open311 app", false, "no token after five codes");
    return;
  }
  const app = await api.post("/v1/open311/apps", ADMIN, { name: "演示应用" });
  const byApp = await form(api, "/open311/v2/requests.json", [
    `api_key=${app.v.apiKey}`,
    "service_code=road",
    ...point,
  ]);
  checks.ok(
    "an app's post in the demo city: 400, no household within 1 km",
    byApp.status === 400 && /no registered household within 1 km/.test(JSON.stringify(byApp.v)),
    `${byApp.status} ${JSON.stringify(byApp.v)}`,
  );
  checks.readme("as does an app posting through Open311 with an `api_key`");
}

/** The README's China date `days` from now (its `node -e` lines), and the README's `$TODAY`. */
const chinaDay = (days = 0) => new Date(Date.now() + 8 * 3600e3 + days * 86400e3).toISOString().slice(0, 10);

async function deliberation(api: Api) {
  checks.section("Village deliberation: two talks, one consultation (两说一商)");
  const VILLAGE = await api.login("center-village");
  const LEAD = await api.login("household-lead");
  const PARTY = await api.login("party-member");
  const VILLAGE_ID = (await api.get("/v1/me", VILLAGE)).v.unit.id as string;
  const TODAY = chinaDay();
  const lines = (v: any, f: (n: any) => string) => (v.notices ?? []).map(f).join("\n");

  // The public board first, and the eligible numbers.
  const board = (await api.get(`/v1/public/units/${VILLAGE_ID}/notices`)).v;
  const boardLines = [
    "result 村集体闲置仓库出租实施结果公开",
    "resolution 关于安装二组村道太阳能路灯的决议公示",
    "resolution 关于村集体闲置仓库出租的决议公示",
  ];
  checks.same(
    "the public board, no token",
    lines(board, (n) => `${n.kind} ${n.title}`),
    boardLines.join("\n"),
  );
  checks.readme(boardLines.map((l) => `#   ${l}`).join("\n"));
  const eligible = (await api.get(`/v1/units/${VILLAGE_ID}/deliberation/eligible?on=${TODAY}`, VILLAGE)).v;
  checks.same(
    "eligible numbers on $TODAY",
    [eligible.adults, eligible.households, eligible.representatives, eligible.partyMembers].join(" "),
    "9 8 5 3",
  );
  checks.readme(
    "| field '[v.adults, v.households, v.representatives, v.partyMembers].join(\" \")'   # 9 8 5 3",
  );

  // 1. An open talk, its sign-in sheet, a matter raised there and put on the agenda.
  const session = await api.post(`/v1/units/${VILLAGE_ID}/deliberation/sessions`, VILLAGE, {
    kind: "open_talk",
    title: "说事会",
    heldAt: new Date().toISOString(),
    place: "村委会",
    unregisteredCount: 15,
  });
  checks.same("an open talk", session.status, 201);
  const SESSION = session.v.id as string;
  const sheet = await api.call(
    "POST",
    `/v1/deliberation/sessions/${SESSION}/attachments?kind=sign_in_sheet`,
    {
      token: VILLAGE,
      headers: { "content-type": "image/jpeg" },
      raw: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...new TextEncoder().encode("sign-in-sheet")]),
    },
  );
  checks.ok(
    "the sign-in sheet",
    String(`${sheet.v.kind} ${sheet.v.url}`).startsWith("sign_in_sheet /v1/deliberation/attachments/"),
    `${sheet.status} ${sheet.v.kind} ${sheet.v.url}`,
    "README: sign_in_sheet /v1/deliberation/attachments/…",
  );
  const talks = (
    await api.get(`/v1/units/${VILLAGE_ID}/deliberation/sessions?kind=open_talk&limit=5`, VILLAGE)
  ).v;
  checks.ok(
    "the village's open talks, newest first",
    talks.items?.[0]?.id === SESSION,
    talks.items?.map((t: any) => `${t.heldAt.slice(0, 10)} ${t.title}`).join("; "),
  );
  const matter = await api.post("/v1/deliberation/matters", LEAD, {
    sessionId: SESSION,
    summary: "三组通组路坑洼，雨天难行",
    raisedByName: "刘强代群众反映",
  });
  checks.same("the household lead raises a matter", matter.status, 201);
  const MATTER = matter.v.id as string;
  const ITEM = (
    await api.post(`/v1/deliberation/matters/${MATTER}/triage`, VILLAGE, {
      outcome: "agenda",
      title: "硬化三组通组路",
      kind: "construction_project",
      amountYuan: 120000,
    })
  ).v.itemId as string;
  const item = (await api.get(`/v1/deliberation/items/${ITEM}`, VILLAGE)).v;
  checks.same(
    "the item's procedure",
    `${item.listedKind} ${item.requiredSteps?.join(",")} ${item.noticeDays}`,
    "construction_project proposal,discussion,review,resolution 7",
  );
  checks.readme("#   construction_project proposal,discussion,review,resolution 7");

  // 2. The four steps.
  const step = (name: string, meeting: string, present: number, votesFor: number) =>
    api.post(`/v1/deliberation/items/${ITEM}/steps`, VILLAGE, {
      step: name,
      meeting,
      heldOn: TODAY,
      attendance: { present },
      votes: { for: votesFor, against: 0, abstain: 0 },
    });
  const early = (await step("review", "party_members_meeting", 3, 3)).v;
  checks.same(
    "review first",
    `${early.status} ${early.detail}`,
    "409 the next step is proposal (村党组织提议), not review",
  );
  checks.readme("# 409 the next step is proposal (村党组织提议), not review");
  for (const [name, meeting, present, passed] of [
    ["proposal", "party_committee", 3, "proposal"],
    ["discussion", "two_committees", 7, "proposal,discussion"],
    ["review", "party_members_meeting", 3, "proposal,discussion,review"],
  ] as const) {
    const v = (await step(name, meeting, present, present)).v;
    checks.same(name, v.passedSteps?.join(), passed);
    checks.readme(`# ${passed}`);
  }
  const noQuorum = (await step("resolution", "representatives_meeting", 3, 3)).v;
  checks.same(
    "a representatives' meeting of 3",
    `${noQuorum.state} ${noQuorum.steps?.at(-1)?.note}`,
    "open no quorum: needs 4 of 5 present",
  );
  checks.readme("# open no quorum: needs 4 of 5 present");
  checks.same(
    "a representatives' meeting of 4",
    (await step("resolution", "representatives_meeting", 4, 3)).v.state,
    "resolved",
  );

  // 3. Made public; the decision and a task's 100 % wait for the notice period.
  const published = (
    await api.post(`/v1/deliberation/items/${ITEM}/resolution-notice`, VILLAGE, {
      title: "关于硬化三组通组路的决议公示",
      body: "村民代表会议通过：硬化三组通组路1.2公里，预算12万元。",
    })
  ).v;
  checks.same(
    "the resolution notice: <today> → <today + 7>",
    `${published.notices?.[0]?.publishedOn} → ${published.notices?.[0]?.endsOn}`,
    `${TODAY} → ${chinaDay(7)}`,
  );
  const waiting = (await api.post(`/v1/deliberation/items/${ITEM}/decision`, VILLAGE, undefined)).v;
  checks.same(
    "deciding during the notice period",
    `${waiting.status} ${waiting.detail}`,
    `409 missing step: the notice period (公示期) runs through ${chinaDay(7)}`,
  );
  checks.readme("#   409 missing step: the notice period (公示期) runs through <today + 7>");
  const TASK = (
    await api.post(`/v1/deliberation/items/${ITEM}/tasks`, VILLAGE, {
      title: "招标并组织施工",
      ownerUnitId: VILLAGE_ID,
      dueOn: new Date(Date.now() + 38 * 86400e3).toISOString().slice(0, 10),
    })
  ).v.id as string;
  const notDecided = (
    await api.post(`/v1/deliberation/tasks/${TASK}/progress`, VILLAGE, { progress: 100, note: "完工" })
  ).v;
  checks.same(
    "100 % before the decision",
    `${notDecided.status} ${String(notDecided.type).split("/").pop()}`,
    "409 item-not-decided",
  );
  checks.readme("#   409 item-not-decided");

  // 4. The seeded item whose notice period is over, to a published result.
  const seededTalks = (await api.get(`/v1/units/${VILLAGE_ID}/deliberation/sessions?kind=open_talk`, VILLAGE))
    .v;
  const TALK = seededTalks.items?.find((t: any) => t.title === "二季度说事会")?.id as string;
  const LAMPS_MATTER = (await api.get(`/v1/deliberation/sessions/${TALK}`, VILLAGE)).v.matters?.find(
    (m: any) => m.summary.startsWith("二组村道"),
  )?.id as string;
  const LAMPS = (await api.get(`/v1/deliberation/matters/${LAMPS_MATTER}`, LEAD)).v.itemId as string;
  checks.ok(
    "the seeded matter at the demo's open talk and its item",
    !!LAMPS,
    `${TALK} ${LAMPS_MATTER} ${LAMPS}`,
  );
  const lamps = (await api.get(`/v1/deliberation/items/${LAMPS}`, VILLAGE)).v;
  checks.same(
    "the seeded item",
    [lamps.state, lamps.passedSteps?.join(), lamps.notices?.[0]?.endsOn < TODAY, lamps.missing === null].join(
      " ",
    ),
    "resolved proposal,discussion,review,resolution true true",
  );
  checks.readme("#   resolved proposal,discussion,review,resolution true true");
  const decided = (await api.post(`/v1/deliberation/items/${LAMPS}/decision`, VILLAGE, undefined)).v;
  checks.same("decide", `${decided.state} ${decided.missing}`, "decided null");
  checks.readme("| field 'v.state + \" \" + v.missing'           # decided null");
  const LAMPS_TASK = (
    await api.post(`/v1/deliberation/items/${LAMPS}/tasks`, VILLAGE, {
      title: "采购并安装太阳能路灯24盏",
      ownerUnitId: VILLAGE_ID,
      dueOn: new Date(Date.now() + 30 * 86400e3).toISOString().slice(0, 10),
    })
  ).v.id as string;
  const half = (
    await api.post(`/v1/deliberation/tasks/${LAMPS_TASK}/progress`, VILLAGE, {
      progress: 50,
      note: "已安装12盏",
    })
  ).v;
  checks.same("progress 50 %", `${half.progress} ${half.doneOn}`, "50 null");
  checks.readme("#   50 null");
  const done = (
    await api.post(`/v1/deliberation/tasks/${LAMPS_TASK}/progress`, VILLAGE, {
      progress: 100,
      note: "24盏全部安装并验收",
    })
  ).v;
  checks.same("progress 100 %, done today", `${done.progress} ${done.doneOn === TODAY}`, "100 true");
  checks.readme("# 100 true");
  const result = (
    await api.post(`/v1/deliberation/items/${LAMPS}/result`, VILLAGE, {
      title: "二组村道太阳能路灯实施结果公开",
      body: "24盏太阳能路灯已安装验收，决算5.8万元。",
    })
  ).v;
  checks.same("the result published", result.state, "result_published");
  const feedback = (
    await api.post(`/v1/deliberation/items/${LAMPS}/feedback`, PARTY, { satisfaction: "satisfied" })
  ).v;
  checks.same("satisfaction", JSON.stringify(feedback.satisfaction), '{"satisfied":1}');
  checks.readme('#   {"satisfied":1}');
  const lampsMatter = (await api.get(`/v1/deliberation/matters/${LAMPS_MATTER}`, LEAD)).v;
  checks.same(
    "the matter's status and history, read by its raiser",
    `${lampsMatter.status}: ${(lampsMatter.history ?? []).map((h: any) => h.event).join(" → ")}`,
    "closed: raised → agenda → resolved → decided → result_published",
  );
  checks.readme("#   closed: raised → agenda → resolved → decided → result_published");
  const after = (await api.get(`/v1/public/units/${VILLAGE_ID}/notices`)).v;
  const lampLines = [
    "result 二组村道太阳能路灯实施结果公开 result_published 5/5",
    "resolution 关于安装二组村道太阳能路灯的决议公示 result_published 5/5",
  ];
  checks.same(
    "the public board shows the result",
    (after.notices ?? [])
      .filter((n: any) => n.item.title === "安装二组村道太阳能路灯")
      .map((n: any) =>
        [n.kind, n.title, n.item.state, `${n.resolution.votes.for}/${n.resolution.present}`].join(" "),
      )
      .join("\n"),
    lampLines.join("\n"),
  );
  checks.readme(lampLines.map((l) => `#   ${l}`).join("\n"));
  checks.ok(
    "…and no names on it",
    !/刘强|张德厚|李明|raisedBy|attendee/.test(JSON.stringify(after)),
    "no raiser, member or attendee",
  );
}

function namedFiles() {
  checks.section("Files the README names");
  const named = new Set(
    [...README.matchAll(/`((?:src|scripts|test|migrations)\/[\w./-]+\.(?:ts|sql|md))`/g)].map((m) => m[1]!),
  );
  const missing = [...named].filter((p) => !existsSync(new URL(`../../${p}`, import.meta.url)));
  checks.ok(
    `${named.size} source files named in the README exist`,
    missing.length === 0,
    missing.length ? `missing: ${missing.join(", ")}` : "all",
  );
}

const started = Date.now();
try {
  await withDevStack(
    { name: "demo", seedCases: true, limitMs: (REAL_TIME ? 600 : 300) * 1000 },
    async (stack) => {
      console.log(
        `demo: a fresh stack on ${stack.url} (sqld ${stack.sqldUrl}), demo city and demo cases seeded`,
      );
      checks.ok("npm run dev's demo cases were reported", !stack.seedError, stack.seedError ?? "yes");
      const api = new Api(stack.url);
      for (const step of [startup, caseLoop, escalation, households, threeLines, residents, deliberation]) {
        try {
          await step(api);
        } catch (error) {
          checks.ok(`${step.name} ran to its end`, false, (error as Error).stack ?? String(error));
        }
      }
      namedFiles();
      if (checks.failed.length) {
        const errors = stack
          .log()
          .split("\n")
          .filter((line) => /error|"status":5\d\d/i.test(line));
        if (errors.length) console.log(`\nthe Worker's error lines:\n${errors.slice(-30).join("\n")}`);
      }
    },
  );
} catch (error) {
  checks.ok("the stack started and stopped", false, (error as Error).message);
}
const seconds = Math.round((Date.now() - started) / 1000);
if (checks.failed.length) console.log(`\nfailed:\n${checks.failed.map((f) => `  ${f}`).join("\n")}`);
for (const note of checks.notes) console.log(`note: ${note}`);
console.log(`\ndemo: ${checks.passed} passed, ${checks.failed.length} failed (${seconds} s)`);
process.exit(checks.failed.length ? 1 : 0);
