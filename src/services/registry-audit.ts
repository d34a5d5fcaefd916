import { inScope } from "../domain/units";
import type { Principal } from "../env";
import type { AuditEntry } from "../platform/db/audit";
import { auditDenial } from "../platform/db/denials";
import { assertInScope } from "../platform/http/auth";

type Env = Cloudflare.Env;

/** The caller of a registry flow, for scope checks and audit rows. */
export interface Actor {
  principal: Principal;
  requestId: string | null;
}

/** An audit entry for an action of `actor` on a household-area object. */
export function auditEntry(
  actor: Actor,
  action: string,
  objectType: string,
  objectId: string | null,
  scopePath: string,
  detail?: Record<string, unknown>,
  purpose?: string | null,
): AuditEntry {
  return {
    actorId: actor.principal.userId,
    actorRole: actor.principal.role,
    scopePath,
    action,
    objectType,
    objectId,
    outcome: "success",
    requestId: actor.requestId,
    purpose: purpose ?? null,
    detail: detail ?? null,
  };
}

/** Audits (once a minute per user, object and reason) a request `actor` was refused on a registry object. */
export function denyAudited(
  env: Env,
  actor: Actor,
  what: { action: string; objectType: string; objectId: string | null; scopePath: string },
  reason: string,
  detail?: Record<string, unknown>,
): Promise<boolean> {
  return auditDenial(env, {
    actorId: actor.principal.userId,
    actorRole: actor.principal.role,
    ...what,
    reason,
    requestId: actor.requestId,
    detail: detail ?? null,
  });
}

/**
 * 404 unless `found` lies in the caller's scope; an object that exists outside it leaves a `denied` audit row
 * (at most one a minute per user, object and reason) before the 404, which reads exactly as a missing one.
 */
export async function assertRegistryScope<T extends { id: string; unitPath: string }>(
  env: Env,
  actor: Actor,
  found: T | undefined,
  objectType: "household" | "resident",
): Promise<T> {
  if (found && !inScope(actor.principal.unitPath, found.unitPath)) {
    await denyAudited(
      env,
      actor,
      { action: `${objectType}.access`, objectType, objectId: found.id, scopePath: found.unitPath },
      "out_of_scope",
    );
  }
  assertInScope(actor.principal, found?.unitPath, objectType);
  return found!;
}
