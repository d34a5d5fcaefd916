import type { InStatement } from "@libsql/client/web";
import { and, asc, eq, ne, notExists, sql } from "drizzle-orm";
import type { SealedIdentity } from "../../platform/crypto/pii";
import type { Db } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { residents } from "../schema";

export type ResidentRow = typeof residents.$inferSelect;

/** One resident by id, or undefined. */
export async function findResident(db: Db, id: string): Promise<ResidentRow | undefined> {
  return db.select().from(residents).where(eq(residents.id, id)).get();
}

/** A household's members, oldest first. */
export async function residentsOf(db: Db, householdId: string): Promise<ResidentRow[]> {
  return db
    .select()
    .from(residents)
    .where(eq(residents.householdId, householdId))
    .orderBy(asc(residents.createdAt), asc(residents.id));
}

/** The tag lists of a household's members, leaving out `exceptResidentId`. */
export async function memberTagLists(
  db: Db,
  householdId: string,
  exceptResidentId?: string,
): Promise<string[][]> {
  const rows = await db
    .select({ tags: residents.tags })
    .from(residents)
    .where(
      and(
        eq(residents.householdId, householdId),
        exceptResidentId ? ne(residents.id, exceptResidentId) : undefined,
      ),
    );
  return rows.map((r) => JSON.parse(r.tags) as string[]);
}

/** The ID-number HMACs among `hmacs` that residents (other than `exceptResidentId`) already hold. */
export async function existingIdHmacs(
  db: Db,
  hmacs: readonly string[],
  exceptResidentId?: string,
): Promise<Set<string>> {
  if (hmacs.length === 0) return new Set();
  const rows = await db
    .select({ hmac: residents.idNumberHmac })
    .from(residents)
    .where(
      and(
        sql`${residents.idNumberHmac} IN (SELECT value FROM json_each(${JSON.stringify(hmacs)}))`,
        ne(residents.id, exceptResidentId ?? ""),
      ),
    );
  return new Set(rows.flatMap((r) => (r.hmac ? [r.hmac] : [])));
}

/** A resident to insert: its fields and its sealed ID number, phone and birth date. */
export interface NewResidentRow extends SealedIdentity {
  id: string;
  householdId: string;
  unitPath: string;
  name: string;
  gender: "male" | "female";
  /** The birth year as `YYYY-**-**`; the full date is `birthDateEnc`. */
  birthDateMasked: string;
  relationship: string;
  tags: readonly string[];
}

// Set-based over a JSON array (one bound parameter for up to 2,000 rows); inserts nothing when any of the ID
// numbers is already registered, so a duplicate written meanwhile shows as a row count, not an error.
const INSERT_RESIDENTS = `INSERT INTO residents (id, household_id, unit_path, name, gender, birth_date, id_number_enc, id_number_hmac,
    id_number_masked, phone_enc, phone_masked, relationship, tags, birth_date_enc, version, created_at, updated_at)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9,
    value->>10, value->>11, value->>12, value->>13, 1, :now, :now FROM json_each(:rows)
  WHERE NOT EXISTS (SELECT 1 FROM residents WHERE id_number_hmac IN (SELECT value->>7 FROM json_each(:rows)))`;

/**
 * One statement inserting residents, all or none: `rowsAffected` is 0 when an ID number is already
 * registered (run it with `mustChange`).
 */
export function insertResidentsStatement(rows: readonly NewResidentRow[], now: string): InStatement {
  return {
    sql: INSERT_RESIDENTS,
    args: {
      now,
      rows: JSON.stringify(
        rows.map((r) => [
          r.id,
          r.householdId,
          r.unitPath,
          r.name,
          r.gender,
          r.birthDateMasked,
          r.idNumberEnc,
          r.idNumberHmac,
          r.idNumberMasked,
          r.phoneEnc,
          r.phoneMasked,
          r.relationship,
          JSON.stringify(r.tags),
          r.birthDateEnc,
        ]),
      ),
    },
  };
}

/** The row `insertResidentsStatement` stores, as a read would return it. */
export function insertedResidentRow(r: NewResidentRow, now: string): ResidentRow {
  return {
    id: r.id,
    householdId: r.householdId,
    unitPath: r.unitPath,
    name: r.name,
    gender: r.gender,
    birthDateMasked: r.birthDateMasked,
    birthYear: Number(r.birthDateMasked.slice(0, 4)),
    birthDateEnc: r.birthDateEnc,
    idNumberEnc: r.idNumberEnc,
    idNumberHmac: r.idNumberHmac,
    idNumberMasked: r.idNumberMasked,
    phoneEnc: r.phoneEnc,
    phoneMasked: r.phoneMasked,
    relationship: r.relationship,
    tags: JSON.stringify(r.tags),
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Stores a changed resident, guarded by the version read and by its ID number being nobody else's: changes
 * no row when either fails (run it with `mustChange`, then `findResident` tells which).
 */
export function updateResidentStatement(db: Db, row: ResidentRow, expectedVersion: number): InStatement {
  const { id, createdAt: _created, version: _version, birthYear: _generated, ...fields } = row;
  const others = db
    .select({ one: sql`1` })
    .from(residents)
    .where(and(eq(residents.idNumberHmac, row.idNumberHmac ?? ""), ne(residents.id, id)));
  return stmt(
    db
      .update(residents)
      .set({ ...fields, version: sql`${residents.version} + 1` })
      .where(and(eq(residents.id, id), eq(residents.version, expectedVersion), notExists(others))),
  );
}
