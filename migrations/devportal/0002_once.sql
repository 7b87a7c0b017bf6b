-- Requests that create something, made safe to repeat: the first request with a key (a form's
-- one-time token, an API's Idempotency-Key) claims it; the answer it got is kept, and a repeat
-- gets that answer instead of creating again. Kept a day.
CREATE TABLE once_requests (
    scope        TEXT NOT NULL,   -- a digest of the caller's credentials and the route
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,   -- a digest of the first request's body
    status       BIGINT,          -- NULL while the first request runs
    location     TEXT,
    content_type TEXT,
    body         TEXT,
    created_at   BIGINT NOT NULL, -- milliseconds since the Unix epoch
    PRIMARY KEY (scope, key)
);
CREATE INDEX once_requests_created ON once_requests (created_at);
