-- Residents' ratings of the party members paired with their household (群众评议), once per resident and year;
-- they feed the members' annual review. Household leads' ratings go into the existing `lead_ratings`.
CREATE TABLE `party_member_ratings` (
	`id` text PRIMARY KEY NOT NULL,
	`member_id` text NOT NULL,
	`rater_key` text NOT NULL,
	`year` integer NOT NULL,
	`rating` integer NOT NULL,
	`unit_path` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `party_member_ratings_once_uq` ON `party_member_ratings` (`member_id`,`rater_key`,`year`);
