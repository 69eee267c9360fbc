-- depends: 0003_aggregates
-- Wrong passwords per username, shared by every worker and kept across restarts, so a
-- guesser is locked out of one account without slowing anyone else's login. Keyed by the
-- name (no foreign key): removing an employee must not be blocked by their failed logins.
CREATE TABLE login_failures (
    username     text        PRIMARY KEY,
    failures     integer     NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz,
    CONSTRAINT login_failures_failures_positive CHECK (failures > 0)
);
