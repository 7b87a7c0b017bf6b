//! The bounds of `limit` and `offset` on the service list, and of the history's parameters.

use std::collections::BTreeSet;

use testkit::TestApp;

use crate::{
    BO, GIULIA, MANAGE, REGIONE, bo, call, create, expect, get_ok, invalid_params, manage_keys,
};

#[tokio::test]
async fn list_and_history_parameters_are_bounded() {
    let app = TestApp::spawn().await;
    let admin = bo(&app, GIULIA, REGIONE).await;
    let key = manage_keys(&app, &admin).await.who();

    // Out of bounds, or not a number: 400 naming the parameter, on both APIs.
    for prefix in [MANAGE, BO] {
        let who = if prefix == MANAGE { &key } else { &admin };
        for (query, name) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=-1", "limit"),
            ("limit=ten", "limit"),
            ("limit=1.5", "limit"),
            ("offset=-1", "offset"),
            ("offset=x", "offset"),
            ("limit=5&offset=-1", "offset"),
        ] {
            let (s, v) = call(
                &app,
                who,
                "GET",
                &format!("{prefix}/services?{query}"),
                None,
            )
            .await;
            assert_eq!(s, 400, "{prefix} {query}: {v}");
            assert_eq!(invalid_params(&v), vec![name], "{prefix} {query}: {v}");
        }
    }

    // The review queue's too.
    let op = crate::operator(&app).await;
    for (query, name) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("offset=-1", "offset"),
    ] {
        let (s, v) = call(&app, &op, "GET", &format!("/io/api/review?{query}"), None).await;
        assert_eq!(s, 400, "review {query}: {v}");
        assert_eq!(invalid_params(&v), vec![name], "review {query}: {v}");
    }
    let v = get_ok(&app, &op, "/io/api/review?limit=100").await;
    assert_eq!(v["pagination"]["limit"], 100);

    let before = get_ok(&app, &key, &format!("{MANAGE}/services")).await["pagination"]["count"]
        .as_i64()
        .unwrap();
    let mut ids = BTreeSet::new();
    for i in 0..5 {
        ids.insert(create(&app, &key, MANAGE, &format!("Servizio numero {i}")).await);
    }
    let count = before + 5;

    // Defaults, and every limit from 1 to 100 is accepted and honoured.
    let v = get_ok(&app, &key, &format!("{MANAGE}/services")).await;
    assert_eq!(v["pagination"]["limit"], 20);
    assert_eq!(v["pagination"]["offset"], 0);
    assert_eq!(v["pagination"]["count"], count);
    for limit in 1..=100 {
        let v = get_ok(&app, &key, &format!("{MANAGE}/services?limit={limit}")).await;
        assert_eq!(v["pagination"]["limit"], limit);
        assert_eq!(v["pagination"]["count"], count);
        assert_eq!(
            v["value"].as_array().unwrap().len() as i64,
            limit.min(count),
            "limit {limit}"
        );
    }

    // Pages of 2 cover the list once; past the end, an empty page with the right count.
    let mut seen = Vec::new();
    let mut offset = 0;
    while offset < count {
        let v = get_ok(
            &app,
            &key,
            &format!("{MANAGE}/services?limit=2&offset={offset}"),
        )
        .await;
        assert_eq!(v["pagination"]["offset"], offset);
        assert_eq!(v["pagination"]["count"], count);
        for s in v["value"].as_array().unwrap() {
            seen.push(s["id"].as_str().unwrap().to_string());
        }
        offset += 2;
    }
    assert_eq!(seen.len() as i64, count);
    let distinct: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(distinct.len(), seen.len(), "a service on two pages");
    assert!(ids.is_subset(&distinct));
    // In the list's order, the late pages (read from the list's end) too.
    let whole = get_ok(&app, &key, &format!("{MANAGE}/services?limit=100")).await;
    let in_order: Vec<String> = whole["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert!((5..=100).contains(&count), "{count}");
    assert_eq!(seen, in_order);
    let v = get_ok(
        &app,
        &key,
        &format!("{MANAGE}/services?offset={}", count + 10),
    )
    .await;
    assert_eq!(v["value"].as_array().unwrap().len(), 0);
    assert_eq!(v["pagination"]["count"], count);

    // A deleted service no longer counts.
    let gone = ids.iter().next().unwrap().clone();
    expect(
        &app,
        &key,
        "DELETE",
        &format!("{MANAGE}/services/{gone}"),
        None,
        204,
    )
    .await;
    let v = get_ok(&app, &key, &format!("{MANAGE}/services")).await;
    assert_eq!(v["pagination"]["count"], count - 1);

    // The history's parameters.
    let id = ids.iter().nth(1).unwrap().clone();
    for (query, name) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=x", "limit"),
        ("order=asc", "order"),
        ("order=UP", "order"),
        ("continuationToken=abc", "continuationToken"),
        ("continuationToken=-5", "continuationToken"),
    ] {
        let (s, v) = call(
            &app,
            &key,
            "GET",
            &format!("{MANAGE}/services/{id}/history?{query}"),
            None,
        )
        .await;
        assert_eq!(s, 400, "history {query}: {v}");
        assert_eq!(invalid_params(&v), vec![name], "history {query}: {v}");
    }
    for query in ["limit=1", "limit=100", "order=ASC", "order=DESC"] {
        let v = get_ok(
            &app,
            &key,
            &format!("{MANAGE}/services/{id}/history?{query}"),
        )
        .await;
        assert_eq!(v["items"].as_array().unwrap().len(), 1, "{query}");
    }
}
