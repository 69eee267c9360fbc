-- The stored answers go with the table; a request sent with a key then runs as one without.
DROP FUNCTION purchase_in_transaction(bigint, text, text, bigint);
DROP FUNCTION transfer_in_transaction(bigint, text, text, bigint);
DROP TABLE idempotency_keys;
