import type { InStatement } from "@libsql/client/web";
import writeXlsxFile from "write-excel-file/universal";
import {
  type BulletinCentre,
  type BulletinRow,
  bulletinCentre,
  bulletinId,
  bulletinsOfUnit,
  bulletinVersions,
  centresWithoutBulletin,
  findBulletin,
  insertBulletinStatement,
  insertNextVersionStatement,
  latestBulletin,
  type OpenCaseLine,
  oldestOpenCases,
  settingsOf,
} from "../db/repos/bulletins";
import { insertInboxItemStatement } from "../db/repos/inbox";
import { offerWebhookOutbox, type WebhookEvent, webhookOutboxStatement } from "../db/repos/webhooks";
import {
  BULLETIN_KINDS,
  BULLETIN_LEVELS,
  type BulletinKind,
  type BulletinTargets,
  belowTarget,
  csvField,
  inheritedTargets,
  lastCompletePeriod,
  periodStartingOn,
  TARGET_KEYS,
} from "../domain/bulletins";
import { type CaseFigures, type DayPeriod, previousPeriod } from "../domain/case-figures";
import { pathIds, type UnitLevel } from "../domain/units";
import type { Principal } from "../env";
import { type AuditEntry, GuardFailed, writeAudited } from "../platform/db/audit";
import { type Db, getDb } from "../platform/db/client";
import { assertInScope } from "../platform/http/auth";
import { problems } from "../platform/http/problem";
import { type Caller, unitInScope } from "./caller";
import { changeOf, childLeague, type LeagueRow, unitFigures } from "./figures";

/** What a bulletin says: headline figures, their change, the children below target, the oldest open cases. */
export interface BulletinContent {
  unit: { id: string; name: string; level: UnitLevel };
  kind: BulletinKind;
  from: string;
  to: string;
  previousFrom: string;
  previousTo: string;
  targets: BulletinTargets;
  headline: CaseFigures;
  previous: CaseFigures;
  change: LeagueRow["change"];
  belowTarget: Array<{
    unitId: string;
    name: string;
    level: UnitLevel;
    closureRate: number | null;
    onTimeRate: number | null;
    overdue: number;
    reasons: string[];
  }>;
  oldestOpen: OpenCaseLine[];
}

/** Open cases a bulletin lists. */
const OLDEST_OPEN = 10;

/** Builds the content of one centre's bulletin for a period (no personal data: counts, unit names, case titles). */
export async function buildBulletin(
  db: Db,
  centre: BulletinCentre,
  kind: BulletinKind,
  period: DayPeriod,
): Promise<BulletinContent> {
  const ids = pathIds(centre.path);
  const [own, children, settings, oldestOpen] = await Promise.all([
    unitFigures(db, centre.id, period),
    childLeague(db, centre.id, period),
    settingsOf(db, ids, Object.values(TARGET_KEYS)),
    oldestOpenCases(db, centre.path, OLDEST_OPEN),
  ]);
  const targets = inheritedTargets(ids, settings);
  const before = previousPeriod(period);
  return {
    unit: { id: centre.id, name: centre.name, level: centre.level },
    kind,
    ...period,
    previousFrom: before.from,
    previousTo: before.to,
    targets,
    headline: own.figures,
    previous: own.previous,
    change: changeOf(own.figures, own.previous),
    belowTarget: children
      .map((c) => ({
        unitId: c.unitId,
        name: c.name,
        level: c.level,
        closureRate: c.figures.closureRate,
        onTimeRate: c.figures.onTimeRate,
        overdue: c.figures.overdue,
        reasons: belowTarget(c.figures, targets),
      }))
      .filter((c) => c.reasons.length > 0),
    oldestOpen,
  };
}

/**
 * The cron's bulletins: for the last complete week and month, every town, county and city centre without
 * one gets version 1 (at most `limit` per kind per run, the rest on the next tick). Each is written with its
 * inbox item and webhook offer in one batch; the unique (unit, kind, period, version) key makes a second run
 * for the same period, or two runs at once, a no-op, and only the run whose insert took place sends the offer.
 * `scopePath` limits a run to one subtree, `kinds` to some kinds. Returns how many bulletins this run published.
 */
export async function publishDueBulletins(
  env: Cloudflare.Env,
  now: number,
  options: { limit?: number; scopePath?: string; kinds?: readonly BulletinKind[] } = {},
): Promise<number> {
  const db = getDb(env);
  let published = 0;
  for (const kind of options.kinds ?? BULLETIN_KINDS) {
    const period = lastCompletePeriod(kind, now);
    const centres = await centresWithoutBulletin(
      db,
      BULLETIN_LEVELS,
      kind,
      period.from,
      options.limit ?? 200,
      options.scopePath ?? "/",
    );
    for (const centre of centres) {
      if (await publishBulletin(env, db, centre, kind, period, 1, now)) published++;
    }
  }
  return published;
}

/** The cron's audit actor: no user, role `system` (as the other cron-written audit rows). */
const SYSTEM_ACTOR = { actorId: null, actorRole: "system", requestId: null } as const;

/** A stored bulletin version's delivery: its inbox item for the centre and its `bulletin.published` offer. */
async function deliveryOf(
  db: Db,
  centre: BulletinCentre,
  row: Pick<BulletinRow, "id" | "periodKind" | "periodFrom" | "periodTo" | "version">,
  content: BulletinContent,
  now: number,
): Promise<{ statements: InStatement[]; hook: WebhookEvent }> {
  const at = new Date(now).toISOString();
  const summary = {
    bulletinId: row.id,
    kind: row.periodKind,
    from: row.periodFrom,
    to: row.periodTo,
    version: row.version,
    reported: content.headline.reported,
    closureRate: content.headline.closureRate,
    onTimeRate: content.headline.onTimeRate,
    belowTarget: content.belowTarget.length,
  };
  const hook: WebhookEvent = {
    id: `bulletin:${row.id}`,
    kind: "bulletin.published",
    at,
    unitPath: centre.path,
    caseId: null,
    data: { unitId: centre.id, ...summary },
  };
  const inbox = await insertInboxItemStatement({
    unitId: centre.id,
    unitPath: centre.path,
    kind: "bulletin",
    caseId: null,
    dedupeKey: `bulletin:${row.id}`,
    payload: summary,
    createdAt: at,
  });
  return { statements: [inbox, webhookOutboxStatement(db, hook, now)], hook };
}

/** The audit entry of a stored bulletin version. */
function bulletinAudit(
  actor: Pick<AuditEntry, "actorId" | "actorRole" | "requestId">,
  action: "bulletin.generate" | "bulletin.regenerate",
  centre: BulletinCentre,
  row: Pick<BulletinRow, "id" | "periodKind" | "periodFrom" | "periodTo" | "version">,
): AuditEntry {
  return {
    ...actor,
    scopePath: centre.path,
    action,
    objectType: "bulletin",
    objectId: row.id,
    outcome: "success",
    detail: {
      unitId: centre.id,
      kind: row.periodKind,
      from: row.periodFrom,
      to: row.periodTo,
      version: row.version,
    },
  };
}

/**
 * Stores version 1 of a period's bulletin with its inbox item, webhook offer and a system audit row in one
 * batch; false when it already existed (the insert's unique key refused it, and the batch kept nothing).
 */
async function publishBulletin(
  env: Cloudflare.Env,
  db: Db,
  centre: BulletinCentre,
  kind: BulletinKind,
  period: DayPeriod,
  version: number,
  now: number,
): Promise<boolean> {
  const content = await buildBulletin(db, centre, kind, period);
  const id = await bulletinId(centre.id, kind, period.from, version);
  const row: BulletinRow = {
    id,
    unitId: centre.id,
    unitPath: centre.path,
    periodKind: kind,
    periodFrom: period.from,
    periodTo: period.to,
    version,
    content: JSON.stringify(content),
    generatedAt: new Date(now).toISOString(),
  };
  const delivery = await deliveryOf(db, centre, row, content, now);
  try {
    await writeAudited(
      db,
      [insertBulletinStatement(db, row), ...delivery.statements],
      [bulletinAudit(SYSTEM_ACTOR, "bulletin.generate", centre, row)],
      { mustChange: [0] },
    );
  } catch (error) {
    if (error instanceof GuardFailed) return false;
    throw error;
  }
  await offerWebhookOutbox(env, db, [delivery.hook], now);
  return true;
}

/** 400 unless the unit is a centre that issues bulletins. */
function assertIssuesBulletins(level: UnitLevel): void {
  if (!BULLETIN_LEVELS.includes(level)) {
    throw problems.badRequest("Bulletins are issued by the town, county and city centres", [
      { path: "params.id", message: `a ${level} issues no bulletins` },
    ]);
  }
}

/** A page of a centre's bulletins in the caller's subtree, newest period first. */
export async function bulletinsOf(
  env: Cloudflare.Env,
  principal: Principal,
  unitId: string,
  kind: BulletinKind | null,
  after: readonly [string, string] | null,
  limit: number,
): Promise<BulletinRow[]> {
  const unit = await unitInScope(env, principal, unitId);
  assertIssuesBulletins(unit.level);
  return bulletinsOfUnit(getDb(env), unitId, kind, after, limit);
}

/** One bulletin in the caller's subtree (404 outside it), with its content. */
export async function bulletinOf(
  env: Cloudflare.Env,
  principal: Principal,
  id: string,
): Promise<{ row: BulletinRow; content: BulletinContent }> {
  const row = await findBulletin(getDb(env), id);
  assertInScope(principal, row?.unitPath, "bulletin");
  return { row: row!, content: JSON.parse(row!.content) as BulletinContent };
}

/** A regeneration's outcome: the period's latest version, and whether this call stored it. */
export interface Regeneration {
  row: BulletinRow;
  created: boolean;
}

/** The centre issuing bulletins and the period starting `from`, in the caller's subtree; 404 or 400 otherwise. */
async function centrePeriod(
  env: Cloudflare.Env,
  principal: Principal,
  unitId: string,
  kind: BulletinKind,
  from: string,
): Promise<{ centre: BulletinCentre; period: DayPeriod }> {
  const centre = await bulletinCentre(getDb(env), unitId);
  assertInScope(principal, centre?.path, "unit");
  assertIssuesBulletins(centre!.level);
  const period = periodStartingOn(kind, from);
  if (typeof period === "string") {
    throw problems.badRequest(`Bad period: from ${period}`, [{ path: "params.from", message: period }]);
  }
  return { centre: centre!, period };
}

/**
 * Regenerates a centre's bulletin of a period from the figures as they are now (after late events or a rebuilt
 * roll-up). When the content equals the latest version's, nothing is written and that version is answered;
 * otherwise the next version is stored, audited and delivered again (inbox and `bulletin.published`). 404 when
 * the period has no bulletin yet (the cron writes version 1), or the unit is outside the caller's subtree.
 */
export async function regenerateBulletin(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  kind: BulletinKind,
  from: string,
  now: number,
): Promise<Regeneration> {
  const { centre, period } = await centrePeriod(env, caller.principal, unitId, kind, from);
  const db = getDb(env);
  const latest = await latestBulletin(db, centre.id, kind, period.from);
  if (!latest) throw problems.notFound("bulletin of this period");
  const content = await buildBulletin(db, centre, kind, period);
  return storeRegeneration(env, caller, centre, latest, content, now);
}

/**
 * Stores `content` as the version after `latest` unless it says the same. The insert is guarded by `latest`
 * itself (its version, its content) and by the unique version key, so of two regenerations that read the same
 * latest version exactly one stores the next; the other answers the stored one when it says the same, and a
 * 409 `bulletin-regenerated` when it does not (its figures were read before the winner's, so it is stale).
 */
export async function storeRegeneration(
  env: Cloudflare.Env,
  caller: Caller,
  centre: BulletinCentre,
  latest: BulletinRow,
  content: BulletinContent,
  now: number,
): Promise<Regeneration> {
  const text = JSON.stringify(content);
  if (text === latest.content) return { row: latest, created: false };
  const db = getDb(env);
  const version = latest.version + 1;
  const row: BulletinRow = {
    ...latest,
    id: await bulletinId(centre.id, latest.periodKind, latest.periodFrom, version),
    unitPath: centre.path,
    version,
    content: text,
    generatedAt: new Date(now).toISOString(),
  };
  const delivery = await deliveryOf(db, centre, row, content, now);
  try {
    await writeAudited(
      db,
      [insertNextVersionStatement(latest, row), ...delivery.statements],
      [
        bulletinAudit(
          { actorId: caller.principal.userId, actorRole: caller.principal.role, requestId: caller.requestId },
          "bulletin.regenerate",
          centre,
          row,
        ),
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
    const stored = await latestBulletin(db, centre.id, latest.periodKind, latest.periodFrom);
    if (stored && stored.content === text) return { row: stored, created: false };
    const winner = stored?.version ?? version;
    throw problems.conflict(
      "bulletin-regenerated",
      `Version ${winner} of this bulletin was stored by another regeneration meanwhile; regenerate again`,
      { version: winner },
    );
  }
  await offerWebhookOutbox(env, db, [delivery.hook], now);
  return { row, created: true };
}

/** A page of the versions of a centre's bulletin of a period, newest first; 404 when the period has none. */
export async function bulletinVersionsOf(
  env: Cloudflare.Env,
  principal: Principal,
  unitId: string,
  kind: BulletinKind,
  from: string,
  before: number | null,
  limit: number,
): Promise<BulletinRow[]> {
  const { centre, period } = await centrePeriod(env, principal, unitId, kind, from);
  const rows = await bulletinVersions(getDb(env), centre.id, kind, period.from, before, limit);
  if (rows.length === 0 && before === null) throw problems.notFound("bulletin of this period");
  return rows;
}

const pct = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 10);

/** The bulletin as rows of cells: a section title row, then its header and lines; shared by CSV and XLSX. */
export function bulletinTable(c: BulletinContent, version: number): Array<Array<string | number | null>> {
  const h = c.headline;
  const p = c.previous;
  return [
    [
      `${c.unit.name} 定期通报`,
      c.kind === "week" ? "周报" : "月报",
      `${c.from} 至 ${c.to}`,
      `第 ${version} 版`,
    ],
    [],
    ["指标", "本期", "上期", "变化"],
    ["上报", h.reported, p.reported, c.change.reported],
    ["办结", h.resolved, p.resolved, h.resolved - p.resolved],
    ["归档", h.closed, p.closed, h.closed - p.closed],
    ["办结归档率(%)", pct(h.closureRate), pct(p.closureRate), pct(c.change.closureRate)],
    ["按时办结率(%)", pct(h.onTimeRate), pct(p.onTimeRate), pct(c.change.onTimeRate)],
    ["超期", h.overdue, p.overdue, c.change.overdue],
    ["上报上级率(%)", pct(h.escalationRate), pct(p.escalationRate), pct(c.change.escalationRate)],
    ["村及以下化解率(%)", pct(h.settledLocallyRate), pct(p.settledLocallyRate), null],
    ["受理用时中位数(分钟)", h.minutesToAccept.p50, p.minutesToAccept.p50, null],
    ["办结用时中位数(分钟)", h.minutesToResolve.p50, p.minutesToResolve.p50, null],
    [],
    ["未达标单位", "办结归档率(%)", "按时办结率(%)", "超期", "原因"],
    ...c.belowTarget.map((b) => [
      b.name,
      pct(b.closureRate),
      pct(b.onTimeRate),
      b.overdue,
      b.reasons.join("；"),
    ]),
    [],
    ["最久未办结事件", "类型", "状态", "上报时间"],
    ...c.oldestOpen.map((o) => [o.title, o.type, o.state, o.createdAt]),
  ];
}

/** The bulletin as CSV (RFC 4180, CRLF, with a BOM so spreadsheet programs read the Chinese as UTF-8). */
export function bulletinCsv(c: BulletinContent, version: number): string {
  return `\uFEFF${bulletinTable(c, version)
    .map((row) => row.map(csvField).join(","))
    .join("\r\n")}\r\n`;
}

/** The bulletin as an XLSX workbook (one sheet), written by `write-excel-file`. */
export async function bulletinXlsx(c: BulletinContent, version: number): Promise<ArrayBuffer> {
  const rows = bulletinTable(c, version).map((row) =>
    row.map((v) =>
      v === null ? null : typeof v === "number" ? { value: v, type: Number } : { value: v, type: String },
    ),
  );
  const blob = await writeXlsxFile(rows, { sheet: "定期通报" }).toBlob();
  return blob.arrayBuffer();
}
