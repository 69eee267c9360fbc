-- depends: 0012_wallet_read_function
-- Idempotency-Key (shop/services/idempotency.py): one row per key an employee used, written in
-- the same transaction as the money the request moved, with the answer it got. A new, empty
-- table and two new functions: nothing existing is rewritten or locked.
--
-- `fingerprint` is a digest of the request (its operation and validated parameters), so a
-- repeat of the key with another request is told apart. Only answers of requests that were
-- processed are kept (2xx, and 4xx decided by the data); a 5xx is never stored, so a retry
-- after it runs afresh. `created_at` orders the clean-up of keys past their retention.
CREATE TABLE idempotency_keys (
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         text        NOT NULL,
    fingerprint bytea       NOT NULL,
    status      smallint    NOT NULL,
    body        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key),
    CONSTRAINT idempotency_keys_key_printable CHECK (key ~ '^[!-~]{1,255}$'),
    CONSTRAINT idempotency_keys_status_stored CHECK (status BETWEEN 200 AND 499)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- The moves of 0011's procedures, inside a transaction the caller opened (the caller first
-- took write_gate, as the procedures do). The accounts' advisory locks are tried, never
-- waited for: when another writer holds one, this raises serialization_failure, and the
-- caller runs its transaction again with write_gate in EXCLUSIVE mode, where they are free.
CREATE FUNCTION transfer_in_transaction(
    p_sender_id bigint, p_sender_name text, p_receiver_name text, p_amount bigint,
    OUT receiver bigint, OUT balance bigint, OUT applied boolean
)
LANGUAGE plpgsql AS $$
DECLARE
    uncontended boolean;
BEGIN
    applied := false;
    SELECT u.id,
           pg_try_advisory_xact_lock(least(p_sender_id, u.id))
           AND pg_try_advisory_xact_lock(greatest(p_sender_id, u.id))
    INTO receiver, uncontended
    FROM users u WHERE u.username = p_receiver_name;
    IF receiver IS NULL OR receiver = p_sender_id THEN
        RETURN;
    END IF;
    IF NOT uncontended THEN
        RAISE EXCEPTION 'the accounts are held by another writer'
            USING ERRCODE = 'serialization_failure';
    END IF;
    SELECT m.balance, m.applied INTO balance, applied
    FROM move_coins(p_sender_id, p_sender_name, receiver, p_amount) m;
END
$$;

CREATE FUNCTION purchase_in_transaction(
    p_user_id bigint, p_username text, p_item text, p_price bigint,
    OUT balance bigint, OUT applied boolean
)
LANGUAGE plpgsql AS $$
BEGIN
    applied := false;
    IF NOT pg_try_advisory_xact_lock(p_user_id) THEN
        RAISE EXCEPTION 'the account is held by another writer'
            USING ERRCODE = 'serialization_failure';
    END IF;
    SELECT m.balance, m.applied INTO balance, applied
    FROM move_purchase(p_user_id, p_username, p_item, p_price) m;
END
$$;
