import { exports } from "cloudflare:workers";
import { hc } from "hono/client";
import type { AppType } from "../../src/app";
import { checkResponse } from "./contract";

/**
 * A typed client of the whole API (`hc<AppType>`), calling the real Worker's fetch handler inside workerd.
 * Paths, parameters, bodies and response bodies are checked against the routes' zod schemas at compile time,
 * and every response against the served `/openapi.json` at run time (test/support/contract.ts).
 *
 * @example
 * const res = await api(user.token).v1.units[":id"].$get({ param: { id: tree.grid.id } });
 * expect(res.status).toBe(200);
 * const unit = await res.json();
 */
export function api(token?: string, headers: Record<string, string> = {}) {
  return hc<AppType>("https://grid321.test", {
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      const res = await exports.default.fetch(request);
      const text = await res.clone().text();
      await checkResponse(request.method, request.url, { status: res.status, headers: res.headers, text });
      return res;
    },
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
}

/**
 * Reads a typed client's response once: status, headers and the parsed body (JSON, or the text when the
 * body is not JSON), in the shape `toBeProblem` takes.
 */
export async function read<T>(
  res: { status: number; headers: Headers; text(): Promise<string> } & {
    json(): Promise<T>;
  },
): Promise<{ status: number; headers: Headers; body: T }> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body: body as T };
}
