-- grid321 deliberation tasks follow the time-limit steps (warned → overdue → escalate): the last step taken
-- and when the task's clock next needs a look, the cron's index range. Tasks told of as overdue keep that step;
-- every open task is looked at on the first tick, which computes its deadlines and takes what is due.
ALTER TABLE `deliberation_tasks` ADD `sla_step` text;
--> statement-breakpoint
ALTER TABLE `deliberation_tasks` ADD `next_step_at` text;
--> statement-breakpoint
UPDATE `deliberation_tasks` SET `sla_step` = 'overdue' WHERE `overdue_notified` = 1;
--> statement-breakpoint
UPDATE `deliberation_tasks` SET `next_step_at` = `created_at` WHERE `done_on` IS NULL;
--> statement-breakpoint
CREATE INDEX `deliberation_tasks_next_step_idx` ON `deliberation_tasks` (`next_step_at`);
