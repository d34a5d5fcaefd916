-- When a user's session state (disabled, session epoch) last changed, in milliseconds of the database's clock.
-- A Worker isolate reads only the users changed since its last look, one query every few seconds whatever the
-- number of users, instead of one user's state on that user's writes (`sessionChangesSince`).
ALTER TABLE `users` ADD `session_changed_at` integer NOT NULL DEFAULT 0;
--> statement-breakpoint
CREATE INDEX `users_session_changed_idx` ON `users` (`session_changed_at`);
--> statement-breakpoint
-- Stamped by the database on every path that changes either column: the services, and an operator's UPDATE.
CREATE TRIGGER `users_session_changed` AFTER UPDATE OF `disabled`, `session_epoch` ON `users`
WHEN NEW.`disabled` IS NOT OLD.`disabled` OR NEW.`session_epoch` IS NOT OLD.`session_epoch`
BEGIN
  UPDATE `users` SET `session_changed_at` = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE `id` = NEW.`id`;
END;
