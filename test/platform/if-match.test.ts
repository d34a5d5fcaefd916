import { beforeAll, describe, expect, it } from "vitest";
import { makeWorld, report } from "../support/case-fixtures";
import { call, makeTree, makeUser, type TestTree, type TestUser } from "../support/helpers";
import { household, resident } from "../support/household-fixtures";
import { makeResidentWorld, residentReport, signUp } from "../support/resident-accounts";

/** A versioned write, freshly arranged: where to send it, with what body, and the version it must find. */
interface Write {
  method: string;
  path: string;
  token: string;
  version: number;
  /** Two different bodies, so two writers racing on one version each change something. */
  bodies: [unknown, unknown];
}

interface Target {
  /** The operation as the OpenAPI document names it: `METHOD /path/{param}`. */
  operation: string;
  /** Whether If-Match is required (428 without it) or optional (an unconditional write without it). */
  required: boolean;
  arrange(): Promise<Write>;
}

let tree: TestTree;
let admin: TestUser;
let worker: TestUser;

beforeAll(async () => {
  tree = await makeTree();
  [admin, worker] = await Promise.all([makeUser("admin", tree.city), makeUser("grid_worker", tree.grid)]);
});

async function newHousehold() {
  const res = await call("/v1/households", {
    token: worker.token,
    body: { ...household(tree.grid), residents: [resident()] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; version: number };
}

async function newResident() {
  const home = await newHousehold();
  const res = await call(`/v1/households/${home.id}/residents`, {
    token: worker.token,
    body: resident({ name: "李秀英", gender: "female", relationship: "spouse" }),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; version: number };
}

type CaseWorld = Awaited<ReturnType<typeof makeWorld>>;

/** Every case command with a body it accepts, given the world and another open case of that world. */
const CASE_COMMANDS: Array<[string, (world: CaseWorld, otherCaseId: string) => unknown]> = [
  ["accept", () => ({ note: "受理" })],
  ["reject", () => ({ reason: "不属于受理范围" })],
  ["merge", (_w, other) => ({ intoCaseId: other })],
  ["dispatch", (w) => ({ unitId: w.tree.grid2.id })],
  ["start", () => ({})],
  ["resolve", () => ({ note: "已处理完毕" })],
  ["return-visit", () => ({ satisfaction: "satisfied" })],
  ["close", () => ({})],
  ["reopen", () => ({ reason: "群众反映问题仍在" })],
  ["escalate", () => ({ reason: "超出网格处置能力", reasonCode: "beyond_authority" })],
  ["send-down", (w) => ({ unitId: w.tree.grid.id, reason: "请网格核实" })],
  ["supervise", () => ({ message: "请加快办理", deadline: "2030-01-01T00:00:00Z" })],
  ["urge", () => ({ message: "请尽快回复" })],
];

const TARGETS: Target[] = [
  {
    operation: "PATCH /v1/units/{id}",
    required: false,
    arrange: async () => ({
      method: "PATCH",
      path: `/v1/units/${tree.subgrid.id}`,
      token: admin.token,
      version: await unitVersion(tree.subgrid.id),
      bodies: [{ name: "三组网格" }, { name: "四组网格" }],
    }),
  },
  {
    operation: "PATCH /v1/users/{id}",
    required: false,
    arrange: async () => {
      const user = await makeUser("grid_worker", tree.grid2);
      return {
        method: "PATCH",
        path: `/v1/users/${user.id}`,
        token: admin.token,
        version: 1,
        bodies: [{ displayName: "张网格员" }, { displayName: "李网格员" }],
      };
    },
  },
  {
    operation: "PATCH /v1/households/{id}",
    required: true,
    arrange: async () => {
      const home = await newHousehold();
      return {
        method: "PATCH",
        path: `/v1/households/${home.id}`,
        token: worker.token,
        version: home.version,
        bodies: [{ address: "安康市汉滨区新城街道1号" }, { address: "安康市汉滨区新城街道2号" }],
      };
    },
  },
  {
    operation: "PATCH /v1/residents/{id}",
    required: false,
    arrange: async () => {
      const person = await newResident();
      return {
        method: "PATCH",
        path: `/v1/residents/${person.id}`,
        token: worker.token,
        version: person.version,
        bodies: [{ name: "李秀兰" }, { name: "李秀梅" }],
      };
    },
  },
  {
    operation: "POST /v1/residents/{id}/move",
    required: false,
    arrange: async () => {
      const [person, a, b] = await Promise.all([newResident(), newHousehold(), newHousehold()]);
      return {
        method: "POST",
        path: `/v1/residents/${person.id}/move`,
        token: worker.token,
        version: person.version,
        bodies: [{ householdId: a.id }, { householdId: b.id }],
      };
    },
  },
  {
    operation: "POST /v1/resident/reports/{id}/rating",
    required: true,
    arrange: async () => {
      const world = await makeResidentWorld();
      const { mobile, token } = await signUp();
      const linked = await call(`/v1/households/${world.householdId}/resident-accounts`, {
        token: world.gridWorker.token,
        body: { mobile },
      });
      expect(linked.status, linked.text).toBe(200);
      const reported = await call("/v1/resident/reports", { token, body: residentReport(world.point) });
      expect(reported.status, reported.text).toBe(201);
      for (const [command, version, body] of [
        ["accept", 1, {}],
        ["resolve", 2, { note: "已更换灯泡" }],
      ] as const) {
        const res = await call(`/v1/cases/${reported.body.id}/${command}`, {
          token: world.villageCentre.token,
          body,
          headers: { "if-match": `"${version}"` },
        });
        expect(res.status, res.text).toBe(200);
      }
      return {
        method: "POST",
        path: `/v1/resident/reports/${reported.body.id}/rating`,
        token,
        version: 3,
        bodies: [{ satisfaction: "satisfied" }, { satisfaction: "basically_satisfied", comment: "还行" }],
      };
    },
  },
  ...CASE_COMMANDS.map(
    ([command, body]): Target => ({
      operation: `POST /v1/cases/{id}/${command}`,
      required: true,
      arrange: async () => {
        const world = await makeWorld();
        const [created, other] = await Promise.all([
          report(world.gridWorker, { title: "路灯损坏，夜间出行不便" }),
          report(world.gridWorker, { title: "路灯损坏，夜间无法通行", location: { address: "三组村口" } }),
        ]);
        return {
          method: "POST",
          path: `/v1/cases/${created.id}/${command}?gridId=${world.tree.grid.id}`,
          token: world.villageCentre.token,
          version: created.version,
          bodies: [body(world, other.id), body(world, other.id)],
        };
      },
    }),
  ),
];

async function unitVersion(id: string): Promise<number> {
  const res = await call(`/v1/units/${id}`, { token: admin.token });
  expect(res.status).toBe(200);
  return res.body.version as number;
}

function send(write: Write, ifMatch: string | null, body: unknown = write.bodies[0]) {
  return call(write.path, {
    method: write.method,
    token: write.token,
    body,
    headers: ifMatch === null ? {} : { "if-match": ifMatch },
  });
}

describe("If-Match answers the same way on every versioned write", () => {
  it("covers every operation whose OpenAPI entry declares an If-Match header", async () => {
    const doc = (await call("/openapi.json")).body as {
      paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }> }>>;
    };
    const declared: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (operation.parameters?.some((p) => p.in === "header" && p.name.toLowerCase() === "if-match")) {
          declared.push(`${method.toUpperCase()} ${path}`);
        }
      }
    }
    expect(declared.sort()).toEqual(TARGETS.map((t) => t.operation).sort());
  });

  describe.each(TARGETS.map((t) => [t.operation, t] as const))("%s", (_name, target) => {
    it(
      target.required
        ? "answers 428 without If-Match or with an empty one"
        : "writes unconditionally without If-Match",
      async () => {
        const write = await target.arrange();
        const missing = await send(write, null, write.bodies[0]);
        const empty = await send(write, "", write.bodies[1]);
        if (target.required) {
          expect(missing).toBeProblem(428);
          expect(empty).toBeProblem(428);
        } else {
          expect(missing.status, JSON.stringify(missing.body)).toBeLessThan(300);
          expect(empty.status, JSON.stringify(empty.body)).toBeLessThan(300);
        }
      },
    );

    it("answers 400 when If-Match is not a version, and 412 with the current version when stale", async () => {
      const write = await target.arrange();
      expect(await send(write, "not-a-version")).toBeProblem(400);
      expect(await send(write, '"1.5"')).toBeProblem(400);
      const stale = await send(write, `"${write.version + 7}"`);
      expect(stale).toBeProblem(412);
      expect(stale.body.currentVersion).toBe(write.version);
      expect(stale.headers.get("etag")).toBe(`"${write.version}"`);
    });
  });

  describe.each(
    TARGETS.filter((t) => !t.operation.startsWith("POST /v1/cases/") || t.operation.endsWith("/accept")).map(
      (t) => [t.operation, t] as const,
    ),
  )("%s", (_name, target) => {
    it("gives a version lost to a concurrent writer 412, and keeps exactly one write", async () => {
      const write = await target.arrange();
      const results = await Promise.all(write.bodies.map((body) => send(write, `"${write.version}"`, body)));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses, JSON.stringify(results.map((r) => r.body))).toEqual([200, 412]);
      const loser = results.find((r) => r.status === 412)!;
      expect(loser).toBeProblem(412);
      const winner = results.find((r) => r.status === 200)!;
      expect(winner.headers.get("etag")).toBe(`"${write.version + 1}"`);
    });
  });
});
