import { createRoute, z } from "@hono/zod-openapi";
import type { InStatement } from "@libsql/client/web";
import {
  classificationContext,
  type HouseholdRow,
  type ResidentRow,
  residentSelect,
  STALE_GUARD,
  toResidentRow,
} from "../../db/repos/households";
import { RESIDENT_TAG_LABELS, RESIDENT_TAGS } from "../../domain/classification";
import { parseIdNumber } from "../../domain/id-number";
import type { Principal } from "../../env";
import { piiKeys } from "../../platform/crypto/pii";
import type { Db } from "../../platform/db/client";
import { getDb } from "../../platform/db/client";
import { assertInScope, principalOf, requireRole } from "../../platform/http/auth";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { problems } from "../../platform/http/problem";
import {
  assertUniqueIdNumbers,
  auditEntry,
  chinaToday,
  decryptResident,
  grantReveal,
  insertResidentsStatement,
  loadHousehold,
  memberTagLists,
  optionalIfMatch,
  PurposeHeader,
  REGISTRY_WRITERS,
  RELATIONSHIPS,
  ResidentInput,
  ResidentSchema,
  RevealQuery,
  rederiveHousehold,
  residentView,
  sealResident,
  writeHousehold,
} from "../households";

const ResidentPatch = z
  .strictObject({
    name: z.string().trim().min(1).max(50).optional(),
    gender: z.enum(["male", "female"]).optional(),
    birthDate: z.iso
      .date()
      .refine((d) => d <= chinaToday(), "a birth date cannot be in the future")
      .refine((d) => d >= "1900-01-01", "a birth date before 1900 is not plausible")
      .optional(),
    idNumber: z.string().trim().max(18).nullable().optional(),
    phone: z
      .string()
      .regex(/^\+?\d{5,20}$/, "5–20 digits")
      .nullable()
      .optional(),
    relationship: z.enum(RELATIONSHIPS).optional(),
    tags: z
      .array(
        z.enum(RESIDENT_TAGS).openapi({
          description: Object.entries(RESIDENT_TAG_LABELS)
            .map(([k, v]) => `\`${k}\` — ${v}`)
            .join("; "),
        }),
      )
      .max(20)
      .optional(),
  })
  .openapi("ResidentPatch");

const create = createRoute({
  method: "post",
  path: "/v1/households/{id}/residents",
  tags: ["residents"],
  summary: "Add a resident to a household (admin, center_staff, grid_worker); the household is reclassified",
  security: bearer,
  middleware: [requireRole(...REGISTRY_WRITERS)] as const,
  request: { params: IdParam, body: jsonBody(ResidentInput) },
  responses: { 201: jsonResponse(ResidentSchema, "Created (masked)"), ...errorResponses(403, 404, 409) },
});

const getOne = createRoute({
  method: "get",
  path: "/v1/residents/{id}",
  tags: ["residents"],
  summary: "One resident: masked, or unmasked with reveal=true and x-purpose (audited)",
  description:
    "ID number, phone, sensitive tags (disabled, in prison, released prisoner, chronic illness) and minors' names and birth dates are masked unless an admin, centre staff member or grid worker asks with `reveal=true` and states the purpose in `x-purpose`. Without a purpose the reveal is refused (400 purpose-required); other roles get 403. Each reveal writes an audit row with the purpose.",
  security: bearer,
  request: { params: IdParam, query: z.object(RevealQuery), headers: PurposeHeader },
  responses: { 200: jsonResponse(ResidentSchema, "The resident"), ...errorResponses(403, 404) },
});

const patch = createRoute({
  method: "patch",
  path: "/v1/residents/{id}",
  tags: ["residents"],
  summary: "Change a resident (admin, center_staff, grid_worker); the household is reclassified",
  description:
    "`If-Match` is honoured (412 when stale). `idNumber: null` or `phone: null` removes the value.",
  security: bearer,
  middleware: [requireRole(...REGISTRY_WRITERS)] as const,
  request: { params: IdParam, body: jsonBody(ResidentPatch) },
  responses: { 200: jsonResponse(ResidentSchema, "Updated (masked)"), ...errorResponses(403, 404, 409, 412) },
});

const move = createRoute({
  method: "post",
  path: "/v1/residents/{id}/move",
  tags: ["residents"],
  summary: "Move a resident to another household (admin, center_staff, grid_worker); both are reclassified",
  security: bearer,
  middleware: [requireRole(...REGISTRY_WRITERS)] as const,
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({ householdId: z.uuid(), relationship: z.enum(RELATIONSHIPS).optional() })
        .openapi("ResidentMove"),
    ),
  },
  responses: { 200: jsonResponse(ResidentSchema, "Moved (masked)"), ...errorResponses(403, 404, 409, 412) },
});

async function loadResident(db: Db, principal: Principal, id: string): Promise<ResidentRow> {
  const rs = await db.$client.execute({ sql: `${residentSelect} WHERE id = ?`, args: [id] });
  const row = rs.rows[0] ? toResidentRow(rs.rows[0] as Record<string, unknown>) : undefined;
  assertInScope(principal, row?.unitPath, "resident");
  return row!;
}

/** The statements that re-derive a household whose member tag lists become `tagLists`. */
async function rederive(db: Db, household: HouseholdRow, tagLists: string[][], now: string) {
  const ctx = await classificationContext(db, household.villageId, household.unitPath);
  return rederiveHousehold(household, {
    unit: { id: household.unitId, path: household.unitPath },
    memberTagLists: tagLists,
    village: ctx.village,
    cadence: ctx.cadence,
    now,
  });
}

async function othersTags(db: Db, householdId: string, exceptResidentId: string): Promise<string[][]> {
  const rs = await db.$client.execute({
    sql: "SELECT tags FROM residents WHERE household_id = ? AND id <> ?",
    args: [householdId, exceptResidentId],
  });
  return rs.rows.map((r) => JSON.parse(String(r.tags)) as string[]);
}

function checkVersion(header: string | undefined, resident: ResidentRow) {
  const expected = optionalIfMatch(header);
  if (expected !== null && expected !== resident.version) {
    throw problems.preconditionFailed(`The resident is at version ${resident.version}`, {
      currentVersion: resident.version,
    });
  }
}

export const residentRoutes = createRouter()
  .openapi(create, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const household = await loadHousehold(db, principal, id);
    const residentId = crypto.randomUUID();
    const sealed = await sealResident(await piiKeys(c.env.PII_KEY), residentId, body);
    await assertUniqueIdNumbers(db, [{ resident: sealed, path: "idNumber" }]);
    const now = new Date().toISOString();
    const tagLists = await memberTagLists(db, id);
    const { statements } = await rederive(db, household, [...tagLists, sealed.tags], now);
    statements.push(
      insertResidentsStatement([{ resident: sealed, householdId: id, unitPath: household.unitPath }], now),
    );
    statements.push({ sql: `${residentSelect} WHERE id = ?`, args: [residentId] });
    const results = await writeHousehold(db, statements, [
      auditEntry(c, "resident.create", "resident", residentId, household.unitPath, { householdId: id }),
    ]);
    const row = toResidentRow(results[results.length - 1]!.rows[0] as Record<string, unknown>);
    c.header("etag", `"${row.version}"`);
    c.header("location", `/v1/residents/${residentId}`);
    return c.json(residentView(row, null, chinaToday()), 201);
  })
  .openapi(getOne, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const { reveal } = c.req.valid("query");
    const db = getDb(c.env);
    const resident = await loadResident(db, principal, id);
    const granted = await grantReveal(c, reveal, {
      objectType: "resident",
      objectId: id,
      scopePath: resident.unitPath,
      fields: ["idNumber", "phone", "tags", "name", "birthDate"],
    });
    const plain = granted ? await decryptResident(await piiKeys(c.env.PII_KEY), resident) : null;
    c.header("etag", `"${resident.version}"`);
    c.header("cache-control", "no-store");
    return c.json(residentView(resident, plain, chinaToday()), 200);
  })
  .openapi(patch, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const resident = await loadResident(db, principal, id);
    checkVersion(c.req.header("if-match"), resident);
    const household = await loadHousehold(db, principal, resident.householdId);
    const keys = await piiKeys(c.env.PII_KEY);
    const current = await decryptResident(keys, resident);
    const merged = {
      name: body.name ?? resident.name,
      gender: body.gender ?? resident.gender,
      birthDate: body.birthDate ?? resident.birthDate,
      idNumber: body.idNumber === undefined ? (current.idNumber ?? undefined) : (body.idNumber ?? undefined),
      phone: body.phone === undefined ? (current.phone ?? undefined) : (body.phone ?? undefined),
      relationship: (body.relationship ?? resident.relationship) as (typeof RELATIONSHIPS)[number],
      tags: body.tags ?? (JSON.parse(resident.tags) as Array<(typeof RESIDENT_TAGS)[number]>),
    };
    if (merged.idNumber !== undefined) {
      const parsed = parseIdNumber(merged.idNumber, chinaToday());
      const message = !parsed.ok
        ? parsed.message
        : parsed.birthDate !== merged.birthDate
          ? "the ID number's birth date is not birthDate"
          : parsed.gender !== merged.gender
            ? "the ID number's gender digit is not gender"
            : null;
      if (message) {
        const path =
          body.idNumber !== undefined ? "idNumber" : body.birthDate !== undefined ? "birthDate" : "gender";
        throw problems.badRequest(message, [{ path, message }]);
      }
    }
    const sealed = await sealResident(keys, id, merged);
    await assertUniqueIdNumbers(db, [{ resident: sealed, path: "idNumber" }], id);
    const now = new Date().toISOString();
    const others = await othersTags(db, household.id, id);
    const { statements: householdStatements } = await rederive(db, household, [...others, sealed.tags], now);
    const statements: InStatement[] = [
      {
        sql: `UPDATE residents SET name = ?, gender = ?, birth_date = ?, id_number_enc = ?, id_number_hmac = ?, id_number_masked = ?,
                phone_enc = ?, phone_masked = ?, relationship = ?, tags = ?, version = version + 1, updated_at = ?
              WHERE id = ? AND version = ?`,
        args: [
          merged.name,
          merged.gender,
          merged.birthDate,
          sealed.idNumberEnc,
          sealed.idNumberHmac,
          sealed.idNumberMasked,
          sealed.phoneEnc,
          sealed.phoneMasked,
          merged.relationship,
          JSON.stringify(sealed.tags),
          now,
          id,
          resident.version,
        ],
      },
      STALE_GUARD,
      ...householdStatements,
      { sql: `${residentSelect} WHERE id = ?`, args: [id] },
    ];
    const results = await writeHousehold(db, statements, [
      auditEntry(c, "resident.update", "resident", id, resident.unitPath, {
        householdId: household.id,
        fields: Object.keys(body),
      }),
    ]);
    const row = toResidentRow(results[results.length - 1]!.rows[0] as Record<string, unknown>);
    c.header("etag", `"${row.version}"`);
    return c.json(residentView(row, null, chinaToday()), 200);
  })
  .openapi(move, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const resident = await loadResident(db, principal, id);
    checkVersion(c.req.header("if-match"), resident);
    if (body.householdId === resident.householdId) {
      throw problems.badRequest("The resident already lives in this household", [
        { path: "householdId", message: "same household" },
      ]);
    }
    const [from, to] = await Promise.all([
      loadHousehold(db, principal, resident.householdId),
      loadHousehold(db, principal, body.householdId),
    ]);
    const now = new Date().toISOString();
    const tags = JSON.parse(resident.tags) as string[];
    const [fromTags, toTags] = await Promise.all([othersTags(db, from.id, id), othersTags(db, to.id, id)]);
    const [a, b] = await Promise.all([
      rederive(db, from, fromTags, now),
      rederive(db, to, [...toTags, tags], now),
    ]);
    const statements: InStatement[] = [
      {
        sql: "UPDATE residents SET household_id = ?, unit_path = ?, relationship = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
        args: [to.id, to.unitPath, body.relationship ?? resident.relationship, now, id, resident.version],
      },
      STALE_GUARD,
      ...a.statements,
      ...b.statements,
      { sql: `${residentSelect} WHERE id = ?`, args: [id] },
    ];
    const results = await writeHousehold(db, statements, [
      auditEntry(c, "resident.move", "resident", id, to.unitPath, {
        fromHouseholdId: from.id,
        toHouseholdId: to.id,
      }),
    ]);
    const row = toResidentRow(results[results.length - 1]!.rows[0] as Record<string, unknown>);
    c.header("etag", `"${row.version}"`);
    return c.json(residentView(row, null, chinaToday()), 200);
  });
