-- grid321 residents raise matters to their village through their own channel: the raising resident's account
-- (raised_by_user_id holds the same id for such a matter, so every matter keeps one raiser id), and the index
-- their own list reads.
ALTER TABLE `deliberation_matters` ADD `raised_by_account_id` text;
--> statement-breakpoint
CREATE INDEX `deliberation_matters_account_idx` ON `deliberation_matters` (`raised_by_account_id`,`raised_at`,`id`);
