//! The database handle: SQLite (a file, WAL, one writer) or PostgreSQL, from one code base.
//!
//! SQL is written once with `$1`-style placeholders, which both engines accept, and portable
//! column types (TEXT ids, BIGINT timestamps in milliseconds, BOOLEAN). Migrations are written
//! once for both engines ([`schema`]) and run at start.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};

use crate::config::DatabaseSettings;

pub mod hot;
pub mod plan;
pub mod schema;

pub use schema::Schema;

/// The main database's schema (the platform, the Reserved Area, App IO, Interoperability).
pub const MAIN_SCHEMA: Schema = crate::schema!(
    "main",
    "0001_platform_audit.sql",
    "0002_platform_sessions.sql",
    "0003_reserved_area_institutions.sql",
    "0004_reserved_area_oidc.sql",
    "0005_platform_backoffice_sessions.sql",
    "0006_platform_outbox.sql",
    "0007_io_services.sql",
    "0008_io_migrations.sql",
    "0009_interop_catalogue.sql",
    "0010_interop_clients.sql",
    "0011_platform_once.sql",
    "0012_interop_documents.sql",
    "0013_interop_attributes.sql",
    "0014_interop_dpop.sql",
    "0015_reserved_area_members.sql",
    "0016_interop_lists.sql",
    "0017_io_service_search.sql",
    "0018_interop_catalogue_search.sql",
    "0019_io_import_claim.sql",
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    /// Readers (every query that does not write).
    read: AnyPool,
    /// Writers: on SQLite a single connection, so writes queue here instead of failing with
    /// SQLITE_BUSY; on PostgreSQL the same pool as `read`.
    write: AnyPool,
    dialect: Dialect,
    description: String,
    /// The native driver, for the hot paths ([`hot`]).
    hot: hot::HotDb,
    /// `database.group_commit_interval_ms`.
    group_commit_interval: Duration,
    /// What it was opened with (a store of its own opens beside it with the same).
    settings: DatabaseSettings,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: show only what is safe.
        f.debug_struct("Db")
            .field("dialect", &self.inner.dialect)
            .field("database", &self.inner.description)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL `{0}`: use sqlite://<file> or postgres://<user>@<host>/<db>")]
    UnsupportedUrl(String),
    #[error("cannot create the directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database {database}: {reason}")]
    Open { database: String, reason: String },
    #[error("cannot migrate the database {database}: {reason}")]
    Migrate { database: String, reason: String },
    #[error(transparent)]
    Query(#[from] sqlx::Error),
}

/// What the URL names, with any password removed.
fn describe_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://…@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The path of an `sqlite:` URL (`sqlite://data/x.db`, `sqlite:///abs/x.db`, `sqlite:x.db`).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

impl Db {
    /// Opens (and for SQLite creates when missing) the database. Does not migrate.
    pub async fn connect(url: &str, settings: &DatabaseSettings) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        if let Some(path) = sqlite_path(url) {
            Self::connect_sqlite(&path, settings).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::connect_postgres(url, settings).await
        } else {
            Err(DbError::UnsupportedUrl(describe_url(url)))
        }
    }

    async fn connect_sqlite(path: &Path, settings: &DatabaseSettings) -> Result<Db, DbError> {
        let (max_connections, acquire, group_commit_interval) = pool_settings(settings);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let description = path.display().to_string();
        let open_error = |e: sqlx::Error| DbError::Open {
            database: description.clone(),
            reason: sqlite_reason(&e),
        };
        if path.is_dir() {
            return Err(DbError::Open {
                database: description,
                reason: "it is a directory, not a file".into(),
            });
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let options: AnyConnectOptions = url.parse().map_err(open_error)?;
        // One connection first, so that a bad file is reported as such (a pool would only
        // retry until its timeout and report that).
        let mut probe = sqlx::AnyConnection::connect_with(&options)
            .await
            .map_err(open_error)?;
        sqlite_setup(&mut probe).await.map_err(open_error)?;
        sqlx::query("SELECT count(*) FROM sqlite_master")
            .execute(&mut probe)
            .await
            .map_err(open_error)?;
        let _ = probe.close().await;
        let write = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(acquire)
            .after_connect(|conn, _| Box::pin(sqlite_setup(conn)))
            .connect_with(options.clone())
            .await
            .map_err(open_error)?;
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let read = AnyPoolOptions::new()
            .max_connections(sqlite_readers(max_connections, cpus))
            .acquire_timeout(acquire)
            .after_connect(|conn, _| Box::pin(sqlite_setup(conn)))
            .connect_with(options)
            .await
            .map_err(open_error)?;
        Ok(Db {
            inner: Arc::new(Inner {
                read,
                write,
                dialect: Dialect::Sqlite,
                description,
                hot: hot::HotDb::sqlite(path.to_path_buf()),
                group_commit_interval,
                settings: settings.clone(),
            }),
        })
    }

    async fn connect_postgres(url: &str, settings: &DatabaseSettings) -> Result<Db, DbError> {
        let (max_connections, acquire, group_commit_interval) = pool_settings(settings);
        let description = describe_url(url);
        let open_error = |e: sqlx::Error| DbError::Open {
            database: description.clone(),
            reason: e.to_string(),
        };
        let options: AnyConnectOptions = url.parse().map_err(open_error)?;
        let probe = sqlx::AnyConnection::connect_with(&options)
            .await
            .map_err(open_error)?;
        let _ = probe.close().await;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(acquire)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        let hot = hot::HotDb::postgres(url, max_connections, acquire).map_err(open_error)?;
        Ok(Db {
            inner: Arc::new(Inner {
                read: pool.clone(),
                write: pool,
                dialect: Dialect::Postgres,
                description,
                hot,
                group_commit_interval,
                settings: settings.clone(),
            }),
        })
    }

    /// Brings the schema up to date. Safe to run from several instances at once (PostgreSQL
    /// takes an advisory lock; SQLite has one writer).
    pub async fn migrate(&self) -> Result<(), DbError> {
        self.migrate_with(MAIN_SCHEMA).await
    }

    /// Brings another schema up to date (a context with a database of its own, such as the
    /// legacy Developer Portal).
    pub async fn migrate_with(&self, schema: Schema) -> Result<(), DbError> {
        let failed = |e: sqlx::migrate::MigrateError| DbError::Migrate {
            database: self.inner.description.clone(),
            reason: e.to_string(),
        };
        let migrator = schema.migrator(self.inner.dialect).await.map_err(failed)?;
        migrator.run(&self.inner.write).await.map_err(failed)
    }

    /// A store of its own beside this database, for a high-volume table (the
    /// interoperability voucher records):
    /// - on **SQLite**, a file of its own next to this one, `<name>` put before the extension
    ///   (`data/selfcare.db` → `data/selfcare.vouchers.db`), with `sqlite` as its schema.
    ///   SQLite has one writer per file and a reader drops its page cache whenever another
    ///   connection commits: a flow of small group commits in the main file would take its
    ///   write lock hundreds of times a second and make every hot read start cold;
    /// - on **PostgreSQL**, this same database (its tables come with the main migrations; the
    ///   server has no such lock and its readers keep their caches).
    pub async fn store_of_its_own(&self, name: &str, sqlite: Schema) -> Result<Db, DbError> {
        let Some(path) = self.inner.hot.sqlite_path() else {
            return Ok(self.clone());
        };
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = match path.extension() {
            Some(ext) => format!("{stem}.{name}.{}", ext.to_string_lossy()),
            None => format!("{stem}.{name}"),
        };
        let store = Self::connect_sqlite(&path.with_file_name(file), &self.inner.settings).await?;
        store.migrate_with(sqlite).await?;
        Ok(store)
    }

    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    /// The pool for reads.
    pub fn reader(&self) -> &AnyPool {
        &self.inner.read
    }

    /// The pool for single-statement writes outside a transaction.
    pub fn writer(&self) -> &AnyPool {
        &self.inner.write
    }

    /// The least time between two group commits under load.
    pub fn group_commit_interval(&self) -> Duration {
        self.inner.group_commit_interval
    }

    /// The native driver, for the few statements of the hot paths.
    pub fn hot(&self) -> &hot::HotDb {
        &self.inner.hot
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): the group-commit writer is a second writer, and a deferred transaction
    /// that read before it wrote would fail instead of waiting for it.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, DbError> {
        Ok(match self.inner.dialect {
            Dialect::Sqlite => self.inner.write.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.inner.write.begin().await?,
        })
    }

    /// Runs `work` in a write transaction ([`Db::begin`]): committed when it returns `Ok`,
    /// rolled back (by dropping it) when it returns an error, so that nothing is half-written.
    ///
    /// ```ignore
    /// db.transaction(|tx| Box::pin(async move { store::insert(tx, &row).await })).await?
    /// ```
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: for<'c> FnOnce(
            &'c mut Transaction<'static, Any>,
        ) -> futures::future::BoxFuture<'c, Result<T, E>>,
        E: From<DbError> + From<sqlx::Error>,
    {
        let mut tx = self.begin().await?;
        let value = work(&mut tx).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.inner.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.inner.read.close().await;
        self.inner.write.close().await;
        self.inner.hot.close().await;
    }
}

/// Pool size, acquire timeout and group-commit interval.
fn pool_settings(settings: &DatabaseSettings) -> (u32, Duration, Duration) {
    (
        settings.max_connections,
        Duration::from_secs(settings.acquire_timeout_secs.max(1)),
        Duration::from_millis(settings.group_commit_interval_ms),
    )
}

/// Reading connections per CPU on SQLite.
pub const SQLITE_READERS_PER_CPU: usize = 2;

/// The reading connections of a SQLite database: `max_connections`, but no more than
/// [`SQLITE_READERS_PER_CPU`] per CPU (at least 2). A SQLite read of cached pages is all CPU,
/// so readers beyond the CPUs add no speed; and each keeps a page cache of its own, so that
/// many readers each see a small share of the reads and find fewer pages in their cache (on
/// the national dataset, one core: 16 readers made the lists' p99 a third longer than 2 or 4).
pub fn sqlite_readers(max_connections: u32, cpus: usize) -> u32 {
    let by_cpus = u32::try_from(cpus.saturating_mul(SQLITE_READERS_PER_CPU)).unwrap_or(u32::MAX);
    max_connections.min(by_cpus.max(2)).max(1)
}

/// Every SQLite connection: WAL lets readers work beside the writer; FULL makes every commit
/// durable; a busy wait instead of an immediate SQLITE_BUSY.
async fn sqlite_setup(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute(sqlx::raw_sql(
        "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    ))
    .await?;
    Ok(())
}

fn sqlite_reason(e: &sqlx::Error) -> String {
    let text = e.to_string();
    if text.contains("not a database") || text.contains("malformed") {
        format!("the file is not a SQLite database or is corrupt ({text})")
    } else if text.contains("unable to open") || text.contains("readonly") {
        format!("the file cannot be opened for reading and writing ({text})")
    } else {
        text
    }
}

/// The placeholders of an `IN (…)` list of `n` values numbered from `$first`:
/// `placeholders(2, 3)` is `$2, $3, $4`.
pub fn placeholders(first: usize, n: usize) -> String {
    let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    list.join(", ")
}

/// Milliseconds since the Unix epoch: the portable timestamp of every table.
pub fn now_millis() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_readers_follow_the_cpus_within_the_setting() {
        assert_eq!(sqlite_readers(16, 1), 2);
        assert_eq!(sqlite_readers(16, 2), 4);
        assert_eq!(sqlite_readers(16, 64), 16);
        assert_eq!(sqlite_readers(3, 8), 3);
        assert_eq!(sqlite_readers(1, 8), 1);
        assert_eq!(sqlite_readers(0, 8), 1);
    }

    #[test]
    fn in_lists_number_their_placeholders_from_the_first() {
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
        assert_eq!(placeholders(1, 1), "$1");
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite://data/x.db"),
            Some(PathBuf::from("data/x.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///abs/x.db?mode=rwc"),
            Some(PathBuf::from("/abs/x.db"))
        );
        assert_eq!(sqlite_path("sqlite:x.db"), Some(PathBuf::from("x.db")));
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }

    #[test]
    fn described_urls_hide_passwords() {
        assert_eq!(
            describe_url("postgres://u:secret@h:5432/db"),
            "postgres://…@h:5432/db"
        );
    }

    #[tokio::test]
    async fn a_corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.db");
        std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
        let err = Db::connect(
            &format!("sqlite://{}", path.display()),
            &DatabaseSettings::default(),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("not a SQLite database"), "{err}");
    }

    #[tokio::test]
    async fn a_directory_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Db::connect(
            &format!("sqlite://{}", dir.path().display()),
            &DatabaseSettings::default(),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("directory"), "{err}");
    }

    #[tokio::test]
    async fn a_missing_file_is_created_and_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/new.db");
        let db = Db::connect(
            &format!("sqlite://{}", path.display()),
            &DatabaseSettings::default(),
        )
        .await
        .unwrap();
        db.migrate().await.unwrap();
        db.migrate().await.unwrap();
        db.ping().await.unwrap();
        assert!(path.is_file());
    }
}
