//! The institution's audit trail, as its administrators read it.

use super::*;

/// One record of the audit trail, as the admins' page shows it.
#[derive(Debug, Clone, FromRow)]
pub struct AuditEntry {
    pub at: i64,
    pub action: String,
    pub actor: String,
    pub target: String,
    pub details: String,
    pub client_addr: String,
}

/// The institution's audit trail, newest first: `limit` records after skipping `offset`,
/// optionally only the actions starting with `action_prefix`.
pub async fn audit_trail(
    db: &Db,
    institution_id: &str,
    action_prefix: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT a.at, a.action, \
         COALESCE(u.name || ' ' || u.family_name, a.actor, '') AS actor, \
         COALESCE(t.name || ' ' || t.family_name, a.target, '') AS target, \
         a.details, COALESCE(a.client_addr, '') AS client_addr \
         FROM audit_log a \
         LEFT JOIN users u ON u.id = a.actor \
         LEFT JOIN users t ON t.id = a.target \
         WHERE a.institution_id = $1 AND a.action LIKE $2 \
         ORDER BY a.at DESC, a.id DESC LIMIT $3 OFFSET $4",
    )
    .bind(institution_id)
    .bind(format!("{}%", action_prefix.replace(['%', '_'], "")))
    .bind(limit)
    .bind(offset)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(AuditEntry::from_row).collect()
}
