-- Production's consolidated area codes and categories equal staging's, code by code.
SELECT npa, category FROM enhanced_lerg ORDER BY npa
