//! The Reserved Area: the entrance of every institution — login, institutions, products,
//! users and roles, and the identity token that opens a product back-office.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod api;
mod auth;
mod dashboard;
mod error;
mod exchange;
mod login;
pub mod model;
mod page_error;
mod pages;
pub mod settings;
mod state;
pub mod store;

use axum::Router;
use axum::routing::{MethodRouter, get, post};
use platform::Platform;
use platform::i18n::Sources;

pub use error::RaError;
pub use settings::Settings;
pub use state::TestIdentity;

use crate::state::{Inner, RaState};

/// This context's messages, in Italian and English.
pub const MESSAGES: Sources = Sources {
    context: "reserved-area",
    it: include_str!("../i18n/it.toml"),
    en: include_str!("../i18n/en.toml"),
};

/// Who may call a route: the tenant-isolation test reads this table, so a route added without
/// saying it fails that test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// Anyone, while the test identity provider is on (404 otherwise).
    TestIdp,
    /// A logged-in person; answers only about that person.
    Session,
    /// A logged-in person with an ACTIVE role on `{institution_id}` (and, where the path
    /// names it, on `{product_id}`).
    Institution,
}

#[derive(Debug, Clone, Copy)]
pub struct RouteDecl {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

fn routes() -> Vec<(RouteDecl, MethodRouter<RaState>)> {
    use Access::*;
    let r = |method, path, access, handler| {
        (
            RouteDecl {
                method,
                path,
                access,
            },
            handler,
        )
    };
    vec![
        r("GET", "/", Public, get(pages::home)),
        r("GET", "/login", Public, get(login::login_page)),
        r("GET", "/auth/test-idp", TestIdp, get(login::test_idp_page)),
        r(
            "POST",
            "/auth/test-idp/login",
            TestIdp,
            post(login::test_idp_login),
        ),
        r(
            "GET",
            "/auth/test-idp/identities",
            TestIdp,
            get(login::test_idp_identities),
        ),
        r(
            "POST",
            "/auth/test-idp/token",
            TestIdp,
            post(login::test_idp_token),
        ),
        r("POST", "/logout", Session, post(login::logout)),
        r("GET", "/dashboard", Session, get(dashboard::institutions)),
        r(
            "GET",
            "/dashboard/{institution_id}",
            Institution,
            get(dashboard::institution),
        ),
        r(
            "GET",
            "/dashboard/{institution_id}/products/{product_id}",
            Institution,
            get(dashboard::manage),
        ),
        r(
            "GET",
            "/dashboard/{institution_id}/enter/{product_id}",
            Institution,
            get(dashboard::enter),
        ),
        r("GET", "/v2/institutions", Session, get(api::institutions)),
        r(
            "GET",
            "/v2/institutions/{institution_id}",
            Institution,
            get(api::institution),
        ),
        r(
            "GET",
            "/v2/institutions/{institution_id}/products",
            Institution,
            get(api::products),
        ),
        r(
            "GET",
            "/v2/token/exchange",
            Institution,
            get(api::token_exchange),
        ),
    ]
}

/// The routes and who may call them.
pub fn declared_routes() -> Vec<RouteDecl> {
    routes().into_iter().map(|(d, _)| d).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("product catalogue {path}: {reason}")]
    Catalogue { path: String, reason: String },
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
}

pub fn router(
    platform: Platform,
    settings: &Settings,
    test_identities: Vec<TestIdentity>,
) -> Result<Router, StartError> {
    settings.check(
        platform.http.listen,
        &platform.public_url,
        !platform.trusted_proxies.is_empty(),
    )?;
    let (path, text) = match &settings.products_file {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(|e| StartError::Catalogue {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?,
        ),
        None => ("(shipped)".to_string(), model::DEFAULT_PRODUCTS.to_string()),
    };
    let catalogue = model::Catalogue::parse(&text).map_err(|e| StartError::Catalogue {
        path,
        reason: e.to_string(),
    })?;
    let state = RaState::new(Inner {
        secure_cookies: platform.public_url.starts_with("https://"),
        platform,
        settings: settings.clone(),
        catalogue,
        test_identities,
    });
    let router = routes()
        .into_iter()
        .fold(Router::new(), |router, (decl, handler)| {
            router.route(decl.path, handler)
        });
    Ok(router.with_state(state))
}

#[cfg(test)]
mod tests {
    #[test]
    fn catalogues_have_the_same_keys() {
        super::MESSAGES.parse().unwrap();
    }

    #[test]
    fn every_route_is_declared_once() {
        let routes = super::declared_routes();
        let mut seen = std::collections::HashSet::new();
        for r in &routes {
            assert!(
                seen.insert((r.method, r.path)),
                "{} {} twice",
                r.method,
                r.path
            );
        }
    }
}
