//! The institution's audit trail, as its administrators read and export it.

use super::*;

/// One record of the audit trail, with the names of the people it is about.
#[derive(Debug, Clone, FromRow)]
pub struct AuditEntry {
    pub id: String,
    pub at: i64,
    pub action: String,
    pub actor: String,
    /// The actor's name, when the actor is a person of the platform.
    pub actor_name: Option<String>,
    pub target: String,
    /// The target's name, when the target is a person of the platform.
    pub target_name: Option<String>,
    pub details: String,
    pub client_addr: String,
}

/// Which records of an institution's trail to read.
#[derive(Debug, Clone, Default)]
pub struct TrailFilter {
    /// The actions starting with this prefix ("" for all).
    pub kind: String,
    /// The records this person did or was the object of.
    pub person: Option<String>,
    /// From this instant (milliseconds, included).
    pub since: Option<i64>,
    /// Before this instant (milliseconds, excluded).
    pub before: Option<i64>,
}

/// A page of an institution's trail: `$1` the institution, `$2` the action's prefix and `%`,
/// `$3` a person or '', `$4`..`$5` the period, `$6` and `$7` limit and offset.
pub(super) const AUDIT_TRAIL_SQL: &str = "SELECT a.id, a.at, a.action, COALESCE(a.actor, '') AS actor, \
     u.name || ' ' || u.family_name AS actor_name, \
     COALESCE(a.target, '') AS target, t.name || ' ' || t.family_name AS target_name, \
     a.details, COALESCE(a.client_addr, '') AS client_addr \
     FROM audit_log a \
     LEFT JOIN users u ON u.id = a.actor \
     LEFT JOIN users t ON t.id = a.target \
     WHERE a.institution_id = $1 AND a.action LIKE $2 \
     AND ($3 = '' OR a.actor = $3 OR a.target = $3) AND a.at >= $4 AND a.at < $5 \
     ORDER BY a.at DESC, a.id DESC LIMIT $6 OFFSET $7";

/// The institution's trail, newest first: `limit` records of `filter` after skipping `offset`.
/// The index on `(institution_id, at)` gives the order; the filters only thin the walk.
pub async fn audit_trail(
    db: &Db,
    institution_id: &str,
    filter: &TrailFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows = sqlx::query(AUDIT_TRAIL_SQL)
        .bind(institution_id)
        .bind(format!("{}%", filter.kind.replace(['%', '_'], "")))
        .bind(filter.person.as_deref().unwrap_or(""))
        .bind(filter.since.unwrap_or(i64::MIN))
        .bind(filter.before.unwrap_or(i64::MAX))
        .bind(limit)
        .bind(offset)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(AuditEntry::from_row).collect()
}

/// The name of the person `user_id`, if the platform knows them.
pub async fn person_name(db: &Db, user_id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar::<_, String>("SELECT name || ' ' || family_name FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db.reader())
        .await
}
