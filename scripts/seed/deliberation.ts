/**
 * Demo deliberation (两说一商) in 张岭社区: representatives and Party members with terms, a policy briefing,
 * an open talk and a consultation, matters in every outcome (answered, declined, a case — the demo street
 * light — and two agenda items), one item mid-procedure (proposal and discussion passed) and one carried
 * through all four steps, made public, done and its result published with satisfaction. A third item
 * (安装二组村道太阳能路灯) passed all four steps and its resolution notice was published eleven days before the
 * first run, so its seven-day notice period is over: the README's walk-through decides it and carries it to a
 * published result without waiting a week. Idempotent: stable ids and INSERT OR IGNORE; dates are counted
 * back from the first run.
 */
import type { Client, InStatement } from "@libsql/client/web";
import { caseIdFor } from "../../src/domain/case-id";
import { chinaDate } from "../../src/domain/china-time";
import { DEFAULT_POWER_LIST, noticeEndsOn, procedureOf } from "../../src/domain/deliberation";
import type { DemoTree } from "./demo";
import { stableId } from "./ids";

const DAY = 86_400_000;

function insert(table: string, row: Record<string, unknown>): InStatement {
  const columns = Object.keys(row);
  return {
    sql: `INSERT OR IGNORE INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
    args: Object.values(row) as Array<string | number | null>,
  };
}

/** Seeds the demo village's deliberation. */
export async function seedDeliberation(client: Client, tree: DemoTree): Promise<void> {
  const village = tree.villages[0]!;
  const grid = tree.grids[0]!;
  const staff = stableId("user:center-village");
  const party = stableId("user:party-member");
  const lead = stableId("user:household-lead");
  const now = Date.now();
  const at = (daysAgo: number) => new Date(now - daysAgo * DAY).toISOString();
  const on = (daysAgo: number) => chinaDate(now - daysAgo * DAY);
  const id = (name: string) => stableId(`deliberation:${name}`);
  const counts = await client.execute({
    sql: `SELECT (SELECT count(*) FROM households WHERE village_id = ?) AS households,
                 (SELECT count(*) FROM residents WHERE unit_path LIKE ? AND birth_year < ?) AS adults`,
    args: [village.id, `${village.path}%`, Number(on(0).slice(0, 4)) - 18],
  });
  const eligible = JSON.stringify({
    adults: Number(counts.rows[0]?.adults ?? 0),
    households: Number(counts.rows[0]?.households ?? 0),
    representatives: 5,
    partyMembers: 3,
  });
  const s: InStatement[] = [];
  const member = (kind: string, name: string, i: number) =>
    s.push(
      insert("deliberation_members", {
        id: id(`member:${kind}:${i}`),
        unit_id: village.id,
        unit_path: village.path,
        kind,
        name,
        term_start: "2024-01-01",
        term_end: "2028-12-31",
        created_by: staff,
        created_at: at(300),
      }),
    );
  for (const [i, n] of ["张德厚", "王秀兰", "李春生", "赵桂芳", "陈有福"].entries())
    member("representative", n, i);
  for (const [i, n] of ["李明", "周建国", "吴玉梅"].entries()) member("party_member", n, i);

  const session = (key: string, kind: string, title: string, daysAgo: number, minutes: string) =>
    s.push(
      insert("deliberation_sessions", {
        id: id(`session:${key}`),
        unit_id: village.id,
        unit_path: village.path,
        kind,
        title,
        held_at: at(daysAgo),
        place: "张岭社区党群服务中心",
        host_id: staff,
        topics: JSON.stringify(kind === "policy_briefing" ? ["城乡居民医保缴费政策", "防汛避险常识"] : []),
        attendee_user_ids: JSON.stringify([party, lead]),
        attendee_household_ids: "[]",
        unregistered_count: 23,
        minutes,
        created_by: staff,
        created_at: at(daysAgo),
      }),
    );
  session("briefing", "policy_briefing", "医保政策宣讲会", 70, "讲解2026年城乡居民医保缴费标准与报销比例");
  session("talk", "open_talk", "二季度说事会", 60, "群众反映闲置仓库、文化广场、路灯等事项");
  session("consultation", "consultation", "村民代表会议", 45, "表决闲置仓库出租方案");

  const matter = (key: string, summary: string, outcome: string, extra: Record<string, unknown>) =>
    s.push(
      insert("deliberation_matters", {
        id: id(`matter:${key}`),
        unit_id: village.id,
        unit_path: village.path,
        session_id: id("session:talk"),
        summary,
        raised_by_name: "刘强代群众反映",
        raised_by_user_id: lead,
        raised_at: at(60),
        outcome,
        outcome_by: staff,
        outcome_at: at(59),
        ...extra,
      }),
    );
  matter("insurance", "老人住院医保报销比例是多少？", "answered", {
    answer: "乡镇卫生院住院报销85%，县级医院75%",
  });
  matter("bonus", "要求村里给每户发放过节费", "declined", {
    answer: "不属于村集体经费开支范围，已向群众说明",
  });
  matter("streetlight", "村委会门前路灯不亮", "case", {
    case_id: caseIdFor(grid.id, stableId("case:streetlight")),
    case_owner_id: grid.id,
  });
  matter("warehouse", "村口闲置仓库长期无人使用，建议出租", "agenda", { item_id: id("item:warehouse") });
  matter("plaza", "文化广场地面破损，建议修缮", "agenda", { item_id: id("item:plaza") });
  matter("lamps", "二组村道没有路灯，夜间出行不便", "agenda", { item_id: id("item:lamps") });

  const listed = (kind: string) => DEFAULT_POWER_LIST.find((k) => k.kind === kind)!;
  const item = (
    key: string,
    title: string,
    kind: string,
    amount: number | null,
    state: string,
    dates: Record<string, string | null>,
  ) =>
    s.push(
      insert("deliberation_items", {
        id: id(`item:${key}`),
        unit_id: village.id,
        unit_path: village.path,
        matter_id: id(`matter:${key}`),
        title,
        kind,
        amount_yuan: amount,
        state,
        procedure: JSON.stringify({ ...procedureOf(listed(kind)), listed: kind }),
        version: 1,
        created_by: staff,
        created_at: at(59),
        ...dates,
      }),
    );
  item("warehouse", "村集体闲置仓库出租", "collective_asset_disposal", 20_000, "result_published", {
    proposed_on: on(55),
    resolved_on: on(45),
    decided_on: on(36),
    result_on: on(5),
    result_summary: "仓库已公开招租，年租金两万元入村集体账户",
  });
  item("plaza", "修缮文化广场", "construction_project", 80_000, "open", { proposed_on: on(20) });
  item("lamps", "安装二组村道太阳能路灯", "construction_project", 60_000, "resolved", {
    proposed_on: on(30),
    resolved_on: on(12),
  });

  const step = (
    key: string,
    n: number,
    stepName: string,
    meeting: string,
    daysAgo: number,
    present: number,
    forVotes: number,
  ) =>
    s.push(
      insert("deliberation_steps", {
        id: id(`step:${key}:${n}`),
        item_id: id(`item:${key}`),
        step: stepName,
        meeting,
        session_id: meeting === "representatives_meeting" ? id("session:consultation") : null,
        held_on: on(daysAgo),
        present,
        households: null,
        eligible,
        votes_for: forVotes,
        votes_against: present - forVotes,
        votes_abstain: 0,
        quorate: 1,
        passed: 1,
        voided: 0,
        recorded_by: staff,
        recorded_at: at(daysAgo),
      }),
    );
  step("warehouse", 1, "proposal", "party_committee", 55, 3, 3);
  step("warehouse", 2, "discussion", "two_committees", 52, 7, 7);
  step("warehouse", 3, "review", "party_members_meeting", 49, 3, 3);
  step("warehouse", 4, "resolution", "representatives_meeting", 45, 5, 4);
  step("plaza", 1, "proposal", "party_committee", 20, 3, 3);
  step("plaza", 2, "discussion", "two_committees", 15, 7, 6);
  step("lamps", 1, "proposal", "party_committee", 30, 3, 3);
  step("lamps", 2, "discussion", "two_committees", 25, 7, 7);
  step("lamps", 3, "review", "party_members_meeting", 18, 3, 3);
  step("lamps", 4, "resolution", "representatives_meeting", 12, 5, 5);

  const notice = (
    key: string,
    kind: string,
    title: string,
    body: string,
    daysAgo: number,
    item = "warehouse",
  ) =>
    s.push(
      insert("deliberation_notices", {
        id: id(`notice:${key}`),
        item_id: id(`item:${item}`),
        unit_id: village.id,
        unit_path: village.path,
        kind,
        title,
        body,
        published_on: on(daysAgo),
        ends_on: noticeEndsOn(on(daysAgo), 7),
        published_at: at(daysAgo),
      }),
    );
  notice(
    "resolution",
    "resolution",
    "关于村集体闲置仓库出租的决议公示",
    "经村民代表会议表决通过，村口仓库公开招租，租期三年。",
    44,
  );
  notice(
    "result",
    "result",
    "村集体闲置仓库出租实施结果公开",
    "仓库已公开招租，年租金两万元入村集体账户。",
    5,
  );
  notice(
    "lamps",
    "resolution",
    "关于安装二组村道太阳能路灯的决议公示",
    "经村民代表会议表决通过，在二组村道安装太阳能路灯24盏，预算6万元。",
    11,
    "lamps",
  );
  s.push(
    insert("deliberation_tasks", {
      id: id("task:warehouse"),
      item_id: id("item:warehouse"),
      unit_id: village.id,
      unit_path: village.path,
      title: "公开招租并签订租赁合同",
      owner_user_id: staff,
      due_on: on(10),
      progress: 100,
      done_on: on(12),
      version: 3,
      created_at: at(44),
    }),
    insert("deliberation_task_entries", {
      id: id("entry:warehouse:1"),
      task_id: id("task:warehouse"),
      progress: 50,
      note: "已发布招租公告",
      by_user_id: staff,
      at: at(30),
    }),
    insert("deliberation_task_entries", {
      id: id("entry:warehouse:2"),
      task_id: id("task:warehouse"),
      progress: 100,
      note: "租赁合同已签订",
      by_user_id: staff,
      at: at(12),
    }),
    insert("deliberation_feedback", {
      id: id("feedback:warehouse"),
      item_id: id("item:warehouse"),
      unit_path: village.path,
      satisfaction: "satisfied",
      by_user_id: party,
      at: at(4),
    }),
  );
  await client.batch(s, "write");
}
