-- Login throttling keyed per (username, client IP), per client IP and per username: a password or code check
-- first claims a row here (one conditional INSERT that counts and claims, so a parallel burst cannot pass a
-- read-then-write check); a success deletes its pair's rows. `kind` separates passwords from second factors.
ALTER TABLE `login_failures` ADD COLUMN `ip` text NOT NULL DEFAULT 'unknown';
--> statement-breakpoint
ALTER TABLE `login_failures` ADD COLUMN `kind` text NOT NULL DEFAULT 'password';
--> statement-breakpoint
CREATE INDEX `login_failures_pair_idx` ON `login_failures` (`username`,`kind`,`ip`,`at`);
--> statement-breakpoint
CREATE INDEX `login_failures_ip_idx` ON `login_failures` (`ip`,`at`);
--> statement-breakpoint
-- A user's session epoch: disabling, a password reset, a new role or unit, or a second-factor reset raise it,
-- and an access token minted under a lower epoch no longer writes or reads sensitive data.
ALTER TABLE `users` ADD COLUMN `session_epoch` integer NOT NULL DEFAULT 0;
--> statement-breakpoint
-- The authentication methods of a login (`pwd`, `pwd otp`), kept by every rotation of its refresh token.
ALTER TABLE `refresh_tokens` ADD COLUMN `amr` text NOT NULL DEFAULT 'pwd';
--> statement-breakpoint
-- A user's TOTP (RFC 6238) factor: the secret sealed with PII_KEY, confirmed by a first code, and the last
-- accepted time step so that a code is accepted once.
CREATE TABLE `user_second_factors` (
	`user_id` text PRIMARY KEY NOT NULL,
	`secret_enc` text NOT NULL,
	`confirmed_at` text,
	`last_used_step` integer,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
-- Ten single-use recovery codes per confirmed factor, stored only as SHA-256 hashes of 80-bit codes.
CREATE TABLE `recovery_codes` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`code_hash` text NOT NULL,
	`used_at` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `recovery_codes_hash_uq` ON `recovery_codes` (`user_id`,`code_hash`);
--> statement-breakpoint
-- The short-lived challenge a correct password earns a user with a second factor; stored as its hash, spent once.
CREATE TABLE `login_challenges` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`challenge_hash` text NOT NULL,
	`ip` text NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `login_challenges_hash_uq` ON `login_challenges` (`challenge_hash`);
