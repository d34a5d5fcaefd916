import type { Context } from "hono";
import type { HelperRow, HouseholdRow } from "../../db/repos/households";
import type { ResidentRow } from "../../db/repos/residents";
import {
  effectiveClass,
  isOverrideActive,
  maskReasons,
  SENSITIVE_TAGS,
  safeYearsFromMask,
} from "../../domain/classification";
import { isMinor, isMinorInYear, maskedBirthDate } from "../../domain/pii";
import { daysLate } from "../../domain/service-plan";
import type { AppEnv } from "../../env";
import { maskName } from "../../platform/crypto/pii";
import { callerOf } from "../../platform/http/auth";
import type { Actor, OpenedResident } from "../../services/households";

/** The caller of a request as the registry services take it. */
export function actorOf(c: Context<AppEnv>): Actor {
  return callerOf(c);
}

/** A household as the API shows it at `asOf`; sensitive reasons are masked unless `reveal`. */
export function householdView(h: HouseholdRow, asOf: Date, reveal: boolean) {
  const override =
    h.overrideClass && h.overrideUntil
      ? { class: h.overrideClass, reason: h.overrideReason ?? "", until: h.overrideUntil }
      : null;
  const reasons = JSON.parse(h.classReasons) as string[];
  return {
    id: h.id,
    unitId: h.unitId,
    villageId: h.villageId,
    address: h.address,
    location: h.latitude !== null && h.longitude !== null ? { lat: h.latitude, lng: h.longitude } : null,
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

/**
 * A resident as the API shows it on `today` (a China date): masked unless `plain` carries the values of a
 * granted reveal. Masked: the ID number keeps its region prefix only, the birth date its year, the phone its
 * ends, sensitive tags read `restricted`, and `minor` (and a minor's masked name) is decided by the birth year
 * alone, so nothing shown narrows an ID number below 182,500 candidates (see `domain/pii.ts`).
 */
export function residentView(r: ResidentRow, plain: OpenedResident | null, today: string) {
  const birthYear = Number(r.birthDateMasked.slice(0, 4));
  const tags = JSON.parse(r.tags) as string[];
  const common = {
    id: r.id,
    householdId: r.householdId,
    gender: r.gender,
    relationship: r.relationship,
    birthYear,
    version: r.version,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
  if (plain) {
    const minor = plain.birthDate
      ? isMinor(plain.birthDate, today)
      : isMinorInYear(birthYear, Number(today.slice(0, 4)));
    return {
      ...common,
      name: r.name,
      birthDate: plain.birthDate ?? maskedBirthDate(birthYear),
      idNumber: plain.idNumber,
      phone: plain.phone,
      tags,
      minor,
      masked: false,
    };
  }
  const minor = isMinorInYear(birthYear, Number(today.slice(0, 4)));
  return {
    ...common,
    name: minor ? maskName(r.name) : r.name,
    birthDate: maskedBirthDate(birthYear),
    idNumber: r.idNumberMasked,
    phone: r.phoneMasked,
    tags: [...new Set(tags.map((t) => (SENSITIVE_TAGS.has(t) ? "restricted" : t)))],
    minor,
    masked: true,
  };
}

/** A helper pairing as the API shows it. */
export function helperView(h: Omit<HelperRow, "householdId" | "unitPath" | "createdBy">) {
  return { id: h.id, userId: h.userId, line: h.line, kind: h.kind, since: h.since, until: h.until };
}
