-- Residents (群众) as users: accounts by mobile number, one-time codes, the local code sink, their reports.
CREATE TABLE `resident_accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`mobile_hmac` text NOT NULL,
	`mobile_enc` text NOT NULL,
	`mobile_masked` text NOT NULL,
	`household_id` text,
	`resident_id` text,
	`linked_by` text,
	`linked_at` text,
	`disabled` integer DEFAULT 0 NOT NULL,
	`session_epoch` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `resident_accounts_mobile_uq` ON `resident_accounts` (`mobile_hmac`);
--> statement-breakpoint
CREATE INDEX `resident_accounts_household_idx` ON `resident_accounts` (`household_id`);
--> statement-breakpoint
CREATE TABLE `resident_codes` (
	`id` text PRIMARY KEY NOT NULL,
	`mobile_hmac` text NOT NULL,
	`code_hash` text NOT NULL,
	`ip` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text
);
--> statement-breakpoint
CREATE INDEX `resident_codes_mobile_idx` ON `resident_codes` (`mobile_hmac`,`created_at`);
--> statement-breakpoint
CREATE INDEX `resident_codes_ip_idx` ON `resident_codes` (`ip`,`created_at`);
--> statement-breakpoint
CREATE TABLE `resident_dev_codes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`mobile` text NOT NULL,
	`code` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `resident_dev_codes_mobile_idx` ON `resident_dev_codes` (`mobile`,`id`);
--> statement-breakpoint
CREATE TABLE `public_reports` (
	`case_id` text PRIMARY KEY NOT NULL,
	`token` text NOT NULL,
	`channel` text NOT NULL,
	`reporter_id` text NOT NULL,
	`service_code` text NOT NULL,
	`title` text NOT NULL,
	`owning_unit_id` text NOT NULL,
	`description_public` integer DEFAULT 0 NOT NULL,
	`public_description` text,
	`lat` real NOT NULL,
	`lng` real NOT NULL,
	`address` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `public_reports_token_uq` ON `public_reports` (`token`);
--> statement-breakpoint
CREATE INDEX `public_reports_reporter_idx` ON `public_reports` (`reporter_id`,`created_at`);
--> statement-breakpoint
CREATE INDEX `public_reports_created_idx` ON `public_reports` (`created_at`,`case_id`);
--> statement-breakpoint
CREATE TABLE `open311_apps` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`per_minute` integer DEFAULT 30 NOT NULL,
	`revoked_at` text,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `open311_apps_key_uq` ON `open311_apps` (`key_hash`);
--> statement-breakpoint
CREATE TABLE `open311_app_calls` (
	`app_id` text NOT NULL,
	`minute` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`app_id`, `minute`)
);
