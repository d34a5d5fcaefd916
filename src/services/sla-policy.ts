import { loadSlaNeighbourhood, saveSlaRulesStatement, slaChainOf } from "../db/repos/sla-policy";
import {
  applySlaCaps,
  checkEffectivePolicy,
  checkSlaRules,
  type EffectiveSlaPolicy,
  effectivePolicy,
  type SlaCapViolation,
  type SlaError,
  type SlaRule,
  type UnitSlaRules,
} from "../domain/sla";
import { pathIds } from "../domain/units";
import type { Principal } from "../env";
import { writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { Problem, problems } from "../platform/http/problem";
import { sendInBatches } from "../platform/queues/send";
import { deskRulesChanged, pushDeskRules } from "../queues/desk-rules";
import { auditBy, type Caller, unitInScope } from "./caller";

/** A unit's own time-limit rules and the policy in force there. */
export interface UnitSlaPolicy {
  unitId: string;
  rules: SlaRule[];
  policy: EffectiveSlaPolicy;
}

/** The time-limit policy in force at a unit of the caller's subtree, and the rules it sets itself. */
export async function slaPolicyOf(
  env: Cloudflare.Env,
  principal: Principal,
  unitId: string,
): Promise<UnitSlaPolicy> {
  const unit = await unitInScope(env, principal, unitId);
  const chain = await slaChainOf(env, unit.path);
  return { unitId: unit.id, rules: chain[chain.length - 1]?.rules ?? [], policy: effectivePolicy(chain) };
}

/**
 * Replaces a unit's own time-limit rules. The rules must be valid on their own, and the policy they make
 * must keep every warning before its deadline at the unit and at every unit below it that sets rules of
 * its own; otherwise 400 and nothing is written. A time limit above a cap set by a unit above needs that
 * unit's staff or an admin (who thereby record leave to exceed it), or leave already held; otherwise 409
 * naming the field, the cap and the unit that set it, and nothing is written. Audited with the previous rules.
 */
export async function setSlaPolicy(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  rules: SlaRule[],
): Promise<UnitSlaPolicy> {
  const unit = await unitInScope(env, caller.principal, unitId);
  const ruleErrors = checkSlaRules(rules);
  if (ruleErrors.length) throw problems.badRequest("The time-limit rules are not valid", ruleErrors);

  const { chain, descendants } = await loadSlaNeighbourhood(env, unit.path);
  const previous = chain[chain.length - 1]?.rules ?? [];
  const capped = applySlaCaps(chain.slice(0, -1), rules, previous, {
    unitId: caller.principal.unitId,
    admin: caller.principal.role === "admin",
  });
  if (capped.violations.length) throw aboveCap(capped.violations);
  const own = new Map<string, SlaRule[]>(chain.map((u) => [u.unitId, u.rules]));
  own.set(unit.id, capped.rules);
  for (const d of descendants) own.set(d.unitId, d.rules);
  const chainOf = (path: string): UnitSlaRules[] =>
    pathIds(path).map((id) => ({ unitId: id, rules: own.get(id) ?? [] }));
  const policy = effectivePolicy(chainOf(unit.path));
  const errors: SlaError[] = checkEffectivePolicy(policy);
  for (const d of descendants) {
    for (const e of checkEffectivePolicy(effectivePolicy(chainOf(d.path)))) {
      errors.push({ path: `descendants.${d.unitId}.${e.path}`, message: e.message });
    }
  }
  if (errors.length) {
    throw problems.badRequest(
      "With these rules a warning would fall at or after its deadline (here or in a unit below)",
      errors.slice(0, 100),
    );
  }
  const db = getDb(env);
  await writeAudited(
    db,
    [saveSlaRulesStatement(db, unit.id, capped.rules, new Date().toISOString())],
    [
      auditBy(
        caller,
        "sla-policy.update",
        { type: "unit", id: unit.id, scopePath: unit.path },
        { rules: capped.rules.map(auditedRule), previous: previous.map(auditedRule) },
      ),
    ],
  );
  await pushToDesks(env, caller, unit.path);
  return { unitId: unit.id, rules: capped.rules, policy };
}

/** A policy change concerning at most this many desks is pushed into them at once, before the answer. */
const DIRECT_PUSH_MAX = 50;

/**
 * Gives the GridDesks below a unit the changed time-limit rules of their paths, versioned by a time taken
 * after the change committed. A few desks (a village, a grid) are given them directly, so the next report
 * there runs on the new rules; a larger subtree goes through the `desk-rules` queue, page by page. If neither
 * works the change still stands: desks refresh rules older than their TTL on their own. Also called when a
 * village or grid is created or moved, so that its desk holds its rules before its first report.
 */
export async function pushToDesks(
  env: Cloudflare.Env,
  caller: Pick<Caller, "requestId">,
  unitPath: string,
): Promise<void> {
  const change = deskRulesChanged(unitPath, Date.now());
  try {
    if ((await pushDeskRules(env, change, DIRECT_PUSH_MAX + 1)) === null) return;
  } catch (error) {
    console.error(
      JSON.stringify({ requestId: caller.requestId, kind: "desk-rules-direct-failed", error: String(error) }),
    );
  }
  try {
    await sendInBatches(env.DESK_RULES, [change]);
  } catch (error) {
    console.error(
      JSON.stringify({ requestId: caller.requestId, kind: "desk-rules-push-failed", error: String(error) }),
    );
  }
}

/** A rule as the audit row records it: the API's spelling, with any leave to exceed caps above. */
function auditedRule(r: SlaRule) {
  return r.waivers ? { ...flatRule(r), waivers: r.waivers } : flatRule(r);
}

/** A rule as the API spells it: its values beside its case type and severity. */
export function flatRule(r: SlaRule) {
  return { caseType: r.caseType, severity: r.severity, ...r.values };
}

/** The 409 for values above caps set by units above: each field, its cap and the unit that set it. */
function aboveCap(violations: SlaCapViolation[]): Problem {
  const first = violations[0]!;
  return new Problem(
    409,
    "sla-above-cap",
    `${first.path} (${first.value} s) is looser than the ${first.cap} s that unit ${first.capUnitId} set above this unit; only that unit's staff or an admin may loosen it`,
    {
      errors: violations.map((v) => ({
        path: v.path,
        message: `above the cap of ${v.cap} s set by unit ${v.capUnitId} (for ${v.caseType}:${v.severity})`,
      })),
      extensions: {
        caps: violations.map((v) => ({
          path: v.path,
          field: v.field,
          caseType: v.caseType,
          severity: v.severity,
          value: v.value,
          cap: v.cap,
          unitId: v.capUnitId,
        })),
      },
    },
  );
}
