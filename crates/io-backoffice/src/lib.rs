//! The App IO back-office: services, lifecycle, review, API keys, the manage API.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
pub mod auth;
mod error;
pub mod import;
pub mod model;
mod pages;
mod routes;
pub mod secrets;
pub mod settings;
mod state;
pub mod store;

use axum::Router;
use platform::Platform;
use platform::context::Started;
use platform::i18n::Sources;
use platform::identity::IdentityVerifier;

pub use error::IoError;
pub use routes::{Access, RouteDecl, declared_routes, json_routes, openapi};
pub use settings::Settings;

use crate::secrets::{KeyRing, SecretError};
use crate::state::{Inner, IoState};

/// This context's messages, in Italian and English.
pub const MESSAGES: Sources = Sources {
    context: "io",
    it: include_str!("../i18n/it.toml"),
    en: include_str!("../i18n/en.toml"),
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("io: {0}")]
    Secret(#[from] SecretError),
    #[error("io: {0}")]
    Import(#[from] import::client::PortalConfigError),
}

/// The IO back-office's routes, and the import's workers.
pub fn start(platform: Platform, settings: &Settings) -> Result<Started, StartError> {
    let ring = KeyRing::load(&settings.master_key_files)?;
    start_with_ring(platform, settings, ring)
}

pub fn start_with_ring(
    platform: Platform,
    settings: &Settings,
    ring: KeyRing,
) -> Result<Started, StartError> {
    let jwks_url = platform.jwks_url(settings.jwks_url.as_deref());
    let verifier = IdentityVerifier::new(
        platform.db.clone(),
        &platform.public_url,
        &settings.identity_token_audience,
        &jwks_url,
    );
    let ring = std::sync::Arc::new(ring);
    let importer = import::Importer::new(platform.db.clone(), ring.clone(), &settings.import)?;
    let workers = importer.spawn_workers();
    let state = IoState::new(Inner {
        platform,
        ring,
        verifier,
        importer,
    });
    let router: Router<IoState> = platform::routes::RouteTable(routes::routes()).router();
    Ok(Started {
        router: router.with_state(state),
        workers: vec![Box::new(workers)],
    })
}

/// Re-encrypts every stored key under the newest master key (`selfcare io rekey`).
pub async fn rekey(db: &platform::db::Db, settings: &Settings) -> Result<u64, IoError> {
    let ring = KeyRing::load(&settings.master_key_files)?;
    store::rekey(db, &ring).await
}
