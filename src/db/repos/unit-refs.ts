/**
 * Every column that stores a unit id: data that keeps a unit from being deleted (`DELETE /v1/units/{id}`
 * guards on all of them in its one statement). Each area of the registry lists its own tables here.
 * History is left out on purpose: audit rows and case events (`case_events.actor_unit_id`) record units that
 * may since have gone, and a directive's `target_unit_ids` is covered by the receipts it creates.
 */
export const UNIT_DATA_REFS: ReadonlyArray<{ table: string; column: string }> = [
  { table: "users", column: "unit_id" },
  { table: "unit_settings", column: "unit_id" },
  { table: "households", column: "unit_id" },
  { table: "households", column: "village_id" },
  { table: "household_class_counts", column: "unit_id" },
  { table: "cases", column: "owning_unit_id" },
  { table: "cases", column: "responsible_unit_id" },
  { table: "cases", column: "coordinator_unit_id" },
  { table: "cases", column: "village_id" },
  { table: "inbox_items", column: "unit_id" },
  { table: "webhook_endpoints", column: "unit_id" },
  { table: "desk_alarms", column: "desk_id" },
  // Directives and the three lines: issuers, receipts, contacts and stations hold their unit.
  { table: "directives", column: "issuer_unit_id" },
  { table: "directive_receipts", column: "unit_id" },
  { table: "directive_reminders", column: "unit_id" },
  { table: "contact_profiles", column: "unit_id" },
  { table: "contact_profiles", column: "branch_unit_id" },
  { table: "liaison_stations", column: "unit_id" },
  { table: "activity_matters", column: "owning_unit_id" },
];

/** Every column that stores a denormalized unit path, rewritten when a subtree moves. */

export const UNIT_PATH_COLUMNS: ReadonlyArray<{ table: string; column: string }> = [
  { table: "units", column: "path" },
  { table: "users", column: "unit_path" },
  { table: "households", column: "unit_path" },
  { table: "household_class_counts", column: "unit_path" },
  { table: "residents", column: "unit_path" },
  { table: "visits", column: "unit_path" },
  { table: "household_helpers", column: "unit_path" },
  { table: "cases", column: "owning_unit_path" },
  { table: "cases", column: "responsible_unit_path" },
  { table: "inbox_items", column: "unit_path" },
  { table: "webhook_endpoints", column: "unit_path" },
  { table: "directives", column: "issuer_unit_path" },
  { table: "directive_receipts", column: "unit_path" },
  { table: "directive_reminders", column: "unit_path" },
  { table: "contact_profiles", column: "unit_path" },
  { table: "contact_pairings", column: "unit_path" },
  { table: "party_pledges", column: "unit_path" },
  { table: "party_fulfilments", column: "unit_path" },
  { table: "party_reviews", column: "unit_path" },
  { table: "liaison_stations", column: "unit_path" },
  { table: "station_activities", column: "unit_path" },
  { table: "activity_matters", column: "unit_path" },
  { table: "lead_ratings", column: "unit_path" },
  { table: "lead_subsidy_items", column: "unit_path" },
  { table: "lead_flags", column: "unit_path" },
  { table: "contact_case_links", column: "unit_path" },
  { table: "projection_desks", column: "unit_path" },
];
