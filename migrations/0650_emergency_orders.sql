-- grid321 emergency orders (应急指令): a directive issued under an emergency event carries the event and an
-- acknowledgement deadline in minutes; each receipt copies the deadline, and the directives watchdog escalates
-- an unacknowledged receipt once (ack_escalated_at) to its grid's village and town centres.
ALTER TABLE `directives` ADD `event_id` text;
--> statement-breakpoint
ALTER TABLE `directives` ADD `ack_due_at` text;
--> statement-breakpoint
ALTER TABLE `directive_receipts` ADD `ack_due_at` text;
--> statement-breakpoint
ALTER TABLE `directive_receipts` ADD `ack_escalated_at` text;
--> statement-breakpoint
CREATE INDEX `directives_event_idx` ON `directives` (`event_id`,`created_at`) WHERE `event_id` IS NOT NULL;
--> statement-breakpoint
CREATE INDEX `directive_receipts_ack_due_idx` ON `directive_receipts` (`ack_due_at`)
  WHERE `ack_due_at` IS NOT NULL AND `acknowledged_at` IS NULL AND `ack_escalated_at` IS NULL;
