-- grid321 village deliberation: the roll call (记名表决) of a step, where the village's rules ask for one.
ALTER TABLE `deliberation_steps` ADD `roll_call` text;
