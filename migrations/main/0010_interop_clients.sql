-- Interoperability: clients, their members, linked purposes and public keys; the vouchers
-- issued by the token endpoint (a high-volume store of its own, swept by retention).

CREATE TABLE interop_clients (
    id          TEXT PRIMARY KEY NOT NULL,
    env         TEXT NOT NULL CHECK (env IN ('produzione', 'collaudo')),
    consumer_id TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('CONSUMER', 'API')),
    name        TEXT NOT NULL,
    description TEXT,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX interop_clients_consumer ON interop_clients (env, consumer_id, created_at);

CREATE TABLE interop_client_members (
    client_id TEXT NOT NULL REFERENCES interop_clients (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    added_at  BIGINT NOT NULL,
    PRIMARY KEY (client_id, user_id)
);

CREATE TABLE interop_client_purposes (
    client_id  TEXT NOT NULL REFERENCES interop_clients (id) ON DELETE CASCADE,
    purpose_id TEXT NOT NULL REFERENCES interop_purposes (id) ON DELETE CASCADE,
    linked_at  BIGINT NOT NULL,
    PRIMARY KEY (client_id, purpose_id)
);
CREATE INDEX interop_client_purposes_purpose ON interop_client_purposes (purpose_id);

-- `kid` is the RFC 7638 thumbprint of the key: unique in the environment.
CREATE TABLE interop_client_keys (
    env        TEXT NOT NULL,
    kid        TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES interop_clients (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    use_       TEXT NOT NULL CHECK (use_ IN ('SIG')),
    alg        TEXT NOT NULL CHECK (alg IN ('RS256')),
    n          TEXT NOT NULL,          -- base64url modulus
    e          TEXT NOT NULL,          -- base64url exponent
    bits       BIGINT NOT NULL,
    pem        TEXT NOT NULL,
    user_id    TEXT NOT NULL,          -- who uploaded it
    created_at BIGINT NOT NULL,
    PRIMARY KEY (env, kid)
);
CREATE INDEX interop_client_keys_client ON interop_client_keys (client_id, created_at);

-- One row per voucher issued, committed before the voucher is returned.
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

-- Client-assertion `jti`s already used (only with `interop.token.jti_replay_check`).
CREATE TABLE interop_assertion_jtis (
    env        TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,        -- seconds: swept after
    PRIMARY KEY (env, client_id, jti)
);
CREATE INDEX interop_assertion_jtis_expires ON interop_assertion_jtis (expires_at);
