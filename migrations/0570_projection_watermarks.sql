-- The case projection converges on its desks. Every GridDesk event carries a desk sequence number (dseq,
-- gap-free per desk) and the desk's id (its Durable Object id: a unit may have a legacy and a keyed desk).
-- `projection_desks`: per desk the highest dseq seen and the highest up to which every event is projected
-- (advanced only contiguously). `projection_events`: dseqs projected beyond that watermark, waiting for a gap
-- to fill. Lagging desks are swept by the cron watchdog. `webhook_outbox`: webhook offers written in the
-- projection's own write and sent after it.
CREATE TABLE `projection_desks` (
	`desk_id` text PRIMARY KEY NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`desk_dseq` integer NOT NULL,
	`projected_dseq` integer DEFAULT 0 NOT NULL,
	`oldest_unprojected_at` text,
	`lagging_since` text,
	`updated_at` text NOT NULL,
	`poked_at` text
);
--> statement-breakpoint
CREATE INDEX `projection_desks_lag_idx` ON `projection_desks` (`lagging_since`,`desk_id`) WHERE `lagging_since` IS NOT NULL;
--> statement-breakpoint
CREATE TABLE `projection_events` (
	`desk_id` text NOT NULL,
	`dseq` integer NOT NULL,
	`case_id` text NOT NULL,
	`seq` integer NOT NULL,
	`at` text NOT NULL,
	PRIMARY KEY(`desk_id`, `dseq`)
);
--> statement-breakpoint
CREATE TABLE `webhook_outbox` (
	`event_id` text PRIMARY KEY NOT NULL,
	`event` text NOT NULL,
	`created_at` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_outbox_next_idx` ON `webhook_outbox` (`next_attempt_at`);
