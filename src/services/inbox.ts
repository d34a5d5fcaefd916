import { type InboxItem, type InboxQuery, inboxPage, markInboxItemsStatement } from "../db/repos/inbox";
import type { Principal } from "../env";
import { writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { auditBy, type Caller, unitInScope } from "./caller";

/** A page of the inbox of a unit in the caller's subtree (`limit + 1` rows, for `toPage`). */
export async function inboxOf(
  env: Cloudflare.Env,
  principal: Principal,
  unitId: string,
  query: InboxQuery,
): Promise<InboxItem[]> {
  await unitInScope(env, principal, unitId);
  return inboxPage(env, unitId, { ...query, limit: query.limit + 1 });
}

/**
 * Marks items of a unit's inbox read or handled, audited. Items of other units, and items already so marked,
 * are left alone; returns the ids that changed, sorted.
 */
export async function markInbox(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  ids: readonly string[],
  as: "read" | "handled",
): Promise<string[]> {
  const unit = await unitInScope(env, caller.principal, unitId);
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
