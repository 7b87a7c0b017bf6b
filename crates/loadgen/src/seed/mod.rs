//! `loadgen seed`: a national-scale dataset written with multi-row INSERTs of the app's own
//! schema, deterministic from `--seed` (except the RSA key pool and the AES-GCM nonces of the
//! sealed API keys, which come from the system's random source as the app's do).

use std::path::PathBuf;
use std::time::Instant;

use platform::db::{Db, Dialect};
use sqlx::{Any, Transaction};

use crate::Error;

mod devportal;
mod interop;
mod io;
mod reserved_area;

/// What `loadgen seed` was asked.
pub struct Options {
    /// 1.0 is national scale.
    pub scale: f64,
    pub database_url: String,
    pub devportal_database_url: Option<String>,
    pub seed: u64,
    /// The master key file that seals the IO API keys (created when missing).
    pub master_key_file: PathBuf,
}

/// Parses `national` or a fraction.
pub fn parse_scale(s: &str) -> Result<f64, String> {
    if s == "national" {
        return Ok(1.0);
    }
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!(
            "--scale: `national` or a fraction in (0, 1], not {s}"
        )),
    }
}

/// A count at `scale`, at least `min`.
pub(crate) fn scaled(national: usize, scale: f64, min: usize) -> usize {
    ((national as f64 * scale).round() as usize).max(min)
}

/// SplitMix64: small, fast, deterministic.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64, stream: u64) -> Rng {
        Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `0..n` (`n` > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub(crate) fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        out
    }

    /// A version-4 UUID.
    pub(crate) fn uuid(&mut self) -> String {
        uuid::Builder::from_random_bytes(self.bytes::<16>())
            .into_uuid()
            .to_string()
    }

    /// A ULID at `millis`.
    pub(crate) fn ulid(&mut self, millis: i64) -> String {
        platform::ids::ulid(millis as u64, self.bytes::<10>())
    }

    /// 32 lower-case hex characters (an API key's shape).
    pub(crate) fn hex32(&mut self) -> String {
        self.bytes::<16>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A bound value.
pub(crate) enum V {
    T(String),
    I(i64),
    NullT,
    NullI,
    B(Vec<u8>),
}

pub(crate) fn t(s: impl Into<String>) -> V {
    V::T(s.into())
}

/// Rows of one table, sent as multi-row INSERTs (one statement per chunk).
pub(crate) struct Bulk {
    table: &'static str,
    columns: &'static [&'static str],
    values: Vec<V>,
    max_rows: usize,
    pub(crate) rows: u64,
}

impl Bulk {
    pub(crate) fn new(table: &'static str, columns: &'static [&'static str]) -> Bulk {
        // About a thousand parameters a statement: SQLite looks a `$N` up by a linear scan
        // of the statement's names (sqlite3_bind_parameter_name), so binding is quadratic in
        // their number; PostgreSQL gains little beyond that.
        let max_rows = (1_000 / columns.len()).clamp(1, 1_000);
        Bulk {
            table,
            columns,
            values: Vec::with_capacity(max_rows * columns.len()),
            max_rows,
            rows: 0,
        }
    }

    pub(crate) async fn push(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        row: Vec<V>,
    ) -> Result<(), Error> {
        if row.len() != self.columns.len() {
            return Err(format!(
                "{}: {} values for {} columns",
                self.table,
                row.len(),
                self.columns.len()
            )
            .into());
        }
        let _ = tx;
        self.values.extend(row);
        self.rows += 1;
        Ok(())
    }

    fn full(&self) -> bool {
        self.values.len() >= self.max_rows * self.columns.len()
    }

    pub(crate) async fn flush(&mut self, tx: &mut Transaction<'static, Any>) -> Result<(), Error> {
        if self.values.is_empty() {
            return Ok(());
        }
        let width = self.columns.len();
        let n = self.values.len() / width;
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.table,
            self.columns.join(", ")
        );
        let mut p = 1;
        for r in 0..n {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..width {
                if c > 0 {
                    sql.push(',');
                }
                sql.push('$');
                sql.push_str(&p.to_string());
                p += 1;
            }
            sql.push(')');
        }
        let mut q = sqlx::query(&sql);
        for v in self.values.drain(..) {
            q = match v {
                V::T(s) => q.bind(s),
                V::I(i) => q.bind(i),
                V::NullT => q.bind(Option::<String>::None),
                V::NullI => q.bind(Option::<i64>::None),
                V::B(b) => q.bind(b),
            };
        }
        q.execute(&mut **tx)
            .await
            .map_err(|e| format!("{}: {e}", self.table))?;
        Ok(())
    }
}

/// When one of `group` is full, flushes them all, in order: parents before the rows that
/// refer to them (a row is written only after the rows its foreign keys name).
pub(crate) async fn flush_full(
    tx: &mut Transaction<'static, Any>,
    group: &mut [&mut Bulk],
) -> Result<(), Error> {
    if group.iter().any(|b| b.full()) {
        for b in group.iter_mut() {
            b.flush(tx).await?;
        }
    }
    Ok(())
}

/// An institution as the other parts need it.
#[derive(Clone)]
pub(crate) struct Institution {
    pub id: String,
    pub name: String,
    pub tax_code: String,
    pub ipa_code: String,
    pub category: String,
    pub typology: String,
    pub io: bool,
    pub interop: bool,
    /// Its first manager: the admin of every product it is onboarded to.
    pub admin_user: String,
    pub admin_name: (String, String),
}

/// Milliseconds: 2025-01-01T00:00:00Z, the start of the seeded history.
pub(crate) const EPOCH: i64 = 1_735_689_600_000;

/// Writes the whole dataset; prints the time per part, the rows per table, the size.
pub async fn run(o: &Options) -> Result<(), Error> {
    let started = Instant::now();
    if !o.master_key_file.exists() {
        io_backoffice::secrets::KeyRing::generate_file(&o.master_key_file)?;
    }
    let ring = io_backoffice::secrets::KeyRing::load(std::slice::from_ref(&o.master_key_file))?;
    let db = Db::connect(&o.database_url, &Default::default()).await?;
    db.migrate().await?;
    let vouchers = interop::voucher_store(&db).await?;
    if db.dialect() == Dialect::Sqlite {
        // A page cache the size of the indexes being filled: with SQLite's default (2 MiB) the
        // random keys of the big tables spill dirty pages into the WAL over and over.
        for store in [&db, &vouchers] {
            sqlx::query("PRAGMA cache_size = -1048576")
                .execute(store.writer())
                .await?;
        }
    }
    println!(
        "seed: scale {}, seed {}, {}",
        o.scale, o.seed, o.database_url
    );
    let mut counts: Vec<(&'static str, u64)> = Vec::new();

    let t0 = Instant::now();
    let institutions = reserved_area::seed(&db, o, &mut counts).await?;
    println!("  reserved area   {:>8.1} s", t0.elapsed().as_secs_f64());

    let t0 = Instant::now();
    io::seed(&db, &ring, o, &institutions, &mut counts).await?;
    println!("  io back-office  {:>8.1} s", t0.elapsed().as_secs_f64());

    let t0 = Instant::now();
    interop::seed(&db, &vouchers, o, &institutions, &mut counts).await?;
    println!("  interop         {:>8.1} s", t0.elapsed().as_secs_f64());

    let t0 = Instant::now();
    devportal::seed(&db, o, &institutions, &mut counts).await?;
    println!("  dev portal      {:>8.1} s", t0.elapsed().as_secs_f64());

    if db.dialect() == Dialect::Postgres {
        // What autovacuum would do within minutes of a bulk load: the planner's statistics,
        // and the visibility map that lets the list statements read their indexes alone. Only
        // for the tables written: an empty table analysed is "known empty" to the planner,
        // which then plans for no rows long after a run has filled it (the import's work
        // queue, claimed thousands of times in a few seconds, before autovacuum comes by).
        let t0 = Instant::now();
        let existing: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(tablename AS TEXT) FROM pg_tables WHERE schemaname = current_schema()",
        )
        .fetch_all(db.reader())
        .await?;
        let written: std::collections::BTreeSet<&str> = counts
            .iter()
            .filter(|(table, n)| *n > 0 && existing.iter().any(|e| e == table))
            .map(|(table, _)| *table)
            .collect();
        if !written.is_empty() {
            let list = written.into_iter().collect::<Vec<_>>().join(", ");
            sqlx::query(&format!("VACUUM (ANALYZE) {list}"))
                .execute(db.writer())
                .await?;
        }
        println!("  vacuum analyze  {:>8.1} s", t0.elapsed().as_secs_f64());
    }

    println!("rows written:");
    for (table, n) in &counts {
        println!("  {table:<28} {n:>10}");
    }
    let size = database_size(&db, &o.database_url).await?;
    println!("database size: {:.1} MiB", size as f64 / 1_048_576.0);
    println!("total: {:.1} s", started.elapsed().as_secs_f64());
    vouchers.close().await;
    db.close().await;
    Ok(())
}

async fn database_size(db: &Db, url: &str) -> Result<u64, Error> {
    match db.dialect() {
        Dialect::Postgres => {
            let n: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                .fetch_one(db.reader())
                .await?;
            Ok(u64::try_from(n).unwrap_or(0))
        }
        Dialect::Sqlite => {
            let Some(path) = platform::db::sqlite_path(url) else {
                return Ok(0);
            };
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(db.writer())
                .await;
            let mut total = 0;
            let dir = path.parent().map(PathBuf::from).unwrap_or_default();
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            }) {
                for e in entries.flatten() {
                    if e.file_name().to_string_lossy().starts_with(&stem) {
                        total += e.metadata().map(|m| m.len()).unwrap_or(0);
                    }
                }
            }
            Ok(total)
        }
    }
}

#[cfg(test)]
mod tests;
