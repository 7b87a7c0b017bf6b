//! The route table: each route's method and path once, who may call it, its handler and, for
//! the JSON API, its OpenAPI operation. It drives the router, the OpenAPI document and the
//! tenant-isolation test alike.

use axum::Router;
use axum::routing::{delete, get, post};
use platform::openapi::Op;
use platform::routes::RouteTable;
use utoipa::openapi::OpenApi;

use crate::api::{institutions, test_idp, token, users};
use crate::pages::{audit, dashboard, home, login, oidc, operator};
use crate::state::RaState;

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

/// A route as the tests see it.
pub type RouteDecl = platform::routes::RouteDecl<Access>;

type Route = platform::routes::Route<Access, RaState>;

const INSTITUTION_ID: &str = "The institution's id";
const PRODUCT_ID: &str = "The product's id";
const USER_ID: &str = "The person's id";
const SESSION: &str = "sessionToken";

fn table() -> RouteTable<Access, RaState> {
    use Access::*;
    let (page, json) = (Route::page, Route::json);
    let provider = oidc::Oidc::default();
    RouteTable(vec![
        page("GET", "/", Public, get(home::home)),
        page("GET", "/login", Public, get(login::login_page)),
        page("GET", "/auth/oidc/login", Public, provider.login_route()),
        page(
            "GET",
            "/auth/oidc/callback",
            Public,
            provider.callback_route(),
        ),
        page("GET", "/auth/test-idp", TestIdp, get(login::test_idp_page)),
        page(
            "POST",
            "/auth/test-idp/login",
            TestIdp,
            post(login::test_idp_login),
        ),
        json(
            "GET",
            "/auth/test-idp/identities",
            TestIdp,
            get(test_idp::test_idp_identities),
            Op::new(
                "The demo identities of the test identity provider (404 when it is off)",
                "test identity provider",
            )
            .answer::<test_idp::TestIdentityList>(200, "The demo identities")
            .errors(&[404]),
        ),
        json(
            "POST",
            "/auth/test-idp/token",
            TestIdp,
            post(test_idp::test_idp_token),
            Op::new(
                "Logs in through the test identity provider (404 when it is off)",
                "test identity provider",
            )
            .description(
                "A listed identity by its fiscal code, or any person with a valid fiscal code, \
                 name and family name.",
            )
            .body::<login::PersonInput>()
            .answer::<test_idp::SessionTokenResponse>(200, "A session token")
            .errors(&[400, 404]),
        ),
        page("POST", "/logout", Session, post(login::logout)),
        page("GET", "/dashboard", Session, get(dashboard::institutions)),
        page(
            "GET",
            "/dashboard/{institution_id}",
            Institution,
            get(dashboard::institution),
        ),
        page(
            "GET",
            "/dashboard/{institution_id}/products/{product_id}",
            Institution,
            get(dashboard::manage),
        ),
        page(
            "GET",
            "/dashboard/{institution_id}/enter/{product_id}",
            Institution,
            get(dashboard::enter),
        ),
        json(
            "GET",
            "/v2/institutions",
            Session,
            get(institutions::institutions),
            Op::new(
                "The institutions the caller may enter, with their role there",
                "institutions",
            )
            .answer::<institutions::InstitutionList>(200, "The caller's institutions")
            .errors(&[401])
            .security(SESSION),
        ),
        json(
            "GET",
            "/v2/institutions/{institution_id}",
            Institution,
            get(institutions::institution),
            Op::new(
                "One institution the caller has an ACTIVE role on",
                "institutions",
            )
            .path_param("institution_id", INSTITUTION_ID)
            .answer::<institutions::InstitutionDetail>(200, "The institution")
            .errors(&[401, 404])
            .security(SESSION),
        ),
        json(
            "GET",
            "/v2/institutions/{institution_id}/products",
            Institution,
            get(institutions::products),
            Op::new("The institution's products", "institutions")
                .description(
                    "The active ones (with whether the caller may enter them and in which \
                     environments) and the others.",
                )
                .path_param("institution_id", INSTITUTION_ID)
                .answer::<institutions::ProductList>(200, "The products")
                .errors(&[401, 404])
                .security(SESSION),
        ),
        json(
            "GET",
            "/v2/token/exchange",
            Institution,
            get(token::token_exchange),
            Op::new(
                "Exchanges the session for an identity token for one product of one institution",
                "token",
            )
            .description(
                "Collaudo is `productId=prod-interop-coll`; `environment` selects a product's \
                 extra back-office environments. Only while the onboarding and the caller's \
                 role are both ACTIVE.",
            )
            .query::<token::ExchangeQuery>()
            .answer::<token::IdentityToken>(200, "The identity token")
            .errors(&[400, 401, 403, 404])
            .security(SESSION),
        ),
        page("GET", "/operator", Operator, get(operator::area)),
        page(
            "GET",
            "/operator/enter/{product_id}",
            Operator,
            get(operator::enter),
        ),
        json(
            "GET",
            "/v2/token/exchange/back-office/admin",
            Operator,
            get(token::operator_exchange),
            Op::new(
                "A platform operator's identity token for a product's operator pages",
                "token",
            )
            .description("`platform_operator: true`, no `organization`.")
            .query::<token::OperatorExchangeQuery>()
            .answer::<token::IdentityToken>(200, "The operator identity token")
            .errors(&[400, 401, 403, 404])
            .security(SESSION),
        ),
        json(
            "POST",
            "/v2/institutions/{institution_id}/products/{product_id}/users",
            Institution,
            post(users::add_user),
            Op::new(
                "Adds a person (new or known) with roles on one product of the institution \
                 (ADMIN only)",
                "users",
            )
            .path_param("institution_id", INSTITUTION_ID)
            .path_param("product_id", PRODUCT_ID)
            .body::<users::AddUserBody>()
            .answer::<users::CreatedId>(201, "The person's id")
            .errors(&[400, 401, 403, 404])
            .security(SESSION),
        )
        .creates(),
        json(
            "GET",
            "/v2/users/institution/{institution_id}",
            Institution,
            get(users::list_users),
            Op::new(
                "The institution's users with their roles, filtered and paged (ADMIN only)",
                "users",
            )
            .description(
                "People in family-name order, `size` (1-100, default 20) per `page` (from 0). \
                 The response header `X-Total-Count` gives how many people match in all.",
            )
            .path_param("institution_id", INSTITUTION_ID)
            .query::<users::UsersQuery>()
            .answer::<users::UserList>(200, "The users")
            .errors(&[400, 401, 403, 404])
            .security(SESSION),
        ),
        json(
            "GET",
            "/v2/institutions/{institution_id}/users/{user_id}",
            Institution,
            get(users::get_user),
            Op::new(
                "One user of the institution (ADMIN, or the person themselves)",
                "users",
            )
            .path_param("institution_id", INSTITUTION_ID)
            .path_param("user_id", USER_ID)
            .answer::<users::UserView>(200, "The user")
            .errors(&[401, 403, 404])
            .security(SESSION),
        ),
        json(
            "POST",
            "/v2/institutions/{institution_id}/product/{product_id}/check-user",
            Institution,
            post(users::check_user),
            Op::new(
                "Whether the person already has a role on the product of the institution",
                "users",
            )
            .path_param("institution_id", INSTITUTION_ID)
            .path_param("product_id", PRODUCT_ID)
            .body::<users::FiscalCodeBody>()
            .answer::<users::CheckUserAnswer>(200, "Whether the person is onboarded")
            .errors(&[400, 401, 403, 404])
            .security(SESSION),
        ),
        json(
            "POST",
            "/v2/users/search",
            Session,
            post(users::search),
            Op::new(
                "A known person by fiscal code (so the form can pre-fill name and surname); \
                 for admins",
                "users",
            )
            .body::<users::FiscalCodeBody>()
            .answer::<users::PersonFound>(200, "The person")
            .errors(&[400, 401, 403, 404])
            .security(SESSION),
        ),
        json(
            "POST",
            "/v2/users/{user_id}/suspend",
            Institution,
            post(users::suspend),
            Op::new(
                "Suspends the person's roles on the product (all, or `productRole`)",
                "users",
            )
            .path_param("user_id", USER_ID)
            .query::<users::RoleChangeQuery>()
            .empty(204, "Suspended")
            .errors(&[400, 401, 403, 404, 409])
            .security(SESSION),
        ),
        json(
            "POST",
            "/v2/users/{user_id}/activate",
            Institution,
            post(users::activate),
            Op::new(
                "Reactivates the person's suspended roles on the product",
                "users",
            )
            .path_param("user_id", USER_ID)
            .query::<users::RoleChangeQuery>()
            .empty(204, "Reactivated")
            .errors(&[400, 401, 403, 404, 409])
            .security(SESSION),
        ),
        json(
            "DELETE",
            "/v2/users/{user_id}",
            Institution,
            delete(users::remove),
            Op::new(
                "Removes the person's roles on the product (logically: DELETED)",
                "users",
            )
            .path_param("user_id", USER_ID)
            .query::<users::RoleChangeQuery>()
            .empty(204, "Removed")
            .errors(&[400, 401, 403, 404, 409])
            .security(SESSION),
        ),
        page(
            "GET",
            "/dashboard/{institution_id}/users",
            Institution,
            get(crate::pages::users::list),
        ),
        page(
            "GET",
            "/dashboard/{institution_id}/users/new",
            Institution,
            get(crate::pages::users::new_form),
        ),
        page(
            "POST",
            "/dashboard/{institution_id}/users/new",
            Institution,
            post(crate::pages::users::create),
        )
        .creates(),
        page(
            "GET",
            "/dashboard/{institution_id}/users/{user_id}",
            Institution,
            get(crate::pages::users::detail),
        ),
        page(
            "POST",
            "/dashboard/{institution_id}/users/{user_id}/roles",
            Institution,
            post(crate::pages::users::change_roles),
        ),
        page(
            "GET",
            "/dashboard/{institution_id}/audit",
            Institution,
            get(audit::audit),
        ),
        page(
            "GET",
            "/dashboard/{institution_id}/audit/export",
            Institution,
            get(audit::export),
        ),
    ])
}

/// The routes and who may call them.
pub fn declared_routes() -> Vec<RouteDecl> {
    table().decls()
}

/// The router of every route of the table.
pub(crate) fn router() -> Router<RaState> {
    table().router()
}

/// The OpenAPI description of this context's JSON API, from the route table.
pub fn openapi() -> OpenApi {
    use utoipa::openapi::security::{
        ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
    };
    use utoipa::openapi::tag::TagBuilder;

    let mut doc = table().document("").into_openapi("Reserved Area");
    // The session token or, from the browser, the session cookie.
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            if let Some(security) = op.security.as_mut().filter(|s| !s.is_empty()) {
                security.push(SecurityRequirement::new(
                    "sessionCookie",
                    Vec::<String>::new(),
                ));
            }
        }
    }
    let described = [
        (
            "institutions",
            "The institutions and products of the caller",
        ),
        ("token", "Identity tokens for the product back-offices"),
        ("users", "People of an institution and their product roles"),
        ("test identity provider", "Demo and test logins"),
    ];
    doc.tags = Some(
        described
            .iter()
            .map(|(name, text)| {
                TagBuilder::new()
                    .name(*name)
                    .description(Some(*text))
                    .build()
            })
            .collect(),
    );
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SESSION,
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
