import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { loadDescendantSlaRules, loadSlaChain, saveSlaRulesStatement } from "../../db/repos/sla-policy";
import { units } from "../../db/schema";
import { CASE_SEVERITIES, CASE_SEVERITY_LABELS, CASE_TYPE_LABELS, CASE_TYPES } from "../../domain/case-model";
import {
  checkEffectivePolicy,
  checkSlaRules,
  type EffectiveSlaPolicy,
  effectivePolicy,
  type SlaError,
  type SlaRule,
  type UnitSlaRules,
} from "../../domain/sla";
import { pathIds } from "../../domain/units";
import type { Principal } from "../../env";
import { writeAudited } from "../../platform/db/audit";
import { type Db, getDb } from "../../platform/db/client";
import { assertInScope, principalOf, requireRole } from "../../platform/http/auth";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { problems } from "../../platform/http/problem";

const Seconds = z.number().openapi({ description: "Seconds; a whole number above zero, at most a year" });
const CaseTypeOrAll = z.enum([...CASE_TYPES, "*"]).openapi({
  description: `\`*\` for every type, or one of: ${Object.entries(CASE_TYPE_LABELS)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; ")}`,
});
const Severity = z.enum(CASE_SEVERITIES).openapi({
  description: Object.entries(CASE_SEVERITY_LABELS)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; "),
});

const Rule = z
  .strictObject({
    caseType: CaseTypeOrAll,
    severity: Severity,
    acceptWithinSeconds: Seconds.optional().openapi({ description: "受理时限: from report to acceptance" }),
    acceptWarnBeforeSeconds: Seconds.optional().openapi({
      description: "预警: warning this long before the accept deadline",
    }),
    resolveWithinSeconds: Seconds.optional().openapi({
      description: "办结时限: from acceptance to resolution",
    }),
    resolveWarnBeforeSeconds: Seconds.optional().openapi({
      description: "预警: warning this long before the resolve deadline",
    }),
    escalateGraceSeconds: Seconds.optional().openapi({
      description: "After a missed deadline, how long until automatic escalation to the next level",
    }),
  })
  .openapi("SlaRule");

const Values = z.object({
  acceptWithinSeconds: z.number().int(),
  acceptWarnBeforeSeconds: z.number().int(),
  resolveWithinSeconds: z.number().int(),
  resolveWarnBeforeSeconds: z.number().int(),
  escalateGraceSeconds: z.number().int(),
});
const SourceUnit = z.uuid().nullable();
const Sources = z
  .object({
    acceptWithinSeconds: SourceUnit,
    acceptWarnBeforeSeconds: SourceUnit,
    resolveWithinSeconds: SourceUnit,
    resolveWarnBeforeSeconds: SourceUnit,
    escalateGraceSeconds: SourceUnit,
  })
  .openapi({ description: "For each value, the unit that sets it; null for the built-in default" });

const PolicySchema = z
  .object({
    unitId: z.uuid(),
    rules: z.array(Rule).openapi({ description: "The rules this unit sets itself" }),
    entries: z.array(
      z.object({ caseType: z.enum(CASE_TYPES), severity: Severity, values: Values, sources: Sources }),
    ),
  })
  .openapi("SlaPolicy");

const getPolicy = createRoute({
  method: "get",
  path: "/v1/units/{id}/sla-policy",
  tags: ["time limits"],
  summary: "The time-limit policy in force at a unit, and where each value comes from",
  security: bearer,
  request: { params: IdParam },
  responses: { 200: jsonResponse(PolicySchema, "The effective policy"), ...errorResponses(404) },
});

const putPolicy = createRoute({
  method: "put",
  path: "/v1/units/{id}/sla-policy",
  tags: ["time limits"],
  summary: "Set a unit's own time-limit rules (centre staff or admin of the unit or above)",
  description:
    "Replaces the unit's own rules; values not set are inherited from the units above and the defaults (normal 24 h / 15 d, urgent 2 h / 3 d, critical 30 min / 24 h). Every duration must be above zero and every warning must fall before its deadline, here and in every unit below that sets rules of its own; otherwise 400 and nothing is written. Deadlines already recorded on cases do not move.",
  security: bearer,
  middleware: [requireRole("center_staff", "admin")] as const,
  request: {
    params: IdParam,
    body: jsonBody(z.strictObject({ rules: z.array(Rule).max(60) }).openapi("SlaPolicyUpdate")),
  },
  responses: { 200: jsonResponse(PolicySchema, "The new effective policy"), ...errorResponses(403, 404) },
});

async function loadUnit(db: Db, principal: Principal, id: string) {
  const [unit] = await db
    .select({ id: units.id, path: units.path })
    .from(units)
    .where(eq(units.id, id))
    .limit(1);
  assertInScope(principal, unit?.path, "unit");
  return unit!;
}

const ruleView = (r: SlaRule) => ({ caseType: r.caseType, severity: r.severity, ...r.values });
const toRule = (r: z.infer<typeof Rule>): SlaRule => {
  const { caseType, severity, ...values } = r;
  return { caseType, severity, values };
};
const view = (unitId: string, rules: SlaRule[], policy: EffectiveSlaPolicy) => ({
  unitId,
  rules: rules.map(ruleView),
  entries: policy.entries,
});

export const slaPolicyRoutes = createRouter()
  .openapi(getPolicy, async (c) => {
    const db = getDb(c.env);
    const unit = await loadUnit(db, principalOf(c), c.req.valid("param").id);
    const chain = await loadSlaChain(db, unit.path);
    return c.json(view(unit.id, chain[chain.length - 1]?.rules ?? [], effectivePolicy(chain)), 200);
  })
  .openapi(putPolicy, async (c) => {
    const principal = principalOf(c);
    const db = getDb(c.env);
    const unit = await loadUnit(db, principal, c.req.valid("param").id);
    const rules = c.req.valid("json").rules.map(toRule);
    const ruleErrors = checkSlaRules(rules);
    if (ruleErrors.length) throw problems.badRequest("The time-limit rules are not valid", ruleErrors);

    const [chain, descendants] = await Promise.all([
      loadSlaChain(db, unit.path),
      loadDescendantSlaRules(db, unit.path),
    ]);
    const own = new Map<string, SlaRule[]>(chain.map((u) => [u.unitId, u.rules]));
    own.set(unit.id, rules);
    for (const d of descendants) own.set(d.unitId, d.rules);
    const chainOf = (path: string): UnitSlaRules[] =>
      pathIds(path).map((unitId) => ({ unitId, rules: own.get(unitId) ?? [] }));
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
    await writeAudited(
      db,
      [saveSlaRulesStatement(unit.id, rules, new Date().toISOString())],
      [
        {
          actorId: principal.userId,
          actorRole: principal.role,
          scopePath: unit.path,
          action: "sla-policy.update",
          objectType: "unit",
          objectId: unit.id,
          outcome: "success",
          requestId: c.get("requestId"),
          detail: {
            rules: rules.map(ruleView),
            previous: (chain[chain.length - 1]?.rules ?? []).map(ruleView),
          },
        },
      ],
    );
    return c.json(view(unit.id, rules, policy), 200);
  });
