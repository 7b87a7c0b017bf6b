//! Interoperability (PDND): e-services, agreements, purposes, clients and keys, the token
//! endpoint. One instance per environment (Produzione, Collaudo), each with its own data,
//! issuer, audiences and signing keys, mounted at `/interop/<environment>/`.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
pub mod auth;
mod error;
pub mod model;
pub mod openapi;
mod pages;
mod routes;
pub mod settings;
mod state;
pub mod store;
pub mod token;

use axum::Router;
use platform::Platform;
use platform::context::Started;
use platform::i18n::Sources;
use platform::identity::IdentityVerifier;
use platform::keys::{KeyError, SigningKeys};

pub use error::InteropError;
pub use settings::{EnvironmentSettings, Settings};

use std::time::Duration;

use platform::db::{Db, DbError, Schema};
use platform::group_commit::GroupCommit;
use platform::rate_limit::RateLimiter;

use crate::model::Environment;
use crate::model::token::Policy;
use crate::model::token::dpop::DpopPolicy;
use crate::state::{EnvState, Inner, Limits};

/// This context's messages, in Italian and English.
pub const MESSAGES: Sources = Sources {
    context: "interop",
    it: include_str!("../i18n/it.toml"),
    en: include_str!("../i18n/en.toml"),
};

pub use routes::{Access, RouteDecl, declared_routes};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("interop.{env}.signing_key_files: {source}")]
    Keys { env: &'static str, source: KeyError },
}

/// The voucher records' own store on SQLite (see [`open_vouchers`]).
const VOUCHERS_SQLITE: Schema = platform::schema!(
    "interop-vouchers",
    "0001_interop_vouchers.sql",
    "0002_sweep_by_jti.sql",
);

/// Where the voucher records go, and their writer: one for both environments.
#[derive(Clone)]
pub struct Vouchers {
    pub store: Db,
    writer: GroupCommit<store::tokens::VoucherRecord>,
}

/// The voucher records' store ([`Db::store_of_its_own`]: on SQLite a file of its own,
/// `<main>.vouchers.db`; on PostgreSQL the main database), migrated. On SQLite, records an
/// earlier version wrote into the main file move into it.
pub async fn voucher_store(db: &Db) -> Result<Db, DbError> {
    let store = db.store_of_its_own("vouchers", VOUCHERS_SQLITE).await?;
    if let Some(main) = db.hot().sqlite_path()
        && store.hot().sqlite_path() != Some(main)
    {
        let moved = store::tokens::move_legacy_records(&store, main).await?;
        if moved > 0 {
            tracing::info!(
                records = moved,
                "voucher records moved into their own store"
            );
        }
    }
    Ok(store)
}

impl Vouchers {
    /// The group commits of voucher records so far (their count against the vouchers issued
    /// gives the records per flush).
    pub fn commits(&self) -> u64 {
        self.writer.commits()
    }
}

/// Opens the voucher records' store ([`voucher_store`]) and starts its group-commit writer.
pub async fn open_vouchers(db: &Db) -> Result<Vouchers, DbError> {
    let store = voucher_store(db).await?;
    let writer = GroupCommit::spawn(&store, "voucher records");
    Ok(Vouchers { store, writer })
}

fn environment(
    platform: &Platform,
    env: Environment,
    all: &Settings,
    jwks_url: &str,
    vouchers: &Vouchers,
) -> Result<Router, StartError> {
    let settings = match env {
        Environment::Produzione => &all.produzione,
        Environment::Collaudo => &all.collaudo,
    };
    let keys = if settings.signing_key_files.is_empty() {
        tracing::warn!(
            environment = env.as_str(),
            "interop.{}.signing_key_files is empty: this environment signs no vouchers",
            env.as_str()
        );
        None
    } else {
        Some(
            SigningKeys::load(&settings.signing_key_files).map_err(|source| StartError::Keys {
                env: env.as_str(),
                source,
            })?,
        )
    };
    let verifier = IdentityVerifier::new(
        platform.db.clone(),
        &platform.public_url,
        &settings.identity_token_audience,
        jwks_url,
    );
    let issuer = settings
        .issuer
        .clone()
        .unwrap_or_else(|| format!("{}/interop/{}", platform.public_url, env.as_str()));
    let state = EnvState::new(Inner {
        platform: platform.clone(),
        env,
        settings: settings.clone(),
        verifier,
        keys,
        issuer,
        token: all.token.clone(),
        policy: Policy {
            audience: settings.client_assertion_audience.clone(),
            strict: all.token.strict_claims,
            max_lifetime_secs: all.token.max_assertion_lifetime_secs,
        },
        dpop: DpopPolicy {
            htu: settings.token_url.clone().unwrap_or_else(|| {
                format!(
                    "{}/interop/{}/token.oauth2",
                    platform.public_url,
                    env.as_str()
                )
            }),
            future_leeway_secs: all.token.dpop_iat_leeway_secs,
            max_age_secs: all.token.dpop_max_age_secs,
        },
        max_keys_per_client: all.max_keys_per_client,
        limits: Limits {
            by_address: RateLimiter::new(
                all.token.rate_limit_per_address,
                Duration::from_millis(all.token.rate_limit_interval_ms),
            ),
            by_consumer: RateLimiter::new(
                all.token.rate_limit_per_consumer,
                Duration::from_millis(all.token.rate_limit_interval_ms),
            ),
        },
        vouchers: vouchers.writer.clone(),
        voucher_store: vouchers.store.clone(),
        key_memo: platform::jwt::RsaKeyMemo::new(),
    });
    sweep_vouchers(&state);
    apply_expiries(&state);
    let router: Router<EnvState> = platform::routes::RouteTable(routes::routes()).router();
    Ok(router.with_state(state))
}

/// Deletes voucher records past `interop.token.voucher_retention_days` and expired `jti`s,
/// hourly, and the DPoP proofs' `jti`s (kept for a minute each, but one per DPoP voucher)
/// every minute, for as long as the environment's routes exist (only produzione sweeps: the
/// tables are shared by both environments).
fn sweep_vouchers(state: &EnvState) {
    if state.env != Environment::Produzione {
        return;
    }
    let weak = state.downgrade();
    tokio::spawn(async move {
        // The first full sweep five minutes after the start, then every hour.
        let mut minutes: u64 = 55;
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            minutes += 1;
            let Some(state) = EnvState::upgrade(&weak) else {
                return;
            };
            let now = platform::jwt::now_secs();
            if !minutes.is_multiple_of(60) {
                if let Err(e) = store::tokens::sweep_dpop_jtis(&state.platform.db, now).await {
                    tracing::warn!(error = %e, "DPoP jti sweep failed");
                }
                continue;
            }
            let keep = i64::from(state.token.voucher_retention_days) * 86_400;
            match store::tokens::sweep(&state.platform.db, &state.voucher_store, now - keep, now)
                .await
            {
                Ok(n) if n > 0 => tracing::info!(records = n, "old voucher records deleted"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "voucher retention sweep failed"),
            }
        }
    });
}

/// Draws the consequences of verified attributes that expired (their consumers' agreements
/// recomputed), every minute, for as long as the environment's routes exist (produzione runs
/// it for both environments). Every instance may run it: each expiry is applied once.
fn apply_expiries(state: &EnvState) {
    if state.env != Environment::Produzione {
        return;
    }
    let weak = state.downgrade();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            let Some(state) = EnvState::upgrade(&weak) else {
                return;
            };
            let now = platform::db::now_millis();
            match store::attributes::apply_expiries(&state.platform.db, now).await {
                Ok(n) if n > 0 => {
                    tracing::info!(expiries = n, "expired verifications applied");
                    state.platform.mail.wake();
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "expired verifications not applied"),
            }
        }
    });
}

/// Both environments, ready to serve under `/interop/produzione` and `/interop/collaudo`.
pub fn start(
    platform: Platform,
    settings: &Settings,
    vouchers: &Vouchers,
) -> Result<Started, StartError> {
    let jwks_url = platform.jwks_url(settings.jwks_url.as_deref());
    let mut all = Router::new();
    for env in Environment::ALL {
        all = all.nest(
            &auth::base_path(env),
            environment(&platform, env, settings, &jwks_url, vouchers)?,
        );
    }
    Ok(Started::routes(all))
}
