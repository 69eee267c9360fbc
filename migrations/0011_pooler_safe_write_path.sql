-- depends: 0007_money_bigint
-- The write procedures again, now holding nothing beyond the transaction that took it, so
-- they stay correct behind a transaction-pooling PgBouncer (docs/reliability.md, "The write
-- path"). 0005 took *session* advisory locks, committed, then moved the coins under
-- SERIALIZABLE; after a failure the service sent pg_advisory_unlock_all() as another
-- statement, which behind a transaction pooler may run on another server connection.
--
-- Now every lock is transaction-scoped and ends with COMMIT or ROLLBACK, error or not:
--   fast path: a SERIALIZABLE transaction takes write_gate in ROW EXCLUSIVE mode (writers do
--     not block each other) and then tries, without waiting, the advisory locks of the
--     accounts it writes (ascending ids); the receiver is looked up by the same statement.
--     If it gets them, no other writer can touch those accounts until it commits. Its
--     snapshot may still be a moment older than the commit of the writer that just released
--     them; the move then fails with 40001, and it takes the contended path instead.
--   contended path: if another writer holds one of them, roll back and start a SERIALIZABLE
--     transaction that first takes write_gate in EXCLUSIVE mode. That waits, first come
--     first served, until every writer in flight has committed, and holds new ones back
--     until this one commits; its snapshot is taken only after the wait, so it sees the
--     commits it waited for and does not fail with 40001 (the hot colleague case).
-- The wait must come before the snapshot: a SERIALIZABLE snapshot is fixed by the first
-- statement that evaluates anything, a plpgsql expression included, and LOCK TABLE naming
-- a fixed table is the only lock statement that evaluates nothing. Hence one gate for all
-- accounts, not one per account.
CREATE TABLE write_gate ();
COMMENT ON TABLE write_gate IS
    'No rows, ever: its lock orders the writes of the write procedures (migration 0011).';

DROP PROCEDURE buy_item(bigint, text, text, bigint, bigint, boolean);
DROP PROCEDURE transfer_coins(bigint, text, text, bigint, bigint, bigint, boolean);

-- The moves, each one statement as in 0005: a debit only if the payer (id and name, both
-- from the token) can pay, then the credit or the stock, the ledger row and the running
-- aggregate; the outer SELECT reports the balance the decision was made on.
CREATE FUNCTION move_coins(
    p_sender_id bigint, p_sender_name text, p_receiver bigint, p_amount bigint,
    OUT balance bigint, OUT applied boolean
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
        INSERT INTO transfers (sender_id, receiver_id, amount)
        SELECT p_sender_id, c.id, p_amount FROM credit c
        RETURNING transfers.sender_id, transfers.receiver_id, transfers.amount
    ), total AS (
        INSERT INTO transfer_totals AS t (sender_id, receiver_id, amount)
        SELECT e.sender_id, e.receiver_id, e.amount FROM entry e
        ON CONFLICT (sender_id, receiver_id) DO UPDATE SET amount = t.amount + EXCLUDED.amount
    )
    SELECT (SELECT u.balance FROM users u WHERE u.id = p_sender_id AND u.username = p_sender_name),
           EXISTS (SELECT FROM entry)
$$;

CREATE FUNCTION move_purchase(
    p_user_id bigint, p_username text, p_item text, p_price bigint,
    OUT balance bigint, OUT applied boolean
)
LANGUAGE sql AS $$
    WITH debit AS (
        UPDATE users u SET balance = u.balance - p_price
        WHERE u.id = p_user_id AND u.username = p_username AND u.balance >= p_price
        RETURNING u.id
    ), entry AS (
        INSERT INTO purchases (user_id, item, price)
        SELECT d.id, p_item, p_price FROM debit d
        RETURNING purchases.user_id, purchases.item
    ), stock AS (
        INSERT INTO inventory AS i (user_id, item, quantity)
        SELECT e.user_id, e.item, 1 FROM entry e
        ON CONFLICT (user_id, item) DO UPDATE SET quantity = i.quantity + 1
    )
    SELECT (SELECT u.balance FROM users u WHERE u.id = p_user_id AND u.username = p_username),
           EXISTS (SELECT FROM entry)
$$;

CREATE PROCEDURE transfer_coins(
    p_sender_id     bigint,
    p_sender_name   text,
    p_receiver_name text,
    p_amount        bigint,
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
            FROM move_coins(p_sender_id, p_sender_name, receiver, p_amount) m;
        EXCEPTION WHEN serialization_failure THEN
            uncontended := false;  -- a snapshot from just before the last holder's commit
        END;
    END IF;
    IF NOT uncontended THEN
        ROLLBACK;
        SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
        LOCK TABLE write_gate IN EXCLUSIVE MODE;
        SELECT m.balance, m.applied INTO balance, applied
        FROM move_coins(p_sender_id, p_sender_name, receiver, p_amount) m;
    END IF;
    COMMIT;
END
$$;

CREATE PROCEDURE buy_item(
    p_user_id  bigint,
    p_username text,
    p_item     text,
    p_price    bigint,
    INOUT balance bigint DEFAULT NULL,
    INOUT applied boolean DEFAULT false
)
LANGUAGE plpgsql AS $$
DECLARE
    uncontended boolean;
BEGIN
    COMMIT;  -- the CALL's own transaction has its snapshot already
    SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
    LOCK TABLE write_gate IN ROW EXCLUSIVE MODE;
    uncontended := pg_try_advisory_xact_lock(p_user_id);
    IF uncontended THEN
        BEGIN
            SELECT m.balance, m.applied INTO balance, applied
            FROM move_purchase(p_user_id, p_username, p_item, p_price) m;
        EXCEPTION WHEN serialization_failure THEN
            uncontended := false;  -- a snapshot from just before the last holder's commit
        END;
    END IF;
    IF NOT uncontended THEN
        ROLLBACK;
        SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
        LOCK TABLE write_gate IN EXCLUSIVE MODE;
        SELECT m.balance, m.applied INTO balance, applied
        FROM move_purchase(p_user_id, p_username, p_item, p_price) m;
    END IF;
    COMMIT;
END
$$;
