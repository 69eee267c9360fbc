-- depends: 0013_idempotency_keys
-- Who may operate the shop (issue 16, shared/api/operator.yaml): treasurer (grants, ledger),
-- operator (orders), admin (everything, and the roles themselves). One row per role held.
-- Authority is read from here on every admin request (shop/services/roles.py), never from the
-- token, so a row deleted here stops working at the holder's next request. A new, empty
-- table: nothing existing is rewritten or locked.
--
-- The last admin: a removal of an admin row first locks every admin row (FOR UPDATE, in
-- user_id order), so two removals take turns and the second sees the first one's result.
CREATE TABLE roles (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text        NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role),
    CONSTRAINT roles_known CHECK (role IN ('treasurer', 'operator', 'admin'))
);
CREATE INDEX roles_role_idx ON roles (role, user_id);
