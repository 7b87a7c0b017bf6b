//! The checks made at submission: quality, duplicate names, and the automatic approval of
//! technical changes to a published service.

use serde_json::{Value, json};
use testkit::TestApp;

use crate::{
    COMUNE, GIULIA, MANAGE, MARIO, REGIONE, Who, expect, get_ok, manage_key, operator, published,
    put_ok, service_payload, submit,
};

async fn create_with(app: &TestApp, key: &Who, payload: &Value) -> String {
    let v = expect(
        app,
        key,
        "POST",
        &format!("{MANAGE}/services"),
        Some(payload),
        201,
    )
    .await;
    v["id"].as_str().unwrap().to_string()
}

async fn status_of(app: &TestApp, key: &Who, id: &str) -> Value {
    get_ok(app, key, &format!("{MANAGE}/services/{id}")).await["status"].clone()
}

/// Submits and returns the status right after.
async fn submitted(app: &TestApp, key: &Who, id: &str, auto_publish: bool) -> Value {
    submit(app, key, MANAGE, id, auto_publish).await;
    status_of(app, key, id).await
}

fn rejected_for(status: &Value, words: &[&str]) {
    assert_eq!(status["value"], "rejected", "{status}");
    let reason = status["reason"].as_str().unwrap_or_default();
    for w in words {
        assert!(reason.contains(w), "reason {reason:?} does not name {w}");
    }
}

#[tokio::test]
async fn submission_checks_quality_duplicates_and_what_changed() {
    let app = TestApp::spawn().await;
    let comune = manage_key(&app, MARIO, COMUNE).await;
    let regione = manage_key(&app, GIULIA, REGIONE).await;
    let op = operator(&app).await;

    // No privacy policy: rejected at once, the reason names the field.
    let mut p = service_payload("Servizio senza privacy");
    p["metadata"].as_object_mut().unwrap().remove("privacy_url");
    let id = create_with(&app, &comune, &p).await;
    rejected_for(
        &submitted(&app, &comune, &id, false).await,
        &["privacy_url"],
    );

    // No contact at all: rejected; any one of them is enough.
    let mut p = service_payload("Servizio senza contatti");
    p["metadata"].as_object_mut().unwrap().remove("email");
    let id = create_with(&app, &comune, &p).await;
    rejected_for(
        &submitted(&app, &comune, &id, false).await,
        &["contact", "email", "pec", "phone", "support_url"],
    );
    for (field, value) in [
        ("pec", "servizi@pec.ente.example.it"),
        ("phone", "+39 06 1234567"),
        ("support_url", "https://ente.example.it/aiuto"),
    ] {
        let mut p = service_payload(&format!("Servizio con contatto {field}"));
        p["metadata"].as_object_mut().unwrap().remove("email");
        p["metadata"][field] = json!(value);
        let id = create_with(&app, &comune, &p).await;
        assert_eq!(
            submitted(&app, &comune, &id, false).await,
            json!({ "value": "submitted" }),
            "{field}"
        );
    }

    // A published service's name is taken in its institution, whatever the case.
    let first = published(&app, &comune, &op, MANAGE, "Servizio Unico").await;
    let twin = create_with(&app, &comune, &service_payload("servizio unico")).await;
    rejected_for(
        &submitted(&app, &comune, &twin, false).await,
        &["servizio unico"],
    );
    // Not in another institution.
    let elsewhere = create_with(&app, &regione, &service_payload("Servizio Unico")).await;
    assert_eq!(
        submitted(&app, &regione, &elsewhere, false).await,
        json!({ "value": "submitted" })
    );
    // Only published services count: a namesake that is only a draft takes nothing.
    create_with(&app, &comune, &service_payload("Servizio in Bozza")).await;
    let namesake = create_with(&app, &comune, &service_payload("servizio in bozza")).await;
    assert_eq!(
        submitted(&app, &comune, &namesake, false).await,
        json!({ "value": "submitted" })
    );

    // After publication, technical settings only: approved (and published) automatically.
    let mut technical = service_payload("Servizio Unico");
    technical["authorized_cidrs"] = json!(["10.0.0.0/8"]);
    technical["max_allowed_payment_amount"] = json!(5000);
    technical["require_secure_channel"] = json!(true);
    put_ok(
        &app,
        &comune,
        &format!("{MANAGE}/services/{first}"),
        &technical,
    )
    .await;
    assert_eq!(
        submitted(&app, &comune, &first, true).await,
        json!({ "value": "approved" }),
        "the duplicate check does not count the service itself"
    );
    let release = get_ok(&app, &comune, &format!("{MANAGE}/services/{first}/release")).await;
    assert_eq!(release["status"], "published");
    assert_eq!(release["max_allowed_payment_amount"], 5000);
    assert_eq!(release["authorized_cidrs"], json!(["10.0.0.0/8"]));

    // The name needs a person's review: it waits.
    let mut renamed = technical.clone();
    renamed["name"] = json!("Servizio Unico e Rinnovato");
    put_ok(
        &app,
        &comune,
        &format!("{MANAGE}/services/{first}"),
        &renamed,
    )
    .await;
    assert_eq!(
        submitted(&app, &comune, &first, false).await,
        json!({ "value": "submitted" })
    );
    // So do the description and the contacts.
    let other = published(&app, &comune, &op, MANAGE, "Servizio Secondo").await;
    let mut contact = service_payload("Servizio Secondo");
    contact["metadata"]["phone"] = json!("06 7654321");
    put_ok(
        &app,
        &comune,
        &format!("{MANAGE}/services/{other}"),
        &contact,
    )
    .await;
    assert_eq!(
        submitted(&app, &comune, &other, false).await,
        json!({ "value": "submitted" })
    );
}
