-- depends: 0007_money_bigint
-- One order over the whole ledger, for GET /api/history (newest first, keyset pagination).
--
-- Why a sequence and not created_at: created_at is now(), the start of the writing
-- transaction, and a transaction that started earlier may commit later (it waited for a lock
-- on the way). Ordered by created_at, such a row would appear below rows a client has already
-- paged past, and it would never be shown to that client. Transfers and purchases also have
-- identity sequences of their own, so their ids cannot be compared with each other.
--
-- So every ledger row gets `seq`, drawn from one sequence shared by both tables, by a column
-- DEFAULT: the write procedures need no change. The value is drawn when the row is inserted,
-- and every movement inserts its row only after it has updated (so locked until commit) the
-- users row of each employee it concerns: the debit of the sender or buyer, the credit of the
-- receiver. Two movements of one employee therefore draw their values in the order they
-- commit, and a reader that sees a movement of an employee also sees every earlier-numbered
-- one of that employee. Paging by `seq < cursor` yields each movement exactly once, in order;
-- movements committed meanwhile are newer than the first page and never appear behind it.
-- (Values of rolled-back attempts leave gaps, which keyset pagination does not mind.)
-- A future write path must keep that property: draw `seq` (insert the ledger row) while
-- holding a lock on the employee that is held until commit.
--
-- Rows that exist already are numbered here in created_at order (ties: transfers before
-- purchases, then by id), all below the values new rows will draw. No ledger row is updated
-- (the append-only triggers stay on): each table is rewritten once with the new column, as
-- 0007 rewrote them, the value of each row looked up in the numbering by a function that
-- lives only in this session (ALTER ... TYPE ... USING cannot hold a subquery).
--
-- Locks: both tables are locked ACCESS EXCLUSIVE first and until this migration commits, so
-- no movement can be written between numbering the old rows and the default taking over.
-- Writers wait while it runs, as they did for 0007's rewrite of the same tables; /api/info
-- does not (it reads the aggregates). On a ledger of 990,000 rows it took 3.7 times as long
-- as 0007 (median of 3; 30-41 s against 6-11 s on the shared 2-core machine under heavy
-- load; `python -m ammo.probe_history_migration`): the lookup of each row's place costs more
-- than the rewrite itself, the three index builds about a tenth.
-- The indexes are built inside the same transaction, under the lock already held. CREATE
-- INDEX CONCURRENTLY cannot run inside a transaction block; yoyo can run an SQL migration
-- without one (a `-- transactional: false` header), but then each statement commits on its
-- own, a failure halfway leaves the ledger half-migrated for yoyo to undo statement by
-- statement, and the numbering must hold the lock anyway: building concurrently would only
-- shorten a lock the rewrite already holds, at the price of that.
--
-- The indexes serve the three branches of the history query (sent, received, purchases),
-- each read backwards from the cursor and stopped after one page: a page reads the same
-- number of index entries whatever the length of the history. They start with the columns
-- of the old single-column indexes, which they replace, so a write maintains as many
-- indexes as before.
LOCK TABLE transfers, purchases IN ACCESS EXCLUSIVE MODE;

-- The old indexes go first, so the rewrites below do not rebuild them.
DROP INDEX transfers_sender_id_idx;
DROP INDEX transfers_receiver_id_idx;
DROP INDEX purchases_user_id_idx;
SET LOCAL maintenance_work_mem = '256MB';

CREATE TEMPORARY TABLE ledger_order (
    source smallint NOT NULL,
    id     bigint   NOT NULL,
    seq    bigint   NOT NULL,
    PRIMARY KEY (source, id)
) ON COMMIT DROP;
INSERT INTO ledger_order (source, id, seq)
SELECT source, id, row_number() OVER (ORDER BY created_at, source, id)
FROM (SELECT 0 AS source, id, created_at FROM transfers
      UNION ALL
      SELECT 1 AS source, id, created_at FROM purchases) ledger;
ANALYZE ledger_order;

CREATE FUNCTION pg_temp.ledger_position(p_source smallint, p_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT o.seq FROM pg_temp.ledger_order o WHERE o.source = p_source AND o.id = p_id
$$;

CREATE SEQUENCE ledger_seq AS bigint;
DO $$
BEGIN
    IF EXISTS (SELECT FROM ledger_order) THEN  -- new rows draw above every numbered one
        PERFORM setval('ledger_seq', (SELECT max(seq) FROM ledger_order));
    END IF;
END
$$;

ALTER TABLE transfers ADD COLUMN seq bigint;
ALTER TABLE transfers
    ALTER COLUMN seq TYPE bigint USING pg_temp.ledger_position(0::smallint, id),
    ALTER COLUMN seq SET DEFAULT nextval('ledger_seq'),
    ALTER COLUMN seq SET NOT NULL;
ALTER TABLE purchases ADD COLUMN seq bigint;
ALTER TABLE purchases
    ALTER COLUMN seq TYPE bigint USING pg_temp.ledger_position(1::smallint, id),
    ALTER COLUMN seq SET DEFAULT nextval('ledger_seq'),
    ALTER COLUMN seq SET NOT NULL;
DROP FUNCTION pg_temp.ledger_position(smallint, bigint);

CREATE INDEX transfers_sender_id_seq_idx ON transfers (sender_id, seq);
CREATE INDEX transfers_receiver_id_seq_idx ON transfers (receiver_id, seq);
CREATE INDEX purchases_user_id_seq_idx ON purchases (user_id, seq);
