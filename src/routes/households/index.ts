import { createRoute, z } from "@hono/zod-openapi";
import type { InStatement, InValue } from "@libsql/client/web";
import type { Context } from "hono";
import {
  classCounts,
  classificationContext,
  EFFECTIVE_CLASS_SQL,
  existingIdHmacs,
  findHousehold,
  type HouseholdRow,
  householdSelect,
  isStaleGuardError,
  overdueCounts,
  type ResidentRow,
  reclassifyStatements,
  residentSelect,
  STALE_GUARD,
  storedRedTags,
  toHouseholdRow,
  toResidentRow,
  villageIdOf,
} from "../../db/repos/households";
import { chinaDate } from "../../domain/china-time";
import {
  type ClassOverride,
  chinaYear,
  classifyHousehold,
  effectiveClass,
  HOUSEHOLD_CLASS_LABELS,
  HOUSEHOLD_CLASSES,
  type HouseholdClass,
  isOverrideActive,
  maskReasons,
  RESIDENT_TAG_LABELS,
  RESIDENT_TAGS,
  SAFE_YEAR_BASE,
  SAFE_YEAR_MAX,
  SENSITIVE_TAGS,
  safeYearsFromMask,
  safeYearsMask,
} from "../../domain/classification";
import { parseIdNumber } from "../../domain/id-number";
import { isMinor, mayUnmask, parsePurpose } from "../../domain/pii";
import type { Role } from "../../domain/roles";
import {
  CADENCE_KEYS,
  type Cadence,
  DEFAULT_CADENCE,
  daysLate,
  MAX_CADENCE_DAYS,
  nextVisitDue,
  parseCadenceValue,
  resolveCadence,
} from "../../domain/service-plan";
import { pathIds, subtreeRange } from "../../domain/units";
import type { AppEnv, Principal } from "../../env";
import {
  decryptPii,
  encryptPii,
  lookupHmac,
  maskIdNumber,
  maskName,
  maskPhone,
  type PiiKeys,
  piiKeys,
} from "../../platform/crypto/pii";
import { type AuditEntry, writeAudited } from "../../platform/db/audit";
import { type Db, getDb, isConstraintViolation } from "../../platform/db/client";
import { assertInScope, principalOf, requireRole } from "../../platform/http/auth";
import { IMPORT_BODY_LIMIT } from "../../platform/http/limits";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { decodeCursor, pageQuery, pageSchema, toPage } from "../../platform/http/pagination";
import { Problem, problems } from "../../platform/http/problem";

// ── Shared vocabulary ────────────────────────────────────────────────────────────────────────────────

/** Roles that keep the household registry (create, edit, residents, helpers). */
export const REGISTRY_WRITERS: Role[] = ["admin", "center_staff", "grid_worker"];

const labels = (entries: Record<string, string>) =>
  Object.entries(entries)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; ");

export const ClassEnum = z.enum(HOUSEHOLD_CLASSES).openapi({ description: labels(HOUSEHOLD_CLASS_LABELS) });
const Tag = z.enum(RESIDENT_TAGS).openapi({ description: labels(RESIDENT_TAG_LABELS) });
export const RELATIONSHIPS = [
  "head",
  "spouse",
  "child",
  "child_in_law",
  "grandchild",
  "parent",
  "grandparent",
  "sibling",
  "other",
] as const;

/** Today's date in China (UTC+8), the reference for "in the future". */
export function chinaToday(now = new Date()): string {
  return chinaDate(now);
}

export const ResidentInput = z
  .strictObject({
    name: z.string().trim().min(1).max(50),
    gender: z.enum(["male", "female"]),
    birthDate: z.iso
      .date()
      .refine((d) => d <= chinaToday(), "a birth date cannot be in the future")
      .refine((d) => d >= "1900-01-01", "a birth date before 1900 is not plausible"),
    idNumber: z
      .string()
      .trim()
      .max(18)
      .optional()
      .openapi({ description: "身份证号 (GB 11643), 18 characters" }),
    phone: z
      .string()
      .regex(/^\+?\d{5,20}$/, "5–20 digits")
      .optional(),
    relationship: z.enum(RELATIONSHIPS).openapi({ description: "Relationship to the head of household" }),
    tags: z.array(Tag).max(20).default([]),
  })
  .superRefine((r, ctx) => {
    if (r.idNumber === undefined) return;
    const parsed = parseIdNumber(r.idNumber, chinaToday());
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", path: ["idNumber"], message: parsed.message });
    } else if (parsed.birthDate !== r.birthDate) {
      ctx.addIssue({
        code: "custom",
        path: ["idNumber"],
        message: "the ID number's birth date is not birthDate",
      });
    } else if (parsed.gender !== r.gender) {
      ctx.addIssue({
        code: "custom",
        path: ["idNumber"],
        message: "the ID number's gender digit is not gender",
      });
    }
  })
  .openapi("NewResident");
export type ResidentInputT = z.infer<typeof ResidentInput>;

const Income = z
  .number()
  .int("whole yuan")
  .min(0, "an income cannot be negative")
  .max(10_000_000, "not a plausible annual per-capita income")
  .openapi({ description: "Annual per-capita income in yuan" });
const SafeYears = z
  .array(z.number().int().min(SAFE_YEAR_BASE).max(SAFE_YEAR_MAX))
  .max(SAFE_YEAR_MAX - SAFE_YEAR_BASE + 1)
  .refine((ys) => ys.every((y) => y <= chinaYear(new Date())), "a rating cannot be for a future year")
  .openapi({ description: "Years the household was rated a safe family (平安家庭)" });
const Location = z.strictObject({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
});

const householdFields = {
  address: z.string().trim().min(1).max(200),
  location: Location.optional(),
  headName: z.string().trim().min(1).max(50).openapi({ description: "Head of household (户主)" }),
  incomePerCapita: Income,
  incomeStable: z.boolean(),
  safeFamilyYears: SafeYears.default([]),
  notes: z.string().max(2000).optional(),
  residents: z.array(ResidentInput).max(30).default([]),
};

const NewHousehold = z
  .strictObject({
    unitId: z.uuid().openapi({ description: "The level-2 or level-3 grid" }),
    ...householdFields,
  })
  .openapi("NewHousehold");

const HouseholdPatch = z
  .strictObject({
    unitId: z.uuid().optional().openapi({ description: "Move the household to another grid" }),
    address: householdFields.address.optional(),
    location: Location.nullable().optional(),
    headName: householdFields.headName.optional(),
    incomePerCapita: Income.optional(),
    incomeStable: z.boolean().optional(),
    safeFamilyYears: SafeYears.optional(),
    notes: z.string().max(2000).nullable().optional(),
    override: z
      .strictObject({
        class: ClassEnum,
        reason: z.string().trim().min(4).max(500),
        until: z.iso
          .datetime()
          .openapi({ description: "When the override stops applying (at most a year ahead)" }),
      })
      .nullable()
      .optional()
      .openapi({ description: "Manual class override (admin, center_staff); null removes it" }),
  })
  .openapi("HouseholdPatch");

const ImportRow = z.strictObject({
  unitCode: z.string().regex(/^\d{15}(\d{3})?$/, "a level-2 (15 digits) or level-3 (18 digits) grid code"),
  ...householdFields,
});

// ── Views ────────────────────────────────────────────────────────────────────────────────────────────

export const ResidentSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid(),
    name: z.string(),
    gender: z.enum(["male", "female"]),
    birthDate: z.string().openapi({ description: "YYYY-MM-DD; `YYYY-**-**` when masked for a minor" }),
    idNumber: z.string().nullable().openapi({ example: "6109**********1234" }),
    phone: z.string().nullable(),
    relationship: z.string(),
    tags: z.array(z.string()).openapi({ description: "Sensitive tags read `restricted` when masked" }),
    minor: z.boolean(),
    masked: z.boolean(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Resident");

/** A resident as the API shows it: masked unless `plain` carries decrypted values for a granted reveal. */
export function residentView(
  r: ResidentRow,
  plain: { idNumber: string | null; phone: string | null } | null,
  today: string,
) {
  const minor = isMinor(r.birthDate, today);
  const tags = JSON.parse(r.tags) as string[];
  if (plain) {
    return {
      id: r.id,
      householdId: r.householdId,
      name: r.name,
      gender: r.gender,
      birthDate: r.birthDate,
      idNumber: plain.idNumber,
      phone: plain.phone,
      relationship: r.relationship,
      tags,
      minor,
      masked: false,
      version: r.version,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    };
  }
  return {
    id: r.id,
    householdId: r.householdId,
    name: minor ? maskName(r.name) : r.name,
    gender: r.gender,
    birthDate: minor ? `${r.birthDate.slice(0, 4)}-**-**` : r.birthDate,
    idNumber: r.idNumberMasked,
    phone: r.phoneMasked,
    relationship: r.relationship,
    tags: [...new Set(tags.map((t) => (SENSITIVE_TAGS.has(t) ? "restricted" : t)))],
    minor,
    masked: true,
    version: r.version,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** Decrypts a resident's ID number and phone (for a granted, audited reveal). */
export async function decryptResident(keys: PiiKeys, r: ResidentRow) {
  return {
    idNumber: r.idNumberEnc ? await decryptPii(keys, r.idNumberEnc, `resident.id_number:${r.id}`) : null,
    phone: r.phoneEnc ? await decryptPii(keys, r.phoneEnc, `resident.phone:${r.id}`) : null,
  };
}

const OverrideSchema = z.object({
  class: ClassEnum,
  reason: z.string(),
  until: z.string(),
  by: z.string().nullable(),
  active: z.boolean(),
});

const HelperSchema = z
  .object({
    id: z.uuid(),
    userId: z.uuid(),
    line: z.string(),
    kind: z.enum(["one_to_one", "one_to_many"]),
    since: z.string(),
    until: z.string().nullable(),
  })
  .openapi("HouseholdHelper");

export const HouseholdSchema = z
  .object({
    id: z.uuid(),
    unitId: z.uuid(),
    villageId: z.uuid(),
    address: z.string(),
    location: Location.nullable(),
    headName: z.string(),
    incomePerCapita: z.number().int(),
    incomeStable: z.boolean(),
    safeFamilyYears: z.array(z.number().int()),
    notes: z.string().nullable(),
    memberCount: z.number().int(),
    computedClass: ClassEnum.openapi({ description: "The class the rules give" }),
    effectiveClass: ClassEnum.openapi({
      description: "The class that applies: an unexpired override, else computed",
    }),
    classReasons: z
      .array(z.string())
      .openapi({ description: "Why; sensitive member tags read `member_sensitive_tag` when masked" }),
    classSince: z.string(),
    classifiedAt: z.string(),
    override: OverrideSchema.nullable(),
    lastVisitAt: z.string().nullable(),
    nextVisitDue: z.string().nullable(),
    overdueDays: z.number().int(),
    masked: z.boolean(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Household");

const HouseholdDetailSchema = HouseholdSchema.extend({
  residents: z.array(ResidentSchema).openapi({ description: "Always masked; read one resident to reveal" }),
  helpers: z.array(HelperSchema).openapi({ description: "Named helpers (帮扶人), current and past" }),
}).openapi("HouseholdDetail");

function overrideOf(h: HouseholdRow): ClassOverride | null {
  return h.overrideClass && h.overrideUntil
    ? { class: h.overrideClass, reason: h.overrideReason ?? "", until: h.overrideUntil }
    : null;
}

/** A household as the API shows it at `asOf`; sensitive reasons are masked unless `reveal`. */
export function householdView(h: HouseholdRow, asOf: Date, reveal: boolean) {
  const override = overrideOf(h);
  const reasons = JSON.parse(h.classReasons) as string[];
  return {
    id: h.id,
    unitId: h.unitId,
    villageId: h.villageId,
    address: h.address,
    location:
      h.latitude !== null && h.longitude !== null ? { latitude: h.latitude, longitude: h.longitude } : null,
    headName: h.headName,
    incomePerCapita: h.incomePerCapita,
    incomeStable: h.incomeStable,
    safeFamilyYears: safeYearsFromMask(h.safeYearsMask),
    notes: h.notes,
    memberCount: h.memberCount,
    computedClass: h.computedClass,
    effectiveClass: effectiveClass(h.computedClass, override, asOf),
    classReasons: reveal ? reasons : maskReasons(reasons),
    classSince: h.classSince,
    classifiedAt: h.classifiedAt,
    override: override ? { ...override, by: h.overrideBy, active: isOverrideActive(override, asOf) } : null,
    lastVisitAt: h.lastVisitAt,
    nextVisitDue: h.nextVisitDue,
    overdueDays: daysLate(h.nextVisitDue, asOf),
    masked: !reveal,
    version: h.version,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
  };
}

// ── Helpers shared by the household, resident and visit routes ─────────────────────────────────────

export interface UnitRef {
  id: string;
  path: string;
  level: string;
  gridLevel: number | null;
  depth: number;
}

/** A unit in the caller's scope, or 404. */
export async function loadUnit(db: Db, principal: Principal, id: string): Promise<UnitRef> {
  const rs = await db.$client.execute({
    sql: "SELECT id, path, level, grid_level, depth FROM units WHERE id = ?",
    args: [id],
  });
  const r = rs.rows[0];
  assertInScope(principal, r ? String(r.path) : null, "unit");
  return {
    id: String(r!.id),
    path: String(r!.path),
    level: String(r!.level),
    gridLevel: r!.grid_level === null ? null : Number(r!.grid_level),
    depth: Number(r!.depth),
  };
}

/** A grid (level 2 or 3) in the caller's scope to hold households; 404 outside scope, 400 for another level. */
export async function loadGrid(db: Db, principal: Principal, id: string, field: string): Promise<UnitRef> {
  const unit = await loadUnit(db, principal, id);
  if (unit.level !== "grid") {
    const message = "households live in a level-2 or level-3 grid";
    throw problems.badRequest(message, [{ path: field, message }]);
  }
  return unit;
}

/** A household in the caller's scope, or 404. */
export async function loadHousehold(db: Db, principal: Principal, id: string): Promise<HouseholdRow> {
  const household = await findHousehold(db, id);
  assertInScope(principal, household?.unitPath, "household");
  return household!;
}

/** An audit entry for an action of the caller on a household-area object. */
export function auditEntry(
  c: Context<AppEnv>,
  action: string,
  objectType: string,
  objectId: string | null,
  scopePath: string,
  detail?: Record<string, unknown>,
  purpose?: string,
): AuditEntry {
  const principal = principalOf(c);
  return {
    actorId: principal.userId,
    actorRole: principal.role,
    scopePath,
    action,
    objectType,
    objectId,
    outcome: "success",
    requestId: c.get("requestId"),
    purpose: purpose ?? null,
    detail: detail ?? null,
  };
}

/** `?reveal=true` asks for unmasked sensitive fields (see `src/domain/pii.ts`). */
export const RevealQuery = {
  reveal: z.enum(["true", "false"]).optional().openapi({
    description:
      "Unmasked sensitive fields: admin, center_staff, grid_worker only, with `x-purpose`; audited",
  }),
};

export const PurposeHeader = z.object({
  "x-purpose": z
    .string()
    .max(200)
    .optional()
    .openapi({ description: "Why unmasked data is read (4–200 characters); required with reveal=true" }),
});

/**
 * Decides whether this read is unmasked and, when it is, writes the audit row (with the purpose) before
 * anything is returned. 403 for a role that only sees masked values, 400 `purpose-required` without a purpose.
 */
export async function grantReveal(
  c: Context<AppEnv>,
  reveal: "true" | "false" | undefined,
  what: { objectType: string; objectId: string; scopePath: string; fields: string[] },
): Promise<boolean> {
  if (reveal !== "true") return false;
  const principal = principalOf(c);
  if (!mayUnmask(principal.role)) throw problems.forbidden("Your role sees masked values only");
  const purpose = parsePurpose(c.req.header("x-purpose"));
  if (!purpose) {
    throw new Problem(
      400,
      "purpose-required",
      "Unmasked reads must state a purpose in the x-purpose header",
      {
        errors: [{ path: "header.x-purpose", message: "required with reveal=true, 4–200 characters" }],
      },
    );
  }
  await writeAudited(
    getDb(c.env),
    [],
    [
      auditEntry(
        c,
        `${what.objectType}.reveal`,
        what.objectType,
        what.objectId,
        what.scopePath,
        { fields: what.fields },
        purpose,
      ),
    ],
  );
  return true;
}

/** A resident ready to insert: the sealed ID number and phone, the HMAC for lookup, the masked forms. */
export interface SealedResident {
  id: string;
  input: ResidentInputT;
  tags: string[];
  idNumberEnc: string | null;
  idNumberHmac: string | null;
  idNumberMasked: string | null;
  phoneEnc: string | null;
  phoneMasked: string | null;
}

/** Encrypts and HMACs a resident's ID number and phone. */
export async function sealResident(
  keys: PiiKeys,
  id: string,
  input: ResidentInputT,
): Promise<SealedResident> {
  const idNumber = input.idNumber?.trim().toUpperCase();
  return {
    id,
    input,
    tags: [...new Set(input.tags)],
    idNumberEnc: idNumber ? await encryptPii(keys, idNumber, `resident.id_number:${id}`) : null,
    idNumberHmac: idNumber ? await lookupHmac(keys, "id_number", idNumber) : null,
    idNumberMasked: idNumber ? maskIdNumber(idNumber) : null,
    phoneEnc: input.phone ? await encryptPii(keys, input.phone, `resident.phone:${id}`) : null,
    phoneMasked: input.phone ? maskPhone(input.phone) : null,
  };
}

/** 409 for ID numbers that repeat within the request or already belong to another resident. */
export async function assertUniqueIdNumbers(
  db: Db,
  sealed: Array<{ resident: SealedResident; path: string }>,
  exceptResidentId?: string,
): Promise<void> {
  const seen = new Map<string, string>();
  const errors: Array<{ path: string; message: string }> = [];
  for (const { resident, path } of sealed) {
    if (!resident.idNumberHmac) continue;
    const first = seen.get(resident.idNumberHmac);
    if (first) errors.push({ path, message: `the same ID number as ${first}` });
    else seen.set(resident.idNumberHmac, path);
  }
  const existing = await existingIdHmacs(db, [...seen.keys()], exceptResidentId);
  for (const { resident, path } of sealed) {
    if (
      resident.idNumberHmac &&
      existing.has(resident.idNumberHmac) &&
      seen.get(resident.idNumberHmac) === path
    ) {
      errors.push({ path, message: "a resident with this ID number is already registered" });
    }
  }
  if (errors.length) {
    throw new Problem(409, "duplicate-id-number", "An ID number is already registered; nothing was written", {
      errors,
    });
  }
}

const INSERT_RESIDENTS = `INSERT INTO residents (id, household_id, unit_path, name, gender, birth_date, id_number_enc, id_number_hmac,
    id_number_masked, phone_enc, phone_masked, relationship, tags, version, created_at, updated_at)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9,
    value->>10, value->>11, value->>12, 1, :now, :now FROM json_each(:rows)`;

/** One statement inserting residents of households (set-based over a JSON array). */
export function insertResidentsStatement(
  rows: Array<{ resident: SealedResident; householdId: string; unitPath: string }>,
  now: string,
): InStatement {
  return {
    sql: INSERT_RESIDENTS,
    args: {
      now,
      rows: JSON.stringify(
        rows.map(({ resident: r, householdId, unitPath }) => [
          r.id,
          householdId,
          unitPath,
          r.input.name,
          r.input.gender,
          r.input.birthDate,
          r.idNumberEnc,
          r.idNumberHmac,
          r.idNumberMasked,
          r.phoneEnc,
          r.phoneMasked,
          r.input.relationship,
          JSON.stringify(r.tags),
        ]),
      ),
    },
  };
}

const INSERT_HOUSEHOLDS = `INSERT INTO households (id, unit_id, unit_path, address, latitude, longitude, head_name, income_per_capita,
    income_stable, safe_years_mask, notes, red_tags, member_count, computed_class, class, class_reasons, class_since,
    classified_at, next_visit_due, version, created_at, updated_at)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9,
    value->>10, value->>11, value->>12, value->>13, value->>13, value->>14, :now, :now, value->>15, 1, :now, :now
  FROM json_each(:rows)`;

/** A new household, classified, as a row of the set-based insert. */
export interface NewHouseholdRow {
  id: string;
  unit: UnitRef;
  fields: Omit<z.infer<typeof NewHousehold>, "unitId" | "residents">;
  redTags: string;
  memberCount: number;
  class: HouseholdClass;
  reasons: string[];
  nextVisitDue: string | null;
}

export function insertHouseholdsStatement(rows: NewHouseholdRow[], now: string): InStatement {
  return {
    sql: INSERT_HOUSEHOLDS,
    args: {
      now,
      rows: JSON.stringify(
        rows.map((h) => [
          h.id,
          h.unit.id,
          h.unit.path,
          h.fields.address,
          h.fields.location?.latitude ?? null,
          h.fields.location?.longitude ?? null,
          h.fields.headName,
          h.fields.incomePerCapita,
          h.fields.incomeStable ? 1 : 0,
          safeYearsMask(h.fields.safeFamilyYears),
          h.fields.notes ?? null,
          h.redTags,
          h.memberCount,
          h.class,
          JSON.stringify(h.reasons),
          h.nextVisitDue,
        ]),
      ),
    },
  };
}

/** `?asOf=` for reading classes and lateness at another instant (replays, tests); defaults to now. */
export const AsOfQuery = {
  asOf: z.iso
    .datetime()
    .optional()
    .openapi({ description: "Evaluate overrides and lateness at this instant (default now)" }),
};

export function asOfDate(asOf: string | undefined): Date {
  return asOf ? new Date(asOf) : new Date();
}

/** The `If-Match` version, required (428 without, 400 when malformed). */
export function requiredIfMatch(header: string | undefined): number {
  if (header === undefined) throw problems.preconditionRequired();
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
  if (!match) {
    throw problems.badRequest('If-Match must be a version ETag such as "3"', [
      { path: "header.if-match", message: "not a version" },
    ]);
  }
  return Number(match[1]);
}

/** An optional `If-Match` version (null without). */
export function optionalIfMatch(header: string | undefined): number | null {
  return header === undefined ? null : requiredIfMatch(header);
}

/**
 * The statements that re-derive a household after its data or its members changed: member tags → red tags,
 * classification with the village totals, next visit due; guarded by the version the caller read.
 */
export function rederiveHousehold(
  h: HouseholdRow,
  next: {
    unit: { id: string; path: string };
    memberTagLists: string[][];
    village: { incomeSum: number; households: number };
    cadence: Cadence;
    now: string;
    fields?: Partial<{
      address: string;
      latitude: number | null;
      longitude: number | null;
      headName: string;
      incomePerCapita: number;
      incomeStable: boolean;
      safeYearsMask: number;
      notes: string | null;
      override: { class: HouseholdClass; reason: string; until: string; by: string } | null;
    }>;
  },
): { statements: InStatement[]; row: HouseholdRow } {
  const f = next.fields ?? {};
  const merged = {
    address: f.address ?? h.address,
    latitude: f.latitude !== undefined ? f.latitude : h.latitude,
    longitude: f.longitude !== undefined ? f.longitude : h.longitude,
    headName: f.headName ?? h.headName,
    incomePerCapita: f.incomePerCapita ?? h.incomePerCapita,
    incomeStable: f.incomeStable ?? h.incomeStable,
    safeYearsMask: f.safeYearsMask ?? h.safeYearsMask,
    notes: f.notes !== undefined ? f.notes : h.notes,
  };
  const override =
    f.override === undefined
      ? overrideOf(h)
        ? { ...overrideOf(h)!, by: h.overrideBy ?? "" }
        : null
      : f.override;
  const asOf = new Date(next.now);
  const result = classifyHousehold(
    {
      incomePerCapita: merged.incomePerCapita,
      incomeStable: merged.incomeStable,
      safeFamilyYears: safeYearsFromMask(merged.safeYearsMask),
      memberTags: next.memberTagLists.flat(),
    },
    next.village,
    asOf,
  );
  const klass = effectiveClass(result.class, override, asOf);
  const classSince = klass === h.class ? h.classSince : next.now;
  const due = nextVisitDue(klass, next.cadence, h.lastVisitAt, classSince);
  const row: HouseholdRow = {
    ...h,
    ...merged,
    unitId: next.unit.id,
    unitPath: next.unit.path,
    villageId: villageIdOf(next.unit.path) ?? h.villageId,
    redTags: storedRedTags(next.memberTagLists),
    memberCount: next.memberTagLists.length,
    computedClass: result.class,
    class: klass,
    classReasons: JSON.stringify(result.reasons),
    classSince,
    classifiedAt: next.now,
    overrideClass: override?.class ?? null,
    overrideReason: override?.reason ?? null,
    overrideUntil: override?.until ?? null,
    overrideBy: override?.by ?? null,
    nextVisitDue: due,
    version: h.version + 1,
    updatedAt: next.now,
  };
  const statements: InStatement[] = [
    {
      sql: `UPDATE households SET unit_id = ?, unit_path = ?, address = ?, latitude = ?, longitude = ?, head_name = ?,
              income_per_capita = ?, income_stable = ?, safe_years_mask = ?, notes = ?, red_tags = ?, member_count = ?,
              computed_class = ?, class = ?, class_reasons = ?, class_since = ?, classified_at = ?, override_class = ?,
              override_reason = ?, override_until = ?, override_by = ?, next_visit_due = ?, version = version + 1, updated_at = ?
            WHERE id = ? AND version = ?`,
      args: [
        row.unitId,
        row.unitPath,
        row.address,
        row.latitude,
        row.longitude,
        row.headName,
        row.incomePerCapita,
        row.incomeStable ? 1 : 0,
        row.safeYearsMask,
        row.notes,
        row.redTags,
        row.memberCount,
        row.computedClass,
        row.class,
        row.classReasons,
        row.classSince,
        row.classifiedAt,
        row.overrideClass,
        row.overrideReason,
        row.overrideUntil,
        row.overrideBy,
        row.nextVisitDue,
        row.updatedAt,
        h.id,
        h.version,
      ] as InValue[],
    },
    STALE_GUARD,
  ];
  return { statements, row };
}

/** The tag lists of a household's members. */
export async function memberTagLists(db: Db, householdId: string): Promise<string[][]> {
  const rs = await db.$client.execute({
    sql: "SELECT tags FROM residents WHERE household_id = ?",
    args: [householdId],
  });
  return rs.rows.map((r) => JSON.parse(String(r.tags)) as string[]);
}

/** Runs an audited write that re-derives a household; a lost race on its version answers 409. */
export async function writeHousehold(
  db: Db,
  statements: InStatement[],
  entries: AuditEntry[],
): Promise<Awaited<ReturnType<typeof writeAudited>>> {
  try {
    return await writeAudited(db, statements, entries);
  } catch (error) {
    if (isStaleGuardError(error)) {
      throw problems.conflict("concurrent-update", "The household changed meanwhile; reload it and retry");
    }
    if (isConstraintViolation(error)) {
      throw new Problem(
        409,
        "duplicate-id-number",
        "An ID number is already registered; nothing was written",
      );
    }
    throw error;
  }
}

// ── Routes ───────────────────────────────────────────────────────────────────────────────────────────

const create = createRoute({
  method: "post",
  path: "/v1/households",
  tags: ["households"],
  summary: "Register a household in a grid, optionally with its residents (admin, center_staff, grid_worker)",
  description:
    "The household is classified on write (green 放心户 / yellow 关心户 / red 连心户) with the village totals including it. ID numbers are validated per GB 11643 and stored only encrypted; a registered ID number answers 409.",
  security: bearer,
  middleware: [requireRole(...REGISTRY_WRITERS)] as const,
  request: { body: jsonBody(NewHousehold) },
  responses: { 201: jsonResponse(HouseholdSchema, "Created"), ...errorResponses(403, 404, 409) },
});

const list = createRoute({
  method: "get",
  path: "/v1/households",
  tags: ["households"],
  summary: "Households in a subtree of the caller's scope (never unmasked)",
  security: bearer,
  request: {
    query: z.object({
      unitId: z
        .uuid()
        .optional()
        .openapi({ description: "Only this unit's subtree (default: the caller's unit)" }),
      class: ClassEnum.optional().openapi({ description: "Effective class at asOf" }),
      q: z.string().trim().min(1).max(100).optional().openapi({
        description: "Address or head-of-household substring, or an exact 18-character ID number",
      }),
      ...AsOfQuery,
      ...pageQuery,
    }),
  },
  responses: {
    200: jsonResponse(pageSchema(HouseholdSchema), "A page of households"),
    ...errorResponses(404),
  },
});

const getOne = createRoute({
  method: "get",
  path: "/v1/households/{id}",
  tags: ["households"],
  summary: "One household with its (masked) residents and helpers",
  description:
    "With `reveal=true` and an `x-purpose` header, admin, center_staff and grid_worker see sensitive classification reasons unmasked; the read is audited.",
  security: bearer,
  request: { params: IdParam, query: z.object({ ...RevealQuery, ...AsOfQuery }), headers: PurposeHeader },
  responses: { 200: jsonResponse(HouseholdDetailSchema, "The household"), ...errorResponses(403, 404) },
});

const patch = createRoute({
  method: "patch",
  path: "/v1/households/{id}",
  tags: ["households"],
  summary: "Change a household, move it to another grid, or set/remove a class override",
  description:
    "Requires `If-Match` with the current version (428 without, 412 when stale). The household is reclassified in the same write. Overrides (admin, center_staff) need a reason and an expiry at most 366 days ahead.",
  security: bearer,
  middleware: [requireRole(...REGISTRY_WRITERS)] as const,
  request: { params: IdParam, body: jsonBody(HouseholdPatch) },
  responses: { 200: jsonResponse(HouseholdSchema, "Updated"), ...errorResponses(403, 404, 409, 412, 428) },
});

const importHouseholds = createRoute({
  method: "post",
  path: "/v1/households/import",
  tags: ["households"],
  summary: "Bulk import households with residents, all or nothing (admin, center_staff)",
  description: `Up to 20,000 rows and ${IMPORT_BODY_LIMIT / 1024 / 1024} MiB per call. Every bad row is reported with its index (400; 409 for registered or repeated ID numbers); nothing is written unless every row is good. Imported households are classified with their villages' totals including the import; run \`POST /v1/units/{id}/reclassify\` afterwards to move the classes of households already there.`,
  security: bearer,
  middleware: [requireRole("admin", "center_staff")] as const,
  request: {
    body: jsonBody(
      z.strictObject({ rows: z.array(ImportRow).min(1).max(20_000) }).openapi("HouseholdImport"),
    ),
  },
  responses: {
    201: jsonResponse(
      z.object({
        imported: z.number().int(),
        residents: z.number().int(),
        byClass: z.record(z.string(), z.number().int()),
        villages: z.number().int(),
      }),
      "Imported",
    ),
    ...errorResponses(403, 409, 413),
  },
});

const reclassify = createRoute({
  method: "post",
  path: "/v1/units/{id}/reclassify",
  tags: ["households"],
  summary: "Reclassify every household of a subtree, set-based (admin, center_staff)",
  description:
    "Recomputes village averages and every household's class in a few SQL statements. Returns counts by effective class, how many households changed class, and how many rows were rewritten.",
  security: bearer,
  middleware: [requireRole("admin", "center_staff")] as const,
  request: { params: IdParam, query: z.object({ ...AsOfQuery }) },
  responses: {
    200: jsonResponse(
      z.object({
        unitId: z.uuid(),
        asOf: z.string(),
        byClass: z.object({ green: z.number().int(), yellow: z.number().int(), red: z.number().int() }),
        examined: z.number().int(),
        changed: z.number().int(),
        updated: z.number().int(),
        ms: z.number().int(),
      }),
      "Reclassified",
    ),
    ...errorResponses(403, 404),
  },
});

const summary = createRoute({
  method: "get",
  path: "/v1/units/{id}/households/summary",
  tags: ["households"],
  summary: "Households by class and overdue visits in a subtree",
  security: bearer,
  request: { params: IdParam, query: z.object({ ...AsOfQuery }) },
  responses: {
    200: jsonResponse(
      z.object({
        unitId: z.uuid(),
        asOf: z.string(),
        total: z.number().int(),
        byClass: z.object({ green: z.number().int(), yellow: z.number().int(), red: z.number().int() }),
        overdue: z.object({
          total: z.number().int(),
          green: z.number().int(),
          yellow: z.number().int(),
          red: z.number().int(),
        }),
      }),
      "Summary",
    ),
    ...errorResponses(404),
  },
});

const addHelper = createRoute({
  method: "post",
  path: "/v1/households/{id}/helpers",
  tags: ["households"],
  summary: "Name a helper (帮扶人) for a household (admin, center_staff, grid_worker)",
  description: "The helper is a grid worker or a three-line contact whose unit covers the household.",
  security: bearer,
  middleware: [requireRole(...REGISTRY_WRITERS)] as const,
  request: {
    params: IdParam,
    body: jsonBody(
      z.strictObject({ userId: z.uuid(), kind: z.enum(["one_to_one", "one_to_many"]) }).openapi("NewHelper"),
    ),
  },
  responses: { 201: jsonResponse(HelperSchema, "Named"), ...errorResponses(403, 404, 409) },
});

const endHelper = createRoute({
  method: "delete",
  path: "/v1/households/{id}/helpers/{userId}",
  tags: ["households"],
  summary: "End a helper pairing, keeping its history (admin, center_staff, grid_worker)",
  security: bearer,
  middleware: [requireRole(...REGISTRY_WRITERS)] as const,
  request: {
    params: z.object({
      id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
      userId: z.uuid().openapi({ param: { name: "userId", in: "path" } }),
    }),
  },
  responses: { 204: { description: "Ended" }, ...errorResponses(403, 404) },
});

const CadenceValue = z
  .union([z.number().int().min(1).max(MAX_CADENCE_DAYS), z.enum(["none", "inherit"])])
  .openapi({
    description:
      "Days between contacts, `none` for no scheduled visits, `inherit` to drop this unit's own value",
  });
const ServicePlanSchema = z
  .object({
    unitId: z.uuid(),
    cadence: z.object({
      green: z.number().int().nullable(),
      yellow: z.number().int().nullable(),
      red: z.number().int().nullable(),
    }),
    source: z
      .object({ green: z.uuid().nullable(), yellow: z.uuid().nullable(), red: z.uuid().nullable() })
      .openapi({ description: "The unit each value comes from; null = the default" }),
  })
  .openapi("ServicePlan");

const getServicePlan = createRoute({
  method: "get",
  path: "/v1/units/{id}/service-plan",
  tags: ["households"],
  summary: "The visit cadence by class in force for a unit, and where each value comes from",
  description:
    "Defaults: green no scheduled visits, yellow every 30 days, red every 7 days; inherited down the tree.",
  security: bearer,
  request: { params: IdParam },
  responses: { 200: jsonResponse(ServicePlanSchema, "The service plan"), ...errorResponses(404) },
});

const putServicePlan = createRoute({
  method: "put",
  path: "/v1/units/{id}/service-plan",
  tags: ["households"],
  summary: "Set a unit's own visit cadences (admin, center_staff); the subtree is rescheduled",
  security: bearer,
  middleware: [requireRole("admin", "center_staff")] as const,
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({
          green: CadenceValue.optional(),
          yellow: CadenceValue.optional(),
          red: CadenceValue.optional(),
        })
        .refine((b) => Object.keys(b).length > 0, "give at least one class")
        .openapi("ServicePlanUpdate"),
    ),
  },
  responses: {
    200: jsonResponse(ServicePlanSchema.extend({ rescheduled: z.number().int() }), "Updated"),
    ...errorResponses(403, 404),
  },
});

async function servicePlanOf(db: Db, unit: UnitRef) {
  const rs = await db.$client.execute({
    sql: `SELECT s.unit_id AS unitId, u.depth AS depth, s.key AS key, s.value AS value FROM unit_settings s JOIN units u ON u.id = s.unit_id
          WHERE s.unit_id IN (SELECT value FROM json_each(?)) AND s.key IN (?, ?, ?)`,
    args: [JSON.stringify(pathIds(unit.path)), CADENCE_KEYS.green, CADENCE_KEYS.yellow, CADENCE_KEYS.red],
  });
  const settings = rs.rows.map((r) => ({
    unitId: String(r.unitId),
    depth: Number(r.depth),
    key: String(r.key),
    value: String(r.value),
  }));
  const cadence = resolveCadence(settings);
  const source = { green: null, yellow: null, red: null } as Record<HouseholdClass, string | null>;
  for (const klass of HOUSEHOLD_CLASSES) {
    const found = settings
      .filter((st) => st.key === CADENCE_KEYS[klass] && parseCadenceValue(st.value) !== undefined)
      .sort((a, b) => b.depth - a.depth)[0];
    source[klass] = found?.unitId ?? null;
  }
  return { unitId: unit.id, cadence, source };
}

const HELPER_LINES: Record<string, string> = {
  grid_worker: "grid_worker",
  party_member: "party_member",
  deputy: "deputy",
  household_lead: "household_lead",
  center_staff: "center_staff",
};

export const householdRoutes = createRouter()
  .openapi(importHouseholds, async (c) => {
    const principal = principalOf(c);
    const { rows } = c.req.valid("json");
    const db = getDb(c.env);
    const now = new Date().toISOString();
    const asOf = new Date(now);
    const codes = [...new Set(rows.map((r) => r.unitCode))];
    const unitRows = await db.$client.execute({
      sql: "SELECT id, code, path, level, grid_level, depth FROM units WHERE code IN (SELECT value FROM json_each(?))",
      args: [JSON.stringify(codes)],
    });
    const byCode = new Map<string, UnitRef>(
      unitRows.rows.map((r) => [
        String(r.code),
        {
          id: String(r.id),
          path: String(r.path),
          level: String(r.level),
          gridLevel: r.grid_level === null ? null : Number(r.grid_level),
          depth: Number(r.depth),
        },
      ]),
    );
    const rowErrors: Array<{ index: number; path: string; message: string }> = [];
    rows.forEach((row, index) => {
      const unit = byCode.get(row.unitCode);
      if (!unit?.path.startsWith(principal.unitPath)) {
        rowErrors.push({ index, path: `rows.${index}.unitCode`, message: "no such grid in your scope" });
      } else if (unit.level !== "grid") {
        rowErrors.push({
          index,
          path: `rows.${index}.unitCode`,
          message: "households live in a level-2 or level-3 grid",
        });
      }
    });
    if (rowErrors.length) {
      throw new Problem(
        400,
        "import-rows-invalid",
        `${rowErrors.length} row(s) are invalid; nothing was imported`,
        {
          errors: rowErrors.map((e) => ({ path: e.path, message: e.message })),
          extensions: { rowErrors },
        },
      );
    }
    const keys = await piiKeys(c.env.PII_KEY);
    const sealed: Array<{
      resident: SealedResident;
      path: string;
      index: number;
      householdId: string;
      unitPath: string;
    }> = [];
    const householdIds = rows.map(() => crypto.randomUUID());
    for (let index = 0; index < rows.length; index++) {
      const row = rows[index]!;
      const unit = byCode.get(row.unitCode)!;
      for (let m = 0; m < row.residents.length; m++) {
        sealed.push({
          resident: await sealResident(keys, crypto.randomUUID(), row.residents[m]!),
          path: `rows.${index}.residents.${m}.idNumber`,
          index,
          householdId: householdIds[index]!,
          unitPath: unit.path,
        });
      }
    }
    await assertUniqueIdNumbers(db, sealed);

    // Village totals including the import, and the cadence settings on every grid's path, in one round trip.
    const villageIds = [...new Set([...byCode.values()].map((u) => villageIdOf(u.path)!))];
    const ancestorIds = [...new Set([...byCode.values()].flatMap((u) => pathIds(u.path)))];
    const [sums, settings] = await db.$client.batch(
      [
        {
          sql: `SELECT village_id, sum(income_per_capita) AS s, count(*) AS n FROM households
                WHERE village_id IN (SELECT value FROM json_each(?)) GROUP BY village_id`,
          args: [JSON.stringify(villageIds)],
        },
        {
          sql: `SELECT s.unit_id AS unitId, u.depth AS depth, s.key AS key, s.value AS value FROM unit_settings s
                JOIN units u ON u.id = s.unit_id WHERE s.unit_id IN (SELECT value FROM json_each(?)) AND s.key IN (?, ?, ?)`,
          args: [JSON.stringify(ancestorIds), CADENCE_KEYS.green, CADENCE_KEYS.yellow, CADENCE_KEYS.red],
        },
      ],
      "read",
    );
    const totals = new Map<string, { incomeSum: number; households: number }>();
    for (const r of sums!.rows)
      totals.set(String(r.village_id), { incomeSum: Number(r.s), households: Number(r.n) });
    for (const row of rows) {
      const v = villageIdOf(byCode.get(row.unitCode)!.path)!;
      const t = totals.get(v) ?? { incomeSum: 0, households: 0 };
      totals.set(v, { incomeSum: t.incomeSum + row.incomePerCapita, households: t.households + 1 });
    }
    const cadenceByUnit = new Map<string, Cadence>();
    for (const unit of byCode.values()) {
      const onPath = new Set(pathIds(unit.path));
      cadenceByUnit.set(
        unit.id,
        resolveCadence(
          settings!.rows
            .filter((s) => onPath.has(String(s.unitId)))
            .map((s) => ({ depth: Number(s.depth), key: String(s.key), value: String(s.value) })),
        ),
      );
    }
    const byClass: Record<string, number> = { green: 0, yellow: 0, red: 0 };
    const newRows: NewHouseholdRow[] = rows.map((row, index) => {
      const unit = byCode.get(row.unitCode)!;
      const tagLists = row.residents.map((r) => r.tags as string[]);
      const result = classifyHousehold(
        { ...row, memberTags: tagLists.flat() },
        totals.get(villageIdOf(unit.path)!)!,
        asOf,
      );
      byClass[result.class]! += 1;
      const { residents: _residents, unitCode: _unitCode, ...fields } = row;
      return {
        id: householdIds[index]!,
        unit,
        fields,
        redTags: storedRedTags(tagLists),
        memberCount: row.residents.length,
        class: result.class,
        reasons: result.reasons,
        nextVisitDue: nextVisitDue(result.class, cadenceByUnit.get(unit.id)!, null, now),
      };
    });
    const statements: InStatement[] = [];
    for (let i = 0; i < newRows.length; i += 2_000) {
      statements.push(insertHouseholdsStatement(newRows.slice(i, i + 2_000), now));
    }
    for (let i = 0; i < sealed.length; i += 2_000) {
      statements.push(insertResidentsStatement(sealed.slice(i, i + 2_000), now));
    }
    try {
      await writeAudited(db, statements, [
        auditEntry(c, "household.import", "household", null, principal.unitPath, {
          imported: newRows.length,
          residents: sealed.length,
          byClass,
        }),
      ]);
    } catch (error) {
      if (isConstraintViolation(error)) {
        throw new Problem(
          409,
          "duplicate-id-number",
          "An ID number was registered meanwhile; nothing was imported",
        );
      }
      throw error;
    }
    return c.json(
      { imported: newRows.length, residents: sealed.length, byClass, villages: villageIds.length },
      201,
    );
  })
  .openapi(create, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const unit = await loadGrid(db, principal, body.unitId, "unitId");
    const keys = await piiKeys(c.env.PII_KEY);
    const id = crypto.randomUUID();
    const sealed = [];
    for (let m = 0; m < body.residents.length; m++) {
      sealed.push({
        resident: await sealResident(keys, crypto.randomUUID(), body.residents[m]!),
        path: `residents.${m}.idNumber`,
        householdId: id,
        unitPath: unit.path,
      });
    }
    await assertUniqueIdNumbers(db, sealed);
    const now = new Date().toISOString();
    const ctx = await classificationContext(db, villageIdOf(unit.path)!, unit.path);
    const tagLists = body.residents.map((r) => r.tags as string[]);
    const result = classifyHousehold(
      { ...body, memberTags: tagLists.flat() },
      { incomeSum: ctx.village.incomeSum + body.incomePerCapita, households: ctx.village.households + 1 },
      new Date(now),
    );
    const { residents: _residents, unitId: _unitId, ...fields } = body;
    const newRow: NewHouseholdRow = {
      id,
      unit,
      fields,
      redTags: storedRedTags(tagLists),
      memberCount: body.residents.length,
      class: result.class,
      reasons: result.reasons,
      nextVisitDue: nextVisitDue(result.class, ctx.cadence, null, now),
    };
    const statements = [insertHouseholdsStatement([newRow], now)];
    if (sealed.length) statements.push(insertResidentsStatement(sealed, now));
    statements.push({ sql: `${householdSelect} WHERE id = ?`, args: [id] });
    const results = await writeHousehold(db, statements, [
      auditEntry(c, "household.create", "household", id, unit.path, {
        class: result.class,
        residents: sealed.length,
      }),
    ]);
    const row = toHouseholdRow(results[results.length - 1]!.rows[0] as Record<string, unknown>);
    c.header("etag", `"${row.version}"`);
    c.header("location", `/v1/households/${id}`);
    return c.json(householdView(row, new Date(now), false), 201);
  })
  .openapi(list, async (c) => {
    const principal = principalOf(c);
    const query = c.req.valid("query");
    const db = getDb(c.env);
    const scopePath = query.unitId ? (await loadUnit(db, principal, query.unitId)).path : principal.unitPath;
    const asOf = asOfDate(query.asOf);
    const [lo, hi] = subtreeRange(scopePath);
    const where = ["unit_path >= :lo", "unit_path < :hi"];
    const args: Record<string, InValue> = { lo, hi, limit: query.limit + 1 };
    if (query.class) {
      where.push(`${EFFECTIVE_CLASS_SQL} = :class`);
      args.class = query.class;
      args.asOf = asOf.toISOString();
    }
    if (query.q) {
      const id = parseIdNumber(query.q, "9999-12-31");
      if (id.ok) {
        // Finding a person by their ID number is a use of it: only roles that may see ID numbers, audited.
        if (!mayUnmask(principal.role)) {
          throw problems.forbidden("Your role may not search by ID number");
        }
        await writeAudited(
          db,
          [],
          [
            auditEntry(
              c,
              "household.search_by_id_number",
              "household",
              null,
              scopePath,
              {
                idNumber: maskIdNumber(id.idNumber),
              },
              parsePurpose(c.req.header("x-purpose")) ?? undefined,
            ),
          ],
        );
        where.push("id IN (SELECT household_id FROM residents WHERE id_number_hmac = :hmac)");
        args.hmac = await lookupHmac(await piiKeys(c.env.PII_KEY), "id_number", id.idNumber);
      } else {
        where.push("(address LIKE :q ESCAPE '\\' OR head_name LIKE :q ESCAPE '\\')");
        args.q = `%${query.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      }
    }
    const after = decodeCursor(query.cursor, 2);
    if (after) {
      where.push("(unit_path, id) > (:afterPath, :afterId)");
      args.afterPath = String(after[0]);
      args.afterId = String(after[1]);
    }
    const rs = await db.$client.execute({
      sql: `${householdSelect} WHERE ${where.join(" AND ")} ORDER BY unit_path, id LIMIT :limit`,
      args,
    });
    const rows = rs.rows.map((r) => toHouseholdRow(r as Record<string, unknown>));
    return c.json(
      toPage(
        rows,
        query.limit,
        (h) => householdView(h, asOf, false),
        (h) => [h.unitPath, h.id],
      ),
      200,
    );
  })
  .openapi(getOne, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    const db = getDb(c.env);
    const household = await loadHousehold(db, principal, id);
    const reveal = await grantReveal(c, query.reveal, {
      objectType: "household",
      objectId: id,
      scopePath: household.unitPath,
      fields: ["classReasons"],
    });
    const [members, helpers] = await db.$client.batch(
      [
        { sql: `${residentSelect} WHERE household_id = ? ORDER BY created_at, id`, args: [id] },
        {
          sql: "SELECT id, user_id, line, kind, since, until FROM household_helpers WHERE household_id = ? ORDER BY since, id",
          args: [id],
        },
      ],
      "read",
    );
    const asOf = asOfDate(query.asOf);
    const today = chinaToday(asOf);
    c.header("etag", `"${household.version}"`);
    return c.json(
      {
        ...householdView(household, asOf, reveal),
        residents: members!.rows.map((r) =>
          residentView(toResidentRow(r as Record<string, unknown>), null, today),
        ),
        helpers: helpers!.rows.map((r) => ({
          id: String(r.id),
          userId: String(r.user_id),
          line: String(r.line),
          kind: r.kind as "one_to_one" | "one_to_many",
          since: String(r.since),
          until: r.until === null ? null : String(r.until),
        })),
      },
      200,
    );
  })
  .openapi(patch, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const household = await loadHousehold(db, principal, id);
    const expected = requiredIfMatch(c.req.header("if-match"));
    if (expected !== household.version) {
      throw problems.preconditionFailed(`The household is at version ${household.version}`, {
        currentVersion: household.version,
      });
    }
    const now = new Date().toISOString();
    let override: { class: HouseholdClass; reason: string; until: string; by: string } | null | undefined;
    if (body.override !== undefined) {
      if (principal.role !== "admin" && principal.role !== "center_staff") {
        throw problems.forbidden("Only admin and center_staff may override a class");
      }
      if (body.override) {
        const until = new Date(body.override.until).getTime();
        if (until <= Date.parse(now) || until > Date.parse(now) + 366 * 86_400_000) {
          const message = "the expiry must be in the future and at most 366 days ahead";
          throw problems.badRequest(message, [{ path: "override.until", message }]);
        }
        override = { ...body.override, until: new Date(until).toISOString(), by: principal.userId };
      } else {
        override = null;
      }
    }
    const unit =
      body.unitId && body.unitId !== household.unitId
        ? await loadGrid(db, principal, body.unitId, "unitId")
        : null;
    const target = unit ?? { id: household.unitId, path: household.unitPath };
    const targetVillage = villageIdOf(target.path)!;
    const [ctx, tagLists] = await Promise.all([
      classificationContext(db, targetVillage, target.path),
      memberTagLists(db, id),
    ]);
    const income = body.incomePerCapita ?? household.incomePerCapita;
    const sameVillage = targetVillage === household.villageId;
    const village = {
      incomeSum: ctx.village.incomeSum - (sameVillage ? household.incomePerCapita : 0) + income,
      households: ctx.village.households + (sameVillage ? 0 : 1),
    };
    const { statements, row } = rederiveHousehold(household, {
      unit: target,
      memberTagLists: tagLists,
      village,
      cadence: ctx.cadence,
      now,
      fields: {
        address: body.address,
        latitude: body.location === undefined ? undefined : (body.location?.latitude ?? null),
        longitude: body.location === undefined ? undefined : (body.location?.longitude ?? null),
        headName: body.headName,
        incomePerCapita: body.incomePerCapita,
        incomeStable: body.incomeStable,
        safeYearsMask: body.safeFamilyYears ? safeYearsMask(body.safeFamilyYears) : undefined,
        notes: body.notes,
        override,
      },
    });
    if (unit) {
      // Members, visits, helpers and three-line pairings follow the household's path.
      for (const table of ["residents", "visits", "household_helpers", "contact_pairings"]) {
        statements.push({
          sql: `UPDATE ${table} SET unit_path = ? WHERE household_id = ?`,
          args: [unit.path, id],
        });
      }
    }
    const entries = [
      auditEntry(c, unit ? "household.move" : "household.update", "household", id, row.unitPath, {
        fields: Object.keys(body).filter((k) => k !== "override"),
        class: row.class,
        ...(unit ? { fromUnitId: household.unitId, toUnitId: unit.id } : {}),
      }),
    ];
    if (override !== undefined) {
      entries.push(
        auditEntry(
          c,
          override ? "household.override" : "household.override_removed",
          "household",
          id,
          row.unitPath,
          {
            computedClass: row.computedClass,
            ...(override ? { class: override.class, reason: override.reason, until: override.until } : {}),
          },
        ),
      );
    }
    try {
      await writeHousehold(db, statements, entries);
    } catch (error) {
      if (error instanceof Problem && error.slug === "concurrent-update") {
        throw problems.preconditionFailed("The household changed meanwhile; reload it", {
          currentVersion: household.version + 1,
        });
      }
      throw error;
    }
    c.header("etag", `"${row.version}"`);
    return c.json(householdView(row, new Date(now), false), 200);
  })
  .openapi(reclassify, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    const db = getDb(c.env);
    const unit = await loadUnit(db, principal, id);
    const asOf = asOfDate(query.asOf);
    const now = new Date().toISOString();
    const started = Date.now();
    const statements = await reclassifyStatements(db, unit, asOf, now);
    const results = await writeAudited(db, statements, [
      auditEntry(c, "household.reclassify", "unit", unit.id, unit.path, { asOf: asOf.toISOString() }),
    ]);
    const counts = await classCounts(db, unit.path, unit.level, asOf);
    return c.json(
      {
        unitId: unit.id,
        asOf: asOf.toISOString(),
        byClass: counts,
        examined: counts.green + counts.yellow + counts.red,
        changed: Number(results[1]!.rows[0]!.n),
        updated: results[0]!.rowsAffected,
        ms: Date.now() - started,
      },
      200,
    );
  })
  .openapi(summary, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    const db = getDb(c.env);
    const unit = await loadUnit(db, principal, id);
    const asOf = asOfDate(query.asOf);
    const [byClass, overdue] = await Promise.all([
      classCounts(db, unit.path, unit.level, asOf),
      overdueCounts(db, unit.path, unit.level, asOf),
    ]);
    return c.json(
      {
        unitId: unit.id,
        asOf: asOf.toISOString(),
        total: byClass.green + byClass.yellow + byClass.red,
        byClass,
        overdue,
      },
      200,
    );
  })
  .openapi(getServicePlan, async (c) => {
    const db = getDb(c.env);
    const unit = await loadUnit(db, principalOf(c), c.req.valid("param").id);
    return c.json(await servicePlanOf(db, unit), 200);
  })
  .openapi(putServicePlan, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const unit = await loadUnit(db, principal, c.req.valid("param").id);
    const now = new Date().toISOString();
    const statements: InStatement[] = [];
    for (const klass of HOUSEHOLD_CLASSES) {
      const value = body[klass];
      if (value === undefined) continue;
      statements.push(
        value === "inherit"
          ? {
              sql: "DELETE FROM unit_settings WHERE unit_id = ? AND key = ?",
              args: [unit.id, CADENCE_KEYS[klass]],
            }
          : {
              sql: `INSERT INTO unit_settings (unit_id, key, value, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (unit_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
              args: [unit.id, CADENCE_KEYS[klass], String(value), now],
            },
      );
    }
    await writeAudited(db, statements, [
      auditEntry(c, "service_plan.update", "unit", unit.id, unit.path, {
        ...body,
        defaults: DEFAULT_CADENCE,
      }),
    ]);
    // The new cadences reschedule every household of the subtree (set-based, like a reclassification).
    const results = await writeAudited(db, await reclassifyStatements(db, unit, new Date(now), now), [
      auditEntry(c, "household.reclassify", "unit", unit.id, unit.path, { reason: "service plan changed" }),
    ]);
    return c.json({ ...(await servicePlanOf(db, unit)), rescheduled: results[0]!.rowsAffected }, 200);
  })
  .openapi(addHelper, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const household = await loadHousehold(db, principal, id);
    const rs = await db.$client.execute({
      sql: "SELECT id, role, unit_path, disabled FROM users WHERE id = ?",
      args: [body.userId],
    });
    const user = rs.rows[0];
    // The helper must work where the household lives: their unit is the household's grid or one above it.
    if (!user || Number(user.disabled) === 1 || !household.unitPath.startsWith(String(user.unit_path))) {
      throw problems.badRequest("The helper must be an active user whose unit covers the household", [
        { path: "userId", message: "not a user covering this household" },
      ]);
    }
    const line = HELPER_LINES[String(user.role)];
    if (!line) {
      throw problems.badRequest("A helper is a grid worker, centre staff or a three-line contact", [
        { path: "userId", message: `a ${String(user.role)} cannot be a helper` },
      ]);
    }
    const helper = {
      id: crypto.randomUUID(),
      userId: body.userId,
      line,
      kind: body.kind,
      since: new Date().toISOString(),
      until: null,
    };
    try {
      await writeAudited(
        db,
        [
          {
            sql: `INSERT INTO household_helpers (id, household_id, user_id, unit_path, line, kind, since, until, created_by)
                  VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
            args: [
              helper.id,
              id,
              helper.userId,
              household.unitPath,
              line,
              helper.kind,
              helper.since,
              principal.userId,
            ],
          },
        ],
        [
          auditEntry(c, "household.helper_added", "household", id, household.unitPath, {
            userId: helper.userId,
            line,
            kind: helper.kind,
          }),
        ],
      );
    } catch (error) {
      if (isConstraintViolation(error))
        throw problems.conflict("helper-exists", "This user already helps this household");
      throw error;
    }
    return c.json(helper, 201);
  })
  .openapi(endHelper, async (c) => {
    const principal = principalOf(c);
    const { id, userId } = c.req.valid("param");
    const db = getDb(c.env);
    const household = await loadHousehold(db, principal, id);
    const active = await db.$client.execute({
      sql: "SELECT id FROM household_helpers WHERE household_id = ? AND user_id = ? AND until IS NULL",
      args: [id, userId],
    });
    if (!active.rows.length) throw problems.notFound("helper pairing");
    await writeAudited(
      db,
      [
        {
          sql: "UPDATE household_helpers SET until = ? WHERE id = ? AND until IS NULL",
          args: [new Date().toISOString(), String(active.rows[0]!.id)],
        },
      ],
      [auditEntry(c, "household.helper_ended", "household", id, household.unitPath, { userId })],
    );
    return c.body(null, 204);
  });
