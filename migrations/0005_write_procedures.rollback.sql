DROP PROCEDURE buy_item(bigint, text, text, integer, integer, boolean);
DROP PROCEDURE transfer_coins(bigint, text, text, integer, bigint, integer, boolean);
