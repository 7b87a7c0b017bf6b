-- The interoperability voucher records on SQLite: a file of their own beside the main one
-- (`<main>.vouchers.db`), written by the token endpoint's group commits. On PostgreSQL the
-- same table lives in the main database (migrations/postgres/0010_interop_clients.sql).
-- The same columns and indexes as there. (WITHOUT ROWID was tried: its rows and its indexes'
-- entries, which then carry the 36-character jti, fill pages faster, and a group commit
-- wrote about twice as many WAL frames.)
CREATE TABLE interop_vouchers (
    jti           TEXT PRIMARY KEY NOT NULL,
    env           TEXT NOT NULL,
    kind          TEXT NOT NULL,       -- CONSUMER | API
    client_id     TEXT NOT NULL,
    consumer_id   TEXT NOT NULL,
    purpose_id    TEXT,
    agreement_id  TEXT,
    eservice_id   TEXT,
    descriptor_id TEXT,
    client_kid    TEXT NOT NULL,       -- the client's key that signed the assertion
    signing_kid   TEXT NOT NULL,       -- the environment's key that signed the voucher
    audience      TEXT NOT NULL,
    assertion_jti TEXT NOT NULL,
    issued_at     BIGINT NOT NULL,     -- seconds
    expires_at    BIGINT NOT NULL      -- seconds
);
CREATE INDEX interop_vouchers_issued ON interop_vouchers (issued_at);
CREATE INDEX interop_vouchers_consumer ON interop_vouchers (env, consumer_id, issued_at);
