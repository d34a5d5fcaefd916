-- Time limits and escalation wired into the case loop: what the resolution-level figures need on the case
-- projection, and each GridDesk's next deadline step for the alarm watchdog.
ALTER TABLE `cases` ADD `resolved_at` text;
--> statement-breakpoint
ALTER TABLE `cases` ADD `resolved_level` text;
--> statement-breakpoint
ALTER TABLE `cases` ADD `overdue` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
ALTER TABLE `cases` ADD `escalation_count` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
CREATE TABLE `desk_alarms` (
	`desk_id` text PRIMARY KEY NOT NULL,
	`next_alarm_at` text,
	`as_of` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `desk_alarms_next_idx` ON `desk_alarms` (`next_alarm_at`);
