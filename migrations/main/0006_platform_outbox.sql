-- The outbox of emails: a row is written in the transaction of the change it tells about, so
-- that an email exists exactly when its change committed; a background worker sends it later.
-- A claim by a worker pushes `next_attempt_at` forward (a lease), so that no other worker
-- takes the row while it is being sent.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,             -- plain text, UTF-8
    status          TEXT NOT NULL DEFAULT 'PENDING'
                    CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
    attempts        BIGINT NOT NULL DEFAULT 0, -- failed sends so far
    next_attempt_at BIGINT NOT NULL,           -- milliseconds since the Unix epoch
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
