DROP TABLE inventory;
DROP TABLE transfer_totals;
