import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, gte, like, lt, lte, type SQL } from "drizzle-orm";
import { auditLog } from "../../db/schema";
import { auditHash } from "../../platform/db/audit";
import { getDb } from "../../platform/db/client";
import { principalOf } from "../../platform/http/auth";
import { createRouter, errorResponses, guarded, jsonResponse } from "../../platform/http/openapi";
import { decodeCursor, pageQuery, pageSchema, toPage } from "../../platform/http/pagination";

const AuditRowSchema = z
  .object({
    seq: z.number().int(),
    id: z.string(),
    at: z.string(),
    actorId: z.string().nullable(),
    actorRole: z.string().nullable(),
    scopePath: z.string(),
    action: z.string(),
    objectType: z.string(),
    objectId: z.string().nullable(),
    outcome: z.string(),
    requestId: z.string().nullable(),
    purpose: z.string().nullable(),
    detail: z.unknown().nullable(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi("AuditRow");

const list = createRoute({
  method: "get",
  path: "/v1/audit",
  tags: ["audit"],
  summary: "Audit rows in the caller's subtree, newest first (admin)",
  ...guarded("audit.read"),
  request: {
    query: z.object({
      action: z.string().max(64).optional(),
      objectType: z.string().max(32).optional(),
      objectId: z.string().max(64).optional(),
      actorId: z.uuid().optional(),
      from: z.iso.datetime().optional(),
      to: z.iso.datetime().optional(),
      ...pageQuery,
    }),
  },
  responses: {
    200: jsonResponse(pageSchema(AuditRowSchema), "A page of audit rows"),
    ...errorResponses(403),
  },
});

const verify = createRoute({
  method: "get",
  path: "/v1/audit/verify",
  tags: ["audit"],
  summary: "Recompute the audit hash chain and name the first broken row (admin)",
  ...guarded("audit.read"),
  responses: {
    200: jsonResponse(
      z.object({
        ok: z.boolean(),
        checked: z.number().int(),
        firstBroken: z
          .object({ seq: z.number().int(), id: z.string(), reason: z.enum(["hash-mismatch", "chain-break"]) })
          .nullable(),
      }),
      "The verification result",
    ),
    ...errorResponses(403),
  },
});

type Row = typeof auditLog.$inferSelect;
const view = (r: Row) => ({ ...r, detail: r.detail ? (JSON.parse(r.detail) as unknown) : null });
const VERIFY_CHUNK = 2000;

export const auditRoutes = createRouter()
  .openapi(list, async (c) => {
    const principal = principalOf(c);
    const q = c.req.valid("query");
    const after = decodeCursor(q.cursor, 1, ["number"]);
    const where: SQL[] = [like(auditLog.scopePath, `${principal.unitPath}%`)];
    if (q.action) where.push(eq(auditLog.action, q.action));
    if (q.objectType) where.push(eq(auditLog.objectType, q.objectType));
    if (q.objectId) where.push(eq(auditLog.objectId, q.objectId));
    if (q.actorId) where.push(eq(auditLog.actorId, q.actorId));
    if (q.from) where.push(gte(auditLog.at, new Date(q.from).toISOString()));
    if (q.to) where.push(lte(auditLog.at, new Date(q.to).toISOString()));
    if (after) where.push(lt(auditLog.seq, Number(after[0])));
    const rows = await getDb(c.env)
      .select()
      .from(auditLog)
      .where(and(...where))
      .orderBy(desc(auditLog.seq))
      .limit(q.limit + 1);
    return c.json(
      toPage(rows, q.limit, view, (r) => [r.seq]),
      200,
    );
  })
  .openapi(verify, async (c) => {
    const db = getDb(c.env);
    let prevHash = "";
    let lastSeq = 0;
    let checked = 0;
    for (;;) {
      const rows = await db
        .select()
        .from(auditLog)
        .where(gte(auditLog.seq, lastSeq + 1))
        .orderBy(auditLog.seq)
        .limit(VERIFY_CHUNK);
      for (const row of rows) {
        if (row.prevHash !== prevHash) {
          return c.json(
            { ok: false, checked, firstBroken: { seq: row.seq, id: row.id, reason: "chain-break" as const } },
            200,
          );
        }
        const { seq: _seq, hash, ...content } = row;
        if ((await auditHash(content)) !== hash) {
          return c.json(
            {
              ok: false,
              checked,
              firstBroken: { seq: row.seq, id: row.id, reason: "hash-mismatch" as const },
            },
            200,
          );
        }
        prevHash = hash;
        lastSeq = row.seq;
        checked++;
      }
      if (rows.length < VERIFY_CHUNK) break;
    }
    return c.json({ ok: true, checked, firstBroken: null }, 200);
  });
