//! The route table: each route's method and path once, who may call it, its handler and, for
//! the JSON routes, its OpenAPI operation. The table drives the router (`start`), the OpenAPI
//! document ([`openapi`]) and the tenant-isolation test ([`declared_routes`]).

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::routing::{delete, get, patch, post, put};
use platform::openapi::Op;
use platform::routes::RouteTable;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::api::keys::{CidrsPayload, Subscription, SubscriptionsQuery};
use crate::api::review::{Rejection, ReviewQueue};
use crate::api::service_api::PublishedService;
use crate::api::session::{Info, Me, SessionRequest, SessionToken, Topics};
use crate::api::{PageQuery, SubscriptionKeys};
use crate::auth::{self, BoUser};
use crate::error::IoError;
use crate::import::api::{ClaimStatus, Claims, Delegates};
use crate::state::IoState;
use crate::{api, import, pages};

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

/// A route as the tests see it.
pub type RouteDecl = platform::routes::RouteDecl<Access>;

/// One route: what the isolation test reads, the handler, and the operation of a JSON route
/// (pages have none).
pub type Route = platform::routes::Route<Access, IoState>;

/// The security scheme of the back-office's bearer token (`POST /io/api/session`).
pub const BEARER: &str = "bearer";
/// The security scheme of an institution's manage key.
pub const MANAGE_KEY: &str = "manage_key";
/// The security scheme of a service's own key.
pub const SERVICE_KEY: &str = "service_key";
/// The header of both kinds of keys.
pub const KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";

/// `prefix` + `suffix`, for the program's life: each joined path is leaked once, however
/// often the table is built (router, OpenAPI document, tests).
fn joined(prefix: &str, suffix: &str) -> &'static str {
    static PATHS: Mutex<BTreeMap<String, &'static str>> = Mutex::new(BTreeMap::new());
    let path = format!("{prefix}{suffix}");
    let mut paths = PATHS.lock().unwrap_or_else(|e| e.into_inner());
    paths
        .entry(path.clone())
        .or_insert_with(|| Box::leak(path.into_boxed_str()))
}

const SERVICE_ID: &str = "The service's id";
const KEY_TYPE: &str = "`primary` or `secondary`";

/// The service routes, the same under the manage API (manage key) and the back-office API
/// (session), each with the caller type `C`.
fn service_routes<C>(prefix: &'static str, access: Access) -> Vec<Route>
where
    C: auth::Caller + axum::extract::FromRequestParts<IoState, Rejection = IoError> + 'static,
{
    use api::services::*;
    let p = |suffix: &'static str| joined(prefix, suffix);
    let admin_or = |a: Access| {
        if a == Access::Member {
            Access::Admin
        } else {
            a
        }
    };
    let (tag, scheme) = if access == Access::ManageKey {
        ("manage", MANAGE_KEY)
    } else {
        ("services", BEARER)
    };
    let op = |summary: &str| Op::new(summary, tag).security(scheme);
    let one = |summary: &str| op(summary).path_param("service_id", SERVICE_ID);
    vec![
        Route::json(
            "GET",
            p("/services"),
            access,
            get(list_services::<C>),
            op("Lists the institution's services")
                .query::<PageQuery>()
                .answer::<ServiceList>(200, "A page of services")
                .errors(&[400, 401, 403]),
        ),
        Route::json(
            "POST",
            p("/services"),
            access,
            post(create_service::<C>),
            op("Creates a service (a draft)")
                .body::<ServicePayload>()
                .answer::<ServiceLifecycle>(201, "The service created")
                .errors(&[400, 401, 403, 409]),
        )
        .creates(),
        Route::json(
            "GET",
            p("/services/{service_id}"),
            access,
            get(get_service::<C>),
            one("Reads a service")
                .answer::<ServiceLifecycle>(200, "The service")
                .errors(&[401, 403, 404]),
        ),
        Route::json(
            "PUT",
            p("/services/{service_id}"),
            access,
            put(update_service::<C>),
            one("Updates a service")
                .body::<ServicePayload>()
                .answer::<ServiceLifecycle>(200, "The service updated")
                .errors(&[400, 401, 403, 404, 409]),
        ),
        Route::json(
            "PATCH",
            p("/services/{service_id}"),
            access,
            patch(patch_service::<C>),
            one("Sets the service's group")
                .body::<PatchPayload>()
                .answer::<ServiceLifecycle>(200, "The service updated")
                .errors(&[400, 401, 403, 404]),
        ),
        Route::json(
            "PUT",
            p("/services/{service_id}/patch"),
            access,
            put(patch_service::<C>),
            one("Sets the service's group (as PATCH)")
                .body::<PatchPayload>()
                .answer::<ServiceLifecycle>(200, "The service updated")
                .errors(&[400, 401, 403, 404]),
        ),
        Route::json(
            "DELETE",
            p("/services/{service_id}"),
            access,
            delete(delete_service::<C>),
            one("Deletes a service")
                .empty(204, "Deleted")
                .errors(&[401, 403, 404, 409]),
        ),
        Route::json(
            "PUT",
            p("/services/{service_id}/review"),
            access,
            put(review_service::<C>),
            one("Submits the service for review")
                .body::<ReviewPayload>()
                .empty(204, "Submitted")
                .errors(&[400, 401, 403, 404, 409]),
        ),
        Route::json(
            "PATCH",
            p("/services/{service_id}/review"),
            access,
            patch(explain_service::<C>),
            one("Explains the service to the reviewers")
                .body::<ExplanationPayload>()
                .empty(204, "Recorded")
                .errors(&[400, 401, 403, 404, 409]),
        ),
        Route::json(
            "POST",
            p("/services/{service_id}/release"),
            access,
            post(release_service::<C>),
            one("Publishes the approved service")
                .empty(204, "Published")
                .errors(&[401, 403, 404, 409]),
        ),
        Route::json(
            "GET",
            p("/services/{service_id}/release"),
            access,
            get(published_service::<C>),
            one("Reads the published service")
                .answer::<ServicePublication>(200, "The publication")
                .errors(&[401, 403, 404]),
        ),
        Route::json(
            "DELETE",
            p("/services/{service_id}/release"),
            access,
            delete(unpublish_service::<C>),
            one("Unpublishes the service")
                .empty(204, "Unpublished")
                .errors(&[401, 403, 404, 409]),
        ),
        Route::json(
            "GET",
            p("/services/{service_id}/history"),
            access,
            get(service_history::<C>),
            one("The service's history")
                .query::<HistoryQuery>()
                .answer::<ServiceHistory>(200, "A page of the history")
                .errors(&[400, 401, 403, 404]),
        ),
        Route::json(
            "GET",
            p("/services/{service_id}/keys"),
            access,
            get(service_keys::<C>),
            one("The service's keys")
                .answer::<SubscriptionKeys>(200, "The key pair")
                .errors(&[401, 403, 404]),
        ),
        Route::json(
            "PUT",
            p("/services/{service_id}/keys/{key_type}"),
            admin_or(access),
            put(regenerate_service_key::<C>),
            one("Regenerates one of the service's keys")
                .path_param("key_type", KEY_TYPE)
                .answer::<SubscriptionKeys>(200, "The new key pair")
                .errors(&[400, 401, 403, 404]),
        ),
        Route::json(
            "PUT",
            p("/services/{service_id}/logo"),
            access,
            put(upload_logo::<C>),
            one("Sets the service's logo")
                .body::<LogoPayload>()
                .empty(204, "Stored")
                .errors(&[400, 401, 403, 404]),
        ),
    ]
}

/// The import from the legacy Developer Portal: its JSON API and its pages.
fn import_routes() -> Vec<Route> {
    use Access::Admin;
    use import::{api, pages};
    let op = |summary: &str| Op::new(summary, "import").security(BEARER);
    let claim = |summary: &str| op(summary).path_param("delegate_id", "The delegate's id");
    vec![
        Route::json(
            "GET",
            "/io/api/services/migrations/delegates",
            Admin,
            get(api::delegates),
            op("The delegates with services on the legacy Developer Portal")
                .answer::<Delegates>(200, "The delegates")
                .errors(&[401, 403, 502]),
        ),
        Route::json(
            "GET",
            "/io/api/services/migrations/ownership-claims/latest",
            Admin,
            get(api::latest),
            op("The latest import of each delegate")
                .answer::<Claims>(200, "The imports")
                .errors(&[401, 403]),
        ),
        Route::json(
            "POST",
            "/io/api/services/migrations/ownership-claims/{delegate_id}",
            Admin,
            post(api::claim),
            claim("Starts the import of a delegate's services")
                .empty(202, "Started")
                .errors(&[400, 401, 403, 404, 502]),
        ),
        Route::json(
            "GET",
            "/io/api/services/migrations/ownership-claims/{delegate_id}",
            Admin,
            get(api::claim_status),
            claim("The state of a delegate's import")
                .answer::<ClaimStatus>(200, "Its state")
                .errors(&[401, 403, 404]),
        ),
        Route::page("GET", "/io/import", Admin, get(pages::open)),
        Route::page("POST", "/io/import", Admin, post(pages::start)),
        Route::page(
            "GET",
            "/io/import/regenerate-keys",
            Admin,
            get(pages::confirm_rekey),
        ),
        Route::page(
            "POST",
            "/io/import/regenerate-keys",
            Admin,
            post(pages::rekey),
        ),
    ]
}

/// The back-office API's own routes (sessions, manage keys, review) and the public ones.
fn api_routes() -> Vec<Route> {
    use Access::*;
    use api::{keys, review, service_api, session};
    let bo = |summary: &str, tag: &str| Op::new(summary, tag).security(BEARER);
    let subscription =
        |summary: &str| bo(summary, "keys").path_param("subscription_id", "The subscription's id");
    let reviewed = |summary: &str| bo(summary, "review").path_param("service_id", SERVICE_ID);
    vec![
        Route::json(
            "GET",
            "/api/v1/manage/info",
            Public,
            get(session::info),
            Op::new("The API's name and version", "manage").answer::<Info>(200, "The API"),
        ),
        Route::json(
            "GET",
            "/api/v1/manage/services/topics",
            Public,
            get(session::topics),
            Op::new("The topics of services", "manage").answer::<Topics>(200, "The topics"),
        ),
        Route::json(
            "GET",
            "/io/api/services/topics",
            Public,
            get(session::topics),
            Op::new("The topics of services", "services").answer::<Topics>(200, "The topics"),
        ),
        Route::json(
            "GET",
            "/api/v1/services/{service_id}",
            ServiceKey,
            get(service_api::service_api_get),
            Op::new("Reads the published service with its own key", "service")
                .security(SERVICE_KEY)
                .path_param("service_id", SERVICE_ID)
                .answer::<PublishedService>(200, "The published service")
                .errors(&[401, 403, 404]),
        ),
        Route::json(
            "POST",
            "/io/api/session",
            Entry,
            post(session::open_session),
            Op::new("Opens a back-office session for scripts", "session")
                .body::<SessionRequest>()
                .answer::<SessionToken>(200, "A bearer token")
                .errors(&[400, 401, 403]),
        ),
        Route::json(
            "POST",
            "/io/api/logout",
            AnySession,
            post(session::close_session),
            bo("Ends the back-office session", "session")
                .empty(204, "Ended")
                .errors(&[401, 403]),
        ),
        Route::json(
            "GET",
            "/io/api/me",
            Member,
            get(session::me),
            bo("Who the session is", "session")
                .answer::<Me>(200, "The person and institution")
                .errors(&[401, 403]),
        ),
        Route::json(
            "GET",
            "/io/api/subscriptions",
            Admin,
            get(keys::list_subscriptions),
            bo("The institution's manage keys", "keys")
                .query::<SubscriptionsQuery>()
                .answer::<Vec<Subscription>>(200, "The subscriptions")
                .errors(&[400, 401, 403]),
        ),
        Route::json(
            "GET",
            "/io/api/subscriptions/{subscription_id}/keys",
            Admin,
            get(keys::subscription_keys),
            subscription("A manage key pair")
                .answer::<SubscriptionKeys>(200, "The key pair")
                .errors(&[401, 403, 404]),
        ),
        Route::json(
            "PUT",
            "/io/api/subscriptions/{subscription_id}/keys/{key_type}",
            Admin,
            put(keys::regenerate_subscription_key),
            subscription("Regenerates one of a manage key pair")
                .path_param("key_type", KEY_TYPE)
                .answer::<SubscriptionKeys>(200, "The new key pair")
                .errors(&[400, 401, 403, 404]),
        ),
        Route::json(
            "GET",
            "/io/api/subscriptions/{subscription_id}/cidrs",
            Admin,
            get(keys::subscription_cidrs),
            subscription("The addresses a manage key may be used from")
                .answer::<Vec<String>>(200, "IPv4 CIDRs (none: anywhere)")
                .errors(&[401, 403, 404]),
        ),
        Route::json(
            "PUT",
            "/io/api/subscriptions/{subscription_id}/cidrs",
            Admin,
            put(keys::set_subscription_cidrs),
            subscription("Sets the addresses a manage key may be used from")
                .body::<CidrsPayload>()
                .answer::<Vec<String>>(200, "The CIDRs stored")
                .errors(&[400, 401, 403, 404]),
        ),
        Route::json(
            "GET",
            "/io/api/review",
            Operator,
            get(review::review_queue),
            bo("The services waiting for review", "review")
                .query::<PageQuery>()
                .answer::<ReviewQueue>(200, "A page of the queue")
                .errors(&[400, 401, 403]),
        ),
        Route::json(
            "POST",
            "/io/api/review/{service_id}/approve",
            Operator,
            post(review::approve),
            reviewed("Approves a service")
                .empty(204, "Approved")
                .errors(&[401, 403, 404, 409]),
        ),
        Route::json(
            "POST",
            "/io/api/review/{service_id}/reject",
            Operator,
            post(review::reject),
            reviewed("Rejects a service")
                .body::<Rejection>()
                .empty(204, "Rejected")
                .errors(&[400, 401, 403, 404, 409]),
        ),
    ]
}

/// The pages (HTML).
fn page_routes() -> Vec<Route> {
    use Access::*;
    use pages::{enter, home, keys, logout, review, services};
    vec![
        Route::page("POST", "/io/session", Entry, post(enter)),
        Route::page("POST", "/io/logout", AnySession, post(logout)),
        Route::page("GET", "/io", Member, get(home::overview)),
        Route::page("GET", "/io/services", Member, get(services::list)),
        Route::page("GET", "/io/services/new", Member, get(services::new_form)),
        Route::page("POST", "/io/services/new", Member, post(services::create)).creates(),
        Route::page(
            "GET",
            "/io/services/{service_id}",
            Member,
            get(services::detail),
        ),
        Route::page(
            "GET",
            "/io/services/{service_id}/edit",
            Member,
            get(services::edit_form),
        ),
        Route::page(
            "POST",
            "/io/services/{service_id}/edit",
            Member,
            post(services::update),
        ),
        Route::page(
            "POST",
            "/io/services/{service_id}/action",
            Member,
            post(services::action),
        ),
        Route::page(
            "GET",
            "/io/services/{service_id}/delete",
            Member,
            get(services::confirm_delete),
        ),
        Route::page(
            "GET",
            "/io/services/{service_id}/keys/{key_type}/regenerate",
            Admin,
            get(services::confirm_regenerate),
        ),
        Route::page(
            "POST",
            "/io/services/{service_id}/keys/{key_type}/regenerate",
            Admin,
            post(services::regenerate),
        ),
        Route::page("GET", "/io/keys", Member, get(keys::page)),
        Route::page(
            "GET",
            "/io/keys/{key_type}/regenerate",
            Admin,
            get(keys::confirm_regenerate),
        ),
        Route::page(
            "POST",
            "/io/keys/{key_type}/regenerate",
            Admin,
            post(keys::regenerate),
        ),
        Route::page("POST", "/io/keys/cidrs", Admin, post(keys::set_cidrs)),
        Route::page("GET", "/io/review", Operator, get(review::queue)),
        Route::page(
            "GET",
            "/io/review/{service_id}",
            Operator,
            get(review::detail),
        ),
        Route::page(
            "POST",
            "/io/review/{service_id}",
            Operator,
            post(review::decide),
        ),
    ]
}

/// Every route of the context.
pub fn routes() -> Vec<Route> {
    let mut all = api_routes();
    all.extend(import_routes());
    all.extend(service_routes::<auth::ManageKey>(
        "/api/v1/manage",
        Access::ManageKey,
    ));
    all.extend(service_routes::<BoUser>("/io/api", Access::Member));
    all.extend(page_routes());
    all
}

/// Every route with who may call it (the isolation test's table).
pub fn declared_routes() -> Vec<RouteDecl> {
    RouteTable(routes()).decls()
}

/// The JSON routes, `(METHOD, path)`: the operations of [`openapi`].
pub fn json_routes() -> Vec<(String, String)> {
    RouteTable(routes()).json_routes()
}

/// The OpenAPI document of the JSON routes, with the security schemes they name.
pub fn openapi() -> OpenApi {
    let mut api = RouteTable(routes())
        .document("")
        .into_openapi("App IO back-office");
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A back-office token (`POST /io/api/session`) or the session cookie",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        MANAGE_KEY,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            KEY_HEADER,
            "An institution's manage key",
        ))),
    );
    components.add_security_scheme(
        SERVICE_KEY,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            KEY_HEADER,
            "A service's own key",
        ))),
    );
    api
}
