import { sql, type TestUnit } from "./helpers";

/** Inserts a directive an issuing unit sent at `createdAt` (the directives area owns the real issue path). */
export async function seedDirective(issuer: TestUnit, issuedBy: string, createdAt: string): Promise<string> {
  const id = crypto.randomUUID();
  await sql().execute({
    sql: `INSERT INTO directives (id, issuer_unit_id, issuer_unit_path, issued_by, title, body, priority, due_at,
            target_levels, target_count, created_at, fanout_queued_at)
          VALUES (?, ?, ?, ?, '汛期排查', '请各网格排查危房', 'normal', ?, '["grid"]', 0, ?, ?)`,
    args: [id, issuer.id, issuer.path, issuedBy, createdAt, createdAt, createdAt],
  });
  return id;
}

const plus = (at: string, minutes: number) => new Date(Date.parse(at) + minutes * 60_000).toISOString();

/** Inserts a receipt delivered at `deliveredAt`, acknowledged and completed so many minutes later (or not). */
export async function seedReceipt(
  directiveId: string,
  unit: TestUnit,
  deliveredAt: string,
  r: { ackAfter?: number; doneAfter?: number; late?: boolean; state?: string },
): Promise<void> {
  const state =
    r.state ??
    (r.doneAfter !== undefined ? "completed" : r.ackAfter !== undefined ? "acknowledged" : "delivered");
  await sql().execute({
    sql: `INSERT INTO directive_receipts (directive_id, unit_id, unit_path, level, grid_level, state, due_at, delivered_at,
            acknowledged_at, completed_at, completed_late)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    args: [
      directiveId,
      unit.id,
      unit.path,
      unit.level,
      unit.gridLevel,
      state,
      plus(deliveredAt, 7 * 1440),
      deliveredAt,
      r.ackAfter === undefined ? null : plus(deliveredAt, r.ackAfter),
      r.doneAfter === undefined ? null : plus(deliveredAt, r.doneAfter),
      r.doneAfter === undefined ? null : r.late ? 1 : 0,
    ],
  });
}

/** Inserts a party-point entry of a member recorded at `createdAt`. */
export async function seedPoints(
  memberId: string,
  points: number,
  createdAt: string,
  by: string,
): Promise<void> {
  await sql().execute({
    sql: `INSERT INTO party_point_entries (member_id, year, points, reason, source_kind, source_id, created_by, created_at)
          VALUES (?, ?, ?, '走访困难户', 'fulfilment', ?, ?, ?)`,
    args: [memberId, Number(createdAt.slice(0, 4)), points, crypto.randomUUID(), by, createdAt],
  });
}

/** Inserts a household-lead subsidy item that occurred at `occurredAt`. */
export async function seedSubsidy(
  leadId: string,
  unit: TestUnit,
  amountFen: number,
  occurredAt: string,
  by: string,
): Promise<void> {
  await sql().execute({
    sql: `INSERT INTO lead_subsidy_items (id, lead_id, unit_path, month, kind, ref_id, description, amount_fen,
            occurred_at, recorded_by, created_at)
          VALUES (?, ?, ?, ?, 'event', NULL, '组织邻里调解', ?, ?, ?, ?)`,
    args: [
      crypto.randomUUID(),
      leadId,
      unit.path,
      occurredAt.slice(0, 7),
      amountFen,
      occurredAt,
      by,
      occurredAt,
    ],
  });
}

/** Pairs a three-line contact with a household directly (the contacts area owns the pairing endpoint). */
export async function seedPairing(contactId: string, householdId: string, line: string, unit: TestUnit) {
  await sql().execute({
    sql: `INSERT INTO contact_pairings (id, contact_id, household_id, line, unit_path, since, created_by)
          VALUES (?, ?, ?, ?, ?, ?, ?)`,
    args: [crypto.randomUUID(), contactId, householdId, line, unit.path, new Date().toISOString(), contactId],
  });
}
