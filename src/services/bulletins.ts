import writeXlsxFile from "write-excel-file/universal";
import {
  type BulletinCentre,
  type BulletinRow,
  bulletinId,
  bulletinsOfUnit,
  centresWithoutBulletin,
  findBulletin,
  insertBulletinStatement,
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
  TARGET_KEYS,
} from "../domain/bulletins";
import { type CaseFigures, type DayPeriod, previousPeriod } from "../domain/case-figures";
import { pathIds, type UnitLevel } from "../domain/units";
import type { Principal } from "../env";
import { type Db, getDb } from "../platform/db/client";
import { assertInScope } from "../platform/http/auth";
import { problems } from "../platform/http/problem";
import { unitInScope } from "./caller";
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

/** Stores one bulletin version with its inbox item and webhook offer; false when it already existed. */
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
  const at = new Date(now).toISOString();
  const id = await bulletinId(centre.id, kind, period.from, version);
  const summary = {
    bulletinId: id,
    kind,
    from: period.from,
    to: period.to,
    version,
    reported: content.headline.reported,
    closureRate: content.headline.closureRate,
    onTimeRate: content.headline.onTimeRate,
    belowTarget: content.belowTarget.length,
  };
  const hook: WebhookEvent = {
    id: `bulletin:${id}`,
    kind: "bulletin.published",
    at,
    unitPath: centre.path,
    caseId: null,
    data: { unitId: centre.id, ...summary },
  };
  const results = await db.$client.batch(
    [
      insertBulletinStatement(db, {
        id,
        unitId: centre.id,
        unitPath: centre.path,
        periodKind: kind,
        periodFrom: period.from,
        periodTo: period.to,
        version,
        content: JSON.stringify(content),
        generatedAt: at,
      }),
      await insertInboxItemStatement({
        unitId: centre.id,
        unitPath: centre.path,
        kind: "bulletin",
        caseId: null,
        dedupeKey: `bulletin:${id}`,
        payload: summary,
        createdAt: at,
      }),
      webhookOutboxStatement(db, hook, now),
    ],
    "write",
  );
  if (results[0]!.rows.length === 0) return false;
  await offerWebhookOutbox(env, db, [hook], now);
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
