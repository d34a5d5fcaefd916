-- grid321 village deliberation: a session's photos and sign-in sheet (签到表), their bytes in R2 (EVIDENCE).
CREATE TABLE `deliberation_attachments` (
	`id` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`kind` text NOT NULL,
	`content_type` text NOT NULL,
	`size` integer NOT NULL,
	`uploaded_by` text NOT NULL,
	`uploaded_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliberation_attachments_session_idx` ON `deliberation_attachments` (`session_id`,`uploaded_at`);
