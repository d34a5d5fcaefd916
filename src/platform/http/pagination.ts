import { z } from "@hono/zod-openapi";
import { problems } from "./problem";

// JSON may spell a lone UTF-16 surrogate (`"\ud800"`); no store can compare it, so a cursor holding one is forged.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** `?limit=&cursor=` as every list endpoint takes them. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ description: "Page size, 1–200" }),
  cursor: z
    .string()
    .max(512)
    .optional()
    .openapi({ description: "Opaque cursor from the previous page's nextCursor" }),
};

/** Encodes a keyset position as an opaque cursor (base64url of its UTF-8 JSON, so any text may sort a list). */
export function encodeCursor(position: Array<string | number>): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(JSON.stringify(position))) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Decodes a cursor into a keyset position of `arity` strings/numbers; 400 if it is not one of ours.
 * Pass `kinds` to also require each position's type (a forged `["x"]` must not reach a numeric column).
 *
 * @example
 * const after = decodeCursor(q.cursor, 1, ["number"]); // [seq] or null
 */
export function decodeCursor(
  cursor: string | undefined,
  arity: number,
  kinds?: ReadonlyArray<"string" | "number">,
): Array<string | number> | null {
  if (cursor === undefined || cursor === "") return null;
  try {
    const padded = cursor.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(padded), (ch) => ch.charCodeAt(0));
    const value = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes),
    ) as unknown;
    if (
      Array.isArray(value) &&
      value.length === arity &&
      value.every(
        (v) =>
          (typeof v === "string" && !LONE_SURROGATE.test(v)) || (typeof v === "number" && Number.isFinite(v)),
      ) &&
      (!kinds || value.every((v, i) => typeof v === kinds[i]))
    ) {
      return value as Array<string | number>;
    }
  } catch {
    // fall through
  }
  throw problems.badRequest("The cursor is not valid", [
    { path: "cursor", message: "not a cursor from this API" },
  ]);
}

/** A page of results in the shape every list endpoint returns. */
export function pageSchema<T extends z.ZodTypeAny>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as ?cursor= for the next page; null at the end" }),
  });
}

/** Splits `limit + 1` fetched rows into a page and the next cursor. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  position: (row: R) => Array<string | number>,
): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const slice = more ? rows.slice(0, limit) : rows;
  const last = slice[slice.length - 1];
  return { items: slice.map(map), nextCursor: more && last ? encodeCursor(position(last)) : null };
}
