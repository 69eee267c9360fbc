-- Every role goes with the table: the shop is back to employees only.
DROP TABLE roles;
