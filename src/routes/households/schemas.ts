import { z } from "@hono/zod-openapi";
import { chinaDate, chinaYear } from "../../domain/china-time";
import {
  HOUSEHOLD_CLASS_LABELS,
  HOUSEHOLD_CLASSES,
  RESIDENT_TAG_LABELS,
  RESIDENT_TAGS,
  SAFE_YEAR_BASE,
  SAFE_YEAR_MAX,
} from "../../domain/classification";
import { parseIdNumber } from "../../domain/id-number";
import { PURPOSE_CODES, purposeCodesDescription } from "../../domain/purposes";

/** The schemas the household, resident and visit routes share. */

const labels = (entries: Record<string, string>) =>
  Object.entries(entries)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; ");

export const ClassEnum = z.enum(HOUSEHOLD_CLASSES).openapi({ description: labels(HOUSEHOLD_CLASS_LABELS) });
export const Tag = z.enum(RESIDENT_TAGS).openapi({ description: labels(RESIDENT_TAG_LABELS) });

/** A member's relationship to the head of household. */
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

/** A birth date: not in the future (China date), not before 1900. */
export const BirthDate = z.iso
  .date()
  .refine((d) => d <= chinaDate(new Date()), "a birth date cannot be in the future")
  .refine((d) => d >= "1900-01-01", "a birth date before 1900 is not plausible");

export const Phone = z.string().regex(/^\+?\d{5,20}$/, "5–20 digits");

export const ResidentInput = z
  .strictObject({
    name: z.string().trim().min(1).max(50),
    gender: z.enum(["male", "female"]),
    birthDate: BirthDate,
    idNumber: z
      .string()
      .trim()
      .max(18)
      .optional()
      .openapi({ description: "身份证号 (GB 11643), 18 characters" }),
    phone: Phone.optional(),
    relationship: z.enum(RELATIONSHIPS).openapi({ description: "Relationship to the head of household" }),
    tags: z.array(Tag).max(20).default([]),
  })
  .superRefine((r, ctx) => {
    if (r.idNumber === undefined) return;
    const parsed = parseIdNumber(r.idNumber, chinaDate(new Date()));
    const message = !parsed.ok
      ? parsed.message
      : parsed.birthDate !== r.birthDate
        ? "the ID number's birth date is not birthDate"
        : parsed.gender !== r.gender
          ? "the ID number's gender digit is not gender"
          : null;
    if (message) ctx.addIssue({ code: "custom", path: ["idNumber"], message });
  })
  .openapi("NewResident");

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
/** A point as the API spells it everywhere (cases too): `lat`/`lng` in degrees (WGS 84). */
export const Location = z
  .strictObject({
    lat: z.number().min(-90).max(90),
    lng: z.number().min(-180).max(180),
  })
  .openapi("Coordinates");

const LegacyLocation = z
  .strictObject({
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
  })
  .openapi("LegacyCoordinates", {
    deprecated: true,
    description:
      "The old spelling, accepted on input until the next API version: send `lat`/`lng`. A request using it is answered with a `Deprecation` header.",
  });

/** A location on input: `{ lat, lng }`, or the deprecated `{ latitude, longitude }`. */
export const LocationInput = z.union([Location, LegacyLocation]);
export type LocationInput = z.infer<typeof LocationInput>;

/** When `{ latitude, longitude }` on input was deprecated (announced by the `Deprecation` header). */
export const LEGACY_LOCATION_DEPRECATED = new Date("2026-12-01T00:00:00Z");

/** A location as the services store it (`latitude`/`longitude` columns), from either spelling. */
export function storedLocation(l: LocationInput): { latitude: number; longitude: number } {
  return "lat" in l ? { latitude: l.lat, longitude: l.lng } : l;
}

/** Whether any of these input locations used the deprecated spelling. */
export function usesLegacyLocation(locations: ReadonlyArray<LocationInput | null | undefined>): boolean {
  return locations.some((l) => l != null && "latitude" in l);
}

/** A household's own fields, as registered or imported. */
export const householdFields = {
  address: z.string().trim().min(1).max(200),
  location: LocationInput.optional(),
  headName: z.string().trim().min(1).max(50).openapi({ description: "Head of household (户主)" }),
  incomePerCapita: Income,
  incomeStable: z.boolean(),
  safeFamilyYears: SafeYears.default([]),
  notes: z.string().max(2000).optional(),
  residents: z.array(ResidentInput).max(30).default([]),
};

export const HouseholdPatch = z
  .strictObject({
    unitId: z.uuid().optional().openapi({ description: "Move the household to another grid" }),
    address: householdFields.address.optional(),
    location: LocationInput.nullable().optional(),
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

export const ResidentSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid(),
    name: z.string(),
    gender: z.enum(["male", "female"]),
    birthDate: z
      .string()
      .openapi({ description: "YYYY-MM-DD when revealed; `YYYY-**-**` (the year only) when masked" }),
    birthYear: z.number().int(),
    idNumber: z
      .string()
      .nullable()
      .openapi({ example: "6109**************", description: "Masked: the first 4 characters only" }),
    phone: z.string().nullable(),
    relationship: z.string(),
    tags: z.array(z.string()).openapi({ description: "Sensitive tags read `restricted` when masked" }),
    minor: z.boolean().openapi({
      description:
        "Under 18; when masked, by the birth year alone (a minor until the end of the year they turn 18)",
    }),
    masked: z.boolean(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Resident");

const OverrideSchema = z.object({
  class: ClassEnum,
  reason: z.string(),
  until: z.string(),
  by: z.string().nullable(),
  active: z.boolean(),
});

export const HelperSchema = z
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

/** `?reveal=true` asks for unmasked sensitive fields (see `src/domain/pii.ts`). */
export const RevealQuery = {
  reveal: z.enum(["true", "false"]).optional().openapi({
    description:
      "Unmasked sensitive fields: admin, center_staff, grid_worker only, with `x-purpose`; audited and limited per user (a unit setting `pii.reveals_per_hour`, default 60; 429 beyond it)",
  }),
};

/**
 * The purpose of an unmasked read or a search by ID number: an enumerated code in `x-purpose` and, where the
 * code needs one, a reference in `x-purpose-ref`; both recorded in the audit row. Validated by the service
 * (`purposes.ts`) so that a refused reveal is audited: anything else answers 400 `purpose-invalid`.
 */
export const PurposeHeader = z.object({
  "x-purpose": z
    .string()
    .max(40)
    .optional()
    .openapi({
      enum: [...PURPOSE_CODES],
      description: `Why personal data is used; required with reveal=true and for a search by ID number. ${purposeCodesDescription()}`,
    }),
  "x-purpose-ref": z.string().max(64).optional().openapi({
    description:
      "The purpose's reference: a case id (UUID) for `case_handling` (required), a visit id for `visit` (optional), a document number for `legal_request` (required); none for the other codes",
  }),
});

/** `?asOf=` for reading classes and lateness at another instant (replays, tests); defaults to now. */
export const AsOfQuery = {
  asOf: z.iso
    .datetime()
    .optional()
    .openapi({ description: "Evaluate overrides and lateness at this instant (default now)" }),
};

/** The instant `?asOf=` names, or now. */
export function asOfDate(asOf: string | undefined): Date {
  return asOf ? new Date(asOf) : new Date();
}
