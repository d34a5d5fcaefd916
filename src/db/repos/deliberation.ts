import type { InStatement } from "@libsql/client/web";
import { and, asc, count, desc, eq, gte, inArray, isNull, lt, lte, or } from "drizzle-orm";
import type { SlaStep } from "../../domain/sla";
import { subtreeRange } from "../../domain/units";
import { getDb } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import {
  caseEvents,
  cases,
  deliberationFeedback,
  deliberationItems,
  deliberationMatters,
  deliberationMembers,
  deliberationNotices,
  deliberationObjections,
  deliberationRules,
  deliberationSessions,
  deliberationSteps,
  deliberationTaskEntries,
  deliberationTasks,
  households,
  residents,
  units,
  users,
} from "../schema";

export type MemberRow = typeof deliberationMembers.$inferSelect;
export type RulesRow = typeof deliberationRules.$inferSelect;
export type SessionRow = typeof deliberationSessions.$inferSelect;
export type MatterRow = typeof deliberationMatters.$inferSelect;
export type ItemRow = typeof deliberationItems.$inferSelect;
export type StepRow = typeof deliberationSteps.$inferSelect;
export type NoticeRow = typeof deliberationNotices.$inferSelect;
export type ObjectionRow = typeof deliberationObjections.$inferSelect;
export type TaskRow = typeof deliberationTasks.$inferSelect;
export type TaskEntryRow = typeof deliberationTaskEntries.$inferSelect;

/** The instant a China date ends (the next China midnight), as ISO text comparable with stored times. */
export function chinaDayEnd(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 16 * 3_600_000).toISOString();
}

/**
 * The registry's numbers for a village on a China date, in one round trip: households and residents
 * registered by its end, representatives and Party members whose term covers it. Residents are counted as
 * adults by birth year where the year settles it; those born in the boundary year are returned with their
 * sealed birth date, for the service to settle.
 */
export async function registryOn(env: Cloudflare.Env, village: { id: string; path: string }, date: string) {
  const db = getDb(env);
  const end = chinaDayEnd(date);
  const boundary = Number(date.slice(0, 4)) - 18;
  const [lo, hi] = subtreeRange(village.path);
  const inVillage = and(
    gte(residents.unitPath, lo),
    lt(residents.unitPath, hi),
    lt(residents.createdAt, end),
  );
  const member = (kind: "representative" | "party_member") =>
    db
      .select({ n: count() })
      .from(deliberationMembers)
      .where(
        and(
          eq(deliberationMembers.unitId, village.id),
          eq(deliberationMembers.kind, kind),
          lte(deliberationMembers.termStart, date),
          or(isNull(deliberationMembers.termEnd), gte(deliberationMembers.termEnd, date)),
        ),
      );
  const [hh, older, edge, reps, party] = await db.batch([
    db
      .select({ n: count() })
      .from(households)
      .where(and(eq(households.villageId, village.id), lt(households.createdAt, end))),
    db
      .select({ n: count() })
      .from(residents)
      .where(and(inVillage, lt(residents.birthYear, boundary))),
    db
      .select({
        id: residents.id,
        birthDate: residents.birthDateMasked,
        birthDateEnc: residents.birthDateEnc,
      })
      .from(residents)
      .where(and(inVillage, eq(residents.birthYear, boundary))),
    member("representative"),
    member("party_member"),
  ]);
  return {
    households: hh[0]?.n ?? 0,
    adultsByYear: older[0]?.n ?? 0,
    boundary: edge,
    representatives: reps[0]?.n ?? 0,
    partyMembers: party[0]?.n ?? 0,
  };
}

export function insertMember(env: Cloudflare.Env, row: MemberRow): InStatement {
  return stmt(getDb(env).insert(deliberationMembers).values(row));
}

/** The members of a village, optionally of one kind and serving on a date. */
export function membersOf(env: Cloudflare.Env, unitId: string, kind?: string, on?: string) {
  const m = deliberationMembers;
  return getDb(env)
    .select()
    .from(m)
    .where(
      and(
        eq(m.unitId, unitId),
        kind ? eq(m.kind, kind as MemberRow["kind"]) : undefined,
        on ? and(lte(m.termStart, on), or(isNull(m.termEnd), gte(m.termEnd, on))) : undefined,
      ),
    )
    .orderBy(asc(m.kind), asc(m.termStart), asc(m.id))
    .limit(500);
}

/** The units of users, by user id (unknown ids are absent). */
export async function userPaths(env: Cloudflare.Env, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await getDb(env)
    .select({ id: users.id, unitPath: users.unitPath })
    .from(users)
    .where(inArray(users.id, [...ids]));
  return new Map(rows.map((r) => [r.id, r.unitPath]));
}

/** Whether a resident lives in the subtree of `path`. */
export async function residentIn(env: Cloudflare.Env, residentId: string, path: string): Promise<boolean> {
  const [lo, hi] = subtreeRange(path);
  const rows = await getDb(env)
    .select({ id: residents.id })
    .from(residents)
    .where(and(eq(residents.id, residentId), gte(residents.unitPath, lo), lt(residents.unitPath, hi)));
  return rows.length > 0;
}

/** Which of the households lie in the subtree of `path`. */
export async function householdsIn(env: Cloudflare.Env, ids: readonly string[], path: string) {
  if (ids.length === 0) return new Set<string>();
  const [lo, hi] = subtreeRange(path);
  const rows = await getDb(env)
    .select({ id: households.id })
    .from(households)
    .where(and(inArray(households.id, [...ids]), gte(households.unitPath, lo), lt(households.unitPath, hi)));
  return new Set(rows.map((r) => r.id));
}

/** The own micro-power lists of a unit and its ancestors (by id). */
export function rulesOf(env: Cloudflare.Env, unitIds: readonly string[]) {
  return getDb(env)
    .select()
    .from(deliberationRules)
    .where(inArray(deliberationRules.unitId, [...unitIds]));
}

export function upsertRules(env: Cloudflare.Env, row: RulesRow): InStatement {
  return stmt(
    getDb(env)
      .insert(deliberationRules)
      .values(row)
      .onConflictDoUpdate({
        target: deliberationRules.unitId,
        set: {
          powerList: row.powerList,
          procedure: row.procedure,
          updatedBy: row.updatedBy,
          updatedAt: row.updatedAt,
        },
      }),
  );
}

export function insertSession(env: Cloudflare.Env, row: SessionRow): InStatement {
  return stmt(getDb(env).insert(deliberationSessions).values(row));
}

export async function sessionById(env: Cloudflare.Env, id: string): Promise<SessionRow | null> {
  const [row] = await getDb(env).select().from(deliberationSessions).where(eq(deliberationSessions.id, id));
  return row ?? null;
}

/** The projected state and closing time of cases, by id (the projection is a second or so behind its desks). */
export async function caseStates(
  env: Cloudflare.Env,
  ids: readonly string[],
): Promise<Map<string, { state: string; closedAt: string | null }>> {
  if (ids.length === 0) return new Map();
  const rows = await getDb(env)
    .select({ id: cases.id, state: cases.state, closedAt: cases.closedAt })
    .from(cases)
    .where(inArray(cases.id, [...ids]));
  return new Map(rows.map((r) => [r.id, { state: r.state, closedAt: r.closedAt }]));
}

/**
 * The events of a case that close or reopen it (`closed`, `reopened`, and a `return_visited` that reopened it),
 * from the projection, in order: a matter turned into a case follows them.
 */
export function caseTurns(env: Cloudflare.Env, caseId: string) {
  const e = caseEvents;
  return getDb(env)
    .select({ seq: e.seq, type: e.type, at: e.at, payload: e.payload })
    .from(e)
    .where(and(eq(e.caseId, caseId), inArray(e.type, ["closed", "reopened", "return_visited"])))
    .orderBy(asc(e.seq));
}

/** The states of agenda items by id (a matter on the agenda closes with its item's published result). */
export async function itemStates(env: Cloudflare.Env, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await getDb(env)
    .select({ id: deliberationItems.id, state: deliberationItems.state })
    .from(deliberationItems)
    .where(inArray(deliberationItems.id, [...ids]));
  return new Map(rows.map((r) => [r.id, r.state]));
}

export function insertMatter(env: Cloudflare.Env, row: MatterRow): InStatement {
  return stmt(getDb(env).insert(deliberationMatters).values(row));
}

export async function matterById(env: Cloudflare.Env, id: string): Promise<MatterRow | null> {
  const [row] = await getDb(env).select().from(deliberationMatters).where(eq(deliberationMatters.id, id));
  return row ?? null;
}

/** A resident account's own matters, newest first, `limit` rows after the cursor position. */
export function mattersOfAccount(
  env: Cloudflare.Env,
  accountId: string,
  limit: number,
  after: [string, string] | null,
) {
  const m = deliberationMatters;
  return getDb(env)
    .select()
    .from(m)
    .where(
      and(
        eq(m.raisedByAccountId, accountId),
        after ? or(lt(m.raisedAt, after[0]), and(eq(m.raisedAt, after[0]), lt(m.id, after[1]))) : undefined,
      ),
    )
    .orderBy(desc(m.raisedAt), desc(m.id))
    .limit(limit);
}

export function mattersOfSession(env: Cloudflare.Env, sessionId: string) {
  const m = deliberationMatters;
  return getDb(env).select().from(m).where(eq(m.sessionId, sessionId)).orderBy(asc(m.raisedAt), asc(m.id));
}

/** The statement that triages a matter once: it changes nothing when the matter already has an outcome. */
export function triageStatement(
  env: Cloudflare.Env,
  id: string,
  set: Pick<
    MatterRow,
    "outcome" | "outcomeBy" | "outcomeAt" | "answer" | "caseId" | "caseOwnerId" | "itemId"
  >,
): InStatement {
  const m = deliberationMatters;
  return stmt(
    getDb(env)
      .update(m)
      .set(set)
      .where(and(eq(m.id, id), isNull(m.outcome))),
  );
}

export function insertItem(env: Cloudflare.Env, row: ItemRow): InStatement {
  return stmt(getDb(env).insert(deliberationItems).values(row));
}

export async function itemById(env: Cloudflare.Env, id: string): Promise<ItemRow | null> {
  const [row] = await getDb(env).select().from(deliberationItems).where(eq(deliberationItems.id, id));
  return row ?? null;
}

/** The statement that changes an item at the version it was read at (the guard of every item write). */
export function updateItem(
  env: Cloudflare.Env,
  item: ItemRow,
  set: Partial<Omit<ItemRow, "id" | "version">>,
): InStatement {
  const i = deliberationItems;
  return stmt(
    getDb(env)
      .update(i)
      .set({ ...set, version: item.version + 1 })
      .where(and(eq(i.id, item.id), eq(i.version, item.version))),
  );
}

/** Everything an item shows, in one round trip. */
export async function itemRecord(env: Cloudflare.Env, itemId: string) {
  const db = getDb(env);
  const [steps, notices, objections, tasks, entries, feedback] = await db.batch([
    db
      .select()
      .from(deliberationSteps)
      .where(eq(deliberationSteps.itemId, itemId))
      .orderBy(asc(deliberationSteps.recordedAt), asc(deliberationSteps.id)),
    db
      .select()
      .from(deliberationNotices)
      .where(eq(deliberationNotices.itemId, itemId))
      .orderBy(asc(deliberationNotices.publishedAt)),
    db
      .select()
      .from(deliberationObjections)
      .where(eq(deliberationObjections.itemId, itemId))
      .orderBy(asc(deliberationObjections.raisedAt)),
    db
      .select()
      .from(deliberationTasks)
      .where(eq(deliberationTasks.itemId, itemId))
      .orderBy(asc(deliberationTasks.createdAt), asc(deliberationTasks.id)),
    db
      .select({ entry: deliberationTaskEntries })
      .from(deliberationTaskEntries)
      .innerJoin(deliberationTasks, eq(deliberationTasks.id, deliberationTaskEntries.taskId))
      .where(eq(deliberationTasks.itemId, itemId))
      .orderBy(asc(deliberationTaskEntries.at), asc(deliberationTaskEntries.id)),
    db
      .select({ satisfaction: deliberationFeedback.satisfaction, n: count() })
      .from(deliberationFeedback)
      .where(eq(deliberationFeedback.itemId, itemId))
      .groupBy(deliberationFeedback.satisfaction),
  ]);
  return { steps, notices, objections, tasks, entries: entries.map((e) => e.entry), feedback };
}

export function insertStep(env: Cloudflare.Env, row: StepRow): InStatement {
  return stmt(getDb(env).insert(deliberationSteps).values(row));
}

/** The statement that voids an item's steps from `steps` on (an upheld objection sends the item back). */
export function voidSteps(env: Cloudflare.Env, itemId: string, steps: readonly string[]): InStatement {
  const s = deliberationSteps;
  return stmt(
    getDb(env)
      .update(s)
      .set({ voided: true })
      .where(and(eq(s.itemId, itemId), inArray(s.step, steps as StepRow["step"][]))),
  );
}

export function insertNotice(env: Cloudflare.Env, row: NoticeRow): InStatement {
  return stmt(getDb(env).insert(deliberationNotices).values(row));
}

export async function noticeById(env: Cloudflare.Env, id: string): Promise<NoticeRow | null> {
  const [row] = await getDb(env).select().from(deliberationNotices).where(eq(deliberationNotices.id, id));
  return row ?? null;
}

export function withdrawNotices(env: Cloudflare.Env, itemId: string, at: string): InStatement {
  const n = deliberationNotices;
  return stmt(
    getDb(env)
      .update(n)
      .set({ withdrawnAt: at })
      .where(and(eq(n.itemId, itemId), eq(n.kind, "resolution"), isNull(n.withdrawnAt))),
  );
}

export function insertObjection(env: Cloudflare.Env, row: ObjectionRow): InStatement {
  return stmt(getDb(env).insert(deliberationObjections).values(row));
}

export async function objectionById(env: Cloudflare.Env, id: string): Promise<ObjectionRow | null> {
  const [row] = await getDb(env)
    .select()
    .from(deliberationObjections)
    .where(eq(deliberationObjections.id, id));
  return row ?? null;
}

/** The statement that answers an open objection (nothing when it was already answered). */
export function answerObjectionStatement(
  env: Cloudflare.Env,
  id: string,
  set: Pick<ObjectionRow, "state" | "answer" | "backTo" | "answeredAt">,
): InStatement {
  const o = deliberationObjections;
  return stmt(
    getDb(env)
      .update(o)
      .set(set)
      .where(and(eq(o.id, id), eq(o.state, "open"))),
  );
}

export function insertTask(env: Cloudflare.Env, row: TaskRow): InStatement {
  return stmt(getDb(env).insert(deliberationTasks).values(row));
}

export async function taskById(env: Cloudflare.Env, id: string): Promise<TaskRow | null> {
  const [row] = await getDb(env).select().from(deliberationTasks).where(eq(deliberationTasks.id, id));
  return row ?? null;
}

/** The statement that records progress at the version the task was read at. */
export function progressStatement(
  env: Cloudflare.Env,
  task: TaskRow,
  progress: number,
  doneOn: string | null,
): InStatement {
  const t = deliberationTasks;
  return stmt(
    getDb(env)
      .update(t)
      // A done task's clock stops: the cron no longer looks at it.
      .set({ progress, doneOn, version: task.version + 1, ...(doneOn ? { nextStepAt: null } : {}) })
      .where(and(eq(t.id, task.id), eq(t.version, task.version))),
  );
}

export function insertTaskEntry(env: Cloudflare.Env, row: TaskEntryRow): InStatement {
  return stmt(getDb(env).insert(deliberationTaskEntries).values(row));
}

/** The statement that records one person's satisfaction with an item; a repeat changes it. */
export function upsertFeedback(
  env: Cloudflare.Env,
  row: typeof deliberationFeedback.$inferInsert,
): InStatement {
  return stmt(
    getDb(env)
      .insert(deliberationFeedback)
      .values(row)
      .onConflictDoUpdate({
        target: [deliberationFeedback.itemId, deliberationFeedback.byUserId],
        set: { satisfaction: row.satisfaction, at: row.at },
      }),
  );
}

/**
 * The public board of a village: its notices (newest first, withdrawn ones left out) with their item's
 * title and state, and the counts of the item's passing resolution. Only these columns: nothing personal.
 */
export async function boardOf(env: Cloudflare.Env, unitId: string) {
  const db = getDb(env);
  const n = deliberationNotices;
  const i = deliberationItems;
  const [unit, notices] = await db.batch([
    db.select({ id: units.id, name: units.name, level: units.level }).from(units).where(eq(units.id, unitId)),
    db
      .select({
        id: n.id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        publishedOn: n.publishedOn,
        endsOn: n.endsOn,
        publishedAt: n.publishedAt,
        itemId: i.id,
        itemTitle: i.title,
        itemState: i.state,
      })
      .from(n)
      .innerJoin(i, eq(i.id, n.itemId))
      .where(and(eq(n.unitId, unitId), isNull(n.withdrawnAt)))
      .orderBy(desc(n.publishedAt), asc(n.id))
      .limit(100),
  ]);
  const itemIds = [...new Set(notices.map((r) => r.itemId))];
  const votes = itemIds.length
    ? await db
        .select({
          itemId: deliberationSteps.itemId,
          meeting: deliberationSteps.meeting,
          heldOn: deliberationSteps.heldOn,
          present: deliberationSteps.present,
          for: deliberationSteps.votesFor,
          against: deliberationSteps.votesAgainst,
          abstain: deliberationSteps.votesAbstain,
        })
        .from(deliberationSteps)
        .where(
          and(
            inArray(deliberationSteps.itemId, itemIds),
            eq(deliberationSteps.step, "resolution"),
            eq(deliberationSteps.passed, true),
            eq(deliberationSteps.voided, false),
          ),
        )
    : [];
  return { unit: unit[0] ?? null, notices, votes };
}

/** Counts and dates of a subtree's deliberation in a period (ISO instants, `from` inclusive, `to` exclusive). */
export async function figuresIn(env: Cloudflare.Env, path: string, from: string, to: string) {
  const db = getDb(env);
  const [lo, hi] = subtreeRange(path);
  const s = deliberationSessions;
  const m = deliberationMatters;
  const i = deliberationItems;
  const t = deliberationTasks;
  const f = deliberationFeedback;
  const [sessions, matters, items, tasks, feedback] = await db.batch([
    db
      .select({ kind: s.kind, n: count() })
      .from(s)
      .where(and(gte(s.unitPath, lo), lt(s.unitPath, hi), gte(s.heldAt, from), lt(s.heldAt, to)))
      .groupBy(s.kind),
    db
      .select({ outcome: m.outcome, n: count() })
      .from(m)
      .where(and(gte(m.unitPath, lo), lt(m.unitPath, hi), gte(m.raisedAt, from), lt(m.raisedAt, to)))
      .groupBy(m.outcome),
    db
      .select({
        proposedOn: i.proposedOn,
        resolvedOn: i.resolvedOn,
        decidedOn: i.decidedOn,
        resultOn: i.resultOn,
      })
      .from(i)
      .where(and(gte(i.unitPath, lo), lt(i.unitPath, hi), gte(i.createdAt, from), lt(i.createdAt, to))),
    db
      .select({ dueOn: t.dueOn, doneOn: t.doneOn })
      .from(t)
      .innerJoin(i, eq(i.id, t.itemId))
      .where(and(gte(t.unitPath, lo), lt(t.unitPath, hi), gte(i.createdAt, from), lt(i.createdAt, to))),
    db
      .select({ satisfaction: f.satisfaction, n: count() })
      .from(f)
      .where(and(gte(f.unitPath, lo), lt(f.unitPath, hi), gte(f.at, from), lt(f.at, to)))
      .groupBy(f.satisfaction),
  ]);
  return { sessions, matters, items, tasks, feedback };
}

/**
 * Open tasks whose clock needs a look by `now` (an index range over `next_step_at`), earliest first, with their
 * item's title and the unit of their owner (the owning unit, or the owning user's unit).
 */
export function tasksWithStepsDue(env: Cloudflare.Env, now: string, limit: number) {
  const t = deliberationTasks;
  return getDb(env)
    .select({
      task: t,
      itemTitle: deliberationItems.title,
      ownerUserUnit: { id: users.unitId, path: users.unitPath },
      ownerUnit: { id: units.id, path: units.path },
    })
    .from(t)
    .innerJoin(deliberationItems, eq(deliberationItems.id, t.itemId))
    .leftJoin(users, eq(users.id, t.ownerUserId))
    .leftJoin(units, eq(units.id, t.ownerUnitId))
    .where(and(lte(t.nextStepAt, now), isNull(t.doneOn)))
    .orderBy(asc(t.nextStepAt))
    .limit(limit);
}

/**
 * The statement that records a task's last step and next look, only if no other tick recorded a step since it
 * was read (`sla_step` unchanged) and the task is still open.
 */
export function taskStepStatement(
  env: Cloudflare.Env,
  task: TaskRow,
  last: SlaStep | null,
  nextStepAt: string | null,
): InStatement {
  const t = deliberationTasks;
  return stmt(
    getDb(env)
      .update(t)
      .set({
        slaStep: last,
        nextStepAt,
        overdueNotified: last === "overdue" || last === "escalate",
      })
      .where(
        and(
          eq(t.id, task.id),
          isNull(t.doneOn),
          task.slaStep === null ? isNull(t.slaStep) : eq(t.slaStep, task.slaStep),
        ),
      ),
  );
}

/** Writes tasks' inbox items (INSERT OR IGNORE by dedupe key) and their recorded steps, in one batch. */
export async function commitTaskSteps(env: Cloudflare.Env, statements: InStatement[]): Promise<void> {
  if (statements.length) await getDb(env).$client.batch(statements, "write");
}
