//! The OpenAPI description of both environments' JSON APIs, made from the route table (so
//! that no route goes undocumented), with a summary and the body fields of each operation.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, Paths};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, OpenApi, OpenApiBuilder, Required, ResponseBuilder, Tag};

use crate::model::Environment;
use crate::{Access, declared_routes};

/// What an operation does, its tag, its success status and the fields of its JSON body.
fn describe(method: &str, path: &str) -> (&'static str, &'static str, &'static str, &'static str) {
    match (method, path) {
        ("GET", "/.well-known/jwks.json") => (
            "The environment's voucher public keys (JWKS)",
            "keys",
            "200",
            "",
        ),
        ("POST", "/api/session") => (
            "Opens a session with an identity token of the environment's product; answers a bearer token",
            "session",
            "200",
            "identity_token (string, required)",
        ),
        ("GET", "/api/me") => (
            "Who is calling: person, institution, roles, environment",
            "session",
            "200",
            "",
        ),
        ("GET", "/api/users") => (
            "The people who entered this environment for the caller's institution, with their roles",
            "session",
            "200",
            "",
        ),
        ("GET", "/api/catalog") => (
            "The published e-services; `q` searches their names",
            "catalogue",
            "200",
            "",
        ),
        ("GET", "/api/eservices") => (
            "The caller's institution's e-services (producer side)",
            "e-services",
            "200",
            "",
        ),
        ("POST", "/api/eservices") => (
            "Creates an e-service (admin or api)",
            "e-services",
            "201",
            "name (5..60), description (10..400), technology (REST|SOAP), mode (RECEIVE|DELIVER)",
        ),
        ("GET", "/api/eservices/{id}") => {
            ("One e-service with its versions", "e-services", "200", "")
        }
        ("PUT", "/api/eservices/{id}") => (
            "Changes an e-service that was never published",
            "e-services",
            "200",
            "name, description, technology, mode",
        ),
        ("DELETE", "/api/eservices/{id}") => (
            "Deletes an e-service that was never published",
            "e-services",
            "204",
            "",
        ),
        ("POST", "/api/eservices/{id}/descriptors") => (
            "Adds a draft version (one draft at a time)",
            "e-services",
            "201",
            "description?, audience[], voucherLifespan (60..86400), dailyCallsPerConsumer, dailyCallsTotal (1..1e9, per consumer ≤ total), agreementApprovalPolicy (AUTOMATIC|MANUAL), serverUrls[]",
        ),
        ("PUT", "/api/eservices/{id}/descriptors/{descriptor_id}") => (
            "Changes a draft version",
            "e-services",
            "200",
            "as for a new version",
        ),
        ("DELETE", "/api/eservices/{id}/descriptors/{descriptor_id}") => {
            ("Deletes a draft version", "e-services", "204", "")
        }
        ("POST", "/api/eservices/{id}/descriptors/{descriptor_id}/publish") => (
            "Publishes a draft (needs an audience); the previous version is deprecated or archived",
            "e-services",
            "200",
            "",
        ),
        ("POST", "/api/eservices/{id}/descriptors/{descriptor_id}/suspend") => (
            "Suspends a published or deprecated version",
            "e-services",
            "200",
            "",
        ),
        ("POST", "/api/eservices/{id}/descriptors/{descriptor_id}/activate") => {
            ("Reactivates a suspended version", "e-services", "200", "")
        }
        ("GET", "/api/agreements") => (
            "The caller's agreements: `role=consumer` (default, \"Le mie richieste\") or `role=producer` (\"Richieste ricevute\")",
            "agreements",
            "200",
            "",
        ),
        ("POST", "/api/agreements") => (
            "Creates a draft agreement on the e-service's latest published version (consumer admin)",
            "agreements",
            "201",
            "eserviceId, descriptorId, consumerNotes?",
        ),
        ("GET", "/api/agreements/{id}") => (
            "One agreement the caller is a party to",
            "agreements",
            "200",
            "",
        ),
        ("DELETE", "/api/agreements/{id}") => (
            "Deletes a draft or pending agreement (consumer)",
            "agreements",
            "204",
            "",
        ),
        ("POST", "/api/agreements/{id}/submit") => (
            "Submits a draft: ACTIVE with AUTOMATIC approval or for its own e-service, else PENDING",
            "agreements",
            "200",
            "",
        ),
        ("POST", "/api/agreements/{id}/approve") => (
            "Approves a pending agreement (producer)",
            "agreements",
            "200",
            "",
        ),
        ("POST", "/api/agreements/{id}/reject") => (
            "Rejects a pending agreement with a reason (producer)",
            "agreements",
            "200",
            "reason (1..1000)",
        ),
        ("POST", "/api/agreements/{id}/suspend") => (
            "Suspends, with the caller's side's own flag",
            "agreements",
            "200",
            "",
        ),
        ("POST", "/api/agreements/{id}/activate") => (
            "Lifts the caller's side's suspension; ACTIVE again when no flag remains",
            "agreements",
            "200",
            "",
        ),
        ("POST", "/api/agreements/{id}/archive") => (
            "Archives an active or suspended agreement (consumer)",
            "agreements",
            "200",
            "",
        ),
        ("POST", "/api/agreements/{id}/upgrade") => (
            "Moves to the newest published version; answers the new agreement (consumer)",
            "agreements",
            "200",
            "",
        ),
        ("GET", "/api/purposes/riskAnalysis/form") => (
            "The current risk-analysis form, as data (questions and allowed answers)",
            "purposes",
            "200",
            "",
        ),
        ("GET", "/api/purposes") => (
            "The caller's purposes: `role=consumer` (default) or `role=producer`",
            "purposes",
            "200",
            "",
        ),
        ("POST", "/api/purposes") => (
            "Creates a purpose with a draft version, on an ACTIVE agreement (consumer admin)",
            "purposes",
            "201",
            "eserviceId, title (5..60), description (10..250), isFreeOfCharge, freeOfChargeReason?, dailyCalls (1..1e9), riskAnalysisForm? {version, answers}",
        ),
        ("GET", "/api/purposes/{id}") => ("One purpose with its versions", "purposes", "200", ""),
        ("DELETE", "/api/purposes/{id}") => (
            "Deletes a purpose never active (consumer)",
            "purposes",
            "204",
            "",
        ),
        ("POST", "/api/purposes/{id}/versions") => (
            "A new version with other daily calls (quota rule applies)",
            "purposes",
            "200",
            "dailyCalls",
        ),
        ("POST", "/api/purposes/{id}/versions/{version_id}/activate") => (
            "Activates the draft (quota rule: WAITING_FOR_APPROVAL when over), approves a waiting version (producer) or lifts a suspension",
            "purposes",
            "200",
            "",
        ),
        ("POST", "/api/purposes/{id}/versions/{version_id}/suspend") => (
            "Suspends, with the caller's side's own flag",
            "purposes",
            "200",
            "",
        ),
        ("POST", "/api/purposes/{id}/versions/{version_id}/archive") => {
            ("Archives the purpose (consumer)", "purposes", "200", "")
        }
        ("POST", "/api/purposes/{id}/versions/{version_id}/reject") => (
            "Rejects a waiting version with a reason (producer)",
            "purposes",
            "200",
            "rejectionReason (1..1000)",
        ),
        ("POST", "/token.oauth2") => (
            "Exchanges a client assertion for a voucher (form: client_id?, client_assertion, client_assertion_type, grant_type); every refusal is the same opaque 400",
            "vouchers",
            "200",
            "",
        ),
        ("POST", "/api/clientsConsumer") => (
            "Creates a CONSUMER client, which obtains e-service vouchers (admins)",
            "clients",
            "201",
            "name (5..60), description? (..250), members? [user ids of people who entered the environment]",
        ),
        ("POST", "/api/clientsApi") => (
            "Creates an API client, which obtains the platform token (admins)",
            "clients",
            "201",
            "name (5..60), description? (..250), members? [user ids]",
        ),
        ("GET", "/api/clients") => (
            "The institution's clients the caller may see (security users: those they belong to); `kind` = CONSUMER | API",
            "clients",
            "200",
            "",
        ),
        ("GET", "/api/clients/{id}") => (
            "One client with its members, purposes and key ids",
            "clients",
            "200",
            "",
        ),
        ("DELETE", "/api/clients/{id}") => (
            "Deletes a client with its keys (admins); its vouchers stop at once",
            "clients",
            "204",
            "",
        ),
        ("POST", "/api/clients/{id}/users/{user_id}") => (
            "Adds a member among the people who entered the environment (admins)",
            "clients",
            "200",
            "",
        ),
        ("DELETE", "/api/clients/{id}/users/{user_id}") => {
            ("Removes a member (admins)", "clients", "204", "")
        }
        ("POST", "/api/clients/{id}/purposes") => (
            "Links a purpose with an ACTIVE or SUSPENDED version and an ACTIVE or SUSPENDED agreement (admins)",
            "clients",
            "200",
            "purposeId (UUID)",
        ),
        ("DELETE", "/api/clients/{id}/purposes/{purpose_id}") => (
            "Unlinks a purpose (admins); its vouchers stop at once",
            "clients",
            "204",
            "",
        ),
        ("GET", "/api/clients/{id}/keys") => ("The client's public keys", "clients", "200", ""),
        ("POST", "/api/clients/{id}/keys") => (
            "Uploads public keys (members with role admin or security); kid = RFC 7638 thumbprint, unique in the environment",
            "clients",
            "201",
            "[{key: base64 of a PEM RSA public key (≥ 2048 bits), use: SIG, alg: RS256, name (5..60)}]",
        ),
        ("GET", "/api/clients/{id}/keys/{kid}") => {
            ("One public key, with its JWK", "clients", "200", "")
        }
        ("DELETE", "/api/clients/{id}/keys/{kid}") => (
            "Deletes a key (admins any; security users only those they uploaded); its assertions stop at once",
            "clients",
            "204",
            "",
        ),
        ("POST", "/api/tools/validateTokenGeneration") => (
            "Debug tool: runs the token endpoint's checks on an assertion of the institution's own client and names the first that fails (admin, security)",
            "vouchers",
            "200",
            "client_id?, client_assertion, client_assertion_type, grant_type (JSON or form)",
        ),
        _ => ("", "other", "200", ""),
    }
}

fn problem(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", ContentBuilder::new().build())
        .build()
}

/// Both environments' JSON operations (`/interop/<environment>/api/...` and the JWKS).
pub fn openapi() -> OpenApi {
    let mut paths = Paths::new();
    for env in [Environment::Produzione, Environment::Collaudo] {
        for route in declared_routes() {
            let documented = route.path.starts_with("/api/")
                || route.path.ends_with("jwks.json")
                || route.access == Access::Token;
            if !documented {
                continue;
            }
            let (summary, tag, ok, body) = describe(route.method, route.path);
            let full = format!("/interop/{}{}", env.as_str(), route.path);
            let mut op = OperationBuilder::new()
                .summary(Some(if summary.is_empty() {
                    route.path
                } else {
                    summary
                }))
                .tag(format!("interop {tag}"))
                .operation_id(Some(format!(
                    "interop_{}_{}_{}",
                    env.as_str(),
                    route.method.to_lowercase(),
                    route.path.replace(['/', '{', '}', '.'], "_")
                )))
                .response(
                    ok,
                    ResponseBuilder::new()
                        .description(match ok {
                            "201" => "Created",
                            "204" => "Done",
                            _ => "OK",
                        })
                        .build(),
                )
                .response(
                    "400",
                    problem("Bad input: `invalidParams` names each field"),
                )
                .response("401", problem("No session of this environment"))
                .response("403", problem("The caller's role or side may not do this"))
                .response(
                    "404",
                    problem("Not found in this environment, or not the caller's"),
                )
                .response(
                    "409",
                    problem("The state does not allow it: `code` says why"),
                );
            for name in route
                .path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True),
                );
            }
            if route.access == Access::Member {
                op = op.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
            }
            if route.access == Access::Token {
                op = op
                    .request_body(Some(
                        RequestBodyBuilder::new()
                            .description(Some(
                                "client_id? (UUID), client_assertion (JWT), client_assertion_type \
                                 (urn:ietf:params:oauth:client-assertion-type:jwt-bearer), \
                                 grant_type (client_credentials)",
                            ))
                            .content(
                                "application/x-www-form-urlencoded",
                                ContentBuilder::new().build(),
                            )
                            .required(Some(Required::True))
                            .build(),
                    ))
                    .response(
                        "429",
                        problem("Rate limited: see the X-Rate-Limit-* headers"),
                    );
            } else if !body.is_empty() {
                op = op.request_body(Some(
                    RequestBodyBuilder::new()
                        .description(Some(format!("JSON: {body}")))
                        .content("application/json", ContentBuilder::new().build())
                        .required(Some(Required::True))
                        .build(),
                ));
            }
            let method = match route.method {
                "GET" => HttpMethod::Get,
                "POST" => HttpMethod::Post,
                "PUT" => HttpMethod::Put,
                "PATCH" => HttpMethod::Patch,
                _ => HttpMethod::Delete,
            };
            paths.add_path_operation(&full, vec![method], op.build());
        }
    }
    let mut doc = OpenApiBuilder::new().paths(paths).build();
    // The environment's own session token (from `POST /interop/<environment>/api/session`).
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            utoipa::openapi::security::SecurityScheme::Http(
                utoipa::openapi::security::HttpBuilder::new()
                    .scheme(utoipa::openapi::security::HttpAuthScheme::Bearer)
                    .build(),
            ),
        );
    doc.tags = Some(
        [
            "session",
            "keys",
            "catalogue",
            "e-services",
            "agreements",
            "purposes",
            "clients",
            "vouchers",
        ]
        .iter()
        .map(|t| Tag::new(format!("interop {t}")))
        .collect(),
    );
    doc
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_json_route_has_a_summary() {
        for route in crate::declared_routes() {
            if route.path.starts_with("/api/") {
                assert!(
                    !super::describe(route.method, route.path).0.is_empty(),
                    "{} {} has no summary in openapi.rs",
                    route.method,
                    route.path
                );
            }
        }
    }
}
