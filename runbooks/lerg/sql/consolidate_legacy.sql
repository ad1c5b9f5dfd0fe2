-- Every legacy row moves into enhanced_lerg, keeping its legacy category for now
-- (the Pacific NPAs are fixed by a later step, so the evidence shows each change).
INSERT INTO enhanced_lerg (npa, iso_region, subdivision, region_name, category, number_kind, source)
SELECT npa, country, state, region_name, category, NULL, 'legacy_lerg'
FROM lerg_codes;
