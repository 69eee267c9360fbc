-- depends: 0015_roles
-- Grants (issue 16): coins a treasurer gives, to named employees or to everyone. New tables
-- and a function only: nothing existing is rewritten or locked.
--
-- grant_credits has one row per employee credited by a grant, and its primary key is what
-- makes a grant exactly once: a credit is inserted with ON CONFLICT DO NOTHING, and the
-- balance is raised for exactly the rows that insert returned, in the same transaction. A
-- worker killed mid-batch rolls back both; the next batch finds the credits already made.
-- A credit is a ledger row like a transfer (append-only, numbered from ledger_seq while the
-- employee's users row is locked, as migration 0010 requires for /api/history's order).
--
-- A grant to all covers the employees that exist when it is accepted: ids up to `up_to`,
-- `recipients` of them. `shop worker` walks them in id order; `next_after` is the last id
-- its last committed batch reached, `granted` how many were credited; `done_at` is set when
-- the walk ends. A named grant is applied in the transaction that accepts it.
CREATE TABLE grants (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    granted_by bigint      NOT NULL REFERENCES users (id),
    amount     bigint      NOT NULL,
    reason     text        NOT NULL,
    to_all     boolean     NOT NULL,
    recipients integer     NOT NULL,
    granted    integer     NOT NULL DEFAULT 0,
    up_to      bigint      NOT NULL DEFAULT 0,
    next_after bigint      NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    done_at    timestamptz,
    CONSTRAINT grants_amount_range CHECK (amount BETWEEN 1 AND 1000000),
    CONSTRAINT grants_reason_length CHECK (char_length(reason) BETWEEN 1 AND 200),
    CONSTRAINT grants_granted_range CHECK (granted BETWEEN 0 AND recipients)
);
CREATE INDEX grants_running_idx ON grants (id) WHERE done_at IS NULL;

CREATE TABLE grant_credits (
    grant_id   bigint      NOT NULL REFERENCES grants (id),
    user_id    bigint      NOT NULL REFERENCES users (id),
    seq        bigint      NOT NULL DEFAULT nextval('ledger_seq'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grant_id, user_id)
);
CREATE INDEX grant_credits_user_id_seq_idx ON grant_credits (user_id, seq);
CREATE TRIGGER grant_credits_append_only BEFORE UPDATE OR DELETE ON grant_credits
    FOR EACH ROW EXECUTE FUNCTION reject_ledger_change();

-- The accounts' advisory locks (the one-bigint form the write procedures use), tried in
-- ascending order, never waited for: when another writer holds one, serialization_failure,
-- and the caller runs its transaction again behind every writer (write_gate EXCLUSIVE).
CREATE FUNCTION lock_accounts_or_retry(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (SELECT bool_and(pg_try_advisory_xact_lock(a))
            FROM (SELECT DISTINCT unnest(p_ids) AS a ORDER BY 1) ids) THEN
        RAISE EXCEPTION 'the accounts are held by another writer'
            USING ERRCODE = 'serialization_failure';
    END IF;
END
$$;
