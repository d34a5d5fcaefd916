import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  caseListStatement,
  directoryOf,
  directoryStatement,
  duplicateStatement,
  duplicatesOf,
  unitRefs,
} from "../../db/repos/cases";
import { loadSlaRulesBook, slaRulesBookOf, slaRulesBookStatement } from "../../db/repos/sla-policy";
import {
  allowedActions,
  CASE_ACTIONS,
  type CaseCommand,
  canSeeCase,
  SLA_POLICY_NEEDED,
} from "../../domain/case-lifecycle";
import {
  type Actor,
  CASE_SEVERITIES,
  CASE_SEVERITY_LABELS,
  CASE_STATE_LABELS,
  CASE_STATES,
  CASE_TYPE_LABELS,
  CASE_TYPES,
  type CaseRecord,
  MEDIATION_METHODS,
  MEDIATION_RESULTS,
  type NewCase,
  SATISFACTION_LABELS,
  SATISFACTIONS,
  type UnitRef,
} from "../../domain/case-model";
import { ESCALATION_REASON_CODES, ESCALATION_REASON_LABELS } from "../../domain/escalation";
import { SLA_STEPS, type SlaRulesBook } from "../../domain/sla";
import { inScope } from "../../domain/units";
import type {
  CommandResult,
  CreateInput,
  CreateResult,
  DeskFailure,
  GridDesk,
} from "../../durable/grid-desk/grid-desk";
import type { AppEnv, Principal } from "../../env";
import { getDb, isDbUnavailable } from "../../platform/db/client";
import { assertInScope, principalOf } from "../../platform/http/auth";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { decodeCursor, encodeCursor, pageQuery, pageSchema } from "../../platform/http/pagination";
import { Problem, problems } from "../../platform/http/problem";

// ---------------------------------------------------------------------------------------------------------
// Finding a case's GridDesk.
//
// A case lives in the GridDesk of its owning unit for life (dispatch and escalation change the responsible
// unit, never the owner), so "which desk?" has one answer that never goes stale. We look for it, in order:
//  1. this isolate's memory of ids it has already located (safe to cache forever: the owner never changes);
//  2. the caller's hint `?gridId=` (clients keep the owning grid of the cases they hold);
//  3. the case directory in libSQL (the projection's `cases.owning_unit_id`) — skipped if libSQL is down;
//  4. the caller's own unit (a grid worker's own cases, even before the projection has caught up).
// Each probe asks a desk; a desk that does not own the case says so, and we try the next. The answer is
// always read from the desk itself, so a wrong hint can only cost a probe, never return a wrong case.
// ---------------------------------------------------------------------------------------------------------

const located = new Map<string, string>();
const LOCATED_MAX = 50_000;

/** Forgets every located case (tests use it to exercise the directory and the hints). */
export function forgetLocatedCases(): void {
  located.clear();
}

function remember(caseId: string, owningUnitId: string): void {
  if (located.size >= LOCATED_MAX) located.delete(located.keys().next().value!);
  located.set(caseId, owningUnitId);
}

/** The GridDesk of an owning unit. */
export function deskOf(env: Cloudflare.Env, owningUnitId: string): DurableObjectStub<GridDesk> {
  return env.GRID_DESK.get(env.GRID_DESK.idFromName(owningUnitId));
}

/** Calls a desk, turning a runtime failure into a 503 problem (a GridDesk error is never a 500). */
export async function callDesk<T>(c: Context<AppEnv>, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Problem) throw error;
    console.error(
      JSON.stringify({ requestId: c.get("requestId"), kind: "grid-desk-error", error: String(error) }),
    );
    throw new Problem(503, "grid-desk-unavailable", "The case desk is unavailable; try again shortly", {
      headers: { "retry-after": "1" },
    });
  }
}

async function* candidateOwners(c: Context<AppEnv>, caseId: string, hint: string | undefined) {
  const tried = new Set<string>();
  const fresh = (id: string | undefined | null): boolean => {
    if (!id || tried.has(id)) return false;
    tried.add(id);
    return true;
  };
  const cached = located.get(caseId);
  if (fresh(cached)) yield cached!;
  if (fresh(hint)) yield hint!;
  let fromDirectory: string | undefined;
  try {
    const result = await getDb(c.env).$client.execute(directoryStatement([caseId]));
    fromDirectory = directoryOf(result.rows).get(caseId);
  } catch (error) {
    if (!isDbUnavailable(error)) throw error;
  }
  if (fresh(fromDirectory)) yield fromDirectory!;
  const own = principalOf(c).unitId;
  if (fresh(own)) yield own;
}

/**
 * Runs `attempt` against the desks that may own `caseId` until one answers with something other than
 * "not here" (null or a 404 failure); 404 if none does.
 */
export async function withCaseDesk<T>(
  c: Context<AppEnv>,
  caseId: string,
  hint: string | undefined,
  attempt: (desk: DurableObjectStub<GridDesk>) => Promise<T | null>,
): Promise<T> {
  for await (const owner of candidateOwners(c, caseId, hint)) {
    const result = await callDesk(c, () => attempt(deskOf(c.env, owner)));
    if (result === null || isNotHere(result)) continue;
    remember(caseId, owner);
    return result;
  }
  throw problems.notFound("case");
}

const isNotHere = (r: unknown) =>
  typeof r === "object" && r !== null && (r as DeskFailure).ok === false && (r as DeskFailure).status === 404;

/** The acting user as the lifecycle sees them. */
export function actorOf(p: Principal): Actor {
  return {
    userId: p.userId,
    role: p.role,
    unitId: p.unitId,
    unitPath: p.unitPath,
    unitLevel: p.unitLevel as Actor["unitLevel"],
  };
}

/** Turns a desk refusal into its problem (412 carries the current version). */
export function deskProblem(failure: DeskFailure): Problem {
  return new Problem(failure.status, failure.code, failure.detail, {
    ...(failure.currentVersion !== undefined
      ? {
          extensions: { currentVersion: failure.currentVersion },
          headers: { etag: `"${failure.currentVersion}"` },
        }
      : {}),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------------------

const labels = (entries: Record<string, string>) =>
  Object.entries(entries)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; ");

const CaseTypeSchema = z.enum(CASE_TYPES).openapi({ description: labels(CASE_TYPE_LABELS) });
const SeveritySchema = z.enum(CASE_SEVERITIES).openapi({ description: labels(CASE_SEVERITY_LABELS) });
const StateSchema = z.enum(CASE_STATES).openapi({ description: labels(CASE_STATE_LABELS) });
const SatisfactionSchema = z.enum(SATISFACTIONS).openapi({ description: labels(SATISFACTION_LABELS) });
const Note = z.string().trim().min(1).max(2000);

const LocationSchema = z
  .strictObject({
    lat: z.number().min(-90).max(90).optional(),
    lng: z.number().min(-180).max(180).optional(),
    address: z.string().trim().min(1).max(300).optional(),
  })
  .refine((l) => (l.lat === undefined) === (l.lng === undefined), {
    message: "lat and lng come together",
    path: ["lat"],
  })
  .refine((l) => l.lat !== undefined || l.address !== undefined, {
    message: "give lat/lng, an address, or both",
  })
  .openapi("CaseLocation");

const MediationSchema = z
  .strictObject({
    parties: z
      .array(
        z.strictObject({
          name: z.string().trim().min(1).max(100),
          role: z.string().trim().max(100).optional(),
        }),
      )
      .max(50)
      .optional(),
    subject: z.string().trim().min(1).max(500).optional(),
    amountInvolved: z
      .number()
      .min(0)
      .max(1e12)
      .optional()
      .openapi({ description: "Amount in dispute, yuan" }),
    peopleInvolved: z.number().int().min(0).max(1_000_000).optional(),
    method: z.enum(MEDIATION_METHODS).optional(),
    mediator: z.string().trim().min(1).max(100).optional(),
    result: z.enum(MEDIATION_RESULTS).optional(),
  })
  .openapi("Mediation", { description: "调解: the mediation section of a dispute" });

const NewCaseFields = {
  id: z
    .uuid()
    .optional()
    .openapi({ description: "Client-generated case id: repeating it replays the first result" }),
  gridId: z.uuid().optional().openapi({
    description: "The village or grid where the case is reported (its owner); default: your own unit",
  }),
  type: CaseTypeSchema,
  severity: SeveritySchema.default("normal"),
  title: z.string().trim().min(1).max(200),
  description: z.string().trim().max(4000).default(""),
  location: LocationSchema.optional(),
  householdIds: z.array(z.uuid()).max(50).default([]),
  residentIds: z.array(z.uuid()).max(100).default([]),
  mediation: MediationSchema.optional(),
};
const NewCaseSchema = z.strictObject(NewCaseFields).openapi("NewCase");
type NewCaseBody = z.infer<typeof NewCaseSchema>;

const UnitRefSchema = z.object({ id: z.uuid(), path: z.string(), level: z.string() });
const ActorRefSchema = z.object({ userId: z.string(), role: z.string(), unitId: z.string() });

const CaseSchema = z
  .object({
    id: z.uuid(),
    type: CaseTypeSchema,
    severity: SeveritySchema,
    state: StateSchema,
    version: z.number().int().openapi({ description: "Send it back as If-Match with the next command" }),
    seq: z.number().int(),
    title: z.string(),
    description: z.string(),
    location: LocationSchema.nullable(),
    householdIds: z.array(z.string()),
    residentIds: z.array(z.string()),
    mediation: MediationSchema.nullable(),
    reporter: ActorRefSchema,
    owningUnit: UnitRefSchema,
    responsibleUnit: UnitRefSchema.extend({ department: z.string().nullable() }),
    coordinatorUnit: UnitRefSchema.nullable(),
    rejection: z.object({ reason: z.string(), at: z.string(), by: z.string() }).nullable(),
    mergedInto: z.string().nullable(),
    resolution: z.object({ note: z.string(), at: z.string(), by: z.string() }).nullable(),
    returnVisit: z
      .object({
        satisfaction: SatisfactionSchema,
        note: z.string().nullable(),
        at: z.string(),
        by: z.string(),
      })
      .nullable(),
    attachments: z.array(
      z.object({
        id: z.string(),
        contentType: z.string(),
        size: z.number().int(),
        at: z.string(),
        by: z.string(),
        stage: StateSchema,
      }),
    ),
    reopenCount: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    closedAt: z.string().nullable(),
    deadlines: z
      .object({
        phase: z.enum(["accept", "resolve"]),
        startedAt: z.string(),
        warnAt: z.string().openapi({ description: "预警: the warning falls due" }),
        dueAt: z.string().openapi({ description: "超期 after this time" }),
        escalateAt: z
          .string()
          .openapi({ description: "Escalated automatically to the next level after this" }),
        unitId: z.string().openapi({ description: "The responsible unit the clock runs for" }),
        step: z.enum(SLA_STEPS).nullable().openapi({ description: "The last deadline step taken" }),
        policy: z.enum(["effective", "default"]).openapi({
          description:
            "`effective`: the unit's time-limit policy; `default`: the built-in defaults (the policy could not be read)",
        }),
      })
      .nullable()
      .optional()
      .openapi({ description: "The running time limit (时限); null when no clock runs (resolved, closed…)" }),
    overdue: z
      .boolean()
      .optional()
      .openapi({ description: "Whether the case ever went past a deadline (超期)" }),
    escalationCount: z.number().int().optional(),
    notices: z
      .array(
        z.object({
          kind: z
            .enum(["supervision", "urge"])
            .openapi({ description: "`supervision` — 督办; `urge` — 催办" }),
          seq: z.number().int(),
          at: z.string(),
          by: z.string(),
          fromUnitId: z.string(),
          toUnitId: z.string(),
          message: z.string(),
          deadline: z.string().nullable(),
        }),
      )
      .optional(),
    actions: z
      .array(z.enum(CASE_ACTIONS))
      .openapi({ description: "The commands you may perform on the case now" }),
  })
  .openapi("Case");

const EventSchema = z
  .object({
    seq: z.number().int(),
    type: z.string(),
    at: z.string(),
    actor: z.record(z.string(), z.unknown()),
    payload: z.record(z.string(), z.unknown()),
  })
  .openapi("CaseEvent");

const DuplicateSchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    state: z.string(),
    owningUnitId: z.string(),
    distanceM: z.number(),
    createdAt: z.string(),
  })
  .openapi("DuplicateHint");

const CreatedSchema = CaseSchema.extend({
  duplicates: z.array(DuplicateSchema).openapi({
    description: "Open cases of the same type within 200 m in the same village from the last 7 days",
  }),
}).openapi("CreatedCase");

const SummarySchema = z
  .object({
    id: z.uuid(),
    type: CaseTypeSchema,
    severity: SeveritySchema,
    state: StateSchema,
    version: z.number().int(),
    title: z.string(),
    owningUnitId: z.string(),
    responsibleUnit: z.object({ id: z.string(), level: z.string(), department: z.string().nullable() }),
    location: LocationSchema.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    closedAt: z.string().nullable(),
  })
  .openapi("CaseSummary");

const view = (r: CaseRecord, actor: Actor) => ({ ...r, actions: allowedActions(r, actor) });
const summary = (r: CaseRecord) => ({
  id: r.id,
  type: r.type,
  severity: r.severity,
  state: r.state,
  version: r.version,
  title: r.title,
  owningUnitId: r.owningUnit.id,
  responsibleUnit: {
    id: r.responsibleUnit.id,
    level: r.responsibleUnit.level,
    department: r.responsibleUnit.department,
  },
  location: r.location,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  closedAt: r.closedAt,
});

// ---------------------------------------------------------------------------------------------------------
// Create helpers
// ---------------------------------------------------------------------------------------------------------

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** The case id an Idempotency-Key stands for: a UUIDv8 from SHA-256(user, key), so each user has their own keys. */
async function idForKey(userId: string, key: string): Promise<string> {
  const b = (await sha256(`grid321-case\n${userId}\n${key}`)).slice(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** JSON with sorted keys, so equal requests hash equally whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function toNewCase(id: string, body: NewCaseBody): NewCase {
  return {
    id,
    type: body.type,
    severity: body.severity,
    title: body.title,
    description: body.description,
    location: body.location ?? null,
    householdIds: body.householdIds,
    residentIds: body.residentIds,
    mediation: body.mediation ?? null,
  };
}

/** Owning units for the reports: the caller's own unit from the token, others from the registry (one query). */
async function owningUnits(c: Context<AppEnv>, ids: string[]): Promise<Map<string, UnitRef>> {
  const p = principalOf(c);
  const own: UnitRef = { id: p.unitId, path: p.unitPath, level: p.unitLevel as UnitRef["level"] };
  const others = [...new Set(ids.filter((id) => id !== p.unitId))];
  const found = others.length ? await unitRefs(getDb(c.env), others) : new Map<string, UnitRef>();
  found.set(own.id, own);
  return found;
}

interface PreparedReport {
  item: CreateInput;
  owner: UnitRef;
}

async function prepare(
  c: Context<AppEnv>,
  id: string,
  body: NewCaseBody,
  owner: UnitRef,
): Promise<PreparedReport> {
  const p = principalOf(c);
  const { id: _id, gridId: _grid, ...content } = body;
  const requestHash = hex(await sha256(canonical({ reporter: p.userId, owner: owner.id, content })));
  return { owner, item: { input: toNewCase(id, body), owningUnit: owner, requestHash, duplicates: [] } };
}

// ---------------------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------------------

const GridHint = z.object({
  gridId: z
    .uuid()
    .optional()
    .openapi({ description: "The case's owning unit, if known: saves a directory lookup" }),
});

const IfMatchHeader = z.object({
  "if-match": z.string().max(40).optional().openapi({ description: 'The case version, e.g. "3" (required)' }),
});

const createCase = createRoute({
  method: "post",
  path: "/v1/cases",
  tags: ["cases"],
  summary: "Report a case (上报)",
  description:
    "Idempotent: give the case `id` or an `Idempotency-Key` header. Repeating the same report returns the first result (200, same body); reusing an id or key for a different report is 422. Concurrent repeats are serialized by the owning unit's GridDesk, so they also get the first result. The response lists possible duplicates nearby.",
  security: bearer,
  request: {
    headers: z.object({ "idempotency-key": z.string().max(200).optional() }),
    body: jsonBody(NewCaseSchema),
  },
  responses: {
    201: jsonResponse(CreatedSchema, "Reported"),
    200: jsonResponse(CreatedSchema, "A replay: the first result"),
    ...errorResponses(403, 404, 422, 503),
  },
});

const SyncResultSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(["created", "replayed", "error"]),
    case: CaseSchema.optional(),
    error: z.object({ status: z.number().int(), type: z.string(), detail: z.string() }).optional(),
  })
  .openapi("SyncResult");

const syncCases = createRoute({
  method: "post",
  path: "/v1/cases/sync",
  tags: ["cases"],
  summary: "Upload up to 100 reports made offline",
  description:
    "Each report needs its client-generated `id`. Reports are grouped per owning unit (one GridDesk call each) and each gets its own result: created, replayed, or an error. Duplicate hints are not computed here.",
  security: bearer,
  request: {
    body: jsonBody(
      z
        .strictObject({
          reports: z
            .array(z.strictObject({ ...NewCaseFields, id: z.uuid() }))
            .min(1)
            .max(100),
        })
        .openapi("CaseSync"),
    ),
  },
  responses: {
    200: jsonResponse(z.object({ results: z.array(SyncResultSchema) }), "One result per report, in order"),
    ...errorResponses(503),
  },
});

const getCase = createRoute({
  method: "get",
  path: "/v1/cases/{id}",
  tags: ["cases"],
  summary: "One case with its full timeline, live from its GridDesk",
  security: bearer,
  request: { params: IdParam, query: GridHint },
  responses: {
    200: jsonResponse(CaseSchema.extend({ timeline: z.array(EventSchema) }), "The case; ETag is its version"),
    ...errorResponses(404, 503),
  },
});

const ListQuery = z.object({
  unitId: z.uuid().optional().openapi({ description: "Only this unit's subtree (default: yours)" }),
  state: StateSchema.optional(),
  type: CaseTypeSchema.optional(),
  severity: SeveritySchema.optional(),
  from: z.iso.datetime().optional().openapi({ description: "Reported at or after (ISO 8601)" }),
  to: z.iso.datetime().optional().openapi({ description: "Reported before (ISO 8601)" }),
  q: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: "Text in title, description or address" }),
  ...pageQuery,
});

const listCases = createRoute({
  method: "get",
  path: "/v1/cases",
  tags: ["cases"],
  summary: "Search cases in your subtree (from the projection; may lag the desks by about a second)",
  security: bearer,
  request: { query: ListQuery },
  responses: {
    200: jsonResponse(pageSchema(SummarySchema), "A page of cases, newest first"),
    ...errorResponses(404, 503),
  },
});

const gridCases = createRoute({
  method: "get",
  path: "/v1/grids/{id}/cases",
  tags: ["cases"],
  summary: "One grid's cases, live from its GridDesk (the grid worker's own list)",
  security: bearer,
  request: { params: IdParam, query: z.object({ state: StateSchema.optional(), ...pageQuery }) },
  responses: {
    200: jsonResponse(pageSchema(SummarySchema), "A page of cases, newest first"),
    ...errorResponses(404, 503),
  },
});

function commandRoute<S extends z.ZodTypeAny>(slug: string, summaryText: string, body: S, required = true) {
  return createRoute({
    method: "post",
    path: `/v1/cases/{id}/${slug}`,
    tags: ["cases"],
    summary: summaryText,
    description:
      "Requires `If-Match` with the case version: 428 without it, 412 if stale (with `currentVersion`), 409 if the case's state does not allow it, 403 if your role or unit may not.",
    security: bearer,
    request: {
      params: IdParam,
      query: GridHint,
      headers: IfMatchHeader,
      body: { ...jsonBody(body), required },
    },
    responses: {
      200: jsonResponse(CaseSchema, "The case after the command; ETag is its new version"),
      ...errorResponses(403, 404, 409, 412, 428, 503),
    },
  });
}

const NoteBody = z.strictObject({ note: Note.optional() });
const ReasonBody = z.strictObject({ reason: Note });

const commands = {
  accept: commandRoute("accept", "Accept a report (受理)", NoteBody.openapi("AcceptCase"), false),
  reject: commandRoute(
    "reject",
    "Reject a report with a reason (不予受理)",
    ReasonBody.openapi("RejectCase"),
  ),
  merge: commandRoute(
    "merge",
    "Merge a report into another case as its duplicate",
    z.strictObject({ intoCaseId: z.uuid(), note: Note.optional() }).openapi("MergeCase"),
  ),
  dispatch: commandRoute(
    "dispatch",
    "Dispatch to a unit or one of its departments (分流)",
    z
      .strictObject({
        unitId: z
          .uuid()
          .openapi({ description: "A unit in your subtree, or a unit above you (with a department)" }),
        department: z.string().trim().min(1).max(100).optional().openapi({
          description:
            "A functional department of that city, county or town (e.g. 司法所); its `department` users handle it",
        }),
        note: Note.optional(),
      })
      .openapi("DispatchCase"),
  ),
  start: commandRoute("start", "Start handling (办理)", NoteBody.openapi("StartCase"), false),
  resolve: commandRoute(
    "resolve",
    "Resolve with a note (办结); disputes give the mediation result",
    z
      .strictObject({ note: z.string().trim().min(1).max(4000), mediation: MediationSchema.optional() })
      .openapi("ResolveCase"),
  ),
  returnVisit: commandRoute(
    "return-visit",
    "Record the return visit (回访); dissatisfied reopens the case",
    z.strictObject({ satisfaction: SatisfactionSchema, note: Note.optional() }).openapi("ReturnVisit"),
  ),
  close: commandRoute(
    "close",
    "Close (归档): needs a satisfied return visit, or a resolution note with a handling photo",
    NoteBody.openapi("CloseCase"),
    false,
  ),
  reopen: commandRoute("reopen", "Reopen a resolved or closed case", ReasonBody.openapi("ReopenCase")),
  escalate: commandRoute(
    "escalate",
    "Escalate to the next level's centre (上报上级): grid → village → town → county → city",
    z
      .strictObject({
        reason: Note.openapi({ description: "Why it is beyond this level's power" }),
        reasonCode: z
          .enum(ESCALATION_REASON_CODES)
          .optional()
          .openapi({
            description: `Required from a grid or a village (small matters stay in the grid): ${labels(ESCALATION_REASON_LABELS)}`,
          }),
      })
      .openapi("EscalateCase"),
  ),
  sendDown: commandRoute(
    "send-down",
    "Send the case down to a unit below the responsible one (下派), with a reason and new deadlines",
    z
      .strictObject({
        unitId: z.uuid().openapi({ description: "A unit below the one now responsible" }),
        reason: Note,
        deadline: z.iso.datetime({ offset: true }).optional().openapi({
          description: "Its own deadline to resolve; default: from the new unit's time-limit policy",
        }),
      })
      .openapi("SendDownCase"),
  ),
  supervise: commandRoute(
    "supervise",
    "Issue a supervision notice (督办): a centre above the responsible unit, with a message and a deadline",
    z.strictObject({ message: Note, deadline: z.iso.datetime({ offset: true }) }).openapi("SuperviseCase"),
  ),
  urge: commandRoute(
    "urge",
    "Urge the responsible unit (催办): a lighter notice from a centre above it",
    z
      .strictObject({ message: Note, deadline: z.iso.datetime({ offset: true }).optional() })
      .openapi("UrgeCase"),
  ),
};

const isoOf = (t: string | undefined) => (t === undefined ? null : new Date(t).toISOString());

/** Parses If-Match: 428 if missing, 400 if it is not a version. */
function expectedVersion(header: string | undefined): number {
  if (header === undefined || header.trim() === "") throw problems.preconditionRequired();
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!match) {
    throw problems.badRequest('If-Match must be the case version, e.g. "3"', [
      { path: "header.if-match", message: "not a version" },
    ]);
  }
  return Number(match[1]);
}

/**
 * Sends a command to the case's desk. Time-limit policies are read here, never inside the desk: `policyPaths`
 * are the units whose policy a new clock will likely need (the accepting unit, a dispatch target). If the
 * desk answers that it needs another unit's policy (an escalation, a reopened case) nothing was written, and
 * the command is sent once more with that policy. If libSQL is down the desk runs the clock on the defaults.
 */
async function runCommand(
  c: Context<AppEnv>,
  caseId: string,
  hint: string | undefined,
  build: () => Promise<CaseCommand> | CaseCommand,
  policyPaths: (command: CaseCommand) => string[] = () => [],
) {
  const p = principalOf(c);
  const version = expectedVersion(c.req.header("if-match"));
  const actor = actorOf(p);
  const command = await build();
  const paths = policyPaths(command);
  let book: SlaRulesBook = paths.length
    ? await loadSlaRulesBook(getDb(c.env), paths)
    : { unitIds: [], rules: {} };
  let result: CommandResult;
  for (let attempt = 0; ; attempt++) {
    const sla = book;
    result = await withCaseDesk<CommandResult>(
      c,
      caseId,
      hint,
      (desk) => desk.command(caseId, command, actor, version, sla) as Promise<CommandResult>,
    );
    if (result.ok || result.code !== SLA_POLICY_NEEDED || !result.policyPath || attempt > 0) break;
    book = await loadSlaRulesBook(getDb(c.env), [result.policyPath]);
  }
  if (!result.ok) throw deskProblem(result);
  c.header("etag", `"${result.record.version}"`);
  return c.json(view(result.record, actor), 200);
}

async function loadCase(c: Context<AppEnv>, caseId: string, hint: string | undefined) {
  return withCaseDesk(
    c,
    caseId,
    hint,
    async (desk) => (await desk.getCase(caseId)) as { record: CaseRecord; events: unknown[] } | null,
  );
}

export const caseRoutes = createRouter()
  .openapi(createCase, async (c) => {
    const p = principalOf(c);
    const body = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw problems.badRequest("Idempotency-Key is 1–200 visible ASCII characters", [
        { path: "header.idempotency-key", message: "invalid" },
      ]);
    }
    const id = body.id ?? (key !== undefined ? await idForKey(p.userId, key) : crypto.randomUUID());
    const ownerId = body.gridId ?? p.unitId;
    const owner = (await owningUnits(c, [ownerId])).get(ownerId);
    if (!owner) throw problems.notFound("unit");
    assertInScope(p, owner.path, "unit");
    const prepared = await prepare(c, id, body, owner);

    // One read round trip: is this id already owned by another desk, and which open cases are nearby?
    const now = Date.now();
    const lat = body.location?.lat;
    const lng = body.location?.lng;
    const dupStatement =
      lat !== undefined && lng !== undefined
        ? duplicateStatement({ id, type: body.type, owningUnit: owner, lat, lng, now })
        : null;
    // The same round trip reads the time-limit rules of the owning unit and its ancestors for the new clock.
    const policyRead = slaRulesBookStatement([owner.path])!;
    let sla: SlaRulesBook = { unitIds: [], rules: {}, unavailable: true };
    try {
      const results = await getDb(c.env).$client.batch(
        [directoryStatement([id]), policyRead.statement, ...(dupStatement ? [dupStatement] : [])],
        "read",
      );
      sla = slaRulesBookOf(policyRead.ids, results[1]!.rows);
      const existingOwner = directoryOf(results[0]!.rows).get(id);
      if (existingOwner !== undefined && existingOwner !== owner.id) {
        throw new Problem(
          422,
          "idempotency-key-reused",
          "This case id or Idempotency-Key was already used for a different report",
        );
      }
      if (dupStatement && results[2]) {
        prepared.item.duplicates = duplicatesOf(results[2].rows, {
          id,
          type: body.type,
          owningUnit: owner,
          lat: lat!,
          lng: lng!,
          now,
        });
      }
    } catch (error) {
      // The projection is an aid here: with libSQL down the report still goes in, without hints.
      if (!isDbUnavailable(error)) throw error;
    }

    const actor = actorOf(p);
    const result = await callDesk(
      c,
      () => deskOf(c.env, owner.id).create(prepared.item, actor, sla) as Promise<CreateResult>,
    );
    if (!result.ok) throw deskProblem(result);
    remember(id, owner.id);
    c.header("etag", `"${result.record.version}"`);
    c.header("location", `/v1/cases/${id}?gridId=${owner.id}`);
    return c.json(
      { ...view(result.record, actor), duplicates: result.duplicates },
      result.outcome === "created" ? 201 : 200,
    );
  })
  .openapi(syncCases, async (c) => {
    const p = principalOf(c);
    const actor = actorOf(p);
    const { reports } = c.req.valid("json");
    const owners = await owningUnits(
      c,
      reports.map((r) => r.gridId ?? p.unitId),
    );
    let directory = new Map<string, string>();
    const policyRead = slaRulesBookStatement([...owners.values()].map((o) => o.path));
    let sla: SlaRulesBook = { unitIds: [], rules: {}, unavailable: true };
    try {
      const [found, rules] = await getDb(c.env).$client.batch(
        [directoryStatement(reports.map((r) => r.id)), ...(policyRead ? [policyRead.statement] : [])],
        "read",
      );
      directory = directoryOf(found!.rows);
      if (policyRead && rules) sla = slaRulesBookOf(policyRead.ids, rules.rows);
    } catch (error) {
      if (!isDbUnavailable(error)) throw error;
    }
    type Result = z.infer<typeof SyncResultSchema>;
    const results: Result[] = new Array(reports.length);
    const error = (status: number, slug: string, detail: string) => ({
      status,
      type: `https://grid321.ankang.gov.cn/problems/${slug}`,
      detail,
    });
    const groups = new Map<string, Array<{ index: number; prepared: PreparedReport }>>();
    const seenOwner = new Map<string, string>();
    for (const [index, report] of reports.entries()) {
      const owner = owners.get(report.gridId ?? p.unitId);
      if (!owner || !canSeeOwner(p, owner)) {
        results[index] = { id: report.id, status: "error", error: error(404, "not-found", "No such unit") };
        continue;
      }
      const knownOwner = directory.get(report.id) ?? seenOwner.get(report.id);
      if (knownOwner !== undefined && knownOwner !== owner.id) {
        results[index] = {
          id: report.id,
          status: "error",
          error: error(422, "idempotency-key-reused", "This case id was already used for a different report"),
        };
        continue;
      }
      seenOwner.set(report.id, owner.id);
      const group = groups.get(owner.id) ?? [];
      group.push({ index, prepared: await prepare(c, report.id, report, owner) });
      groups.set(owner.id, group);
    }
    await Promise.all(
      [...groups].map(async ([ownerId, group]) => {
        let outcomes: CreateResult[];
        try {
          outcomes = (await deskOf(c.env, ownerId).createMany(
            group.map((g) => g.prepared.item),
            actor,
            sla,
          )) as CreateResult[];
        } catch (e) {
          console.error(
            JSON.stringify({ requestId: c.get("requestId"), kind: "grid-desk-error", error: String(e) }),
          );
          for (const g of group) {
            results[g.index] = {
              id: g.prepared.item.input.id,
              status: "error",
              error: error(503, "grid-desk-unavailable", "The case desk is unavailable; retry this report"),
            };
          }
          return;
        }
        outcomes.forEach((outcome, i) => {
          const g = group[i]!;
          const id = g.prepared.item.input.id;
          if (outcome.ok) {
            remember(id, ownerId);
            results[g.index] = { id, status: outcome.outcome, case: view(outcome.record, actor) };
          } else {
            results[g.index] = {
              id,
              status: "error",
              error: error(outcome.status, outcome.code, outcome.detail),
            };
          }
        });
      }),
    );
    return c.json({ results }, 200);
  })
  .openapi(getCase, async (c) => {
    const p = principalOf(c);
    const { id } = c.req.valid("param");
    const found = await loadCase(c, id, c.req.valid("query").gridId);
    if (!canSeeCase(actorOf(p), found.record)) throw problems.notFound("case");
    c.header("etag", `"${found.record.version}"`);
    return c.json(
      { ...view(found.record, actorOf(p)), timeline: found.events as z.infer<typeof EventSchema>[] },
      200,
    );
  })
  .openapi(listCases, async (c) => {
    const p = principalOf(c);
    const query = c.req.valid("query");
    const after = decodeCursor(query.cursor, 2) as [string, string] | null;
    const db = getDb(c.env);
    let scopePath = p.unitPath;
    if (query.unitId && query.unitId !== p.unitId) {
      const unit = (await unitRefs(db, [query.unitId])).get(query.unitId);
      assertInScope(p, unit?.path, "unit");
      scopePath = unit!.path;
    }
    // Stored times are `toISOString()` text; compare like with like ("…:08Z" sorts after "…:08.674Z").
    const from = query.from && new Date(query.from).toISOString();
    const to = query.to && new Date(query.to).toISOString();
    const result = await db.$client.execute(
      caseListStatement({ ...query, from, to, scopePath, after, limit: query.limit }),
    );
    const records = result.rows.map((r) => JSON.parse(String(r.doc)) as CaseRecord);
    return c.json(page(records, query.limit), 200);
  })
  .openapi(gridCases, async (c) => {
    const p = principalOf(c);
    const { id } = c.req.valid("param");
    const { state, limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, 2) as [string, string] | null;
    const desk = deskOf(c.env, id);
    if (id !== p.unitId) {
      let unit: UnitRef | null | undefined;
      try {
        unit = (await unitRefs(getDb(c.env), [id])).get(id);
      } catch (error) {
        if (!isDbUnavailable(error)) throw error;
        unit = await callDesk(c, () => desk.owningUnit() as Promise<UnitRef | null>);
      }
      assertInScope(p, unit?.path, "unit");
    }
    const records = (await callDesk(
      c,
      () => desk.listCases({ state, limit: limit + 1, after }) as Promise<CaseRecord[]>,
    )) as CaseRecord[];
    return c.json(page(records, limit), 200);
  })
  .openapi(commands.accept, (c) =>
    runCommand(
      c,
      c.req.valid("param").id,
      c.req.valid("query").gridId,
      () => ({ action: "accept", note: c.req.valid("json")?.note ?? null }),
      // The accepting unit becomes responsible: its policy starts the resolve clock.
      () => [principalOf(c).unitPath],
    ),
  )
  .openapi(commands.reject, (c) =>
    runCommand(c, c.req.valid("param").id, c.req.valid("query").gridId, () => ({
      action: "reject",
      reason: c.req.valid("json").reason,
    })),
  )
  .openapi(commands.merge, (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    return runCommand(c, id, c.req.valid("query").gridId, async () => {
      const target = await loadCase(c, body.intoCaseId, undefined).catch((e: unknown) => {
        if (e instanceof Problem && e.status === 404) return null;
        throw e;
      });
      if (!target || !canSeeCase(actorOf(principalOf(c)), target.record)) {
        throw problems.badRequest("No such case to merge into", [
          { path: "intoCaseId", message: "not found" },
        ]);
      }
      if (target.record.state === "merged" || target.record.state === "rejected") {
        throw problems.conflict("merge-target", `The target case is ${target.record.state}`);
      }
      return { action: "merge", intoCaseId: body.intoCaseId, note: body.note ?? null };
    });
  })
  .openapi(commands.dispatch, (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    return runCommand(
      c,
      id,
      c.req.valid("query").gridId,
      async () => {
        const unit = (await unitRefs(getDb(c.env), [body.unitId])).get(body.unitId);
        if (!unit) throw problems.badRequest("No such unit", [{ path: "unitId", message: "not found" }]);
        return {
          action: "dispatch",
          target: { ...unit, department: body.department ?? null },
          note: body.note ?? null,
        };
      },
      (command) => (command.action === "dispatch" ? [command.target.path] : []),
    );
  })
  .openapi(commands.start, (c) =>
    runCommand(c, c.req.valid("param").id, c.req.valid("query").gridId, () => ({
      action: "start",
      note: c.req.valid("json")?.note ?? null,
    })),
  )
  .openapi(commands.resolve, (c) =>
    runCommand(c, c.req.valid("param").id, c.req.valid("query").gridId, () => {
      const body = c.req.valid("json");
      return { action: "resolve", note: body.note, mediation: body.mediation ?? null };
    }),
  )
  .openapi(commands.returnVisit, (c) =>
    runCommand(c, c.req.valid("param").id, c.req.valid("query").gridId, () => {
      const body = c.req.valid("json");
      return { action: "return_visit", satisfaction: body.satisfaction, note: body.note ?? null };
    }),
  )
  .openapi(commands.close, (c) =>
    runCommand(c, c.req.valid("param").id, c.req.valid("query").gridId, () => ({
      action: "close",
      note: c.req.valid("json")?.note ?? null,
    })),
  )
  .openapi(commands.reopen, (c) =>
    runCommand(c, c.req.valid("param").id, c.req.valid("query").gridId, () => ({
      action: "reopen",
      reason: c.req.valid("json").reason,
    })),
  )
  .openapi(commands.escalate, (c) =>
    runCommand(c, c.req.valid("param").id, c.req.valid("query").gridId, () => {
      const body = c.req.valid("json");
      return { action: "escalate", reason: body.reason, reasonCode: body.reasonCode ?? null };
    }),
  )
  .openapi(commands.sendDown, (c) => {
    const body = c.req.valid("json");
    return runCommand(
      c,
      c.req.valid("param").id,
      c.req.valid("query").gridId,
      async () => {
        const unit = (await unitRefs(getDb(c.env), [body.unitId])).get(body.unitId);
        if (!unit) throw problems.badRequest("No such unit", [{ path: "unitId", message: "not found" }]);
        return { action: "send_down", target: unit, reason: body.reason, deadline: isoOf(body.deadline) };
      },
      (command) => (command.action === "send_down" ? [command.target.path] : []),
    );
  })
  .openapi(commands.supervise, (c) =>
    runCommand(c, c.req.valid("param").id, c.req.valid("query").gridId, () => {
      const body = c.req.valid("json");
      return { action: "supervise", message: body.message, deadline: isoOf(body.deadline)! };
    }),
  )
  .openapi(commands.urge, (c) =>
    runCommand(c, c.req.valid("param").id, c.req.valid("query").gridId, () => {
      const body = c.req.valid("json");
      return { action: "urge", message: body.message, deadline: isoOf(body.deadline) };
    }),
  );

function canSeeOwner(p: Principal, owner: UnitRef): boolean {
  return inScope(p.unitPath, owner.path);
}

function page(records: CaseRecord[], limit: number) {
  const more = records.length > limit;
  const slice = more ? records.slice(0, limit) : records;
  const last = slice[slice.length - 1];
  return {
    items: slice.map(summary),
    nextCursor: more && last ? encodeCursor([last.createdAt, last.id]) : null,
  };
}
