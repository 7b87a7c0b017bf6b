//! The route table of an environment: method and path once, who may call, the handler, and
//! for JSON routes the OpenAPI operation. It drives the router ([`crate::router`]), the
//! OpenAPI document ([`crate::openapi::openapi`]) and the isolation test
//! ([`declared_routes`]).

use axum::routing::{MethodRouter, delete, get, post, put};
use platform::openapi::Op;
use platform::routes::RouteTable;

use crate::api::{self, agreements, attributes, clients, documents, eservices, purposes, session};
use crate::model::attribute::Requirements;
use crate::model::risk_analysis::RiskAnalysisForm;
use crate::model::token::TokenForm;
use crate::pages;
use crate::state::EnvState;
use crate::store::agreements::Agreement;
use crate::store::attributes::{Attribute, TenantAttributes};
use crate::store::catalogue::{Descriptor, EService};
use crate::store::clients::Client;
use crate::store::documents::DocumentInfo;
use crate::store::purposes::Purpose;
use crate::token::DebugRequest;
use crate::token::{self, Diagnosis, TokenProblem, TokenResponse};

/// Who may call a route: the tenant-isolation test reads this table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the environment's public keys).
    Public,
    /// Anyone with a client assertion signed by a client's key (the token endpoint).
    Token,
    /// Anyone with an identity token of the environment's product (the entry points).
    Entry,
    /// Any session of the environment (its own logout).
    AnySession,
    /// A person of an institution with any role on the environment's product.
    Member,
}

/// A route of one environment as the tests see it; `path` is relative to
/// `/interop/<environment>`.
pub type RouteDecl = platform::routes::RouteDecl<Access>;

/// One line of the table; `op` is the OpenAPI operation of a JSON route, `None` for pages and
/// forms.
pub type Route = platform::routes::Route<Access, EnvState>;

/// A JSON route with its operation: the path's `{placeholders}` become its path parameters,
/// a member's route needs the environment's bearer token.
fn json(
    method: &'static str,
    path: &'static str,
    access: Access,
    handler: MethodRouter<EnvState>,
    op: Op,
) -> Route {
    let mut op = op;
    for name in path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    {
        op = op.path_param(name, param_description(name));
    }
    if access == Access::Member {
        op = op.security("bearer");
    }
    Route::json(method, path, access, handler, op)
}

fn param_description(name: &str) -> &'static str {
    match name {
        "id" => "The id (a UUID) of the resource the path names",
        "descriptor_id" => "The version's id",
        "version_id" => "The purpose version's id",
        "user_id" => "A person's user id",
        "purpose_id" => "The purpose's id",
        "kid" => "The key's id (its RFC 7638 thumbprint)",
        "document_id" => "The file's id",
        "attribute_id" => "The attribute's id",
        _ => "An id",
    }
}

/// The refusals of a member's route that reads a body.
const WRITE: &[u16] = &[400, 401, 403, 404, 409];
/// The refusals of a member's route without a body.
const ACT: &[u16] = &[401, 403, 404, 409];
/// The refusals of a member's read.
const READ: &[u16] = &[401, 403, 404];

fn op(summary: &str, tag: &str) -> Op {
    Op::new(summary, format!("interop {tag}"))
}

pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        json(
            "GET",
            "/.well-known/jwks.json",
            Public,
            get(session::jwks),
            op("The environment's voucher public keys (JWKS)", "keys")
                .answer::<session::JwkSet>(200, "The keys"),
        ),
        json(
            "GET",
            "/keys/{kid}",
            Public,
            get(session::client_key),
            op(
                "A client's public key by its kid: what a producer checks a consumer's tracking evidence (AUDIT_REST_02) with",
                "keys",
            )
            .answer::<session::ClientPublicKey>(200, "The key and its client")
            .errors(&[404]),
        ),
        json(
            "POST",
            "/token.oauth2",
            Token,
            post(token::token),
            op("Exchanges a client assertion for a voucher", "vouchers")
                .description(
                    "The reference's `createToken` (`authorizationServerApi.yml`): a form \
                     with the client assertion; every refusal is the same opaque 400. The \
                     answers carry `Cache-Control: no-cache, no-store` and the \
                     `X-Rate-Limit-Limit`, `-Remaining`, `-Interval` headers. With a `DPoP` \
                     proof (RFC 9449) the voucher is bound to the proof's key (`cnf.jkt`) and \
                     the answer's `token_type` is `DPoP`.",
                )
                .header(
                    "DPoP",
                    false,
                    "A DPoP proof (RFC 9449): header exactly {typ: dpop+jwt, alg: RS256 or \
                     ES256, jwk}, payload exactly {htm: POST, htu: this endpoint's URL, iat, \
                     jti}; each jti once",
                )
                .body_as::<TokenForm>("application/x-www-form-urlencoded")
                .answer::<TokenResponse>(200, "The voucher")
                // problem+json, as `openapi::openapi` writes them.
                .answer::<TokenProblem>(400, "Refused")
                .answer::<TokenProblem>(429, "Too many requests")
                .answer::<TokenProblem>(500, "Not issued"),
        ),
        Route::page("POST", "/session", Entry, post(pages::enter)),
        Route::page("POST", "/logout", AnySession, post(pages::logout)),
        Route::page("GET", "/", Member, get(pages::home)),
        // ---- pages (HTML) ----
        Route::page("GET", "/catalog", Member, get(pages::catalog::list)),
        Route::page("GET", "/catalog/{id}", Member, get(pages::catalog::show)),
        Route::page("POST", "/catalog/{id}", Member, post(pages::catalog::subscribe)).creates(),
        Route::page(
            "GET",
            "/catalog/{id}/versions/{descriptor_id}/documents/{document_id}",
            Member,
            get(pages::catalog::document),
        ),
        Route::page("GET", "/agreements", Member, get(pages::agreements::mine)),
        Route::page(
            "GET",
            "/agreements/received",
            Member,
            get(pages::agreements::received),
        ),
        Route::page("GET", "/agreements/{id}", Member, get(pages::agreements::show)),
        Route::page("POST", "/agreements/{id}", Member, post(pages::agreements::act)),
        Route::page("GET", "/attributes", Member, get(pages::attributes::show)),
        Route::page("POST", "/attributes", Member, post(pages::attributes::act)),
        Route::page(
            "GET",
            "/attributes/registry",
            Member,
            get(pages::attributes::registry),
        ),
        Route::page(
            "POST",
            "/attributes/registry",
            Member,
            post(pages::attributes::create),
        )
        .creates(),
        Route::page(
            "GET",
            "/attributes/registry/{id}",
            Member,
            get(pages::attributes::attribute),
        ),
        Route::page("GET", "/purposes", Member, get(pages::purposes::list)),
        Route::page("GET", "/purposes/new", Member, get(pages::purposes::new_form)),
        Route::page(
            "GET",
            "/purposes/received",
            Member,
            get(pages::purposes::received),
        ),
        Route::page("POST", "/purposes/new", Member, post(pages::purposes::create)).creates(),
        Route::page(
            "POST",
            "/purposes/new/questions",
            Member,
            post(pages::purposes::questions),
        ),
        Route::page("GET", "/purposes/{id}", Member, get(pages::purposes::show)),
        Route::page("POST", "/purposes/{id}", Member, post(pages::purposes::act)).creates(),
        Route::page("GET", "/eservices", Member, get(pages::eservices::list)),
        Route::page(
            "GET",
            "/eservices/new",
            Member,
            get(pages::eservices::new_form),
        ),
        Route::page(
            "POST",
            "/eservices/new",
            Member,
            post(pages::eservices::create),
        )
        .creates(),
        Route::page("GET", "/eservices/{id}", Member, get(pages::eservices::show)),
        Route::page("POST", "/eservices/{id}", Member, post(pages::eservices::act)).creates(),
        Route::page(
            "GET",
            "/eservices/{id}/versions/{descriptor_id}",
            Member,
            get(pages::eservices::version),
        ),
        Route::page(
            "POST",
            "/eservices/{id}/versions/{descriptor_id}",
            Member,
            post(pages::eservices::version_act),
        )
        .creates(),
        Route::page(
            "GET",
            "/eservices/{id}/versions/{descriptor_id}/documents/{document_id}",
            Member,
            get(pages::eservices::document),
        ),
        Route::page("GET", "/clients", Member, get(pages::clients::list)),
        Route::page("POST", "/clients", Member, post(pages::clients::create)).creates(),
        Route::page("GET", "/clients/{id}", Member, get(pages::clients::show)),
        Route::page("POST", "/clients/{id}", Member, post(pages::clients::act)).creates(),
        Route::page(
            "GET",
            "/clients/{id}/keys/{kid}/jwk",
            Member,
            get(pages::clients::jwk),
        ),
        Route::page(
            "GET",
            "/clients/{id}/voucher",
            Member,
            get(pages::clients::voucher),
        ),
        Route::page(
            "GET",
            "/tools/client-assertion",
            Member,
            get(pages::tools::debug_form),
        ),
        Route::page(
            "POST",
            "/tools/client-assertion",
            Member,
            post(pages::tools::debug_check),
        ),
        // ---- end of pages ----
        json(
            "POST",
            "/api/session",
            Entry,
            post(session::open_session),
            op(
                "Opens a session with an identity token of the environment's product; answers a bearer token",
                "session",
            )
            .body::<session::SessionRequest>()
            .answer::<session::SessionOpened>(200, "The session's bearer token")
            .errors(&[400, 401, 403]),
        ),
        json(
            "GET",
            "/api/me",
            Member,
            get(session::me),
            op("Who is calling: person, institution, roles, environment", "session")
                .answer::<session::Me>(200, "The caller")
                .errors(&[401, 403]),
        ),
        json(
            "GET",
            "/api/users",
            Member,
            get(session::people),
            op(
                "The people who entered this environment for the caller's institution, with their roles",
                "session",
            )
            .query::<api::PageQuery>()
            .answer::<session::People>(200, "The people")
            .errors(&[400, 401, 403]),
        ),
        json(
            "GET",
            "/api/catalog",
            Member,
            get(eservices::catalog),
            op("The published e-services; `q` searches their names", "catalogue")
                .query::<eservices::CatalogQuery>()
                .query::<api::PageQuery>()
                .answer::<eservices::Catalog>(200, "The catalogue")
                .errors(&[400, 401, 403]),
        ),
        json(
            "GET",
            "/api/eservices",
            Member,
            get(eservices::eservices),
            op(
                "The caller's institution's e-services (producer side)",
                "e-services",
            )
            .query::<api::PageQuery>()
            .answer::<eservices::EServices>(200, "The e-services")
            .errors(&[400, 401, 403]),
        ),
        json(
            "POST",
            "/api/eservices",
            Member,
            post(eservices::create_eservice),
            op("Creates an e-service (admin or api)", "e-services")
                .body::<eservices::EServiceRequest>()
                .answer::<EService>(201, "The e-service created")
                .errors(&[400, 401, 403, 409]),
        )
        .creates(),
        json(
            "GET",
            "/api/eservices/{id}",
            Member,
            get(eservices::get_eservice),
            op("One e-service with its versions", "e-services")
                .answer::<EService>(200, "The e-service")
                .errors(READ),
        ),
        json(
            "PUT",
            "/api/eservices/{id}",
            Member,
            put(eservices::update_eservice),
            op("Changes an e-service that was never published", "e-services")
                .body::<eservices::EServiceRequest>()
                .answer::<EService>(200, "The e-service changed")
                .errors(WRITE),
        ),
        json(
            "DELETE",
            "/api/eservices/{id}",
            Member,
            delete(eservices::delete_eservice),
            op("Deletes an e-service that was never published", "e-services")
                .empty(204, "Deleted")
                .errors(ACT),
        ),
        json(
            "POST",
            "/api/eservices/{id}/descriptors",
            Member,
            post(eservices::create_descriptor),
            op("Adds a draft version (one draft at a time)", "e-services")
                .body::<eservices::DescriptorRequest>()
                .answer::<Descriptor>(201, "The draft version")
                .errors(WRITE),
        )
        .creates(),
        json(
            "PUT",
            "/api/eservices/{id}/descriptors/{descriptor_id}",
            Member,
            put(eservices::update_descriptor),
            op("Changes a draft version", "e-services")
                .body::<eservices::DescriptorRequest>()
                .answer::<Descriptor>(200, "The draft version")
                .errors(WRITE),
        ),
        json(
            "DELETE",
            "/api/eservices/{id}/descriptors/{descriptor_id}",
            Member,
            delete(eservices::delete_descriptor),
            op("Deletes a draft version", "e-services")
                .empty(204, "Deleted")
                .errors(ACT),
        ),
        json(
            "POST",
            "/api/eservices/{id}/descriptors/{descriptor_id}/publish",
            Member,
            post(eservices::publish_descriptor),
            op(
                "Publishes a draft; the previous version is deprecated or archived",
                "e-services",
            )
            .description(
                "Refused, in this order, without an interface \
                 (`eServiceDescriptorWithoutInterface`), without an audience \
                 (`audienceCannotBeEmpty`), while the e-service's `personalData` is unsaid \
                 (`missingPersonalDataFlag`), with more daily calls per consumer than in total \
                 (`inconsistentDailyCalls`).",
            )
            .answer::<Descriptor>(200, "The version published")
            .errors(WRITE),
        ),
        json(
            "POST",
            "/api/eservices/{id}/descriptors/{descriptor_id}/suspend",
            Member,
            post(eservices::suspend_descriptor),
            op("Suspends a published or deprecated version", "e-services")
                .answer::<Descriptor>(200, "The version suspended")
                .errors(ACT),
        ),
        json(
            "POST",
            "/api/eservices/{id}/descriptors/{descriptor_id}/activate",
            Member,
            post(eservices::activate_descriptor),
            op("Reactivates a suspended version", "e-services")
                .answer::<Descriptor>(200, "The version reactivated")
                .errors(ACT),
        ),
        json(
            "POST",
            "/api/eservices/{id}/name/update",
            Member,
            post(eservices::update_name),
            op("Renames an e-service, in any state", "e-services")
                .body::<eservices::NameUpdate>()
                .answer::<EService>(200, "The e-service renamed")
                .errors(WRITE),
        ),
        json(
            "POST",
            "/api/eservices/{id}/description/update",
            Member,
            post(eservices::update_description),
            op("Changes an e-service's description, in any state", "e-services")
                .body::<eservices::DescriptionUpdate>()
                .answer::<EService>(200, "The e-service changed")
                .errors(WRITE),
        ),
        json(
            "POST",
            "/api/eservices/{id}/descriptors/{descriptor_id}/update",
            Member,
            post(eservices::update_published),
            op(
                "Changes a published, suspended or deprecated version's voucher lifespan and daily calls",
                "e-services",
            )
            .body::<eservices::PublishedUpdateRequest>()
            .answer::<Descriptor>(200, "The version changed")
            .errors(WRITE),
        ),
        json(
            "POST",
            "/api/eservices/{id}/descriptors/{descriptor_id}/agreementApprovalPolicy/update",
            Member,
            post(eservices::update_policy),
            op(
                "Changes how a published version's new requests are approved",
                "e-services",
            )
            .body::<eservices::PolicyUpdate>()
            .answer::<Descriptor>(200, "The version changed")
            .errors(WRITE),
        ),
        json(
            "POST",
            "/api/eservices/{id}/descriptors/{descriptor_id}/attributes/update",
            Member,
            post(attributes::set_requirements),
            op(
                "Sets the attributes a draft version requires: certified, declared and verified \
                 groups, every group must hold and one attribute of a group suffices (admin or api)",
                "e-services",
            )
            .body::<Requirements>()
            .answer::<Descriptor>(200, "The version changed")
            .errors(WRITE),
        ),
        json(
            "GET",
            "/api/attributes",
            Member,
            get(attributes::list_attributes),
            op("Searches the environment's attributes by kind and name", "attributes")
                .query::<attributes::AttributeQuery>()
                .answer::<attributes::Attributes>(200, "One page of attributes")
                .errors(&[400, 401, 403]),
        ),
        json(
            "GET",
            "/api/attributes/{id}",
            Member,
            get(attributes::get_attribute),
            op("One attribute", "attributes")
                .answer::<Attribute>(200, "The attribute")
                .errors(READ),
        ),
        json(
            "POST",
            "/api/attributes/declared",
            Member,
            post(attributes::create_declared),
            op("Creates a declared attribute, its name unique (admin)", "attributes")
                .body::<attributes::AttributeSeed>()
                .answer::<Attribute>(201, "The attribute")
                .errors(WRITE),
        )
        .creates(),
        json(
            "POST",
            "/api/attributes/verified",
            Member,
            post(attributes::create_verified),
            op("Creates a verified attribute, its name unique (admin)", "attributes")
                .body::<attributes::AttributeSeed>()
                .answer::<Attribute>(201, "The attribute")
                .errors(WRITE),
        )
        .creates(),
        json(
            "POST",
            "/api/attributes/certified",
            Member,
            post(attributes::create_certified),
            op(
                "Creates a certified attribute of the caller's origin (a certifier's admin)",
                "attributes",
            )
            .body::<attributes::AttributeSeed>()
            .answer::<Attribute>(201, "The attribute")
            .errors(WRITE),
        )
        .creates(),
        json(
            "GET",
            "/api/tenants/{id}/attributes",
            Member,
            get(attributes::tenant_attributes),
            op(
                "What an institution of the environment holds: certified, declared, verified",
                "attributes",
            )
            .answer::<TenantAttributes>(200, "Its attributes")
            .errors(READ),
        ),
        json(
            "POST",
            "/api/tenants/attributes/declared",
            Member,
            post(attributes::declare),
            op("The caller's institution declares an attribute (admin)", "attributes")
                .body::<attributes::AttributeRef>()
                .answer::<TenantAttributes>(200, "The institution's attributes")
                .errors(WRITE),
        ),
        json(
            "DELETE",
            "/api/tenants/attributes/declared/{id}",
            Member,
            delete(attributes::withdraw),
            op("Withdraws a declaration (admin)", "attributes")
                .answer::<TenantAttributes>(200, "The institution's attributes")
                .errors(ACT),
        ),
        json(
            "POST",
            "/api/tenants/{id}/attributes/certified",
            Member,
            post(attributes::certify),
            op(
                "A certifier assigns a certified attribute of its origin (admin)",
                "attributes",
            )
            .body::<attributes::AttributeRef>()
            .answer::<TenantAttributes>(200, "The holder's attributes")
            .errors(WRITE),
        ),
        json(
            "DELETE",
            "/api/tenants/{id}/attributes/certified/{attribute_id}",
            Member,
            delete(attributes::uncertify),
            op("A certifier revokes a certified attribute (admin)", "attributes")
                .answer::<TenantAttributes>(200, "The holder's attributes")
                .errors(ACT),
        ),
        json(
            "POST",
            "/api/tenants/{id}/attributes/verified",
            Member,
            post(attributes::verify),
            op(
                "The producer verifies a consumer's attribute on a request that requires it, \
                 optionally until a date (admin)",
                "attributes",
            )
            .body::<attributes::VerificationSeed>()
            .answer::<TenantAttributes>(200, "The consumer's attributes")
            .errors(WRITE),
        ),
        json(
            "DELETE",
            "/api/tenants/{id}/attributes/verified/{attribute_id}",
            Member,
            delete(attributes::unverify),
            op("The producer revokes its verification (admin)", "attributes")
                .answer::<TenantAttributes>(200, "The consumer's attributes")
                .errors(ACT),
        ),
        json(
            "POST",
            "/api/tenants/mails",
            Member,
            post(attributes::set_contact_email),
            op(
                "Sets the institution's contact email, needed to submit requests (admin)",
                "attributes",
            )
            .body::<attributes::ContactEmail>()
            .answer::<attributes::ContactEmail>(200, "The contact email")
            .errors(WRITE),
        ),
        json(
            "POST",
            "/api/eservices/{id}/descriptors/{descriptor_id}/documents",
            Member,
            post(documents::upload),
            op(
                "Uploads the version's interface or a document (admin or api)",
                "e-services",
            )
            .description(
                "Checked in this order, each refusal with the real platform's name: the \
                 content type (`invalidContentTypeDetected`), the size (3 MiB for an \
                 interface, 10 MiB else: `contentTooLargeError`), the extension and content \
                 (`invalidFileUploadError`), then an interface's OpenAPI 3 `servers` or WSDL \
                 `soap:address` (`openapiVersionNotRecognized`, \
                 `invalidEserviceInterfaceFileDetected`, `invalidServerUrl`, \
                 `interfaceExtractingSoapFieldValueError`, `soapFileParsingError`), which become \
                 the version's `serverUrls`; then the version: the interface only in a draft \
                 (`notValidDescriptor`) and once (`interfaceAlreadyExists`), names and contents \
                 unique (`documentPrettyNameDuplicate`, `checksumDuplicate`).",
            )
            .body_as::<documents::DocumentUpload>("multipart/form-data")
            .answer::<DocumentInfo>(201, "The file stored")
            .errors(WRITE),
        )
        .creates(),
        json(
            "GET",
            "/api/eservices/{id}/descriptors/{descriptor_id}/documents/{document_id}",
            Member,
            get(documents::download),
            op(
                "Downloads a file of a version: the producer's own in any state, others' once published",
                "e-services",
            )
            .answer_file(200, "The file, in its content type")
            .errors(READ),
        ),
        json(
            "DELETE",
            "/api/eservices/{id}/descriptors/{descriptor_id}/documents/{document_id}",
            Member,
            delete(documents::delete),
            op(
                "Deletes a file: the interface of a draft, a document of a version not archived",
                "e-services",
            )
            .empty(204, "Deleted")
            .errors(&[400, 401, 403, 404, 409]),
        ),
        json(
            "GET",
            "/api/agreements",
            Member,
            get(agreements::list_agreements),
            op(
                "The caller's agreements: `role=consumer` (default, \"Le mie richieste\") or `role=producer` (\"Richieste ricevute\")",
                "agreements",
            )
            .query::<api::SideQuery>()
            .query::<api::PageQuery>()
            .answer::<agreements::Agreements>(200, "The agreements")
            .errors(&[400, 401, 403]),
        ),
        json(
            "POST",
            "/api/agreements",
            Member,
            post(agreements::create_agreement),
            op(
                "Creates a draft agreement on the e-service's latest published version (consumer admin)",
                "agreements",
            )
            .body::<agreements::AgreementRequest>()
            .answer::<Agreement>(201, "The draft agreement")
            .errors(WRITE),
        )
        .creates(),
        json(
            "GET",
            "/api/agreements/{id}",
            Member,
            get(agreements::get_agreement),
            op("One agreement the caller is a party to", "agreements")
                .answer::<Agreement>(200, "The agreement")
                .errors(READ),
        ),
        json(
            "DELETE",
            "/api/agreements/{id}",
            Member,
            delete(agreements::delete_agreement),
            op(
                "Deletes a draft or pending agreement (consumer)",
                "agreements",
            )
            .empty(204, "Deleted")
            .errors(ACT),
        ),
        agreement_action(
            "/api/agreements/{id}/submit",
            post(agreements::submit_agreement),
            "Submits a draft: ACTIVE with AUTOMATIC approval or for its own e-service, else PENDING",
        ),
        agreement_action(
            "/api/agreements/{id}/approve",
            post(agreements::approve_agreement),
            "Approves a pending agreement (producer)",
        ),
        json(
            "POST",
            "/api/agreements/{id}/reject",
            Member,
            post(agreements::reject_agreement),
            op(
                "Rejects a pending agreement with a reason (producer)",
                "agreements",
            )
            .body::<agreements::AgreementRejection>()
            .answer::<Agreement>(200, "The agreement rejected")
            .errors(WRITE),
        ),
        agreement_action(
            "/api/agreements/{id}/suspend",
            post(agreements::suspend_agreement),
            "Suspends, with the caller's side's own flag",
        ),
        agreement_action(
            "/api/agreements/{id}/activate",
            post(agreements::activate_agreement),
            "Lifts the caller's side's suspension; ACTIVE again when no flag remains",
        ),
        agreement_action(
            "/api/agreements/{id}/archive",
            post(agreements::archive_agreement),
            "Archives an active or suspended agreement (consumer)",
        ),
        agreement_action(
            "/api/agreements/{id}/upgrade",
            post(agreements::upgrade_agreement),
            "Moves to the newest published version; answers the new agreement (consumer)",
        ),
        json(
            "GET",
            "/api/purposes/riskAnalysis/form",
            Member,
            get(purposes::risk_analysis_form),
            op(
                "The current risk-analysis form, as data (questions and allowed answers)",
                "purposes",
            )
            .answer::<RiskAnalysisForm>(200, "The form")
            .errors(&[401, 403]),
        ),
        json(
            "GET",
            "/api/purposes",
            Member,
            get(purposes::list_purposes),
            op(
                "The caller's purposes: `role=consumer` (default) or `role=producer`",
                "purposes",
            )
            .query::<api::SideQuery>()
            .query::<api::PageQuery>()
            .answer::<purposes::Purposes>(200, "The purposes")
            .errors(&[400, 401, 403]),
        ),
        json(
            "POST",
            "/api/purposes",
            Member,
            post(purposes::create_purpose),
            op(
                "Creates a purpose with a draft version, on an ACTIVE agreement (consumer admin)",
                "purposes",
            )
            .body::<purposes::PurposeRequest>()
            .answer::<Purpose>(201, "The purpose")
            .errors(WRITE),
        )
        .creates(),
        json(
            "GET",
            "/api/purposes/{id}",
            Member,
            get(purposes::get_purpose),
            op("One purpose with its versions", "purposes")
                .answer::<Purpose>(200, "The purpose")
                .errors(READ),
        ),
        json(
            "DELETE",
            "/api/purposes/{id}",
            Member,
            delete(purposes::delete_purpose),
            op("Deletes a purpose never active (consumer)", "purposes")
                .empty(204, "Deleted")
                .errors(ACT),
        ),
        json(
            "POST",
            "/api/purposes/{id}/versions",
            Member,
            post(purposes::new_purpose_version),
            op(
                "A new version with other daily calls (quota rule applies)",
                "purposes",
            )
            .body::<purposes::VersionRequest>()
            .answer::<Purpose>(200, "The purpose with its new version")
            .errors(WRITE),
        )
        .creates(),
        version_action(
            "/api/purposes/{id}/versions/{version_id}/activate",
            post(purposes::activate_purpose_version),
            "Activates the draft (quota rule: WAITING_FOR_APPROVAL when over), approves a waiting version (producer) or lifts a suspension",
        ),
        version_action(
            "/api/purposes/{id}/versions/{version_id}/suspend",
            post(purposes::suspend_purpose_version),
            "Suspends, with the caller's side's own flag",
        ),
        version_action(
            "/api/purposes/{id}/versions/{version_id}/archive",
            post(purposes::archive_purpose_version),
            "Archives the purpose (consumer)",
        ),
        json(
            "POST",
            "/api/purposes/{id}/versions/{version_id}/reject",
            Member,
            post(purposes::reject_purpose_version),
            op(
                "Rejects a waiting version with a reason (producer)",
                "purposes",
            )
            .body::<purposes::VersionRejection>()
            .answer::<Purpose>(200, "The purpose")
            .errors(WRITE),
        ),
        json(
            "POST",
            "/api/clientsConsumer",
            Member,
            post(clients::create_consumer),
            op(
                "Creates a CONSUMER client, which obtains e-service vouchers (admins)",
                "clients",
            )
            .body::<clients::ClientRequest>()
            .answer::<Client>(201, "The client")
            .errors(&[400, 401, 403, 409]),
        )
        .creates(),
        json(
            "POST",
            "/api/clientsApi",
            Member,
            post(clients::create_api),
            op(
                "Creates an API client, which obtains the platform token (admins)",
                "clients",
            )
            .body::<clients::ClientRequest>()
            .answer::<Client>(201, "The client")
            .errors(&[400, 401, 403, 409]),
        )
        .creates(),
        json(
            "GET",
            "/api/clients",
            Member,
            get(clients::list),
            op(
                "The institution's clients the caller may see (security users: those they belong to); `kind` = CONSUMER | API",
                "clients",
            )
            .query::<clients::ClientsQuery>()
            .query::<api::PageQuery>()
            .answer::<clients::Clients>(200, "The clients")
            .errors(&[400, 401, 403]),
        ),
        json(
            "GET",
            "/api/clients/{id}",
            Member,
            get(clients::get),
            op(
                "One client with its members, purposes and key ids",
                "clients",
            )
            .answer::<Client>(200, "The client")
            .errors(READ),
        ),
        json(
            "DELETE",
            "/api/clients/{id}",
            Member,
            delete(clients::delete),
            op(
                "Deletes a client with its keys (admins); its vouchers stop at once",
                "clients",
            )
            .empty(204, "Deleted")
            .errors(ACT),
        ),
        json(
            "POST",
            "/api/clients/{id}/users/{user_id}",
            Member,
            post(clients::add_member),
            op(
                "Adds a member among the people who entered the environment (admins)",
                "clients",
            )
            .answer::<Client>(200, "The client")
            .errors(ACT),
        ),
        json(
            "DELETE",
            "/api/clients/{id}/users/{user_id}",
            Member,
            delete(clients::remove_member),
            op("Removes a member (admins)", "clients")
                .empty(204, "Removed")
                .errors(ACT),
        ),
        json(
            "POST",
            "/api/clients/{id}/purposes",
            Member,
            post(clients::link_purpose),
            op(
                "Links a purpose with an ACTIVE or SUSPENDED version and an ACTIVE or SUSPENDED agreement (admins)",
                "clients",
            )
            .body::<clients::PurposeLink>()
            .answer::<Client>(200, "The client")
            .errors(WRITE),
        ),
        json(
            "DELETE",
            "/api/clients/{id}/purposes/{purpose_id}",
            Member,
            delete(clients::unlink_purpose),
            op(
                "Unlinks a purpose (admins); its vouchers stop at once",
                "clients",
            )
            .empty(204, "Unlinked")
            .errors(ACT),
        ),
        json(
            "GET",
            "/api/clients/{id}/keys",
            Member,
            get(clients::list_keys),
            op("The client's public keys, oldest first", "clients")
                .query::<api::PageQuery>()
                .answer::<clients::Keys>(200, "The keys")
                .errors(&[400, 401, 403, 404]),
        ),
        json(
            "POST",
            "/api/clients/{id}/keys",
            Member,
            post(clients::add_keys),
            op(
                "Uploads public keys (members with role admin or security); kid = RFC 7638 thumbprint, unique in the environment",
                "clients",
            )
            .body::<clients::KeyUpload>()
            .answer::<clients::Keys>(201, "The keys added")
            .errors(WRITE),
        )
        .creates(),
        json(
            "GET",
            "/api/clients/{id}/keys/{kid}",
            Member,
            get(clients::get_key),
            op("One public key, with its JWK", "clients")
                .answer::<clients::KeyWithJwk>(200, "The key")
                .errors(READ),
        ),
        json(
            "DELETE",
            "/api/clients/{id}/keys/{kid}",
            Member,
            delete(clients::delete_key),
            op(
                "Deletes a key (admins any; security users only those they uploaded); its assertions stop at once",
                "clients",
            )
            .empty(204, "Deleted")
            .errors(ACT),
        ),
        json(
            "POST",
            "/api/tools/validateTokenGeneration",
            Member,
            post(clients::validate_token_generation),
            op(
                "Debug tool: runs the token endpoint's checks on an assertion of the institution's own client and names the first that fails (admin, security)",
                "vouchers",
            )
            .description(
                "The body is the token endpoint's form, or JSON with the same fields, and \
                 `dpop_proof`: the DPoP proof the request would send in its `DPoP` header.",
            )
            .body::<DebugRequest>()
            .answer::<Diagnosis>(200, "Each step PASSED, FAILED or SKIPPED")
            .errors(&[400, 401, 403, 404]),
        ),
    ]
}

/// `POST /api/agreements/{id}/<action>`: no body, the agreement as it is after.
fn agreement_action(path: &'static str, handler: MethodRouter<EnvState>, summary: &str) -> Route {
    json(
        "POST",
        path,
        Access::Member,
        handler,
        op(summary, "agreements")
            .answer::<Agreement>(200, "The agreement")
            .errors(ACT),
    )
}

/// `POST /api/purposes/{id}/versions/{version_id}/<action>`: no body, the purpose after.
fn version_action(path: &'static str, handler: MethodRouter<EnvState>, summary: &str) -> Route {
    json(
        "POST",
        path,
        Access::Member,
        handler,
        op(summary, "purposes")
            .answer::<Purpose>(200, "The purpose")
            .errors(ACT),
    )
}

/// Every route of an environment with who may call it (the isolation test's table); the
/// paths are relative to `/interop/<environment>`.
pub fn declared_routes() -> Vec<RouteDecl> {
    RouteTable(routes()).decls()
}
