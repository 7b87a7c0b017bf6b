//! The legacy IO Developer Portal, a service of its own: its own database, the delegates' login
//! and pages (their services and keys), and the migration API the IO back-office imports from.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod auth;
mod error;
pub mod model;
mod pages;
mod routes;
pub mod settings;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use platform::config::DatabaseSettings;
use platform::db::{Db, DbError, Schema};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;

pub use error::{DevportalError, StartError};
pub use routes::{RouteDecl, declared_routes, openapi};
pub use settings::Settings;

/// The portal's own database.
const SCHEMA: Schema = platform::schema!("devportal", "0001_devportal.sql", "0002_once.sql");

/// The shortest migration key accepted: a shared secret must not be guessable.
pub const MIN_MIGRATION_KEY_LEN: usize = 16;
/// Forms carry at most a thousand recipients and a hundred CIDRs: far below this.
const BODY_LIMIT: usize = 256 * 1024;
/// How long in-flight requests may take to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Opens the portal's own database and brings its schema up to date. The main server's
/// database is refused by the migrator (its applied migrations are not the portal's).
pub async fn open_db(url: &str, settings: &DatabaseSettings) -> Result<Db, DbError> {
    let db = Db::connect(url, settings).await?;
    db.migrate_with(SCHEMA).await?;
    Ok(db)
}

/// What every request handler shares.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Inner>);

pub(crate) struct Inner {
    pub db: Db,
    /// SHA-256 of the migration key: compared with the presented key's in constant time.
    pub migration_key_digest: Vec<u8>,
    pub login_max_failures: u32,
    pub login_window_millis: i64,
    pub session_ttl_secs: u64,
    /// Verified when the email is unknown, so that both failures take as long.
    pub dummy_hash: String,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A running portal.
pub struct DevPortal {
    addr: SocketAddr,
    db: Db,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl std::fmt::Debug for DevPortal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevPortal")
            .field("addr", &self.addr)
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl DevPortal {
    /// Binds `settings.listen` (port 0 allowed) and serves on `db` (opened by [`open_db`]).
    pub async fn start(settings: &Settings, db: Db) -> Result<DevPortal, StartError> {
        let key = settings
            .migration_api_key
            .as_deref()
            .filter(|k| !k.is_empty())
            .ok_or(StartError::MissingMigrationKey)?;
        if key.chars().count() < MIN_MIGRATION_KEY_LEN {
            return Err(StartError::ShortMigrationKey {
                min: MIN_MIGRATION_KEY_LEN,
            });
        }
        let dummy_hash = store::hash_password(&store::random_hex(16)?).await?;
        let state = AppState(Arc::new(Inner {
            db: db.clone(),
            migration_key_digest: auth::digest(key),
            login_max_failures: settings.login_max_failures,
            login_window_millis: i64::try_from(settings.login_window_secs.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            session_ttl_secs: settings.session_ttl_secs,
            dummy_hash,
        }));
        let bind = |source| StartError::Bind {
            addr: settings.listen,
            source,
        };
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(platform::server::serve(
            listener,
            app(state),
            async move {
                let _ = stopped.await;
            },
            SHUTDOWN_GRACE,
        ));
        tracing::info!(%addr, "developer portal listening");
        Ok(DevPortal {
            addr,
            db,
            stop: Some(stop),
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Stops accepting, lets in-flight requests finish, returns. The database stays open: the
    /// caller opened it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "developer portal server failed"),
            Err(e) => tracing::error!(error = %e, "developer portal server task failed"),
        }
    }
}

fn app(state: AppState) -> Router {
    let once = platform::once::Store(state.0.db.clone());
    Router::new()
        .merge(routes::router())
        .fallback(pages::not_found)
        .with_state(state)
        .layer(axum::Extension(once))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(platform::http::run_to_completion))
        .layer(CatchPanicLayer::custom(|_| {
            platform::Problem::internal(&"a request handler panicked").into_response()
        }))
}

/// The platform's headers, and no caching: pages and answers show API keys.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let defaults: [(HeaderName, &'static str); 6] = [
        (header::CONTENT_SECURITY_POLICY, platform::http::CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}
