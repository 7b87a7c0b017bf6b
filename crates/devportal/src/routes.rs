//! The portal's route table: each route's method and path once, its handler and, for the
//! migration API, its OpenAPI operation. It drives the router, the OpenAPI document (served
//! at `/openapi.json`) and the tests alike.

use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use platform::openapi::Op;
use platform::routes::RouteTable;
use utoipa::openapi::OpenApi;

use crate::AppState;
use crate::api::migration;
use crate::auth::MIGRATION_KEY_HEADER;
use crate::pages;

/// A route as the tests see it (the portal's routes carry no access rule: `access` is `()`).
pub type RouteDecl = platform::routes::RouteDecl<()>;

type Route = platform::routes::Route<(), AppState>;

/// A page, an asset or the document itself.
fn page(method: &'static str, path: &'static str, handler: MethodRouter<AppState>) -> Route {
    Route::page(method, path, (), handler)
}

/// A route of the JSON API, described in the OpenAPI document.
fn json(
    method: &'static str,
    path: &'static str,
    handler: MethodRouter<AppState>,
    op: Op,
) -> Route {
    Route::json(method, path, (), handler, op)
}

/// The security scheme of the migration API.
const FUNCTIONS_KEY: &str = "functionsKey";
const TAG: &str = "migration";
const FC: &str = "The organization's fiscal code (11 digits)";
const DELEGATE_ID: &str = "The delegate's id";
const SERVICE_ID: &str = "The service's id";

/// An operation of the migration API on `/organizations/{fc}/...`.
fn migration_op(summary: &str) -> Op {
    Op::new(summary, TAG)
        .path_param("fc", FC)
        .security(FUNCTIONS_KEY)
}

fn table() -> RouteTable<(), AppState> {
    RouteTable(vec![
        page("GET", "/", get(pages::home)),
        page("GET", "/login", get(pages::login_form)),
        page("POST", "/login", post(pages::login)),
        page("POST", "/logout", post(pages::logout)),
        page("GET", "/services", get(pages::services)),
        page("POST", "/services", post(pages::create)).creates(),
        page("GET", "/services/new", get(pages::new_form)),
        page("GET", "/services/{id}", get(pages::service)),
        page("POST", "/services/{id}", post(pages::update)),
        page(
            "POST",
            "/services/{id}/keys/{which}",
            post(pages::regenerate),
        ),
        page("GET", "/static/selfcare.css", get(platform::layout::css)),
        page("GET", "/healthz", get(|| async { "ok" })),
        page("GET", "/openapi.json", get(|| async { Json(openapi()) })),
        json(
            "GET",
            "/api/v1/organizations/{fc}/delegates",
            get(migration::delegates),
            migration_op("The delegates with importable services of the organization")
                .answer::<migration::DelegatesBody>(200, "The delegates")
                .errors(&[400, 401]),
        ),
        json(
            "GET",
            "/api/v1/organizations/{fc}/services",
            get(migration::services),
            migration_op("The importable services of the organization")
                .answer::<migration::ServicesBody>(200, "The services")
                .errors(&[400, 401]),
        ),
        json(
            "GET",
            "/api/v1/organizations/{fc}/excluded-services",
            get(migration::excluded),
            migration_op("The organization's services the import leaves out, with why")
                .answer::<migration::ExcludedBody>(200, "The services left out")
                .errors(&[400, 401]),
        ),
        json(
            "GET",
            "/api/v1/organizations/{fc}/delegates/{delegate_id}",
            get(migration::delegate),
            migration_op("One delegate with importable services of the organization")
                .description("As in the list; 404 when they have none.")
                .path_param("delegate_id", DELEGATE_ID)
                .answer::<migration::DelegateEntry>(200, "The delegate")
                .errors(&[400, 401, 404]),
        ),
        json(
            "GET",
            "/api/v1/organizations/{fc}/delegates/{delegate_id}/services",
            get(migration::delegate_services),
            migration_op("The delegate's importable services of the organization")
                .path_param("delegate_id", DELEGATE_ID)
                .answer::<migration::ServicesBody>(200, "The services")
                .errors(&[400, 401]),
        ),
        json(
            "POST",
            "/api/v1/organizations/{fc}/delegates/{delegate_id}/services/{service_id}/freeze",
            post(migration::freeze),
            migration_op("Freezes a service for its import (idempotent)")
                .description(
                    "The delegate can no longer change it; the answer holds the service's data \
                     and its keys.",
                )
                .path_param("delegate_id", DELEGATE_ID)
                .path_param("service_id", SERVICE_ID)
                .answer::<migration::FreezeBody>(200, "The frozen service and its keys")
                .errors(&[400, 401, 404]),
        ),
        json(
            "POST",
            "/api/v1/organizations/{fc}/delegates/{delegate_id}/services/{service_id}/transfer",
            post(migration::transfer),
            migration_op("Marks a frozen service as transferred (idempotent)")
                .path_param("delegate_id", DELEGATE_ID)
                .path_param("service_id", SERVICE_ID)
                .answer::<migration::TransferBody>(200, "When it was transferred")
                .errors(&[400, 401, 404, 409]),
        ),
    ])
}

/// The routes of the portal.
pub fn declared_routes() -> Vec<RouteDecl> {
    table().decls()
}

/// The router of every route of the table.
pub(crate) fn router() -> Router<AppState> {
    table().router()
}

/// The OpenAPI description of the migration API, from the route table.
pub fn openapi() -> OpenApi {
    use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};

    let mut doc = table()
        .document("")
        .into_openapi("IO Developer Portal (legacy): migration API");
    doc.info.description = Some(
        "Read by the IO back-office's import, with the shared secret in `X-Functions-Key`. \
         Errors are application/problem+json with a stable `code`."
            .into(),
    );
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            FUNCTIONS_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Functions-Key"))),
        );
    // The header the key travels in, as the router reads it.
    debug_assert_eq!(MIGRATION_KEY_HEADER, "x-functions-key");
    doc
}
