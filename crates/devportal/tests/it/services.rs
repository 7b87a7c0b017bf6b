//! The delegates' services: own list with keys, create with field errors, edit, regenerate a
//! key, another's service, and what the import's freeze and transfer do to the pages.

use devportal::model::Visibility;
use devportal::store;
use reqwest::StatusCode;

use crate::{COMUNE, Portal, REGIONE};

const FROZEN_MESSAGE: &str =
    "Il servizio è in trasferimento all'Area Riservata e non può essere modificato";

/// The edit form of `id` as a list of fields, with `changes` applied.
fn edit_form<'a>(csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form: Vec<(&str, &str)> = vec![
        ("csrf", csrf),
        ("name", "Tari"),
        ("description", "La tassa sui rifiuti del Comune."),
        ("organization_name", "Comune di Roccabella"),
        ("organization_fiscal_code", COMUNE),
        ("department_name", "Ufficio Tributi"),
        ("scope", "LOCAL"),
        ("topic_id", "4"),
        ("web_url", "https://www.comune.roccabella.it"),
        ("privacy_url", "https://www.comune.roccabella.it/privacy"),
        ("tos_url", ""),
        ("email", "tributi@comune.roccabella.it"),
        ("pec", "protocollo@pec.comune.roccabella.it"),
        ("phone", "+39 0123 456789"),
        ("address", "Piazza del Municipio 1, Roccabella"),
        ("authorized_cidrs", "10.0.0.0/24\n192.168.1.10"),
        ("authorized_recipients", "RSSMRA85T10A562S"),
        ("max_allowed_payment_amount", "150000"),
    ];
    for (name, value) in changes {
        match form.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = value,
            None => form.push((name, value)),
        }
    }
    form
}

/// Posts the edit form of the service `id` with `changes` from `browser`: status and body.
async fn edit(
    p: &Portal,
    browser: &reqwest::Client,
    id: &str,
    csrf: &str,
    changes: &[(&str, &str)],
) -> (StatusCode, String) {
    let form = edit_form(csrf, changes);
    p.post_form(browser, &format!("/services/{id}"), &form)
        .await
}

#[tokio::test]
async fn a_delegate_sees_only_their_services_with_state_and_keys() {
    let p = Portal::start().await;
    let giovanni = p.giovanni().await;
    let laura = p.delegate("laura.neri@example.it", "Laura", "Neri").await;
    let tari = p
        .service(
            &giovanni,
            "Tari - Tassa sui rifiuti",
            COMUNE,
            Visibility::Visible,
        )
        .await;
    let anagrafe = p
        .service(
            &giovanni,
            "Servizi demografici",
            COMUNE,
            Visibility::VisibleOnce,
        )
        .await;
    let sale = p
        .service(
            &giovanni,
            "Prenotazione sale comunali",
            COMUNE,
            Visibility::NeverVisible,
        )
        .await;
    let bollo = p
        .service(&laura, "Bollo auto", REGIONE, Visibility::Visible)
        .await;

    let browser = p.logged_in("giovanni.verdi@example.it").await;
    let (status, body) = p.page(&browser, "/services").await;
    assert_eq!(status, StatusCode::OK);
    for id in [&tari, &anagrafe, &sale] {
        let s = store::service(&p.db, id).await.unwrap().unwrap();
        assert!(body.contains(id.as_str()));
        assert!(body.contains(&s.primary_key), "primary key of {id}");
        assert!(body.contains(&s.secondary_key), "secondary key of {id}");
    }
    for text in [
        "Tari - Tassa sui rifiuti",
        "Servizi demografici",
        "Prenotazione sale comunali",
        COMUNE,
        "Visibile",
        "Non più visibile",
        "Mai visibile",
    ] {
        assert!(body.contains(text), "{text}");
    }
    assert!(!body.contains("Bollo auto"));
    assert!(!body.contains(bollo.as_str()));
    assert!(!body.contains("In trasferimento"));

    // Laura's service does not exist for Giovanni, whatever he does with it.
    let laura_before = store::service(&p.db, &bollo).await.unwrap().unwrap();
    let (status, body) = p.page(&browser, &format!("/services/{bollo}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains(&laura_before.primary_key));
    let csrf = p.csrf(&browser).await;
    let (status, _) = p
        .regenerate(&browser, &bollo, "primary", csrf.as_str())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = edit(&p, &browser, &bollo, &csrf, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let laura_after = store::service(&p.db, &bollo).await.unwrap().unwrap();
    assert_eq!(laura_after.primary_key, laura_before.primary_key);
    assert_eq!(laura_after.service, laura_before.service);
    // An unknown service and an unknown key name are not found either.
    let (status, _) = p.page(&browser, "/services/01NOPE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = p
        .regenerate(&browser, &tari, "tertiary", csrf.as_str())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn creating_a_service_shows_errors_by_field_then_creates_it_never_visible() {
    let p = Portal::start().await;
    let giovanni = p.giovanni().await;
    let browser = p.logged_in("giovanni.verdi@example.it").await;
    let (status, body) = p.page(&browser, "/services/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Nuovo servizio"));
    let csrf = p.csrf(&browser).await;

    let bad = edit_form(
        &csrf,
        &[
            ("name", ""),
            ("organization_fiscal_code", "0012345678X"),
            ("web_url", "ftp://www.comune.roccabella.it"),
            ("pec", "non-una-pec"),
            ("phone", "telefono"),
            ("authorized_cidrs", "10.0.0.0/33"),
            ("authorized_recipients", "ABC"),
            ("max_allowed_payment_amount", "-1"),
            ("topic_id", "100"),
            ("scope", "GLOBAL"),
        ],
    );
    let (status, body) = p.post_form(&browser, "/services", &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in [
        "name",
        "organization_fiscal_code",
        "web_url",
        "pec",
        "phone",
        "authorized_cidrs",
        "authorized_recipients",
        "max_allowed_payment_amount",
        "topic_id",
        "scope",
    ] {
        assert!(
            body.contains(&format!("data-error-for=\"{field}\"")),
            "no error next to {field}"
        );
    }
    assert!(!body.contains("data-error-for=\"description\""));
    assert!(body.contains("Campo obbligatorio"));
    // What was typed is kept.
    assert!(body.contains("value=\"0012345678X\""));
    assert!(body.contains("ftp://www.comune.roccabella.it"));
    assert!(body.contains("La tassa sui rifiuti del Comune."));
    assert!(
        store::delegate_services(&p.db, &giovanni)
            .await
            .unwrap()
            .is_empty()
    );

    let good = edit_form(&csrf, &[("name", "Tari - Tassa sui rifiuti")]);
    let (status, body) = p.post_form(&browser, "/services", &good).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Servizio creato"));
    assert!(body.contains("Mai visibile"));
    let list = store::delegate_services(&p.db, &giovanni).await.unwrap();
    assert_eq!(list.len(), 1);
    let s = &list[0];
    assert_eq!(s.visibility, Visibility::NeverVisible);
    assert_eq!(s.service.name, "Tari - Tassa sui rifiuti");
    assert_eq!(s.service.organization.fiscal_code, COMUNE);
    assert_eq!(
        s.service.organization.department_name.as_deref(),
        Some("Ufficio Tributi")
    );
    assert_eq!(s.service.metadata.topic_id, Some(4));
    assert_eq!(
        s.service.authorized_cidrs,
        vec!["10.0.0.0/24", "192.168.1.10/32"]
    );
    assert_eq!(s.service.authorized_recipients, vec!["RSSMRA85T10A562S"]);
    assert_eq!(s.service.max_allowed_payment_amount, 150_000);
    assert!(body.contains(&s.primary_key));
    assert!(body.contains(&s.secondary_key));
    assert_ne!(s.primary_key, s.secondary_key);
    for key in [&s.primary_key, &s.secondary_key] {
        assert_eq!(key.len(), 32);
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    // The form sent twice with its one-time token (a double click): one service more.
    let (_, form) = p.page(&browser, "/services/new").await;
    let once = testkit::hidden_field(&form, "once").expect("the form's one-time token");
    let mut twice = edit_form(&csrf, &[("name", "Imu - Imposta municipale")]);
    twice.push(("once", &once));
    for _ in 0..2 {
        let (status, body) = p.post_form(&browser, "/services", &twice).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("Imu - Imposta municipale"));
    }
    assert_eq!(
        store::delegate_services(&p.db, &giovanni)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_delegate_edits_a_service_and_regenerates_a_key() {
    let p = Portal::start().await;
    let (_, id, browser) = p.giovanni_with_tari().await;
    let (status, body) = p.page(&browser, &format!("/services/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Modifica il servizio"));
    let csrf = p.csrf(&browser).await;

    // A bad edit changes nothing and says why, next to the field.
    let (status, body) = edit(
        &p,
        &browser,
        &id,
        &csrf,
        &[("privacy_url", "www.senza-schema.it")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("data-error-for=\"privacy_url\""));
    assert_eq!(
        store::service(&p.db, &id)
            .await
            .unwrap()
            .unwrap()
            .service
            .name,
        "Tari"
    );

    let (status, body) = edit(
        &p,
        &browser,
        &id,
        &csrf,
        &[("name", "Tari 2025"), ("phone", "06 1234567")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Modifiche salvate"));
    assert!(body.contains("Tari 2025"));
    let s = store::service(&p.db, &id).await.unwrap().unwrap();
    assert_eq!(s.service.name, "Tari 2025");
    assert_eq!(s.service.metadata.phone.as_deref(), Some("06 1234567"));
    // The visibility is not the delegate's to change.
    assert_eq!(s.visibility, Visibility::Visible);

    let (status, body) = p.regenerate(&browser, &id, "primary", csrf.as_str()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Chiave rigenerata"));
    let after = store::service(&p.db, &id).await.unwrap().unwrap();
    assert_ne!(after.primary_key, s.primary_key);
    assert_eq!(after.secondary_key, s.secondary_key);
    assert_eq!(after.primary_key.len(), 32);
    assert!(body.contains(&after.primary_key));
    assert!(!body.contains(&s.primary_key));
    let (_, list) = p.page(&browser, "/services").await;
    assert!(list.contains(&after.primary_key));
    assert!(!list.contains(&s.primary_key));

    let (status, _) = p
        .regenerate(&browser, &id, "secondary", csrf.as_str())
        .await;
    assert_eq!(status, StatusCode::OK);
    let last = store::service(&p.db, &id).await.unwrap().unwrap();
    assert_ne!(last.secondary_key, s.secondary_key);
    assert_eq!(last.primary_key, after.primary_key);
}

#[tokio::test]
async fn a_frozen_service_refuses_edits_and_key_regeneration() {
    let p = Portal::start().await;
    let (giovanni, id, browser) = p.giovanni_with_tari().await;
    let csrf = p.csrf(&browser).await;
    let (status, _) = p.freeze(COMUNE, &giovanni, &id).await;
    assert_eq!(status, StatusCode::OK);
    let before = store::service(&p.db, &id).await.unwrap().unwrap();

    let (status, body) = p.page(&browser, &format!("/services/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("In trasferimento"));
    assert!(!body.contains(&format!("action=\"/services/{id}\"")));
    assert!(!body.contains(&format!("action=\"/services/{id}/keys/primary\"")));
    assert!(body.contains(&before.primary_key));
    let (_, list) = p.page(&browser, "/services").await;
    assert!(list.contains("In trasferimento"));

    let (status, body) = edit(&p, &browser, &id, &csrf, &[("name", "Tari cambiata")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(crate::unescape(&body).contains(FROZEN_MESSAGE), "{body}");
    for which in ["primary", "secondary"] {
        let (status, body) = p.regenerate(&browser, &id, which, csrf.as_str()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(crate::unescape(&body).contains(FROZEN_MESSAGE));
    }
    // The store refuses too, whoever calls it.
    let err = store::regenerate_key(&p.db, &giovanni, &id, devportal::model::KeyKind::Primary)
        .await
        .unwrap_err();
    assert!(matches!(err, devportal::DevportalError::Frozen), "{err}");
    let mut changed = before.service.clone();
    changed.name = "Tari cambiata".into();
    let err = store::update_service(&p.db, &giovanni, &id, &changed)
        .await
        .unwrap_err();
    assert!(matches!(err, devportal::DevportalError::Frozen), "{err}");

    let after = store::service(&p.db, &id).await.unwrap().unwrap();
    assert_eq!(after.primary_key, before.primary_key);
    assert_eq!(after.secondary_key, before.secondary_key);
    assert_eq!(after.service, before.service);
}

#[tokio::test]
async fn a_transferred_service_is_gone_for_the_delegate() {
    let p = Portal::start().await;
    let giovanni = p.giovanni().await;
    let tari = p
        .service(&giovanni, "Tari", COMUNE, Visibility::Visible)
        .await;
    let sale = p
        .service(&giovanni, "Sale comunali", COMUNE, Visibility::NeverVisible)
        .await;
    let browser = p.logged_in("giovanni.verdi@example.it").await;
    let csrf = p.csrf(&browser).await;
    assert_eq!(p.freeze(COMUNE, &giovanni, &tari).await.0, StatusCode::OK);
    assert_eq!(p.transfer(COMUNE, &giovanni, &tari).await.0, StatusCode::OK);

    let (status, list) = p.page(&browser, "/services").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!list.contains(tari.as_str()));
    assert!(!list.contains(">Tari<"));
    assert!(list.contains(sale.as_str()));
    // Its old link says where it went, not that it never existed.
    let (status, page) = p.page(&browser, &format!("/services/{tari}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(
        page.contains("trasferito all&#39;Area Riservata dell&#39;ente Comune di Roccabella")
            || page.contains("trasferito all'Area Riservata dell'ente Comune di Roccabella"),
        "{page}"
    );
    assert!(!page.contains("non esiste o non è tuo"), "{page}");
    // Another delegate's service is still "not found" (nothing said of whose it is).
    p.delegate("laura.neri@example.it", "Laura", "Neri").await;
    let laura = p.logged_in("laura.neri@example.it").await;
    let (status, _) = p.page(&laura, &format!("/services/{tari}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = p
        .regenerate(&browser, &tari, "primary", csrf.as_str())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let state = store::import_state(&p.db, &tari).await.unwrap().unwrap();
    assert!(state.frozen_at.is_some() && state.transferred_at.is_some());
}
