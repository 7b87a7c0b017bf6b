//! Every list of the API is paged in the database (`offset`, `limit`, `{results, totalCount}`)
//! and every list page has a pager that keeps the filters.

use serde_json::{Value, json};
use testkit::TestApp;

use crate::{
    COLL, COMUNE, LUCA, PAGOPA, PAOLO, call, find, get_ok, give_luca_collaudo, member,
    post_created, purpose, send_agreement, submitted_agreement,
};

/// The ids of a list's results.
fn ids(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {v}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// The list at `path` (with a `?` or not) read whole and a window at a time: each window holds
/// the rows of the whole at its place, and the total is the whole's.
async fn pages_agree(app: &TestApp, token: &str, path: &str, at_least: usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let whole = get_ok(app, token, &format!("{path}{sep}limit=100")).await;
    let all = ids(&whole);
    assert!(all.len() >= at_least, "{path}: {whole}");
    assert_eq!(whole["totalCount"], json!(all.len()), "{path}: {whole}");
    // The default window: 50.
    let default = get_ok(app, token, path).await;
    assert_eq!(
        ids(&default),
        all.iter().take(50).cloned().collect::<Vec<_>>()
    );
    for offset in 0..all.len() + 1 {
        let one = get_ok(app, token, &format!("{path}{sep}limit=1&offset={offset}")).await;
        assert_eq!(
            ids(&one),
            all.get(offset).cloned().into_iter().collect::<Vec<_>>(),
            "{path} at {offset}: {one}"
        );
        assert_eq!(one["totalCount"], json!(all.len()), "{path}: {one}");
    }
}

/// A window out of range is a 400 naming the parameter, in the API's problem shape.
async fn refuses_bad_windows(app: &TestApp, token: &str, path: &str) {
    let sep = if path.contains('?') { '&' } else { '?' };
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("offset=-1", "offset"),
        ("offset=100001", "offset"),
        ("limit=many", "limit"),
    ] {
        let (s, v) = call(app, token, "GET", &format!("{path}{sep}{query}"), None).await;
        assert_eq!(s, 400, "{path}{sep}{query}: {v}");
        let fields = testkit::strings_of(&v["invalidParams"], "name");
        assert_eq!(fields, vec![field], "{path}{sep}{query}: {v}");
    }
}

#[tokio::test]
async fn the_catalogue_is_paged_and_searched_by_the_start_of_any_word() {
    let app = TestApp::spawn().await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let catalog = format!("{COLL}/api/catalog");
    pages_agree(&app, &paolo, &catalog, 2).await;
    refuses_bad_windows(&app, &paolo, &catalog).await;
    refuses_bad_windows(&app, &paolo, &format!("{catalog}?q=anag")).await;

    let names = |v: &Value| -> Vec<String> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    };
    // Any word's start, any case; both words of a search; never the middle of a word.
    for (q, found) in [
        ("anag", vec!["Anagrafe sanitaria regionale"]),
        ("SANIT", vec!["Anagrafe sanitaria regionale"]),
        ("regionale%20anag", vec!["Anagrafe sanitaria regionale"]),
        ("notif", vec!["SEND - UAT (Piattaforma Notifiche)"]),
        ("agrafe", vec![]),
        ("send%20anag", vec![]),
    ] {
        let v = get_ok(&app, &paolo, &format!("{catalog}?q={q}")).await;
        assert_eq!(names(&v), found, "q={q}: {v}");
        assert_eq!(v["totalCount"], json!(found.len()), "q={q}: {v}");
    }
    // The second page of all, by name: the second e-service.
    let v = get_ok(&app, &paolo, &format!("{catalog}?limit=1&offset=1")).await;
    assert_eq!(names(&v), vec!["SEND - UAT (Piattaforma Notifiche)"], "{v}");

    // A renamed e-service is found by its new words only.
    let base = format!("{COLL}/api/eservices");
    let e = post_created(
        &app,
        &paolo,
        &base,
        &json!({"name": "Registro delle prove", "description": "Un e-service di prova per i test.", "technology": "REST", "personalData": false}),
    )
    .await;
    let id = e["id"].as_str().unwrap();
    let v = get_ok(&app, &paolo, &format!("{catalog}?q=registro")).await;
    assert_eq!(v["totalCount"], 0, "a draft is not in the catalogue: {v}");
    crate::published_version(
        &app,
        &paolo,
        &format!("{base}/{id}"),
        &json!({
            "description": "Una versione", "audience": ["https://api.example.it/prove"], "voucherLifespan": 3600,
            "dailyCallsPerConsumer": 10, "dailyCallsTotal": 100,
            "agreementApprovalPolicy": "AUTOMATIC",
        }),
    )
    .await;
    let v = get_ok(&app, &paolo, &format!("{catalog}?q=prov")).await;
    assert_eq!(names(&v), vec!["Registro delle prove"], "{v}");
    let (s, v) = call(
        &app,
        &paolo,
        "POST",
        &format!("{base}/{id}/name/update"),
        Some(&json!({"name": "Archivio delle verifiche e dei verbali"})),
    )
    .await;
    assert_eq!(s, 200, "renaming: {v}");
    let v = get_ok(&app, &paolo, &format!("{catalog}?q=prov")).await;
    assert_eq!(v["totalCount"], 0, "{v}");
    let v = get_ok(&app, &paolo, &format!("{catalog}?q=verif")).await;
    assert_eq!(
        names(&v),
        vec!["Archivio delle verifiche e dei verbali"],
        "{v}"
    );
    // Two words of the name start with "ver": the e-service is found once.
    let v = get_ok(&app, &paolo, &format!("{catalog}?q=ver")).await;
    assert_eq!(
        names(&v),
        vec!["Archivio delle verifiche e dei verbali"],
        "{v}"
    );
    assert_eq!(v["totalCount"], 1, "{v}");
}

#[tokio::test]
async fn the_producers_e_services_are_paged_in_the_api_and_on_the_page() {
    let app = TestApp::spawn().await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let base = format!("{COLL}/api/eservices");
    for n in 1..=21 {
        post_created(
            &app,
            &paolo,
            &base,
            &json!({"name": format!("Prova numero {n:02}"), "description": "Un e-service di prova per i test.", "technology": "REST"}),
        )
        .await;
    }
    pages_agree(&app, &paolo, &base, 22).await;
    refuses_bad_windows(&app, &paolo, &base).await;
    let v = get_ok(&app, &paolo, &format!("{base}?limit=2&offset=20")).await;
    let names: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    // By name: the producer's demo e-service after the 21 new ones.
    assert_eq!(
        names,
        vec!["Prova numero 21", "SEND - UAT (Piattaforma Notifiche)"],
        "{v}"
    );
    assert_eq!(v["totalCount"], 22, "{v}");

    // The page: 20 a page, a pager in words, the second page with the rest.
    let html = crate::page(&app, &paolo, &format!("{COLL}/eservices")).await;
    assert!(
        html.contains("<nav class=\"pager\" aria-label=\""),
        "{html}"
    );
    assert!(html.contains("Pagina 1 di 2"), "{html}");
    assert!(
        html.contains(&format!("href=\"{COLL}/eservices?page=2\"")),
        "{html}"
    );
    assert!(html.contains("Prova numero 01") && !html.contains("Prova numero 21"));
    let html = crate::page(&app, &paolo, &format!("{COLL}/eservices?page=2")).await;
    assert!(html.contains("Pagina 2 di 2"), "{html}");
    assert!(html.contains("Prova numero 21") && !html.contains("Prova numero 01"));
    assert!(
        html.contains(&format!("href=\"{COLL}/eservices\" rel=\"prev\"")),
        "{html}"
    );
}

#[tokio::test]
async fn agreements_purposes_clients_and_people_are_paged() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let (send, _, _) = send_agreement(&app, &luca).await;
    let (anagrafe, v1) = find(&app, &luca, COLL, "Anagrafe sanitaria regionale").await;
    submitted_agreement(&app, &luca, &anagrafe, &v1).await;
    let agreements = format!("{COLL}/api/agreements");
    pages_agree(&app, &luca, &agreements, 2).await;
    pages_agree(&app, &luca, &format!("{agreements}?role=consumer"), 2).await;
    refuses_bad_windows(&app, &luca, &format!("{agreements}?role=producer")).await;
    // Newest first: the second is the first made.
    let v = get_ok(&app, &luca, &format!("{agreements}?limit=1&offset=1")).await;
    assert_eq!(v["results"][0]["eserviceId"], json!(send), "{v}");

    purpose(&app, &luca, &send, "Notifiche dei tributi", 10, true).await;
    purpose(&app, &luca, &send, "Notifiche delle multe", 10, true).await;
    let purposes = format!("{COLL}/api/purposes");
    pages_agree(&app, &luca, &purposes, 2).await;
    refuses_bad_windows(&app, &luca, &purposes).await;
    let v = get_ok(&app, &luca, &format!("{purposes}?limit=1&offset=1")).await;
    assert_eq!(v["results"][0]["title"], "Notifiche dei tributi", "{v}");

    for name in ["Client dei tributi", "Client delle multe", "Client API"] {
        let kind = if name == "Client API" {
            "clientsApi"
        } else {
            "clientsConsumer"
        };
        post_created(
            &app,
            &luca,
            &format!("{COLL}/api/{kind}"),
            &json!({ "name": name }),
        )
        .await;
    }
    let clients = format!("{COLL}/api/clients");
    pages_agree(&app, &luca, &clients, 3).await;
    pages_agree(&app, &luca, &format!("{clients}?kind=CONSUMER"), 2).await;
    refuses_bad_windows(&app, &luca, &clients).await;
    let v = get_ok(
        &app,
        &luca,
        &format!("{clients}?kind=CONSUMER&limit=1&offset=1"),
    )
    .await;
    assert_eq!(v["results"][0]["name"], "Client dei tributi", "{v}");
    assert_eq!(v["totalCount"], 2, "{v}");
    let client = ids(&v)[0].clone();
    let keys = format!("{clients}/{client}/keys");
    let v = get_ok(&app, &luca, &keys).await;
    assert_eq!(
        (v["keys"].clone(), v["totalCount"].clone()),
        (json!([]), json!(0)),
        "{v}"
    );
    refuses_bad_windows(&app, &luca, &keys).await;

    let users = format!("{COLL}/api/users");
    let v = get_ok(&app, &luca, &users).await;
    let people = v["users"].as_array().unwrap().len();
    assert!(people >= 1, "{v}");
    assert_eq!(v["totalCount"], json!(people), "{v}");
    let v = get_ok(&app, &luca, &format!("{users}?offset={people}")).await;
    assert_eq!(
        (v["users"].clone(), v["totalCount"].clone()),
        (json!([]), json!(people))
    );
    refuses_bad_windows(&app, &luca, &users).await;
}
