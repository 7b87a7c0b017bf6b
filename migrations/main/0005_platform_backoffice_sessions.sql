-- Sessions of the product back-offices (IO, Interoperabilità), opened by an identity token.
-- They never outlive the Reserved Area session (`expires_at` = the token's `desired_exp`) and
-- end with its revocations.
CREATE TABLE backoffice_sessions (
    secret_hash    TEXT PRIMARY KEY NOT NULL,
    back_office    TEXT NOT NULL,      -- e.g. io, interop-collaudo
    sid            TEXT NOT NULL,      -- the Reserved Area session
    user_id        TEXT NOT NULL,
    institution_id TEXT,               -- NULL for platform operators
    product_id     TEXT NOT NULL,
    claims         TEXT NOT NULL,      -- the identity token's claims, JSON
    csrf           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX backoffice_sessions_expires ON backoffice_sessions (expires_at);
