-- The search by name of an institution's IO services (issue #25, national scale).
--
-- search_key: the service's name (its current data) folded to a-z0-9
-- (platform::search::fold), written with the data; the list's search is a substring of it,
-- read along the index of the institution's services. Rows written before it existed get it
-- at the next start (io_backoffice::store::fill_search_keys, through the partial index below,
-- empty once they are filled).
ALTER TABLE io_services ADD COLUMN search_key TEXT NOT NULL DEFAULT '';
CREATE INDEX io_services_unsearchable ON io_services (id) WHERE search_key = '';

-- The list reads its page's ids and counts its total from this index alone (the search key and
-- the status are in it), newest first; the rows are read for the page only.
DROP INDEX io_services_institution;
CREATE INDEX io_services_listed ON io_services (institution_id, updated_at, id, status, search_key);

-- The review queue's pages, oldest submission first, in the order of this index alone.
DROP INDEX io_services_queue;
CREATE INDEX io_services_queue_page ON io_services (status, submitted_at, id);
