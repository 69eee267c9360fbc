CREATE TABLE login_failures (
    username     text        PRIMARY KEY,
    failures     integer     NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz,
    CONSTRAINT login_failures_failures_positive CHECK (failures > 0)
);
DROP FUNCTION login_settle(text, text, text, boolean, integer);
DROP FUNCTION login_reserve(
    text, text, integer, double precision, double precision, double precision, integer,
    double precision
);
DROP TABLE login_attempts;
