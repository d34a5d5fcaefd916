import type { Role } from "./roles";
import { inScope } from "./units";

/**
 * What a caller may do with a unit's inbox: act on it (mark items read or handled, which also lets them read
 * it), only read it, or nothing.
 */
export type InboxAccess = "act" | "read" | "none";

/** The rule, in words, for the route descriptions. */
export const INBOX_ACCESS_RULE =
  "An inbox is acted on by its own unit's staff: the unit's centre staff, grid worker or department users (and an admin, in scope). Centre staff and leaders of a centre above the unit may read it but not mark it; leaders only read. Department users and grid workers reach only their own unit's inbox. Outside the caller's subtree the unit answers 404; inside it, a caller the rule leaves out gets 403.";

/**
 * Who may read or act on the inbox of `unit`: its own unit's staff act on it; centre staff and leaders above it
 * read it; departments and grid workers reach only their own unit's; an admin acts anywhere in scope; nobody
 * reaches a unit outside their subtree.
 *
 * @example
 * inboxAccess({ role: "center_staff", unitId: town.id, unitPath: town.path }, village) // "read"
 */
export function inboxAccess(
  caller: { role: Role; unitId: string; unitPath: string },
  unit: { id: string; path: string },
): InboxAccess {
  if (!inScope(caller.unitPath, unit.path)) return "none";
  const own = caller.unitId === unit.id;
  switch (caller.role) {
    case "admin":
      return "act";
    case "center_staff":
      return own ? "act" : "read";
    case "leader":
      return "read";
    case "grid_worker":
    case "department":
      return own ? "act" : "none";
    default:
      return "none";
  }
}
