//! `loadgen`: benchmarks of selfcare's hot paths. Each scenario prints its figures next to a
//! reference measured in the same run on the same machine, since absolute times drift from run
//! to run. Run with `cargo run --release -p loadgen -- <scenario>`.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

/// mimalloc: a request of the token endpoint makes a few hundred small allocations (HTTP,
/// JSON, the lookup's strings), and the server runs in this process, so it allocates as the
/// `selfcare` binary does (glibc's allocator cost it a visible share of its CPU time; the
/// profiles are in BENCHMARKS.md's history).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use futures::StreamExt;
use serde_json::{Value, json};

mod gateway;
mod national;
mod seed;
mod token;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
#[command(
    name = "loadgen",
    about = "Benchmarks of selfcare, with a same-run reference"
)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Not a benchmark: writes a national-scale dataset (institutions, people and roles, IO
    /// services and keys, Interoperability, activity log, vouchers, the legacy Developer
    /// Portal) with multi-row INSERTs, deterministic from SEED; prints the time per part, the
    /// rows per table and the database's size.
    Seed {
        /// `national`, or a fraction of it (e.g. 0.01).
        #[arg(long, default_value = "national", value_parser = seed::parse_scale)]
        scale: f64,
        #[arg(long)]
        database_url: String,
        /// The Developer Portal's own database (default on SQLite: `<main>.devportal.db`
        /// beside the main file; on PostgreSQL not seeded without it).
        #[arg(long)]
        devportal_database_url: Option<String>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The master key that seals the IO API keys: the app's `io.master_key_files` (created
        /// when missing).
        #[arg(long, default_value = "data/master.key")]
        master_key_file: std::path::PathBuf,
    },
    /// The import from the legacy Developer Portal: DELEGATES × SERVICES services of one
    /// institution, imported end to end over HTTP. Reference: the same number of freeze and
    /// transfer calls made straight to a second portal, with the same concurrency.
    Import {
        #[arg(long, default_value_t = 1000)]
        delegates: usize,
        #[arg(long, default_value_t = 10)]
        services: usize,
        /// Import workers of the back-office (`io.import.workers`).
        #[arg(long, default_value_t = 32)]
        workers: usize,
        /// The back-office's database (default: SQLite in a temporary directory); the portal
        /// always uses SQLite.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// The token endpoint: `POST /interop/collaudo/token.oauth2` with valid client assertions
    /// of CLIENTS consumer clients, signed beforehand, over CONNECTIONS keep-alive connections:
    /// first at full load, then at half of that rate (paced) for the latency. The server runs
    /// on SERVER_THREADS worker threads pinned to the first CPUs, the load generator on the
    /// last one. Reference: raw RSA-2048 signatures per second on the server's core.
    Token {
        /// The app's database (default: SQLite in a temporary directory).
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds of each measured phase (full load, then half load).
        #[arg(long, default_value_t = 10)]
        duration: u64,
        #[arg(long, default_value_t = 20)]
        clients: usize,
        /// Worker threads of the server's runtime.
        #[arg(long, default_value_t = 1)]
        server_threads: usize,
        /// The app's `database.max_connections` (default: the app's default).
        #[arg(long)]
        database_connections: Option<u32>,
        /// The app's `database.group_commit_interval_ms` (default: the app's default).
        #[arg(long)]
        commit_interval_ms: Option<u64>,
    },
    /// The voucher gateway (`selfcare gateway`): GET requests with valid Bearer vouchers of
    /// SEND - UAT through the gateway, its runtime on one worker thread pinned to the first
    /// CPU, to an e-service that answers at once; against the same e-service called directly.
    /// Full load (closed loop over CONNECTIONS keep-alive connections), then both paced at the
    /// same rate for the latency the gateway adds. The e-service and the load generator share
    /// the last CPU in both phases.
    Gateway {
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Seconds of each measured phase.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Distinct vouchers, used in turn.
        #[arg(long, default_value_t = 20)]
        vouchers: usize,
    },
    /// Issue #25's pages, lists and APIs on a database written by `loadgen seed`: the app
    /// started as `selfcare serve` on it (test identity provider on), its runtime on one worker
    /// thread pinned to the first CPU, the load generator on the other. Each scenario is a
    /// closed loop over CONNECTIONS keep-alive connections for DURATION seconds after 1 s of
    /// warm-up, beside the same server's `GET /healthz` measured the same way right before it;
    /// every answer must have the expected status and content.
    National {
        #[arg(long)]
        database_url: String,
        /// The master key file the seed sealed the API keys with.
        #[arg(long, default_value = "data/master.key")]
        master_key_file: std::path::PathBuf,
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Seconds of each measured phase (the reference's and the scenario's).
        #[arg(long, default_value_t = 5)]
        duration: u64,
        /// Scenarios to run, comma-separated (default: all): login, users-page, users-api,
        /// users-search, users-late, audit, io-services, io-search, io-late, io-service,
        /// manage-get, manage-list, exchange, catalogue, agreements, purposes.
        #[arg(long)]
        only: Option<String>,
        /// The app's `database.max_connections` (default: the app's default).
        #[arg(long)]
        max_connections: Option<u32>,
    },
}

const KEY: &str = "loadgen-migration-key-0123456789";
use selfcare::demo::COMUNE as COMUNE_FC;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The token scenario builds its own runtimes, each on its own threads and cores.
    if let Scenario::Token {
        database_url,
        connections,
        duration,
        clients,
        server_threads,
        database_connections,
        commit_interval_ms,
    } = cli.scenario
    {
        let options = token::Options {
            database_url,
            connections: connections.max(1),
            duration: Duration::from_secs(duration.max(1)),
            clients: clients.max(1),
            server_threads: server_threads.max(1),
            database_connections,
            commit_interval_ms,
        };
        return match token::run(&options) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("loadgen: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    // So does the gateway scenario.
    if let Scenario::Gateway {
        connections,
        duration,
        vouchers,
    } = cli.scenario
    {
        let options = gateway::Options {
            connections: connections.max(1),
            duration: Duration::from_secs(duration.max(1)),
            vouchers: vouchers.max(1),
        };
        return match gateway::run(&options) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("loadgen: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    // So does the national one.
    if let Scenario::National {
        database_url,
        master_key_file,
        connections,
        duration,
        only,
        max_connections,
    } = cli.scenario
    {
        let only = match national::parse_only(only.as_deref().unwrap_or("")) {
            Ok(only) => only,
            Err(e) => {
                eprintln!("loadgen: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        let options = national::Options {
            database_url,
            master_key_file,
            connections: connections.max(1),
            duration: Duration::from_secs(duration.max(1)),
            warmup: Duration::from_secs(1),
            only,
            sign_reference: Duration::from_secs(3),
            verbose: true,
            max_connections,
        };
        return match national::run(&options) {
            Ok(_) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("loadgen: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.scenario {
            Scenario::Import {
                delegates,
                services,
                workers,
                database_url,
            } => import(delegates, services, workers, database_url).await,
            Scenario::Seed {
                scale,
                database_url,
                devportal_database_url,
                seed,
                master_key_file,
            } => {
                seed::run(&seed::Options {
                    scale,
                    database_url,
                    devportal_database_url,
                    seed,
                    master_key_file,
                })
                .await
            }
            Scenario::Token { .. } | Scenario::Gateway { .. } | Scenario::National { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A portal on its own SQLite file with `delegates` × `services` services of the Comune.
async fn seeded_portal(
    dir: &std::path::Path,
    name: &str,
    delegates: usize,
    services: usize,
) -> Result<devportal::DevPortal, Error> {
    let url = format!("sqlite://{}", dir.join(name).display());
    let db = devportal::open_db(&url, &Default::default()).await?;
    let hash = devportal::store::hash_password("una-password-lunga").await?;
    for d in 0..delegates {
        let id = devportal::store::add_delegate(
            &db,
            &format!("delegato{d}@example.it"),
            &format!("Nome{d}"),
            &format!("Cognome{d:05}"),
            &hash,
        )
        .await?;
        for s in 0..services {
            let service: devportal::model::LegacyService = serde_json::from_value(json!({
                "name": format!("Servizio {d}-{s}"),
                "description": "Un servizio del Comune portato dal vecchio portale.",
                "organization": { "name": "Comune di Roccabella", "fiscal_code": COMUNE_FC },
                "metadata": {
                    "scope": "LOCAL",
                    "privacy_url": "https://www.comune.roccabella.it/privacy",
                    "email": "servizi@comune.roccabella.it"
                }
            }))?;
            let visibility = match s % 3 {
                0 => devportal::model::Visibility::Visible,
                1 => devportal::model::Visibility::VisibleOnce,
                _ => devportal::model::Visibility::NeverVisible,
            };
            devportal::store::add_service(&db, &id, &service, visibility).await?;
        }
    }
    let settings = devportal::Settings {
        listen: "127.0.0.1:0".parse()?,
        migration_api_key: Some(KEY.into()),
        ..Default::default()
    };
    Ok(devportal::DevPortal::start(&settings, db).await?)
}

async fn json_of(r: reqwest::RequestBuilder) -> Result<Value, Error> {
    let response = r.send().await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(format!("{status}: {body}").into());
    }
    Ok(body)
}

/// A back-office bearer token of the demo's Comune admin.
async fn admin_token(http: &reqwest::Client, base: &str) -> Result<String, Error> {
    let r = json_of(
        http.post(format!("{base}/auth/test-idp/token"))
            .json(&json!({ "fiscal_number": "RSSMRA85T10A562S" })),
    )
    .await?;
    let session = r["sessionToken"].as_str().ok_or("no session token")?;
    let list = json_of(
        http.get(format!("{base}/v2/institutions"))
            .bearer_auth(session),
    )
    .await?;
    let id = list
        .as_array()
        .and_then(|l| l.iter().find(|i| i["name"] == "Comune di Roccabella"))
        .and_then(|i| i["id"].as_str())
        .ok_or("no Comune")?;
    let r = json_of(
        http.get(format!(
            "{base}/v2/token/exchange?institutionId={id}&productId=prod-io"
        ))
        .bearer_auth(session),
    )
    .await?;
    let r = json_of(
        http.post(format!("{base}/io/api/session"))
            .json(&json!({ "identity_token": r["token"] })),
    )
    .await?;
    Ok(r["token"]
        .as_str()
        .ok_or("no back-office token")?
        .to_string())
}

async fn import(
    delegates: usize,
    services: usize,
    workers: usize,
    database_url: Option<String>,
) -> Result<(), Error> {
    let total = delegates * services;
    let dir = tempfile::tempdir()?;
    println!("import: seeding two portals with {delegates} delegates × {services} services…");
    let portal = seeded_portal(dir.path(), "portal.db", delegates, services).await?;
    let reference_portal = seeded_portal(dir.path(), "reference.db", delegates, services).await?;
    let http = reqwest::Client::new();

    // The reference: freeze and transfer every service straight on the portal, `workers`
    // at a time (the portal's own cost, without the back-office).
    let base = reference_portal.url();
    let list = json_of(
        http.get(format!("{base}/api/v1/organizations/{COMUNE_FC}/services"))
            .header("X-Functions-Key", KEY),
    )
    .await?;
    let pending: Vec<(String, String)> = list["services"]
        .as_array()
        .ok_or("no services")?
        .iter()
        .filter_map(|s| Some((s["delegateId"].as_str()?.into(), s["id"].as_str()?.into())))
        .collect();
    let started = Instant::now();
    let results: Vec<Result<(), Error>> = futures::stream::iter(pending.iter())
        .map(|(delegate, service)| {
            let (http, base) = (&http, &base);
            async move {
                for step in ["freeze", "transfer"] {
                    json_of(
                        http.post(format!(
                            "{base}/api/v1/organizations/{COMUNE_FC}/delegates/{delegate}/services/{service}/{step}"
                        ))
                        .header("X-Functions-Key", KEY),
                    )
                    .await?;
                }
                Ok(())
            }
        })
        .buffer_unordered(workers)
        .collect()
        .await;
    let reference = started.elapsed();
    results.into_iter().collect::<Result<Vec<()>, Error>>()?;
    reference_portal.stop().await;

    // The import through the back-office.
    let mut settings = selfcare::Settings::default();
    settings.http.listen = "127.0.0.1:0".parse()?;
    settings.database.url = database_url;
    settings.devportal.listen = "127.0.0.1:0".parse()?;
    settings.io.import.devportal_url = Some(portal.url());
    settings.io.import.devportal_api_key = Some(KEY.into());
    settings.io.import.workers = workers;
    settings.log.level = "warn".into();
    let data = dir.path().join("data");
    let app = selfcare::App::start(settings, selfcare::Mode::Demo { data_dir: data }).await?;
    let base = format!("http://{}", app.addr());
    let token = admin_token(&http, &base).await?;
    let list = json_of(
        http.get(format!("{base}/io/api/services/migrations/delegates"))
            .bearer_auth(&token),
    )
    .await?;
    let ids: Vec<String> = list["delegates"]
        .as_array()
        .ok_or("no delegates")?
        .iter()
        .filter_map(|d| d["sourceId"].as_str().map(str::to_owned))
        .collect();
    let started = Instant::now();
    let starts: Vec<Result<Value, Error>> = futures::stream::iter(ids.iter())
        .map(|id| {
            let (http, base, token) = (&http, &base, &token);
            async move {
                let response = http
                    .post(format!(
                        "{base}/io/api/services/migrations/ownership-claims/{id}"
                    ))
                    .bearer_auth(token)
                    .send()
                    .await?;
                if response.status() != 202 {
                    return Err(format!("start: {}", response.status()).into());
                }
                Ok(Value::Null)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    starts.into_iter().collect::<Result<Vec<_>, Error>>()?;
    let requested = started.elapsed();
    let db = app.platform().db.clone();
    loop {
        let done: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM io_import_items WHERE status IN ('completed', 'failed')",
        )
        .fetch_one(db.reader())
        .await?;
        if done as usize >= total {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!("only {done} of {total} items done after 10 minutes").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let failed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM io_import_items WHERE status = 'failed'")
            .fetch_one(db.reader())
            .await?;
    app.stop().await?;
    portal.stop().await;

    println!(
        "import: {total} services of {delegates} delegates, {workers} workers, back-office on {}",
        if db.dialect() == platform::db::Dialect::Postgres {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!(
        "  imported end to end      {:>8.2} s  {:>8.0} services/s  (requests accepted in {:.2} s, {failed} failed)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        requested.as_secs_f64()
    );
    println!(
        "  reference: portal alone  {:>8.2} s  {:>8.0} services/s  (freeze + transfer, same concurrency)",
        reference.as_secs_f64(),
        total as f64 / reference.as_secs_f64()
    );
    println!(
        "  target: ≤ 20 s for 10,000 services → {}",
        if total >= 10_000 && elapsed <= Duration::from_secs(20) {
            "met"
        } else if total >= 10_000 {
            "NOT met"
        } else {
            "n/a (fewer than 10,000 services)"
        }
    );
    Ok(())
}
