-- grid321 emergency command (应急指挥): events over subtrees, their append-only log, and shelters. Rosters,
-- check-ins and live progress live in the EmergencyGrid and EmergencyCommand Durable Objects.
CREATE TABLE `emergency_events` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`level` text NOT NULL,
	`status` text NOT NULL,
	`title` text NOT NULL,
	`instructions` text NOT NULL,
	`command_unit_id` text NOT NULL,
	`command_unit_path` text NOT NULL,
	`reach_interval_minutes` integer,
	`declared_by` text NOT NULL,
	`declared_at` text NOT NULL,
	`stood_down_at` text,
	`version` integer DEFAULT 1 NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `emergency_events_command_idx` ON `emergency_events` (`command_unit_path`,`declared_at`);
--> statement-breakpoint
CREATE TABLE `emergency_event_units` (
	`event_id` text NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`added_at` text NOT NULL,
	PRIMARY KEY(`event_id`, `unit_id`)
);
--> statement-breakpoint
CREATE INDEX `emergency_event_units_path_idx` ON `emergency_event_units` (`unit_path`,`event_id`);
--> statement-breakpoint
CREATE TABLE `emergency_event_log` (
	`event_id` text NOT NULL,
	`seq` integer NOT NULL,
	`type` text NOT NULL,
	`at` text NOT NULL,
	`actor_id` text NOT NULL,
	`payload` text NOT NULL,
	PRIMARY KEY(`event_id`, `seq`)
);
--> statement-breakpoint
CREATE TRIGGER `emergency_event_log_no_update` BEFORE UPDATE ON `emergency_event_log`
BEGIN SELECT RAISE(ABORT, 'emergency_event_log is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `emergency_event_log_no_delete` BEFORE DELETE ON `emergency_event_log`
BEGIN SELECT RAISE(ABORT, 'emergency_event_log is append-only'); END;
--> statement-breakpoint
CREATE TABLE `emergency_shelters` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`name` text NOT NULL,
	`address` text NOT NULL,
	`capacity` integer NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `emergency_shelters_event_idx` ON `emergency_shelters` (`event_id`,`unit_path`);
