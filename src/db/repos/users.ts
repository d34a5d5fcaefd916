import { eq } from "drizzle-orm";
import type { Role } from "../../domain/roles";
import type { Principal } from "../../env";
import type { Db } from "../../platform/db/client";
import { units, users } from "../schema";

export type UserRow = typeof users.$inferSelect;

/** The public view of a user (never the password hash). */
export function userView(row: UserRow) {
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    role: row.role as Role,
    unitId: row.unitId,
    phone: row.phone,
    disabled: row.disabled,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** A user with the level of their unit, for issuing tokens. */
export async function findUserWithUnit(db: Db, where: { username: string } | { id: string }) {
  const rows = await db
    .select({ user: users, unitLevel: units.level, unitPath: units.path })
    .from(users)
    .innerJoin(units, eq(units.id, users.unitId))
    .where("username" in where ? eq(users.username, where.username) : eq(users.id, where.id))
    .limit(1);
  return rows[0] ?? null;
}

/** The token principal of a user row. */
export function principalFor(user: UserRow, unitLevel: string, unitPath: string): Principal {
  return {
    userId: user.id,
    username: user.username,
    role: user.role as Role,
    unitId: user.unitId,
    unitPath,
    unitLevel,
  };
}
