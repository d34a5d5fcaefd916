import type { InStatement, InValue } from "@libsql/client/web";
import { type SQL, type SQLWrapper, sql } from "drizzle-orm";

/**
 * Turns a drizzle query builder into a raw libSQL statement, for running it inside a batch or an audited
 * transaction.
 *
 * @example
 * await writeAudited(db, [stmt(db.insert(units).values(row))], [entry]);
 */
export function stmt(query: { toSQL(): { sql: string; params: unknown[] } }): InStatement {
  const { sql, params } = query.toSQL();
  return { sql, args: params as InValue[] };
}

/** Escapes `\`, `%` and `_` so user text matches literally inside a LIKE pattern with `ESCAPE '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/** `column LIKE '%text%'`, with the text matched literally. */
export function containsText(column: SQLWrapper, text: string): SQL {
  return sql`${column} LIKE ${`%${escapeLike(text)}%`} ESCAPE '\\'`;
}

/** `column LIKE 'text%'`, with the text matched literally. */
export function startsWithText(column: SQLWrapper, text: string): SQL {
  return sql`${column} LIKE ${`${escapeLike(text)}%`} ESCAPE '\\'`;
}
