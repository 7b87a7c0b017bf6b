//! Group commits: every caller waits until its own record is committed (durable before the
//! answer), but one transaction — one flush — serves all the records that arrived meanwhile.
//! For hot paths (the token endpoints), where a flush per request would cost more than the
//! request.
//!
//! The writer uses the native driver ([`crate::db::hot`]):
//! - on **SQLite**, a thread of its own with one connection: `BEGIN IMMEDIATE`, the single-row
//!   INSERT prepared once and run per record, `COMMIT` (`synchronous = FULL`); the WAL is
//!   checkpointed by the writer after it has acknowledged a commit, not inside the commit
//!   ([`CHECKPOINT_FRAMES`]);
//! - on **PostgreSQL**, a task that writes a whole group in one statement (`INSERT … SELECT *
//!   FROM UNNEST($1::text[], …)`) on a session with `synchronous_commit = on`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
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
    counts: Arc<Counts>,
}

impl<T> Clone for GroupCommit<T> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            counts: self.counts.clone(),
        }
    }
}

/// What the writer has done so far.
#[derive(Default)]
struct Counts {
    /// Commits (groups) started.
    commits: AtomicU64,
    /// Commits started while the runtime was saturated: each was given a pause after the
    /// previous one started, to gather company ([`Pacing::next_commit`]).
    paced: AtomicU64,
}

/// Records taken into one transaction at most.
pub const GROUP_MAX: usize = 512;
const QUEUE: usize = 8192;
// When to commit. While the server has time to spare, a commit starts as soon as the writer
// has a record (the records that arrive during a commit make the next group): the latency
// stays one flush. When the server's runtime is saturated, the latency is its queue anyway,
// and the commits' own CPU competes with the requests: a commit then starts no sooner than
// `database.group_commit_interval_ms` after the previous one started, so that one flush
// serves many records (in the spirit of PostgreSQL's `commit_delay`, which waits only when
// enough other transactions are running). A SQLite commit with `synchronous = FULL` costs
// the writer far more CPU than one record (the flush above all). The load is the busy share of the runtime's workers (tokio's runtime metrics),
// sampled at most every [`SAMPLE`]. On SQLite a paced pause ends early once every worker has
// parked: the requests' reads there do not park the workers (they run on the calling thread),
// so with a bounded number of callers (a closed loop of 32 connections, say) a park means that
// all of them are waiting for the commit, and the CPU would idle for the rest of the pause.

impl<T: GroupRecord> GroupCommit<T> {
    /// Starts the writer on `db`; `what` names the records in logs. On PostgreSQL it must be
    /// called within a tokio runtime.
    pub fn spawn(db: &Db, what: &'static str) -> Self {
        let (queue, rx) = mpsc::channel::<Entry<T>>(QUEUE);
        let counts = Arc::new(Counts::default());
        let hot = db.hot();
        if let Some(pool) = hot.pg() {
            let pace = Pace::new(db.group_commit_interval(), counts.clone());
            tokio::spawn(postgres_writer(pool.clone(), rx, what, pace));
        } else if let Some(path) = hot.sqlite_path() {
            let path = path.to_path_buf();
            let pace = Pace::new(db.group_commit_interval(), counts.clone());
            let started = std::thread::Builder::new()
                .name(format!("group-commit {what}"))
                .spawn(move || sqlite_writer(path, rx, what, pace));
            if let Err(e) = started {
                // The receiver is gone with the closure: every record is refused.
                tracing::error!(error = %e, what, "cannot start the group-commit writer");
            }
        }
        Self { queue, counts }
    }

    /// The commits (groups) the writer has started so far.
    pub fn commits(&self) -> u64 {
        self.counts.commits.load(Ordering::Relaxed)
    }

    /// The commits started while the runtime was saturated, each paced to gather company.
    pub fn paced_commits(&self) -> u64 {
        self.counts.paced.load(Ordering::Relaxed)
    }

    /// Appends `record`; returns once it is committed (`false` if it could not be).
    pub async fn record(&self, record: T) -> bool {
        self.submit(record).await.committed().await
    }

    /// Hands `record` to the writer and returns at once: the commit runs while the caller
    /// does its own work, and [`Pending::committed`] waits for it.
    pub async fn submit(&self, record: T) -> Pending {
        let (done, committed) = oneshot::channel();
        match self.queue.send((record, done)).await {
            Ok(()) => Pending(Some(committed)),
            Err(_) => Pending(None),
        }
    }
}

/// A record handed to the writer ([`GroupCommit::submit`]).
#[must_use = "a record is durable only once `committed` says so"]
pub struct Pending(Option<oneshot::Receiver<bool>>);

impl Pending {
    /// Waits until the record is committed (`true`) or could not be (`false`).
    pub async fn committed(self) -> bool {
        match self.0 {
            Some(committed) => committed.await.unwrap_or(false),
            None => false,
        }
    }
}

/// How often the writer looks at the runtime's load, at most. tokio publishes a busy
/// worker's time only every 61 task polls (and when it parks), which under load can be tens
/// of milliseconds: a shorter sample would swing between nothing and double.
pub const SAMPLE: Duration = Duration::from_millis(500);

/// The share of `database.group_commit_interval_ms` a commit waits after the previous one
/// started, for a runtime whose workers were busy `busy` (0 to 1) of the last sample: none
/// below 75%, all of it from 95%, in proportion between (no sudden jump for a load that
/// hovers around one threshold).
pub fn pause_share(busy: f64) -> f64 {
    if busy.is_nan() {
        return 0.0;
    }
    ((busy - 0.75) / 0.20).clamp(0.0, 1.0)
}

/// The pacing decision, without IO: fed the time and the runtime's busy time, it says how
/// long a commit waits. Pure, so that its rules are tested with instants made up by the test.
#[derive(Debug, Clone)]
pub struct Pacing {
    interval: Duration,
    sampled_at: Instant,
    busy_then: Duration,
    share: f64,
    last_start: Option<Instant>,
}

/// The runtime's workers' busy time so far, all together, and how many workers there are.
#[derive(Debug, Clone, Copy)]
pub struct Busy {
    pub total: Duration,
    pub workers: usize,
}

impl Pacing {
    /// Starts at `now`, with the runtime busy `busy.total` so far (none: never waits).
    pub fn new(interval: Duration, now: Instant, busy: Option<Busy>) -> Pacing {
        Pacing {
            interval,
            sampled_at: now,
            busy_then: busy.map(|b| b.total).unwrap_or_default(),
            share: 0.0,
            last_start: None,
        }
    }

    /// A commit is about to start at `now`, the runtime's busy time being `busy`: the pause it
    /// waits first, if any. The load is sampled at most every [`SAMPLE`]; a commit then starts
    /// no sooner than the interval's [`pause_share`] after the previous one started.
    pub fn next_commit(&mut self, now: Instant, busy: Option<Busy>) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.sampled_at);
        if elapsed >= SAMPLE
            && let Some(busy) = busy
        {
            let workers = busy.workers.max(1) as f64;
            let ratio = busy.total.saturating_sub(self.busy_then).as_secs_f64()
                / (elapsed.as_secs_f64() * workers);
            self.share = pause_share(ratio);
            self.busy_then = busy.total;
            self.sampled_at = now;
        }
        let pause = self.interval.mul_f64(self.share);
        let wait = self
            .last_start
            .and_then(|at| (at + pause).checked_duration_since(now));
        self.last_start = Some(now + wait.unwrap_or_default());
        wait
    }

    /// Whether commits are being paced (the last sample found the runtime saturated).
    pub fn pacing(&self) -> bool {
        self.share > 0.0
    }
}

/// The writer's pacing, wired to the clock and to the load of the runtime that started the
/// writer.
struct Pace {
    pacing: Pacing,
    metrics: Option<tokio::runtime::RuntimeMetrics>,
    counts: Arc<Counts>,
}

impl Pace {
    /// Watches the runtime of the calling thread, if any (none: never waits).
    fn new(interval: Duration, counts: Arc<Counts>) -> Pace {
        let metrics = tokio::runtime::Handle::try_current()
            .ok()
            .map(|h| h.metrics());
        let busy = metrics.as_ref().map(busy_now);
        Pace {
            pacing: Pacing::new(interval, Instant::now(), busy),
            metrics,
            counts,
        }
    }

    /// A commit is about to start: counts it, and says how long it should wait first, if at
    /// all.
    fn next_commit(&mut self) -> Option<Duration> {
        let busy = self.metrics.as_ref().map(busy_now);
        let wait = self.pacing.next_commit(Instant::now(), busy);
        self.counts.commits.fetch_add(1, Ordering::Relaxed);
        if self.pacing.pacing() {
            self.counts.paced.fetch_add(1, Ordering::Relaxed);
        }
        wait
    }

    /// Each of the runtime's workers' count of parks and unparks so far: odd while it is
    /// parked (none without a runtime to watch).
    fn parks(&self) -> Vec<u64> {
        self.metrics.as_ref().map_or_else(Vec::new, |m| {
            (0..m.num_workers())
                .map(|w| m.worker_park_unpark_count(w))
                .collect()
        })
    }

    /// The pause `wait` before a paced commit, cut short once every worker of the runtime
    /// has parked since it began: the runtime has run out of work, so the requests that could
    /// join this commit are already in it (or waiting for it), and waiting longer would only
    /// leave the CPU idle. Looks every [`PAUSE_STEP`].
    fn pause_blocking(&self, wait: Duration) {
        let before = self.parks();
        let end = Instant::now() + wait;
        while !ran_out_of_work(&before, &self.parks()) {
            let Some(left) = end.checked_duration_since(Instant::now()) else {
                break;
            };
            std::thread::sleep(left.min(PAUSE_STEP));
        }
    }
}

/// How often a paced commit's pause looks whether the runtime has run out of work.
pub const PAUSE_STEP: Duration = Duration::from_micros(500);

/// Whether every worker has been parked (found nothing to do) at some moment from `before` to
/// `now`, two readings of the workers' park-and-unpark counts of the same runtime. tokio
/// publishes a worker's count as it parks and again as it wakes: odd while parked. A worker
/// was working all along only if its count is even and unchanged. (A pause that begins while
/// the workers are parked, every caller already waiting for the commit, ends at once.) No
/// workers: never.
pub fn ran_out_of_work(before: &[u64], now: &[u64]) -> bool {
    !before.is_empty()
        && before.len() == now.len()
        && before.iter().zip(now).all(|(b, n)| n % 2 == 1 || n != b)
}

fn busy_now(metrics: &tokio::runtime::RuntimeMetrics) -> Busy {
    Busy {
        total: busy_total(metrics),
        workers: metrics.num_workers(),
    }
}

/// The time the runtime's workers have spent busy so far, all together.
fn busy_total(metrics: &tokio::runtime::RuntimeMetrics) -> Duration {
    (0..metrics.num_workers())
        .map(|w| metrics.worker_total_busy_duration(w))
        .sum()
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

/// The scheduler slice the SQLite writer thread asks for ([`ask_for_short_slice`]): long
/// enough for a commit's whole CPU burst before its flush, so that the woken writer is not
/// preempted mid-burst to wait for a signature in progress, and still shorter than the
/// kernel's default (0.75 ms times 1 + log2 of the CPUs), so that the writer keeps the
/// earlier deadline. The measurements that chose it are in BENCHMARKS.md's history.
pub const WRITER_SLICE: Duration = Duration::from_millis(1);

/// Asks the kernel for a short scheduler slice for the calling thread (Linux 6.12 and later,
/// `sched_setattr` with `sched_runtime` under `SCHED_OTHER`, nice unchanged). Under EEVDF a
/// thread with a shorter slice has an earlier deadline, so a waking writer gets a CPU busy
/// with a request (a voucher's signature is 0.3 to 1.5 ms of uninterrupted work) at once: its
/// commit and flush then overlap that work instead of following it, as long as its burst fits
/// in the slice (see [`WRITER_SLICE`]). A kernel that does not
/// know the field ignores it or refuses the call; either way nothing else changes.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn ask_for_short_slice(slice: Duration) -> std::io::Result<()> {
    let runtime = u64::try_from(slice.as_nanos()).unwrap_or(u64::MAX);
    // SAFETY: `__errno_location` is the calling thread's errno; `getpriority` reads its
    // arguments only; `sched_setattr` reads `attr`, which lives across the call, and
    // `attr.size` tells the kernel its layout.
    unsafe {
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, 0);
        if nice == -1 && *libc::__errno_location() != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut attr: libc::sched_attr = std::mem::zeroed();
        attr.size = std::mem::size_of::<libc::sched_attr>() as u32;
        attr.sched_policy = libc::SCHED_OTHER as u32;
        attr.sched_nice = nice;
        attr.sched_runtime = runtime;
        if libc::syscall(
            libc::SYS_sched_setattr,
            0,
            &attr as *const libc::sched_attr,
            0,
        ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Elsewhere the default slice stays.
#[cfg(not(target_os = "linux"))]
pub fn ask_for_short_slice(_slice: Duration) -> std::io::Result<()> {
    Ok(())
}

/// The size of the WAL, in frames, past which the writer copies it into the database file
/// (SQLite's own default for its automatic checkpoint). The writer checkpoints itself, after
/// acknowledging the commit that took the log past this size: SQLite's automatic checkpoint
/// would run inside that commit, and every record of the commit (and those queued behind it)
/// would wait for the page copy and the flush of the database file.
pub const CHECKPOINT_FRAMES: i32 = 1000;

/// The SQLite writer's connection, with the size of its WAL after its last commit.
struct SqliteWriter {
    conn: rusqlite::Connection,
    /// Set by SQLite's WAL hook ([`wal_frames`]) at every commit; lives as long as `conn`,
    /// which is dropped (closed) first.
    frames: Box<AtomicI32>,
}

/// SQLite's WAL hook: called after each commit with the frames in the log. Installing it
/// replaces SQLite's automatic checkpoint, which would run inside the commit (before its
/// records could be acknowledged); the writer checkpoints after acknowledging instead.
#[allow(unsafe_code)]
extern "C" fn wal_frames(
    frames_seen: *mut std::ffi::c_void,
    _db: *mut rusqlite::ffi::sqlite3,
    _name: *const std::ffi::c_char,
    frames: std::ffi::c_int,
) -> std::ffi::c_int {
    // SAFETY: `frames_seen` is the `AtomicI32` of the connection's `SqliteWriter`, which
    // outlives the connection (see `SqliteWriter::open`).
    unsafe { (*(frames_seen as *const AtomicI32)).store(frames, Ordering::Relaxed) };
    rusqlite::ffi::SQLITE_OK
}

impl SqliteWriter {
    #[allow(unsafe_code)]
    fn open(path: &std::path::Path) -> Result<Self, rusqlite::Error> {
        let conn = open_sqlite(path)?;
        let frames = Box::new(AtomicI32::new(0));
        let seen: *const AtomicI32 = &*frames;
        // SAFETY: the handle is this open connection's; the hook's argument points into
        // `frames`, a heap allocation that is neither moved nor freed before the connection
        // is closed (field order in `SqliteWriter`).
        unsafe {
            rusqlite::ffi::sqlite3_wal_hook(
                conn.handle(),
                Some(wal_frames),
                seen as *mut std::ffi::c_void,
            );
        }
        Ok(Self { conn, frames })
    }

    /// Copies the WAL into the database file once it has grown past [`CHECKPOINT_FRAMES`]
    /// (a passive checkpoint: it copies what no reader still needs and waits for nobody).
    fn checkpoint_if_due(&mut self, what: &str) {
        if self.frames.load(Ordering::Relaxed) < CHECKPOINT_FRAMES {
            return;
        }
        self.frames.store(0, Ordering::Relaxed);
        if let Err(e) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        {
            tracing::warn!(error = %e, what, "checkpoint failed");
        }
    }
}

fn sqlite_writer<T: GroupRecord>(
    path: PathBuf,
    mut rx: mpsc::Receiver<Entry<T>>,
    what: &str,
    mut pace: Pace,
) {
    if let Err(e) = ask_for_short_slice(WRITER_SLICE) {
        tracing::debug!(error = %e, what, "the group-commit writer keeps the default slice");
    }
    let insert = sqlite_insert::<T>();
    let mut writer: Option<SqliteWriter> = None;
    let mut batch: Vec<Entry<T>> = Vec::with_capacity(GROUP_MAX);
    while let Some(first) = rx.blocking_recv() {
        if let Some(wait) = pace.next_commit() {
            pace.pause_blocking(wait);
        }
        batch.push(first);
        take_waiting(&mut rx, &mut batch);
        let written = write_sqlite(&mut writer, &path, &insert, &batch);
        if let Err(e) = &written {
            tracing::error!(error = %e, records = batch.len(), what, "group commit failed");
            // The next group starts on a new connection, whatever state this one is in.
            writer = None;
        }
        acknowledge(&mut batch, written.is_ok());
        if let Some(w) = &mut writer {
            w.checkpoint_if_due(what);
        }
    }
}

fn write_sqlite<T: GroupRecord>(
    writer: &mut Option<SqliteWriter>,
    path: &std::path::Path,
    insert: &str,
    batch: &[Entry<T>],
) -> Result<(), rusqlite::Error> {
    let writer = match writer {
        Some(w) => w,
        None => writer.insert(SqliteWriter::open(path)?),
    };
    let tx = writer
        .conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
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
    mut pace: Pace,
) {
    let insert = postgres_insert::<T>();
    let mut batch: Vec<Entry<T>> = Vec::with_capacity(GROUP_MAX);
    loop {
        let Some(first) = rx.recv().await else {
            break;
        };
        if let Some(wait) = pace.next_commit() {
            // The whole pause: a request's own reads on PostgreSQL park the workers too (they
            // wait for the server's answers), so a park does not mean that every caller is
            // waiting for this commit (ending the pause there made the exchange's commits
            // several times as many, and the exchange slower).
            tokio::time::sleep(wait).await;
        }
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
    fn commits_wait_only_when_the_runtime_is_saturated() {
        assert_eq!(pause_share(0.0), 0.0);
        assert_eq!(pause_share(0.5), 0.0);
        assert_eq!(pause_share(0.75), 0.0);
        assert!((pause_share(0.85) - 0.5).abs() < 1e-9);
        assert!((pause_share(0.95) - 1.0).abs() < 1e-9);
        assert_eq!(pause_share(1.3), 1.0);
        assert_eq!(pause_share(f64::NAN), 0.0);
    }

    fn busy(ms: u64) -> Option<Busy> {
        Some(Busy {
            total: Duration::from_millis(ms),
            workers: 1,
        })
    }

    #[test]
    fn an_idle_runtime_commits_at_once_and_a_saturated_one_waits_the_interval() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let interval = Duration::from_millis(400);
        let mut pacing = Pacing::new(interval, t0, busy(0));
        // Idle: commits in a row start at once, before and after a sample.
        assert_eq!(pacing.next_commit(at(1), busy(0)), None);
        assert_eq!(pacing.next_commit(at(2), busy(1)), None);
        assert_eq!(pacing.next_commit(at(600), busy(60)), None);
        assert!(!pacing.pacing());
        // Busy all along for the next sample: the commit after it waits the whole interval
        // from the start of the previous one, however long that one took.
        assert_eq!(pacing.next_commit(at(1200), busy(660)), None);
        assert!(pacing.pacing());
        assert_eq!(
            pacing.next_commit(at(1300), busy(760)),
            Some(Duration::from_millis(300))
        );
        // That commit started at 1600; one asked for at 1700 waits until 2000.
        assert_eq!(
            pacing.next_commit(at(1700), busy(1160)),
            Some(Duration::from_millis(300))
        );
        // A commit asked for after the interval has passed does not wait.
        assert_eq!(pacing.next_commit(at(2500), busy(1960)), None);
        assert!(pacing.pacing());
        // Busy half of the next sample: back to committing at once.
        assert_eq!(pacing.next_commit(at(3200), busy(2310)), None);
        assert!(!pacing.pacing());
        assert_eq!(pacing.next_commit(at(3201), busy(2310)), None);
    }

    #[test]
    fn a_pause_ends_once_every_worker_has_parked() {
        assert!(!ran_out_of_work(&[4], &[4]), "working all along");
        assert!(ran_out_of_work(&[4], &[5]), "parked now");
        assert!(ran_out_of_work(&[4], &[6]), "parked and woke since");
        assert!(ran_out_of_work(&[5], &[5]), "parked all along");
        assert!(ran_out_of_work(&[5], &[6]), "parked at the start");
        assert!(ran_out_of_work(&[4, 8], &[6, 9]));
        assert!(
            !ran_out_of_work(&[4, 8], &[6, 8]),
            "one worker busy all along"
        );
        assert!(
            !ran_out_of_work(&[], &[]),
            "no runtime watched: the whole pause"
        );
        assert!(!ran_out_of_work(&[4], &[6, 1]), "counts of another runtime");
    }

    #[test]
    fn without_a_runtime_to_watch_commits_never_wait() {
        let t0 = Instant::now();
        let mut pacing = Pacing::new(Duration::from_secs(60), t0, None);
        for ms in [0, 1, 600, 601, 5000] {
            assert_eq!(
                pacing.next_commit(t0 + Duration::from_millis(ms), None),
                None
            );
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
