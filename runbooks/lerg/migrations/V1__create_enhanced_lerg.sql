-- The consolidated area-code table that replaces the legacy lerg_codes.
CREATE TABLE enhanced_lerg (
    npa TEXT PRIMARY KEY CHECK (length(npa) = 3),
    iso_region TEXT NOT NULL,
    subdivision TEXT,
    region_name TEXT,
    category TEXT NOT NULL CHECK (category IN ('us', 'canada', 'caribbean', 'pacific', 'non_geographic')),
    number_kind TEXT,
    source TEXT NOT NULL
);
CREATE INDEX enhanced_lerg_category ON enhanced_lerg (category);
