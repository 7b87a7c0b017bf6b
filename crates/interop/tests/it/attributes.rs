//! Attributes through the real server: certified ones from the IPA import decide who may ask
//! for an e-service, and an agreement follows them when they change (suspended by the platform,
//! its voucher refused at the next request, back when they return); declared and verified ones
//! gate submission and approval; the contact email is needed to submit.

use serde_json::{Value, json};
use testkit::TestApp;
use testkit::interop::{ClientKey, assertion_claims, token_form};

use crate::{
    COLL, COMUNE, GIULIA, LUCA, PAGOPA, PAOLO, REGIONE, call, documents, expect, get_ok,
    give_luca_collaudo, key_upload, link_purpose, member, post_created, post_ok,
};

const L6: &str = "Comuni e loro Consorzi e Associazioni";
/// The demo's IPA sample (what the demo imports at its start).
const IPA_SAMPLE: &[u8] = include_bytes!("../../../selfcare/demo/ipa-enti.csv");
const AUDIENCE: &str = "auth.uat.interop.pagopa.it/client-assertion";

/// The id of the environment's attribute named `name` of `kind`.
pub(crate) async fn attribute(app: &TestApp, token: &str, kind: &str, name: &str) -> String {
    let q: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let page = get_ok(
        app,
        token,
        &format!("{COLL}/api/attributes?kind={kind}&q={q}"),
    )
    .await;
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} attribute {name}: {page}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A published e-service of `producer` requiring `attributes`, with `policy`: its id and its
/// version's id.
pub(crate) async fn eservice_requiring(
    app: &TestApp,
    producer: &str,
    name: &str,
    policy: &str,
    attributes: Value,
) -> (String, String) {
    let e = post_created(
        app,
        producer,
        &format!("{COLL}/api/eservices"),
        &json!({
            "name": name, "description": "Un e-service che chiede degli attributi.",
            "technology": "REST", "mode": "DELIVER", "personalData": false,
            "descriptor": {
                "audience": ["https://api.example.it/attributi"], "voucherLifespan": 600,
                "dailyCallsPerConsumer": 100, "dailyCallsTotal": 1000,
                "agreementApprovalPolicy": policy,
            },
        }),
    )
    .await;
    let id = e["id"].as_str().unwrap().to_string();
    let d = e["descriptors"][0]["id"].as_str().unwrap().to_string();
    let version = format!("{COLL}/api/eservices/{id}/descriptors/{d}");
    let changed = post_ok_with(
        app,
        producer,
        &format!("{version}/attributes/update"),
        &attributes,
    )
    .await;
    assert_eq!(
        ids_of(&changed["attributes"]),
        ids_of(&attributes),
        "{changed}"
    );
    let (status, v) = documents::upload(
        app,
        producer,
        &version,
        "INTERFACE",
        "Interfaccia",
        (
            "openapi.yaml",
            "application/yaml",
            documents::openapi("https://api.example.it/attributi/v1").into_bytes(),
        ),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    post_ok(app, producer, &format!("{version}/publish")).await;
    (id, d)
}

/// The ids of each kind's groups.
fn ids_of(v: &Value) -> Vec<Vec<Vec<String>>> {
    ["certified", "declared", "verified"]
        .iter()
        .map(|kind| {
            v[kind]
                .as_array()
                .map(|groups| {
                    groups
                        .iter()
                        .map(|g| {
                            g.as_array()
                                .unwrap()
                                .iter()
                                .map(|a| a["id"].as_str().unwrap().to_string())
                                .collect()
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

async fn post_ok_with(app: &TestApp, token: &str, path: &str, body: &Value) -> Value {
    expect(app, token, "POST", path, Some(body), 200).await
}

/// `POST path` refused with `status` and the problem's `code`: the problem.
async fn refused(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Option<&Value>,
    status: u16,
    code: &str,
) -> Value {
    let (s, v) = call(app, token, "POST", path, body).await;
    assert_eq!(s, status, "POST {path}: {v}");
    assert_eq!(v["code"], code, "POST {path}: {v}");
    v
}

/// Posts a fresh assertion of Luca's client to the token endpoint: the status and the body.
async fn voucher(app: &TestApp, client: &str, key: &ClientKey, purpose: &str) -> (u16, Value) {
    voucher_at(&app.url, client, key, purpose).await
}

/// The same, to the instance at `base_url`.
async fn voucher_at(base_url: &str, client: &str, key: &ClientKey, purpose: &str) -> (u16, Value) {
    let assertion = key.assertion(&assertion_claims(client, AUDIENCE, Some(purpose)));
    let r = testkit::client()
        .post(format!("{base_url}{COLL}/token.oauth2"))
        .form(&token_form(Some(client), &assertion))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The IPA sample with the Comune's category changed to `category`.
fn ipa_with_comune_in(category: &str) -> Vec<interop::model::ipa::Entry> {
    let mut entries = interop::model::ipa::parse(IPA_SAMPLE).unwrap();
    let comune = entries
        .iter_mut()
        .find(|e| e.fiscal_code == COMUNE)
        .unwrap();
    comune.category = category.to_string();
    entries
}

#[tokio::test]
async fn an_ipa_import_that_drops_the_comunes_category_suspends_its_agreement_and_the_next_voucher()
{
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let l6 = attribute(&app, &paolo, "CERTIFIED", L6).await;
    let (eservice, descriptor) = eservice_requiring(
        &app,
        &paolo,
        "Notifiche per i Comuni",
        "AUTOMATIC",
        json!({"certified": [[{"id": l6, "explicitAttributeVerification": false, "dailyCallsPerConsumer": 500}]]}),
    )
    .await;
    // The Comune, a Comune in IPA, asks and is ACTIVE at once.
    let (id, a) = crate::submitted_agreement(&app, &luca, &eservice, &descriptor).await;
    assert_eq!(a["state"], "ACTIVE", "{a}");
    let (purpose, _, state) =
        crate::purpose(&app, &luca, &eservice, "Notifiche ai residenti", 300, false).await;
    // 300 calls a day: over the version's 100 per consumer, within the 500 of those holding L6.
    assert_eq!(state, "ACTIVE");
    let me = get_ok(&app, &luca, &format!("{COLL}/api/me")).await;
    let c = post_created(
        &app,
        &luca,
        &format!("{COLL}/api/clientsConsumer"),
        &json!({"name": "Client notifiche", "members": [me["userId"]]}),
    )
    .await;
    let client = c["id"].as_str().unwrap().to_string();
    let key = ClientKey::generate();
    post_created(
        &app,
        &luca,
        &format!("{COLL}/api/clients/{client}/keys"),
        &key_upload(&key.upload_b64(), "Chiave"),
    )
    .await;
    link_purpose(&app, &luca, &client, &purpose).await;
    let (status, v) = voucher(&app, &client, &key, &purpose).await;
    assert_eq!(status, 200, "{v}");

    // IPA moves the Comune to another category: L6 is revoked, the agreement suspended by the
    // platform in the same transaction, and the very next voucher refused.
    let db = &app.db.connect().await;
    let report = interop::store::ipa::import(db, &ipa_with_comune_in("L4"))
        .await
        .unwrap();
    assert!(
        report.revoked.iter().any(|l| l.env == "collaudo"
            && l.institution == "Comune di Roccabella"
            && l.attribute == L6),
        "{report:?}"
    );
    let a = get_ok(&app, &luca, &format!("{COLL}/api/agreements/{id}")).await;
    assert_eq!(a["state"], "SUSPENDED", "{a}");
    assert_eq!(a["suspendedByPlatform"], true, "{a}");
    assert_eq!(a["suspendedByConsumer"], false, "{a}");
    let (status, v) = voucher(&app, &client, &key, &purpose).await;
    assert_eq!(status, 400, "{v}");
    // The debug tool names the missing attribute.
    let assertion = key.assertion(&assertion_claims(&client, AUDIENCE, Some(&purpose)));
    let d = post_ok_with(
        &app,
        &luca,
        &format!("{COLL}/api/tools/validateTokenGeneration"),
        &json!({
            "client_id": client, "client_assertion": assertion,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "grant_type": "client_credentials",
        }),
    )
    .await;
    let failures = &d["steps"]["platformStatesVerification"]["failures"][0];
    assert_eq!(failures["code"], "agreement_suspended_by_platform", "{d}");
    assert!(failures["reason"].as_str().unwrap().contains(L6), "{d}");
    // Told: in the Comune's activity log, and its admins by email.
    let told: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'interop.agreement.platform_suspended' \
         AND target = $1",
    )
    .bind(&id)
    .fetch_one(db.reader())
    .await
    .unwrap();
    assert_eq!(told, 1);
    let revoked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'interop.attribute.revoked'",
    )
    .fetch_one(db.reader())
    .await
    .unwrap();
    assert!(revoked >= 1);
    let mails: Vec<(String, String)> = sqlx::query_as(
        "SELECT subject, body FROM outbox WHERE subject LIKE 'Richiesta di fruizione sospesa dalla piattaforma%'",
    )
    .fetch_all(db.reader())
    .await
    .unwrap();
    assert!(!mails.is_empty(), "the Comune's admins are told");
    assert!(
        mails
            .iter()
            .all(|(_, body)| body.contains(L6) && body.contains("Notifiche per i Comuni"))
    );
    // The Comune's own reactivation cannot lift the platform's suspension.
    refused(
        &app,
        &luca,
        &format!("{COLL}/api/agreements/{id}/activate"),
        None,
        409,
        "agreement_suspended_by_platform",
    )
    .await;

    // Back in L6: the agreement is ACTIVE again, vouchers too.
    let report = interop::store::ipa::import(db, &ipa_with_comune_in("L6"))
        .await
        .unwrap();
    assert!(
        report.assigned.iter().any(|l| l.attribute == L6),
        "{report:?}"
    );
    let a = get_ok(&app, &luca, &format!("{COLL}/api/agreements/{id}")).await;
    assert_eq!(a["state"], "ACTIVE", "{a}");
    assert_eq!(a["suspendedByPlatform"], false, "{a}");
    let (status, v) = voucher(&app, &client, &key, &purpose).await;
    assert_eq!(status, 200, "{v}");
    let back: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'interop.agreement.platform_reactivated'",
    )
    .fetch_one(db.reader())
    .await
    .unwrap();
    assert_eq!(back, 1);
}

#[tokio::test]
async fn the_ipa_import_run_twice_changes_nothing_the_second_time() {
    let app = TestApp::spawn().await;
    let db = &app.db.connect().await;
    let entries = interop::model::ipa::parse(IPA_SAMPLE).unwrap();
    // The demo's start imported the sample already.
    let first = interop::store::ipa::import(db, &entries).await.unwrap();
    assert!(
        first.assigned.is_empty() && first.revoked.is_empty(),
        "{first:?}"
    );
    assert!(first.entries >= 250 && first.matched >= 4, "{first:?}");
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(db.reader())
            .await
            .unwrap()
    };
    let held = count("SELECT COUNT(*) FROM interop_tenant_attributes").await;
    let attributes = count("SELECT COUNT(*) FROM interop_attributes").await;
    let audit = count("SELECT COUNT(*) FROM audit_log").await;
    let second = interop::store::ipa::import(db, &entries).await.unwrap();
    assert!(
        second.assigned.is_empty() && second.revoked.is_empty(),
        "{second:?}"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM interop_tenant_attributes").await,
        held
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM interop_attributes").await,
        attributes
    );
    assert_eq!(count("SELECT COUNT(*) FROM audit_log").await, audit);
    // What the demo institutions hold, and their kind.
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let comune = crate::institution_id(&app, COMUNE).await;
    let t = get_ok(
        &app,
        &paolo,
        &format!("{COLL}/api/tenants/{comune}/attributes"),
    )
    .await;
    let names: Vec<&str> = t["certified"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(names.contains(&L6), "{t}");
    assert!(names.contains(&"Comune di Roccabella"), "{t}");
    assert!(names.contains(&"Pubbliche Amministrazioni"), "{t}");
    assert_eq!(
        interop::store::ipa::kind(db, COMUNE)
            .await
            .unwrap()
            .as_deref(),
        Some("PA")
    );
}

#[tokio::test]
async fn an_institution_without_the_certified_attribute_is_refused_naming_it() {
    let app = TestApp::spawn().await;
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let l6 = attribute(&app, &giulia, "CERTIFIED", L6).await;
    let (eservice, descriptor) = eservice_requiring(
        &app,
        &giulia,
        "Servizi ai Comuni",
        "AUTOMATIC",
        json!({"certified": [[{"id": l6}]]}),
    )
    .await;
    // PagoPA is not a Comune.
    let body = json!({"eserviceId": eservice, "descriptorId": descriptor});
    let v = refused(
        &app,
        &paolo,
        &format!("{COLL}/api/agreements"),
        Some(&body),
        400,
        "missingCertifiedAttributesError",
    )
    .await;
    assert!(v["detail"].as_str().unwrap().contains(L6), "{v}");
    // The producer itself needs nothing to use its own e-service.
    let (_, a) = crate::submitted_agreement(&app, &giulia, &eservice, &descriptor).await;
    assert_eq!(a["state"], "ACTIVE", "{a}");
}

#[tokio::test]
async fn submission_needs_the_contact_email_and_the_declared_attributes() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let declared = post_created(
        &app,
        &giulia,
        &format!("{COLL}/api/attributes/declared"),
        &json!({"name": "Adesione alla convenzione regionale", "description": "L'ente dichiara di aver aderito alla convenzione."}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The name is unique, in any case.
    refused(
        &app,
        &luca,
        &format!("{COLL}/api/attributes/declared"),
        Some(&json!({"name": "ADESIONE alla convenzione regionale", "description": "Lo stesso nome in maiuscolo."})),
        409,
        "attributeDuplicateByName",
    )
    .await;
    let (eservice, descriptor) = eservice_requiring(
        &app,
        &giulia,
        "Convenzione regionale",
        "AUTOMATIC",
        json!({"declared": [[{"id": declared}]]}),
    )
    .await;
    let a = post_created(
        &app,
        &luca,
        &format!("{COLL}/api/agreements"),
        &json!({"eserviceId": eservice, "descriptorId": descriptor}),
    )
    .await;
    let id = a["id"].as_str().unwrap().to_string();
    let submit = format!("{COLL}/api/agreements/{id}/submit");
    // Without a contact email: refused.
    let db = &app.db.connect().await;
    let comune = crate::institution_id(&app, COMUNE).await;
    sqlx::query(
        "UPDATE interop_institutions SET contact_email = NULL WHERE env = 'collaudo' AND id = $1",
    )
    .bind(&comune)
    .execute(db.writer())
    .await
    .unwrap();
    refused(&app, &luca, &submit, None, 400, "consumerWithNotValidEmail").await;
    let mails = format!("{COLL}/api/tenants/mails");
    let (s, v) = call(
        &app,
        &luca,
        "POST",
        &mails,
        Some(&json!({"kind": "CONTACT_EMAIL", "address": "non è un indirizzo"})),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["invalidParams"][0]["name"], "address", "{v}");
    post_ok_with(
        &app,
        &luca,
        &mails,
        &json!({"kind": "CONTACT_EMAIL", "address": "interop@comune.roccabella.it"}),
    )
    .await;
    // Not declared yet: refused, naming the attribute.
    let v = refused(&app, &luca, &submit, None, 400, "agreementSubmissionFailed").await;
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("Adesione alla convenzione regionale"),
        "{v}"
    );
    let t = post_ok_with(
        &app,
        &luca,
        &format!("{COLL}/api/tenants/attributes/declared"),
        &json!({"id": declared}),
    )
    .await;
    assert_eq!(t["declared"][0]["id"], declared.as_str(), "{t}");
    let a = post_ok(&app, &luca, &submit).await;
    assert_eq!(a["state"], "ACTIVE", "{a}");
    // Withdrawing the declaration suspends it; declaring again brings it back.
    expect(
        &app,
        &luca,
        "DELETE",
        &format!("{COLL}/api/tenants/attributes/declared/{declared}"),
        None,
        200,
    )
    .await;
    let a = get_ok(&app, &luca, &format!("{COLL}/api/agreements/{id}")).await;
    assert_eq!(
        (a["state"].as_str(), a["suspendedByPlatform"].as_bool()),
        (Some("SUSPENDED"), Some(true))
    );
    post_ok_with(
        &app,
        &luca,
        &format!("{COLL}/api/tenants/attributes/declared"),
        &json!({"id": declared}),
    )
    .await;
    let a = get_ok(&app, &luca, &format!("{COLL}/api/agreements/{id}")).await;
    assert_eq!(a["state"], "ACTIVE", "{a}");
}

#[tokio::test]
async fn a_verified_attribute_counts_until_its_expiry() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let verified = post_created(
        &app,
        &giulia,
        &format!("{COLL}/api/attributes/verified"),
        &json!({"name": "Accreditamento sanitario", "description": "L'ente è accreditato presso la Regione."}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (eservice, descriptor) = eservice_requiring(
        &app,
        &giulia,
        "Fascicolo accreditato",
        "AUTOMATIC",
        json!({"verified": [[{"id": verified}]]}),
    )
    .await;
    // AUTOMATIC, but a verified attribute is missing: it waits for the producer.
    let (id, a) = crate::submitted_agreement(&app, &luca, &eservice, &descriptor).await;
    assert_eq!(a["state"], "PENDING", "{a}");
    let approve = format!("{COLL}/api/agreements/{id}/approve");
    let v = refused(
        &app,
        &giulia,
        &approve,
        None,
        400,
        "agreementActivationFailed",
    )
    .await;
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("Accreditamento sanitario"),
        "{v}"
    );
    // The consumer cannot verify itself; the producer verifies until a date.
    let comune = crate::institution_id(&app, COMUNE).await;
    let regione = crate::institution_id(&app, REGIONE).await;
    let verify = |who: &str| format!("{COLL}/api/tenants/{who}/attributes/verified");
    refused(
        &app,
        &luca,
        &verify(&comune),
        Some(&json!({"id": verified, "agreementId": id})),
        403,
        "attributeVerificationNotAllowed",
    )
    .await;
    let _ = regione;
    let (s, v) = call(
        &app,
        &giulia,
        "POST",
        &verify(&comune),
        Some(&json!({"id": verified, "agreementId": id, "expirationDate": "2020-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(s, 400, "an expiry in the past: {v}");
    let t = post_ok_with(
        &app,
        &giulia,
        &verify(&comune),
        &json!({"id": verified, "agreementId": id, "expirationDate": "2099-12-31T23:00:00Z"}),
    )
    .await;
    assert_eq!(t["verified"][0]["valid"], true, "{t}");
    let a = post_ok(&app, &giulia, &approve).await;
    assert_eq!(a["state"], "ACTIVE", "{a}");
    // Nothing expires before the date...
    let db = &app.db.connect().await;
    let expiry = platform::timestamp::Timestamp::parse_rfc3339("2099-12-31T23:00:00Z")
        .unwrap()
        .millis();
    assert_eq!(
        interop::store::attributes::apply_expiries(db, expiry - 1)
            .await
            .unwrap(),
        0
    );
    // ...and on the date the verification stops counting: the agreement is suspended.
    assert_eq!(
        interop::store::attributes::apply_expiries(db, expiry)
            .await
            .unwrap(),
        1
    );
    let a = get_ok(&app, &luca, &format!("{COLL}/api/agreements/{id}")).await;
    assert_eq!(
        (a["state"].as_str(), a["suspendedByPlatform"].as_bool()),
        (Some("SUSPENDED"), Some(true)),
        "{a}"
    );
    // Applied once.
    assert_eq!(
        interop::store::attributes::apply_expiries(db, expiry + 1)
            .await
            .unwrap(),
        0
    );
    // A new verification brings it back; revoking it suspends again.
    post_ok_with(
        &app,
        &giulia,
        &verify(&comune),
        &json!({"id": verified, "agreementId": id}),
    )
    .await;
    let a = get_ok(&app, &luca, &format!("{COLL}/api/agreements/{id}")).await;
    assert_eq!(a["state"], "ACTIVE", "{a}");
    expect(
        &app,
        &giulia,
        "DELETE",
        &format!("{}/{verified}", verify(&comune)),
        None,
        200,
    )
    .await;
    let a = get_ok(&app, &luca, &format!("{COLL}/api/agreements/{id}")).await;
    assert_eq!(a["state"], "SUSPENDED", "{a}");
}

#[tokio::test]
async fn a_certifier_assigns_and_revokes_the_attributes_of_its_origin_only() {
    let app = TestApp::spawn().await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let db = &app.db.connect().await;
    let pagopa = crate::institution_id(&app, PAGOPA).await;
    let comune = crate::institution_id(&app, COMUNE).await;
    // Not a certifier yet.
    refused(
        &app,
        &paolo,
        &format!("{COLL}/api/attributes/certified"),
        Some(&json!({"name": "Aderente a SEND", "description": "L'ente ha aderito a SEND.", "code": "send"})),
        403,
        "attributeDoesNotBelongToCertifier",
    )
    .await;
    let env = interop::model::Environment::Collaudo;
    interop::store::attributes::grant_certifier(db, env, &pagopa, "PAGOPA")
        .await
        .unwrap();
    // IPA is the import's own.
    assert!(
        interop::store::attributes::grant_certifier(db, env, &pagopa, "IPA")
            .await
            .is_err()
    );
    let a = post_created(
        &app,
        &paolo,
        &format!("{COLL}/api/attributes/certified"),
        &json!({"name": "Aderente a SEND", "description": "L'ente ha aderito a SEND.", "code": "send"}),
    )
    .await;
    assert_eq!(
        (a["origin"].as_str(), a["code"].as_str()),
        (Some("PAGOPA"), Some("send")),
        "{a}"
    );
    let id = a["id"].as_str().unwrap().to_string();
    let certified = format!("{COLL}/api/tenants/{comune}/attributes/certified");
    let t = post_ok_with(&app, &paolo, &certified, &json!({"id": id})).await;
    assert!(
        t["certified"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == id.as_str()),
        "{t}"
    );
    // Another institution, or an IPA attribute: refused.
    refused(
        &app,
        &giulia,
        &certified,
        Some(&json!({"id": id})),
        403,
        "attributeDoesNotBelongToCertifier",
    )
    .await;
    let l6 = attribute(&app, &paolo, "CERTIFIED", L6).await;
    refused(
        &app,
        &paolo,
        &certified,
        Some(&json!({"id": l6})),
        403,
        "attributeDoesNotBelongToCertifier",
    )
    .await;
    let t = expect(
        &app,
        &paolo,
        "DELETE",
        &format!("{certified}/{id}"),
        None,
        200,
    )
    .await;
    let held = t["certified"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id.as_str())
        .unwrap();
    assert!(held["revocationTimestamp"].is_string(), "{t}");
    assert!(
        interop::store::attributes::revoke_certifier(db, env, &pagopa)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_platform_suspension_through_one_instance_is_honoured_by_the_next_token_request_to_the_other()
 {
    let a = TestApp::spawn().await;
    give_luca_collaudo(&a, "admin").await;
    let luca = member(&a, LUCA, COMUNE, "prod-interop-coll").await;
    let giulia = member(&a, GIULIA, REGIONE, "prod-interop-coll").await;
    let declared = post_created(
        &a,
        &giulia,
        &format!("{COLL}/api/attributes/declared"),
        &json!({"name": "Adesione al sistema regionale", "description": "L'ente dichiara di aver aderito al sistema."}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (eservice, descriptor) = eservice_requiring(
        &a,
        &giulia,
        "Sistema regionale",
        "AUTOMATIC",
        json!({"declared": [[{"id": declared}]]}),
    )
    .await;
    let declare = format!("{COLL}/api/tenants/attributes/declared");
    post_ok_with(&a, &luca, &declare, &json!({"id": declared})).await;
    let (_, agreement) = crate::submitted_agreement(&a, &luca, &eservice, &descriptor).await;
    assert_eq!(agreement["state"], "ACTIVE", "{agreement}");
    let (purpose, _, state) =
        crate::purpose(&a, &luca, &eservice, "Servizi regionali", 10, false).await;
    assert_eq!(state, "ACTIVE");
    let me = get_ok(&a, &luca, &format!("{COLL}/api/me")).await;
    let c = post_created(
        &a,
        &luca,
        &format!("{COLL}/api/clientsConsumer"),
        &json!({"name": "Client regionale", "members": [me["userId"]]}),
    )
    .await;
    let client = c["id"].as_str().unwrap().to_string();
    let key = ClientKey::generate();
    post_created(
        &a,
        &luca,
        &format!("{COLL}/api/clients/{client}/keys"),
        &key_upload(&key.upload_b64(), "Chiave"),
    )
    .await;
    link_purpose(&a, &luca, &client, &purpose).await;
    let b = a.another_instance().await;
    let (status, v) = voucher_at(&b.url, &client, &key, &purpose).await;
    assert_eq!(status, 200, "{v}");
    // Withdrawn through A: B refuses the very next request; declared through B: A issues.
    expect(
        &a,
        &luca,
        "DELETE",
        &format!("{declare}/{declared}"),
        None,
        200,
    )
    .await;
    let (status, v) = voucher_at(&b.url, &client, &key, &purpose).await;
    assert_eq!(
        status, 400,
        "after the platform's suspension, B answered {v}"
    );
    let r = testkit::client()
        .post(format!("{}{declare}", b.url))
        .bearer_auth(&luca)
        .json(&json!({"id": declared}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, v) = voucher_at(&a.url, &client, &key, &purpose).await;
    assert_eq!(
        status, 200,
        "after the declaration through B, A answered {v}"
    );
    b.stop().await;
}
