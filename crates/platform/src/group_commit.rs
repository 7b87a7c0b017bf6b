//! Group commits: every caller waits until its own record is committed (durable before the
//! answer), but one transaction — one flush — serves all the records that arrived meanwhile.
//! For hot paths (the token endpoints), where a flush per request would cost more than the
//! request.
//!
//! The writer uses the native driver ([`crate::db::hot`]):
//! - on **SQLite**, a thread of its own with one connection: `BEGIN IMMEDIATE`, the single-row
//!   INSERT prepared once and run per record, `COMMIT` (`synchronous = FULL`);
//! - on **PostgreSQL**, a task that writes a whole group in one statement (`INSERT … SELECT *
//!   FROM UNNEST($1::text[], …)`) on a session with `synchronous_commit = on`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sqlx::postgres::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::db::Db;
use crate::db::hot::{Param, open_sqlite};

/// A column's type, for PostgreSQL's arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    BigInt,
}

/// Records written together: one row of `TABLE` each.
pub trait GroupRecord: Send + Sync + Sized + 'static {
    const TABLE: &'static str;
    const COLUMNS: &'static [(&'static str, ColumnType)];

    /// The record's values, in the order of `COLUMNS` (`Param::Text` for text columns,
    /// `Param::Int` for bigint ones).
    fn values(&self) -> Vec<Param<'_>>;
}

type Entry<T> = (T, oneshot::Sender<bool>);

/// The handle of a writer; cheap to clone. The writer ends when every handle is dropped.
pub struct GroupCommit<T> {
    queue: mpsc::Sender<Entry<T>>,
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
const QUEUE: usize = 8192;
// Under load, a commit starts no sooner than `database.group_commit_interval_ms` (2 ms by
// default) after the previous one started: the records that arrive meanwhile join its group.
// A SQLite commit with `synchronous = FULL` costs the writer ≈ 250 µs of CPU on the
// development VM (the flush above all) against ≈ 10 µs per record, so without this pause a
// busy writer would commit groups of one or two; with it a record waits at most that much
// longer, and a writer that was idle commits at once.

impl<T: GroupRecord> GroupCommit<T> {
    /// Starts the writer on `db`; `what` names the records in logs. On PostgreSQL it must be
    /// called within a tokio runtime.
    pub fn spawn(db: &Db, what: &'static str) -> Self {
        let (queue, rx) = mpsc::channel::<Entry<T>>(QUEUE);
        let hot = db.hot();
        if let Some(pool) = hot.pg() {
            tokio::spawn(postgres_writer(
                pool.clone(),
                rx,
                what,
                db.group_commit_interval(),
            ));
        } else if let Some(path) = hot.sqlite_path() {
            let path = path.to_path_buf();
            let interval = db.group_commit_interval();
            let started = std::thread::Builder::new()
                .name(format!("group-commit {what}"))
                .spawn(move || sqlite_writer(path, rx, what, interval));
            if let Err(e) = started {
                // The receiver is gone with the closure: every record is refused.
                tracing::error!(error = %e, what, "cannot start the group-commit writer");
            }
        }
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

/// Adds the records already queued, up to [`GROUP_MAX`], without waiting for more.
fn take_waiting<T>(rx: &mut mpsc::Receiver<Entry<T>>, batch: &mut Vec<Entry<T>>) {
    while batch.len() < GROUP_MAX {
        match rx.try_recv() {
            Ok(entry) => batch.push(entry),
            Err(_) => break,
        }
    }
}

fn acknowledge<T>(batch: &mut Vec<Entry<T>>, committed: bool) {
    for (_, ack) in batch.drain(..) {
        let _ = ack.send(committed);
    }
}

/// `c1, c2, …`: the record's columns, in order.
pub fn column_list<T: GroupRecord>() -> String {
    let columns: Vec<&str> = T::COLUMNS.iter().map(|(name, _)| *name).collect();
    columns.join(", ")
}

/// `INSERT INTO table (c1, …) VALUES (?1, …)`
pub fn sqlite_insert<T: GroupRecord>() -> String {
    let values: Vec<String> = (1..=T::COLUMNS.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        T::TABLE,
        column_list::<T>(),
        values.join(", ")
    )
}

/// `INSERT INTO table (c1, …) SELECT * FROM UNNEST($1::text[], …)`
pub fn postgres_insert<T: GroupRecord>() -> String {
    let arrays: Vec<String> = T::COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| match kind {
            ColumnType::Text => format!("${}::text[]", i + 1),
            ColumnType::BigInt => format!("${}::bigint[]", i + 1),
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) SELECT * FROM UNNEST({})",
        T::TABLE,
        column_list::<T>(),
        arrays.join(", ")
    )
}

fn sqlite_writer<T: GroupRecord>(
    path: PathBuf,
    mut rx: mpsc::Receiver<Entry<T>>,
    what: &str,
    interval: Duration,
) {
    let insert = sqlite_insert::<T>();
    let mut conn: Option<rusqlite::Connection> = None;
    let mut batch: Vec<Entry<T>> = Vec::with_capacity(GROUP_MAX);
    let mut last_start: Option<Instant> = None;
    while let Some(first) = rx.blocking_recv() {
        if let Some(wait) =
            last_start.and_then(|at| (at + interval).checked_duration_since(Instant::now()))
        {
            std::thread::sleep(wait);
        }
        last_start = Some(Instant::now());
        batch.push(first);
        take_waiting(&mut rx, &mut batch);
        let written = write_sqlite(&mut conn, &path, &insert, &batch);
        if let Err(e) = &written {
            tracing::error!(error = %e, records = batch.len(), what, "group commit failed");
            // The next group starts on a new connection, whatever state this one is in.
            conn = None;
        }
        acknowledge(&mut batch, written.is_ok());
    }
}

fn write_sqlite<T: GroupRecord>(
    conn: &mut Option<rusqlite::Connection>,
    path: &std::path::Path,
    insert: &str,
    batch: &[Entry<T>],
) -> Result<(), rusqlite::Error> {
    let conn = match conn {
        Some(c) => c,
        None => conn.insert(open_sqlite(path)?),
    };
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut statement = tx.prepare_cached(insert)?;
        for (record, _) in batch {
            statement.execute(rusqlite::params_from_iter(record.values()))?;
        }
    }
    tx.commit()
}

async fn postgres_writer<T: GroupRecord>(
    pool: PgPool,
    mut rx: mpsc::Receiver<Entry<T>>,
    what: &'static str,
    interval: Duration,
) {
    let insert = postgres_insert::<T>();
    let mut batch: Vec<Entry<T>> = Vec::with_capacity(GROUP_MAX);
    let mut last_start: Option<Instant> = None;
    loop {
        let Some(first) = rx.recv().await else {
            break;
        };
        if let Some(at) = last_start {
            tokio::time::sleep_until((at + interval).into()).await;
        }
        last_start = Some(Instant::now());
        batch.push(first);
        take_waiting(&mut rx, &mut batch);
        let written = write_postgres(&pool, &insert, &batch).await;
        if let Err(e) = &written {
            tracing::error!(error = %e, records = batch.len(), what, "group commit failed");
        }
        acknowledge(&mut batch, written.is_ok());
    }
}

/// One statement, so one implicit transaction: all the group or nothing.
async fn write_postgres<T: GroupRecord>(
    pool: &PgPool,
    insert: &str,
    batch: &[Entry<T>],
) -> Result<(), sqlx::Error> {
    let rows: Vec<Vec<Param<'_>>> = batch.iter().map(|(r, _)| r.values()).collect();
    let mut query = sqlx::query::<sqlx::Postgres>(insert);
    for (c, (name, kind)) in T::COLUMNS.iter().enumerate() {
        let mistyped = || {
            sqlx::Error::Encode(format!("{}.{name}: a value of the wrong type", T::TABLE).into())
        };
        match kind {
            ColumnType::Text => {
                let column = rows
                    .iter()
                    .map(|row| match row.get(c) {
                        Some(Param::Text(t)) => Ok(t.as_deref()),
                        _ => Err(mistyped()),
                    })
                    .collect::<Result<Vec<Option<&str>>, _>>()?;
                query = query.bind(column);
            }
            ColumnType::BigInt => {
                let column = rows
                    .iter()
                    .map(|row| match row.get(c) {
                        Some(Param::Int(i)) => Ok(*i),
                        _ => Err(mistyped()),
                    })
                    .collect::<Result<Vec<Option<i64>>, _>>()?;
                query = query.bind(column);
            }
        }
    }
    query.execute(pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(&'static str, i64);

    impl GroupRecord for Row {
        const TABLE: &'static str = "t";
        const COLUMNS: &'static [(&'static str, ColumnType)] =
            &[("a", ColumnType::Text), ("b", ColumnType::BigInt)];

        fn values(&self) -> Vec<Param<'_>> {
            vec![Param::text(self.0), Param::int(self.1)]
        }
    }

    #[test]
    fn inserts_name_every_column_once() {
        assert_eq!(
            sqlite_insert::<Row>(),
            "INSERT INTO t (a, b) VALUES (?1, ?2)"
        );
        assert_eq!(
            postgres_insert::<Row>(),
            "INSERT INTO t (a, b) SELECT * FROM UNNEST($1::text[], $2::bigint[])"
        );
    }
}
