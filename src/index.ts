import { createApp } from "./app";
import { consumerFor } from "./queues";
import { scheduledTasks } from "./scheduled";
import "./env";

export { AuditAnchor } from "./durable/audit-anchor/audit-anchor";
export { EmergencyCommand } from "./durable/emergency-command/emergency-command";
export { EmergencyGrid } from "./durable/emergency-grid/emergency-grid";
export { GridDesk } from "./durable/grid-desk/grid-desk";

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env, ctx) {
    const consumer = consumerFor(batch.queue);
    if (!consumer) {
      console.error(
        JSON.stringify({ kind: "queue-unknown", queue: batch.queue, messages: batch.messages.length }),
      );
      batch.retryAll();
      return;
    }
    await consumer(batch, env, ctx);
  },
  async scheduled(controller, env, ctx) {
    for (const task of scheduledTasks) {
      ctx.waitUntil(
        task(controller, env).catch((error: unknown) =>
          console.error(
            JSON.stringify({ kind: "scheduled-failed", cron: controller.cron, error: String(error) }),
          ),
        ),
      );
    }
  },
} satisfies ExportedHandler<Cloudflare.Env>;
