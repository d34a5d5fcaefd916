import { AsyncLocalStorage } from "node:async_hooks";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../env";

/**
 * Where a request spends its time, for the `Server-Timing` header: `auth` (verifying the token and the
 * session), `db` (libSQL round trips), `desk` (GridDesk calls), `queue` (queue sends) and `total`. Each
 * metric is the sum of its calls' durations and counts them (`desc="n=2"`), so a client or an operator sees
 * both the time and the number of round trips. Concurrent calls add up, so a metric may exceed `total`.
 *
 * The collector rides on the request's async context (set by `requestContext`), so the libSQL client, desk
 * stubs and queue sends record into it wherever they are called, without passing the Hono context down.
 * In Workers the clock advances with I/O, which is what these metrics are about.
 */
export type TimingMetric = "auth" | "db" | "desk" | "queue";

const METRICS: readonly TimingMetric[] = ["auth", "db", "desk", "queue"];

/** The timings of one request. */
export class RequestTimings {
  readonly started = performance.now();
  readonly spent: Record<TimingMetric, { ms: number; count: number }> = {
    auth: { ms: 0, count: 0 },
    db: { ms: 0, count: 0 },
    desk: { ms: 0, count: 0 },
    queue: { ms: 0, count: 0 },
  };

  /** Records one call of `metric` that took `ms`. */
  add(metric: TimingMetric, ms: number): void {
    this.spent[metric].ms += ms;
    this.spent[metric].count += 1;
  }

  /** The `Server-Timing` header value. */
  header(): string {
    const parts = METRICS.map(
      (m) => `${m};dur=${this.spent[m].ms.toFixed(1)};desc="n=${this.spent[m].count}"`,
    );
    parts.push(`total;dur=${(performance.now() - this.started).toFixed(1)}`);
    return parts.join(", ");
  }
}

const store = new AsyncLocalStorage<RequestTimings>();

/** Runs `fn` with `timings` as the current request's collector. */
export function withTimings<T>(timings: RequestTimings, fn: () => T): T {
  return store.run(timings, fn);
}

/** The current request's collector, if any (none inside Durable Objects, queue consumers and the cron). */
export function currentTimings(): RequestTimings | undefined {
  return store.getStore();
}

/**
 * Runs `fn` and records its duration under `metric` for the current request.
 *
 * @example
 * const rows = await timed("db", () => db.select().from(units));
 */
export async function timed<T>(metric: TimingMetric, fn: () => Promise<T>): Promise<T> {
  const timings = store.getStore();
  if (!timings) return fn();
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings.add(metric, performance.now() - t0);
  }
}

/** A `fetch` whose calls are recorded under `metric` (the libSQL client's HTTP round trips use it). */
export function timedFetch(metric: TimingMetric, fetcher: typeof fetch = fetch): typeof fetch {
  return (input, init) => timed(metric, () => fetcher(input, init));
}

/**
 * A Durable Object stub whose RPC calls are recorded under `metric` (`desk` for GridDesks).
 *
 * @example
 * const desk = timedStub(env.GRID_DESK.get(id));
 */
export function timedStub<T extends object>(stub: T, metric: TimingMetric = "desk"): T {
  return new Proxy(stub, {
    get(target, prop) {
      if (prop === "then") return undefined;
      // An RPC stub answers any property with a callable stub; call it as is (its own `apply` is remote).
      const value = (target as Record<string | symbol, unknown>)[prop];
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => timed(metric, async () => Reflect.apply(value, target, args));
    },
  });
}

/**
 * A middleware whose own work (up to calling `next`) is recorded under `metric`.
 *
 * @example
 * app.use("/v1/*", timedMiddleware("auth", authenticate()));
 */
export function timedMiddleware(metric: TimingMetric, middleware: MiddlewareHandler<AppEnv>) {
  const wrapped: MiddlewareHandler<AppEnv> = async (c, next) => {
    const timings = store.getStore();
    const t0 = performance.now();
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      timings?.add(metric, performance.now() - t0);
    };
    try {
      return await middleware(c, async () => {
        stop();
        await next();
      });
    } finally {
      stop();
    }
  };
  return wrapped;
}
