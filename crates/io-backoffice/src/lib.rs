//! The App IO back-office: services, lifecycle, review, API keys, the manage API.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
pub mod auth;
mod error;
pub mod import;
pub mod model;
mod pages;
pub mod secrets;
pub mod settings;
mod state;
pub mod store;

use axum::Router;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use platform::Platform;
use platform::i18n::Sources;
use platform::identity::IdentityVerifier;

pub use error::IoError;
pub use settings::Settings;

use crate::auth::BoUser;
use crate::secrets::{KeyRing, SecretError};
use crate::state::{Inner, IoState};

/// This context's messages, in Italian and English.
pub const MESSAGES: Sources = Sources {
    context: "io",
    it: include_str!("../i18n/it.toml"),
    en: include_str!("../i18n/en.toml"),
};

/// Who may call a route: the tenant-isolation test reads this table, so a route added without
/// saying it fails that test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// Anyone with an identity token (the entry points).
    Entry,
    /// A person of the institution with a role on `prod-io` (admin or operator).
    Member,
    /// An administrator (`admin` of `prod-io`) of the institution.
    Admin,
    /// A platform operator (review queue).
    Operator,
    /// Any back-office session (its own logout).
    AnySession,
    /// An institution's manage key, from an authorized address.
    ManageKey,
    /// A service's own key, from an address its `authorized_cidrs` allow.
    ServiceKey,
}

#[derive(Debug, Clone, Copy)]
pub struct RouteDecl {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

type Route = (RouteDecl, MethodRouter<IoState>);

fn r(
    method: &'static str,
    path: &'static str,
    access: Access,
    handler: MethodRouter<IoState>,
) -> Route {
    (
        RouteDecl {
            method,
            path,
            access,
        },
        handler,
    )
}

/// The service routes, the same under the manage API (manage key) and the back-office API
/// (session), each with the caller type `C`.
fn service_routes<C>(prefix: &'static str, access: Access) -> Vec<Route>
where
    C: auth::Caller + axum::extract::FromRequestParts<IoState, Rejection = IoError> + 'static,
{
    use api::*;
    let p = |suffix: &'static str| -> &'static str {
        // Route paths live for the program: leak the few joined strings once, at start-up.
        Box::leak(format!("{prefix}{suffix}").into_boxed_str())
    };
    let admin_or = |a: Access| {
        if a == Access::Member {
            Access::Admin
        } else {
            a
        }
    };
    vec![
        r("GET", p("/services"), access, get(list_services::<C>)),
        r("POST", p("/services"), access, post(create_service::<C>)),
        r(
            "GET",
            p("/services/{service_id}"),
            access,
            get(get_service::<C>),
        ),
        r(
            "PUT",
            p("/services/{service_id}"),
            access,
            put(update_service::<C>),
        ),
        r(
            "PATCH",
            p("/services/{service_id}"),
            access,
            patch(patch_service::<C>),
        ),
        r(
            "PUT",
            p("/services/{service_id}/patch"),
            access,
            put(patch_service::<C>),
        ),
        r(
            "DELETE",
            p("/services/{service_id}"),
            access,
            delete(delete_service::<C>),
        ),
        r(
            "PUT",
            p("/services/{service_id}/review"),
            access,
            put(review_service::<C>),
        ),
        r(
            "PATCH",
            p("/services/{service_id}/review"),
            access,
            patch(explain_service::<C>),
        ),
        r(
            "POST",
            p("/services/{service_id}/release"),
            access,
            post(release_service::<C>),
        ),
        r(
            "GET",
            p("/services/{service_id}/release"),
            access,
            get(published_service::<C>),
        ),
        r(
            "DELETE",
            p("/services/{service_id}/release"),
            access,
            delete(unpublish_service::<C>),
        ),
        r(
            "GET",
            p("/services/{service_id}/history"),
            access,
            get(service_history::<C>),
        ),
        r(
            "GET",
            p("/services/{service_id}/keys"),
            access,
            get(service_keys::<C>),
        ),
        r(
            "PUT",
            p("/services/{service_id}/keys/{key_type}"),
            admin_or(access),
            put(regenerate_service_key::<C>),
        ),
        r(
            "PUT",
            p("/services/{service_id}/logo"),
            access,
            put(upload_logo::<C>),
        ),
    ]
}

/// The import from the legacy Developer Portal: its JSON API and its pages.
fn import_routes() -> Vec<Route> {
    use Access::Admin;
    use import::{api, pages};
    vec![
        r(
            "GET",
            "/io/api/services/migrations/delegates",
            Admin,
            get(api::delegates),
        ),
        r(
            "GET",
            "/io/api/services/migrations/ownership-claims/latest",
            Admin,
            get(api::latest),
        ),
        r(
            "POST",
            "/io/api/services/migrations/ownership-claims/{delegate_id}",
            Admin,
            post(api::claim),
        ),
        r(
            "GET",
            "/io/api/services/migrations/ownership-claims/{delegate_id}",
            Admin,
            get(api::claim_status),
        ),
        r("GET", "/io/import", Admin, get(pages::open)),
        r("POST", "/io/import", Admin, post(pages::start)),
        r("GET", "/io/import/status", Admin, get(pages::status)),
        r(
            "GET",
            "/io/import/regenerate-keys",
            Admin,
            get(pages::confirm_rekey),
        ),
        r(
            "POST",
            "/io/import/regenerate-keys",
            Admin,
            post(pages::rekey),
        ),
    ]
}

fn routes() -> Vec<Route> {
    use Access::*;
    use api::*;
    let mut all = vec![
        r("GET", "/api/v1/manage/info", Public, get(info)),
        r("GET", "/api/v1/manage/services/topics", Public, get(topics)),
        r("GET", "/io/api/services/topics", Public, get(topics)),
        r(
            "GET",
            "/api/v1/services/{service_id}",
            ServiceKey,
            get(service_api_get),
        ),
        r("POST", "/io/api/session", Entry, post(open_session)),
        r("POST", "/io/api/logout", AnySession, post(close_session)),
        r("GET", "/io/api/me", Member, get(me)),
        r(
            "GET",
            "/io/api/subscriptions",
            Admin,
            get(list_subscriptions),
        ),
        r(
            "GET",
            "/io/api/subscriptions/{subscription_id}/keys",
            Admin,
            get(subscription_keys),
        ),
        r(
            "PUT",
            "/io/api/subscriptions/{subscription_id}/keys/{key_type}",
            Admin,
            put(regenerate_subscription_key),
        ),
        r(
            "GET",
            "/io/api/subscriptions/{subscription_id}/cidrs",
            Admin,
            get(subscription_cidrs),
        ),
        r(
            "PUT",
            "/io/api/subscriptions/{subscription_id}/cidrs",
            Admin,
            put(set_subscription_cidrs),
        ),
        r("GET", "/io/api/review", Operator, get(review_queue)),
        r(
            "POST",
            "/io/api/review/{service_id}/approve",
            Operator,
            post(approve),
        ),
        r(
            "POST",
            "/io/api/review/{service_id}/reject",
            Operator,
            post(reject),
        ),
    ];
    all.extend(import_routes());
    all.extend(service_routes::<auth::ManageKey>(
        "/api/v1/manage",
        Access::ManageKey,
    ));
    all.extend(service_routes::<BoUser>("/io/api", Member));
    all.extend(pages::routes());
    all
}

/// Every route with who may call it (the isolation test's table).
pub fn declared_routes() -> Vec<RouteDecl> {
    routes().into_iter().map(|(d, _)| d).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("io: {0}")]
    Secret(#[from] SecretError),
    #[error("io: {0}")]
    Import(#[from] import::client::PortalConfigError),
}

/// The IO back-office, ready to serve: its routes and the import's workers (started).
pub struct Started {
    pub router: Router,
    pub workers: import::Workers,
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
    let jwks_url = settings.jwks_url.clone().unwrap_or_else(|| {
        let mut addr = platform.http.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::IpAddr::from([127, 0, 0, 1]));
        }
        format!("http://{addr}/.well-known/jwks.json")
    });
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
    let mut router: Router<IoState> = Router::new();
    let mut by_path: Vec<(&'static str, MethodRouter<IoState>)> = Vec::new();
    for (decl, handler) in routes() {
        match by_path.iter_mut().find(|(p, _)| *p == decl.path) {
            Some((_, existing)) => {
                let merged = std::mem::take(existing).merge(handler);
                *existing = merged;
            }
            None => by_path.push((decl.path, handler)),
        }
    }
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    Ok(Started {
        router: router.with_state(state),
        workers,
    })
}

/// Re-encrypts every stored key under the newest master key (`selfcare io rekey`).
pub async fn rekey(db: &platform::db::Db, settings: &Settings) -> Result<u64, IoError> {
    let ring = KeyRing::load(&settings.master_key_files)?;
    store::rekey(db, &ring).await
}
