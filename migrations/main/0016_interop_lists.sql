-- Interoperability at national scale: every list is paged with an index behind it.

-- The catalogue's e-services: those with a PUBLISHED version, kept by the store in the
-- transaction that changes a version's state (1 | 0), so that the catalogue reads an index
-- range instead of every e-service.
ALTER TABLE interop_eservices ADD COLUMN in_catalogue BIGINT NOT NULL DEFAULT 0;
UPDATE interop_eservices SET in_catalogue = 1 WHERE EXISTS (
    SELECT 1 FROM interop_descriptors d
    WHERE d.eservice_id = interop_eservices.id AND d.state = 'PUBLISHED'
);
CREATE INDEX interop_eservices_catalogue ON interop_eservices (env, in_catalogue, name_key, id);

-- The words of each e-service's name, for the catalogue's search by the prefix of any word
-- (`word >= 'anag' AND word < 'anah'`). A word is a run of a-z and 0-9 after lower-casing and
-- folding the accented vowels of Italian (à á è é ì í ò ó ù ú); any other character separates
-- words. Written by the store in the transaction that creates or renames the e-service.
CREATE TABLE interop_eservice_words (
    env         TEXT NOT NULL,
    word        TEXT NOT NULL,
    eservice_id TEXT NOT NULL REFERENCES interop_eservices (id) ON DELETE CASCADE,
    PRIMARY KEY (env, word, eservice_id)
);
CREATE INDEX interop_eservice_words_eservice ON interop_eservice_words (eservice_id);

-- The words of the e-services already there: the name folded as above, then read a character
-- at a time; a word ends where a character outside a-z, 0-9 (or the name) does.
WITH RECURSIVE folded (env, id, name) AS (
    SELECT env, id,
        replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
            lower(name),
            'à', 'a'), 'á', 'a'), 'À', 'a'), 'Á', 'a'),
            'è', 'e'), 'é', 'e'), 'È', 'e'), 'É', 'e'),
            'ì', 'i'), 'í', 'i'), 'Ì', 'i'), 'Í', 'i'),
            'ò', 'o'), 'ó', 'o'), 'Ò', 'o'), 'Ó', 'o'),
            'ù', 'u'), 'ú', 'u'), 'Ù', 'u'), 'Ú', 'u')
    FROM interop_eservices
),
chars (env, id, name, pos, word) AS (
    SELECT env, id, name, 1, CAST('' AS TEXT) FROM folded
    UNION ALL
    SELECT env, id, name, pos + 1,
        CASE WHEN substr(name, pos, 1) IN ('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j',
            'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z',
            '0', '1', '2', '3', '4', '5', '6', '7', '8', '9')
        THEN word || substr(name, pos, 1) ELSE CAST('' AS TEXT) END
    FROM chars WHERE pos <= length(name)
)
INSERT INTO interop_eservice_words (env, word, eservice_id)
SELECT DISTINCT env, word, id FROM chars
WHERE word <> '' AND (pos > length(name) OR substr(name, pos, 1) NOT IN ('a', 'b', 'c', 'd',
    'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v',
    'w', 'x', 'y', 'z', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'));

-- Agreements and purposes, newest first on each side.
CREATE INDEX interop_agreements_consumer_updated
    ON interop_agreements (env, consumer_id, updated_at, id);
CREATE INDEX interop_agreements_producer_updated
    ON interop_agreements (env, producer_id, updated_at, id);
CREATE INDEX interop_purposes_consumer_updated
    ON interop_purposes (env, consumer_id, updated_at, id);
CREATE INDEX interop_purposes_producer_updated
    ON interop_purposes (env, producer_id, updated_at, id);

-- Clients, newest first; a client's keys, oldest first; the institution's people, by name.
CREATE INDEX interop_clients_consumer_page ON interop_clients (env, consumer_id, created_at, id);
CREATE INDEX interop_client_keys_page ON interop_client_keys (client_id, created_at, kid);
CREATE INDEX interop_people_by_name
    ON interop_people (env, institution_id, family_name, name, user_id);

-- The attributes' registry without a kind chosen, by name.
CREATE INDEX interop_attributes_by_name ON interop_attributes (env, name_key, id);
