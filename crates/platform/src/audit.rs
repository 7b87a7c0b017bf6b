//! The audit trail: an append-only record of who did what, for which institution.

use serde_json::Value;
use sqlx::{Any, Executor};

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

/// Appends `event` in the caller's transaction (or on a pool), so that the record and the change
/// it describes commit together.
pub async fn record<'e, E>(executor: E, event: &AuditEvent) -> Result<String, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let id = uuid::Uuid::new_v4().to_string();
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

/// Appends records in group commits: every caller waits until its own record is committed
/// (durable before the answer), but one transaction — one flush — serves all the records that
/// arrived meanwhile. For hot paths (token exchange), where a flush per request would cost more
/// than the request.
#[derive(Clone)]
pub struct GroupWriter {
    queue: tokio::sync::mpsc::Sender<(AuditEvent, tokio::sync::oneshot::Sender<bool>)>,
}

/// Records taken into one transaction at most.
const GROUP_MAX: usize = 512;

impl GroupWriter {
    /// Starts the writer task on `db`; it ends when every handle is dropped.
    pub fn spawn(db: crate::db::Db) -> Self {
        let (queue, mut rx) =
            tokio::sync::mpsc::channel::<(AuditEvent, tokio::sync::oneshot::Sender<bool>)>(4096);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(GROUP_MAX);
            while rx.recv_many(&mut batch, GROUP_MAX).await > 0 {
                let committed = write_batch(&db, &batch).await;
                if let Err(e) = &committed {
                    tracing::error!(error = %e, records = batch.len(), "audit group commit failed");
                }
                for (_, done) in batch.drain(..) {
                    let _ = done.send(committed.is_ok());
                }
            }
        });
        Self { queue }
    }

    /// Appends `event`; returns once it is committed (`false` if it could not be).
    pub async fn record(&self, event: AuditEvent) -> bool {
        let (done, committed) = tokio::sync::oneshot::channel();
        if self.queue.send((event, done)).await.is_err() {
            return false;
        }
        committed.await.unwrap_or(false)
    }
}

async fn write_batch(
    db: &crate::db::Db,
    batch: &[(AuditEvent, tokio::sync::oneshot::Sender<bool>)],
) -> Result<(), crate::db::DbError> {
    let mut tx = db.begin().await?;
    for (event, _) in batch {
        record(&mut *tx, event).await?;
    }
    tx.commit().await?;
    Ok(())
}
