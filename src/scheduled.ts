/** A task the cron trigger runs (watchdogs only: deadlines are Durable Object alarms, not scans). */
export type ScheduledTask = (controller: ScheduledController, env: Cloudflare.Env) => Promise<void>;

/** Tasks run on every cron tick; each area registers its own. */
export const scheduledTasks: ScheduledTask[] = [];
