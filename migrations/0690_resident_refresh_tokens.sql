-- Residents' refresh tokens: a resident stays signed in without a new SMS code every hour. Same rotation and
-- reuse detection as staff refresh tokens, in a table of their own so neither audience can use the other's.
CREATE TABLE `resident_refresh_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`family_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`session_epoch` integer NOT NULL,
	`expires_at` text NOT NULL,
	`created_at` text NOT NULL,
	`rotated_at` text,
	`revoked_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `resident_refresh_tokens_hash_uq` ON `resident_refresh_tokens` (`token_hash`);
--> statement-breakpoint
CREATE INDEX `resident_refresh_tokens_family_idx` ON `resident_refresh_tokens` (`family_id`);
--> statement-breakpoint
CREATE INDEX `resident_refresh_tokens_account_idx` ON `resident_refresh_tokens` (`account_id`);
