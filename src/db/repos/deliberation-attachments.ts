import type { InStatement } from "@libsql/client/web";
import { and, asc, desc, eq, gte, inArray, lt, or, type SQL } from "drizzle-orm";
import { subtreeRange } from "../../domain/units";
import { getDb } from "../../platform/db/client";
import { deliberationAttachments, deliberationSessions } from "../schema";
import type { SessionRow } from "./deliberation";

export type SessionAttachmentRow = typeof deliberationAttachments.$inferSelect;

/**
 * Records an attachment unless its session already holds `max`. Raw SQL because the count guard and the
 * insert must be one statement (an INSERT … SELECT … WHERE), so two uploads cannot both take the last place.
 */
export function insertAttachmentBelow(row: SessionAttachmentRow, max: number): InStatement {
  return {
    sql: `INSERT INTO deliberation_attachments
            (id, session_id, unit_path, kind, content_type, size, uploaded_by, uploaded_at)
          SELECT ?, ?, ?, ?, ?, ?, ?, ?
          WHERE (SELECT count(*) FROM deliberation_attachments WHERE session_id = ?) < ?`,
    args: [
      row.id,
      row.sessionId,
      row.unitPath,
      row.kind,
      row.contentType,
      row.size,
      row.uploadedBy,
      row.uploadedAt,
      row.sessionId,
      max,
    ],
  };
}

/** A session's attachments, oldest first. */
export function attachmentsOfSession(
  env: Cloudflare.Env,
  sessionId: string,
): Promise<SessionAttachmentRow[]> {
  const a = deliberationAttachments;
  return getDb(env).select().from(a).where(eq(a.sessionId, sessionId)).orderBy(asc(a.uploadedAt), asc(a.id));
}

/** One attachment by id, or null. */
export async function attachmentById(env: Cloudflare.Env, id: string): Promise<SessionAttachmentRow | null> {
  const a = deliberationAttachments;
  const [row] = await getDb(env).select().from(a).where(eq(a.id, id));
  return row ?? null;
}

/** Which sessions a list selects: the subtrees and exact unit paths allowed, kind, period, keyset position. */
export interface SessionListQuery {
  subtrees: string[];
  exactPaths: string[];
  kind?: SessionRow["kind"];
  /** ISO instants bounding `heldAt`: `[from, to)`. */
  from?: string;
  to?: string;
  /** The last (heldAt, id) of the previous page; newest first. */
  after?: [string, string] | null;
  limit: number;
}

/** Sessions newest first, `limit + 1` rows so the caller can tell whether there is a next page. */
export function listSessions(env: Cloudflare.Env, q: SessionListQuery): Promise<SessionRow[]> {
  const s = deliberationSessions;
  const where: Array<SQL | undefined> = [
    or(
      ...q.subtrees.map((path) => {
        const [lo, hi] = subtreeRange(path);
        return and(gte(s.unitPath, lo), lt(s.unitPath, hi));
      }),
      q.exactPaths.length ? inArray(s.unitPath, q.exactPaths) : undefined,
    ),
    q.kind ? eq(s.kind, q.kind) : undefined,
    q.from ? gte(s.heldAt, q.from) : undefined,
    q.to ? lt(s.heldAt, q.to) : undefined,
    q.after ? or(lt(s.heldAt, q.after[0]), and(eq(s.heldAt, q.after[0]), lt(s.id, q.after[1]))) : undefined,
  ];
  return getDb(env)
    .select()
    .from(s)
    .where(and(...where))
    .orderBy(desc(s.heldAt), desc(s.id))
    .limit(q.limit + 1);
}
