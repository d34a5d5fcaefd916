-- grid321 households: households, residents (encrypted ID numbers and phones), per-village class counts kept by
-- triggers, visits, named helpers.
CREATE TABLE `household_class_counts` (
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`class` text NOT NULL,
	`n` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `household_class_counts_uq` ON `household_class_counts` (`unit_id`,`class`);
--> statement-breakpoint
CREATE INDEX `household_class_counts_path_idx` ON `household_class_counts` (`unit_path`,`class`,`n`);
--> statement-breakpoint
CREATE TABLE `household_helpers` (
	`id` text PRIMARY KEY NOT NULL,
	`household_id` text NOT NULL,
	`user_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`line` text NOT NULL,
	`kind` text NOT NULL,
	`since` text NOT NULL,
	`until` text,
	`created_by` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `household_helpers_active_uq` ON `household_helpers` (`household_id`,`user_id`) WHERE "household_helpers"."until" IS NULL;
--> statement-breakpoint
CREATE INDEX `household_helpers_user_idx` ON `household_helpers` (`user_id`,`until`);
--> statement-breakpoint
CREATE INDEX `household_helpers_path_idx` ON `household_helpers` (`unit_path`);
--> statement-breakpoint
CREATE TABLE `households` (
	`id` text PRIMARY KEY NOT NULL,
	`unit_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`village_id` text GENERATED ALWAYS AS (substr(substr(substr(substr(substr(unit_path, 2), instr(substr(unit_path, 2), '/') + 1), instr(substr(substr(unit_path, 2), instr(substr(unit_path, 2), '/') + 1), '/') + 1), instr(substr(substr(substr(unit_path, 2), instr(substr(unit_path, 2), '/') + 1), instr(substr(substr(unit_path, 2), instr(substr(unit_path, 2), '/') + 1), '/') + 1), '/') + 1), 1, instr(substr(substr(substr(substr(unit_path, 2), instr(substr(unit_path, 2), '/') + 1), instr(substr(substr(unit_path, 2), instr(substr(unit_path, 2), '/') + 1), '/') + 1), instr(substr(substr(substr(unit_path, 2), instr(substr(unit_path, 2), '/') + 1), instr(substr(substr(unit_path, 2), instr(substr(unit_path, 2), '/') + 1), '/') + 1), '/') + 1), '/') - 1)) STORED NOT NULL,
	`address` text NOT NULL,
	`latitude` real,
	`longitude` real,
	`head_name` text NOT NULL,
	`income_per_capita` integer NOT NULL,
	`income_stable` integer NOT NULL,
	`safe_years_mask` integer DEFAULT 0 NOT NULL,
	`notes` text,
	`red_tags` text DEFAULT '[]' NOT NULL,
	`member_count` integer DEFAULT 0 NOT NULL,
	`computed_class` text NOT NULL,
	`class` text NOT NULL,
	`class_reasons` text NOT NULL,
	`class_since` text NOT NULL,
	`classified_at` text NOT NULL,
	`override_class` text,
	`override_reason` text,
	`override_until` text,
	`override_by` text,
	`last_visit_at` text,
	`next_visit_due` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `households_path_idx` ON `households` (`unit_path`,`id`);
--> statement-breakpoint
CREATE INDEX `households_village_idx` ON `households` (`village_id`,`income_per_capita`);
--> statement-breakpoint
CREATE INDEX `households_due_idx` ON `households` (`next_visit_due`,`id`,`unit_path`,`class`) WHERE "households"."next_visit_due" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX `households_path_due_idx` ON `households` (`unit_path`,`next_visit_due`) WHERE "households"."next_visit_due" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX `households_override_idx` ON `households` (`override_until`,`unit_path`) WHERE "households"."override_class" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX `households_class_since_idx` ON `households` (`class_since`);
--> statement-breakpoint
CREATE INDEX `households_unit_idx` ON `households` (`unit_id`);
--> statement-breakpoint
CREATE TABLE `residents` (
	`id` text PRIMARY KEY NOT NULL,
	`household_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`name` text NOT NULL,
	`gender` text NOT NULL,
	`birth_date` text NOT NULL,
	`id_number_enc` text,
	`id_number_hmac` text,
	`id_number_masked` text,
	`phone_enc` text,
	`phone_masked` text,
	`relationship` text NOT NULL,
	`tags` text DEFAULT '[]' NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `residents_household_idx` ON `residents` (`household_id`);
--> statement-breakpoint
CREATE UNIQUE INDEX `residents_id_hmac_uq` ON `residents` (`id_number_hmac`);
--> statement-breakpoint
CREATE INDEX `residents_path_idx` ON `residents` (`unit_path`);
--> statement-breakpoint
CREATE TABLE `visits` (
	`id` text PRIMARY KEY NOT NULL,
	`household_id` text NOT NULL,
	`unit_path` text NOT NULL,
	`visitor_user_id` text NOT NULL,
	`visitor_role` text NOT NULL,
	`kind` text NOT NULL,
	`visited_at` text NOT NULL,
	`notes` text,
	`latitude` real,
	`longitude` real,
	`recorded_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `visits_household_idx` ON `visits` (`household_id`,`visited_at`);
--> statement-breakpoint
CREATE INDEX `visits_visitor_idx` ON `visits` (`visitor_user_id`,`visited_at`);
--> statement-breakpoint
CREATE INDEX `visits_path_idx` ON `visits` (`unit_path`,`visited_at`);
--> statement-breakpoint
CREATE TRIGGER `households_counts_insert` AFTER INSERT ON `households` BEGIN
  INSERT INTO household_class_counts (unit_id, unit_path, class, n) VALUES (NEW.village_id, substr(NEW.unit_path, 1, instr(NEW.unit_path, '/' || NEW.village_id || '/') + length(NEW.village_id) + 1), NEW.class, 1)
    ON CONFLICT (unit_id, class) DO UPDATE SET n = n + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `households_counts_delete` AFTER DELETE ON `households` BEGIN
  UPDATE household_class_counts SET n = n - 1 WHERE unit_id = OLD.village_id AND class = OLD.class;
  DELETE FROM household_class_counts WHERE unit_id = OLD.village_id AND class = OLD.class AND n <= 0;
END;
--> statement-breakpoint
CREATE TRIGGER `households_counts_update` AFTER UPDATE OF class, unit_path ON `households`
  WHEN OLD.class IS NOT NEW.class OR OLD.village_id IS NOT NEW.village_id BEGIN
  UPDATE household_class_counts SET n = n - 1 WHERE unit_id = OLD.village_id AND class = OLD.class;
  DELETE FROM household_class_counts WHERE unit_id = OLD.village_id AND class = OLD.class AND n <= 0;
  INSERT INTO household_class_counts (unit_id, unit_path, class, n) VALUES (NEW.village_id, substr(NEW.unit_path, 1, instr(NEW.unit_path, '/' || NEW.village_id || '/') + length(NEW.village_id) + 1), NEW.class, 1)
    ON CONFLICT (unit_id, class) DO UPDATE SET n = n + 1;
END;
