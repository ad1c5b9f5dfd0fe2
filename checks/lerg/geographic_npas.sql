-- All 440 in-service geographic NPAs must be present after consolidation.
SELECT count(*) FROM enhanced_lerg WHERE category <> 'non_geographic'
