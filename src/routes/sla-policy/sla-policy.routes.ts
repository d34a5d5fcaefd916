import { createRoute, z } from "@hono/zod-openapi";
import { CASE_SEVERITIES, CASE_SEVERITY_LABELS, CASE_TYPE_LABELS, CASE_TYPES } from "../../domain/case-model";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";

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

export const Rule = z
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
  .openapi({
    description:
      "For each value, the unit that sets it (the unit above whose cap cut it, where one did); null for the built-in default",
  });

const Cap = z
  .object({
    unitId: z.uuid().openapi({ description: "The unit above that set the cap" }),
    value: z.number().int().openapi({ description: "Its value in seconds: the loosest this unit may set" }),
  })
  .openapi("SlaCap");
const Caps = z
  .object({
    acceptWithinSeconds: Cap.optional(),
    resolveWithinSeconds: Cap.optional(),
    escalateGraceSeconds: Cap.optional(),
  })
  .openapi({
    description:
      "The time limits capped by a unit above: for each, the tightest value a unit above sets and that unit. A field is absent when nothing above caps it, or when the unit that set the cap (or an admin) let this unit exceed it. Warning leads are never capped.",
  });

const PolicySchema = z
  .object({
    unitId: z.uuid(),
    rules: z.array(Rule).openapi({ description: "The rules this unit sets itself" }),
    entries: z.array(
      z.object({
        caseType: z.enum(CASE_TYPES),
        severity: Severity,
        values: Values,
        sources: Sources,
        caps: Caps,
      }),
    ),
  })
  .openapi("SlaPolicy");

const CAP_RULE =
  "A unit may tighten the time limits (accept, resolve, escalation grace) it inherits: a value above the tightest one a unit above sets (its cap) is refused with 409 `sla-above-cap`, naming each field, the cap and the unit that set it, and nothing is written, unless the caller is staff of the unit that set the cap, or an admin; their write records leave for this unit to exceed that cap, kept by later writes that stay within it. When a unit above tightens later, looser values below stop applying: the policy in force is capped when read, for new clocks.";

export const getPolicy = createRoute({
  method: "get",
  path: "/v1/units/{id}/sla-policy",
  tags: ["time limits"],
  operationId: "getSlaPolicy",
  summary: "The time-limit policy in force at a unit, and where each value comes from",
  description: `Each entry gives the values in force, the unit each comes from (for a value cut to a cap, the unit that set the cap) and the caps that bind this unit. ${CAP_RULE}`,
  ...guarded("sla-policy.read"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(PolicySchema, "The effective policy"), ...errorResponses(404) },
});

export const putPolicy = createRoute({
  method: "put",
  path: "/v1/units/{id}/sla-policy",
  tags: ["time limits"],
  operationId: "setSlaPolicy",
  summary: "Set a unit's own time-limit rules (centre staff or admin of the unit or above)",
  description: `Replaces the unit's own rules; values not set are inherited from the units above and the defaults (normal 24 h / 15 d, urgent 2 h / 3 d, critical 30 min / 24 h). Every duration must be above zero and every warning must fall before its deadline, here and in every unit below that sets rules of its own; otherwise 400 and nothing is written. Deadlines already recorded on cases do not move. ${CAP_RULE}`,
  ...guarded("sla-policy.write"),
  request: {
    params: IdParam,
    body: jsonBody(z.strictObject({ rules: z.array(Rule).max(60) }).openapi("SlaPolicyUpdate")),
  },
  responses: {
    200: jsonResponse(PolicySchema, "The new effective policy"),
    ...errorResponses(403, 404, 409),
  },
});
