-- The oldest open cases of a subtree, which every bulletin lists: open cases by age, so that the query walks
-- them oldest first and stops at the first few inside the subtree instead of reading every case of the
-- subtree (3.16 million for the city). The WHERE must stay the text the query uses (`OPEN_STATES_SQL` in
-- src/db/repos/bulletins.ts, from `OPEN_STATES`); the query names the index, so a mismatch fails loudly.
CREATE INDEX `cases_open_age_idx` ON `cases` (`created_at`, `id`, `owning_unit_path`)
WHERE `state` IN ('reported', 'accepted', 'dispatched', 'in_progress', 'reopened');
