-- The legacy IO Developer Portal's own database (never the main one). Ids are ULIDs, times are
-- milliseconds since the epoch.

-- The people who log into the old portal with email and password.
CREATE TABLE dp_delegates (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,   -- lower-case
    name          TEXT NOT NULL,
    surname       TEXT NOT NULL,
    password_hash TEXT NOT NULL,          -- argon2id, PHC string
    created_at    BIGINT NOT NULL
);

-- A delegate's services. `data` is the service as JSON; `name` and `organization_fiscal_code`
-- are copied out of it for the migration API's queries. The keys stay retrievable, as on the
-- old portal, because the import carries them over unchanged.
CREATE TABLE dp_services (
    id                       TEXT PRIMARY KEY NOT NULL,
    delegate_id              TEXT NOT NULL REFERENCES dp_delegates (id),
    organization_fiscal_code TEXT NOT NULL,
    name                     TEXT NOT NULL,
    data                     TEXT NOT NULL,
    visibility               TEXT NOT NULL
        CHECK (visibility IN ('visible', 'visible_once', 'never_visible')),
    primary_key              TEXT NOT NULL UNIQUE,
    secondary_key            TEXT NOT NULL UNIQUE,
    frozen_at                BIGINT,      -- the import took it: no more changes
    transferred_at           BIGINT,      -- the import finished: gone for the delegate
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL
);
CREATE INDEX dp_services_organization ON dp_services (organization_fiscal_code);
CREATE INDEX dp_services_delegate ON dp_services (delegate_id);

-- Delegates' sessions: only the SHA-256 of the cookie's secret is stored.
CREATE TABLE dp_sessions (
    secret_hash TEXT PRIMARY KEY NOT NULL,
    delegate_id TEXT NOT NULL REFERENCES dp_delegates (id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX dp_sessions_expires ON dp_sessions (expires_at);

-- Failed logins, counted per email and per client address within a window.
CREATE TABLE dp_login_failures (
    id     TEXT PRIMARY KEY NOT NULL,
    email  TEXT NOT NULL,
    client TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX dp_login_failures_email ON dp_login_failures (email, at);
CREATE INDEX dp_login_failures_client ON dp_login_failures (client, at);
