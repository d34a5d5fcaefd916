import { z } from "zod";
import type { FanoutMessage } from "../db/repos/directives";
import type { WebhookDeliveryMessage } from "../db/repos/webhooks";
import { CASE_STATES, type CaseEventMessage } from "../domain/case-model";
import { ESCALATION_MESSAGE_KINDS, type EscalationMessage } from "../domain/escalation";
import { UNIT_LEVELS } from "../domain/units";
import { WEBHOOK_EVENT_KINDS } from "../domain/webhook-signature";

/**
 * The schema of every message grid321's queues carry. A body a schema refuses is poison (see
 * `defineConsumer`): it could never be handled, so it is set aside at once instead of being retried.
 */

/** Any hex UUID, as the desks and the registry write them (not only RFC 4122 variants). */
const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
const optionalText = (max: number) => z.string().max(max).nullish();

/** What the projection reads from a `case-events` message. */
const CaseEventShape = z
  .looseObject({
    kind: z.literal("case-event"),
    caseId: z.string(),
    seq: z.int(),
    // The desk's sequence number and id (absent on events recorded before desks counted them).
    dseq: z.int().positive().optional(),
    deskId: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    event: z.looseObject({ seq: z.int() }),
    record: z.looseObject({
      id: z.string(),
      seq: z.int(),
      state: z.enum(CASE_STATES),
      owningUnit: z.looseObject({ path: z.string() }),
      responsibleUnit: z.looseObject({ path: z.string() }),
    }),
  })
  .refine((m) => m.event.seq === m.seq && m.record.seq === m.seq && m.record.id === m.caseId, {
    message: "event, record and message disagree on the case or seq",
  })
  .refine((m) => (m.dseq === undefined) === (m.deskId === undefined), {
    message: "a desk sequence number comes with its desk's id",
  });

/**
 * `case-events`: one GridDesk event with the case as it stood after it. What the projection relies on is
 * checked (`CaseEventShape`); the rest of the record is the desk's own writing.
 */
export const CaseEventMessageSchema = z.custom<CaseEventMessage>().superRefine((body, ctx) => {
  const checked = CaseEventShape.safeParse(body);
  if (checked.success) return;
  for (const issue of checked.error.issues) {
    ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
  }
});

/** `escalations`: one inbox item for a centre, keyed by its dedupe key. */
export const EscalationMessageSchema: z.ZodType<EscalationMessage> = z
  .looseObject({
    kind: z.enum(ESCALATION_MESSAGE_KINDS),
    caseId: Uuid,
    fromUnitId: Uuid.nullable().default(null),
    targetUnitId: Uuid,
    targetLevel: z.enum(UNIT_LEVELS),
    dedupeKey: z.string().max(300),
    reason: optionalText(2000).transform((v) => v ?? null),
    reasonCode: optionalText(100),
    at: z.string().refine((v) => !Number.isNaN(Date.parse(v)), "not a time"),
    seq: z.int().nullish(),
    automatic: z.boolean().optional(),
    actorId: optionalText(100),
    message: optionalText(2000),
    deadline: optionalText(40),
    case: z
      .looseObject({ title: z.string(), type: z.string(), severity: z.string(), state: z.string() })
      .nullish(),
  })
  .refine((m) => m.dedupeKey.startsWith(`${m.kind}:${m.caseId}:`), {
    message: "the dedupe key does not name this kind and case",
    path: ["dedupeKey"],
  });

/** `webhooks`: one delivery of one event to one endpoint. */
export const WebhookDeliveryMessageSchema: z.ZodType<WebhookDeliveryMessage> = z.looseObject({
  endpointId: z.string(),
  unitId: z.string(),
  event: z.looseObject({
    id: z.string().max(200),
    kind: z.enum(WEBHOOK_EVENT_KINDS),
    at: z.string(),
    unitPath: z.string(),
    caseId: z.string().nullable().default(null),
    data: z.record(z.string(), z.unknown()),
  }),
});

/** `directives`: one fan-out job, either named units or a range of unit paths at some levels. */
export const FanoutMessageSchema: z.ZodType<FanoutMessage> = z.union([
  z.looseObject({
    kind: z.literal("directive-fanout"),
    directiveId: z.string(),
    unitIds: z.array(z.string()),
  }),
  z.looseObject({
    kind: z.literal("directive-fanout"),
    directiveId: z.string(),
    levels: z.array(z.string()),
    from: z.string(),
    to: z.string(),
  }),
]);

/** A dead-letter queue takes any body: whatever arrives there is recorded, well-formed or not. */
export const DeadLetterSchema = z.unknown();
