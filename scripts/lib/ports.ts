/**
 * Where the local stack listens, from the environment, for every script:
 *
 * - `GRID321_PORT`: the API (`wrangler dev`) on 127.0.0.1, default 8787;
 * - `GRID321_SQLD_PORT`: the local libSQL server (sqld) on 127.0.0.1, default 8080. When it is not set and
 *   8080 is taken, `npm run dev` picks a free port; when it is set, that port or nothing.
 *
 * @example
 *   const api = apiUrl(); // "http://127.0.0.1:8787" unless GRID321_PORT says otherwise
 */

export const DEFAULT_API_PORT = 8787;
export const DEFAULT_SQLD_PORT = 8080;

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`${name}=${raw} is not a TCP port (1–65535)`);
  }
  return port;
}

/** The API's port: `GRID321_PORT`, or 8787. */
export function apiPort(): number {
  return portFrom("GRID321_PORT", DEFAULT_API_PORT);
}

/** The API's base URL on loopback, without a trailing slash. */
export function apiUrl(): string {
  return `http://127.0.0.1:${apiPort()}`;
}

/** The sqld port asked for (`GRID321_SQLD_PORT`, or 8080) and whether it was asked for explicitly. */
export function sqldPort(): { port: number; explicit: boolean } {
  return {
    port: portFrom("GRID321_SQLD_PORT", DEFAULT_SQLD_PORT),
    explicit: Boolean(process.env.GRID321_SQLD_PORT?.trim()),
  };
}
