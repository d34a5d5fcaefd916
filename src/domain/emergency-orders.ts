import { townOfPath, villageOfPath } from "./emergency";

/** Bounds of an emergency order's acknowledgement window, in minutes. */
export const ACK_WITHIN_MINUTES = { min: 5, max: 240 } as const;

/** How long an order stays open for completion after it is issued, unless the issuer says otherwise. */
export const ORDER_COMPLETE_WITHIN_MS = 24 * 3_600_000;

/**
 * The centres a grid's missed acknowledgement is escalated to: its village and its town, each with its own
 * path (a prefix of the grid's path). Units above a grid without a village or town yield fewer targets.
 */
export function ackEscalationTargets(gridPath: string): Array<{ unitId: string; unitPath: string }> {
  const ids = [villageOfPath(gridPath), townOfPath(gridPath)].filter((id): id is string => id !== null);
  return ids
    .filter((id) => gridPath.includes(`/${id}/`) && !gridPath.endsWith(`/${id}/`))
    .map((unitId) => ({
      unitId,
      unitPath: gridPath.slice(0, gridPath.indexOf(`/${unitId}/`) + unitId.length + 2),
    }));
}
