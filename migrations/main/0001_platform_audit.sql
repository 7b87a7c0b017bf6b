-- The audit trail: who did what, when, for which institution. Append-only.
CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY NOT NULL,
    at             BIGINT NOT NULL,           -- milliseconds since the Unix epoch
    action         TEXT NOT NULL,             -- e.g. system.started, user.role.added
    actor          TEXT,                      -- user id, or NULL for the system
    institution_id TEXT,
    target         TEXT,
    details        TEXT NOT NULL DEFAULT '{}', -- JSON
    client_addr    TEXT
);
CREATE INDEX audit_log_institution_at ON audit_log (institution_id, at);
CREATE INDEX audit_log_action_at ON audit_log (action, at);
