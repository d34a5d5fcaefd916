-- grid321 village deliberation (两说一商): representatives and Party members with terms, the micro-power list,
-- sessions, matters and their triage, agenda items and their four steps, notices and objections, tasks, feedback.
CREATE TABLE `deliberation_feedback` (
	`id` text PRIMARY KEY NOT NULL,
	`item_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`satisfaction` text NOT NULL,
	`by_user_id` text NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliberation_feedback_uq` ON `deliberation_feedback` (`item_id`,`by_user_id`);
--> statement-breakpoint
CREATE TABLE `deliberation_items` (
	`id` text PRIMARY KEY NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`matter_id` text,
	`title` text NOT NULL,
	`kind` text,
	`amount_yuan` integer,
	`state` text NOT NULL,
	`procedure` text NOT NULL,
	`proposed_on` text,
	`resolved_on` text,
	`decided_on` text,
	`result_on` text,
	`result_summary` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliberation_items_path_idx` ON `deliberation_items` (`unit_path`,`created_at`);
--> statement-breakpoint
CREATE TABLE `deliberation_matters` (
	`id` text PRIMARY KEY NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`session_id` text,
	`summary` text NOT NULL,
	`raised_by_name` text,
	`raised_by_user_id` text NOT NULL,
	`household_id` text,
	`raised_at` text NOT NULL,
	`outcome` text,
	`outcome_by` text,
	`outcome_at` text,
	`answer` text,
	`case_id` text,
	`case_owner_id` text,
	`item_id` text
);
--> statement-breakpoint
CREATE INDEX `deliberation_matters_path_idx` ON `deliberation_matters` (`unit_path`,`raised_at`);
--> statement-breakpoint
CREATE INDEX `deliberation_matters_session_idx` ON `deliberation_matters` (`session_id`);
--> statement-breakpoint
CREATE TABLE `deliberation_members` (
	`id` text PRIMARY KEY NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`user_id` text,
	`resident_id` text,
	`term_start` text NOT NULL,
	`term_end` text,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliberation_members_unit_idx` ON `deliberation_members` (`unit_id`,`kind`,`term_start`);
--> statement-breakpoint
CREATE TABLE `deliberation_notices` (
	`id` text PRIMARY KEY NOT NULL,
	`item_id` text NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`kind` text NOT NULL,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`published_on` text NOT NULL,
	`ends_on` text NOT NULL,
	`withdrawn_at` text,
	`published_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliberation_notices_unit_idx` ON `deliberation_notices` (`unit_id`,`published_at`);
--> statement-breakpoint
CREATE TABLE `deliberation_objections` (
	`id` text PRIMARY KEY NOT NULL,
	`notice_id` text NOT NULL,
	`item_id` text NOT NULL,
	`text` text NOT NULL,
	`raised_by_user_id` text NOT NULL,
	`state` text NOT NULL,
	`answer` text,
	`back_to` text,
	`raised_at` text NOT NULL,
	`answered_at` text
);
--> statement-breakpoint
CREATE INDEX `deliberation_objections_item_idx` ON `deliberation_objections` (`item_id`,`state`);
--> statement-breakpoint
CREATE TABLE `deliberation_rules` (
	`unit_id` text PRIMARY KEY NOT NULL,
	`unit_path` text NOT NULL,
	`power_list` text NOT NULL,
	`procedure` text,
	`updated_by` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `deliberation_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`kind` text NOT NULL,
	`title` text NOT NULL,
	`held_at` text NOT NULL,
	`place` text NOT NULL,
	`host_id` text NOT NULL,
	`topics` text DEFAULT '[]' NOT NULL,
	`attendee_user_ids` text DEFAULT '[]' NOT NULL,
	`attendee_household_ids` text DEFAULT '[]' NOT NULL,
	`unregistered_count` integer DEFAULT 0 NOT NULL,
	`minutes` text,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliberation_sessions_path_idx` ON `deliberation_sessions` (`unit_path`,`held_at`);
--> statement-breakpoint
CREATE TABLE `deliberation_steps` (
	`id` text PRIMARY KEY NOT NULL,
	`item_id` text NOT NULL,
	`step` text NOT NULL,
	`meeting` text NOT NULL,
	`session_id` text,
	`held_on` text NOT NULL,
	`present` integer NOT NULL,
	`households` integer,
	`eligible` text NOT NULL,
	`votes_for` integer NOT NULL,
	`votes_against` integer NOT NULL,
	`votes_abstain` integer NOT NULL,
	`quorate` integer NOT NULL,
	`passed` integer NOT NULL,
	`note` text,
	`voided` integer DEFAULT false NOT NULL,
	`recorded_by` text NOT NULL,
	`recorded_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliberation_steps_item_idx` ON `deliberation_steps` (`item_id`,`recorded_at`);
--> statement-breakpoint
CREATE TABLE `deliberation_task_entries` (
	`id` text PRIMARY KEY NOT NULL,
	`task_id` text NOT NULL,
	`progress` integer NOT NULL,
	`note` text NOT NULL,
	`by_user_id` text NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliberation_task_entries_task_idx` ON `deliberation_task_entries` (`task_id`,`at`);
--> statement-breakpoint
CREATE TABLE `deliberation_tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`item_id` text NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`title` text NOT NULL,
	`owner_user_id` text,
	`owner_unit_id` text,
	`due_on` text NOT NULL,
	`progress` integer DEFAULT 0 NOT NULL,
	`done_on` text,
	`overdue_notified` integer DEFAULT false NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliberation_tasks_item_idx` ON `deliberation_tasks` (`item_id`);
--> statement-breakpoint
CREATE INDEX `deliberation_tasks_due_idx` ON `deliberation_tasks` (`due_on`,`done_on`);
