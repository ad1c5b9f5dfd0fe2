DROP TABLE lerg_codes;
