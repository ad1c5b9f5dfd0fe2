-- 670 Northern Mariana Islands, 671 Guam, 684 American Samoa were filed as 'us'.
UPDATE enhanced_lerg SET category = 'pacific' WHERE npa IN ('670', '671', '684');
