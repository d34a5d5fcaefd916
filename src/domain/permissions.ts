import { ROLES, type Role } from "./roles";

/** Everyone who logs in. */
const ANY: readonly Role[] = ROLES;
/** The people who keep the registry of units' households and residents. */
const REGISTRY_WRITERS: readonly Role[] = ["admin", "center_staff", "grid_worker"];
/** Centres' staff and the administrator. */
const STAFF: readonly Role[] = ["admin", "center_staff"];

/**
 * Who may do what: one row per action, the roles allowed it. Every route names its action
 * (`authorize("units.create")`), and its OpenAPI description lists the roles from this table. Scope (the
 * unit subtree) is checked separately, by the unit rule in `domain/units.ts`.
 *
 * Rows are grouped by feature; an action is `<feature>.<verb>`.
 */
export const PERMISSIONS = {
  // --- units, users, auth, audit
  "units.read": ANY,
  "units.write": ["admin"],
  /** Listing users, and reading someone else's user (anyone may read their own: `users.read-own`). */
  "users.read": ["admin", "center_staff", "leader"],
  "users.read-own": ANY,
  "users.write": ["admin"],
  /** The caller's own session: who am I, log out. */
  "auth.session": ANY,
  /** Clearing another user's second factor (a lost device): their sessions are revoked with it. */
  "auth.second-factor-reset": ["admin"],
  "audit.read": ["admin"],

  // --- households, residents, visits
  "households.read": ANY,
  /** Registering and changing households and naming their helpers. */
  "households.write": REGISTRY_WRITERS,
  "households.import": STAFF,
  /** Setting or removing a manual class override (inside a household change). */
  "households.override": STAFF,
  /** Reclassifying a subtree and setting its service plan (visit cadences). */
  "households.plan": STAFF,
  "residents.read": ANY,
  "residents.write": REGISTRY_WRITERS,
  /** Asking to move a resident registered elsewhere into a household of one's unit (the next step of a 409). */
  "residents.transfer-request": REGISTRY_WRITERS,
  /** Reading transfer requests: one's own, or those a centre decides (the rule in `services/transfer-requests.ts`). */
  "residents.transfer-read": REGISTRY_WRITERS,
  /** Approving or refusing a transfer: the centre of the resident's village or one above it. */
  "residents.transfer-decide": STAFF,
  "visits.read": ANY,
  /** Recording a contact: the grid worker, the centres and the three lines. */
  "visits.record": ["admin", "center_staff", "grid_worker", "party_member", "deputy", "household_lead"],
  /** Recording a contact made by someone else (entering paper records). */
  "visits.record_for_others": REGISTRY_WRITERS,

  // --- cases, attachments, liaison stations
  /** Reading cases (each case's own visibility rule in `domain/case-lifecycle.ts` decides which). */
  "cases.read": ANY,
  /** Reporting a case; which roles may report where is the lifecycle's rule. */
  "cases.report": ANY,
  /** A case command; who may run which command in which state is the lifecycle's rule. */
  "cases.command": ANY,
  "attachments.read": ANY,
  /** Adding evidence; the lifecycle's `attach` rule decides who, on which case. */
  "attachments.upload": ANY,
  "liaison.read": ANY,
  /** Opening stations and attaching deputies. */
  "liaison.manage": STAFF,
  /** Keeping a station's calendar (attached deputies, or centres in scope). */
  "liaison.calendar": ["admin", "center_staff", "deputy"],
  /** Turning a matter raised on a reception day into a case. */
  "liaison.matter": ["center_staff", "deputy"],

  // --- directives, sla policy, inbox, webhooks, resolution levels
  "directives.read": ANY,
  "directives.issue": STAFF,
  /** Acting on a receipt; who may act on which receipt is the receipt rule in `domain/directives.ts`. */
  "directives.receipt": ANY,
  "sla-policy.read": ANY,
  "sla-policy.write": STAFF,
  "inbox.read": ["center_staff", "admin", "leader", "grid_worker", "department"],
  "inbox.mark": ["center_staff", "admin", "grid_worker", "department"],
  "webhooks.read": ["center_staff", "admin", "leader"],
  "webhooks.write": STAFF,
  "resolution-levels.read": ["center_staff", "admin", "leader"],

  // --- three lines: contacts, contact logs, party points, household leads
  "contacts.read": ANY,
  "contacts.profile": STAFF,
  "contacts.pair": REGISTRY_WRITERS,
  "contacts.coverage": ["admin", "center_staff", "leader", "grid_worker"],
  "contact-logs.read": ANY,
  /** Linking a log; a three-line contact links only their own (the rule in `services/contact-logs.ts`). */
  "contact-logs.link": ["admin", "center_staff", "grid_worker", "party_member", "deputy", "household_lead"],
  "party-points.read": ANY,
  /** Pledges and fulfilments: a member records them only for themself. */
  "party-points.record": ["party_member"],
  "party-points.correct": STAFF,
  "party-points.review": STAFF,
  /**
   * Confirming or rejecting a member's fulfilment: the branch's centre, or the case's handler (a grid worker
   * or department too); the rule in `domain/points.ts` decides who, on which fulfilment.
   */
  "party-points.confirm": ["admin", "center_staff", "grid_worker", "department"],
  "party-points.rank": ["admin", "center_staff", "leader", "grid_worker", "party_member"],
  "household-leads.read-settings": ANY,
  "household-leads.settings": STAFF,
  "household-leads.record": REGISTRY_WRITERS,
  /** A lead reads only their own statement (the rule in `services/household-leads.ts`). */
  "household-leads.statement": ["admin", "center_staff", "leader", "grid_worker", "household_lead"],
  "household-leads.settle": STAFF,
  "household-leads.flag": STAFF,
  "household-leads.list": ["admin", "center_staff", "leader", "grid_worker"],

  // --- deliberation (两说一商): sessions, matters, the four steps, notices, tasks, figures
  /** Reading sessions, matters, items and the micro-power list of one's branch of the tree. */
  "deliberation.read": ANY,
  /** Running sessions and the procedure: steps, notices, decisions, tasks, results (the village centre). */
  "deliberation.run": STAFF,
  /**
   * Raising a matter, in a session or on a resident's behalf. Residents raise and follow their own matters with
   * their own tokens (`/v1/resident/matters`), in the residents' channel outside this table.
   */
  "deliberation.raise": ["admin", "center_staff", "grid_worker", "party_member", "deputy", "household_lead"],
  /** Objecting to a notice during its notice period. */
  "deliberation.object": ["admin", "center_staff", "grid_worker", "party_member", "deputy", "household_lead"],
  /** Reporting a task's progress: its owner (the rule in `services/deliberation.ts`) or the centre. */
  "deliberation.progress": [
    "admin",
    "center_staff",
    "grid_worker",
    "party_member",
    "deputy",
    "household_lead",
    "department",
  ],
  /** Satisfaction with a published result. */
  "deliberation.feedback": [
    "admin",
    "center_staff",
    "grid_worker",
    "party_member",
    "deputy",
    "household_lead",
  ],
  /** Registering representatives and Party members, and setting a unit's micro-power list. */
  "deliberation.registry": STAFF,
  "deliberation.figures": ["admin", "center_staff", "leader"],
  /** Requiring a village to review an item: centres above the village (the rule in `services/deliberation.ts`). */
  "deliberation.review": STAFF,

  // --- ops: the state of the platform itself
  /** How far the case projection lags its GridDesks. */
  "ops.projection-lag": ["admin"],

  // --- residents' own channel and Open311: residents act with their own token audience (role `resident`,
  // platform/http/resident-auth.ts), never through this table; these rows are the staff side of it.
  /** Linking a resident's account (by mobile number) to a household in one's unit. */
  "resident-accounts.link": REGISTRY_WRITERS,
  /** Registering and revoking the apps that may post Open311 requests with an api_key. */
  "open311.apps": ["admin"],
  /** Residents' ratings of a party member, in aggregate, for the annual review. */
  "resident-ratings.read": ["admin", "center_staff", "leader"],
  // --- emergency command (应急指挥)
  /** Reading events, their progress, the live stream and the after-action report (inside one's subtree). */
  "emergency.read": ANY,
  /** Declaring, raising, lowering, adding units, standing down and registering shelters (town centres and above). */
  "emergency.command": STAFF,
  /** Reading a grid's roster with phones (audited) and checking households in: the event's responders. */
  "emergency.respond": ["admin", "center_staff", "grid_worker", "party_member", "deputy", "household_lead"],
  // --- figures and bulletins: what a centre sees of its subtree (counts only, no personal data)
  /** Case figures, league tables, hot spots and return-visit satisfaction of a subtree. */
  "figures.read": ["admin", "center_staff", "leader"],
  /** Reading a centre's periodic bulletins (定期通报). */
  "bulletins.read": ["admin", "center_staff", "leader"],
  // --- bulletin versions: regenerating a period's bulletin after its figures changed
  /** Regenerating a centre's bulletin of a period as a new version (delivered again when it differs). */
  "bulletins.regenerate": STAFF,
} as const satisfies Record<string, readonly Role[]>;

/** An action some role may perform. */
export type Action = keyof typeof PERMISSIONS;

/**
 * Whether `role` may perform `action`.
 *
 * @example
 * can("grid_worker", "households.write"); // true
 */
export function can(role: Role, action: Action): boolean {
  return (PERMISSIONS[action] as readonly Role[]).includes(role);
}

/** The roles allowed an action, in the table's order. */
export function rolesFor(action: Action): readonly Role[] {
  return PERMISSIONS[action];
}
