//! The Reserved Area: the entrance of every institution — login, institutions, products,
//! users and roles, and the identity token that opens a product back-office.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
pub mod admin;
mod api;
mod audit_page;
mod auth;
mod dashboard;
mod error;
mod exchange;
mod login;
pub mod model;
mod oidc;
mod operator;
mod page_error;
mod pages;
pub mod settings;
mod state;
pub mod store;
mod users_api;
mod users_pages;

use axum::Router;
use axum::routing::{MethodRouter, delete, get, post};
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
    /// A logged-in platform operator.
    Operator,
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
    let provider = oidc::Oidc::default();
    vec![
        r("GET", "/", Public, get(pages::home)),
        r("GET", "/login", Public, get(login::login_page)),
        r("GET", "/auth/oidc/login", Public, provider.login_route()),
        r(
            "GET",
            "/auth/oidc/callback",
            Public,
            provider.callback_route(),
        ),
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
        r("GET", "/operator", Operator, get(operator::area)),
        r(
            "GET",
            "/operator/enter/{product_id}",
            Operator,
            get(operator::enter),
        ),
        r(
            "GET",
            "/v2/token/exchange/back-office/admin",
            Operator,
            get(operator::exchange_api),
        ),
        r(
            "POST",
            "/v2/institutions/{institution_id}/products/{product_id}/users",
            Institution,
            post(users_api::add_user),
        ),
        r(
            "GET",
            "/v2/users/institution/{institution_id}",
            Institution,
            get(users_api::list_users),
        ),
        r(
            "GET",
            "/v2/institutions/{institution_id}/users/{user_id}",
            Institution,
            get(users_api::get_user),
        ),
        r(
            "POST",
            "/v2/institutions/{institution_id}/product/{product_id}/check-user",
            Institution,
            post(users_api::check_user),
        ),
        r("POST", "/v2/users/search", Session, post(users_api::search)),
        r(
            "POST",
            "/v2/users/{user_id}/suspend",
            Institution,
            post(users_api::suspend),
        ),
        r(
            "POST",
            "/v2/users/{user_id}/activate",
            Institution,
            post(users_api::activate),
        ),
        r(
            "DELETE",
            "/v2/users/{user_id}",
            Institution,
            delete(users_api::remove),
        ),
        r(
            "GET",
            "/dashboard/{institution_id}/users",
            Institution,
            get(users_pages::list),
        ),
        r(
            "GET",
            "/dashboard/{institution_id}/users/new",
            Institution,
            get(users_pages::new_form),
        ),
        r(
            "POST",
            "/dashboard/{institution_id}/users/new",
            Institution,
            post(users_pages::create),
        ),
        r(
            "GET",
            "/dashboard/{institution_id}/users/{user_id}",
            Institution,
            get(users_pages::detail),
        ),
        r(
            "POST",
            "/dashboard/{institution_id}/users/{user_id}/roles",
            Institution,
            post(users_pages::change_roles),
        ),
        r(
            "GET",
            "/dashboard/{institution_id}/audit",
            Institution,
            get(audit_page::audit),
        ),
    ]
}

/// The OpenAPI description of this context's JSON API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    use utoipa::openapi::security::{
        ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
    };

    #[derive(OpenApi)]
    #[openapi(
        paths(
            api::institutions,
            api::institution,
            api::products,
            api::token_exchange,
            operator::exchange_api,
            login::test_idp_identities,
            login::test_idp_token,
            users_api::add_user,
            users_api::list_users,
            users_api::get_user,
            users_api::check_user,
            users_api::search,
            users_api::suspend,
            users_api::activate,
            users_api::remove,
        ),
        tags(
            (name = "institutions", description = "The institutions and products of the caller"),
            (name = "token", description = "Identity tokens for the product back-offices"),
            (name = "users", description = "People of an institution and their product roles"),
            (name = "test identity provider", description = "Demo and test logins"),
        )
    )]
    struct Doc;

    let mut doc = Doc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "sessionToken",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    components.add_security_scheme(
        "sessionCookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
            platform::session::SESSION_COOKIE,
        ))),
    );
    doc
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

/// The product catalogue: the configured file, or the shipped one.
pub fn load_catalogue(settings: &Settings) -> Result<model::Catalogue, StartError> {
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
    model::Catalogue::parse(&text).map_err(|e| StartError::Catalogue {
        path,
        reason: e.to_string(),
    })
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
    let catalogue = load_catalogue(settings)?;
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
    fn every_users_message_is_in_both_catalogues() {
        let [it, en] = super::MESSAGES.parse().unwrap();
        for key in super::model::users::MESSAGE_KEYS {
            assert!(it.contains_key(*key) && en.contains_key(*key), "{key}");
        }
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
