/**
 * A plain SQLite file (Node's built-in `node:sqlite`) behind the part of the libSQL client that the bench and
 * repository code call (`execute`, `batch`, `close`), so the same functions (migrate, the unit-tree insert,
 * `rebuildRollupsInSql`) run on a file offline, before sqld serves it. Bulk loads go this way because sqld
 * writes every page a statement changes into its replication log as well, which a multi-gigabyte load
 * outgrows (see BENCHMARKS.md, "Figures and bulletins").
 *
 * Only what those callers use is mapped: positional (`?`, `?NNN`) or named arguments, rows as objects keyed by
 * column name, `rowsAffected`, `lastInsertRowid`; a batch runs in one transaction, rolled back on error.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { Client, InArgs, InStatement, ResultSet, Row } from "@libsql/client/web";

/** A SQLite file opened with `node:sqlite`, usable where a libSQL `Client` is expected (execute/batch only). */
export interface SqliteFile {
  /** The file as a libSQL client: `execute`, `batch` and `close` work, anything else throws. */
  client: Client;
  path: string;
  /** The underlying connection, for pragmas and checkpoints. */
  sqlite: DatabaseSync;
  close(): void;
}

const toValue = (v: unknown): SQLInputValue => {
  if (v === undefined || v === null) return null;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  return v as SQLInputValue;
};

function run(db: DatabaseSync, cache: Map<string, StatementSync>, stmt: InStatement): ResultSet {
  const sql = typeof stmt === "string" ? stmt : stmt.sql;
  const args: InArgs = typeof stmt === "string" ? [] : (stmt.args ?? []);
  let prepared = cache.get(sql);
  if (!prepared) {
    prepared = db.prepare(sql);
    if (cache.size > 200) cache.clear();
    cache.set(sql, prepared);
  }
  const columns = prepared.columns().map((c) => c.name);
  const positional = Array.isArray(args) ? args.map(toValue) : [];
  const named = Array.isArray(args)
    ? undefined
    : Object.fromEntries(Object.entries(args).map(([k, v]) => [k, toValue(v)]));
  const params = named ? [named, ...positional] : positional;
  if (columns.length > 0) {
    const rows = prepared.all(...(params as SQLInputValue[])) as unknown as Row[];
    return {
      columns,
      columnTypes: columns.map(() => ""),
      rows,
      rowsAffected: 0,
      lastInsertRowid: undefined,
      toJSON: () => ({ columns, rows }),
    };
  }
  const r = prepared.run(...(params as SQLInputValue[]));
  return {
    columns: [],
    columnTypes: [],
    rows: [],
    rowsAffected: Number(r.changes),
    lastInsertRowid: BigInt(r.lastInsertRowid),
    toJSON: () => ({ rowsAffected: Number(r.changes) }),
  };
}

/** Opens (or creates) the SQLite file at `path`. */
export function openSqliteFile(path: string): SqliteFile {
  const sqlite = new DatabaseSync(path);
  const cache = new Map<string, StatementSync>();
  const unsupported = (name: string) => () => {
    throw new Error(`${name} is not available on an offline SQLite file`);
  };
  const client = {
    execute: async (stmt: InStatement | string, args?: InArgs) =>
      run(sqlite, cache, typeof stmt === "string" && args ? { sql: stmt, args } : stmt),
    batch: async (stmts: InStatement[]) => {
      sqlite.exec("BEGIN IMMEDIATE");
      try {
        const out = stmts.map((s) => run(sqlite, cache, s));
        sqlite.exec("COMMIT");
        return out;
      } catch (error) {
        if (sqlite.isTransaction) sqlite.exec("ROLLBACK");
        throw error;
      }
    },
    close: () => undefined,
    migrate: unsupported("migrate"),
    transaction: unsupported("transaction"),
    executeMultiple: unsupported("executeMultiple"),
    sync: unsupported("sync"),
    closed: false,
    protocol: "file",
  } as unknown as Client;
  return {
    client,
    path,
    sqlite,
    close: () => {
      cache.clear();
      if (sqlite.isOpen) sqlite.close();
    },
  };
}
