-- Periodic bulletins (定期通报): per centre (town, county, city), per week or month, a stored and versioned
-- snapshot of its figures. The cron writes version 1 of a period once: the unique key makes a second tick a
-- no-op. A later version of the same period (a regeneration) gets the next number.
CREATE TABLE `bulletins` (
	`id` text PRIMARY KEY NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`period_kind` text NOT NULL,
	`period_from` text NOT NULL,
	`period_to` text NOT NULL,
	`version` integer NOT NULL,
	`content` text NOT NULL,
	`generated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bulletins_period_uq` ON `bulletins` (`unit_id`,`period_kind`,`period_from`,`version`);
--> statement-breakpoint
CREATE INDEX `bulletins_unit_idx` ON `bulletins` (`unit_id`,`period_from`);
--> statement-breakpoint
CREATE INDEX `bulletins_period_idx` ON `bulletins` (`period_kind`,`period_from`);
