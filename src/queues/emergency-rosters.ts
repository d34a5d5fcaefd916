import { z } from "zod";
import { defineConsumer, exponentialBackoff } from "../platform/queues/consume";
import { buildRosters, type RosterJob } from "../services/emergency";

const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);

/** A roster job as `declareEvent` and `changeEvent` send it. */
const RosterJobSchema: z.ZodType<RosterJob> = z.object({
  kind: z.literal("emergency-roster"),
  eventId: Uuid,
  grids: z
    .array(z.object({ id: Uuid, path: z.string().min(3) }))
    .min(1)
    .max(250),
  startedAt: z.number().int(),
});

/**
 * Consumes roster jobs of emergency events: each job reads its grids' households in one libSQL round trip and
 * loads the ordered rosters into the grids' EmergencyGrid objects (idempotently, so a redelivery is harmless).
 * Jobs run in parallel within a batch; a failed job is retried with backoff, and after `max_retries` lands in
 * `emergency-rosters-dlq`, whose consumer tries once more and logs.
 */
function rosterConsumer(poison: Parameters<typeof defineConsumer>[0]["poison"]) {
  return defineConsumer({
    name: "emergency-rosters",
    schema: RosterJobSchema,
    backoff: exponentialBackoff({ base: 2, max: 60 }),
    poison,
    handle: async (deliveries, env) => {
      await Promise.all(
        deliveries.map(async (d) => {
          try {
            const households = await buildRosters(env, d.body);
            console.log(
              JSON.stringify({
                kind: "emergency-rosters",
                event: d.body.eventId,
                grids: d.body.grids.length,
                households,
              }),
            );
          } catch (error) {
            console.error(
              JSON.stringify({
                kind: "emergency-rosters-failed",
                event: d.body.eventId,
                error: String(error),
              }),
            );
            d.retry();
          }
        }),
      );
    },
  });
}

/** `emergency-rosters`: builds the rosters of an event's grids. */
export const consumeEmergencyRosters = rosterConsumer({
  deadLetterQueue: (env) => env.EMERGENCY_ROSTERS_DLQ,
});

/** `emergency-rosters-dlq`: one more round for dead roster jobs (loading is idempotent). */
export const consumeDeadEmergencyRosters = rosterConsumer({ logOnly: true });
