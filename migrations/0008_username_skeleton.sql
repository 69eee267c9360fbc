-- depends: 0007_money_bigint
-- One name, one look (issue 9). Each employee's name gets its confusable skeleton (Unicode
-- TR39, case-folded), computed in Python by shop/auth/usernames.py: `shop migrate` fills it
-- for existing rows right after this file, and every registration stores it.
--
-- The index is not unique, on purpose: names registered before this migration may already
-- share a skeleton (`alice` and `Alice`), and both must keep logging in, so a unique index
-- could not be built over them. Instead a registration takes a transaction-scoped advisory
-- lock on the hash of its skeleton, checks that no other name has that skeleton, and inserts;
-- two registrations of look-alike names therefore take turns, and only the first gets in.
ALTER TABLE users ADD COLUMN username_skeleton text;
CREATE INDEX users_username_skeleton ON users (username_skeleton);

-- The optional employee directory (EMPLOYEE_DIRECTORY=database): when in use, only names
-- listed here may register. Loaded by `shop employees import FILE`.
CREATE TABLE employee_directory (
    username text PRIMARY KEY,
    CONSTRAINT employee_directory_username_length CHECK (char_length(username) BETWEEN 1 AND 64)
);
