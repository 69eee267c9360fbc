-- Back to the single-column indexes, without the ledger order (the history endpoint needs it).
CREATE INDEX transfers_sender_id_idx ON transfers (sender_id);
CREATE INDEX transfers_receiver_id_idx ON transfers (receiver_id);
CREATE INDEX purchases_user_id_idx ON purchases (user_id);

DROP INDEX transfers_sender_id_seq_idx;
DROP INDEX transfers_receiver_id_seq_idx;
DROP INDEX purchases_user_id_seq_idx;

ALTER TABLE transfers DROP COLUMN seq;
ALTER TABLE purchases DROP COLUMN seq;
DROP SEQUENCE ledger_seq;
