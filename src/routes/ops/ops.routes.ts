import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, guarded, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";

const ProjectionLagSchema = z
  .object({
    deskId: z.string().openapi({ description: "The GridDesk's Durable Object id" }),
    unitId: z.string().openapi({ description: "The unit whose cases the desk holds" }),
    unitPath: z.string(),
    deskSeq: z
      .number()
      .int()
      .openapi({ description: "The desk's last event sequence number (dseq) the projection knows of" }),
    projectedSeq: z
      .number()
      .int()
      .openapi({ description: "The dseq up to which the projection holds every event of the desk" }),
    lag: z
      .number()
      .int()
      .openapi({ description: "deskSeq − projectedSeq: events known but not all projected" }),
    oldestUnprojectedAt: z
      .string()
      .nullable()
      .openapi({
        description:
          "Time of the earliest event the projection holds beyond its gap; the missing events are at least this " +
          "old (null when none beyond the gap arrived)",
      }),
    oldestUnprojectedAgeSeconds: z
      .number()
      .int()
      .openapi({ description: "Seconds since oldestUnprojectedAt, or since laggingSince when that is null" }),
    laggingSince: z.string().openapi({ description: "When the projection first saw the desk lag" }),
    lastPokedAt: z
      .string()
      .nullable()
      .openapi({ description: "When the watchdog last asked the desk to send its unconfirmed events again" }),
  })
  .openapi("ProjectionLag");

export const projectionLag = createRoute({
  method: "get",
  path: "/v1/ops/projection-lag",
  tags: ["ops"],
  operationId: "listProjectionLag",
  summary: "GridDesks whose case projection lags their events, longest lagging first (admin)",
  description:
    "The case projection in libSQL records, per GridDesk, the highest desk sequence number up to which it holds " +
    "every event. A desk is listed while it has events the projection does not hold yet; desks and the cron " +
    "watchdog send them again until the list is empty. City-wide for the city's administrator (the caller's " +
    "subtree otherwise).",
  ...guarded("ops.projection-lag"),
  request: { query: z.object({ ...pageQuery }) },
  responses: {
    200: jsonResponse(pageSchema(ProjectionLagSchema), "A page of lagging desks"),
    ...errorResponses(400, 403),
  },
});
