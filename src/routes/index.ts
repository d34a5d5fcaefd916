import { createRouter } from "../platform/http/openapi";
import { attachmentRoutes } from "./attachments";
import { auditRoutes } from "./audit";
import { authRoutes } from "./auth";
import { bulletinRoutes } from "./bulletins";
import { caseRoutes } from "./cases";
import { contactLogRoutes } from "./contact-logs";
import { contactRoutes } from "./contacts";
import { deliberationRoutes } from "./deliberation";
import { directiveRoutes } from "./directives";
import { emergencyRoutes } from "./emergency";
import { figureRoutes } from "./figures";
import { healthRoutes } from "./health";
import { householdLeadRoutes } from "./household-leads";
import { householdRoutes } from "./households";
import { inboxRoutes } from "./inbox";
import { liaisonStationRoutes } from "./liaison-stations";
import { open311Routes } from "./open311";
import { opsRoutes } from "./ops";
import { partyPointRoutes } from "./party-points";
import { residentAccountRoutes } from "./resident-accounts";
import { residentRoutes } from "./residents";
import { resolutionLevelRoutes } from "./resolution-levels";
import { slaPolicyRoutes } from "./sla-policy";
import { unitRoutes } from "./units";
import { userRoutes } from "./users";
import { visitRoutes } from "./visits";
import { webhookRoutes } from "./webhooks";

/**
 * Every feature's router, chained so that the type of the whole API (`AppType`) is known to clients
 * (`hc<AppType>`). The app mounts it at `/`.
 */
export const api = createRouter()
  .route("/", healthRoutes)
  .route("/", authRoutes)
  .route("/", unitRoutes)
  .route("/", userRoutes)
  .route("/", auditRoutes)
  .route("/", caseRoutes)
  .route("/", attachmentRoutes)
  .route("/", directiveRoutes)
  .route("/", householdRoutes)
  .route("/", residentRoutes)
  .route("/", visitRoutes)
  .route("/", slaPolicyRoutes)
  .route("/", inboxRoutes)
  .route("/", webhookRoutes)
  .route("/", resolutionLevelRoutes)
  .route("/", contactRoutes)
  .route("/", partyPointRoutes)
  .route("/", householdLeadRoutes)
  .route("/", liaisonStationRoutes)
  .route("/", contactLogRoutes)
  .route("/", opsRoutes)
  .route("/", residentAccountRoutes)
  .route("/", open311Routes)
  .route("/", deliberationRoutes)
  .route("/", emergencyRoutes)
  .route("/", figureRoutes)
  .route("/", bulletinRoutes);

/** The whole API's type, for `hc<AppType>` clients. */
export type AppType = typeof api;
