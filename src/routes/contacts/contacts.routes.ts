import { createRoute, z } from "@hono/zod-openapi";
import {
  DEFAULT_MAX_HOUSEHOLDS,
  DEPUTY_LEVELS,
  LINE_LABELS,
  LINES,
  MAX_HOUSEHOLDS_KEY,
} from "../../domain/contacts";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";

/** A three line, with its Chinese label. */
export const Line = z.enum(LINES).openapi({
  description: Object.entries(LINE_LABELS)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; "),
});

/** `{userId}` path parameter: a three-line contact's user id. */
export const UserIdParam = z.object({ userId: z.uuid().openapi({ param: { name: "userId", in: "path" } }) });

const PairingSchema = z
  .object({
    id: z.uuid(),
    contactId: z.uuid(),
    householdId: z.uuid(),
    line: Line,
    since: z.string(),
    endedAt: z.string().nullable(),
  })
  .openapi("ContactPairing");

const ProfileSchema = z
  .object({
    userId: z.uuid(),
    line: Line,
    displayName: z.string(),
    unitId: z.uuid(),
    partyBranch: z.string().nullable(),
    branchUnitId: z.uuid().nullable(),
    deputyLevel: z.enum(DEPUTY_LEVELS).nullable(),
    stationId: z.uuid().nullable(),
    households: z.array(PairingSchema).openapi({ description: "Active pairings" }),
  })
  .openapi("ContactProfile");

export const putProfile = createRoute({
  method: "put",
  path: "/v1/contacts/{userId}/profile",
  operationId: "setContactProfile",
  tags: ["three lines"],
  summary: "Set a three-line contact's profile (admin, center_staff)",
  description:
    "Party members: `partyBranch` and optionally the branch's unit (`branchUnitId`, whose settings give the point rules). Deputies: `deputyLevel`; the station is set by attaching the deputy to a station.",
  ...guarded("contacts.profile"),
  request: {
    params: UserIdParam,
    body: jsonBody(
      z
        .strictObject({
          partyBranch: z.string().trim().min(1).max(100).optional(),
          branchUnitId: z.uuid().optional(),
          deputyLevel: z.enum(DEPUTY_LEVELS).optional(),
        })
        .openapi("ContactProfileInput"),
    ),
  },
  responses: { 200: jsonResponse(ProfileSchema, "The profile"), ...errorResponses(403, 404) },
});

export const getProfile = createRoute({
  method: "get",
  path: "/v1/contacts/{userId}",
  operationId: "getContact",
  tags: ["three lines"],
  summary: "A contact's profile and active household pairings",
  ...guarded("contacts.read"),
  request: { params: UserIdParam },
  responses: { 200: jsonResponse(ProfileSchema, "The profile"), ...errorResponses(404) },
});

export const pair = createRoute({
  method: "post",
  path: "/v1/contacts/{userId}/households",
  operationId: "pairContactHouseholds",
  tags: ["three lines"],
  summary: "Pair a contact with households, each pairing naming its line (admin, center_staff, grid_worker)",
  ...guarded("contacts.pair"),
  request: {
    params: UserIdParam,
    body: jsonBody(
      z
        .strictObject({
          pairings: z
            .array(z.strictObject({ householdId: z.uuid(), line: Line }))
            .min(1)
            .max(100),
        })
        .openapi("ContactPairingInput"),
    ),
  },
  responses: {
    201: jsonResponse(
      z.object({ paired: z.array(PairingSchema), alreadyPaired: z.array(z.uuid()) }),
      "New pairings (households already paired with this contact are listed, not duplicated)",
    ),
    ...errorResponses(403, 404),
  },
});

export const unpair = createRoute({
  method: "delete",
  path: "/v1/contacts/{userId}/households/{householdId}",
  operationId: "unpairContactHousehold",
  tags: ["three lines"],
  summary: "End a pairing; its history is kept (admin, center_staff, grid_worker)",
  ...guarded("contacts.pair"),
  request: {
    params: UserIdParam.extend({
      householdId: z.uuid().openapi({ param: { name: "householdId", in: "path" } }),
    }),
  },
  responses: { 204: { description: "Ended" }, ...errorResponses(403, 404) },
});

const Coverage = z
  .object({
    unitId: z.uuid(),
    households: z.number().int(),
    redHouseholds: z.number().int(),
    lines: z.record(z.string(), z.object({ covered: z.number().int(), share: z.number() })),
    anyLine: z.object({ covered: z.number().int(), share: z.number() }),
    redWithoutHelper: z.object({
      count: z.number().int(),
      householdIds: z.array(z.uuid()).openapi({ description: "Up to 100, by id" }),
    }),
    maxHouseholds: z.number().int(),
    overloadedContacts: z.array(
      z.object({
        contactId: z.uuid(),
        displayName: z.string(),
        role: z.string(),
        households: z.number().int(),
      }),
    ),
  })
  .openapi("Coverage");

export const coverage = createRoute({
  method: "get",
  path: "/v1/units/{id}/coverage",
  operationId: "getContactCoverage",
  tags: ["three lines"],
  summary:
    "Three-line coverage of a subtree: shares per line, red households without a helper, overloaded contacts",
  description: `The maximum households per contact is the unit setting \`${MAX_HOUSEHOLDS_KEY}\` (inherited; default ${DEFAULT_MAX_HOUSEHOLDS}).`,
  ...guarded("contacts.coverage"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(Coverage, "Coverage"), ...errorResponses(403, 404) },
});
