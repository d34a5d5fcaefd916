import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { principalOf } from "../../platform/http/auth";
import type { Caller } from "../../services/caller";

/** The caller of a three-line request (contacts, contact logs, party points, household leads). */
export function caller(c: Context<AppEnv>): Caller {
  return { principal: principalOf(c), requestId: c.get("requestId") };
}
