-- Logins through an OpenID provider that have left for the provider and not come back yet.
-- The callback finds its flow by `state` and deletes it (one use), on whichever instance it
-- lands; flows older than 10 minutes are refused and purged.
CREATE TABLE oidc_login_flows (
    state         TEXT PRIMARY KEY NOT NULL,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX oidc_login_flows_created ON oidc_login_flows (created_at);
