-- The import's work queue (issue #25, national scale): a claim takes the few items due first.
-- The index on (status, next_attempt_at) cannot give that order across the two statuses still
-- to do, so every claim sorted the whole queue (10,000 items for a big import, claimed
-- thousands of times). This one holds only the items still to do, in the claim's order, and
-- replaces it (no other statement read it).
DROP INDEX io_import_items_due;
CREATE INDEX io_import_items_claim ON io_import_items (next_attempt_at, id)
    WHERE status IN ('initial', 'processing');
