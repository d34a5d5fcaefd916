import { type InboxItem, type InboxQuery, inboxPage, markInboxItemsStatement } from "../db/repos/inbox";
import { inboxAccess } from "../domain/inbox";
import type { Principal } from "../env";
import { writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { problems } from "../platform/http/problem";
import { auditBy, type Caller, unitInScope } from "./caller";

/**
 * A page of the inbox of a unit the caller may read (`limit + 1` rows, for `toPage`): 404 outside the
 * caller's subtree, 403 inside it where the inbox rule (`domain/inbox.ts`) lets the caller read nothing.
 */
export async function inboxOf(
  env: Cloudflare.Env,
  principal: Principal,
  unitId: string,
  query: InboxQuery,
): Promise<InboxItem[]> {
  const unit = await unitInScope(env, principal, unitId);
  if (inboxAccess(principal, unit) === "none") {
    throw problems.forbidden(
      "Only the unit's own staff, and centre staff or leaders above it, read its inbox",
    );
  }
  return inboxPage(env, unitId, { ...query, limit: query.limit + 1 });
}

/**
 * Marks items of a unit's inbox read or handled, audited; only those who act on that inbox may (the inbox
 * rule in `domain/inbox.ts`: 404 outside the caller's subtree, 403 inside it, nothing written). Items of
 * other units, and items already so marked, are left alone; returns the ids that changed, sorted.
 */
export async function markInbox(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  ids: readonly string[],
  as: "read" | "handled",
): Promise<string[]> {
  const unit = await unitInScope(env, caller.principal, unitId);
  if (inboxAccess(caller.principal, unit) !== "act") {
    throw problems.forbidden("Only the unit's own staff act on its inbox; others may at most read it");
  }
  const unique = [...new Set(ids)];
  const db = getDb(env);
  const [result] = await writeAudited(
    db,
    [markInboxItemsStatement(db, unitId, unique, as, new Date().toISOString())],
    [
      auditBy(
        caller,
        `inbox.mark-${as}`,
        { type: "unit", id: unitId, scopePath: unit.path },
        { ids: unique },
      ),
    ],
  );
  return result!.rows.map((r) => String(r.id)).sort();
}
