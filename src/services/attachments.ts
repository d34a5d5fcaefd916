import { checkEvidence, declaredImageType, MAX_ATTACHMENT_BYTES } from "../domain/case-evidence";
import { ACTIONS, canSeeCase, MAX_ATTACHMENTS } from "../domain/case-lifecycle";
import type { CaseRecord } from "../domain/case-model";
import type { CommandResult } from "../durable/grid-desk/grid-desk";
import { writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { Problem, problems } from "../platform/http/problem";
import { auditBy, type Caller } from "./caller";
import { actorOf, callDesk, deskProblem, findCase, withCaseDesk } from "./cases";

/** R2 key of an attachment; its metadata names the case (whose id names its desk) and its owning unit (legacy ids). */
const objectKey = (attachmentId: string) => `evidence/${attachmentId}`;

/** An evidence photo recorded on its case. */
export interface StoredEvidence {
  id: string;
  caseId: string;
  caseVersion: number;
  contentType: string;
  size: number;
}

/**
 * Adds an evidence photo to a case: checks the image (415/413), checks the case may take it (404, 409, 403),
 * stores the bytes in R2, then records the attachment on the case through its desk, which checks again
 * atomically. If the desk refuses or fails, the stored object is removed again.
 */
export async function addEvidence(
  env: Cloudflare.Env,
  caller: Caller,
  caseId: string,
  hint: string | undefined,
  contentTypeHeader: string | undefined,
  bytes: Uint8Array,
): Promise<StoredEvidence> {
  const actor = actorOf(caller.principal);
  const declared = declaredImageType(contentTypeHeader);
  const bad = checkEvidence(declared, bytes);
  if (bad) {
    if (bytes.length > MAX_ATTACHMENT_BYTES) throw new Problem(413, "body-too-large", bad);
    throw new Problem(415, "unsupported-media-type", bad);
  }

  // Check before storing anything; the desk checks again, atomically, when it records the attachment.
  const { record } = await withCaseDesk(env, caller, caseId, hint, async (desk) => {
    const got = (await desk.getCase(caseId)) as { record: CaseRecord } | null;
    return got ? { record: got.record } : null;
  });
  if (!canSeeCase(actor, record)) throw problems.notFound("case");
  if (!ACTIONS.attach.from.includes(record.state)) {
    throw problems.conflict(
      "illegal-transition",
      `A case in state ${record.state} takes no more attachments`,
    );
  }
  if (!ACTIONS.attach.may(actor, record))
    throw problems.forbidden(`Only ${ACTIONS.attach.who} may add evidence`);
  if (record.attachments.length >= MAX_ATTACHMENTS) {
    throw problems.conflict("too-many-attachments", `A case holds at most ${MAX_ATTACHMENTS} attachments`);
  }

  const attachmentId = crypto.randomUUID();
  const owner = record.owningUnit.id;
  await callDesk(caller, () =>
    env.EVIDENCE.put(objectKey(attachmentId), bytes, {
      httpMetadata: { contentType: declared },
      customMetadata: { caseId, owningUnitId: owner, uploadedBy: caller.principal.userId },
    }),
  );
  const forget = () => env.EVIDENCE.delete(objectKey(attachmentId)).catch(() => undefined);
  let result: CommandResult;
  try {
    result = await withCaseDesk<CommandResult>(
      env,
      caller,
      caseId,
      owner,
      (desk) =>
        desk.command(
          caseId,
          { action: "attach", attachment: { id: attachmentId, contentType: declared, size: bytes.length } },
          actor,
          null,
        ) as Promise<CommandResult>,
    );
  } catch (error) {
    await forget();
    throw error;
  }
  if (!result.ok) {
    await forget();
    throw deskProblem(result);
  }
  return {
    id: attachmentId,
    caseId,
    caseVersion: result.record.version,
    contentType: declared,
    size: bytes.length,
  };
}

/**
 * An evidence photo the caller may see (its case in their scope, and recorded on the case: an upload whose
 * recording failed is not served); 404 otherwise.
 */
export async function evidenceFor(
  env: Cloudflare.Env,
  caller: Caller,
  attachmentId: string,
): Promise<R2ObjectBody> {
  const object = await callDesk(caller, () => env.EVIDENCE.get(objectKey(attachmentId)));
  const caseId = object?.customMetadata?.caseId;
  const owner = object?.customMetadata?.owningUnitId;
  if (!object || !caseId || !owner) throw problems.notFound("attachment");
  const found = await findCase(env, caller, caseId, owner);
  const actor = actorOf(caller.principal);
  if (
    !found ||
    !canSeeCase(actor, found.record) ||
    !found.record.attachments.some((a) => a.id === attachmentId)
  ) {
    await object.body.cancel();
    throw problems.notFound("attachment");
  }
  // Every download of evidence leaves an audit row before a byte is served.
  await writeAudited(
    getDb(env),
    [],
    [
      auditBy(
        caller,
        "attachment.download",
        { type: "attachment", id: attachmentId, scopePath: found.record.owningUnit.path },
        {
          caseId,
          size: object.size,
        },
      ),
    ],
  ).catch(async (error: unknown) => {
    await object.body.cancel();
    throw error;
  });
  return object;
}
