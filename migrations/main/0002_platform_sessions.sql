-- Server-side sessions of the Reserved Area. The cookie holds a random secret; only its hash is
-- stored. `sid` is the public id that identity tokens and revocations carry.
CREATE TABLE sessions (
    sid          TEXT PRIMARY KEY NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL,
    fiscal_code  TEXT NOT NULL,
    name         TEXT NOT NULL,
    family_name  TEXT NOT NULL,
    spid_level   TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,   -- absolute expiry
    ended_at     BIGINT             -- logout
);
CREATE INDEX sessions_user ON sessions (user_id);

-- What ends back-office sessions early: a logout (by sid), a role suspended or removed (by user,
-- institution and product). Back-offices check it on every request with one indexed read.
CREATE TABLE revocations (
    id             TEXT PRIMARY KEY NOT NULL,
    sid            TEXT,
    user_id        TEXT,
    institution_id TEXT,
    product_id     TEXT,
    reason         TEXT NOT NULL,
    at             BIGINT NOT NULL
);
CREATE INDEX revocations_sid ON revocations (sid);
CREATE INDEX revocations_scope ON revocations (user_id, institution_id, product_id, at);

-- Identity-token ids already accepted, kept until the token expires: a token opens one
-- back-office session, across every instance.
CREATE TABLE used_jtis (
    jti        TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX used_jtis_expires ON used_jtis (expires_at);
