import { expireOverrides } from "./db/repos/households";
import { sweepWebhookOutbox } from "./db/repos/webhooks";
import { deskAlarmWatchdog, projectionWatchdog } from "./durable/grid-desk/watchdog";
import { getDb } from "./platform/db/client";
import { directivesWatchdog } from "./queues/directives";
import { auditAnchor } from "./services/audit";
import { publishDueBulletins } from "./services/bulletins";
import { reportOverdueTasks } from "./services/deliberation";

/** A task the cron trigger runs (watchdogs only: deadlines are Durable Object alarms, not scans). */
export type ScheduledTask = (controller: ScheduledController, env: Cloudflare.Env) => Promise<void>;

/** Tasks run on every cron tick; each area registers its own. */
export const scheduledTasks: ScheduledTask[] = [
  // Receipts past due → overdue + reminders (an index range over due times, not a scan of cases).
  (_controller, env) => directivesWatchdog(env),
  // Expired household class overrides → back to the computed class and schedule (an index range, few rows).
  async (_controller, env) => void (await expireOverrides(getDb(env), new Date())),
  // GridDesks whose deadline alarm is overdue (an index range over desk_alarms) → poked to take their steps.
  async (controller, env) => void (await deskAlarmWatchdog(env, controller.scheduledTime)),
  // GridDesks whose projection has lagged their events for minutes (an index range over lagging desks) → poked to
  // send again what the projection has not confirmed.
  async (controller, env) => void (await projectionWatchdog(env, controller.scheduledTime)),
  // Webhook offers a failed send left in the outbox (an index range over their next attempt) → sent again.
  async (controller, env) => void (await sweepWebhookOutbox(env, getDb(env), controller.scheduledTime)),
  // The audit anchor links and checkpoints on its own alarm; this re-arms that alarm should it ever be lost.
  async (_controller, env) => void (await auditAnchor(env).ensureAlarm()),
  // Deliberation tasks whose next time-limit step is due (an index range) → warned, overdue, escalated, each once.
  async (controller, env) => void (await reportOverdueTasks(env, controller.scheduledTime)),
  // Weekly and monthly bulletins of the town, county and city centres for the last complete period, each once.
  async (controller, env) => void (await publishDueBulletins(env, controller.scheduledTime)),
];
