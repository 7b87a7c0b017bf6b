-- The users list of an institution, paged by an index (issue #25, national scale).
--
-- sort_key: the person's family name, given name and id, each folded to a-z0-9 and separated
-- by '0' (reserved_area::store::member_key); a family-name prefix is a range of it. Rows
-- written before it existed get it at the next start (store::fill_member_keys, which finds
-- them through the partial index below, empty once they are filled).
-- listed: 1 while the person has a role there that is not DELETED (the list shows them), kept
-- by the store in the transaction that changes their roles; the list counts and pages
-- without looking at the roles unless it filters by them.
ALTER TABLE user_institutions ADD COLUMN sort_key TEXT NOT NULL DEFAULT '';
ALTER TABLE user_institutions ADD COLUMN listed BIGINT NOT NULL DEFAULT 0;

-- Everyone with a role is on the list, with no work email when none was recorded.
INSERT INTO user_institutions (user_id, institution_id, email, created_at, updated_at)
SELECT r.user_id, r.institution_id, '', MIN(r.created_at), MIN(r.created_at)
FROM product_roles r
WHERE NOT EXISTS (SELECT 1 FROM user_institutions ui
                  WHERE ui.user_id = r.user_id AND ui.institution_id = r.institution_id)
GROUP BY r.user_id, r.institution_id;

UPDATE user_institutions SET listed = 1 WHERE EXISTS (SELECT 1 FROM product_roles r
    WHERE r.user_id = user_institutions.user_id
      AND r.institution_id = user_institutions.institution_id AND r.status <> 'DELETED');

CREATE INDEX user_institutions_sorted ON user_institutions (institution_id, listed, sort_key);
CREATE INDEX user_institutions_unkeyed ON user_institutions (user_id) WHERE sort_key = '';

-- The activity log's pages, newest first, in the order of this index alone.
DROP INDEX audit_log_institution_at;
CREATE INDEX audit_log_institution_page ON audit_log (institution_id, at, id);
