-- grid321 three lines: contact profiles and pairings, party pledges/fulfilments/points ledger (append-only)/reviews,
-- deputy liaison stations and five-days activities, household-lead ratings, subsidy items and flags.
CREATE TABLE `activity_matters` (
	`id` text PRIMARY KEY NOT NULL,
	`activity_id` text NOT NULL,
	`station_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`summary` text NOT NULL,
	`raised_by` text,
	`case_id` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `activity_matters_activity_idx` ON `activity_matters` (`activity_id`);
--> statement-breakpoint
CREATE INDEX `activity_matters_station_idx` ON `activity_matters` (`station_id`,`created_at`);
--> statement-breakpoint
CREATE TABLE `contact_pairings` (
	`id` text PRIMARY KEY NOT NULL,
	`contact_id` text NOT NULL,
	`household_id` text NOT NULL,
	`line` text NOT NULL,
	`unit_path` text NOT NULL,
	`since` text NOT NULL,
	`ended_at` text,
	`created_by` text NOT NULL,
	`ended_by` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contact_pairings_active_uq` ON `contact_pairings` (`contact_id`,`household_id`) WHERE "contact_pairings"."ended_at" IS NULL;
--> statement-breakpoint
CREATE INDEX `contact_pairings_coverage_idx` ON `contact_pairings` (`unit_path`,`line`,`household_id`) WHERE "contact_pairings"."ended_at" IS NULL;
--> statement-breakpoint
CREATE INDEX `contact_pairings_contact_idx` ON `contact_pairings` (`contact_id`,`ended_at`);
--> statement-breakpoint
CREATE TABLE `contact_profiles` (
	`user_id` text PRIMARY KEY NOT NULL,
	`line` text NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`party_branch` text,
	`branch_unit_id` text,
	`deputy_level` text,
	`station_id` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `contact_profiles_path_idx` ON `contact_profiles` (`unit_path`,`line`);
--> statement-breakpoint
CREATE INDEX `contact_profiles_station_idx` ON `contact_profiles` (`station_id`);
--> statement-breakpoint
CREATE TABLE `lead_flags` (
	`id` text PRIMARY KEY NOT NULL,
	`lead_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`period` text NOT NULL,
	`average_rating_x100` integer NOT NULL,
	`reason` text NOT NULL,
	`flagged_by` text NOT NULL,
	`flagged_at` text NOT NULL,
	`cleared_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lead_flags_open_uq` ON `lead_flags` (`lead_id`) WHERE "lead_flags"."cleared_at" IS NULL;
--> statement-breakpoint
CREATE INDEX `lead_flags_path_idx` ON `lead_flags` (`unit_path`) WHERE "lead_flags"."cleared_at" IS NULL;
--> statement-breakpoint
CREATE TABLE `lead_ratings` (
	`id` text PRIMARY KEY NOT NULL,
	`lead_id` text NOT NULL,
	`resident_id` text NOT NULL,
	`period` text NOT NULL,
	`rating` integer NOT NULL,
	`unit_path` text NOT NULL,
	`recorded_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lead_ratings_once_uq` ON `lead_ratings` (`lead_id`,`resident_id`,`period`);
--> statement-breakpoint
CREATE INDEX `lead_ratings_lead_idx` ON `lead_ratings` (`lead_id`,`period`);
--> statement-breakpoint
CREATE TABLE `lead_subsidy_items` (
	`id` text PRIMARY KEY NOT NULL,
	`lead_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`month` text NOT NULL,
	`kind` text NOT NULL,
	`ref_id` text,
	`description` text NOT NULL,
	`amount_fen` integer NOT NULL,
	`occurred_at` text NOT NULL,
	`recorded_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `lead_subsidy_items_month_idx` ON `lead_subsidy_items` (`lead_id`,`month`);
--> statement-breakpoint
CREATE UNIQUE INDEX `lead_subsidy_items_case_uq` ON `lead_subsidy_items` (`lead_id`,`ref_id`) WHERE "lead_subsidy_items"."kind" = 'case';
--> statement-breakpoint
CREATE TABLE `liaison_stations` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`level` text NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `liaison_stations_path_idx` ON `liaison_stations` (`unit_path`);
--> statement-breakpoint
CREATE TABLE `party_fulfilments` (
	`id` text PRIMARY KEY NOT NULL,
	`member_id` text NOT NULL,
	`pledge_id` text,
	`unit_path` text NOT NULL,
	`year` integer NOT NULL,
	`evidence_kind` text NOT NULL,
	`evidence_id` text NOT NULL,
	`note` text,
	`points` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `party_fulfilments_evidence_uq` ON `party_fulfilments` (`member_id`,`evidence_kind`,`evidence_id`);
--> statement-breakpoint
CREATE INDEX `party_fulfilments_member_idx` ON `party_fulfilments` (`member_id`,`year`);
--> statement-breakpoint
CREATE TABLE `party_pledges` (
	`id` text PRIMARY KEY NOT NULL,
	`member_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`year` integer NOT NULL,
	`text` text NOT NULL,
	`target` text NOT NULL,
	`due_date` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `party_pledges_member_idx` ON `party_pledges` (`member_id`,`year`);
--> statement-breakpoint
CREATE TABLE `party_point_entries` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`member_id` text NOT NULL,
	`year` integer NOT NULL,
	`points` integer NOT NULL,
	`reason` text NOT NULL,
	`source_kind` text NOT NULL,
	`source_id` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `party_point_entries_member_idx` ON `party_point_entries` (`member_id`,`year`,`points`);
--> statement-breakpoint
CREATE TABLE `party_reviews` (
	`id` text PRIMARY KEY NOT NULL,
	`member_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`year` integer NOT NULL,
	`rating` text NOT NULL,
	`note` text,
	`reviewed_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `party_reviews_uq` ON `party_reviews` (`member_id`,`year`);
--> statement-breakpoint
CREATE TABLE `station_activities` (
	`id` text PRIMARY KEY NOT NULL,
	`station_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`kind` text NOT NULL,
	`title` text NOT NULL,
	`scheduled_at` text NOT NULL,
	`attendance` text DEFAULT '[]' NOT NULL,
	`record` text,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `station_activities_calendar_idx` ON `station_activities` (`station_id`,`scheduled_at`);
--> statement-breakpoint
CREATE TRIGGER `party_point_entries_no_update` BEFORE UPDATE ON `party_point_entries` BEGIN
  SELECT RAISE(ABORT, 'party_point_entries is append-only: add a correction entry instead');
END;
--> statement-breakpoint
CREATE TRIGGER `party_point_entries_no_delete` BEFORE DELETE ON `party_point_entries` BEGIN
  SELECT RAISE(ABORT, 'party_point_entries is append-only: add a correction entry instead');
END;
