-- depends: 0016_grants
-- A message with a transfer (issue 16, "thanks with a message"): optional, at most 200
-- characters without control characters (checked by the service; the constraint is the
-- backstop), shown to its sender and receiver only, in /api/history.
--
-- Safe on a populated ledger: a nullable column without a default is a catalog change (no
-- rewrite), and the constraint is added NOT VALID, so no existing row is scanned under the
-- lock (every existing row has no message; new rows are checked). The append-only trigger
-- stays: no ledger row is updated.
--
-- The write functions again, each taking the message as a parameter that defaults to NULL,
-- so a caller of the earlier signature (a service not yet upgraded) keeps working.
ALTER TABLE transfers ADD COLUMN message text;
ALTER TABLE transfers ADD CONSTRAINT transfers_message_length
    CHECK (char_length(message) BETWEEN 1 AND 200) NOT VALID;

DROP FUNCTION transfer_in_transaction(bigint, text, text, bigint);
DROP PROCEDURE transfer_coins(bigint, text, text, bigint, bigint, bigint, boolean);
DROP FUNCTION move_coins(bigint, text, bigint, bigint);

CREATE FUNCTION move_coins(
    p_sender_id bigint, p_sender_name text, p_receiver bigint, p_amount bigint,
    p_message text DEFAULT NULL, OUT balance bigint, OUT applied boolean
)
LANGUAGE sql AS $$
    WITH debit AS (
        UPDATE users u SET balance = u.balance - p_amount
        WHERE u.id = p_sender_id AND u.username = p_sender_name AND u.balance >= p_amount
        RETURNING u.id
    ), credit AS (
        UPDATE users u SET balance = u.balance + p_amount
        WHERE u.id = p_receiver AND EXISTS (SELECT FROM debit)
        RETURNING u.id
    ), entry AS (
        INSERT INTO transfers (sender_id, receiver_id, amount, message)
        SELECT p_sender_id, c.id, p_amount, p_message FROM credit c
        RETURNING transfers.sender_id, transfers.receiver_id, transfers.amount
    ), total AS (
        INSERT INTO transfer_totals AS t (sender_id, receiver_id, amount)
        SELECT e.sender_id, e.receiver_id, e.amount FROM entry e
        ON CONFLICT (sender_id, receiver_id) DO UPDATE SET amount = t.amount + EXCLUDED.amount
    )
    SELECT (SELECT u.balance FROM users u WHERE u.id = p_sender_id AND u.username = p_sender_name),
           EXISTS (SELECT FROM entry)
$$;

CREATE PROCEDURE transfer_coins(
    p_sender_id     bigint,
    p_sender_name   text,
    p_receiver_name text,
    p_amount        bigint,
    p_message       text DEFAULT NULL,
    INOUT receiver    bigint DEFAULT NULL,
    INOUT balance     bigint DEFAULT NULL,
    INOUT applied     boolean DEFAULT false
)
LANGUAGE plpgsql AS $$
DECLARE
    uncontended boolean;
BEGIN
    COMMIT;  -- the CALL's own transaction has its snapshot already
    SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
    LOCK TABLE write_gate IN ROW EXCLUSIVE MODE;
    SELECT u.id,
           pg_try_advisory_xact_lock(least(p_sender_id, u.id))
           AND pg_try_advisory_xact_lock(greatest(p_sender_id, u.id))
    INTO receiver, uncontended
    FROM users u WHERE u.username = p_receiver_name;
    IF receiver IS NULL OR receiver = p_sender_id THEN
        RETURN;
    END IF;
    IF uncontended THEN
        BEGIN
            SELECT m.balance, m.applied INTO balance, applied
            FROM move_coins(p_sender_id, p_sender_name, receiver, p_amount, p_message) m;
        EXCEPTION WHEN serialization_failure THEN
            uncontended := false;  -- a snapshot from just before the last holder's commit
        END;
    END IF;
    IF NOT uncontended THEN
        ROLLBACK;
        SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
        LOCK TABLE write_gate IN EXCLUSIVE MODE;
        SELECT m.balance, m.applied INTO balance, applied
        FROM move_coins(p_sender_id, p_sender_name, receiver, p_amount, p_message) m;
    END IF;
    COMMIT;
END
$$;

CREATE FUNCTION transfer_in_transaction(
    p_sender_id bigint, p_sender_name text, p_receiver_name text, p_amount bigint,
    p_message text DEFAULT NULL, OUT receiver bigint, OUT balance bigint, OUT applied boolean
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
    FROM move_coins(p_sender_id, p_sender_name, receiver, p_amount, p_message) m;
END
$$;
