-- depends: 0001_accounts
-- The append-only ledger: one row per transfer and per purchase, never updated or deleted.
CREATE TABLE transfers (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sender_id   bigint      NOT NULL REFERENCES users (id),
    receiver_id bigint      NOT NULL REFERENCES users (id),
    amount      integer     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transfers_amount_positive CHECK (amount > 0),
    CONSTRAINT transfers_not_to_self CHECK (sender_id <> receiver_id)
);
CREATE INDEX transfers_sender_id_idx ON transfers (sender_id);
CREATE INDEX transfers_receiver_id_idx ON transfers (receiver_id);

CREATE TABLE purchases (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id),
    item       text        NOT NULL,
    price      integer     NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT purchases_price_positive CHECK (price > 0)
);
CREATE INDEX purchases_user_id_idx ON purchases (user_id);

CREATE FUNCTION reject_ledger_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the % ledger is append-only', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER transfers_append_only BEFORE UPDATE OR DELETE ON transfers
    FOR EACH ROW EXECUTE FUNCTION reject_ledger_change();
CREATE TRIGGER purchases_append_only BEFORE UPDATE OR DELETE ON purchases
    FOR EACH ROW EXECUTE FUNCTION reject_ledger_change();
