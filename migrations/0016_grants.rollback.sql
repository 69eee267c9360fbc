-- The grants' ledger goes with them; the balances they raised stay as they are (`shop audit`
-- of the earlier schema would then report those employees).
DROP FUNCTION lock_accounts_or_retry(bigint[]);
DROP TABLE grant_credits;
DROP TABLE grants;
