import { createRoute, z } from "@hono/zod-openapi";
import { ifMatchHeader } from "../../platform/http/if-match";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import {
  BirthDate,
  Phone,
  PurposeHeader,
  RELATIONSHIPS,
  ResidentInput,
  ResidentSchema,
  RevealQuery,
  Tag,
} from "../households/schemas";

const ResidentPatch = z
  .strictObject({
    name: z.string().trim().min(1).max(50).optional(),
    gender: z.enum(["male", "female"]).optional(),
    birthDate: BirthDate.optional(),
    idNumber: z.string().trim().max(18).nullable().optional(),
    phone: Phone.nullable().optional(),
    relationship: z.enum(RELATIONSHIPS).optional(),
    tags: z.array(Tag).max(20).optional(),
  })
  .openapi("ResidentPatch");

export const create = createRoute({
  method: "post",
  path: "/v1/households/{id}/residents",
  operationId: "addResident",
  tags: ["residents"],
  summary: "Add a resident to a household; the household is reclassified",
  description:
    "An ID number registered anywhere in the city answers 409 naming the next step (a transfer request, `POST /v1/residents/transfer-requests`); the refusal is audited with the number's keyed HMAC and counted: past 10 such refusals an hour, 429.",
  ...guarded("residents.write"),
  request: { params: IdParam, body: jsonBody(ResidentInput) },
  responses: {
    201: jsonResponse(ResidentSchema, "Created (masked)", ["ETag", "Location"]),
    ...errorResponses(403, 404, 409, 412, 429),
  },
});

export const getOne = createRoute({
  method: "get",
  path: "/v1/residents/{id}",
  operationId: "getResident",
  tags: ["residents"],
  summary: "One resident: masked, or unmasked with reveal=true and x-purpose (audited)",
  description:
    "ID number (first 4 characters kept), phone, birth date (year kept), sensitive tags (disabled, in prison, released prisoner, chronic illness) and minors' names are masked unless an admin, centre staff member or grid worker asks with `reveal=true` and states an enumerated purpose in `x-purpose` (and `x-purpose-ref` where the code needs one). Without a purpose the reveal is refused (400 purpose-required), with any other value 400 purpose-invalid; other roles get 403; every refusal is audited. Each reveal writes an audit row with the purpose and reference, and counts against the caller's hourly limit (default 60; 429 with Retry-After beyond it, and the city centre's inbox is alerted).",
  ...guarded("residents.read"),
  request: { params: IdParam, query: z.object(RevealQuery), headers: PurposeHeader },
  responses: {
    200: jsonResponse(ResidentSchema, "The resident", ["ETag"]),
    ...errorResponses(403, 404, 429),
  },
});

export const patch = createRoute({
  method: "patch",
  path: "/v1/residents/{id}",
  operationId: "updateResident",
  tags: ["residents"],
  summary: "Change a resident; the household is reclassified",
  description:
    "`If-Match` is honoured (412 when stale or changed meanwhile). `idNumber: null` or `phone: null` removes the value.",
  ...guarded("residents.write"),
  request: { params: IdParam, headers: ifMatchHeader(false), body: jsonBody(ResidentPatch) },
  responses: {
    200: jsonResponse(ResidentSchema, "Updated (masked)", ["ETag"]),
    ...errorResponses(403, 404, 409, 412, 429),
  },
});

export const move = createRoute({
  method: "post",
  path: "/v1/residents/{id}/move",
  operationId: "moveResident",
  tags: ["residents"],
  summary: "Move a resident to another household; both are reclassified",
  description: "`If-Match` is honoured (412 when stale or changed meanwhile).",
  ...guarded("residents.write"),
  request: {
    params: IdParam,
    headers: ifMatchHeader(false),
    body: jsonBody(
      z
        .strictObject({ householdId: z.uuid(), relationship: z.enum(RELATIONSHIPS).optional() })
        .openapi("ResidentMove"),
    ),
  },
  responses: {
    200: jsonResponse(ResidentSchema, "Moved (masked)", ["ETag"]),
    ...errorResponses(403, 404, 412),
  },
});
