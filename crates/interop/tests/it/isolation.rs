//! Tenant and environment isolation, table-driven over every declared route of both
//! environments: anonymous callers, sessions of the other environment and sessions of another
//! institution are refused, and nothing of the target leaks.

use interop::{Access, declared_routes};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Fetch;
use testkit::TestApp;
use testkit::interop::{ClientKey, assertion_claims};

use crate::{
    COLL, COMUNE, GIULIA, LUCA, PAGOPA, PAOLO, PROD, REGIONE, find, get_ok, give_luca_collaudo,
    key_upload, member, post_created, submitted_agreement,
};

/// The ids a route's placeholders stand for: things of the Comune (consumer) and PagoPA
/// (producer) in Collaudo.
struct Ids {
    eservice: String,
    descriptor: String,
    /// The published version's interface.
    document: String,
    agreement: String,
    purpose: String,
    version: String,
    client: String,
    kid: String,
    user: String,
    /// A declared attribute the Comune created and declared.
    attribute: String,
    /// The Comune.
    tenant: String,
    /// An assertion of the Comune's client, for the debug tool.
    assertion: String,
    /// A public key nobody uploaded yet.
    spare_key: String,
}

fn fill(path: &str, ids: &Ids) -> String {
    // `{id}` names the kind of thing by the segment before it.
    let mut out = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, s) in segments.iter().enumerate() {
        let before = if i > 0 { segments[i - 1] } else { "" };
        out.push(match *s {
            "{id}" => match before {
                "eservices" | "catalog" => ids.eservice.clone(),
                "agreements" => ids.agreement.clone(),
                "purposes" => ids.purpose.clone(),
                "clients" => ids.client.clone(),
                "attributes" | "declared" | "registry" => ids.attribute.clone(),
                "tenants" => ids.tenant.clone(),
                other => panic!("add a case for {{id}} after {other:?} in isolation.rs"),
            },
            "{descriptor_id}" => ids.descriptor.clone(),
            "{document_id}" => ids.document.clone(),
            "{version_id}" => ids.version.clone(),
            "{purpose_id}" => ids.purpose.clone(),
            "{user_id}" => ids.user.clone(),
            "{kid}" => ids.kid.clone(),
            "{attribute_id}" => ids.attribute.clone(),
            s if s.starts_with('{') => panic!("add a case for {s} in isolation.rs"),
            s => s.to_string(),
        });
    }
    out.join("/")
}

/// A body that passes validation, so that only the caller's rights decide.
fn body(method: &str, path: &str, ids: &Ids) -> Option<Value> {
    match (method, path) {
        ("POST", "/api/session") => Some(json!({ "identity_token": "x" })),
        ("POST", "/api/eservices") | ("PUT", "/api/eservices/{id}") => Some(json!({
            "name": "Servizio di un estraneo", "description": "Scritto da chi non dovrebbe.",
            "technology": "REST",
        })),
        ("POST", "/api/eservices/{id}/name/update") => {
            Some(json!({ "name": "Servizio di un estraneo" }))
        }
        ("POST", "/api/eservices/{id}/description/update") => {
            Some(json!({ "description": "Scritto da chi non dovrebbe." }))
        }
        ("POST", "/api/eservices/{id}/descriptors/{descriptor_id}/update") => Some(json!({
            "voucherLifespan": 600, "dailyCallsPerConsumer": 1, "dailyCallsTotal": 1,
        })),
        (
            "POST",
            "/api/eservices/{id}/descriptors/{descriptor_id}/agreementApprovalPolicy/update",
        ) => Some(json!({ "agreementApprovalPolicy": "MANUAL" })),
        ("POST", "/api/eservices/{id}/descriptors")
        | ("PUT", "/api/eservices/{id}/descriptors/{descriptor_id}") => Some(json!({
            "audience": ["x"], "voucherLifespan": 600, "dailyCallsPerConsumer": 1,
            "dailyCallsTotal": 1, "agreementApprovalPolicy": "AUTOMATIC",
        })),
        ("POST", "/api/agreements") => Some(json!({
            "eserviceId": ids.eservice, "descriptorId": ids.descriptor,
        })),
        ("POST", "/api/agreements/{id}/reject") => {
            Some(json!({ "reason": "Rifiutata da chi non dovrebbe." }))
        }
        ("POST", "/api/purposes") => Some(json!({
            "eserviceId": ids.eservice, "title": "Finalità estranea",
            "description": "Scritta da chi non dovrebbe.", "isFreeOfCharge": false,
            "dailyCalls": 1,
        })),
        ("POST", "/api/purposes/{id}/versions") => Some(json!({ "dailyCalls": 2 })),
        ("POST", "/api/purposes/{id}/versions/{version_id}/reject") => {
            Some(json!({ "rejectionReason": "Rifiutata da chi non dovrebbe." }))
        }
        ("POST", "/api/clientsConsumer") | ("POST", "/api/clientsApi") => {
            Some(json!({ "name": "Client di un estraneo" }))
        }
        ("POST", "/api/clients/{id}/purposes") => Some(json!({ "purposeId": ids.purpose })),
        ("POST", "/api/clients/{id}/keys") => Some(json!([{
            "key": ids.spare_key, "use": "SIG", "alg": "RS256", "name": "Chiave di un estraneo",
        }])),
        ("POST", "/api/tenants/{id}/attributes/certified")
        | ("POST", "/api/tenants/attributes/declared") => Some(json!({ "id": ids.attribute })),
        ("POST", "/api/tenants/{id}/attributes/verified") => Some(json!({
            "id": ids.attribute, "agreementId": ids.agreement,
        })),
        ("POST", "/api/attributes/declared") | ("POST", "/api/attributes/verified") => Some(
            json!({ "name": "Attributo di un estraneo", "description": "Scritto da chi non dovrebbe." }),
        ),
        ("POST", "/api/tenants/mails") => {
            Some(json!({ "kind": "CONTACT_EMAIL", "address": "estraneo@example.org" }))
        }
        ("POST", "/api/tools/validateTokenGeneration") => Some(json!({
            "client_assertion": ids.assertion,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "grant_type": "client_credentials",
        })),
        _ => None,
    }
}

async fn send(
    app: &TestApp,
    token: Option<&str>,
    method: &str,
    url: &str,
    body: Option<&Value>,
) -> (StatusCode, String) {
    let mut r = app.client.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        app.url(url),
    );
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(b);
    }
    let response = r.send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn every_route_refuses_other_environments_other_institutions_and_anonymous_callers() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    // The target: Comune's agreement on SEND - UAT and a purpose with a draft version.
    let (eservice, descriptor) =
        find(&app, &luca, COLL, "SEND - UAT (Piattaforma Notifiche)").await;
    let (agreement, _) = submitted_agreement(&app, &luca, &eservice, &descriptor).await;
    let p = post_created(
        &app,
        &luca,
        &format!("{COLL}/api/purposes"),
        &json!({
            "eserviceId": eservice, "title": "Notifiche riservate del Comune",
            "description": "Invio delle notifiche degli atti del Comune.", "isFreeOfCharge": false,
            "dailyCalls": 10,
        }),
    )
    .await;
    let secret = "Notifiche riservate del Comune";
    // The Comune's client (named like the secret), with Luca as member and a key.
    let me = get_ok(&app, &luca, &format!("{COLL}/api/me")).await;
    let user = me["userId"].as_str().unwrap().to_string();
    let c = post_created(
        &app,
        &luca,
        &format!("{COLL}/api/clientsConsumer"),
        &json!({ "name": secret, "members": [user] }),
    )
    .await;
    let client = c["id"].as_str().unwrap().to_string();
    let key = ClientKey::generate();
    post_created(
        &app,
        &luca,
        &format!("{COLL}/api/clients/{client}/keys"),
        &key_upload(&key.upload_b64(), "Chiave del Comune"),
    )
    .await;
    let purpose = p["id"].as_str().unwrap().to_string();
    let assertion = key.assertion(&assertion_claims(
        &client,
        "auth.uat.interop.pagopa.it/client-assertion",
        Some(&purpose),
    ));
    let e = get_ok(&app, &luca, &format!("{COLL}/api/eservices/{eservice}")).await;
    let document = e["descriptors"][0]["interface"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("SEND - UAT has its interface: {e}"))
        .to_string();
    let attribute = post_created(
        &app,
        &luca,
        &format!("{COLL}/api/attributes/declared"),
        &json!({ "name": "Iscrizione all'albo del Comune", "description": "L'ente dichiara l'iscrizione all'albo." }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    testkit::api::expect(
        &app,
        &luca,
        "POST",
        &format!("{COLL}/api/tenants/attributes/declared"),
        Some(&json!({ "id": attribute })),
        200,
    )
    .await;
    let ids = Ids {
        attribute,
        tenant: crate::institution_id(&app, COMUNE).await,
        eservice,
        descriptor,
        document,
        agreement,
        purpose,
        version: p["versions"][0]["id"].as_str().unwrap().to_string(),
        client,
        kid: key.kid.clone(),
        user,
        assertion,
        spare_key: ClientKey::generate().upload_b64(),
    };

    // Callers: nobody; the right people but of the other environment; another institution
    // (Regione Valdoro) in the same environment.
    let paolo_prod = member(&app, PAOLO, PAGOPA, "prod-interop").await;
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let _ = paolo;

    let routes = declared_routes();
    assert!(routes.len() > 30, "{} routes", routes.len());
    for route in &routes {
        // The home is the environment's own path, without a trailing slash.
        let path = if route.path == "/" {
            String::new()
        } else {
            fill(route.path, &ids)
        };
        let body = body(route.method, route.path, &ids);
        let coll = format!("{COLL}{path}");
        let prod = format!("{PROD}{path}");
        match route.access {
            Access::Public => {
                let (s, _) = send(&app, None, route.method, &coll, None).await;
                assert_eq!(s, 200, "{coll}");
            }
            Access::Token => {
                // Without a client assertion: the opaque refusal, in both environments.
                for url in [&coll, &prod] {
                    let (s, text) = send(&app, None, route.method, url, None).await;
                    assert_eq!(s, 400, "{} {url}: {text}", route.method);
                    assert!(text.contains("Unable to generate a token"), "{text}");
                }
            }
            Access::Entry => {
                let (s, _) = send(&app, None, route.method, &coll, body.as_ref()).await;
                assert!(
                    matches!(s.as_u16(), 400 | 401),
                    "{} {coll}: {s}",
                    route.method
                );
            }
            Access::AnySession => {
                let (s, _) = send(&app, None, route.method, &coll, None).await;
                assert!(
                    matches!(s.as_u16(), 303 | 401),
                    "{} {coll}: {s}",
                    route.method
                );
            }
            Access::Member => {
                let (s, text) = send(&app, None, route.method, &coll, body.as_ref()).await;
                assert_eq!(s, 401, "anonymous {} {coll}: {text}", route.method);
                // A Produzione session opens nothing of Collaudo.
                let (s, text) =
                    send(&app, Some(&paolo_prod), route.method, &coll, body.as_ref()).await;
                assert_eq!(
                    s, 401,
                    "produzione session on {} {coll}: {text}",
                    route.method
                );
                // Another institution: never a success on the Comune's things, never a leak.
                let (s, text) = send(&app, Some(&giulia), route.method, &coll, body.as_ref()).await;
                // The debug tool names the Comune's client through the assertion.
                // The registry and what an institution holds are every member's to read; a
                // declaration withdrawn is the caller's own.
                let public_read = route.path.starts_with("/api/attributes/")
                    || route.path == "/api/tenants/attributes/declared/{id}"
                    || route.path.starts_with("/attributes/registry/")
                    || (route.method == "GET" && route.path == "/api/tenants/{id}/attributes");
                let names_target = (route.path.contains("{id}")
                    && !route.path.starts_with("/api/eservices")
                    && !route.path.starts_with("/catalog")
                    && !public_read)
                    || route.path == "/api/tools/validateTokenGeneration";
                // Refused (when it names the Comune's things), never a server error, never
                // the secret: the answer `s`, `text` to `who` at `path`.
                let refused = |who: &str, path: &str, s: StatusCode, text: &str| {
                    let what = format!("{who} {} {path}", route.method);
                    if names_target {
                        assert!(matches!(s.as_u16(), 403 | 404), "{what}: {s} {text}");
                    }
                    assert!(!s.is_server_error(), "{what}: {s} {text}");
                    assert!(!text.contains(secret), "{what} leaks the purpose");
                };
                refused("giulia", &coll, s, &text);
                assert!(
                    !text.contains(&ids.purpose) || !names_target,
                    "giulia {} {coll} leaks the purpose id",
                    route.method
                );
                assert!(
                    !text.contains(&ids.client) && !text.contains(&ids.kid),
                    "giulia {} {coll} leaks the client or its key",
                    route.method
                );
                // The same ids in Produzione name nothing.
                let (s, text) =
                    send(&app, Some(&paolo_prod), route.method, &prod, body.as_ref()).await;
                refused("produzione", &prod, s, &text);
            }
        }
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_json_route_of_both_environments() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/openapi.json").fetch_json().await;
    for route in declared_routes()
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
    {
        for env in ["produzione", "collaudo"] {
            let path = format!("/interop/{env}{}", route.path);
            let op = &doc["paths"][&path][route.method.to_lowercase()];
            assert!(
                op.is_object(),
                "{} {path} is not in /openapi.json",
                route.method
            );
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()));
        }
    }
}

/// The producer's side is for admins and API operators: a security operator is refused every
/// change of e-services, versions and files in the API, and every producer page, before
/// anything is looked up (the pages' forms are refused alike: they check the role first).
#[tokio::test]
async fn security_operators_touch_no_producer_route() {
    let app = TestApp::spawn().await;
    crate::give_anna_collaudo(&app, &["security"]).await;
    let anna = member(&app, crate::ANNA, COMUNE, "prod-interop-coll").await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let (eservice, descriptor) =
        find(&app, &paolo, COLL, "SEND - UAT (Piattaforma Notifiche)").await;
    let e = get_ok(&app, &paolo, &format!("{COLL}/api/eservices/{eservice}")).await;
    let document = e["descriptors"][0]["interface"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut checked = 0;
    for route in declared_routes() {
        let api = route.path.starts_with("/api/eservices");
        let page = route.path.starts_with("/eservices");
        // API reads are the catalogue's; page forms need the page's CSRF token.
        if !(api && route.method != "GET" || page && route.method == "GET") {
            continue;
        }
        let path = route
            .path
            .replace("{id}", &eservice)
            .replace("{descriptor_id}", &descriptor)
            .replace("{document_id}", &document);
        let url = format!("{COLL}{path}");
        let body = json!({});
        let (s, text) = send(&app, Some(&anna), route.method, &url, Some(&body)).await;
        assert_eq!(s, 403, "security {} {url}: {text}", route.method);
        checked += 1;
    }
    assert!(checked >= 18, "{checked} producer routes");
}
