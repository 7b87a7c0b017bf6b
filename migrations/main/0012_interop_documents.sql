-- The producer side of Interoperability: whether an e-service handles personal data (asked
-- before its first publication: 1 yes, 0 no, NULL not said yet), the people's work emails, and
-- the files of its versions: the interface (OpenAPI or WSDL, at most one per version) and other
-- documents. Files live in the database, beside what describes them: one transaction writes
-- both, one backup holds both.
ALTER TABLE interop_eservices ADD COLUMN personal_data BIGINT; -- 1 | 0 | NULL

-- The work email of a person who entered (from the identity token): where a request waiting
-- for the institution, or a decision on its own, is told.
ALTER TABLE interop_people ADD COLUMN email TEXT;

CREATE TABLE interop_documents (
    id            TEXT PRIMARY KEY,
    descriptor_id TEXT NOT NULL REFERENCES interop_descriptors (id),
    kind          TEXT NOT NULL,   -- INTERFACE | DOCUMENT
    name          TEXT NOT NULL,   -- the file's name as uploaded
    pretty_name   TEXT NOT NULL,   -- the name shown to people
    pretty_key    TEXT NOT NULL,   -- pretty_name trimmed and lower-cased: unique in a version
    content_type  TEXT NOT NULL,
    checksum      TEXT NOT NULL,   -- hex SHA-256 of the content: unique in a version
    size          BIGINT NOT NULL,
    content       BYTEA NOT NULL,
    uploaded_by   TEXT NOT NULL,   -- the user id
    uploaded_at   BIGINT NOT NULL,
    UNIQUE (descriptor_id, pretty_key),
    UNIQUE (descriptor_id, checksum)
);
CREATE UNIQUE INDEX interop_documents_one_interface ON interop_documents (descriptor_id)
    WHERE kind = 'INTERFACE';
