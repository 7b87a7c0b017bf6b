-- The import from the legacy Developer Portal: one row per delegate whose import an
-- administrator asked for (per institution), one durable item per service to bring over.
CREATE TABLE io_import_delegates (
    institution_id TEXT NOT NULL,
    delegate_id    TEXT NOT NULL,
    name           TEXT NOT NULL,
    surname        TEXT NOT NULL,
    email          TEXT NOT NULL,
    requested_by   TEXT NOT NULL,
    requested_at   BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (institution_id, delegate_id)
);
CREATE INDEX io_import_delegates_latest ON io_import_delegates (institution_id, updated_at);

-- status: initial (waiting), processing (claimed, or waiting for a retry), completed, failed.
-- A worker claims an item by setting `lease_until`; a crashed worker's lease runs out and the
-- item is claimed again. Every step is idempotent, so a second run changes nothing.
CREATE TABLE io_import_items (
    id              TEXT PRIMARY KEY NOT NULL,
    institution_id  TEXT NOT NULL,
    fiscal_code     TEXT NOT NULL,
    delegate_id     TEXT NOT NULL,
    service_id      TEXT NOT NULL,
    service_name    TEXT NOT NULL,
    status          TEXT NOT NULL
                    CHECK (status IN ('initial', 'processing', 'completed', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    claimed_by      TEXT,                       -- the instance that ran it last
    error           TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (institution_id, service_id)
);
CREATE INDEX io_import_items_due ON io_import_items (status, next_attempt_at);
CREATE INDEX io_import_items_delegate ON io_import_items (institution_id, delegate_id, status);
