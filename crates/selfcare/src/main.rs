//! `selfcare`: the Reserved Area of the institutions, with the App IO back-office, the legacy
//! Developer Portal and the Interoperability platform, in one binary.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use platform::db::Db;
use selfcare::settings::Overrides;
use selfcare::{App, Mode, Settings};

#[derive(Parser)]
#[command(
    name = "selfcare",
    version,
    about = "The Reserved Area (Self Care) of Italian public institutions: users and roles, \
             the App IO back-office, the legacy IO Developer Portal and Interoperability (PDND).",
    long_about = None,
    after_help = "Every setting can also come from a SELFCARE_* environment variable, nested keys \
                  joined with `__` (http.public_url is SELFCARE_HTTP__PUBLIC_URL). \
                  See the README for the full list."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run in production: every required setting (database URL, signing keys, public URL)
    /// must be given, by a config file, SELFCARE_* variables or flags.
    Serve {
        /// A TOML configuration file.
        #[arg(long, short = 'c', value_name = "FILE")]
        config: Option<PathBuf>,
        /// sqlite://<file> or postgres://<user>@<host>/<database> (setting `database.url`).
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// Address and port to listen on (setting `http.listen`).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
    },
    /// Try everything on one machine: an embedded SQLite database and generated keys under
    /// the data directory (made once, reused at every start), listening on 127.0.0.1:8080.
    Demo {
        /// Address and port to listen on [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
        /// Where the demo keeps its database and keys.
        #[arg(long, value_name = "DIR", default_value = "data")]
        data_dir: PathBuf,
        /// A TOML configuration file, for settings beyond the demo's.
        #[arg(long, short = 'c', value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Bring a database's schema up to date and exit.
    Migrate {
        /// A TOML configuration file.
        #[arg(long, short = 'c', value_name = "FILE")]
        config: Option<PathBuf>,
        /// sqlite://<file> or postgres://<user>@<host>/<database>.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("selfcare: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("selfcare: error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve {
            config,
            database_url,
            listen,
        } => {
            let settings = Settings::load(
                config.as_deref(),
                &Overrides {
                    listen,
                    database_url,
                },
            )?;
            start(settings, Mode::Serve).await
        }
        Command::Demo {
            listen,
            data_dir,
            config,
        } => {
            let settings = Settings::load(
                config.as_deref(),
                &Overrides {
                    listen,
                    database_url: None,
                },
            )?;
            start(settings, Mode::Demo { data_dir }).await
        }
        Command::Migrate {
            config,
            database_url,
        } => {
            let settings = Settings::load(
                config.as_deref(),
                &Overrides {
                    listen: None,
                    database_url,
                },
            )?;
            platform::telemetry::init(&settings.log)?;
            let url = settings
                .database
                .url
                .clone()
                .ok_or("missing required setting `database.url`: pass --database-url")?;
            let db = Db::connect(&url, &settings.database).await?;
            db.migrate().await?;
            db.close().await;
            println!("database is up to date");
            Ok(())
        }
    }
}

async fn start(settings: Settings, mode: Mode) -> Result<(), Box<dyn std::error::Error>> {
    platform::telemetry::init(&settings.log)?;
    let demo = matches!(mode, Mode::Demo { .. });
    let app = App::start(settings, mode).await?;
    let base = app.public_url().to_string();
    // The first line is for people and for the tests that start this binary.
    println!("listening on http://{}", app.addr());
    if demo {
        println!();
        println!("selfcare demo is running:");
        println!("  Reserved Area   {base}/");
        println!("  Health          {base}/healthz");
        println!("  Readiness       {base}/readyz");
        println!("  Metrics         {base}/metrics");
        println!("  Public keys     {base}/.well-known/jwks.json");
        println!();
        println!("Press Ctrl-C to stop.");
    }
    app.run_until(platform::server::shutdown_signal()).await?;
    Ok(())
}
