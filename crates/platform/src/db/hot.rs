//! Hot-path SQL on the native drivers: the few statements that run on every request of an
//! endpoint whose speed is specified (the interoperability token endpoint), where sqlx's `Any`
//! driver costs more than the endpoint's own work.
//!
//! - **SQLite**: a small pool of `rusqlite` connections (on the same `libsqlite3-sys` as sqlx),
//!   each statement prepared once per connection and run **on the calling thread**. A point
//!   read by primary key is a few page lookups in memory; handing it to a connection thread
//!   costs more in wake-ups than the read itself.
//! - **PostgreSQL**: the typed `PgPool` (prepared statements, binary rows), whose rows are not
//!   converted to `AnyRow`.
//!
//! The SQL is written once, with `$N` placeholders, as everywhere else; [`Sql`] keeps the
//! SQLite spelling (`?N`, the same numbering) next to it.
//!
//! Nothing is cached between requests but prepared statements: every read sees what is
//! committed.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::OpenFlags;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row as _};

/// A statement in both spellings; build it once (a `static` `LazyLock`).
#[derive(Debug)]
pub struct Sql {
    postgres: &'static str,
    sqlite: String,
}

impl Sql {
    /// `sql` uses `$1`, `$2`, … (and no `$` elsewhere, e.g. in literals).
    pub fn new(sql: &'static str) -> Self {
        Self {
            postgres: sql,
            sqlite: sql.replace('$', "?"),
        }
    }

    pub fn postgres(&self) -> &'static str {
        self.postgres
    }

    pub fn sqlite(&self) -> &str {
        &self.sqlite
    }
}

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param<'a> {
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
}

impl<'a> Param<'a> {
    pub fn text(s: &'a str) -> Self {
        Param::Text(Some(Cow::Borrowed(s)))
    }

    pub fn opt_text(s: Option<&'a str>) -> Self {
        Param::Text(s.map(Cow::Borrowed))
    }

    pub fn owned(s: String) -> Self {
        Param::Text(Some(Cow::Owned(s)))
    }

    pub fn int(i: i64) -> Self {
        Param::Int(Some(i))
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Param::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Param::Int(Some(i)) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Param::Text(None) | Param::Int(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// One row of a hot query, read by column index.
pub trait HotRow {
    fn text(&self, index: usize) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, index: usize) -> Result<Option<i64>, sqlx::Error>;
}

/// A failure of the SQLite driver, as the `sqlx::Error` every store returns.
pub fn sqlite_error(e: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::AnyDriverError(Box::new(e))
}

fn decode_error(index: usize, e: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: Box::new(e),
    }
}

impl HotRow for rusqlite::Row<'_> {
    fn text(&self, index: usize) -> Result<Option<String>, sqlx::Error> {
        self.get(index).map_err(|e| decode_error(index, e))
    }

    fn int(&self, index: usize) -> Result<Option<i64>, sqlx::Error> {
        self.get(index).map_err(|e| decode_error(index, e))
    }
}

impl HotRow for PgRow {
    fn text(&self, index: usize) -> Result<Option<String>, sqlx::Error> {
        self.try_get(index)
    }

    fn int(&self, index: usize) -> Result<Option<i64>, sqlx::Error> {
        self.try_get(index)
    }
}

/// The native handle of a database; cheap to clone.
#[derive(Clone)]
pub struct HotDb {
    inner: Arc<Native>,
}

enum Native {
    Sqlite(SqliteReaders),
    Postgres(PgPool),
}

/// Idle connections; at most one per thread that reads at once, since nothing awaits while a
/// connection is out.
struct SqliteReaders {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

/// Statements kept prepared per connection.
const PREPARED: usize = 32;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a SQLite connection with the settings of every connection of the product (see
/// `sqlite_setup` in `db.rs`).
pub fn open_sqlite(path: &Path) -> Result<rusqlite::Connection, rusqlite::Error> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(PREPARED);
    Ok(conn)
}

impl HotDb {
    pub(crate) fn sqlite(path: PathBuf) -> Self {
        Self {
            inner: Arc::new(Native::Sqlite(SqliteReaders {
                path,
                idle: Mutex::new(Vec::new()),
            })),
        }
    }

    /// A typed pool for `url`, connecting on first use; its sessions commit durably
    /// (`synchronous_commit = on`, whatever the server's default), since the group commits
    /// write through it too.
    pub(crate) fn postgres(
        url: &str,
        max_connections: u32,
        acquire: Duration,
    ) -> Result<Self, sqlx::Error> {
        let options: sqlx::postgres::PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(acquire)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("SET synchronous_commit = on")
                        .execute(&mut *conn)
                        .await
                        .map(|_| ())
                })
            })
            .connect_lazy_with(options);
        Ok(Self {
            inner: Arc::new(Native::Postgres(pool)),
        })
    }

    /// The PostgreSQL pool, on PostgreSQL.
    pub fn pg(&self) -> Option<&PgPool> {
        match &*self.inner {
            Native::Postgres(pool) => Some(pool),
            Native::Sqlite(_) => None,
        }
    }

    /// The SQLite file, on SQLite.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &*self.inner {
            Native::Sqlite(readers) => Some(&readers.path),
            Native::Postgres(_) => None,
        }
    }

    /// Runs a query that returns at most one row, decoded by `decode`. On SQLite it runs on
    /// the calling thread: only for indexed point reads.
    pub async fn fetch_optional<T>(
        &self,
        sql: &Sql,
        params: &[Param<'_>],
        decode: impl FnOnce(&dyn HotRow) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, sqlx::Error> {
        match &*self.inner {
            Native::Sqlite(readers) => readers.fetch_optional(sql, params, decode),
            Native::Postgres(pool) => {
                let mut query = sqlx::query::<Postgres>(sql.postgres());
                for p in params {
                    query = match p {
                        Param::Text(t) => query.bind(t.as_deref()),
                        Param::Int(i) => query.bind(*i),
                    };
                }
                match query.fetch_optional(pool).await? {
                    Some(row) => decode(&row).map(Some),
                    None => Ok(None),
                }
            }
        }
    }

    pub(crate) async fn close(&self) {
        match &*self.inner {
            Native::Postgres(pool) => pool.close().await,
            Native::Sqlite(readers) => {
                if let Ok(mut idle) = readers.idle.lock() {
                    idle.clear();
                }
            }
        }
    }
}

impl SqliteReaders {
    fn take(&self) -> Result<rusqlite::Connection, sqlx::Error> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(conn) => Ok(conn),
            None => {
                let conn = open_sqlite(&self.path).map_err(sqlite_error)?;
                // Reads only: a mistake in a hot query cannot write.
                conn.pragma_update(None, "query_only", "ON")
                    .map_err(sqlite_error)?;
                Ok(conn)
            }
        }
    }

    fn give_back(&self, conn: rusqlite::Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
    }

    fn fetch_optional<T>(
        &self,
        sql: &Sql,
        params: &[Param<'_>],
        decode: impl FnOnce(&dyn HotRow) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, sqlx::Error> {
        let conn = self.take()?;
        let result = Self::run(&conn, sql, params, decode);
        self.give_back(conn);
        result
    }

    fn run<T>(
        conn: &rusqlite::Connection,
        sql: &Sql,
        params: &[Param<'_>],
        decode: impl FnOnce(&dyn HotRow) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, sqlx::Error> {
        let mut statement = conn.prepare_cached(sql.sqlite()).map_err(sqlite_error)?;
        let mut rows = statement
            .query(rusqlite::params_from_iter(params))
            .map_err(sqlite_error)?;
        match rows.next().map_err(sqlite_error)? {
            Some(row) => decode(row).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_spelling_keeps_the_numbers() {
        let sql = Sql::new("SELECT a FROM t WHERE b = $2 AND c = $1 AND d = $2");
        assert_eq!(
            sql.sqlite(),
            "SELECT a FROM t WHERE b = ?2 AND c = ?1 AND d = ?2"
        );
        assert_eq!(
            sql.postgres(),
            "SELECT a FROM t WHERE b = $2 AND c = $1 AND d = $2"
        );
    }

    #[tokio::test]
    async fn sqlite_reads_bind_by_number_and_see_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hot.db");
        let writer = rusqlite::Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (a TEXT, b INTEGER); \
                 INSERT INTO t VALUES ('x', 1), ('y', 2);",
            )
            .unwrap();
        let hot = HotDb::sqlite(path);
        let sql = Sql::new("SELECT a, b FROM t WHERE b = $2 AND a <> $1");
        let params = [Param::text("x"), Param::int(2)];
        let decode = |r: &dyn HotRow| Ok((r.text(0)?, r.int(1)?));
        let found = hot.fetch_optional(&sql, &params, decode).await.unwrap();
        assert_eq!(found, Some((Some("y".into()), Some(2))));
        writer
            .execute("UPDATE t SET a = 'x' WHERE b = 2", [])
            .unwrap();
        // The same (pooled, prepared) connection sees the commit at once.
        let found = hot.fetch_optional(&sql, &params, decode).await.unwrap();
        assert_eq!(found, None);
        // A query that would write is refused on a reader.
        let write = Sql::new("DELETE FROM t WHERE b = $1");
        let err = hot
            .fetch_optional(&write, &[Param::int(1)], |_| Ok(()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("readonly"), "{err}");
    }
}
