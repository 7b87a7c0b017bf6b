-- Interoperability: every row belongs to one environment (`env`: produzione | collaudo), and
-- nothing of one environment is ever read by the other.

-- The people who entered an environment for an institution, with the roles of their latest
-- entry (clients' members are chosen among them).
CREATE TABLE interop_people (
    env            TEXT NOT NULL CHECK (env IN ('produzione', 'collaudo')),
    institution_id TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    name           TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    roles          TEXT NOT NULL,          -- comma-separated: admin, api, security
    entered_at     BIGINT NOT NULL,
    PRIMARY KEY (env, institution_id, user_id)
);

-- The institutions seen in an environment (producers and consumers), as their tokens name them.
CREATE TABLE interop_institutions (
    env         TEXT NOT NULL,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    fiscal_code TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (env, id)
);

CREATE TABLE interop_eservices (
    id          TEXT PRIMARY KEY NOT NULL,
    env         TEXT NOT NULL,
    producer_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,             -- trimmed, lower-case: one name per producer
    description TEXT NOT NULL,
    technology  TEXT NOT NULL CHECK (technology IN ('REST', 'SOAP')),
    mode        TEXT NOT NULL CHECK (mode IN ('RECEIVE', 'DELIVER')),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (env, producer_id, name_key)
);
CREATE INDEX interop_eservices_name ON interop_eservices (env, name_key);

CREATE TABLE interop_descriptors (
    id                          TEXT PRIMARY KEY NOT NULL,
    eservice_id                 TEXT NOT NULL REFERENCES interop_eservices (id),
    version                     BIGINT NOT NULL,
    description                 TEXT,
    state                       TEXT NOT NULL
                                CHECK (state IN ('DRAFT', 'PUBLISHED', 'SUSPENDED', 'DEPRECATED', 'ARCHIVED')),
    audience                    TEXT NOT NULL,   -- JSON array
    voucher_lifespan            BIGINT NOT NULL,
    daily_calls_per_consumer    BIGINT NOT NULL,
    daily_calls_total           BIGINT NOT NULL,
    agreement_approval_policy   TEXT NOT NULL CHECK (agreement_approval_policy IN ('AUTOMATIC', 'MANUAL')),
    server_urls                 TEXT NOT NULL,   -- JSON array
    created_at                  BIGINT NOT NULL,
    published_at                BIGINT,
    suspended_at                BIGINT,
    deprecated_at               BIGINT,
    archived_at                 BIGINT,
    UNIQUE (eservice_id, version)
);

CREATE TABLE interop_agreements (
    id                    TEXT PRIMARY KEY NOT NULL,
    env                   TEXT NOT NULL,
    eservice_id           TEXT NOT NULL REFERENCES interop_eservices (id),
    descriptor_id         TEXT NOT NULL REFERENCES interop_descriptors (id),
    producer_id           TEXT NOT NULL,
    consumer_id           TEXT NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('DRAFT', 'PENDING', 'ACTIVE', 'SUSPENDED',
                          'ARCHIVED', 'REJECTED', 'MISSING_CERTIFIED_ATTRIBUTES')),
    suspended_by_consumer BIGINT NOT NULL DEFAULT 0,
    suspended_by_producer BIGINT NOT NULL DEFAULT 0,
    consumer_notes        TEXT,
    rejection_reason      TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    submitted_at          BIGINT,
    activated_at          BIGINT,
    suspended_at          BIGINT,
    archived_at           BIGINT
);
CREATE INDEX interop_agreements_consumer ON interop_agreements (env, consumer_id, eservice_id);
CREATE INDEX interop_agreements_producer ON interop_agreements (env, producer_id, state);
CREATE INDEX interop_agreements_descriptor ON interop_agreements (descriptor_id, state);

CREATE TABLE interop_purposes (
    id                    TEXT PRIMARY KEY NOT NULL,
    env                   TEXT NOT NULL,
    eservice_id           TEXT NOT NULL REFERENCES interop_eservices (id),
    consumer_id           TEXT NOT NULL,
    producer_id           TEXT NOT NULL,
    title                 TEXT NOT NULL,
    title_key             TEXT NOT NULL,
    description           TEXT NOT NULL,
    risk_analysis         TEXT,            -- JSON: the form's version and the answers
    is_free_of_charge     BIGINT NOT NULL,
    free_of_charge_reason TEXT,
    suspended_by_consumer BIGINT NOT NULL DEFAULT 0,
    suspended_by_producer BIGINT NOT NULL DEFAULT 0,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    UNIQUE (env, consumer_id, eservice_id, title_key)
);
CREATE INDEX interop_purposes_producer ON interop_purposes (env, producer_id);

CREATE TABLE interop_purpose_versions (
    id                  TEXT PRIMARY KEY NOT NULL,
    purpose_id          TEXT NOT NULL REFERENCES interop_purposes (id),
    state               TEXT NOT NULL CHECK (state IN ('DRAFT', 'ACTIVE', 'SUSPENDED', 'ARCHIVED',
                        'WAITING_FOR_APPROVAL', 'REJECTED')),
    daily_calls         BIGINT NOT NULL,
    rejection_reason    TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    first_activation_at BIGINT,
    suspended_at        BIGINT
);
CREATE INDEX interop_purpose_versions_purpose ON interop_purpose_versions (purpose_id, state);
