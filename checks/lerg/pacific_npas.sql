-- 670, 671 and 684 must be categorized as Pacific.
SELECT count(*) FROM enhanced_lerg WHERE npa IN ('670', '671', '684') AND category = 'pacific'
