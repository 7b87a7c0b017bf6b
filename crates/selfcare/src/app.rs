//! Wiring: opens the database, loads the keys and messages, mounts every context's routes
//! behind the shared HTTP plumbing, and serves them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use platform::Platform;
use platform::PlatformInner;
use platform::audit::{self, AuditEvent};
use platform::client_addr::TrustedProxies;
use platform::config::ConfigError;
use platform::db::{Db, DbError};
use platform::i18n::{Catalogue, I18nError, PLATFORM_MESSAGES};
use platform::keys::{self, KeyError, SigningKeys};
use platform::layout::LayoutInfo;
use platform::mail::{self, MailError, Mailer, Transport, Worker};
use platform::metrics::Metrics;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::settings::{Mode, Settings};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("message catalogue: {0}")]
    I18n(#[from] I18nError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus_error::Error),
    #[error("reserved area: {0}")]
    ReservedArea(#[from] reserved_area::StartError),
    #[error("cannot write the demo data: {0}")]
    Demo(sqlx::Error),
    #[error("cannot write the App IO demo data: {0}")]
    DemoIo(String),
    #[error("cannot record the start in the audit log: {0}")]
    Audit(sqlx::Error),
    #[error("mail: {0}")]
    Mail(#[from] MailError),
    #[error(transparent)]
    Io(#[from] io_backoffice::StartError),
    #[error("io: {0}")]
    IoSecret(#[from] io_backoffice::secrets::SecretError),
    #[error("the demo's Developer Portal: {0}")]
    Devportal(String),
    #[error(transparent)]
    Interop(#[from] interop::StartError),
}

// `prometheus` is a dependency of `platform`; its error type is reached through there.
mod prometheus_error {
    pub type Error = platform::metrics::MetricsError;
}

/// The message catalogues of every context, in the order they are read.
pub const MESSAGES: [platform::i18n::Sources; 4] = [
    PLATFORM_MESSAGES,
    reserved_area::MESSAGES,
    io_backoffice::MESSAGES,
    interop::MESSAGES,
];

/// A running app.
pub struct App {
    addr: SocketAddr,
    platform: Platform,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    mail_worker: Option<Worker>,
    /// The contexts' background work (the import's workers).
    workers: Vec<Box<dyn platform::context::Worker>>,
    /// The legacy Developer Portal the demo runs beside the main server.
    devportal: Option<devportal::DevPortal>,
    vouchers: interop::Vouchers,
}

/// The file names `demo` keeps under its data directory.
pub fn demo_database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("selfcare.db")
}

pub fn demo_signing_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("signing-1.pem")
}

/// The master key that encrypts the demo's API keys.
pub fn demo_master_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("master-1.key")
}

/// The demo Developer Portal's own database.
pub fn demo_devportal_database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("devportal.db")
}

/// Starts the legacy Developer Portal beside the demo (its own database and listener, its
/// demo delegates) and points the import at it — unless `io.import.devportal_url` already
/// names a portal elsewhere.
async fn start_demo_devportal(
    settings: &mut Settings,
    data_dir: &Path,
) -> Result<Option<devportal::DevPortal>, StartError> {
    if settings.io.import.devportal_url.is_some() {
        return Ok(None);
    }
    let failed = |e: &dyn std::fmt::Display| StartError::Devportal(e.to_string());
    let mut portal = settings.devportal.clone();
    let url = portal.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            demo_devportal_database_path(data_dir).display()
        )
    });
    // A fresh shared secret at each start: both ends live in this process.
    let key = match portal.migration_api_key.clone() {
        Some(k) => k,
        None => platform::session::random_token().map_err(|e| failed(&e))?,
    };
    portal.migration_api_key = Some(key.clone());
    let db = devportal::open_db(&url, &settings.database)
        .await
        .map_err(|e| failed(&e))?;
    crate::demo_devportal::seed(&db)
        .await
        .map_err(|e| failed(&e))?;
    let running = devportal::DevPortal::start(&portal, db)
        .await
        .map_err(|e| failed(&e))?;
    settings.io.import.devportal_url = Some(running.url());
    settings.io.import.devportal_api_key = Some(key);
    Ok(Some(running))
}

/// Where the demo's `log` mailer writes its `.eml` files.
pub fn demo_mail_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("mail")
}

/// Fills in what `demo` may make itself: a SQLite file and a signing key under the data
/// directory, made once and reused at every later start.
fn prepare_demo(settings: &mut Settings, data_dir: &Path) -> Result<(), StartError> {
    // The demo logs in through the built-in test identity provider.
    settings.reserved_area.test_idp.enabled = true;
    if settings.database.url.is_none() {
        settings.database.url = Some(format!(
            "sqlite://{}",
            demo_database_path(data_dir).display()
        ));
    }
    if settings.signing.key_files.is_empty() {
        let path = demo_signing_key_path(data_dir);
        if !path.exists() {
            keys::generate_pem_file(&path)?;
            tracing::info!(path = %path.display(), "generated a signing key for the demo");
        }
        settings.signing.key_files = vec![path];
    }
    if settings.io.master_key_files.is_empty() {
        let path = demo_master_key_path(data_dir);
        if !path.exists() {
            io_backoffice::secrets::KeyRing::generate_file(&path)?;
            tracing::info!(path = %path.display(), "generated a master key for the demo's API keys");
        }
        settings.io.master_key_files = vec![path];
    }
    for (env, s) in [
        ("produzione", &mut settings.interop.produzione),
        ("collaudo", &mut settings.interop.collaudo),
    ] {
        if s.signing_key_files.is_empty() {
            let path = data_dir.join("keys").join(format!("interop-{env}-1.pem"));
            if !path.exists() {
                keys::generate_pem_file(&path)?;
                tracing::info!(path = %path.display(), "generated a voucher key for Interoperabilità {env}");
            }
            s.signing_key_files = vec![path];
        }
    }
    if settings.mail.log_dir.is_none() {
        settings.mail.log_dir = Some(demo_mail_dir(data_dir));
    }
    Ok(())
}

/// The OpenAPI document of every context at `/openapi.json`, browsable at `/docs`.
fn api_docs() -> Router {
    let mut doc = reserved_area::openapi();
    doc.merge(io_backoffice::openapi());
    doc.merge(interop::openapi::openapi());
    doc.info.title = "selfcare".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some(
        "The JSON APIs of the Reserved Area (`/v2`), of the App IO back-office (`/io/api`, a \
         back-office session), of the IO manage API (`/api/v1/manage`, a manage key) and the \
         service API (`/api/v1/services`, the service's key), and of Interoperability \
         (`/interop/produzione`, `/interop/collaudo`: each environment's own session, from \
         `POST .../api/session`). Errors are application/problem+json with a stable `code`."
            .into(),
    );
    let ui: Router = utoipa_swagger_ui::SwaggerUi::new("/docs")
        .url("/openapi.json", doc)
        .into();
    // Swagger UI sets inline styles; its pages alone relax the style policy.
    ui.layer(axum::middleware::map_response(
        |mut response: axum::response::Response| async move {
            response.headers_mut().insert(
                axum::http::header::CONTENT_SECURITY_POLICY,
                axum::http::HeaderValue::from_static(
                    "default-src 'self'; base-uri 'none'; object-src 'none'; \
                     frame-ancestors 'none'; form-action 'self'; img-src 'self' data:; \
                     script-src 'self'; style-src 'self' 'unsafe-inline'",
                ),
            );
            response
        },
    ))
}

impl App {
    pub async fn start(settings: Settings, mode: Mode) -> Result<App, StartError> {
        Self::start_with_routes(settings, mode, Router::new()).await
    }

    /// Starts with `extra` routes mounted beside the contexts' (tests use this to observe the
    /// plumbing from inside a handler).
    pub async fn start_with_routes(
        mut settings: Settings,
        mode: Mode,
        extra: Router,
    ) -> Result<App, StartError> {
        match &mode {
            Mode::Serve => settings.require_for_serve()?,
            Mode::Demo { data_dir } => prepare_demo(&mut settings, data_dir)?,
        }
        let database_url = settings.database.url.clone().ok_or(ConfigError::Missing {
            key: "database.url",
            hint: "pass --database-url",
        })?;
        let mail_transport = Transport::from_settings(&settings.mail).map_err(|e| match e {
            MailError::Config(e) => StartError::Config(e),
            e => StartError::Mail(e),
        })?;
        if mail_transport.is_log() && mode == Mode::Serve {
            tracing::warn!(
                mailer = %mail_transport.describe(),
                "emails are written to files, not sent: set mail.mailer = \"smtp\" and \
                 mail.smtp.* to send them"
            );
        } else {
            tracing::info!(mailer = %mail_transport.describe(), "mail");
        }

        let devportal = match &mode {
            Mode::Demo { data_dir } => start_demo_devportal(&mut settings, data_dir).await?,
            Mode::Serve => None,
        };
        let db = Db::connect(&database_url, &settings.database).await?;
        db.migrate().await?;
        reserved_area::store::fill_member_keys(&db).await?;
        io_backoffice::store::fill_search_keys(&db).await?;
        let keys = SigningKeys::load(&settings.signing.key_files)?;
        let catalogue = Arc::new(Catalogue::build(&MESSAGES)?);
        let metrics = Metrics::new()?;

        let listen = settings.http.listen;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })?;
        let public_url = match &settings.http.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{addr}"),
        };

        let mut http = settings.http.clone();
        http.listen = addr;
        let platform = Platform::new(PlatformInner {
            db: db.clone(),
            trusted_proxies: TrustedProxies::new(settings.http.trusted_proxies.clone()),
            http,
            public_url,
            keys,
            metrics,
            catalogue: catalogue.clone(),
            audit: platform::audit::GroupWriter::spawn(&db, "audit records"),
            mail: Mailer::new(),
        });

        let demo = matches!(mode, Mode::Demo { .. });
        if demo {
            crate::demo::seed(&db).await.map_err(StartError::Demo)?;
            let ring = io_backoffice::secrets::KeyRing::load(&settings.io.master_key_files)?;
            crate::demo::seed_io(&db, &ring)
                .await
                .map_err(|e| StartError::DemoIo(e.to_string()))?;
            crate::demo::seed_interop(&db)
                .await
                .map_err(|e| StartError::DemoIo(format!("interop: {e}")))?;
        }
        let identities = if demo {
            crate::demo::identities()
        } else {
            Vec::new()
        };
        let vouchers = interop::open_vouchers(&db).await?;
        let contexts = [
            reserved_area::start(platform.clone(), &settings.reserved_area, identities)?,
            io_backoffice::start(platform.clone(), &settings.io)?,
            interop::start(platform.clone(), &settings.interop, &vouchers)?,
        ];
        let mut routes = Router::new();
        let mut workers = Vec::new();
        for context in contexts {
            routes = routes.merge(context.router);
            workers.extend(context.workers);
        }
        let routes = routes.merge(api_docs()).merge(extra);
        let layout = LayoutInfo {
            catalogue,
            banner: settings
                .reserved_area
                .test_idp
                .enabled
                .then_some("ra.test_idp.banner"),
        };
        let router = platform::http::finish(routes, &platform, layout);

        let mut started = AuditEvent::new("system.started");
        started.details = serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "addr": addr.to_string(),
            "pid": std::process::id(),
        });
        audit::record(db.writer(), &started)
            .await
            .map_err(StartError::Audit)?;
        // Emails queued before this start (by an earlier run, another instance or a CLI
        // command) go out now too.
        let mail_worker =
            mail::Worker::spawn(db.clone(), &settings.mail, mail_transport, &platform.mail);

        let (tx, rx) = oneshot::channel::<()>();
        let grace = Duration::from_secs(settings.http.shutdown_timeout_secs);
        let task = tokio::spawn(platform::server::serve(
            listener,
            router,
            async move {
                let _ = rx.await;
            },
            grace,
        ));
        tracing::info!(%addr, "listening");
        Ok(App {
            addr,
            platform,
            shutdown: Some(tx),
            task,
            mail_worker: Some(mail_worker),
            workers,
            devportal,
            vouchers,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn public_url(&self) -> &str {
        &self.platform.public_url
    }

    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// The voucher records' store and writer.
    pub fn vouchers(&self) -> &interop::Vouchers {
        &self.vouchers
    }

    /// The Developer Portal started beside the demo, if any.
    pub fn devportal(&self) -> Option<&devportal::DevPortal> {
        self.devportal.as_ref()
    }

    /// Stops accepting connections, lets in-flight requests finish, lets the mail worker finish
    /// the email it is sending, closes the database.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let result = match (&mut self.task).await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        };
        if let Some(worker) = self.mail_worker.take() {
            worker.stop().await;
        }
        for worker in std::mem::take(&mut self.workers) {
            worker.stop().await;
        }
        if let Some(portal) = self.devportal.take() {
            let db = portal.db().clone();
            portal.stop().await;
            db.close().await;
        }
        self.platform.db.close().await;
        result
    }

    /// Serves until `signal` resolves, then stops gracefully.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        signal.await;
        self.stop().await
    }
}
