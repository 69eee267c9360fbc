-- depends: 0011_pooler_safe_write_path
-- /api/info's read (shop/repositories/wallet.py) as a function, so that its plan is cached by
-- the server, whichever way it is called. Behind a transaction pooler the service sends
-- unnamed statements (no named prepared statement may outlive a transaction), so PostgreSQL
-- parsed and planned this statement on every call; planning it costs several times running
-- it (ammo/README.md, "The read behind a pooler"). A plpgsql function keeps the plans of
-- its statements for the life of the server connection, which carries no client state: the
-- caller's statement is a trivial call either way.
--
-- One statement is one snapshot, so coins, inventory and history always agree. It reads only
-- the running aggregates: one row per item type and per counterparty, whatever the history.
-- PostgreSQL renders the JSON, so the body goes to the client without a Python round-trip.
--
-- The version is the employee row's xmin: the transaction that last wrote it. Everything this
-- view shows changes only together with that row (a purchase debits it, a transfer debits or
-- credits it, in the same transaction), and counterparties' names never change. So a caller
-- that already holds the body for this version (p_known_version) gets a NULL body instead,
-- and the rendering is skipped: the subqueries inside CASE run only when their branch is
-- taken. No row: no such employee.
CREATE FUNCTION wallet_json(p_user_id bigint, p_username text, p_known_version bigint)
RETURNS TABLE (version bigint, body text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT v.version,
           CASE WHEN v.version = p_known_version THEN NULL ELSE json_build_object(
        'coins', u.balance,
        'inventory', COALESCE((
            SELECT json_agg(json_build_object('type', i.item, 'quantity', i.quantity)
                            ORDER BY i.item)
            FROM inventory i WHERE i.user_id = u.id), '[]'),
        'coinHistory', json_build_object(
            'received', COALESCE((
                SELECT json_agg(json_build_object('fromUser', s.username, 'amount', t.amount)
                                ORDER BY s.username)
                FROM transfer_totals t JOIN users s ON s.id = t.sender_id
                WHERE t.receiver_id = u.id), '[]'),
            'sent', COALESCE((
                SELECT json_agg(json_build_object('toUser', r.username, 'amount', t.amount)
                                ORDER BY r.username)
                FROM transfer_totals t JOIN users r ON r.id = t.receiver_id
                WHERE t.sender_id = u.id), '[]')
        )
    )::text END
    FROM users u, LATERAL (SELECT u.xmin::text::bigint AS version) v
    WHERE u.id = p_user_id AND u.username = p_username;
END
$$;
