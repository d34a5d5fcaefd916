-- grid321 keyed audit chain. From here on an audit row's `hash` is its own HMAC-SHA-256 under AUDIT_KEY (a
-- Worker secret the database never holds), written in the same batch as the change it records, and
-- `prev_hash` is ''. The audit anchor (a Durable Object) links the rows in seq order afterwards into
-- `audit_chain` and checkpoints the head in its own storage. Rows up to `legacy_through` keep their plain
-- SHA-256 chain; the first keyed link starts from `legacy_head`.
CREATE TABLE `audit_chain_genesis` (
	`id` integer PRIMARY KEY NOT NULL CHECK (`id` = 1),
	`legacy_through` integer NOT NULL,
	`legacy_head` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
INSERT INTO `audit_chain_genesis` (`id`, `legacy_through`, `legacy_head`, `created_at`)
SELECT 1, COALESCE(MAX(`seq`), 0),
	COALESCE((SELECT `hash` FROM `audit_log` ORDER BY `seq` DESC LIMIT 1), ''),
	strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM `audit_log`;
--> statement-breakpoint
CREATE TABLE `audit_chain` (
	`seq` integer PRIMARY KEY NOT NULL,
	`mac` text NOT NULL,
	`chained_at` text NOT NULL
);
--> statement-breakpoint
CREATE TRIGGER `audit_chain_no_update` BEFORE UPDATE ON `audit_chain`
BEGIN SELECT RAISE(ABORT, 'audit_chain is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `audit_chain_no_delete` BEFORE DELETE ON `audit_chain`
BEGIN SELECT RAISE(ABORT, 'audit_chain is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `audit_chain_genesis_no_update` BEFORE UPDATE ON `audit_chain_genesis`
BEGIN SELECT RAISE(ABORT, 'audit_chain_genesis is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `audit_chain_genesis_no_delete` BEFORE DELETE ON `audit_chain_genesis`
BEGIN SELECT RAISE(ABORT, 'audit_chain_genesis is append-only'); END;
--> statement-breakpoint
-- Never holds a row: `writeAudited` inserts `changes()` here right after a guarded statement only when that
-- statement changed nothing, and the CHECK then aborts the whole batch (SQLITE_CONSTRAINT at that index).
CREATE TABLE `audit_write_guard` (
	`changed` integer NOT NULL CHECK (`changed` > 0)
);
