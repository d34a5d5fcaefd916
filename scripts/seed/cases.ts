/**
 * Demo cases, reported through the running API (cases live in GridDesk Durable Objects, which only the
 * Worker reaches): a few reports from the demo grid worker at different points of the loop. The client ids of
 * the reports are stable, so a second run replays them (200) and leaves the cases as they are.
 */
import { stableId } from "./ids";

interface Step {
  user: string;
  action: string;
  body: Record<string, unknown>;
}

interface DemoCase {
  key: string;
  report: Record<string, unknown>;
  steps: Step[];
}

const ZHANGLING = { lat: 32.6841, lng: 109.0293 };

function demoCases(departmentUnitId: string): DemoCase[] {
  return [
    {
      key: "stray-dogs",
      report: {
        type: "public_security",
        severity: "normal",
        title: "三组路口流浪犬聚集",
        description: "傍晚有五六只流浪犬在三组路口聚集，放学的孩子不敢经过。",
        location: { ...ZHANGLING, address: "张岭社区三组路口" },
      },
      steps: [],
    },
    {
      key: "fence-dispute",
      report: {
        type: "dispute",
        severity: "normal",
        title: "邻里院墙界址纠纷",
        description: "12号与14号住户因新砌院墙占地发生争执。",
        location: { lat: 32.6846, lng: 109.0301, address: "张岭社区12号、14号" },
        mediation: {
          parties: [
            { name: "张某", role: "12号住户" },
            { name: "李某", role: "14号住户" },
          ],
          subject: "院墙界址",
          amountInvolved: 0,
          peopleInvolved: 2,
          method: "on_site",
          mediator: "网格员 王芳",
          result: "pending",
        },
      },
      steps: [{ user: "center-village", action: "accept", body: { note: "村综治中心受理" } }],
    },
    {
      key: "power-line",
      report: {
        type: "safety_hazard",
        severity: "urgent",
        title: "巷道电线垂落",
        description: "3号巷12号门前电线下垂至一人高，存在触电隐患。",
        location: { lat: 32.6839, lng: 109.0288, address: "张岭社区3号巷12号" },
      },
      steps: [
        { user: "center-village", action: "accept", body: { note: "已受理" } },
        {
          user: "center-village",
          action: "dispatch",
          body: { unitId: departmentUnitId, department: "住建局" },
        },
      ],
    },
    {
      key: "streetlight",
      report: {
        type: "livelihood",
        severity: "normal",
        title: "村委会门前路灯不亮",
        description: "路灯已坏一周，夜间老人出行不便。",
        location: { lat: 32.6843, lng: 109.0296, address: "张岭社区村委会门前" },
      },
      steps: [
        { user: "center-village", action: "accept", body: { note: "已受理" } },
        { user: "center-village", action: "resolve", body: { note: "已更换灯泡" } },
        {
          user: "center-village",
          action: "return-visit",
          body: { satisfaction: "satisfied", note: "群众满意" },
        },
        { user: "center-village", action: "close", body: {} },
      ],
    },
  ];
}

async function login(
  base: string,
  username: string,
  password: string,
): Promise<{ token: string; unitId: string }> {
  const res = await fetch(`${base}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { accessToken: string; user: { unitId: string } };
  return { token: body.accessToken, unitId: body.user.unitId };
}

/** Reports the demo cases through the API at `base`; returns how many were new. */
export async function seedDemoCases(base: string, password: string): Promise<number> {
  const users = new Map<string, { token: string; unitId: string }>();
  for (const name of ["grid-worker", "center-village", "department"])
    users.set(name, await login(base, name, password));
  const worker = users.get("grid-worker")!;
  let created = 0;
  for (const demo of demoCases(users.get("department")!.unitId)) {
    const id = stableId(`case:${demo.key}`);
    const res = await fetch(`${base}/v1/cases`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${worker.token}` },
      body: JSON.stringify({ id, ...demo.report }),
    });
    if (res.status === 200) continue;
    if (res.status !== 201) throw new Error(`demo case ${demo.key}: ${res.status} ${await res.text()}`);
    created++;
    // The server names the case (its id carries its desk); the client id only makes the report idempotent.
    const reported = (await res.json()) as { id: string; version: number };
    let version = reported.version;
    for (const step of demo.steps) {
      const r = await fetch(`${base}/v1/cases/${reported.id}/${step.action}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${users.get(step.user)!.token}`,
          "if-match": `"${version}"`,
        },
        body: JSON.stringify(step.body),
      });
      if (!r.ok) throw new Error(`demo case ${demo.key} ${step.action}: ${r.status} ${await r.text()}`);
      version = ((await r.json()) as { version: number }).version;
    }
  }
  return created;
}
