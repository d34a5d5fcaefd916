import { directivesWatchdog } from "./queues/directives";

/** A task the cron trigger runs (watchdogs only: deadlines are Durable Object alarms, not scans). */
export type ScheduledTask = (controller: ScheduledController, env: Cloudflare.Env) => Promise<void>;

/** Tasks run on every cron tick; each area registers its own. */
export const scheduledTasks: ScheduledTask[] = [
  // Receipts past due → overdue + reminders (an index range over due times, not a scan of cases).
  (_controller, env) => directivesWatchdog(env),
];
