//! Group commits: every caller waits until its own record is committed (durable before the
//! answer), but one transaction — one flush — serves all the records that arrived meanwhile.
//! For hot paths (the token endpoints), where a flush per request would cost more than the
//! request.

use futures::future::BoxFuture;
use sqlx::AnyConnection;
use tokio::sync::{mpsc, oneshot};

use crate::db::{Db, Dialect};

/// Records written together; `write_batch` inserts them all on the connection of an open
/// transaction.
pub trait GroupRecord: Send + Sync + Sized + 'static {
    fn write_batch<'c>(
        conn: &'c mut AnyConnection,
        dialect: Dialect,
        batch: &'c [Self],
    ) -> BoxFuture<'c, Result<(), sqlx::Error>>;
}

/// The handle of a writer task; cheap to clone. The task ends when every handle is dropped.
pub struct GroupCommit<T> {
    queue: mpsc::Sender<(T, oneshot::Sender<bool>)>,
}

impl<T> Clone for GroupCommit<T> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

/// Records taken into one transaction at most.
pub const GROUP_MAX: usize = 512;

impl<T: GroupRecord> GroupCommit<T> {
    /// Starts the writer task on `db`; `what` names the records in logs.
    pub fn spawn(db: Db, what: &'static str) -> Self {
        let (queue, mut rx) = mpsc::channel::<(T, oneshot::Sender<bool>)>(8192);
        tokio::spawn(async move {
            let mut batch: Vec<(T, oneshot::Sender<bool>)> = Vec::with_capacity(GROUP_MAX);
            let mut records: Vec<T> = Vec::with_capacity(GROUP_MAX);
            let mut acks: Vec<oneshot::Sender<bool>> = Vec::with_capacity(GROUP_MAX);
            while rx.recv_many(&mut batch, GROUP_MAX).await > 0 {
                for (record, ack) in batch.drain(..) {
                    records.push(record);
                    acks.push(ack);
                }
                let committed = write(&db, &records).await;
                if let Err(e) = &committed {
                    tracing::error!(error = %e, records = records.len(), what, "group commit failed");
                }
                records.clear();
                for ack in acks.drain(..) {
                    let _ = ack.send(committed.is_ok());
                }
            }
        });
        Self { queue }
    }

    /// Appends `record`; returns once it is committed (`false` if it could not be).
    pub async fn record(&self, record: T) -> bool {
        let (done, committed) = oneshot::channel();
        if self.queue.send((record, done)).await.is_err() {
            return false;
        }
        committed.await.unwrap_or(false)
    }
}

async fn write<T: GroupRecord>(db: &Db, records: &[T]) -> Result<(), crate::db::DbError> {
    let mut tx = db.begin().await?;
    if db.dialect() == Dialect::Postgres {
        // Durable whatever the server's default: the answer waits for this commit.
        sqlx::query("SET LOCAL synchronous_commit = on")
            .execute(&mut *tx)
            .await?;
    }
    T::write_batch(&mut tx, db.dialect(), records).await?;
    tx.commit().await?;
    Ok(())
}
