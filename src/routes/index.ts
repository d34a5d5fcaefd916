import { attachmentRoutes } from "./attachments";
import { auditRoutes } from "./audit";
import { authRoutes } from "./auth";
import { caseRoutes } from "./cases";
import { contactLogRoutes } from "./contact-logs";
import { contactRoutes } from "./contacts";
import { directiveRoutes } from "./directives";
import { healthRoutes } from "./health";
import { householdLeadRoutes } from "./household-leads";
import { householdRoutes } from "./households";
import { inboxRoutes } from "./inbox";
import { liaisonStationRoutes } from "./liaison-stations";
import { partyPointRoutes } from "./party-points";
import { residentRoutes } from "./residents";
import { resolutionLevelRoutes } from "./resolution-levels";
import { slaPolicyRoutes } from "./sla-policy";
import { unitRoutes } from "./units";
import { userRoutes } from "./users";
import { visitRoutes } from "./visits";
import { webhookRoutes } from "./webhooks";

/** Every resource router, mounted at `/` by the app. */
export const routes = [
  healthRoutes,
  authRoutes,
  unitRoutes,
  userRoutes,
  auditRoutes,
  caseRoutes,
  attachmentRoutes,
  directiveRoutes,
  householdRoutes,
  residentRoutes,
  visitRoutes,
  slaPolicyRoutes,
  inboxRoutes,
  webhookRoutes,
  resolutionLevelRoutes,
  contactRoutes,
  partyPointRoutes,
  householdLeadRoutes,
  liaisonStationRoutes,
  contactLogRoutes,
];
