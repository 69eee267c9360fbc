-- depends: 0005_write_procedures
-- Room on every page for the next version of a row.
--
-- Every transfer and purchase updates employee rows (the balance) and inventory rows (the
-- quantity). On a full page the new version of a row must go to another page, and the
-- update then also inserts into every index of the table; with free space on the page it is
-- a HOT update that touches no index. Pages filled by COPY (a restore, a bulk import) are
-- full, so after one the first updates of most rows were not HOT and cost PostgreSQL more
-- CPU until pruning had made room (measured in ammo/tuning.md). Leaving free space on each
-- page keeps updates HOT from the first one. It applies to pages written from now on.
ALTER TABLE users SET (fillfactor = 90);
ALTER TABLE inventory SET (fillfactor = 90);
