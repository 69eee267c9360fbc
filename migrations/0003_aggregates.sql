-- depends: 0002_ledger
-- Running aggregates of the ledger, updated in the same transaction as each ledger row, so
-- /api/info costs one row per counterparty and per item type however long the history is.
CREATE TABLE transfer_totals (
    sender_id   bigint NOT NULL REFERENCES users (id),
    receiver_id bigint NOT NULL REFERENCES users (id),
    amount      bigint NOT NULL,
    PRIMARY KEY (sender_id, receiver_id),
    CONSTRAINT transfer_totals_amount_positive CHECK (amount > 0)
);
CREATE INDEX transfer_totals_receiver_id_idx ON transfer_totals (receiver_id);

CREATE TABLE inventory (
    user_id  bigint  NOT NULL REFERENCES users (id),
    item     text    NOT NULL,
    quantity integer NOT NULL,
    PRIMARY KEY (user_id, item),
    CONSTRAINT inventory_quantity_positive CHECK (quantity > 0)
);
