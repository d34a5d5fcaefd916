import type { z } from "@hono/zod-openapi";
import type { SlaRule } from "../../domain/sla";
import { callerOf, principalOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { flatRule, setSlaPolicy, slaPolicyOf, type UnitSlaPolicy } from "../../services/sla-policy";
import type * as routes from "./sla-policy.routes";

const toRule = (r: z.infer<typeof routes.Rule>): SlaRule => {
  const { caseType, severity, ...values } = r;
  return { caseType, severity, values };
};

const view = (p: UnitSlaPolicy) => ({
  unitId: p.unitId,
  rules: p.rules.map(flatRule),
  entries: p.policy.entries.map(({ caseType, severity, values, sources, caps }) => ({
    caseType,
    severity,
    values,
    sources,
    caps: Object.fromEntries(
      Object.entries(caps).map(([field, cap]) => [field, { unitId: cap.unitId, value: cap.value }]),
    ),
  })),
});

/** GET /v1/units/{id}/sla-policy */
export const getPolicy: AppRouteHandler<typeof routes.getPolicy> = async (c) => {
  return c.json(view(await slaPolicyOf(c.env, principalOf(c), c.req.valid("param").id)), 200);
};

/** PUT /v1/units/{id}/sla-policy */
export const putPolicy: AppRouteHandler<typeof routes.putPolicy> = async (c) => {
  const caller = callerOf(c);
  const rules = c.req.valid("json").rules.map(toRule);
  return c.json(view(await setSlaPolicy(c.env, caller, c.req.valid("param").id, rules)), 200);
};
