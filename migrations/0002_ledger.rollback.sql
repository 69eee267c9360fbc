DROP TABLE purchases;
DROP TABLE transfers;
DROP FUNCTION reject_ledger_change();
