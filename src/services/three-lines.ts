import { findUser, type UserPlace } from "../db/repos/contacts";
import type { Principal } from "../env";
import { assertInScope } from "../platform/http/auth";
import { problems } from "../platform/http/problem";

/** A user inside the caller's subtree; 404 for one outside it, exactly as for one that does not exist. */
export async function userInScope(
  env: Cloudflare.Env,
  principal: Principal,
  userId: string,
): Promise<UserPlace> {
  const user = await findUser(env, userId);
  assertInScope(principal, user?.unitPath, "user");
  return user!;
}

/**
 * A user of `role` inside the caller's subtree (a party member, a household lead); 404 otherwise, also for a
 * user of another role.
 */
export async function roleUserInScope(
  env: Cloudflare.Env,
  principal: Principal,
  userId: string,
  role: string,
  what: string,
): Promise<UserPlace> {
  const user = await findUser(env, userId);
  if (!user || user.role !== role) throw problems.notFound(what);
  assertInScope(principal, user.unitPath, what);
  return user;
}
