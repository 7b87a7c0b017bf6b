-- Institutions ("enti"), their onboardings per product, people and their roles.
CREATE TABLE institutions (
    id               TEXT PRIMARY KEY NOT NULL,
    description      TEXT NOT NULL,
    tax_code         TEXT NOT NULL UNIQUE,
    origin           TEXT NOT NULL,
    origin_id        TEXT NOT NULL,
    institution_type TEXT NOT NULL,
    digital_address  TEXT NOT NULL,
    address          TEXT NOT NULL DEFAULT '',
    zip_code         TEXT NOT NULL DEFAULT '',
    city             TEXT NOT NULL DEFAULT '',
    county           TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE TABLE onboardings (
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    product_id     TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (institution_id, product_id)
);

CREATE TABLE users (
    id          TEXT PRIMARY KEY NOT NULL,
    fiscal_code TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    family_name TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- A person's work email for one institution.
CREATE TABLE user_institutions (
    user_id        TEXT NOT NULL REFERENCES users (id),
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    email          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (user_id, institution_id)
);
CREATE INDEX user_institutions_institution ON user_institutions (institution_id);

CREATE TABLE product_roles (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id),
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    product_id     TEXT NOT NULL,
    party_role     TEXT NOT NULL,
    product_role   TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (user_id, institution_id, product_id, product_role)
);
CREATE INDEX product_roles_institution_product ON product_roles (institution_id, product_id);

CREATE TABLE platform_operators (
    user_id    TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    granted_at BIGINT NOT NULL
);
