/**
 * What the walk-through script (scripts/demo/walkthroughs.ts) needs to talk to the API the way the README's
 * curl lines do, and to hold the answers against what the README says.
 */
import { readFileSync } from "node:fs";
import { currentCode } from "../lib/demo-totp";
import { DEMO_PASSWORD } from "../seed/demo";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** One HTTP answer: status, headers and the body parsed as JSON when it is JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  /** Read as the README's `field` reads `v`. */
  v: any;
}

/** Requests against one API base, with `token` as the bearer. */
export class Api {
  constructor(readonly base: string) {}

  async call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: BodyInit } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: BodyInit | undefined = options.raw;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let v: unknown = text;
    if ((res.headers.get("content-type") ?? "").includes("json") && text) v = JSON.parse(text);
    return { status: res.status, headers: res.headers, v };
  }

  get(path: string, token?: string, headers?: Record<string, string>) {
    return this.call("GET", path, { token, headers });
  }

  post(path: string, token: string, body: unknown, headers?: Record<string, string>) {
    return this.call("POST", path, { token, body, headers });
  }

  /** The README's `post()` of the case walk-throughs: a command with `If-Match: "<version>"`. */
  command(path: string, token: string, version: number, body: unknown) {
    return this.post(path, token, body, { "if-match": `"${version}"` });
  }

  /** The README's `login <user>`: password only, the access token. */
  async login(username: string): Promise<string> {
    const a = await this.post("/v1/auth/login", "", { username, password: DEMO_PASSWORD });
    if (a.status !== 200 || typeof a.v.accessToken !== "string")
      throw new Error(`login ${username}: ${a.status} ${JSON.stringify(a.v)}`);
    return a.v.accessToken;
  }

  /** The README's admin login: password, then the challenge with `npm run -s totp:code -- admin`. */
  async loginWithTotp(username: string): Promise<{ first: Answer; token: string }> {
    const first = await this.post("/v1/auth/login", "", { username, password: DEMO_PASSWORD });
    const second = await this.post("/v1/auth/login/second-factor", "", {
      challenge: first.v.challenge,
      method: "totp",
      code: await currentCode(username),
    });
    return { first, token: second.v.accessToken };
  }
}

/** Counts and prints the checks of a run. */
export class Checks {
  passed = 0;
  failed: string[] = [];
  notes: string[] = [];
  #section = "";

  section(title: string): void {
    this.#section = title;
    console.log(`\n== ${title}`);
  }

  /** The README prints `expected` here; `actual` is what the same request printed now. */
  same(label: string, actual: unknown, expected: unknown): boolean {
    const a = typeof actual === "string" ? actual : JSON.stringify(actual);
    const e = typeof expected === "string" ? expected : JSON.stringify(expected);
    return this.ok(label, a === e, a, `README: ${e}`);
  }

  /** A claim of the README that holds when `ok`; `shown` is what was seen. */
  ok(label: string, ok: boolean, shown: unknown, why = ""): boolean {
    const s = typeof shown === "string" ? shown : JSON.stringify(shown);
    const line = `${label}: ${s.length > 300 ? `${s.slice(0, 300)}…` : s}`;
    if (ok) {
      this.passed++;
      console.log(`  ok    ${line}`);
    } else {
      this.failed.push(`${this.#section}: ${label}`);
      console.log(`  FAIL  ${line}${why ? `   (${why})` : ""}`);
    }
    return ok;
  }

  /** The README still says `text` (so the expected output checked here is the one it shows). */
  readme(text: string): boolean {
    return this.ok(
      `README shows ${JSON.stringify(text)}`,
      README.includes(text),
      README.includes(text) ? "yes" : "no",
    );
  }

  note(text: string): void {
    this.notes.push(text);
    console.log(`  note  ${text}`);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { README };
