import {
  disableEndpointStatement,
  endpointsOfUnit,
  findEndpoint,
  insertEndpointWithinLimit,
  newWebhookSecret,
  sealWebhookSecret,
  type WebhookEndpoint,
} from "../db/repos/webhooks";
import { CENTRE_LEVELS } from "../domain/case-lifecycle";
import type { WebhookEventKind } from "../domain/webhook-signature";
import { checkWebhookUrl } from "../domain/webhook-url";
import type { Principal } from "../env";
import { GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { assertInScope } from "../platform/http/auth";
import { problems } from "../platform/http/problem";
import { auditBy, type Caller, unitInScope } from "./caller";

/** The most active endpoints one centre may register. */
export const MAX_ENDPOINTS_PER_UNIT = 20;

/** What a centre asks to register. */
export interface WebhookRegistration {
  url: string;
  events: WebhookEventKind[];
  description?: string;
}

/**
 * Registers a webhook endpoint for a centre in the caller's subtree: checks the target URL, seals a new
 * secret, and inserts the endpoint only while the centre has fewer than `MAX_ENDPOINTS_PER_UNIT` active ones
 * (the count and the insert are one statement, so concurrent registrations cannot overshoot: 409). Audited.
 * Returns the endpoint and its secret, shown this once.
 */
export async function registerWebhook(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  registration: WebhookRegistration,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const unit = await unitInScope(env, caller.principal, unitId);
  if (!CENTRE_LEVELS.includes(unit.level)) {
    throw problems.badRequest("Only a centre (village or above) registers webhooks", [
      { path: "id", message: "not a centre" },
    ]);
  }
  const target = checkWebhookUrl(registration.url, env.ENVIRONMENT);
  if (!target.ok) {
    throw problems.badRequest(`The webhook URL is refused: ${target.reason}`, [
      { path: "url", message: target.reason },
    ]);
  }
  const id = crypto.randomUUID();
  const secret = newWebhookSecret();
  const endpoint: WebhookEndpoint = {
    id,
    unitId: unit.id,
    unitPath: unit.path,
    url: target.url,
    events: [...new Set(registration.events)],
    description: registration.description ?? null,
    createdBy: caller.principal.userId,
    createdAt: new Date().toISOString(),
    disabledAt: null,
  };
  const row = { ...endpoint, secretSealed: await sealWebhookSecret(env, id, secret) };
  try {
    await writeAudited(
      getDb(env),
      [insertEndpointWithinLimit(row, MAX_ENDPOINTS_PER_UNIT)],
      [
        auditBy(
          caller,
          "webhook.create",
          { type: "webhook_endpoint", id, scopePath: unit.path },
          { url: endpoint.url, events: endpoint.events },
        ),
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    if (error instanceof GuardFailed) {
      throw problems.conflict(
        "too-many-webhooks",
        `A centre may have at most ${MAX_ENDPOINTS_PER_UNIT} active endpoints`,
      );
    }
    throw error;
  }
  return { endpoint, secret };
}

/** A page of the endpoints of a unit in the caller's subtree (`limit + 1` rows, for `toPage`). */
export async function webhooksOfUnit(
  env: Cloudflare.Env,
  principal: Principal,
  unitId: string,
  after: readonly [string, string] | null,
  limit: number,
): Promise<WebhookEndpoint[]> {
  await unitInScope(env, principal, unitId);
  return endpointsOfUnit(env, unitId, after, limit + 1);
}

/**
 * Disables an endpoint in the caller's subtree; pending deliveries to it are then skipped. Idempotent: an
 * endpoint already disabled is returned as it is, with no second audit row.
 */
export async function disableWebhook(
  env: Cloudflare.Env,
  caller: Caller,
  id: string,
): Promise<WebhookEndpoint> {
  const endpoint = await findEndpoint(env, id);
  assertInScope(caller.principal, endpoint?.unitPath, "webhook endpoint");
  if (endpoint!.disabledAt !== null) return endpoint!;
  const db = getDb(env);
  const at = new Date().toISOString();
  try {
    await writeAudited(
      db,
      [disableEndpointStatement(db, id, at)],
      [
        auditBy(
          caller,
          "webhook.disable",
          { type: "webhook_endpoint", id, scopePath: endpoint!.unitPath },
          { url: endpoint!.url },
        ),
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    // A concurrent disable got there first: answer with its time, as the idempotent repeat would.
    if (error instanceof GuardFailed) return (await findEndpoint(env, id)) ?? endpoint!;
    throw error;
  }
  return { ...endpoint!, disabledAt: at };
}
