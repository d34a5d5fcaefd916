/**
 * Purposes of a sensitive read (PIPL art. 6: a specific, reasonable purpose). A reveal, a search by ID number
 * or any other use of personal information states one code in `x-purpose`, and, where the code needs it, a
 * reference in `x-purpose-ref` (the case, the visit or the document the use serves). Both are recorded in the
 * read's audit row; anything else is refused.
 */

/** The enumerated purposes. */
export const PURPOSE_CODES = [
  "case_handling",
  "visit",
  "assistance",
  "verification",
  "legal_request",
  "emergency",
  "registry_maintenance",
] as const;
export type PurposeCode = (typeof PURPOSE_CODES)[number];

/** Chinese labels, for the API reference. */
export const PURPOSE_LABELS: Record<PurposeCode, string> = {
  case_handling: "案件办理（须附案件编号）",
  visit: "入户走访（可附走访记录编号）",
  assistance: "帮扶救助",
  verification: "身份核验",
  legal_request: "依法调取（须附公函文号）",
  emergency: "应急处置",
  registry_maintenance: "户籍信息维护",
};

/** What a purpose's reference is, and whether it must be given. */
interface ReferenceRule {
  kind: "case" | "visit" | "document" | "none";
  required: boolean;
}

const REFERENCE_RULES: Record<PurposeCode, ReferenceRule> = {
  case_handling: { kind: "case", required: true },
  visit: { kind: "visit", required: false },
  assistance: { kind: "none", required: false },
  verification: { kind: "none", required: false },
  legal_request: { kind: "document", required: true },
  emergency: { kind: "none", required: false },
  registry_maintenance: { kind: "none", required: false },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A document number such as `汉公(刑)调字〔2026〕18号`: letters (any script), digits and a few brackets. */
const DOCUMENT_REF = /^[\p{L}\p{N}()（）〔〕[\]\-_/]{4,64}$/u;

/** A stated purpose: its code and, where one applies, its reference. */
export interface Purpose {
  code: PurposeCode;
  ref: string | null;
}

export type PurposeResult =
  | { ok: true; purpose: Purpose | null }
  | { ok: false; path: "header.x-purpose" | "header.x-purpose-ref"; message: string };

/**
 * Parses the `x-purpose` and `x-purpose-ref` headers: no code at all is `purpose: null` (the caller decides
 * whether one is required); an unknown code, a missing required reference, a reference of the wrong shape or
 * a reference for a code that takes none is an error.
 *
 * @example
 * parsePurposeHeaders("case_handling", "0b5c…") // { ok: true, purpose: { code: "case_handling", ref: "0b5c…" } }
 * parsePurposeHeaders("xxxx", undefined)        // { ok: false, path: "header.x-purpose", … }
 */
export function parsePurposeHeaders(code: string | undefined, ref: string | undefined): PurposeResult {
  const c = code?.trim() ?? "";
  const r = ref?.trim() ?? "";
  if (c === "") {
    return r === ""
      ? { ok: true, purpose: null }
      : { ok: false, path: "header.x-purpose", message: "a reference needs a purpose code" };
  }
  if (!(PURPOSE_CODES as readonly string[]).includes(c)) {
    return { ok: false, path: "header.x-purpose", message: `one of ${PURPOSE_CODES.join(", ")}` };
  }
  const purposeCode = c as PurposeCode;
  const rule = REFERENCE_RULES[purposeCode];
  if (r === "") {
    return rule.required
      ? { ok: false, path: "header.x-purpose-ref", message: `${purposeCode} needs a ${rule.kind} reference` }
      : { ok: true, purpose: { code: purposeCode, ref: null } };
  }
  const shapeOk =
    rule.kind === "case" || rule.kind === "visit"
      ? UUID.test(r)
      : rule.kind === "document"
        ? DOCUMENT_REF.test(r)
        : false;
  if (!shapeOk) {
    const message =
      rule.kind === "none"
        ? `${purposeCode} takes no reference`
        : rule.kind === "document"
          ? "a document number of 4–64 letters, digits and brackets"
          : `a ${rule.kind} id (UUID)`;
    return { ok: false, path: "header.x-purpose-ref", message };
  }
  return { ok: true, purpose: { code: purposeCode, ref: r } };
}

/** The OpenAPI description of the purpose codes: `code` — label; … */
export function purposeCodesDescription(): string {
  return PURPOSE_CODES.map((c) => `\`${c}\` — ${PURPOSE_LABELS[c]}`).join("; ");
}
