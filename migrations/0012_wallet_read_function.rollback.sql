-- The service before 0012 sends the statement itself.
DROP FUNCTION wallet_json(bigint, text, bigint);
