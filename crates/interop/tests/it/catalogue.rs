//! E-services and their versions: the producer's rules, the catalogue, the roles.

use serde_json::{Value, json};
use testkit::TestApp;

use crate::{
    ANNA, COLL, COMUNE, LUCA, PAGOPA, PAOLO, PROD, call, expect, get_ok, give_anna_collaudo,
    give_luca_collaudo, member, not_in_produzione, post_created, post_ok, status_of,
};

fn version(audience: &[&str], per_consumer: i64, total: i64) -> Value {
    json!({
        "description": "Una versione",
        "audience": audience,
        "voucherLifespan": 3600,
        "dailyCallsPerConsumer": per_consumer,
        "dailyCallsTotal": total,
        "agreementApprovalPolicy": "AUTOMATIC",
        "serverUrls": ["https://api.example.it/v1"],
    })
}

#[tokio::test]
async fn descriptors_follow_their_state_machine_and_the_catalogue_shows_only_published() {
    let app = TestApp::spawn().await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let base = format!("{COLL}/api/eservices");

    // Bad input names its fields.
    let (s, v) = call(
        &app,
        &paolo,
        "POST",
        &base,
        Some(&json!({"name": "abc", "description": "short", "technology": "GRPC"})),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    let fields = testkit::strings_of(&v["invalidParams"], "name");
    assert!(
        fields.contains(&"name")
            && fields.contains(&"description")
            && fields.contains(&"technology"),
        "{v}"
    );

    let e = post_created(&app, &paolo, &base, &json!({"name": "Registro delle prove", "description": "Un e-service di prova per i test.", "technology": "REST", "personalData": false}))
    .await;
    let id = e["id"].as_str().unwrap();
    // One name per producer.
    let (s, v) = call(&app, &paolo, "POST", &base, Some(&json!({"name": "registro delle prove", "description": "Un altro con lo stesso nome.", "technology": "REST"}))).await;
    assert_eq!(s, 409, "{v}");

    // A draft; a second one is refused; per-consumer above total is bad input.
    let (s, v) = call(
        &app,
        &paolo,
        "POST",
        &format!("{base}/{id}/descriptors"),
        Some(&version(&[], 10, 5)),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    let d1 = post_created(
        &app,
        &paolo,
        &format!("{base}/{id}/descriptors"),
        &version(&[], 10, 100),
    )
    .await;
    let d1 = d1["id"].as_str().unwrap().to_string();
    let (s, v) = call(
        &app,
        &paolo,
        "POST",
        &format!("{base}/{id}/descriptors"),
        Some(&version(&["a"], 10, 100)),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("draftDescriptorAlreadyExists")),
        "{v}"
    );
    // Not in the catalogue while a draft; another institution does not see it.
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let cat = get_ok(&app, &luca, &format!("{COLL}/api/catalog?q=registro")).await;
    assert_eq!(cat["results"], json!([]));
    assert_eq!(
        status_of(&app, &luca, "GET", &format!("{base}/{id}")).await,
        404
    );

    // Publishing needs an interface, then an audience.
    let publish = format!("{base}/{id}/descriptors/{d1}/publish");
    let (s, v) = call(&app, &paolo, "POST", &publish, None).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("eServiceDescriptorWithoutInterface")),
        "{v}"
    );
    let (s, v) = crate::documents::upload(
        &app,
        &paolo,
        &format!("{base}/{id}/descriptors/{d1}"),
        "INTERFACE",
        "Interfaccia",
        (
            "openapi.yaml",
            "application/yaml",
            crate::documents::openapi("https://api.example.it/v1").into_bytes(),
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = call(&app, &paolo, "POST", &publish, None).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("audienceCannotBeEmpty")),
        "{v}"
    );
    expect(
        &app,
        &paolo,
        "PUT",
        &format!("{base}/{id}/descriptors/{d1}"),
        Some(&version(&["https://api.example.it"], 10, 100)),
        200,
    )
    .await;
    let d = post_ok(&app, &paolo, &publish).await;
    assert_eq!(d["state"], "PUBLISHED");
    assert_eq!(d["version"], "1");
    // Published: in the catalogue, the e-service is frozen, the version is not a draft.
    let cat = get_ok(&app, &luca, &format!("{COLL}/api/catalog?q=REGISTRO")).await;
    assert_eq!(cat["results"].as_array().unwrap().len(), 1, "{cat}");
    assert_eq!(cat["results"][0]["producerName"], "PagoPA S.p.A.");
    let (s, v) = call(&app, &paolo, "PUT", &format!("{base}/{id}"), Some(&json!({"name": "Registro nuovo", "description": "Un e-service di prova per i test.", "technology": "REST"}))).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("eservice_already_published"))
    );
    assert_eq!(
        status_of(&app, &paolo, "DELETE", &format!("{base}/{id}")).await,
        409
    );
    assert_eq!(status_of(&app, &paolo, "POST", &publish).await, 409);
    assert_eq!(
        call(
            &app,
            &paolo,
            "PUT",
            &format!("{base}/{id}/descriptors/{d1}"),
            Some(&version(&["x"], 1, 2))
        )
        .await
        .0,
        409
    );

    // Suspend and reactivate; twice is refused.
    let suspend = format!("{base}/{id}/descriptors/{d1}/suspend");
    let activate = format!("{base}/{id}/descriptors/{d1}/activate");
    assert_eq!(status_of(&app, &paolo, "POST", &activate).await, 409);
    assert_eq!(post_ok(&app, &paolo, &suspend).await["state"], "SUSPENDED");
    assert_eq!(status_of(&app, &paolo, "POST", &suspend).await, 409);
    let cat = get_ok(&app, &luca, &format!("{COLL}/api/catalog?q=registro")).await;
    assert_eq!(
        cat["results"],
        json!([]),
        "a suspended version is not offered"
    );
    assert_eq!(post_ok(&app, &paolo, &activate).await["state"], "PUBLISHED");

    // A draft can be deleted; a published version cannot.
    let scratch = post_created(
        &app,
        &paolo,
        &format!("{base}/{id}/descriptors"),
        &version(&["https://api.example.it"], 10, 100),
    )
    .await;
    let scratch = scratch["id"].as_str().unwrap().to_string();
    assert_eq!(
        status_of(
            &app,
            &paolo,
            "DELETE",
            &format!("{base}/{id}/descriptors/{d1}")
        )
        .await,
        409
    );
    assert_eq!(
        status_of(
            &app,
            &paolo,
            "DELETE",
            &format!("{base}/{id}/descriptors/{scratch}")
        )
        .await,
        204
    );

    // Version 2 replaces it: no agreements, so version 1 is archived.
    let d2 = post_created(
        &app,
        &paolo,
        &format!("{base}/{id}/descriptors"),
        &version(&["https://api.example.it"], 10, 100),
    )
    .await;
    let d2 = d2["id"].as_str().unwrap().to_string();
    assert_eq!(d2.len(), 36);
    let (s, v) = crate::documents::upload(
        &app,
        &paolo,
        &format!("{base}/{id}/descriptors/{d2}"),
        "INTERFACE",
        "Interfaccia",
        (
            "openapi.json",
            "application/json",
            json!({"openapi": "3.1.0", "info": {"title": "Registro", "version": "2"},
                   "servers": [{"url": "https://api.example.it/v2"}], "paths": {}})
            .to_string()
            .into_bytes(),
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    post_ok(
        &app,
        &paolo,
        &format!("{base}/{id}/descriptors/{d2}/publish"),
    )
    .await;
    let e = get_ok(&app, &paolo, &format!("{base}/{id}")).await;
    let states = testkit::strings_of(&e["descriptors"], "state");
    assert_eq!(states, vec!["ARCHIVED", "PUBLISHED"]);

    // Another institution cannot touch it; the consumer's admin is not its producer.
    assert_eq!(
        status_of(&app, &luca, "POST", &suspend.replace(&d1, &d2)).await,
        404
    );
    assert_eq!(call(&app, &luca, "PUT", &format!("{base}/{id}"), Some(&json!({"name": "Preso da altri", "description": "Un e-service di prova per i test.", "technology": "REST"}))).await.0, 404);

    // Nothing of it exists in Produzione.
    let paolo_prod = not_in_produzione(&app, &format!("/api/eservices/{id}")).await;
    let prod = get_ok(&app, &paolo_prod, &format!("{PROD}/api/catalog")).await;
    assert!(!prod.to_string().contains("Registro delle prove"));
}

#[tokio::test]
async fn api_operators_manage_e_services_and_security_operators_do_not() {
    let app = TestApp::spawn().await;
    give_anna_collaudo(&app, &["api"]).await;
    let anna = member(&app, ANNA, COMUNE, "prod-interop-coll").await;
    let body = json!({"name": "Servizio del Comune", "description": "Un e-service del Comune.", "technology": "SOAP", "mode": "RECEIVE"});
    post_created(&app, &anna, &format!("{COLL}/api/eservices"), &body).await;

    let app = TestApp::spawn().await;
    give_anna_collaudo(&app, &["security"]).await;
    let anna = member(&app, ANNA, COMUNE, "prod-interop-coll").await;
    let (s, v) = call(
        &app,
        &anna,
        "POST",
        &format!("{COLL}/api/eservices"),
        Some(&body),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    // Everyone browses the catalogue.
    let cat = get_ok(&app, &anna, &format!("{COLL}/api/catalog?q=send")).await;
    assert_eq!(
        cat["results"][0]["name"],
        "SEND - UAT (Piattaforma Notifiche)"
    );
}
