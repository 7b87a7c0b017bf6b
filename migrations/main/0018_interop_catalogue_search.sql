-- The catalogue's search reads its matches from the words alone. Each word carries the
-- e-service's name key (the catalogue's order) and whether the e-service is in the catalogue,
-- kept by the store in the transactions that write the name and the versions' states, so that
-- a search reads one range of one index instead of every matching e-service's row.
ALTER TABLE interop_eservice_words ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE interop_eservice_words ADD COLUMN in_catalogue BIGINT NOT NULL DEFAULT 0;
UPDATE interop_eservice_words SET
    name_key = (SELECT e.name_key FROM interop_eservices e
        WHERE e.id = interop_eservice_words.eservice_id),
    in_catalogue = (SELECT e.in_catalogue FROM interop_eservices e
        WHERE e.id = interop_eservice_words.eservice_id);
CREATE INDEX interop_eservice_words_catalogue
    ON interop_eservice_words (env, in_catalogue, word, name_key, eservice_id);
