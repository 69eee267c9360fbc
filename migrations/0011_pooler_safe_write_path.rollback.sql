-- Back to 0007's procedures (session advisory locks, released by the caller on failure).
DROP PROCEDURE buy_item(bigint, text, text, bigint, bigint, boolean);
DROP PROCEDURE transfer_coins(bigint, text, text, bigint, bigint, bigint, boolean);
DROP FUNCTION move_purchase(bigint, text, text, bigint);
DROP FUNCTION move_coins(bigint, text, bigint, bigint);
DROP TABLE write_gate;

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
BEGIN
    SELECT u.id INTO receiver FROM users u WHERE u.username = p_receiver_name;
    IF receiver IS NULL OR receiver = p_sender_id THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_lock(least(p_sender_id, receiver));
    PERFORM pg_advisory_lock(greatest(p_sender_id, receiver));
    COMMIT;

    SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
    WITH debit AS (
        UPDATE users u SET balance = u.balance - p_amount
        WHERE u.id = p_sender_id AND u.username = p_sender_name AND u.balance >= p_amount
        RETURNING u.id
    ), credit AS (
        UPDATE users u SET balance = u.balance + p_amount
        WHERE u.id = receiver AND EXISTS (SELECT FROM debit)
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
    INTO balance, applied;
    COMMIT;

    PERFORM pg_advisory_unlock(greatest(p_sender_id, receiver));
    PERFORM pg_advisory_unlock(least(p_sender_id, receiver));
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
BEGIN
    PERFORM pg_advisory_lock(p_user_id);
    COMMIT;

    SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
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
    INTO balance, applied;
    COMMIT;

    PERFORM pg_advisory_unlock(p_user_id);
END
$$;
