-- Employees and their balances. The balance is a cached running total of the ledger
-- (0002); `shop audit` proves the two agree.
CREATE TABLE users (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text        NOT NULL,
    password_hash text        NOT NULL,
    balance       integer     NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_username_length CHECK (char_length(username) BETWEEN 1 AND 64),
    CONSTRAINT users_balance_non_negative CHECK (balance >= 0)
);

-- Per-deployment settings generated on first start, such as the default JWT secret that
-- every worker and every restart must share.
CREATE TABLE app_secrets (
    name  text PRIMARY KEY,
    value text NOT NULL CHECK (length(value) >= 32)
);
