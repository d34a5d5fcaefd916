-- grid321 foundation: unit tree, users, sessions, login throttling, audit log, unit settings.
CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`at` text NOT NULL,
	`actor_id` text,
	`actor_role` text,
	`scope_path` text NOT NULL,
	`action` text NOT NULL,
	`object_type` text NOT NULL,
	`object_id` text,
	`outcome` text NOT NULL,
	`request_id` text,
	`purpose` text,
	`detail` text,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint

CREATE UNIQUE INDEX `audit_log_id_uq` ON `audit_log` (`id`);
--> statement-breakpoint
CREATE INDEX `audit_log_scope_idx` ON `audit_log` (`scope_path`,`seq`);
--> statement-breakpoint
CREATE INDEX `audit_log_object_idx` ON `audit_log` (`object_type`,`object_id`);
--> statement-breakpoint
CREATE TABLE `login_failures` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`username` text NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint

CREATE INDEX `login_failures_user_idx` ON `login_failures` (`username`,`at`);
--> statement-breakpoint
CREATE TABLE `refresh_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`family_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`expires_at` text NOT NULL,
	`created_at` text NOT NULL,
	`rotated_at` text,
	`revoked_at` text
);
--> statement-breakpoint

CREATE UNIQUE INDEX `refresh_tokens_hash_uq` ON `refresh_tokens` (`token_hash`);
--> statement-breakpoint
CREATE INDEX `refresh_tokens_family_idx` ON `refresh_tokens` (`family_id`);
--> statement-breakpoint
CREATE TABLE `unit_settings` (
	`unit_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint

CREATE UNIQUE INDEX `unit_settings_uq` ON `unit_settings` (`unit_id`,`key`);
--> statement-breakpoint
CREATE TABLE `units` (
	`id` text PRIMARY KEY NOT NULL,
	`code` text NOT NULL,
	`name` text NOT NULL,
	`parent_id` text,
	`path` text NOT NULL,
	`level` text NOT NULL,
	`grid_level` integer,
	`depth` integer NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint

CREATE UNIQUE INDEX `units_code_uq` ON `units` (`code`);
--> statement-breakpoint
CREATE INDEX `units_parent_idx` ON `units` (`parent_id`,`code`);
--> statement-breakpoint
CREATE INDEX `units_path_idx` ON `units` (`path`);
--> statement-breakpoint
CREATE INDEX `units_level_idx` ON `units` (`level`,`path`);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`username` text NOT NULL,
	`display_name` text NOT NULL,
	`role` text NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`phone` text,
	`password_hash` text NOT NULL,
	`disabled` integer DEFAULT false NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint

CREATE UNIQUE INDEX `users_username_uq` ON `users` (`username`);
--> statement-breakpoint
CREATE INDEX `users_unit_idx` ON `users` (`unit_id`);
--> statement-breakpoint
CREATE INDEX `users_path_idx` ON `users` (`unit_path`);
--> statement-breakpoint
CREATE TRIGGER `audit_log_no_update` BEFORE UPDATE ON `audit_log`
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `audit_log_no_delete` BEFORE DELETE ON `audit_log`
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
