-- depends: 0013_idempotency_keys
-- Tokens that mean one person in one deployment (issue 19, item 4).
--
-- The deployment's id, made once here and kept with the database: every token this
-- deployment issues names it as `iss` and `aud` (shop/auth/tokens.py), so a token of another
-- deployment is refused even when both were given the same JWT_SECRET. A copy of the
-- database (a restored backup) keeps the id, and its tokens, which is what a restore means.
-- One row into a small table: nothing existing is rewritten or locked for long.
INSERT INTO app_secrets (name, value)
VALUES ('deployment_id', gen_random_uuid()::text)
ON CONFLICT (name) DO NOTHING;
