//! `selfcare`: the Reserved Area of the institutions, with the App IO back-office, the legacy
//! Developer Portal and the Interoperability platform, in one binary.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

/// mimalloc: a request of the token endpoint makes a few hundred small allocations (HTTP,
/// JSON, the lookup's strings), which glibc's allocator serves at a visible share of the
/// server's CPU time (measured in docs/benchmarks-history.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
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
                  docs/configuration.md lists every setting."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run in production: every required setting (database URL, signing keys, IO master
    /// keys, public URL) must be given, by a config file, SELFCARE_* variables or flags.
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
        /// Where the legacy Developer Portal started beside the demo listens [default:
        /// 127.0.0.1:8081] (setting `devportal.listen`).
        #[arg(long, value_name = "ADDR:PORT")]
        devportal_listen: Option<std::net::SocketAddr>,
        /// Also start the voucher gateway here (e.g. 127.0.0.1:8082), in front of a small demo
        /// e-service for "SEND - UAT" in Collaudo: the voucher of "Genera voucher" calls it end
        /// to end. Off unless given.
        #[arg(long, value_name = "ADDR:PORT")]
        gateway_listen: Option<std::net::SocketAddr>,
    },
    /// Producers: run the voucher gateway in front of an e-service. Every request's voucher
    /// is verified (the environment's keys, issuer, audience, e-service, producer, DPoP,
    /// AUDIT_REST_02) before it is forwarded, with the verified claims in X-Pdnd-* headers;
    /// a refusal is a 401 that never reaches the e-service (settings `gateway.*`).
    Gateway {
        /// A TOML configuration file.
        #[arg(long, short = 'c', value_name = "FILE")]
        config: Option<PathBuf>,
        /// Address and port to listen on (setting `gateway.listen`).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
        /// The e-service: http://<host>:<port>[/<path>] (setting `gateway.upstream`).
        #[arg(long, value_name = "URL")]
        upstream: Option<String>,
    },
    /// Platform operators: add an institution.
    Institution {
        #[command(subcommand)]
        action: InstitutionCommand,
    },
    /// Platform operators: onboard an institution to a product (ACTIVE) with its first
    /// administrator.
    Onboard {
        #[command(flatten)]
        db: DbArgs,
        /// The institution's tax code (or id).
        #[arg(long)]
        institution: String,
        /// A product id of the catalogue, e.g. prod-io.
        #[arg(long)]
        product: String,
        /// The first administrator: "<fiscal code>,<name>,<surname>,<email>".
        #[arg(long, value_name = "CF,NAME,SURNAME,EMAIL")]
        admin: String,
        /// MANAGER (legal representative) or DELEGATE.
        #[arg(long, default_value = "MANAGER")]
        admin_role: String,
    },
    /// Platform operators: grant or revoke the platform-operator flag of a person.
    Operator {
        #[command(subcommand)]
        action: OperatorCommand,
    },
    /// The App IO back-office's API keys at rest.
    Io {
        #[command(subcommand)]
        action: IoCommand,
    },
    /// Run the legacy IO Developer Portal on its own, with its own database (settings
    /// `devportal.*`).
    Devportal {
        /// A TOML configuration file.
        #[arg(long, short = 'c', value_name = "FILE")]
        config: Option<PathBuf>,
        /// Address and port to listen on (setting `devportal.listen`).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<std::net::SocketAddr>,
        /// The portal's own database: sqlite://<file> or postgres://... (setting
        /// `devportal.database_url`; never the main server's).
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Interoperability: the IPA import of certified attributes, and certifiers.
    Interop {
        #[command(subcommand)]
        action: InteropCommand,
    },
    /// Bring a database's schema up to date and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Where the database is (the commands that work on it directly).
#[derive(clap::Args)]
struct DbArgs {
    /// A TOML configuration file.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// sqlite://<file> or postgres://<user>@<host>/<database> (the demo's is
    /// sqlite://data/selfcare.db).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum InstitutionCommand {
    /// Add an institution (or show the one with the same tax code).
    Add {
        #[command(flatten)]
        db: DbArgs,
        /// 11-digit codice fiscale of the institution.
        #[arg(long)]
        tax_code: String,
        #[arg(long)]
        name: String,
        /// The IPA code.
        #[arg(long)]
        ipa_code: String,
        /// PA, GSP, PT, SCP, PSP, PG, SA, AS, ...
        #[arg(long = "type", default_value = "PA")]
        institution_type: String,
        /// The institution's PEC address.
        #[arg(long)]
        pec: String,
        #[arg(long, default_value = "")]
        address: String,
        #[arg(long, default_value = "")]
        zip_code: String,
        #[arg(long, default_value = "")]
        city: String,
        #[arg(long, default_value = "")]
        county: String,
    },
}

#[derive(Subcommand)]
enum IoCommand {
    /// Write a new master key (32 random bytes, base64) to FILE; add it last to
    /// io.master_key_files, then run `selfcare io rekey`.
    NewMasterKey { file: PathBuf },
    /// Re-encrypt every stored API key under the newest master key of io.master_key_files.
    Rekey {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum InteropCommand {
    /// Read the IPA open-data file of institutions (its CSV or JSON layout) and bring the
    /// certified attributes of origin IPA of both environments in step with it: what the file
    /// yields is assigned, what it no longer yields is revoked; prints both. A second run with
    /// the same file changes nothing.
    ImportIpa {
        /// The file (CSV with a header row, or JSON).
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Give an institution the certifier feature for an origin, or take it away.
    Certifier {
        #[command(subcommand)]
        action: CertifierCommand,
    },
}

#[derive(Subcommand)]
enum CertifierCommand {
    /// The institution assigns and revokes the certified attributes of ORIGIN.
    Grant {
        /// produzione or collaudo.
        #[arg(long)]
        env: String,
        /// The institution's tax code (or id), as the environment knows it.
        #[arg(long)]
        institution: String,
        /// The origin it certifies for (not IPA, which is the import's).
        #[arg(long)]
        origin: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Take the feature away (what it assigned stays).
    Revoke {
        #[arg(long)]
        env: String,
        #[arg(long)]
        institution: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Make a person a platform operator.
    Grant {
        fiscal_code: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Take the platform-operator flag away.
    Revoke {
        fiscal_code: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Loads the settings and opens (and migrates) the database a command works on.
async fn open_db(args: &DbArgs) -> Result<(Settings, Db), Box<dyn std::error::Error>> {
    let settings = Settings::load(
        args.config.as_deref(),
        &Overrides {
            database_url: args.database_url.clone(),
            ..Overrides::default()
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
    Ok((settings, db))
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
                    ..Overrides::default()
                },
            )?;
            start(settings, Mode::Serve, None).await
        }
        Command::Demo {
            listen,
            data_dir,
            config,
            devportal_listen,
            gateway_listen,
        } => {
            let mut settings = Settings::load(
                config.as_deref(),
                &Overrides {
                    listen,
                    ..Overrides::default()
                },
            )?;
            if let Some(addr) = devportal_listen {
                settings.devportal.listen = addr;
            }
            start(settings, Mode::Demo { data_dir }, gateway_listen).await
        }
        Command::Gateway {
            config,
            listen,
            upstream,
        } => run_gateway(config, listen, upstream).await,
        Command::Institution {
            action:
                InstitutionCommand::Add {
                    db,
                    tax_code,
                    name,
                    ipa_code,
                    institution_type,
                    pec,
                    address,
                    zip_code,
                    city,
                    county,
                },
        } => {
            let (_, db) = open_db(&db).await?;
            let added = reserved_area::admin::add_institution(
                &db,
                &reserved_area::admin::InstitutionInput {
                    tax_code,
                    name,
                    ipa_code,
                    institution_type,
                    pec,
                    address,
                    zip_code,
                    city,
                    county,
                },
            )
            .await;
            db.close().await;
            let institution = added?;
            println!(
                "{}\t{}\t{}",
                institution.id, institution.tax_code, institution.description
            );
            Ok(())
        }
        Command::Onboard {
            db,
            institution,
            product,
            admin,
            admin_role,
        } => {
            let (settings, db) = open_db(&db).await?;
            let catalogue = reserved_area::load_catalogue(&settings.reserved_area)?;
            let parts: Vec<&str> = admin.split(',').map(str::trim).collect();
            let [fiscal_code, name, family_name, email] = parts.as_slice() else {
                return Err("--admin must be \"<fiscal code>,<name>,<surname>,<email>\"".into());
            };
            let done = reserved_area::admin::onboard(
                &db,
                &catalogue,
                &institution,
                &product,
                &reserved_area::admin::AdminInput {
                    fiscal_code: (*fiscal_code).into(),
                    name: (*name).into(),
                    family_name: (*family_name).into(),
                    email: (*email).into(),
                    party_role: admin_role,
                },
            )
            .await;
            db.close().await;
            done?;
            println!("onboarded {institution} to {product}");
            Ok(())
        }
        Command::Operator { action } => {
            let (grant, fiscal_code, db) = match action {
                OperatorCommand::Grant { fiscal_code, db } => (true, fiscal_code, db),
                OperatorCommand::Revoke { fiscal_code, db } => (false, fiscal_code, db),
            };
            let (_, db) = open_db(&db).await?;
            let done = reserved_area::admin::set_operator(&db, &fiscal_code, grant).await;
            db.close().await;
            done?;
            println!(
                "{fiscal_code} {} a platform operator",
                if grant { "is now" } else { "is no longer" }
            );
            Ok(())
        }
        Command::Io {
            action: IoCommand::NewMasterKey { file },
        } => {
            io_backoffice::secrets::KeyRing::generate_file(&file)?;
            println!("wrote a new master key to {}", file.display());
            Ok(())
        }
        Command::Io {
            action: IoCommand::Rekey { db },
        } => {
            let (settings, db) = open_db(&db).await?;
            let done = io_backoffice::rekey(&db, &settings.io).await;
            db.close().await;
            let changed = done?;
            println!("re-encrypted {changed} keys under the newest master key");
            Ok(())
        }
        Command::Devportal {
            config,
            listen,
            database_url,
        } => run_devportal(config, listen, database_url).await,
        Command::Interop {
            action: InteropCommand::ImportIpa { file, db },
        } => {
            let bytes =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let entries = interop::model::ipa::parse(&bytes)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let (_, db) = open_db(&db).await?;
            let done = interop::store::ipa::import(&db, &entries).await;
            db.close().await;
            let report = done?;
            for (what, lines) in [("assigned", &report.assigned), ("revoked", &report.revoked)] {
                for l in lines {
                    println!("{what}\t{}\t{}\t{}", l.env, l.institution, l.attribute);
                }
            }
            println!(
                "{} institutions in the file, {} on the platform; {} assigned, {} revoked",
                report.entries,
                report.matched,
                report.assigned.len(),
                report.revoked.len()
            );
            Ok(())
        }
        Command::Interop {
            action: InteropCommand::Certifier { action },
        } => {
            let (env, institution, origin, db) = match action {
                CertifierCommand::Grant {
                    env,
                    institution,
                    origin,
                    db,
                } => (env, institution, Some(origin), db),
                CertifierCommand::Revoke {
                    env,
                    institution,
                    db,
                } => (env, institution, None, db),
            };
            let env = interop::model::Environment::parse(&env)
                .ok_or("--env must be produzione or collaudo")?;
            let (_, db) = open_db(&db).await?;
            let done = certifier(&db, env, &institution, origin.as_deref()).await;
            db.close().await;
            println!("{}", done?);
            Ok(())
        }
        Command::Migrate { db } => {
            let (_, db) = open_db(&db).await?;
            db.close().await;
            println!("database is up to date");
            Ok(())
        }
    }
}

/// Grants (with an origin) or revokes the certifier feature; what was done, in words.
async fn certifier(
    db: &Db,
    env: interop::model::Environment,
    institution: &str,
    origin: Option<&str>,
) -> Result<String, Box<dyn std::error::Error>> {
    use interop::store::attributes;
    let id = interop::store::institution_id(db, env, institution)
        .await?
        .ok_or_else(|| {
            format!(
                "{institution} is not an institution of {}: it enters the environment first",
                env.as_str()
            )
        })?;
    Ok(match origin {
        Some(origin) => {
            attributes::grant_certifier(db, env, &id, origin).await?;
            format!("{institution} now certifies {origin} in {}", env.as_str())
        }
        None => {
            let was = attributes::revoke_certifier(db, env, &id).await?;
            if was {
                format!("{institution} no longer certifies in {}", env.as_str())
            } else {
                format!("{institution} was not a certifier in {}", env.as_str())
            }
        }
    })
}

async fn start(
    settings: Settings,
    mode: Mode,
    gateway_listen: Option<std::net::SocketAddr>,
) -> Result<(), Box<dyn std::error::Error>> {
    platform::telemetry::init(&settings.log)?;
    let demo = matches!(mode, Mode::Demo { .. });
    let stop = platform::server::shutdown_signal()?;
    let interop_settings = settings.interop.clone();
    let app = App::start(settings, mode).await?;
    let gateway = match gateway_listen.filter(|_| demo) {
        Some(listen) => {
            match selfcare::demo_gateway::start(&app, &interop_settings, listen).await {
                Ok(g) => Some(g),
                Err(e) => {
                    let _ = app.stop().await;
                    return Err(e.into());
                }
            }
        }
        None => None,
    };
    let base = app.public_url().to_string();
    // The first line is for people and for the tests that start this binary.
    println!("listening on http://{}", app.addr());
    if demo {
        println!();
        println!("selfcare demo is running:");
        println!("  Reserved Area   {base}/");
        println!("  Log in (test)   {base}/auth/test-idp");
        println!("  Manage API      {base}/api/v1/manage (key: Ocp-Apim-Subscription-Key)");
        println!("  Health          {base}/healthz");
        println!("  Readiness       {base}/readyz");
        println!("  Metrics         {base}/metrics");
        if let Some(portal) = app.devportal() {
            println!("  Developer Portal {}/ (legacy)", portal.url());
        }
        println!("  Public keys     {base}/.well-known/jwks.json");
        match &gateway {
            Some(g) => println!(
                "  Gateway         {}/ (SEND - UAT in Collaudo: call it with Authorization: \
                 Bearer <the voucher of \"Genera voucher\">)",
                g.url()
            ),
            None => println!(
                "  Gateway         off (--gateway-listen 127.0.0.1:8082 puts the voucher \
                 gateway in front of a demo SEND - UAT)"
            ),
        }
        println!();
        println!("Demo identities (log in with the test identity provider):");
        for person in selfcare::demo::PEOPLE {
            println!(
                "  {}  {} {}: {}",
                person.fiscal_code, person.name, person.family_name, person.description
            );
        }
        if app.devportal().is_some() {
            println!();
            println!(
                "Delegates of the legacy Developer Portal (password {}):",
                selfcare::demo_devportal::PASSWORD
            );
            for d in selfcare::demo_devportal::DELEGATES {
                println!("  {}  {} {}: {}", d.email, d.name, d.surname, d.description);
            }
        }
        println!();
        println!("Press Ctrl-C to stop.");
    }
    stop.await;
    if let Some(gateway) = gateway {
        gateway.stop().await;
    }
    app.stop().await?;
    Ok(())
}

/// `selfcare gateway`: the voucher gateway in front of an e-service.
async fn run_gateway(
    config: Option<PathBuf>,
    listen: Option<String>,
    upstream: Option<String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::load(
        config.as_deref(),
        &Overrides {
            gateway_listen: listen,
            gateway_upstream: upstream,
            ..Overrides::default()
        },
    )?;
    platform::telemetry::init(&settings.log)?;
    settings.gateway.check()?;
    let stop = platform::server::shutdown_signal()?;
    let gateway = selfcare::gateway::Gateway::start(&settings.gateway).await?;
    // The first line is for people and for the tests that start this binary.
    println!("listening on http://{}", gateway.addr());
    gateway.run_until(stop).await?;
    Ok(())
}

/// `selfcare devportal`: the legacy Developer Portal as a service of its own.
async fn run_devportal(
    config: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
    database_url: Option<String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut settings = Settings::load(config.as_deref(), &Overrides::default())?;
    if let Some(listen) = listen {
        settings.devportal.listen = listen;
    }
    if database_url.is_some() {
        settings.devportal.database_url = database_url;
    }
    platform::telemetry::init(&settings.log)?;
    let url = settings.devportal.database_url.clone().ok_or(
        "missing required setting `devportal.database_url`: pass --database-url \
         sqlite://<file> or postgres://... (the portal's own database, never the main one), \
         or set SELFCARE_DEVPORTAL__DATABASE_URL",
    )?;
    if settings.devportal.migration_api_key.is_none() {
        return Err(
            "missing required setting `devportal.migration_api_key`: the shared secret \
                    the IO back-office sends in X-Functions-Key (at least 16 characters); set \
                    SELFCARE_DEVPORTAL__MIGRATION_API_KEY"
                .into(),
        );
    }
    let db = devportal::open_db(&url, &settings.database).await?;
    let stop = platform::server::shutdown_signal()?;
    let portal = match devportal::DevPortal::start(&settings.devportal, db.clone()).await {
        Ok(portal) => portal,
        Err(e) => {
            db.close().await;
            return Err(e.into());
        }
    };
    // The first line is for people and for the tests that start this binary.
    println!("listening on {}", portal.url());
    stop.await;
    portal.stop().await;
    db.close().await;
    Ok(())
}
