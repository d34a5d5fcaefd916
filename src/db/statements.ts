import type { InStatement, InValue } from "@libsql/client/web";

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
