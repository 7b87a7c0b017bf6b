-- The IO back-office: institutions as their identity tokens describe them, services with their
-- lifecycle and publication, the history of every change, key pairs (subscriptions) and keys.
CREATE TABLE io_institutions (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    fiscal_code TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE io_services (
    id                 TEXT PRIMARY KEY NOT NULL,  -- a ULID, or the legacy portal's id
    institution_id     TEXT NOT NULL REFERENCES io_institutions (id),
    version            BIGINT NOT NULL,
    status             TEXT NOT NULL
                       CHECK (status IN ('draft', 'submitted', 'approved', 'rejected', 'deleted')),
    status_reason      TEXT,
    auto_publish       BIGINT NOT NULL DEFAULT 0,   -- asked at the last submission
    data               TEXT NOT NULL,               -- the service document, JSON
    approved_data      TEXT,                        -- the last approved document
    approved_version   BIGINT,
    review_comment     TEXT,                        -- the institution's note to the reviewer
    publication        TEXT CHECK (publication IN ('published', 'unpublished')),
    published_data     TEXT,
    published_version  BIGINT,
    published_name_key TEXT,                        -- for the duplicate-name check
    published_at       BIGINT,
    source             TEXT,                        -- where an imported service came from
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    submitted_at       BIGINT
);
CREATE INDEX io_services_institution ON io_services (institution_id, updated_at);
CREATE INDEX io_services_queue ON io_services (status, submitted_at);
CREATE INDEX io_services_names ON io_services (institution_id, published_name_key);

CREATE TABLE io_service_history (
    id         BIGSERIAL PRIMARY KEY,
    service_id TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('lifecycle', 'publication')),
    status     TEXT NOT NULL,
    reason     TEXT,
    version    BIGINT NOT NULL,
    data       TEXT NOT NULL,
    actor      TEXT,
    at         BIGINT NOT NULL
);
CREATE INDEX io_service_history_service ON io_service_history (service_id, id);

CREATE TABLE io_service_logos (
    service_id TEXT PRIMARY KEY NOT NULL,
    png_base64 TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A key pair: the institution's root manage pair (`MANAGE-<institution>`) or a service's.
CREATE TABLE io_subscriptions (
    id             TEXT PRIMARY KEY NOT NULL,
    institution_id TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('MANAGE_ROOT', 'SERVICE')),
    cidrs          TEXT NOT NULL DEFAULT '[]',  -- manage pairs' allow-list, JSON
    created_at     BIGINT NOT NULL
);
CREATE INDEX io_subscriptions_institution ON io_subscriptions (institution_id, kind);

CREATE TABLE io_api_keys (
    subscription_id TEXT NOT NULL,
    key_type        TEXT NOT NULL CHECK (key_type IN ('primary', 'secondary')),
    key_hash        TEXT NOT NULL UNIQUE,          -- SHA-256 of the key: the lookup
    master_key_id   TEXT NOT NULL,
    sealed          TEXT NOT NULL,                 -- AES-256-GCM under that master key
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, key_type)
);
