import { createRoute, z } from "@hono/zod-openapi";
import type { InStatement } from "@libsql/client/web";
import { settingsOnPath, unitInScope, userInScope } from "../../db/repos/three-lines";
import {
  checkPairingLine,
  DEFAULT_MAX_HOUSEHOLDS,
  DEPUTY_LEVELS,
  isLine,
  LINE_LABELS,
  LINES,
  lineCoverage,
  MAX_HOUSEHOLDS_KEY,
  overloaded,
  parseMaxHouseholds,
  resolveSetting,
  share,
} from "../../domain/contacts";
import { inScope, subtreeRange } from "../../domain/units";
import type { Principal } from "../../env";
import { type AuditEntry, writeAudited } from "../../platform/db/audit";
import { getDb } from "../../platform/db/client";
import { principalOf, requireRole } from "../../platform/http/auth";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { Problem, problems } from "../../platform/http/problem";

const Line = z.enum(LINES).openapi({
  description: Object.entries(LINE_LABELS)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; "),
});
const UserIdParam = z.object({ userId: z.uuid().openapi({ param: { name: "userId", in: "path" } }) });

const PairingSchema = z
  .object({
    id: z.uuid(),
    contactId: z.uuid(),
    householdId: z.uuid(),
    line: Line,
    since: z.string(),
    endedAt: z.string().nullable(),
  })
  .openapi("ContactPairing");

const ProfileSchema = z
  .object({
    userId: z.uuid(),
    line: Line,
    displayName: z.string(),
    unitId: z.uuid(),
    partyBranch: z.string().nullable(),
    branchUnitId: z.uuid().nullable(),
    deputyLevel: z.enum(DEPUTY_LEVELS).nullable(),
    stationId: z.uuid().nullable(),
    households: z.array(PairingSchema).openapi({ description: "Active pairings" }),
  })
  .openapi("ContactProfile");

const audit = (
  p: Principal,
  requestId: string,
  action: string,
  scopePath: string,
  id: string,
  detail: object,
) =>
  ({
    actorId: p.userId,
    actorRole: p.role,
    scopePath,
    action,
    objectType: "contact",
    objectId: id,
    outcome: "success",
    requestId,
    detail: detail as Record<string, unknown>,
  }) satisfies AuditEntry;

const putProfile = createRoute({
  method: "put",
  path: "/v1/contacts/{userId}/profile",
  tags: ["three lines"],
  summary: "Set a three-line contact's profile (admin, center_staff)",
  description:
    "Party members: `partyBranch` and optionally the branch's unit (`branchUnitId`, whose settings give the point rules). Deputies: `deputyLevel`; the station is set by attaching the deputy to a station.",
  security: bearer,
  middleware: [requireRole("admin", "center_staff")] as const,
  request: {
    params: UserIdParam,
    body: jsonBody(
      z
        .strictObject({
          partyBranch: z.string().trim().min(1).max(100).optional(),
          branchUnitId: z.uuid().optional(),
          deputyLevel: z.enum(DEPUTY_LEVELS).optional(),
        })
        .openapi("ContactProfileInput"),
    ),
  },
  responses: { 200: jsonResponse(ProfileSchema, "The profile"), ...errorResponses(403, 404) },
});

const getProfile = createRoute({
  method: "get",
  path: "/v1/contacts/{userId}",
  tags: ["three lines"],
  summary: "A contact's profile and active household pairings",
  security: bearer,
  request: { params: UserIdParam },
  responses: { 200: jsonResponse(ProfileSchema, "The profile"), ...errorResponses(404) },
});

const pair = createRoute({
  method: "post",
  path: "/v1/contacts/{userId}/households",
  tags: ["three lines"],
  summary: "Pair a contact with households, each pairing naming its line (admin, center_staff, grid_worker)",
  security: bearer,
  middleware: [requireRole("admin", "center_staff", "grid_worker")] as const,
  request: {
    params: UserIdParam,
    body: jsonBody(
      z
        .strictObject({
          pairings: z
            .array(z.strictObject({ householdId: z.uuid(), line: Line }))
            .min(1)
            .max(100),
        })
        .openapi("ContactPairingInput"),
    ),
  },
  responses: {
    201: jsonResponse(
      z.object({ paired: z.array(PairingSchema), alreadyPaired: z.array(z.uuid()) }),
      "New pairings (households already paired with this contact are listed, not duplicated)",
    ),
    ...errorResponses(403, 404),
  },
});

const unpair = createRoute({
  method: "delete",
  path: "/v1/contacts/{userId}/households/{householdId}",
  tags: ["three lines"],
  summary: "End a pairing; its history is kept (admin, center_staff, grid_worker)",
  security: bearer,
  middleware: [requireRole("admin", "center_staff", "grid_worker")] as const,
  request: {
    params: UserIdParam.extend({
      householdId: z.uuid().openapi({ param: { name: "householdId", in: "path" } }),
    }),
  },
  responses: { 204: { description: "Ended" }, ...errorResponses(403, 404) },
});

const Coverage = z
  .object({
    unitId: z.uuid(),
    households: z.number().int(),
    redHouseholds: z.number().int(),
    lines: z.record(z.string(), z.object({ covered: z.number().int(), share: z.number() })),
    anyLine: z.object({ covered: z.number().int(), share: z.number() }),
    redWithoutHelper: z.object({
      count: z.number().int(),
      householdIds: z.array(z.uuid()).openapi({ description: "Up to 100, by id" }),
    }),
    maxHouseholds: z.number().int(),
    overloadedContacts: z.array(
      z.object({
        contactId: z.uuid(),
        displayName: z.string(),
        role: z.string(),
        households: z.number().int(),
      }),
    ),
  })
  .openapi("Coverage");

const coverage = createRoute({
  method: "get",
  path: "/v1/units/{id}/coverage",
  tags: ["three lines"],
  summary:
    "Three-line coverage of a subtree: shares per line, red households without a helper, overloaded contacts",
  description: `The maximum households per contact is the unit setting \`${MAX_HOUSEHOLDS_KEY}\` (inherited; default ${DEFAULT_MAX_HOUSEHOLDS}).`,
  security: bearer,
  middleware: [requireRole("admin", "center_staff", "leader", "grid_worker")] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse(Coverage, "Coverage"), ...errorResponses(403, 404) },
});

type Row = Record<string, unknown>;
const pairingView = (r: Row) => ({
  id: String(r.id),
  contactId: String(r.contactId),
  householdId: String(r.householdId),
  line: r.line as (typeof LINES)[number],
  since: String(r.since),
  endedAt: r.endedAt === null ? null : String(r.endedAt),
});
const PAIRING_COLUMNS =
  "id, contact_id AS contactId, household_id AS householdId, line, since, ended_at AS endedAt";

async function profileOf(
  db: ReturnType<typeof getDb>,
  user: { id: string; role: string; displayName: string; unitId: string },
) {
  const [profile, pairings] = await db.$client.batch(
    [
      {
        sql: `SELECT party_branch AS partyBranch, branch_unit_id AS branchUnitId, deputy_level AS deputyLevel,
                station_id AS stationId FROM contact_profiles WHERE user_id = ?`,
        args: [user.id],
      },
      {
        sql: `SELECT ${PAIRING_COLUMNS} FROM contact_pairings WHERE contact_id = ? AND ended_at IS NULL ORDER BY since, id`,
        args: [user.id],
      },
    ],
    "read",
  );
  const p = (profile!.rows[0] ?? {}) as Row;
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    userId: user.id,
    line: user.role as (typeof LINES)[number],
    displayName: user.displayName,
    unitId: user.unitId,
    partyBranch: text(p.partyBranch),
    branchUnitId: text(p.branchUnitId),
    deputyLevel: text(p.deputyLevel) as (typeof DEPUTY_LEVELS)[number] | null,
    stationId: text(p.stationId),
    households: pairings!.rows.map((r) => pairingView(r as Row)),
  };
}

export const contactRoutes = createRouter()
  .openapi(putProfile, async (c) => {
    const principal = principalOf(c);
    const { userId } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const user = await userInScope(db, principal, userId);
    if (!isLine(user.role)) {
      throw problems.badRequest("Only party members, deputies and household leads have a contact profile", [
        { path: "userId", message: `the user is a ${user.role}` },
      ]);
    }
    const wrong = (field: string, who: string) =>
      problems.badRequest(`${field} belongs to ${who} only`, [
        { path: field, message: `not for a ${user.role}` },
      ]);
    if ((body.partyBranch || body.branchUnitId) && user.role !== "party_member") {
      throw wrong(body.partyBranch ? "partyBranch" : "branchUnitId", "party members");
    }
    if (body.deputyLevel && user.role !== "deputy") throw wrong("deputyLevel", "deputies");
    if (body.branchUnitId) {
      const branch = await unitInScope(db, principal, body.branchUnitId);
      if (!inScope(branch.path, user.unitPath)) {
        throw problems.badRequest("The branch's unit must contain the member's unit", [
          { path: "branchUnitId", message: "not an ancestor of the member's unit" },
        ]);
      }
    }
    const now = new Date().toISOString();
    await writeAudited(
      db,
      [
        {
          sql: `INSERT INTO contact_profiles (user_id, line, unit_id, unit_path, party_branch, branch_unit_id, deputy_level, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET party_branch = coalesce(excluded.party_branch, party_branch),
                  branch_unit_id = coalesce(excluded.branch_unit_id, branch_unit_id),
                  deputy_level = coalesce(excluded.deputy_level, deputy_level), updated_at = excluded.updated_at`,
          args: [
            user.id,
            user.role,
            user.unitId,
            user.unitPath,
            body.partyBranch ?? null,
            body.branchUnitId ?? null,
            body.deputyLevel ?? null,
            now,
          ],
        },
      ],
      [audit(principal, c.get("requestId"), "contact.profile", user.unitPath, user.id, body)],
    );
    return c.json(await profileOf(db, user), 200);
  })
  .openapi(getProfile, async (c) => {
    const db = getDb(c.env);
    const user = await userInScope(db, principalOf(c), c.req.valid("param").userId);
    if (!isLine(user.role)) throw problems.notFound("contact");
    return c.json(await profileOf(db, user), 200);
  })
  .openapi(pair, async (c) => {
    const principal = principalOf(c);
    const { userId } = c.req.valid("param");
    const { pairings } = c.req.valid("json");
    const db = getDb(c.env);
    const contact = await userInScope(db, principal, userId);
    const lineErrors = pairings.flatMap((p, i) => {
      const error = checkPairingLine(contact.role, p.line);
      return error ? [{ path: `pairings.${i}.line`, message: error }] : [];
    });
    if (lineErrors.length) throw problems.badRequest("A contact pairs on their own line", lineErrors);
    const ids = [...new Set(pairings.map((p) => p.householdId))];
    const found = await db.$client.execute({
      sql: `SELECT h.id, h.unit_path AS unitPath,
              EXISTS (SELECT 1 FROM contact_pairings p WHERE p.contact_id = ? AND p.household_id = h.id AND p.ended_at IS NULL) AS paired
            FROM households h WHERE h.id IN (SELECT value FROM json_each(?))`,
      args: [contact.id, JSON.stringify(ids)],
    });
    const byId = new Map(found.rows.map((r) => [String(r.id), r]));
    // A household outside the contact's own subtree (or the caller's) is answered as if it did not exist.
    const scopeErrors = pairings.flatMap((p, i) => {
      const h = byId.get(p.householdId);
      const path = h ? String(h.unitPath) : null;
      return path && inScope(contact.unitPath, path) && inScope(principal.unitPath, path)
        ? []
        : [{ path: `pairings.${i}.householdId`, message: "no such household in the contact's subtree" }];
    });
    if (scopeErrors.length) {
      throw new Problem(404, "not-found", "Some households are not in the contact's subtree", {
        errors: scopeErrors,
      });
    }
    const now = new Date().toISOString();
    const alreadyPaired: string[] = [];
    const fresh: Array<ReturnType<typeof pairingView>> = [];
    const statements: InStatement[] = [];
    for (const householdId of ids) {
      const h = byId.get(householdId)!;
      if (Number(h.paired) === 1) {
        alreadyPaired.push(householdId);
        continue;
      }
      const line = pairings.find((p) => p.householdId === householdId)!.line;
      const row = {
        id: crypto.randomUUID(),
        contactId: contact.id,
        householdId,
        line,
        since: now,
        endedAt: null,
      };
      fresh.push(row);
      statements.push({
        sql: `INSERT OR IGNORE INTO contact_pairings (id, contact_id, household_id, line, unit_path, since, created_by)
              VALUES (?, ?, ?, ?, ?, ?, ?)`,
        args: [row.id, contact.id, householdId, line, String(h.unitPath), now, principal.userId],
      });
    }
    if (statements.length) {
      await writeAudited(db, statements, [
        audit(principal, c.get("requestId"), "contact.pair", contact.unitPath, contact.id, {
          households: fresh.map((p) => p.householdId),
        }),
      ]);
    }
    return c.json({ paired: fresh, alreadyPaired }, 201);
  })
  .openapi(unpair, async (c) => {
    const principal = principalOf(c);
    const { userId, householdId } = c.req.valid("param");
    const db = getDb(c.env);
    const contact = await userInScope(db, principal, userId);
    const rs = await db.$client.execute({
      sql: "SELECT id, unit_path AS unitPath FROM contact_pairings WHERE contact_id = ? AND household_id = ? AND ended_at IS NULL",
      args: [contact.id, householdId],
    });
    const row = rs.rows[0];
    if (!row || !inScope(principal.unitPath, String(row.unitPath))) throw problems.notFound("pairing");
    const [result] = await writeAudited(
      db,
      [
        {
          sql: "UPDATE contact_pairings SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL",
          args: [new Date().toISOString(), principal.userId, String(row.id)],
        },
      ],
      [
        audit(principal, c.get("requestId"), "contact.unpair", String(row.unitPath), contact.id, {
          householdId,
        }),
      ],
    );
    if (result!.rowsAffected !== 1) throw problems.notFound("pairing");
    return c.body(null, 204);
  })
  .openapi(coverage, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const db = getDb(c.env);
    const unit = await unitInScope(db, principal, id);
    const [lo, hi] = subtreeRange(unit.path);
    const settings = await settingsOnPath(db, unit.path, [MAX_HOUSEHOLDS_KEY]);
    const max = resolveSetting(settings, parseMaxHouseholds, DEFAULT_MAX_HOUSEHOLDS);
    const [classes, lines, anyLine, red, over] = await db.$client.batch(
      [
        // Households are counted per village: a grid's subtree (20–30 households) is counted directly.
        unit.level === "grid"
          ? {
              sql: "SELECT class, count(*) AS n FROM households WHERE unit_path >= ? AND unit_path < ? GROUP BY class",
              args: [lo, hi],
            }
          : {
              sql: "SELECT class, sum(n) AS n FROM household_class_counts WHERE unit_path >= ? AND unit_path < ? GROUP BY class",
              args: [lo, hi],
            },
        {
          sql: `SELECT line, count(DISTINCT household_id) AS n FROM contact_pairings
                WHERE ended_at IS NULL AND unit_path >= ? AND unit_path < ? GROUP BY line`,
          args: [lo, hi],
        },
        {
          sql: `SELECT count(DISTINCT household_id) AS n FROM contact_pairings
                WHERE ended_at IS NULL AND unit_path >= ? AND unit_path < ?`,
          args: [lo, hi],
        },
        {
          sql: `SELECT h.id FROM households h WHERE h.unit_path >= ? AND h.unit_path < ? AND h.class = 'red'
                AND NOT EXISTS (SELECT 1 FROM household_helpers x WHERE x.household_id = h.id AND x.until IS NULL)
                ORDER BY h.id`,
          args: [lo, hi],
        },
        {
          sql: `SELECT p.contact_id AS contactId, u.display_name AS displayName, u.role AS role, count(*) AS n
                FROM contact_pairings p JOIN users u ON u.id = p.contact_id
                WHERE p.ended_at IS NULL AND u.unit_path >= ? AND u.unit_path < ?
                GROUP BY p.contact_id HAVING count(*) > ?`,
          args: [lo, hi, max],
        },
      ],
      "read",
    );
    const byClass = Object.fromEntries(classes!.rows.map((r) => [String(r.class), Number(r.n)]));
    const households = Object.values(byClass).reduce((a, b) => a + b, 0);
    const coveredByLine = Object.fromEntries(lines!.rows.map((r) => [String(r.line), Number(r.n)]));
    const anyCovered = Number(anyLine!.rows[0]?.n ?? 0);
    const redIds = red!.rows.map((r) => String(r.id));
    return c.json(
      {
        unitId: unit.id,
        households,
        redHouseholds: byClass.red ?? 0,
        lines: lineCoverage(households, coveredByLine),
        anyLine: { covered: anyCovered, share: share(anyCovered, households) },
        redWithoutHelper: { count: redIds.length, householdIds: redIds.slice(0, 100) },
        maxHouseholds: max,
        overloadedContacts: overloaded(
          over!.rows.map((r) => ({
            contactId: String(r.contactId),
            displayName: String(r.displayName),
            role: String(r.role),
            households: Number(r.n),
          })),
          max,
        ),
      },
      200,
    );
  });
