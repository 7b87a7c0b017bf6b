-- DPoP proofs (RFC 9449) seen by the token endpoint: each proof's jti is used once per
-- environment, across instances, for as long as the proof could be accepted (iat + its
-- window); the voucher sweep deletes the rows past `expires_at`.
CREATE TABLE interop_dpop_jtis (
    env        TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,        -- seconds: swept after
    PRIMARY KEY (env, jti)
);
CREATE INDEX interop_dpop_jtis_expires ON interop_dpop_jtis (expires_at);
