import * as repo from "../db/repos/deliberation-attachments";
import { unitPlace } from "../db/repos/unit-lookup";
import { checkEvidence, declaredImageType, MAX_ATTACHMENT_BYTES } from "../domain/case-evidence";
import {
  MAX_SESSION_ATTACHMENTS,
  type SessionAttachmentKind,
  type SessionKind,
} from "../domain/deliberation";
import { inScope } from "../domain/units";
import { GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { decodeCursor, toPage } from "../platform/http/pagination";
import { Problem, problems } from "../platform/http/problem";
import { auditBy, type Caller } from "./caller";
import { callDesk } from "./cases";
import { attachmentView, sessionFor, sessionView } from "./deliberation";

/** R2 key of a session attachment (in the evidence bucket, apart from case evidence). */
const objectKey = (id: string) => `deliberation/${id}`;

/**
 * Adds a photo or sign-in sheet to a session: checks the image (415/413, by magic bytes as for case
 * evidence), the session (404 off the caller's branch, 403 above the caller), stores the bytes in R2, then
 * records the row and its audit in one batch, guarded by the per-session limit (409); a refused or failed
 * record removes the stored object again.
 */
export async function addSessionAttachment(
  env: Cloudflare.Env,
  caller: Caller,
  sessionId: string,
  kind: SessionAttachmentKind,
  contentTypeHeader: string | undefined,
  bytes: Uint8Array,
) {
  const declared = declaredImageType(contentTypeHeader);
  const bad = checkEvidence(declared, bytes);
  if (bad) {
    if (bytes.length > MAX_ATTACHMENT_BYTES) throw new Problem(413, "body-too-large", bad);
    throw new Problem(415, "unsupported-media-type", bad);
  }
  const session = await sessionFor(env, caller.principal, sessionId);
  if (!inScope(caller.principal.unitPath, session.unitPath))
    throw problems.forbidden("Only the session's own unit and those above it add attachments");
  const row: repo.SessionAttachmentRow = {
    id: crypto.randomUUID(),
    sessionId: session.id,
    unitPath: session.unitPath,
    kind,
    contentType: declared,
    size: bytes.length,
    uploadedBy: caller.principal.userId,
    uploadedAt: new Date().toISOString(),
  };
  await callDesk(caller, () =>
    env.EVIDENCE.put(objectKey(row.id), bytes, {
      httpMetadata: { contentType: declared },
      customMetadata: { sessionId: session.id, uploadedBy: row.uploadedBy },
    }),
  );
  try {
    await writeAudited(
      getDb(env),
      [repo.insertAttachmentBelow(row, MAX_SESSION_ATTACHMENTS)],
      [
        auditBy(
          caller,
          "deliberation.attachment",
          { type: "deliberation_attachment", id: row.id, scopePath: session.unitPath },
          { sessionId: session.id, kind, size: row.size },
        ),
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    await env.EVIDENCE.delete(objectKey(row.id)).catch(() => undefined);
    if (error instanceof GuardFailed)
      throw problems.conflict(
        "too-many-attachments",
        `A session holds at most ${MAX_SESSION_ATTACHMENTS} attachments`,
      );
    throw error;
  }
  return attachmentView(row);
}

/**
 * The bytes of a session attachment, for whoever may read its session (404 otherwise); every download leaves
 * an audit row before a byte is served (a sign-in sheet names people).
 */
export async function sessionAttachmentBody(env: Cloudflare.Env, caller: Caller, id: string) {
  const row = await repo.attachmentById(env, id);
  if (!row) throw problems.notFound("attachment");
  // A session off the caller's branch answers as if the attachment did not exist; other failures pass through.
  await sessionFor(env, caller.principal, row.sessionId).catch((error: unknown) => {
    throw error instanceof Problem && error.status === 404 ? problems.notFound("attachment") : error;
  });
  const object = await callDesk(caller, () => env.EVIDENCE.get(objectKey(row.id)));
  if (!object) throw problems.notFound("attachment");
  await writeAudited(
    getDb(env),
    [],
    [
      auditBy(
        caller,
        "deliberation.attachment.download",
        { type: "deliberation_attachment", id: row.id, scopePath: row.unitPath },
        { sessionId: row.sessionId, size: object.size },
      ),
    ],
  ).catch(async (error: unknown) => {
    await object.body.cancel();
    throw error;
  });
  return object;
}

/** Filters and page of a unit's session list. */
export interface SessionListParams {
  kind?: SessionKind;
  /** China dates, inclusive. */
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

/** The instant a China date begins, as ISO text. */
const chinaDayStart = (date: string) => new Date(Date.parse(`${date}T00:00:00+08:00`)).toISOString();

/**
 * The sessions of a unit and the units below it, newest first, as far as they lie on the caller's branch: a
 * unit in the caller's subtree shows its whole subtree; a unit above the caller shows its own sessions, those
 * of the units between, and those of the caller's subtree (not other grids' or villages').
 */
export async function listUnitSessions(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  q: SessionListParams,
) {
  const p = caller.principal;
  const unit = await unitPlace(env, unitId);
  if (!unit || !(inScope(p.unitPath, unit.path) || inScope(unit.path, p.unitPath)))
    throw problems.notFound("unit");
  if (q.from && q.to && q.from > q.to)
    throw problems.badRequest("The period ends before it begins", [{ path: "to", message: "before from" }]);
  const after = decodeCursor(q.cursor, 2, ["string", "string"]) as [string, string] | null;
  const below = inScope(p.unitPath, unit.path);
  const exactPaths = below ? [] : ancestorsBetween(unit.path, p.unitPath);
  const rows = await repo.listSessions(env, {
    subtrees: [below ? unit.path : p.unitPath],
    exactPaths,
    kind: q.kind,
    from: q.from ? chinaDayStart(q.from) : undefined,
    to: q.to ? new Date(Date.parse(chinaDayStart(q.to)) + 86_400_000).toISOString() : undefined,
    after,
    limit: q.limit,
  });
  return toPage(rows, q.limit, sessionView, (s) => [s.heldAt, s.id]);
}

/** The paths from `top` down to just above `path` (`top` included), `top` being an ancestor of `path`. */
function ancestorsBetween(top: string, path: string): string[] {
  const out: string[] = [];
  let at = top;
  for (const id of path.slice(top.length).split("/").filter(Boolean)) {
    out.push(at);
    at = `${at}${id}/`;
  }
  return out;
}
