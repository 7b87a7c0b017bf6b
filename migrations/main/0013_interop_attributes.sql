-- Interoperability attributes: who may use an e-service. Certified ones come from a registry
-- (origin IPA, or a certifier's origin) and are unique by (origin, code); declared and
-- verified ones are created by institutions, with a name unique among them (any case).
CREATE TABLE interop_attributes (
    id          TEXT PRIMARY KEY NOT NULL,
    env         TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('CERTIFIED', 'DECLARED', 'VERIFIED')),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,   -- trimmed, lower-case
    description TEXT NOT NULL,
    origin      TEXT,            -- certified only
    code        TEXT,            -- certified only: unique in its origin
    created_by  TEXT,            -- declared and verified: the institution that created it
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX interop_attributes_code ON interop_attributes (env, origin, code)
    WHERE kind = 'CERTIFIED';
CREATE UNIQUE INDEX interop_attributes_name ON interop_attributes (env, name_key)
    WHERE kind <> 'CERTIFIED';
CREATE INDEX interop_attributes_search ON interop_attributes (env, kind, name_key);

-- The certified and declared attributes an institution holds; revoking keeps the row (with
-- the time), as the real platform keeps the entry.
CREATE TABLE interop_tenant_attributes (
    env            TEXT NOT NULL,
    institution_id TEXT NOT NULL,
    attribute_id   TEXT NOT NULL REFERENCES interop_attributes (id),
    assigned_at    BIGINT NOT NULL,
    revoked_at     BIGINT,
    PRIMARY KEY (env, institution_id, attribute_id)
);
CREATE INDEX interop_tenant_attributes_attribute ON interop_tenant_attributes (attribute_id);

-- A producer's verification of an institution's attribute: it counts for that producer only,
-- until it expires or the producer revokes it. `expiry_applied` marks an expiry whose
-- consequences (agreements recomputed) have been drawn.
CREATE TABLE interop_verifications (
    env            TEXT NOT NULL,
    institution_id TEXT NOT NULL,
    attribute_id   TEXT NOT NULL REFERENCES interop_attributes (id),
    verifier_id    TEXT NOT NULL,
    agreement_id   TEXT NOT NULL,
    verified_at    BIGINT NOT NULL,
    expires_at     BIGINT,
    revoked_at     BIGINT,
    expiry_applied BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (env, institution_id, attribute_id, verifier_id)
);
CREATE INDEX interop_verifications_expiry ON interop_verifications (expiry_applied, expires_at);

-- Institutions with the certifier feature, each for its own origin (granted by platform
-- operators).
CREATE TABLE interop_certifiers (
    env            TEXT NOT NULL,
    institution_id TEXT NOT NULL,
    origin         TEXT NOT NULL,
    granted_at     BIGINT NOT NULL,
    PRIMARY KEY (env, institution_id),
    UNIQUE (env, origin)
);

-- The IPA registry as last imported: national, both environments read it (an institution
-- entering for the first time gets its certified attributes from here).
CREATE TABLE interop_ipa (
    fiscal_code TEXT PRIMARY KEY NOT NULL,
    ipa_code    TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    category    TEXT NOT NULL,
    typology    TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('PA', 'GSP')),
    imported_at BIGINT NOT NULL
);

-- The institution's contact email (CONTACT_EMAIL), needed to submit a request.
ALTER TABLE interop_institutions ADD COLUMN contact_email TEXT;

-- What a version requires: {"certified": [[{id, ...}]], "declared": [...], "verified": [...]}.
ALTER TABLE interop_descriptors ADD COLUMN attributes TEXT NOT NULL
    DEFAULT '{"certified":[],"declared":[],"verified":[]}';

-- Set by the platform while the consumer's attributes do not hold.
ALTER TABLE interop_agreements ADD COLUMN suspended_by_platform BIGINT NOT NULL DEFAULT 0;
