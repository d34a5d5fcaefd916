DROP INDEX IF EXISTS `cases_village_type_idx`;
--> statement-breakpoint
CREATE INDEX `cases_village_type_lat_idx` ON `cases` (`village_id`,`type`,`lat`);
