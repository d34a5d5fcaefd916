-- Inboxes, outgoing webhooks and their deliveries (escalation and supervision across the levels).
CREATE TABLE `inbox_items` (
	`id` text PRIMARY KEY NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`kind` text NOT NULL,
	`case_id` text,
	`dedupe_key` text NOT NULL,
	`payload` text NOT NULL,
	`created_at` text NOT NULL,
	`read_at` text,
	`handled_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inbox_items_dedupe_uq` ON `inbox_items` (`dedupe_key`);
--> statement-breakpoint
CREATE INDEX `inbox_items_unit_idx` ON `inbox_items` (`unit_id`,`created_at`,`id`);
--> statement-breakpoint
CREATE INDEX `inbox_items_unit_kind_idx` ON `inbox_items` (`unit_id`,`kind`,`created_at`,`id`);
--> statement-breakpoint
CREATE INDEX `inbox_items_case_idx` ON `inbox_items` (`case_id`,`unit_id`);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`endpoint_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event_kind` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`last_status` integer,
	`last_error` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_uq` ON `webhook_deliveries` (`endpoint_id`,`event_id`);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_endpoint_idx` ON `webhook_deliveries` (`endpoint_id`,`updated_at`);
--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`description` text,
	`secret_sealed` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`disabled_at` text
);
--> statement-breakpoint
CREATE INDEX `webhook_endpoints_unit_idx` ON `webhook_endpoints` (`unit_path`,`created_at`,`id`);
