//! The migration API: its key, which delegates and services an institution can import, freeze
//! and transfer (idempotent, and safe when two back-office instances call at once).

use devportal::model::Visibility;
use devportal::store;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{ALTRO, COMUNE, KEY, Portal, REGIONE};

fn is_key(v: &Value) -> bool {
    v.as_str().is_some_and(|k| {
        k.len() == 32
            && k.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn ids(body: &Value, list: &str, field: &str) -> Vec<String> {
    body[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {body}"))
        .iter()
        .map(|e| e[field].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_api_wants_the_migration_key_and_a_valid_fiscal_code() {
    let p = Portal::start().await;
    let path = format!("/organizations/{COMUNE}/delegates");
    for key in [
        None,
        Some("wrong-key-wrong-key-wrong"),
        Some(""),
        Some(&KEY[1..]),
    ] {
        let r = p
            .api
            .get(p.url(&format!("/api/v1{path}")))
            .headers(match key {
                Some(k) => {
                    let mut h = reqwest::header::HeaderMap::new();
                    h.insert("x-functions-key", k.parse().unwrap());
                    h
                }
                None => Default::default(),
            })
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], 401);
        assert!(body["code"].is_string() && body["title"].is_string() && body["type"].is_string());
    }
    // Even a write without the key does nothing.
    let (status, _) = p
        .api_as(
            None,
            "POST",
            &format!("/organizations/{COMUNE}/delegates/x/services/y/freeze"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = p.api("GET", &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"delegates": []}));

    for fc in [
        "0012345678",
        "001234567821",
        "0012345678A",
        "RSSMRA85T10A562S",
    ] {
        for path in [
            format!("/organizations/{fc}/delegates"),
            format!("/organizations/{fc}/services"),
            format!("/organizations/{fc}/excluded-services"),
            format!("/organizations/{fc}/delegates/d/services"),
        ] {
            let (status, body) = p.api("GET", &path).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
            assert_eq!(body["code"], "invalid_fiscal_code");
        }
        let (status, _) = p
            .api(
                "POST",
                &format!("/organizations/{fc}/delegates/d/services/s/freeze"),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, body) = p.api("GET", "/nothing/here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], 404);
}

#[tokio::test]
async fn delegates_and_services_follow_the_importable_rules() {
    let p = Portal::start().await;
    let verdi = p.giovanni().await;
    let neri = p.delegate("laura.neri@example.it", "Laura", "Neri").await;
    let gialli = p
        .delegate("franco.gialli@example.it", "Franco", "Gialli")
        .await;
    let bianchi = p
        .delegate("marta.bianchi@example.it", "Marta", "Bianchi")
        .await;
    let rossi = p.delegate("paolo.rossi@example.it", "Paolo", "Rossi").await;

    let tari = p.service(&verdi, "Tari", COMUNE, Visibility::Visible).await;
    let anagrafe = p
        .service(&verdi, "Anagrafe", COMUNE, Visibility::VisibleOnce)
        .await;
    let sale = p
        .service(&verdi, "Sale comunali", COMUNE, Visibility::NeverVisible)
        .await;
    let mensa = p
        .service(
            &verdi,
            "Mensa scolastica (deleted)",
            COMUNE,
            Visibility::Visible,
        )
        .await;
    let polizia = p
        .service(&neri, "Polizia locale", COMUNE, Visibility::Visible)
        .await;
    let bollo = p
        .service(&neri, "Bollo auto", REGIONE, Visibility::Visible)
        .await;
    p.service(&gialli, "Biblioteca civica", ALTRO, Visibility::Visible)
        .await;
    let old = p
        .service(&bianchi, "Vecchio servizio", COMUNE, Visibility::Visible)
        .await;
    p.service(&rossi, "Servizio DELETED", COMUNE, Visibility::Visible)
        .await;
    p.service(&rossi, "Altro Deleted 2", COMUNE, Visibility::Visible)
        .await;
    // Marta's only service has been transferred already.
    assert_eq!(p.freeze(COMUNE, &bianchi, &old).await.0, StatusCode::OK);
    assert_eq!(p.transfer(COMUNE, &bianchi, &old).await.0, StatusCode::OK);
    // Freezing does not take a service out of the pending ones.
    assert_eq!(p.freeze(COMUNE, &verdi, &sale).await.0, StatusCode::OK);

    let (status, body) = p
        .api("GET", &format!("/organizations/{COMUNE}/delegates"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"delegates": [
            {"sourceId": bianchi, "sourceName": "Marta", "sourceSurname": "Bianchi",
             "sourceEmail": "marta.bianchi@example.it", "subscriptionCounter": 0},
            {"sourceId": neri, "sourceName": "Laura", "sourceSurname": "Neri",
             "sourceEmail": "laura.neri@example.it", "subscriptionCounter": 1},
            {"sourceId": verdi, "sourceName": "Giovanni", "sourceSurname": "Verdi",
             "sourceEmail": "giovanni.verdi@example.it", "subscriptionCounter": 3},
        ]})
    );
    let (_, body) = p
        .api("GET", &format!("/organizations/{REGIONE}/delegates"))
        .await;
    assert_eq!(ids(&body, "delegates", "sourceId"), vec![neri.clone()]);
    let (_, body) = p
        .api("GET", &format!("/organizations/{ALTRO}/delegates"))
        .await;
    assert_eq!(ids(&body, "delegates", "sourceId"), vec![gialli.clone()]);

    // Every pending service of the Comune: by delegate (Neri, Verdi), then name.
    let (status, body) = p
        .api("GET", &format!("/organizations/{COMUNE}/services"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ids(&body, "services", "id"),
        vec![
            polizia.clone(),
            anagrafe.clone(),
            sale.clone(),
            tari.clone()
        ]
    );
    let entry = |id: &str| {
        body["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        entry(&sale),
        json!({"id": sale, "name": "Sale comunali", "delegateId": verdi,
               "visibility": "never_visible", "frozen": true})
    );
    assert_eq!(entry(&tari)["frozen"], false);
    assert_eq!(entry(&anagrafe)["visibility"], "visible_once");
    assert!(!ids(&body, "services", "id").contains(&mensa));

    // What stays out, and why: the Comune's services marked deleted (Rossi's two, Verdi's
    // Mensa), by delegate then name; nothing of another organization.
    let (status, body) = p
        .api("GET", &format!("/organizations/{COMUNE}/excluded-services"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let left_out: Vec<(&str, &str, &str)> = body["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["delegateSurname"].as_str().unwrap(),
                e["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        left_out,
        vec![
            ("Altro Deleted 2", "Rossi", "MARKED_DELETED"),
            ("Servizio DELETED", "Rossi", "MARKED_DELETED"),
            ("Mensa scolastica (deleted)", "Verdi", "MARKED_DELETED"),
        ]
    );
    let (_, body) = p
        .api(
            "GET",
            &format!("/organizations/{REGIONE}/excluded-services"),
        )
        .await;
    assert_eq!(body, json!({"services": []}));

    // One delegate's pending services of the Comune.
    let (status, body) = p
        .api(
            "GET",
            &format!("/organizations/{COMUNE}/delegates/{verdi}/services"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ids(&body, "services", "id"),
        vec![anagrafe.clone(), sale.clone(), tari.clone()]
    );
    let (_, body) = p
        .api(
            "GET",
            &format!("/organizations/{REGIONE}/delegates/{neri}/services"),
        )
        .await;
    assert_eq!(ids(&body, "services", "id"), vec![bollo.clone()]);
    for (fc, delegate) in [
        (COMUNE, "unknown"),
        (COMUNE, bianchi.as_str()),
        (COMUNE, rossi.as_str()),
        (REGIONE, verdi.as_str()),
    ] {
        let (status, body) = p
            .api(
                "GET",
                &format!("/organizations/{fc}/delegates/{delegate}/services"),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"services": []}), "{fc} {delegate}");
    }
}

#[tokio::test]
async fn freeze_returns_the_service_and_its_keys_the_same_every_time() {
    let p = Portal::start().await;
    let verdi = p.giovanni().await;
    let neri = p.delegate("laura.neri@example.it", "Laura", "Neri").await;
    let mut full = crate::sample("Tari", COMUNE);
    full.organization.department_name = Some("Ufficio Tributi".into());
    full.metadata.web_url = Some("https://www.comune.roccabella.it".into());
    full.metadata.phone = Some("+39 0123 456789".into());
    full.authorized_cidrs = vec!["10.0.0.0/24".into()];
    full.max_allowed_payment_amount = 5000;
    let tari = store::add_service(&p.db, &verdi, &full, Visibility::VisibleOnce)
        .await
        .unwrap();
    let plain = p
        .service(&verdi, "Sale comunali", COMUNE, Visibility::Visible)
        .await;
    let deleted = p
        .service(&verdi, "Mensa (Deleted)", COMUNE, Visibility::Visible)
        .await;
    let stored = store::service(&p.db, &tari).await.unwrap().unwrap();

    let (status, first) = p.freeze(COMUNE, &verdi, &tari).await;
    assert_eq!(status, StatusCode::OK);
    let frozen_at = first["frozenAt"].as_str().unwrap().to_string();
    assert!(
        time::OffsetDateTime::parse(&frozen_at, &time::format_description::well_known::Rfc3339)
            .is_ok(),
        "{frozen_at}"
    );
    assert_eq!(
        first,
        json!({
            "service": {
                "id": tari,
                "name": "Tari",
                "description": "Il servizio «Tari» del Comune.",
                "organization": {"name": "Comune di Roccabella", "fiscal_code": COMUNE,
                                 "department_name": "Ufficio Tributi"},
                "require_secure_channel": false,
                "authorized_recipients": [],
                "authorized_cidrs": ["10.0.0.0/24"],
                "max_allowed_payment_amount": 5000,
                "metadata": {
                    "scope": "LOCAL",
                    "topic_id": 3,
                    "web_url": "https://www.comune.roccabella.it",
                    "privacy_url": "https://www.comune.roccabella.it/privacy",
                    "email": "servizi@comune.roccabella.it",
                    "phone": "+39 0123 456789",
                },
                "visibility": "visible_once",
            },
            "keys": {"primary": stored.primary_key, "secondary": stored.secondary_key},
            "frozenAt": frozen_at,
            "transferred": false,
        })
    );
    assert!(is_key(&first["keys"]["primary"]) && is_key(&first["keys"]["secondary"]));
    // Without a department, the field is left out.
    let (_, body) = p.freeze(COMUNE, &verdi, &plain).await;
    assert!(
        body["service"]["organization"]
            .get("department_name")
            .is_none()
    );
    assert!(body["service"]["metadata"].get("web_url").is_none());

    let (status, again) = p.freeze(COMUNE, &verdi, &tari).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, first);

    let (status, _) = p.transfer(COMUNE, &verdi, &tari).await;
    assert_eq!(status, StatusCode::OK);
    let (status, after) = p.freeze(COMUNE, &verdi, &tari).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["transferred"], true);
    assert_eq!(after["keys"], first["keys"]);
    assert_eq!(after["service"], first["service"]);
    assert_eq!(after["frozenAt"], first["frozenAt"]);

    // Not found: another delegate's, another organization's, deleted, unknown.
    for (fc, delegate, service) in [
        (COMUNE, neri.as_str(), plain.as_str()),
        (REGIONE, verdi.as_str(), plain.as_str()),
        (COMUNE, verdi.as_str(), deleted.as_str()),
        (COMUNE, verdi.as_str(), "01HZZZZZZZZZZZZZZZZZZZZZZZ"),
    ] {
        for step in ["freeze", "transfer"] {
            let (status, body) = p
                .api(
                    "POST",
                    &format!("/organizations/{fc}/delegates/{delegate}/services/{service}/{step}"),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{step} {fc} {delegate} {service}"
            );
            assert_eq!(body["code"], "service_not_found");
        }
    }
    let state = store::import_state(&p.db, &deleted).await.unwrap().unwrap();
    assert_eq!(state.frozen_at, None);
}

#[tokio::test]
async fn transfer_needs_the_freeze_and_happens_once() {
    let p = Portal::start().await;
    let verdi = p.giovanni().await;
    let tari = p.service(&verdi, "Tari", COMUNE, Visibility::Visible).await;

    let (status, body) = p.transfer(COMUNE, &verdi, &tari).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "not_frozen");
    let state = store::import_state(&p.db, &tari).await.unwrap().unwrap();
    assert_eq!(state.transferred_at, None);

    assert_eq!(p.freeze(COMUNE, &verdi, &tari).await.0, StatusCode::OK);
    let (status, first) = p.transfer(COMUNE, &verdi, &tari).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["transferred"], true);
    let at = first["transferredAt"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).is_ok()
    );
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (status, second) = p.transfer(COMUNE, &verdi, &tari).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second, first);
    let state = store::import_state(&p.db, &tari).await.unwrap().unwrap();
    assert!(state.transferred_at.is_some());

    // Transferred services are no longer pending, but their delegate is still listed.
    let (_, body) = p
        .api("GET", &format!("/organizations/{COMUNE}/services"))
        .await;
    assert_eq!(body, json!({"services": []}));
    let (_, body) = p
        .api("GET", &format!("/organizations/{COMUNE}/delegates"))
        .await;
    assert_eq!(body["delegates"][0]["sourceId"], verdi.as_str());
    assert_eq!(body["delegates"][0]["subscriptionCounter"], 0);
}

#[tokio::test]
async fn two_concurrent_imports_of_the_same_service_agree() {
    let p = Portal::start().await;
    let verdi = p.giovanni().await;
    let mut services = Vec::new();
    for i in 0..4 {
        services.push(
            p.service(
                &verdi,
                &format!("Servizio {i}"),
                COMUNE,
                Visibility::Visible,
            )
            .await,
        );
    }
    for id in &services {
        let run = |client: reqwest::Client| {
            let freeze = p.url(&format!(
                "/api/v1/organizations/{COMUNE}/delegates/{verdi}/services/{id}/freeze"
            ));
            let transfer = p.url(&format!(
                "/api/v1/organizations/{COMUNE}/delegates/{verdi}/services/{id}/transfer"
            ));
            async move {
                // A migration step with the right key, asserting a 200: its JSON.
                let step = |url: String| {
                    let r = client.post(url).header("X-Functions-Key", KEY).send();
                    async move {
                        let r = r.await.unwrap();
                        assert_eq!(r.status(), StatusCode::OK);
                        r.json::<Value>().await.unwrap()
                    }
                };
                let frozen = step(freeze).await;
                let transferred = step(transfer).await;
                (frozen, transferred)
            }
        };
        // Two clients, two connections: as two back-office instances.
        let ((f1, t1), (f2, t2)) =
            futures::join!(run(reqwest::Client::new()), run(reqwest::Client::new()));
        assert_eq!(f1["keys"], f2["keys"]);
        assert_eq!(f1["frozenAt"], f2["frozenAt"]);
        assert_eq!(t1, t2);
        assert_eq!(t1["transferred"], true);
        let state = store::import_state(&p.db, id).await.unwrap().unwrap();
        assert_eq!(
            Some(t1["transferredAt"].as_str().unwrap().to_string()),
            state
                .transferred_at
                .map(|t| platform::Timestamp(t).rfc3339())
        );
    }
}
