//! The `token` scenario: `POST /interop/collaudo/token.oauth2` with valid client assertions,
//! the server on one core, next to the raw RSA-2048 sign rate of that core.
//!
//! Everything the endpoint needs is prepared through the real JSON API (an ACTIVE agreement and
//! purpose on SEND - UAT for the demo Comune, consumer clients with uploaded keys and the
//! purpose linked); the client assertions are all signed before the timed part, on every core,
//! since each costs as much as the server's own signature.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use interop::model::Environment;
use interop::model::client::ClientKind;
use interop::store::tokens::{self, VoucherRecord};
use platform::db::{Db, Dialect};
use platform::group_commit::GroupCommit;
use serde_json::{Value, json};

use crate::{Error, json_of};

// Mario, the Comune's admin; Luca, given admin on Interoperabilità Collaudo here.
use selfcare::demo::{LUCA, MARIO};
const COLL: &str = "/interop/collaudo";
const SEND: &str = "SEND - UAT (Piattaforma Notifiche)";
const AUDIENCE: &str = "auth.uat.interop.pagopa.it/client-assertion";
const ASSERTION_TYPE: &str = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer";
/// The target of `quality.md`: vouchers/s on one core ≥ 75% of the raw sign rate.
const TARGET_RATIO: f64 = 0.75;
/// p99 at half load.
const TARGET_P99: Duration = Duration::from_millis(5);
const WARMUP: Duration = Duration::from_secs(1);
const REFERENCE: Duration = Duration::from_secs(3);

pub struct Options {
    pub database_url: Option<String>,
    pub connections: usize,
    pub duration: Duration,
    pub clients: usize,
    pub server_threads: usize,
    pub database_connections: Option<u32>,
    pub commit_interval_ms: Option<u64>,
}

pub(crate) mod cores;
pub(crate) mod keys;
pub(crate) mod load;
pub(crate) mod prepare;
mod probe;
pub(crate) mod server;

use cores::*;
use keys::*;
use load::*;
use prepare::*;
use probe::*;
use server::*;

// ---- the scenario ----

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub fn run(options: &Options) -> Result<(), Error> {
    let placement = Placement::new(options.server_threads);
    let dir = tempfile::tempdir()?;
    let mut settings = selfcare::Settings::default();
    settings.http.listen = "127.0.0.1:0".parse()?;
    settings.database.url = options.database_url.clone();
    settings.devportal.listen = "127.0.0.1:0".parse()?;
    settings.log.level = "warn".into();
    if let Some(n) = options.database_connections {
        settings.database.max_connections = n;
    }
    if let Some(ms) = options.commit_interval_ms {
        settings.database.group_commit_interval_ms = ms;
    }
    // All the load comes from one address and one institution: the limits must not count.
    settings.interop.token.rate_limit_per_address = 1_000_000_000;
    settings.interop.token.rate_limit_per_consumer = 1_000_000_000;
    println!(
        "token: starting the demo app ({} worker thread(s), {}), load generator on {}…",
        options.server_threads,
        Placement::describe(&placement.server),
        Placement::describe(&placement.load)
    );
    let server = Server::start(
        settings,
        dir.path().join("data"),
        options.server_threads,
        &placement.server,
    )?;
    let base = format!("http://{}", server.addr);
    let url = format!("{base}{COLL}/token.oauth2");
    let dialect = server.db.dialect();
    let max_connections = options
        .database_connections
        .unwrap_or_else(|| platform::config::DatabaseSettings::default().max_connections);

    println!(
        "token: preparing through the JSON API: agreement, purpose, {} clients with a key each…",
        options.clients
    );
    let setup = tokio::runtime::Builder::new_current_thread()
        .thread_name("setup")
        .enable_all()
        .build()?;
    let http = reqwest::Client::new();
    let prepared = setup.block_on(prepare(&http, &base, options.clients))?;
    let first = presign(&prepared.keys, &prepared.purpose_id, 1)?;
    for body in first {
        setup.block_on(check_one(&http, &url, body, &prepared.purpose_id))?;
    }
    let mut issued = 1usize;

    println!(
        "token: reference: raw RSA-2048 signatures on one core for {} s…",
        REFERENCE.as_secs()
    );
    let reference_before = raw_sign_rate(&placement.server)?;

    // The server signs once per voucher on its core(s): it cannot go faster than this.
    let full_count = (reference_before.1
        * options.server_threads as f64
        * (options.duration + WARMUP).as_secs_f64()
        * 1.15) as usize
        + 1000;
    println!("token: signing {full_count} client assertions on every core…");
    let signing = Instant::now();
    let requests = Arc::new(presign(&prepared.keys, &prepared.purpose_id, full_count)?);
    println!(
        "token:   {:.1} s ({:.0}/s)",
        signing.elapsed().as_secs_f64(),
        full_count as f64 / signing.elapsed().as_secs_f64()
    );

    println!(
        "token: full load, {} connections, {} s (after {} s of warm-up)…",
        options.connections,
        options.duration.as_secs(),
        WARMUP.as_secs()
    );
    let next = Arc::new(AtomicUsize::new(0));
    let (u, r, n, c) = (
        url.clone(),
        requests.clone(),
        next.clone(),
        options.connections,
    );
    let warmup = on_cpus("load", &placement.load, move || {
        full_load(u, r, n, c, WARMUP)
    })?;
    let (u, r, n, c, d) = (
        url.clone(),
        requests.clone(),
        next.clone(),
        options.connections,
        options.duration,
    );
    let commits = server.vouchers.commits();
    let mut full = on_cpus("load", &placement.load, move || full_load(u, r, n, c, d))?;
    full.commits = server.vouchers.commits() - commits;
    drop(requests);
    issued += warmup.ok + full.ok;

    let half_rate = full.rate() / 2.0;
    let half_count = (half_rate * options.duration.as_secs_f64()) as usize;
    println!("token: signing {half_count} client assertions for half load…");
    let paced = presign(&prepared.keys, &prepared.purpose_id, half_count)?;
    println!(
        "token: half load, {half_rate:.0} requests/s on a fixed schedule, {} s…",
        options.duration.as_secs()
    );
    let (u, c) = (url.clone(), options.connections);
    let commits = server.vouchers.commits();
    let mut half = on_cpus("load", &placement.load, move || {
        paced_load(u, paced, half_rate, c)
    })?;
    half.commits = server.vouchers.commits() - commits;
    issued += half.ok;

    println!("token: reference again…");
    let reference_after = raw_sign_rate(&placement.server)?;

    let db = server.db.clone();
    let recorded: i64 = server.run(async move {
        let store = interop::voucher_store(&db).await?;
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT CAST(COUNT(*) AS BIGINT) FROM interop_vouchers")
                .fetch_one(store.reader())
                .await?,
        )
    })?;
    println!("token: timing the endpoint's read and group commit straight on the database…");
    let key = prepared.keys.first().ok_or("no clients")?;
    let probe = server.run(probe_db(
        server.db.clone(),
        key.kid.clone(),
        key.id.clone(),
        prepared.purpose_id.clone(),
    ))?;
    server.stop()?;

    // The stricter of the two references.
    let reference = reference_before.0.max(reference_after.0);
    let reference_cpu = reference_before.1.max(reference_after.1);
    let cores = options.server_threads as f64;
    let ratio = full.rate() / (reference * cores);
    let ratio_cpu = full.cpu_rate() / reference_cpu;
    let database = match dialect {
        Dialect::Postgres => "PostgreSQL",
        Dialect::Sqlite => "SQLite (WAL, synchronous = FULL)",
    };
    println!();
    println!(
        "token: POST {COLL}/token.oauth2, {} clients, {} connections, database {database} \
         ({} connections in the app's pool)",
        options.clients, options.connections, max_connections
    );
    println!(
        "  server: {} tokio worker thread(s) on {}; load generator on {}",
        options.server_threads,
        Placement::describe(&placement.server),
        Placement::describe(&placement.load)
    );
    match dialect {
        Dialect::Sqlite => println!(
            "  note: sqlx runs each SQLite connection on a thread of its own; started from the \
             server's runtime, they inherit its CPUs ({}) and count as the server's",
            Placement::describe(&placement.server)
        ),
        Dialect::Postgres => println!(
            "  note: the PostgreSQL server's processes are not pinned (they share every CPU, \
             the load generator's too) and do not count as the server's CPU time"
        ),
    }
    for (name, phase) in [("full load", &full), ("half load", &half)] {
        println!(
            "  {name:<10} {:>8.0} vouchers/s  p50 {}  p90 {}  p99 {}  max {}",
            phase.rate(),
            ms(phase.percentile(0.50)),
            ms(phase.percentile(0.90)),
            ms(phase.percentile(0.99)),
            ms(phase.percentile(1.0)),
        );
        println!(
            "             {} in {:.2} s; {:.0} µs of server CPU per voucher; {}",
            phase.ok,
            phase.elapsed.as_secs_f64(),
            phase.server_cpu.as_secs_f64() * 1e6 / phase.ok.max(1) as f64,
            phase.describe_cpu(&placement.server)
        );
        println!(
            "             {} group commits, {:.1} records each",
            phase.commits,
            phase.ok as f64 / phase.commits.max(1) as f64
        );
    }
    println!(
        "             requests sent on schedule, at most {} late",
        ms(half.max_lag)
    );
    let by_second: Vec<String> = half
        .p99_by_second
        .iter()
        .map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0))
        .collect();
    println!(
        "             p99 of each second (ms): {}",
        by_second.join(" ")
    );
    let seconds = |values: &[Duration]| -> String {
        let v: Vec<String> = values
            .iter()
            .map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0))
            .collect();
        v.join(" ")
    };
    println!(
        "             generator late at most, each second (ms): {}",
        seconds(&half.lag_by_second)
    );
    println!(
        "             CPU time stolen by the hypervisor, each second (ms): {}",
        seconds(&half.steal_by_second)
    );
    println!(
        "  reference: raw RSA-2048 signatures (aws-lc-rs, PKCS#1 SHA-256) on one core: \
         {:.0}/s before, {:.0}/s after; {:.0} µs of CPU each",
        reference_before.0,
        reference_after.0,
        1e6 / reference_cpu
    );
    println!(
        "  ratio      {:>8.1}% of {} core(s) × {reference:.0}/s (target ≥ {:.0}%)",
        ratio * 100.0,
        options.server_threads,
        TARGET_RATIO * 100.0
    );
    println!(
        "             {:>8.1}% in CPU time: signature CPU ÷ server CPU per voucher (what \
         other processes on the machine do not change)",
        ratio_cpu * 100.0
    );
    println!(
        "  database alone, one at a time (latency, idle machine): lookup {:.0} µs; group commit {}",
        probe.lookup.as_secs_f64() * 1e6,
        probe
            .commits
            .iter()
            .map(|(n, d)| format!("of {n}: {}", ms(*d)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let all_failures = warmup.failed + full.failed + half.failed;
    println!(
        "  voucher records: {recorded} in the database, {issued} vouchers issued (200s), \
         {all_failures} failures"
    );
    for f in warmup
        .failures
        .iter()
        .chain(&full.failures)
        .chain(&half.failures)
        .take(10)
    {
        println!("    failure: {f}");
    }
    if full.exhausted {
        println!("  note: the pre-signed requests ran out before the end of the full load");
    }
    let met_rate = ratio >= TARGET_RATIO;
    let met_latency = half.percentile(0.99) <= TARGET_P99;
    println!(
        "  target: ≥ {:.0}% of the raw sign rate → {}; p99 ≤ {} at half load → {}",
        TARGET_RATIO * 100.0,
        if met_rate { "met" } else { "NOT met" },
        ms(TARGET_P99),
        if met_latency { "met" } else { "NOT met" }
    );
    if all_failures > 0 {
        return Err(format!("{all_failures} requests were not answered 200").into());
    }
    if usize::try_from(recorded).ok() != Some(issued) {
        return Err(format!("{recorded} voucher records for {issued} vouchers issued").into());
    }
    Ok(())
}
