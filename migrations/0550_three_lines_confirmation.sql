-- grid321 three lines: a party member's fulfilment earns points only once someone else confirms it (the branch
-- centre or the case's handler); fulfilments already in the ledger were counted before and stay confirmed.
-- A contact with a household recorded after the fact carries `recorded_late`.
ALTER TABLE `party_fulfilments` ADD `status` text DEFAULT 'pending' NOT NULL;
--> statement-breakpoint
ALTER TABLE `party_fulfilments` ADD `decided_by` text;
--> statement-breakpoint
ALTER TABLE `party_fulfilments` ADD `decided_at` text;
--> statement-breakpoint
UPDATE `party_fulfilments` SET `status` = 'confirmed';
--> statement-breakpoint
ALTER TABLE `visits` ADD `recorded_late` integer DEFAULT false NOT NULL;
