import { loadSlaNeighbourhood, saveSlaRulesStatement, slaChainOf } from "../db/repos/sla-policy";
import {
  checkEffectivePolicy,
  checkSlaRules,
  type EffectiveSlaPolicy,
  effectivePolicy,
  type SlaError,
  type SlaRule,
  type UnitSlaRules,
} from "../domain/sla";
import { pathIds } from "../domain/units";
import type { Principal } from "../env";
import { writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { problems } from "../platform/http/problem";
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
 * its own; otherwise 400 and nothing is written. Audited with the previous rules.
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
  const own = new Map<string, SlaRule[]>(chain.map((u) => [u.unitId, u.rules]));
  own.set(unit.id, rules);
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
  const previous = chain[chain.length - 1]?.rules ?? [];
  await writeAudited(
    db,
    [saveSlaRulesStatement(db, unit.id, rules, new Date().toISOString())],
    [
      auditBy(
        caller,
        "sla-policy.update",
        { type: "unit", id: unit.id, scopePath: unit.path },
        { rules: rules.map(flatRule), previous: previous.map(flatRule) },
      ),
    ],
  );
  return { unitId: unit.id, rules, policy };
}

/** A rule as the API spells it: its values beside its case type and severity. */
export function flatRule(r: SlaRule) {
  return { caseType: r.caseType, severity: r.severity, ...r.values };
}
