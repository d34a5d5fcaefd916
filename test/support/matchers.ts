import { expect } from "vitest";

interface ResponseLike {
  status: number;
  headers: Headers;
  body?: unknown;
  text?: string;
}

declare module "vitest" {
  interface Matchers<T = any> {
    /**
     * The response is an RFC 9457 problem with this status (and, if given, this type slug or URI): content
     * type `application/problem+json`, and a body whose `status`, `type` and `title` agree. The failure
     * message shows the status and the body.
     */
    toBeProblem(status: number, type?: string): T;
  }
}

expect.extend({
  toBeProblem(received: ResponseLike, status: number, type?: string) {
    const body = (received.body ?? (received.text ? safeJson(received.text) : undefined)) as
      | Record<string, unknown>
      | undefined;
    const contentType = received.headers?.get?.("content-type") ?? "";
    const wantedType = type === undefined ? undefined : type.includes("/") ? type : `/problems/${type}`;
    const failures: string[] = [];
    if (received.status !== status) failures.push(`status ${received.status}, expected ${status}`);
    if (!contentType.startsWith("application/problem+json"))
      failures.push(`content-type "${contentType}", expected application/problem+json`);
    if (body?.status !== status) failures.push(`body.status ${String(body?.status)}`);
    if (typeof body?.title !== "string") failures.push("no body.title");
    if (typeof body?.type !== "string") failures.push("no body.type");
    else if (wantedType && !body.type.endsWith(wantedType))
      failures.push(`type "${body.type}", expected …${wantedType}`);
    const pass = failures.length === 0;
    return {
      pass,
      message: () =>
        pass
          ? `expected a response other than a ${status} problem${type ? ` (${type})` : ""}`
          : `expected a ${status} problem${type ? ` (${type})` : ""}: ${failures.join("; ")}\nbody: ${JSON.stringify(body ?? received.text, null, 2)}`,
    };
  },
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
