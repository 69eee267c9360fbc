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
-- purchases, then by id), all below the values new rows will draw. Numbering them is an
-- UPDATE, so the append-only triggers are switched off for this transaction only.
--
-- Locks: ADD COLUMN takes ACCESS EXCLUSIVE on both tables until this migration commits, so
-- no movement can commit with a value that the numbering of old rows has to fit around.
-- Writers (and history readers) wait while it runs, as they did for 0007's rewrite; readers
-- of /api/info do not (it reads the aggregates). The indexes are built inside the same
-- transaction, under the lock already held. CREATE INDEX CONCURRENTLY cannot run inside a
-- transaction block; yoyo could run a separate SQL migration without one (its
-- `-- transactional: false` header), but the numbering above must be atomic and must hold
-- the lock, so a concurrent build would only shorten a lock that the UPDATE of every ledger
-- row already holds for about as long.
--
-- The indexes serve the three branches of the history query (sent, received, purchases),
-- each read backwards from the cursor and stopped after one page: a page reads the same
-- number of index entries whatever the length of the history. They start with the columns
-- of the old single-column indexes, which they replace, so a write maintains as many
-- indexes as before.
CREATE SEQUENCE ledger_seq AS bigint;

ALTER TABLE transfers ADD COLUMN seq bigint;
ALTER TABLE purchases ADD COLUMN seq bigint;

ALTER TABLE transfers DISABLE TRIGGER transfers_append_only;
ALTER TABLE purchases DISABLE TRIGGER purchases_append_only;

DO $$
DECLARE
    numbered_rows bigint;
BEGIN
    CREATE TEMPORARY TABLE ledger_order ON COMMIT DROP AS
    SELECT source, id, row_number() OVER (ORDER BY created_at, source, id) AS seq
    FROM (SELECT 0 AS source, id, created_at FROM transfers
          UNION ALL
          SELECT 1 AS source, id, created_at FROM purchases) ledger;
    UPDATE transfers t SET seq = o.seq FROM ledger_order o WHERE o.source = 0 AND o.id = t.id;
    UPDATE purchases p SET seq = o.seq FROM ledger_order o WHERE o.source = 1 AND o.id = p.id;
    SELECT count(*) INTO numbered_rows FROM ledger_order;
    IF numbered_rows > 0 THEN
        PERFORM setval('ledger_seq', numbered_rows);  -- the next value drawn is above them all
    END IF;
END
$$;

ALTER TABLE transfers ENABLE TRIGGER transfers_append_only;
ALTER TABLE purchases ENABLE TRIGGER purchases_append_only;

ALTER TABLE transfers
    ALTER COLUMN seq SET DEFAULT nextval('ledger_seq'),
    ALTER COLUMN seq SET NOT NULL;
ALTER TABLE purchases
    ALTER COLUMN seq SET DEFAULT nextval('ledger_seq'),
    ALTER COLUMN seq SET NOT NULL;

CREATE INDEX transfers_sender_id_seq_idx ON transfers (sender_id, seq);
CREATE INDEX transfers_receiver_id_seq_idx ON transfers (receiver_id, seq);
CREATE INDEX purchases_user_id_seq_idx ON purchases (user_id, seq);

DROP INDEX transfers_sender_id_idx;
DROP INDEX transfers_receiver_id_idx;
DROP INDEX purchases_user_id_idx;
