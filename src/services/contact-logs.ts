import { caseActors } from "../db/repos/cases";
import { type CaseLinkRow, insertLink, linksOf, linkTargets } from "../db/repos/contact-logs";
import { pairedWithAny, settingsOnPath } from "../db/repos/contacts";
import {
  DEFAULT_LATE_WINDOW_DAYS,
  isLine,
  isOnCase,
  LATE_WINDOW_KEY,
  parseLateWindowDays,
  resolveSetting,
  contactTiming as timingRule,
} from "../domain/contacts";
import { inScope } from "../domain/units";
import { GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { Problem, problems } from "../platform/http/problem";
import { auditBy, type Caller } from "./caller";
import { userInScope } from "./three-lines";

const bad = (path: string, message: string) =>
  problems.badRequest("The link does not hold", [{ path, message }]);

/**
 * Links a contact's log to a case: by the contact themself, or by staff whose subtree holds the contact.
 * The case must be in both the contact's and the caller's subtree (as projected); a mediation links a
 * dispute; a named visit is the contact's own, at one of the case's households; and the contact must be on
 * the case — its reporter, an actor on its timeline, or paired with one of its households (403 `not-on-case`,
 * so no one earns points for a case they had no part in). One link per contact, case and kind (409). Audited.
 */
export async function linkCase(
  env: Cloudflare.Env,
  caller: Caller,
  contactId: string,
  body: { caseId: string; kind: CaseLinkRow["kind"]; visitId?: string; note?: string },
): Promise<CaseLinkRow> {
  const { principal } = caller;
  if (isLine(principal.role) && principal.userId !== contactId) {
    throw problems.forbidden("A contact links only their own logs");
  }
  const contact = await userInScope(env, principal, contactId);
  if (!isLine(contact.role)) throw bad("userId", `the user is a ${contact.role}, not a three-line contact`);
  const db = getDb(env);
  const { found, visit } = await linkTargets(db, body.caseId, body.visitId ?? null);
  const visible = (path: string) => inScope(contact.unitPath, path) && inScope(principal.unitPath, path);
  if (!found || !(visible(found.owningPath) || visible(found.responsiblePath))) {
    throw bad("caseId", "no such case in the contact's subtree (a new case is linkable once projected)");
  }
  if (body.kind === "mediation" && found.type !== "dispute") {
    throw bad("kind", "a mediation links a dispute case");
  }
  const households = (JSON.parse(found.doc) as { householdIds?: string[] }).householdIds ?? [];
  if (body.visitId) {
    if (!visit || visit.visitor !== contact.id) throw bad("visitId", "no such visit by this contact");
    if (households.length && !households.includes(visit.householdId)) {
      throw bad("visitId", "the visit was at none of the case's households");
    }
  }
  const timeline = await caseActors(db, body.caseId);
  if (!timeline || !isOnCase(contact.id, timeline, await pairedWithAny(db, contact.id, households))) {
    throw new Problem(
      403,
      "not-on-case",
      "A log is linked only to a case its contact is on: as its reporter, an actor on its timeline, or paired with one of its households",
    );
  }
  const link: CaseLinkRow = {
    id: crypto.randomUUID(),
    contactId: contact.id,
    caseId: body.caseId,
    kind: body.kind,
    visitId: body.visitId ?? null,
    note: body.note ?? null,
    createdBy: principal.userId,
    createdAt: new Date().toISOString(),
  };
  try {
    await writeAudited(
      db,
      [insertLink(db, { ...link, unitPath: contact.unitPath })],
      [
        auditBy(
          caller,
          "contact.case-link",
          { type: "contact", id: contact.id, scopePath: contact.unitPath },
          {
            caseId: link.caseId,
            kind: link.kind,
          },
        ),
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    // The insert does nothing when the contact already has this kind of link to the case.
    if (error instanceof GuardFailed) {
      throw problems.conflict("already-linked", `The contact's ${body.kind} is already linked to this case`);
    }
    throw error;
  }
  return link;
}

/** A contact's links to cases, newest first (up to 200); 404 for a contact outside the caller's subtree. */
export async function listLinks(
  env: Cloudflare.Env,
  caller: Caller,
  contactId: string,
): Promise<CaseLinkRow[]> {
  const contact = await userInScope(env, caller.principal, contactId);
  return linksOf(getDb(env), contact.id);
}

/**
 * The back-dating rule for a contact with a household (a visit, call or reception) at `householdPath`: one
 * dated further back than the window in force there (unit setting `contacts.late_window_days`, inherited,
 * default 7 days) is 400, so it neither earns points nor moves the household's visit clock further back
 * than the window; one recorded more than a day after it happened is marked as recorded late.
 */
export async function contactTiming(
  env: Cloudflare.Env,
  householdPath: string,
  visitedAt: Date,
  now: Date,
): Promise<{ recordedLate: boolean }> {
  const settings = await settingsOnPath(getDb(env), householdPath, [LATE_WINDOW_KEY]);
  const windowDays = resolveSetting(settings, parseLateWindowDays, DEFAULT_LATE_WINDOW_DAYS);
  const timing = timingRule(visitedAt.getTime(), now.getTime(), windowDays);
  if (!timing.ok) {
    throw problems.badRequest(`A contact is recorded within ${windowDays} days of making it`, [
      { path: "visitedAt", message: timing.reason },
    ]);
  }
  return { recordedLate: timing.recordedLate };
}
