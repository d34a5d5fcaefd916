import { cronMatcher } from "./cron";

/**
 * Runs the Worker's cron triggers against a `wrangler dev --test-scheduled` server as production would: at
 * the start of every UTC minute, each cron that fires then is sent to `/__scheduled?cron=…`, and one line
 * per run is logged. A run still in flight when its cron fires again is skipped (and said so). Returns a
 * function that stops the schedule.
 *
 * @example
 *   const stop = scheduleCrons("http://127.0.0.1:8787", ["*\/5 * * * *"], console.log);
 */
export function scheduleCrons(api: string, crons: string[], log: (line: string) => void): () => void {
  const due = crons.map((cron) => ({ cron, matches: cronMatcher(cron), running: false }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const run = async (entry: (typeof due)[number], at: Date) => {
    if (entry.running) {
      log(`grid321 dev: cron ${entry.cron} skipped at ${at.toISOString()}: the previous run is still going`);
      return;
    }
    entry.running = true;
    const started = performance.now();
    try {
      const res = await fetch(`${api}/__scheduled?cron=${encodeURIComponent(entry.cron)}`, {
        signal: AbortSignal.timeout(120_000),
      });
      const ms = Math.round(performance.now() - started);
      await res.body?.cancel();
      log(
        res.ok
          ? `grid321 dev: cron ${entry.cron} ran the scheduled tasks (${ms} ms)`
          : `grid321 dev: cron ${entry.cron} failed with ${res.status} (${ms} ms); see the Worker's log above`,
      );
    } catch (error) {
      log(`grid321 dev: cron ${entry.cron} could not reach ${api}: ${(error as Error).message}`);
    } finally {
      entry.running = false;
    }
  };

  const tick = () => {
    if (stopped) return;
    const now = Date.now();
    const at = new Date(Math.round(now / 60_000) * 60_000);
    for (const entry of due) if (entry.matches(at)) void run(entry, at);
    arm();
  };
  const arm = () => {
    const now = Date.now();
    timer = setTimeout(tick, 60_000 - (now % 60_000) + 50);
  };
  arm();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
