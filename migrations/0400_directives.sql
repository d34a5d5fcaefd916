-- grid321 directives: directives, one receipt per target unit (fanned out by the directives queue), receipt
-- counts kept by triggers, reminders.
CREATE TABLE `directive_receipt_counts` (
	`directive_id` text NOT NULL,
	`level` text NOT NULL,
	`grid_level` integer NOT NULL,
	`state` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`directive_id`, `level`, `grid_level`, `state`)
);
--> statement-breakpoint
CREATE TABLE `directive_receipts` (
	`directive_id` text NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`level` text NOT NULL,
	`grid_level` integer,
	`state` text NOT NULL,
	`due_at` text NOT NULL,
	`delivered_at` text NOT NULL,
	`acknowledged_at` text,
	`acknowledged_by` text,
	`completed_at` text,
	`completed_by` text,
	`completed_late` integer,
	`report` text,
	`evidence` text,
	`overdue_at` text,
	PRIMARY KEY(`directive_id`, `unit_id`)
);
--> statement-breakpoint
CREATE INDEX `directive_receipts_counts_idx` ON `directive_receipts` (`directive_id`,`unit_path`,`level`,`grid_level`,`state`);
--> statement-breakpoint
CREATE INDEX `directive_receipts_unit_idx` ON `directive_receipts` (`unit_id`,`state`,`directive_id`);
--> statement-breakpoint
CREATE INDEX `directive_receipts_due_idx` ON `directive_receipts` (`due_at`) WHERE "directive_receipts"."state" IN ('delivered', 'acknowledged');
--> statement-breakpoint
CREATE TABLE `directive_reminders` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`directive_id` text NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`kind` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `directive_reminders_uq` ON `directive_reminders` (`directive_id`,`unit_id`,`kind`);
--> statement-breakpoint
CREATE INDEX `directive_reminders_unit_idx` ON `directive_reminders` (`unit_id`,`created_at`);
--> statement-breakpoint
CREATE TABLE `directives` (
	`id` text PRIMARY KEY NOT NULL,
	`issuer_unit_id` text NOT NULL,
	`issuer_unit_path` text NOT NULL,
	`issued_by` text NOT NULL,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`priority` text NOT NULL,
	`due_at` text NOT NULL,
	`target_unit_ids` text,
	`target_levels` text,
	`target_count` integer NOT NULL,
	`attachment_ids` text DEFAULT '[]' NOT NULL,
	`created_at` text NOT NULL,
	`fanout_queued_at` text
);
--> statement-breakpoint
CREATE INDEX `directives_issuer_idx` ON `directives` (`issuer_unit_path`,`created_at`);
--> statement-breakpoint
CREATE INDEX `directives_created_idx` ON `directives` (`created_at`,`id`);
--> statement-breakpoint
CREATE INDEX `directives_fanout_idx` ON `directives` (`created_at`) WHERE "directives"."fanout_queued_at" IS NULL;
--> statement-breakpoint
CREATE TRIGGER `directive_receipts_count_insert` AFTER INSERT ON `directive_receipts` BEGIN
  INSERT INTO directive_receipt_counts (directive_id, level, grid_level, state, n)
    VALUES (NEW.directive_id, NEW.level, coalesce(NEW.grid_level, 0), NEW.state, 1)
    ON CONFLICT (directive_id, level, grid_level, state) DO UPDATE SET n = n + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `directive_receipts_count_update` AFTER UPDATE OF state ON `directive_receipts`
  WHEN OLD.state IS NOT NEW.state BEGIN
  UPDATE directive_receipt_counts SET n = n - 1
    WHERE directive_id = OLD.directive_id AND level = OLD.level AND grid_level = coalesce(OLD.grid_level, 0) AND state = OLD.state;
  INSERT INTO directive_receipt_counts (directive_id, level, grid_level, state, n)
    VALUES (NEW.directive_id, NEW.level, coalesce(NEW.grid_level, 0), NEW.state, 1)
    ON CONFLICT (directive_id, level, grid_level, state) DO UPDATE SET n = n + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `directive_receipts_count_delete` AFTER DELETE ON `directive_receipts` BEGIN
  UPDATE directive_receipt_counts SET n = n - 1
    WHERE directive_id = OLD.directive_id AND level = OLD.level AND grid_level = coalesce(OLD.grid_level, 0) AND state = OLD.state;
END;
