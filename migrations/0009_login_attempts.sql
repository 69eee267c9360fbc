-- depends: 0008_username_skeleton
-- Login throttling that bounds guessing whatever the concurrency and that a stranger cannot
-- use to keep the owner out (issue 9; the numbers are in docs/security.md).
--
-- One row per (username, client address) and one per username (client = ''). A login
-- attempt for an existing name is charged *before* bcrypt runs, by login_reserve(): it is
-- counted as a failure up front, in one call that locks the two rows (name row first, so
-- concurrent calls cannot deadlock), so any number of simultaneous guesses from one address
-- get at most `max_failures` verifications, across all workers. A right password refunds
-- the charge (login_settle 'success'); so does an attempt that never got to bcrypt
-- ('cancelled'); a wrong one needs no second call. A worker that dies in between leaves a
-- failure on record, which is the safe side.
--
-- Per address: `max_failures` attempts, then exponential backoff (base, 2 base, 4 base, ...,
-- capped) between attempts; the failures are forgotten after `quiet` seconds without one.
-- Per name: at most `name_max` charged attempts per `name_window` from addresses that have
-- never logged in to this name; an address the owner has logged in from is not subject to
-- that ceiling, so guessing from elsewhere never delays the owner there.
CREATE TABLE login_attempts (
    username      text        NOT NULL,
    client        text        NOT NULL,
    failures      integer     NOT NULL DEFAULT 0,
    window_start  timestamptz NOT NULL DEFAULT now(),
    last_attempt  timestamptz NOT NULL DEFAULT now(),
    blocked_until timestamptz,
    last_success  timestamptz,
    PRIMARY KEY (username, client),
    CONSTRAINT login_attempts_failures_non_negative CHECK (failures >= 0)
);

-- Returns retry_after = 0 when the attempt is reserved (and charged), else the seconds to
-- wait; name_charged says whether the name-wide count was charged too (so a refund knows).
CREATE FUNCTION login_reserve(
    p_username     text,
    p_client       text,
    p_max          integer,
    p_quiet        double precision,
    p_backoff_base double precision,
    p_backoff_max  double precision,
    p_name_max     integer,
    p_name_window  double precision,
    OUT retry_after  bigint,
    OUT name_charged boolean
)
LANGUAGE plpgsql AS $$
DECLARE
    n login_attempts%ROWTYPE;
    c login_attempts%ROWTYPE;
    known boolean;
BEGIN
    name_charged := false;
    INSERT INTO login_attempts (username, client) VALUES (p_username, '')
    ON CONFLICT DO NOTHING;
    SELECT * INTO n FROM login_attempts WHERE username = p_username AND client = '' FOR UPDATE;
    INSERT INTO login_attempts (username, client) VALUES (p_username, p_client)
    ON CONFLICT DO NOTHING;
    SELECT * INTO c FROM login_attempts
    WHERE username = p_username AND client = p_client FOR UPDATE;

    IF c.blocked_until > now() THEN
        retry_after := greatest(1, ceil(extract(epoch FROM c.blocked_until - now())));
        RETURN;
    END IF;
    IF c.last_attempt + make_interval(secs => p_quiet) <= now() THEN
        c.failures := 0;  -- quiet for long enough: start afresh
    END IF;
    IF n.window_start + make_interval(secs => p_name_window) <= now() THEN
        n.failures := 0;
        n.window_start := now();
    END IF;
    known := c.last_success IS NOT NULL;
    IF NOT known AND n.failures >= p_name_max THEN
        retry_after := greatest(1, ceil(extract(epoch FROM
            n.window_start + make_interval(secs => p_name_window) - now())));
        RETURN;
    END IF;

    c.failures := c.failures + 1;
    c.blocked_until := CASE WHEN c.failures >= p_max THEN now() + make_interval(secs =>
        least(p_backoff_max, p_backoff_base * power(2, least(c.failures - p_max, 30))))
    END;
    UPDATE login_attempts
    SET failures = c.failures, blocked_until = c.blocked_until, last_attempt = now()
    WHERE username = p_username AND client = p_client;
    IF NOT known THEN
        UPDATE login_attempts SET failures = n.failures + 1, window_start = n.window_start
        WHERE username = p_username AND client = '';
        name_charged := true;
    END IF;
    retry_after := 0;
END
$$;

-- Settles a reserved attempt that was not a wrong password: 'success' clears the address's
-- record and remembers it as one the owner uses; 'cancelled' (bcrypt never ran) takes the
-- charge back. Both refund the name-wide charge.
CREATE FUNCTION login_settle(
    p_username     text,
    p_client       text,
    p_outcome      text,
    p_name_charged boolean,
    p_max          integer
) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_name_charged THEN
        UPDATE login_attempts SET failures = greatest(failures - 1, 0)
        WHERE username = p_username AND client = '';
    END IF;
    IF p_outcome = 'success' THEN  -- also after a registration, which reserves nothing
        INSERT INTO login_attempts AS a (username, client, last_success)
        VALUES (p_username, p_client, now())
        ON CONFLICT (username, client) DO UPDATE
        SET failures = 0, blocked_until = NULL, last_success = now();
    ELSE
        UPDATE login_attempts
        SET failures = greatest(failures - 1, 0),
            blocked_until = CASE WHEN failures - 1 >= p_max THEN blocked_until END
        WHERE username = p_username AND client = p_client;
    END IF;
END
$$;

-- The per-name lock-out it replaces (0004) was what let a stranger keep the owner out.
DROP TABLE login_failures;
