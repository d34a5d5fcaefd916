-- grid321 three lines: contact logs linked to cases (information collected, disputes mediated), and the owning
-- unit of a reception-day matter's case (so the reporting day can read a case live before it is projected).
CREATE TABLE `contact_case_links` (
	`id` text PRIMARY KEY NOT NULL,
	`contact_id` text NOT NULL,
	`case_id` text NOT NULL,
	`kind` text NOT NULL,
	`visit_id` text,
	`note` text,
	`unit_path` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contact_case_links_uq` ON `contact_case_links` (`contact_id`,`case_id`,`kind`);
--> statement-breakpoint
CREATE INDEX `contact_case_links_case_idx` ON `contact_case_links` (`case_id`);
--> statement-breakpoint
ALTER TABLE `activity_matters` ADD `owning_unit_id` text;
