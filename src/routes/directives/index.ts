import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  directiveWithCounts,
  enqueueFanout,
  type FanoutMessage,
  levelFanoutPlan,
  receiptCounts,
  unitFanoutPlan,
} from "../../db/repos/directives";
import {
  completionRate,
  DIRECTIVE_PRIORITIES,
  DIRECTIVE_PRIORITY_LABELS,
  MAX_EXPLICIT_TARGETS,
  RECEIPT_STATE_LABELS,
  RECEIPT_STATES,
  type ReceiptAction,
  type ReceiptState,
  receiptAccess,
  receiptTransition,
  targetableLevels,
} from "../../domain/directives";
import { inScope, subtreeRange, UNIT_LEVELS, type UnitLevel } from "../../domain/units";
import type { AppEnv, Principal } from "../../env";
import { type AuditEntry, writeAudited } from "../../platform/db/audit";
import { getDb } from "../../platform/db/client";
import { assertInScope, principalOf, requireRole } from "../../platform/http/auth";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { decodeCursor, pageQuery, pageSchema, toPage } from "../../platform/http/pagination";
import { Problem, problems } from "../../platform/http/problem";

const labels = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; ");

const Priority = z.enum(DIRECTIVE_PRIORITIES).openapi({ description: labels(DIRECTIVE_PRIORITY_LABELS) });
const ReceiptStateSchema = z.enum(RECEIPT_STATES).openapi({ description: labels(RECEIPT_STATE_LABELS) });
const Level = z.enum(UNIT_LEVELS);

const Counts = z.object({
  total: z.number().int(),
  delivered: z.number().int(),
  acknowledged: z.number().int(),
  completed: z.number().int(),
  overdue: z.number().int(),
});

const DirectiveSchema = z
  .object({
    id: z.uuid(),
    issuerUnitId: z.uuid(),
    issuedBy: z.uuid(),
    title: z.string(),
    body: z.string(),
    priority: Priority,
    dueAt: z.string(),
    targetUnitIds: z.array(z.uuid()).nullable(),
    targetLevels: z.array(Level).nullable(),
    targetCount: z.number().int().openapi({ description: "Receipts the fan-out writes" }),
    attachmentIds: z.array(z.uuid()),
    createdAt: z.string(),
    fanoutQueued: z.boolean(),
  })
  .openapi("Directive");

const DirectiveDetail = DirectiveSchema.extend({
  counts: Counts.openapi({ description: "Receipts inside the caller's subtree, by state" }),
  countsByLevel: z.record(z.string(), Counts).openapi({
    description: "The same by unit level (`county`, `town`, `village`, `grid2`, `grid3`)",
  }),
  completionRate: z.number(),
}).openapi("DirectiveDetail");

const ReceiptSchema = z
  .object({
    directiveId: z.uuid(),
    unitId: z.uuid(),
    level: z.string(),
    gridLevel: z.number().int().nullable(),
    state: ReceiptStateSchema,
    dueAt: z.string(),
    deliveredAt: z.string(),
    acknowledgedAt: z.string().nullable(),
    acknowledgedBy: z.string().nullable(),
    completedAt: z.string().nullable(),
    completedBy: z.string().nullable(),
    completedLate: z.boolean().nullable(),
    report: z.string().nullable(),
    evidenceIds: z.array(z.uuid()),
    overdueAt: z.string().nullable(),
  })
  .openapi("DirectiveReceipt");

const ReceivedDirective = DirectiveSchema.extend({ receipt: ReceiptSchema }).openapi("ReceivedDirective");

const NewDirective = z
  .strictObject({
    title: z.string().trim().min(1).max(200),
    body: z.string().trim().min(1).max(10_000),
    priority: Priority.default("normal"),
    dueAt: z.iso.datetime({ offset: true }).openapi({ description: "ISO 8601; must be in the future" }),
    attachmentIds: z.array(z.uuid()).max(20).default([]),
    unitIds: z
      .array(z.uuid())
      .min(1)
      .max(MAX_EXPLICIT_TARGETS)
      .optional()
      .openapi({ description: "Named target units inside the issuer's subtree" }),
    levels: z.array(Level).min(1).max(4).optional().openapi({
      description: "Every unit of these levels under the issuer (`village` + `grid` = every grid)",
    }),
  })
  .refine((b) => (b.unitIds === undefined) !== (b.levels === undefined), {
    message: "give exactly one of unitIds or levels",
    path: ["unitIds"],
  })
  .openapi("NewDirective");

const ReceiptParams = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
  unitId: z.uuid().openapi({ param: { name: "unitId", in: "path" } }),
});

const Completion = z
  .strictObject({
    report: z.string().trim().min(1).max(4_000),
    evidenceIds: z.array(z.uuid()).max(20).default([]),
  })
  .openapi("DirectiveCompletion");

const DIRECTIVE_COLUMNS = `d.id, d.issuer_unit_id AS issuerUnitId, d.issuer_unit_path AS issuerUnitPath, d.issued_by AS issuedBy,
  d.title, d.body, d.priority, d.due_at AS dueAt, d.target_unit_ids AS targetUnitIds, d.target_levels AS targetLevels,
  d.target_count AS targetCount, d.attachment_ids AS attachmentIds, d.created_at AS createdAt,
  d.fanout_queued_at AS fanoutQueuedAt`;

const RECEIPT_COLUMNS = `r.directive_id AS directiveId, r.unit_id AS unitId, r.unit_path AS unitPath, r.level, r.grid_level AS gridLevel,
  r.state, r.due_at AS rDueAt, r.delivered_at AS deliveredAt, r.acknowledged_at AS acknowledgedAt,
  r.acknowledged_by AS acknowledgedBy, r.completed_at AS completedAt, r.completed_by AS completedBy,
  r.completed_late AS completedLate, r.report, r.evidence, r.overdue_at AS overdueAt`;

type Row = Record<string, unknown>;
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

function directiveView(r: Row) {
  return {
    id: String(r.id),
    issuerUnitId: String(r.issuerUnitId),
    issuedBy: String(r.issuedBy),
    title: String(r.title),
    body: String(r.body),
    priority: r.priority as (typeof DIRECTIVE_PRIORITIES)[number],
    dueAt: String(r.dueAt),
    targetUnitIds: r.targetUnitIds ? (JSON.parse(String(r.targetUnitIds)) as string[]) : null,
    targetLevels: r.targetLevels ? (JSON.parse(String(r.targetLevels)) as UnitLevel[]) : null,
    targetCount: Number(r.targetCount),
    attachmentIds: JSON.parse(String(r.attachmentIds)) as string[],
    createdAt: String(r.createdAt),
    fanoutQueued: r.fanoutQueuedAt !== null && r.fanoutQueuedAt !== undefined,
  };
}

function receiptView(r: Row) {
  return {
    directiveId: String(r.directiveId),
    unitId: String(r.unitId),
    level: String(r.level),
    gridLevel: r.gridLevel === null ? null : Number(r.gridLevel),
    state: r.state as ReceiptState,
    dueAt: String(r.rDueAt),
    deliveredAt: String(r.deliveredAt),
    acknowledgedAt: str(r.acknowledgedAt),
    acknowledgedBy: str(r.acknowledgedBy),
    completedAt: str(r.completedAt),
    completedBy: str(r.completedBy),
    completedLate:
      r.completedLate === null || r.completedLate === undefined ? null : Number(r.completedLate) === 1,
    report: str(r.report),
    evidenceIds: r.evidence ? (JSON.parse(String(r.evidence)) as string[]) : [],
    overdueAt: str(r.overdueAt),
  };
}

function auditOf(
  principal: Principal,
  requestId: string,
  action: string,
  scopePath: string,
  objectId: string,
  detail: Record<string, unknown>,
): AuditEntry {
  return {
    actorId: principal.userId,
    actorRole: principal.role,
    scopePath,
    action,
    objectType: "directive",
    objectId,
    outcome: "success",
    requestId,
    detail,
  };
}

const issue = createRoute({
  method: "post",
  path: "/v1/directives",
  tags: ["directives"],
  summary: "Issue a directive (指令) to units of the caller's subtree (center_staff, admin)",
  description:
    "Targets are named units (`unitIds`, up to 5,000) or every unit of some levels under the issuer (`levels`). " +
    "The directive is stored at once; receipts are written by the `directives` queue in batches, so " +
    "`GET /v1/directives/{id}` shows them arriving until `counts.total` reaches `targetCount`.",
  security: bearer,
  middleware: [requireRole("center_staff", "admin")] as const,
  request: { body: jsonBody(NewDirective) },
  responses: { 201: jsonResponse(DirectiveSchema, "Issued"), ...errorResponses(403, 404) },
});

const list = createRoute({
  method: "get",
  path: "/v1/directives",
  tags: ["directives"],
  summary: "Directives received by a unit (`unitId`), or issued inside the caller's subtree",
  security: bearer,
  request: {
    query: z.object({
      unitId: z.uuid().optional().openapi({ description: "List what this unit received, with its receipt" }),
      state: ReceiptStateSchema.optional().openapi({ description: "Receipt state; needs unitId" }),
      ...pageQuery,
    }),
  },
  responses: {
    200: jsonResponse(
      pageSchema(z.union([ReceivedDirective, DirectiveSchema])),
      "Newest first; with `unitId` each item carries that unit's receipt",
    ),
    ...errorResponses(404),
  },
});

const getOne = createRoute({
  method: "get",
  path: "/v1/directives/{id}",
  tags: ["directives"],
  summary: "One directive with completion counts by unit level (for the caller's subtree)",
  security: bearer,
  request: { params: IdParam },
  responses: { 200: jsonResponse(DirectiveDetail, "The directive"), ...errorResponses(404) },
});

const receipts = createRoute({
  method: "get",
  path: "/v1/directives/{id}/receipts",
  tags: ["directives"],
  summary: "The directive's receipts inside the caller's subtree, by unit path",
  security: bearer,
  request: {
    params: IdParam,
    query: z.object({ state: ReceiptStateSchema.optional(), ...pageQuery }),
  },
  responses: { 200: jsonResponse(pageSchema(ReceiptSchema), "A page of receipts"), ...errorResponses(404) },
});

const receiptAction = (action: ReceiptAction) =>
  createRoute({
    method: "post",
    path: `/v1/directives/{id}/receipts/{unitId}/${action}`,
    tags: ["directives"],
    summary:
      action === "acknowledge"
        ? "Acknowledge (签收) a receipt, as staff of its unit or its village centre"
        : "Complete (办结) a receipt with a report and evidence attachment ids",
    security: bearer,
    request: {
      params: ReceiptParams,
      ...(action === "complete" ? { body: jsonBody(Completion) } : {}),
    },
    responses: { 200: jsonResponse(ReceiptSchema, "The receipt"), ...errorResponses(403, 404, 409) },
  });
const acknowledge = receiptAction("acknowledge");
const complete = receiptAction("complete");

async function actOnReceipt(
  c: Context<AppEnv>,
  action: ReceiptAction,
  directiveId: string,
  unitId: string,
  completion: { report: string; evidenceIds: string[] } | null,
) {
  const principal = principalOf(c);
  const db = getDb(c.env);
  const rs = await db.$client.execute({
    sql: `SELECT ${RECEIPT_COLUMNS} FROM directive_receipts r WHERE r.directive_id = ? AND r.unit_id = ?`,
    args: [directiveId, unitId],
  });
  const row = rs.rows[0] as Row | undefined;
  if (!row) throw problems.notFound("receipt");
  const access = receiptAccess(principal, {
    unitId,
    unitPath: String(row.unitPath),
    level: row.level as UnitLevel,
  });
  if (access === "not-found") throw problems.notFound("receipt");
  if (access === "forbidden")
    throw problems.forbidden("Only the receipt's own unit (or its village centre) may act on it");
  const current = receiptView(row);
  const next = receiptTransition(current.state, action, current.acknowledgedAt !== null);
  if (!next.ok) throw problems.conflict(next.code, next.detail, { state: current.state });
  const now = new Date().toISOString();
  const guard = "directive_id = ? AND unit_id = ? AND state = ? AND coalesce(acknowledged_at, '') = ?";
  const guardArgs = [directiveId, unitId, current.state, current.acknowledgedAt ?? ""];
  const update =
    action === "acknowledge"
      ? {
          sql: `UPDATE directive_receipts SET state = ?, acknowledged_at = ?, acknowledged_by = ? WHERE ${guard}`,
          args: [next.state, now, principal.userId, ...guardArgs],
        }
      : {
          sql: `UPDATE directive_receipts SET state = 'completed', acknowledged_at = coalesce(acknowledged_at, ?),
                  acknowledged_by = coalesce(acknowledged_by, ?), completed_at = ?, completed_by = ?, completed_late = ?,
                  report = ?, evidence = ? WHERE ${guard}`,
          args: [
            now,
            principal.userId,
            now,
            principal.userId,
            next.late ? 1 : 0,
            completion!.report,
            JSON.stringify(completion!.evidenceIds),
            ...guardArgs,
          ],
        };
  const [result] = await writeAudited(
    db,
    [update],
    [
      auditOf(
        principal,
        c.get("requestId"),
        `directive.receipt.${action}`,
        String(row.unitPath),
        directiveId,
        {
          unitId,
          from: current.state,
          to: next.state,
          ...(next.late ? { late: true } : {}),
        },
      ),
    ],
  );
  if (result!.rowsAffected !== 1) {
    throw problems.conflict("receipt-changed", "The receipt changed meanwhile; reload it");
  }
  const after = await db.$client.execute({
    sql: `SELECT ${RECEIPT_COLUMNS} FROM directive_receipts r WHERE r.directive_id = ? AND r.unit_id = ?`,
    args: [directiveId, unitId],
  });
  return receiptView(after.rows[0] as Row);
}

export const directiveRoutes = createRouter()
  .openapi(issue, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const now = new Date();
    if (Date.parse(body.dueAt) <= now.getTime()) {
      throw problems.badRequest("The due time must be in the future", [
        { path: "dueAt", message: "in the past" },
      ]);
    }
    const id = crypto.randomUUID();
    let targetCount: number;
    let messages: FanoutMessage[];
    let unitIds: string[] | null = null;
    if (body.levels) {
      const allowed = targetableLevels(principal.unitLevel as UnitLevel);
      const bad = body.levels.findIndex((l) => !allowed.includes(l));
      if (bad >= 0) {
        throw problems.badRequest(`Only levels below the issuer can be targeted (${allowed.join(", ")})`, [
          { path: `levels.${bad}`, message: "not below the issuer's level" },
        ]);
      }
      const plan = await levelFanoutPlan(db, id, principal.unitPath, [...new Set(body.levels)]);
      if (plan.count === 0) {
        throw problems.badRequest("No units of those levels under the issuer", [
          { path: "levels", message: "no such units" },
        ]);
      }
      targetCount = plan.count;
      messages = plan.messages;
    } else {
      unitIds = [...new Set(body.unitIds!)];
      const found = await db.$client.execute({
        sql: "SELECT id, path FROM units WHERE id IN (SELECT value FROM json_each(?))",
        args: [JSON.stringify(unitIds)],
      });
      const paths = new Map(found.rows.map((r) => [String(r.id), String(r.path)]));
      const errors = body.unitIds!.flatMap((uid, i) => {
        const path = paths.get(uid);
        return path && inScope(principal.unitPath, path) && path !== principal.unitPath
          ? []
          : [{ path: `unitIds.${i}`, message: "no such unit below the issuer" }];
      });
      if (errors.length) {
        throw new Problem(404, "not-found", "Some target units are not in the issuer's subtree", { errors });
      }
      targetCount = unitIds.length;
      messages = unitFanoutPlan(id, unitIds);
    }
    const row = {
      id,
      issuerUnitId: principal.unitId,
      issuerUnitPath: principal.unitPath,
      issuedBy: principal.userId,
      title: body.title,
      body: body.body,
      priority: body.priority,
      dueAt: new Date(body.dueAt).toISOString(),
      targetUnitIds: unitIds ? JSON.stringify(unitIds) : null,
      targetLevels: body.levels ? JSON.stringify([...new Set(body.levels)]) : null,
      targetCount,
      attachmentIds: JSON.stringify(body.attachmentIds),
      createdAt: now.toISOString(),
      fanoutQueuedAt: null,
    };
    await writeAudited(
      db,
      [
        {
          sql: `INSERT INTO directives (id, issuer_unit_id, issuer_unit_path, issued_by, title, body, priority, due_at,
                  target_unit_ids, target_levels, target_count, attachment_ids, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          args: [
            row.id,
            row.issuerUnitId,
            row.issuerUnitPath,
            row.issuedBy,
            row.title,
            row.body,
            row.priority,
            row.dueAt,
            row.targetUnitIds,
            row.targetLevels,
            row.targetCount,
            row.attachmentIds,
            row.createdAt,
          ],
        },
      ],
      [
        auditOf(principal, c.get("requestId"), "directive.issue", principal.unitPath, id, {
          title: row.title,
          targetCount,
          levels: body.levels ?? null,
        }),
      ],
    );
    let queued = false;
    try {
      await enqueueFanout(db, c.env.DIRECTIVES, id, messages);
      queued = true;
    } catch (error) {
      // The directive is stored; the watchdog re-sends fan-outs never confirmed on the queue.
      console.error(
        JSON.stringify({ kind: "directive-fanout-send-failed", directiveId: id, error: String(error) }),
      );
    }
    c.header("location", `/v1/directives/${id}`);
    return c.json({ ...directiveView(row), fanoutQueued: queued }, 201);
  })
  .openapi(list, async (c) => {
    const principal = principalOf(c);
    const { unitId, state, limit, cursor } = c.req.valid("query");
    const db = getDb(c.env);
    const after = decodeCursor(cursor, 2);
    if (unitId) {
      const unit = await db.$client.execute({ sql: "SELECT path FROM units WHERE id = ?", args: [unitId] });
      assertInScope(principal, unit.rows[0] ? String(unit.rows[0].path) : null, "unit");
      const rs = await db.$client.execute({
        sql: `SELECT ${DIRECTIVE_COLUMNS}, ${RECEIPT_COLUMNS} FROM directive_receipts r JOIN directives d ON d.id = r.directive_id
              WHERE r.unit_id = ? ${state ? "AND r.state = ?" : ""}
              ${after ? "AND (d.created_at < ? OR (d.created_at = ? AND d.id < ?))" : ""}
              ORDER BY d.created_at DESC, d.id DESC LIMIT ?`,
        args: [
          unitId,
          ...(state ? [state] : []),
          ...(after ? [after[0]!, after[0]!, after[1]!] : []),
          limit + 1,
        ],
      });
      return c.json(
        toPage(
          rs.rows as unknown as Row[],
          limit,
          (r) => ({ ...directiveView(r), receipt: receiptView(r) }),
          (r) => [String(r.createdAt), String(r.id)],
        ),
        200,
      );
    }
    if (state) {
      throw problems.badRequest("state filters a unit's receipts; give unitId too", [
        { path: "query.state", message: "needs unitId" },
      ]);
    }
    const [lo, hi] = subtreeRange(principal.unitPath);
    const rs = await db.$client.execute({
      sql: `SELECT ${DIRECTIVE_COLUMNS} FROM directives d WHERE d.issuer_unit_path >= ? AND d.issuer_unit_path < ?
            ${after ? "AND (d.created_at < ? OR (d.created_at = ? AND d.id < ?))" : ""}
            ORDER BY d.created_at DESC, d.id DESC LIMIT ?`,
      args: [lo, hi, ...(after ? [after[0]!, after[0]!, after[1]!] : []), limit + 1],
    });
    return c.json(
      toPage(rs.rows as unknown as Row[], limit, directiveView, (r) => [String(r.createdAt), String(r.id)]),
      200,
    );
  })
  .openapi(getOne, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const db = getDb(c.env);
    const whole = await directiveWithCounts(
      db,
      `SELECT ${DIRECTIVE_COLUMNS} FROM directives d WHERE d.id = ?`,
      id,
    );
    const row = whole.row;
    if (!row) throw problems.notFound("directive");
    // Above the issuer the trigger-kept counters are the answer; below it, count the caller's own subtree.
    const counts = inScope(principal.unitPath, String(row.issuerUnitPath))
      ? whole.counts
      : await receiptCounts(db, id, principal.unitPath);
    if (counts.total.total === 0 && !inScope(principal.unitPath, String(row.issuerUnitPath))) {
      throw problems.notFound("directive");
    }
    return c.json(
      {
        ...directiveView(row),
        counts: counts.total,
        countsByLevel: counts.byLevel,
        completionRate: completionRate(counts.total),
      },
      200,
    );
  })
  .openapi(receipts, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const { state, limit, cursor } = c.req.valid("query");
    const db = getDb(c.env);
    const after = decodeCursor(cursor, 1);
    const [lo, hi] = subtreeRange(principal.unitPath);
    const [directive, rs] = await Promise.all([
      db.$client.execute({
        sql: `SELECT issuer_unit_path AS p, EXISTS (SELECT 1 FROM directive_receipts
                WHERE directive_id = ?1 AND unit_path >= ?2 AND unit_path < ?3) AS mine FROM directives WHERE id = ?1`,
        args: [id, lo, hi],
      }),
      db.$client.execute({
        sql: `SELECT ${RECEIPT_COLUMNS} FROM directive_receipts r
              WHERE r.directive_id = ? AND r.unit_path >= ? AND r.unit_path < ? ${state ? "AND r.state = ?" : ""}
              ${after ? "AND r.unit_path > ?" : ""} ORDER BY r.unit_path LIMIT ?`,
        args: [id, lo, hi, ...(state ? [state] : []), ...(after ? [String(after[0])] : []), limit + 1],
      }),
    ]);
    const found = directive.rows[0];
    if (!found || (!inScope(principal.unitPath, String(found.p)) && Number(found.mine) !== 1)) {
      throw problems.notFound("directive");
    }
    return c.json(
      toPage(rs.rows as unknown as Row[], limit, receiptView, (r) => [String(r.unitPath)]),
      200,
    );
  })
  .openapi(acknowledge, async (c) => {
    const { id, unitId } = c.req.valid("param");
    return c.json(await actOnReceipt(c, "acknowledge", id, unitId, null), 200);
  })
  .openapi(complete, async (c) => {
    const { id, unitId } = c.req.valid("param");
    const body = c.req.valid("json" as never) as { report: string; evidenceIds: string[] };
    return c.json(await actOnReceipt(c, "complete", id, unitId, body), 200);
  });
