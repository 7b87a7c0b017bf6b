//! The audit trail: an append-only record of who did what, for which institution.

use serde_json::Value;
use sqlx::{Any, Executor};

use crate::db::hot::Param;
use crate::db::now_millis;

#[derive(Debug, Clone, Default)]
pub struct AuditEvent {
    pub action: String,
    pub actor: Option<String>,
    pub institution_id: Option<String>,
    pub target: Option<String>,
    pub details: Value,
    pub client_addr: Option<String>,
}

impl AuditEvent {
    pub fn new(action: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            details: Value::Object(Default::default()),
            ..Self::default()
        }
    }
}

/// A record's id: a UUID of version 7, ordered by time, so that a new record goes to the end of
/// the primary key's B-tree (one page written per commit, however big the log) rather than to
/// a random page of it.
fn record_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Appends `event` in the caller's transaction (or on a pool), so that the record and the change
/// it describes commit together.
pub async fn record<'e, E>(executor: E, event: &AuditEvent) -> Result<String, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let id = record_id();
    sqlx::query(
        "INSERT INTO audit_log (id, at, action, actor, institution_id, target, details, client_addr) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(now_millis())
    .bind(&event.action)
    .bind(event.actor.as_deref())
    .bind(event.institution_id.as_deref())
    .bind(event.target.as_deref())
    .bind(event.details.to_string())
    .bind(event.client_addr.as_deref())
    .execute(executor)
    .await?;
    Ok(id)
}

/// How many records of `action` exist (used by health checks and tests).
pub async fn count<'e, E>(executor: E, action: &str) -> Result<i64, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(executor)
        .await
}

/// Appends audit records in group commits (see [`crate::group_commit`]).
pub type GroupWriter = crate::group_commit::GroupCommit<AuditEvent>;

impl crate::group_commit::GroupRecord for AuditEvent {
    const TABLE: &'static str = "audit_log";
    const COLUMNS: &'static [(&'static str, crate::group_commit::ColumnType)] = {
        use crate::group_commit::ColumnType::{BigInt, Text};
        &[
            ("id", Text),
            ("at", BigInt),
            ("action", Text),
            ("actor", Text),
            ("institution_id", Text),
            ("target", Text),
            ("details", Text),
            ("client_addr", Text),
        ]
    };

    /// A new id and the time of writing, like [`record`].
    fn values(&self) -> Vec<Param<'_>> {
        vec![
            Param::owned(record_id()),
            Param::int(now_millis()),
            Param::text(&self.action),
            Param::opt_text(self.actor.as_deref()),
            Param::opt_text(self.institution_id.as_deref()),
            Param::opt_text(self.target.as_deref()),
            Param::owned(self.details.to_string()),
            Param::opt_text(self.client_addr.as_deref()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_follow_the_order_of_writing() {
        let ids: Vec<String> = (0..2_000).map(|_| record_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(
            ids.iter()
                .all(|id| id.len() == 36 && id.as_bytes()[14] == b'7')
        );
    }
}
