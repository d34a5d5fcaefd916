-- grid321 masking rule: a masked ID number with everything a masked role can read (or a dump without PII_KEY)
-- keeps at least 10,000 candidates. Stored in plaintext from now on: the birth year only (`1975-**-**` in
-- birth_date, birth_year derived from it) and the region-only mask `6109**************`; the full birth date
-- is sealed in birth_date_enc. A migration cannot encrypt, so existing rows with an ID number keep their full
-- birth date only inside the sealed ID number (which encodes it); rows without an ID number keep theirs until
-- their next write seals it (no ID number can be rebuilt from them).
ALTER TABLE `residents` ADD COLUMN `birth_date_enc` text;
--> statement-breakpoint
ALTER TABLE `residents` ADD COLUMN `birth_year` integer GENERATED ALWAYS AS (CAST(substr(`birth_date`, 1, 4) AS INTEGER)) VIRTUAL;
--> statement-breakpoint
UPDATE `residents` SET `birth_date` = substr(`birth_date`, 1, 4) || '-**-**'
  WHERE `id_number_enc` IS NOT NULL AND `birth_date` NOT LIKE '%-**-**';
--> statement-breakpoint
UPDATE `residents` SET `id_number_masked` = substr(`id_number_masked`, 1, 4) || substr('******************', 1, length(`id_number_masked`) - 4)
  WHERE `id_number_masked` IS NOT NULL AND length(`id_number_masked`) > 4;
--> statement-breakpoint
-- Per-user hourly counters of personal-data uses (`reveal`, `id_probe`): one row per user and kind, counted
-- and rolled over by one upsert, so a burst of parallel requests cannot all pass a read-then-write check.
CREATE TABLE `pii_use_windows` (
	`user_id` text NOT NULL,
	`kind` text NOT NULL,
	`window_start` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY (`user_id`, `kind`)
) WITHOUT ROWID;
--> statement-breakpoint
-- Marks of denied requests already audited this minute: one audit row per (user, resource, reason, minute).
CREATE TABLE `audit_denial_marks` (
	`user_id` text NOT NULL,
	`resource` text NOT NULL,
	`reason` text NOT NULL,
	`minute` text NOT NULL,
	PRIMARY KEY (`user_id`, `resource`, `reason`, `minute`)
) WITHOUT ROWID;
--> statement-breakpoint
-- Requests to move a resident registered elsewhere into a household of the requester's unit, decided by the
-- centre of the resident's current village (or any centre above it). Matched by the ID number's HMAC.
CREATE TABLE `resident_transfer_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`resident_id` text NOT NULL,
	`id_number_hmac` text NOT NULL,
	`from_household_id` text NOT NULL,
	`to_household_id` text NOT NULL,
	`to_unit_path` text NOT NULL,
	`approver_path` text NOT NULL,
	`requested_by` text NOT NULL,
	`requester_unit_path` text NOT NULL,
	`reason` text NOT NULL,
	`state` text NOT NULL,
	`decided_by` text,
	`decided_at` text,
	`decision_note` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `resident_transfer_requests_approver_idx` ON `resident_transfer_requests` (`approver_path`, `created_at`, `id`);
--> statement-breakpoint
CREATE INDEX `resident_transfer_requests_requester_idx` ON `resident_transfer_requests` (`requested_by`, `created_at`, `id`);
--> statement-breakpoint
CREATE UNIQUE INDEX `resident_transfer_requests_pending_uq` ON `resident_transfer_requests` (`resident_id`, `to_household_id`) WHERE `state` = 'pending';
