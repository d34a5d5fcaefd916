CREATE TABLE `cases` (
	`id` text PRIMARY KEY NOT NULL,
	`owning_unit_id` text NOT NULL,
	`owning_unit_path` text NOT NULL,
	`village_id` text,
	`responsible_unit_id` text NOT NULL,
	`responsible_unit_path` text NOT NULL,
	`responsible_level` text NOT NULL,
	`responsible_department` text,
	`coordinator_unit_id` text,
	`type` text NOT NULL,
	`severity` text NOT NULL,
	`state` text NOT NULL,
	`title` text NOT NULL,
	`description` text NOT NULL,
	`address` text,
	`lat` real,
	`lng` real,
	`reporter_id` text NOT NULL,
	`version` integer NOT NULL,
	`seq` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`closed_at` text,
	`projected_at` text NOT NULL,
	`doc` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `cases_owning_path_idx` ON `cases` (`owning_unit_path`,`created_at`);
--> statement-breakpoint
CREATE INDEX `cases_responsible_path_idx` ON `cases` (`responsible_unit_path`,`created_at`);
--> statement-breakpoint
CREATE INDEX `cases_village_type_idx` ON `cases` (`village_id`,`type`,`created_at`);
--> statement-breakpoint
CREATE INDEX `cases_created_idx` ON `cases` (`created_at`,`id`);
--> statement-breakpoint
CREATE TABLE `case_events` (
	`case_id` text NOT NULL,
	`seq` integer NOT NULL,
	`type` text NOT NULL,
	`actor_id` text,
	`actor_role` text,
	`actor_unit_id` text,
	`at` text NOT NULL,
	`payload` text NOT NULL,
	PRIMARY KEY(`case_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `case_events_at_idx` ON `case_events` (`at`);
