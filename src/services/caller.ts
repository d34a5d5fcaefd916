import { type UnitPlace, unitPlace } from "../db/repos/unit-lookup";
import type { Principal } from "../env";
import type { AuditEntry } from "../platform/db/audit";
import { assertInScope } from "../platform/http/auth";

/** Who asks, for scope and the audit trail. */
export interface Caller {
  principal: Principal;
  requestId: string;
}

/** A successful audit entry of the caller's action on one object. */
export function auditBy(
  caller: Caller,
  action: string,
  object: { type: string; id: string | null; scopePath: string },
  detail: Record<string, unknown>,
): AuditEntry {
  return {
    actorId: caller.principal.userId,
    actorRole: caller.principal.role,
    scopePath: object.scopePath,
    action,
    objectType: object.type,
    objectId: object.id,
    outcome: "success",
    requestId: caller.requestId,
    detail,
  };
}

/** A unit inside the caller's subtree; 404 for one outside it, exactly as for one that does not exist. */
export async function unitInScope(env: Cloudflare.Env, principal: Principal, id: string): Promise<UnitPlace> {
  const unit = await unitPlace(env, id);
  assertInScope(principal, unit?.path, "unit");
  return unit!;
}
