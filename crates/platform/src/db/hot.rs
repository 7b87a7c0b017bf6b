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
//! Every read sees what is committed. [`HotDb::fetch_optional_remembered`] may answer from
//! what the same SQLite connection read before, but only after asking SQLite whether any
//! other connection — of this process or another — committed since (`PRAGMA data_version`);
//! if one did, everything remembered is forgotten first. On PostgreSQL it always reads.

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::OpenFlags;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row as _};

/// A statement in both spellings; build it once (a `static` `LazyLock`).
#[derive(Debug)]
pub struct Sql {
    postgres: Cow<'static, str>,
    sqlite: String,
}

impl Sql {
    /// `sql` uses `$1`, `$2`, … (and no `$` elsewhere, e.g. in literals).
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        let postgres = sql.into();
        let sqlite = postgres.replace('$', "?");
        Self { postgres, sqlite }
    }

    pub fn postgres(&self) -> &str {
        &self.postgres
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

/// One row of a query, read by column index or name: a hot query's row (SQLite's or
/// PostgreSQL's native one) or an `AnyRow`, so that one decoder serves both paths.
pub trait HotRow {
    fn text(&self, index: usize) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, index: usize) -> Result<Option<i64>, sqlx::Error>;
    fn text_named(&self, name: &str) -> Result<Option<String>, sqlx::Error>;
    fn int_named(&self, name: &str) -> Result<Option<i64>, sqlx::Error>;

    /// The text of the column `name`, which must not be NULL.
    fn required_text(&self, name: &str) -> Result<String, sqlx::Error> {
        self.text_named(name)?.ok_or_else(|| null_in(name))
    }

    /// The integer of the column `name`, which must not be NULL.
    fn required_int(&self, name: &str) -> Result<i64, sqlx::Error> {
        self.int_named(name)?.ok_or_else(|| null_in(name))
    }
}

fn null_in(name: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: name.to_string(),
        source: "NULL where a value is required".into(),
    }
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

    fn text_named(&self, name: &str) -> Result<Option<String>, sqlx::Error> {
        self.get(name).map_err(|e| named_decode_error(name, e))
    }

    fn int_named(&self, name: &str) -> Result<Option<i64>, sqlx::Error> {
        self.get(name).map_err(|e| named_decode_error(name, e))
    }
}

fn named_decode_error(name: &str, e: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: name.to_string(),
        source: Box::new(e),
    }
}

/// `HotRow` for the rows of sqlx (PostgreSQL's native ones, and `AnyRow`).
macro_rules! sqlx_hot_row {
    ($($row:ty),+) => {$(
        impl HotRow for $row {
            fn text(&self, index: usize) -> Result<Option<String>, sqlx::Error> {
                self.try_get(index)
            }

            fn int(&self, index: usize) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(index)
            }

            fn text_named(&self, name: &str) -> Result<Option<String>, sqlx::Error> {
                self.try_get(name)
            }

            fn int_named(&self, name: &str) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(name)
            }
        }
    )+};
}

sqlx_hot_row!(PgRow, sqlx::any::AnyRow);

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
    idle: Mutex<Vec<Reader>>,
}

/// A reading connection and what it remembers of its earlier reads.
struct Reader {
    conn: rusqlite::Connection,
    /// `PRAGMA data_version` when `remembered` was last known to be current.
    version: Option<i64>,
    /// By statement and parameters.
    remembered: HashMap<String, Arc<dyn Any + Send + Sync>>,
}

/// Results remembered per connection at most; past that it starts again empty.
const REMEMBERED_MAX: usize = 4096;

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
                let query = pg_query(sql, params);
                match query.fetch_optional(pool).await? {
                    Some(row) => decode(&row).map(Some),
                    None => Ok(None),
                }
            }
        }
    }

    /// Runs a query and decodes every row with `decode`. On SQLite it runs on the calling
    /// thread: only for indexed reads of a few rows (a person's roles, say).
    pub async fn fetch_all<T>(
        &self,
        sql: &Sql,
        params: &[Param<'_>],
        mut decode: impl FnMut(&dyn HotRow) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>, sqlx::Error> {
        match &*self.inner {
            Native::Sqlite(readers) => {
                let reader = readers.take()?;
                let result = SqliteReaders::run_all(&reader.conn, sql, params, &mut decode);
                readers.give_back(reader);
                result
            }
            Native::Postgres(pool) => {
                let query = pg_query(sql, params);
                let rows = query.fetch_all(pool).await?;
                rows.iter().map(|row| decode(row)).collect()
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

    /// [`Self::fetch_optional`], for a result that stays the same as long as the database
    /// does. On SQLite the connection first asks whether any other connection (of this
    /// process or another) committed since its last read (`PRAGMA data_version`): if none
    /// did, a result it read before for the same statement and parameters is returned
    /// without reading again; if one did, it forgets everything and reads. So an answer is
    /// always what is committed, at the price of one pragma instead of the query. On
    /// PostgreSQL it reads every time.
    pub async fn fetch_optional_remembered<T: Clone + Send + Sync + 'static>(
        &self,
        sql: &Sql,
        params: &[Param<'_>],
        decode: impl FnOnce(&dyn HotRow) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, sqlx::Error> {
        match &*self.inner {
            Native::Sqlite(readers) => readers.fetch_optional_remembered(sql, params, decode),
            Native::Postgres(_) => self.fetch_optional(sql, params, decode).await,
        }
    }
}

/// `sql` with `params` bound, for the PostgreSQL pool.
fn pg_query<'q>(
    sql: &'q Sql,
    params: &'q [Param<'_>],
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    let mut query = sqlx::query::<Postgres>(sql.postgres());
    for p in params {
        query = match p {
            Param::Text(t) => query.bind(t.as_deref()),
            Param::Int(i) => query.bind(*i),
        };
    }
    query
}

/// The key of a remembered result: the statement (its `&'static` text, by address: the same
/// text is the same statement) and its parameters, each with its length (so that no two
/// different lists make the same key).
fn remember_key(sql: &Sql, params: &[Param<'_>]) -> String {
    use std::fmt::Write as _;
    let mut key = String::with_capacity(160);
    let _ = write!(
        key,
        "{:p}:{}",
        sql.postgres().as_ptr(),
        sql.postgres().len()
    );
    for p in params {
        let _ = match p {
            Param::Text(Some(t)) => write!(key, "|t{}:{t}", t.len()),
            Param::Int(Some(i)) => write!(key, "|i{i}"),
            Param::Text(None) | Param::Int(None) => write!(key, "|n"),
        };
    }
    key
}

impl SqliteReaders {
    fn take(&self) -> Result<Reader, sqlx::Error> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(reader) => Ok(reader),
            None => {
                let conn = open_sqlite(&self.path).map_err(sqlite_error)?;
                // Reads only: a mistake in a hot query cannot write.
                conn.pragma_update(None, "query_only", "ON")
                    .map_err(sqlite_error)?;
                Ok(Reader {
                    conn,
                    version: None,
                    remembered: HashMap::new(),
                })
            }
        }
    }

    fn give_back(&self, reader: Reader) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(reader);
        }
    }

    fn fetch_optional<T>(
        &self,
        sql: &Sql,
        params: &[Param<'_>],
        decode: impl FnOnce(&dyn HotRow) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, sqlx::Error> {
        let reader = self.take()?;
        let result = Self::run(&reader.conn, sql, params, decode);
        self.give_back(reader);
        result
    }

    fn fetch_optional_remembered<T: Clone + Send + Sync + 'static>(
        &self,
        sql: &Sql,
        params: &[Param<'_>],
        decode: impl FnOnce(&dyn HotRow) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, sqlx::Error> {
        let mut reader = self.take()?;
        let result = Self::remembered(&mut reader, sql, params, decode);
        if result.is_err() {
            // Whatever went wrong, remember nothing of this connection's past.
            reader.version = None;
            reader.remembered.clear();
        }
        self.give_back(reader);
        result
    }

    fn remembered<T: Clone + Send + Sync + 'static>(
        reader: &mut Reader,
        sql: &Sql,
        params: &[Param<'_>],
        decode: impl FnOnce(&dyn HotRow) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, sqlx::Error> {
        let version: i64 = reader
            .conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |row| row.get(0)))
            .map_err(sqlite_error)?;
        if reader.version != Some(version) || reader.remembered.len() >= REMEMBERED_MAX {
            reader.remembered.clear();
            reader.version = Some(version);
        }
        let key = remember_key(sql, params);
        if let Some(known) = reader
            .remembered
            .get(&key)
            .and_then(|v| v.downcast_ref::<Option<T>>())
        {
            return Ok(known.clone());
        }
        let found = Self::run(&reader.conn, sql, params, decode)?;
        // Read after the version: a commit in between changes the version again, and the
        // next use forgets this result.
        reader.remembered.insert(key, Arc::new(found.clone()));
        Ok(found)
    }

    fn run_all<T>(
        conn: &rusqlite::Connection,
        sql: &Sql,
        params: &[Param<'_>],
        decode: &mut impl FnMut(&dyn HotRow) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>, sqlx::Error> {
        let mut statement = conn.prepare_cached(sql.sqlite()).map_err(sqlite_error)?;
        let mut rows = statement
            .query(rusqlite::params_from_iter(params))
            .map_err(sqlite_error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sqlite_error)? {
            out.push(decode(row)?);
        }
        Ok(out)
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

    /// A WAL file with `t (a, b) = ('x', 1), ('y', 2)`: its directory, a writing connection
    /// and the hot readers.
    fn table_t() -> (tempfile::TempDir, rusqlite::Connection, HotDb) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hot.db");
        let writer = rusqlite::Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (a TEXT, b INTEGER); \
                 INSERT INTO t VALUES ('x', 1), ('y', 2);",
            )
            .unwrap();
        (dir, writer, HotDb::sqlite(path))
    }

    #[tokio::test]
    async fn sqlite_reads_bind_by_number_and_see_commits() {
        let (_dir, writer, hot) = table_t();
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

    #[tokio::test]
    async fn remembered_reads_hold_until_any_other_connection_commits() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (_dir, writer, hot) = table_t();
        let sql = &Sql::new("SELECT a FROM t WHERE b = $1");
        let reads = &AtomicUsize::new(0);
        let read = |b: i64| {
            let hot = hot.clone();
            async move {
                hot.fetch_optional_remembered(sql, &[Param::int(b)], |r: &dyn HotRow| {
                    reads.fetch_add(1, Ordering::SeqCst);
                    r.text(0)
                })
                .await
                .unwrap()
            }
        };
        assert_eq!(read(1).await, Some(Some("x".into())));
        assert_eq!(read(1).await, Some(Some("x".into())));
        assert_eq!(
            reads.load(Ordering::SeqCst),
            1,
            "the second read was remembered"
        );
        // Other parameters are another result; nothing found is remembered too.
        assert_eq!(read(3).await, None);
        assert_eq!(read(2).await, Some(Some("y".into())));
        // A commit by another connection: the very next read sees it.
        writer
            .execute("UPDATE t SET a = 'z' WHERE b = 1", [])
            .unwrap();
        assert_eq!(read(1).await, Some(Some("z".into())));
        writer.execute("INSERT INTO t VALUES ('w', 3)", []).unwrap();
        assert_eq!(read(3).await, Some(Some("w".into())));
        writer.execute("DELETE FROM t WHERE b = 2", []).unwrap();
        assert_eq!(read(2).await, None);
        let before = reads.load(Ordering::SeqCst);
        assert_eq!(read(2).await, None);
        assert_eq!(
            reads.load(Ordering::SeqCst),
            before,
            "remembered again once unchanged"
        );
    }
}
