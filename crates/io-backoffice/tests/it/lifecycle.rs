//! The lifecycle and publication state machines through the API: every transition of the
//! table is allowed, every other one answers 409 and changes nothing, and the history records
//! each change.

use serde_json::{Value, json};
use testkit::TestApp;

use crate::{
    COMUNE, MANAGE, MARIO, Who, approve, call, create, expect, get_ok, manage_key, operator,
    put_ok, service_payload, status, submit,
};

const REASON: &str = "La descrizione non dice a chi si rivolge il servizio.";

fn path(id: &str, suffix: &str) -> String {
    format!("{MANAGE}/services/{id}{suffix}")
}

async fn refused(app: &TestApp, who: &Who, method: &str, path: &str, body: Option<&Value>) {
    expect(app, who, method, path, body, 409).await;
}

async fn in_review_queue(app: &TestApp, op: &Who, id: &str) -> bool {
    let queue = get_ok(app, op, "/io/api/review?limit=100").await;
    queue["value"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == id)
}

#[tokio::test]
async fn every_transition_is_allowed_or_refused_as_the_table_says() {
    let app = TestApp::spawn().await;
    let key = manage_key(&app, MARIO, COMUNE).await;
    let op = operator(&app).await;
    let review = |id: &str, auto: bool| (path(id, "/review"), json!({ "auto_publish": auto }));

    // create → draft
    let created = expect(
        &app,
        &key,
        "POST",
        &format!("{MANAGE}/services"),
        Some(&service_payload("Servizio del ciclo di vita")),
        201,
    )
    .await;
    assert_eq!(created["status"], json!({ "value": "draft" }));
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().unwrap().to_string();

    // edit: draft → draft
    let mut edit = service_payload("Servizio del ciclo di vita");
    edit["description"] = json!("Una descrizione migliore.");
    let v = put_ok(&app, &key, &path(&id, ""), &edit).await;
    assert_eq!(v["status"]["value"], "draft");
    assert_eq!(v["description"], "Una descrizione migliore.");
    assert!(v["version"].as_i64().unwrap() > 1);

    // Nothing to publish or unpublish yet; the operator cannot decide on a draft.
    refused(&app, &key, "POST", &path(&id, "/release"), None).await;
    refused(&app, &key, "DELETE", &path(&id, "/release"), None).await;
    expect(&app, &key, "GET", &path(&id, "/release"), None, 404).await;
    refused(
        &app,
        &op,
        "POST",
        &format!("/io/api/review/{id}/approve"),
        None,
    )
    .await;
    let reject_body = json!({ "reason": REASON });
    refused(
        &app,
        &op,
        "POST",
        &format!("/io/api/review/{id}/reject"),
        Some(&reject_body),
    )
    .await;

    // submit: draft → submitted; then it is frozen.
    submit(&app, &key, MANAGE, &id, false).await;
    assert_eq!(status(&app, &key, MANAGE, &id).await, "submitted");
    assert!(in_review_queue(&app, &op, &id).await);
    refused(&app, &key, "PUT", &path(&id, ""), Some(&edit)).await;
    refused(&app, &key, "DELETE", &path(&id, ""), None).await;
    let (p, b) = review(&id, false);
    refused(&app, &key, "PUT", &p, Some(&b)).await;
    refused(&app, &key, "POST", &path(&id, "/release"), None).await;
    assert_eq!(status(&app, &key, MANAGE, &id).await, "submitted");

    // reject: submitted → rejected, with the reason the institution reads.
    expect(
        &app,
        &op,
        "POST",
        &format!("/io/api/review/{id}/reject"),
        Some(&json!({ "reason": "" })),
        400,
    )
    .await;
    expect(
        &app,
        &op,
        "POST",
        &format!("/io/api/review/{id}/reject"),
        Some(&reject_body),
        204,
    )
    .await;
    let v = get_ok(&app, &key, &path(&id, "")).await;
    assert_eq!(
        v["status"],
        json!({ "value": "rejected", "reason": REASON })
    );
    assert!(!in_review_queue(&app, &op, &id).await);
    // A decision is taken once; a rejected service is changed before it goes back.
    refused(
        &app,
        &op,
        "POST",
        &format!("/io/api/review/{id}/approve"),
        None,
    )
    .await;
    refused(
        &app,
        &op,
        "POST",
        &format!("/io/api/review/{id}/reject"),
        Some(&reject_body),
    )
    .await;
    refused(&app, &key, "PUT", &p, Some(&b)).await;
    refused(&app, &key, "POST", &path(&id, "/release"), None).await;

    // edit: rejected → draft (the reason goes with the rejection).
    edit["description"] = json!("Per i residenti del Comune: avvisi e scadenze.");
    let v = put_ok(&app, &key, &path(&id, ""), &edit).await;
    assert_eq!(v["status"], json!({ "value": "draft" }));

    // submit, approve: submitted → approved. Approval alone does not publish.
    submit(&app, &key, MANAGE, &id, false).await;
    approve(&app, &op, &id).await;
    assert_eq!(status(&app, &key, MANAGE, &id).await, "approved");
    refused(
        &app,
        &op,
        "POST",
        &format!("/io/api/review/{id}/approve"),
        None,
    )
    .await;
    refused(&app, &key, "PUT", &p, Some(&b)).await;
    expect(&app, &key, "GET", &path(&id, "/release"), None, 404).await;
    refused(&app, &key, "DELETE", &path(&id, "/release"), None).await;

    // release after the approval: published, once.
    expect(&app, &key, "POST", &path(&id, "/release"), None, 204).await;
    refused(&app, &key, "POST", &path(&id, "/release"), None).await;
    let published = get_ok(&app, &key, &path(&id, "/release")).await;
    assert_eq!(published["status"], "published");
    assert_eq!(published["name"], "Servizio del ciclo di vita");

    // edit: approved → draft; the published version stays as it was.
    edit["name"] = json!("Servizio del ciclo di vita, nuovo nome");
    let v = put_ok(&app, &key, &path(&id, ""), &edit).await;
    assert_eq!(v["status"]["value"], "draft");
    let still = get_ok(&app, &key, &path(&id, "/release")).await;
    assert_eq!(still["status"], "published");
    assert_eq!(still["name"], "Servizio del ciclo di vita");

    // unpublish, once; then publish the last approved version again.
    expect(&app, &key, "DELETE", &path(&id, "/release"), None, 204).await;
    let v = get_ok(&app, &key, &path(&id, "/release")).await;
    assert_eq!(v["status"], "unpublished");
    refused(&app, &key, "DELETE", &path(&id, "/release"), None).await;
    expect(&app, &key, "POST", &path(&id, "/release"), None, 204).await;
    let v = get_ok(&app, &key, &path(&id, "/release")).await;
    assert_eq!(v["status"], "published");
    assert_eq!(
        v["name"], "Servizio del ciclo di vita",
        "the last approved version, not the draft"
    );

    check_history(&app, &key, &id).await;

    // delete (from draft): then it is gone for every call.
    expect(&app, &key, "DELETE", &path(&id, ""), None, 204).await;
    for (method, suffix) in [
        ("GET", ""),
        ("DELETE", ""),
        ("GET", "/release"),
        ("POST", "/release"),
        ("DELETE", "/release"),
        ("GET", "/history"),
        ("GET", "/keys"),
    ] {
        expect(&app, &key, method, &path(&id, suffix), None, 404).await;
    }
    expect(&app, &key, "PUT", &path(&id, ""), Some(&edit), 404).await;
    expect(&app, &key, "PUT", &p, Some(&b), 404).await;
    expect(
        &app,
        &op,
        "POST",
        &format!("/io/api/review/{id}/approve"),
        None,
        404,
    )
    .await;
    let list = get_ok(&app, &key, &format!("{MANAGE}/services?limit=100")).await;
    assert!(
        !list["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == id.as_str())
    );

    // auto_publish: published at approval.
    let auto = create(&app, &key, MANAGE, "Servizio pubblicato da solo").await;
    submit(&app, &key, MANAGE, &auto, true).await;
    expect(&app, &key, "GET", &path(&auto, "/release"), None, 404).await;
    approve(&app, &op, &auto).await;
    assert_eq!(status(&app, &key, MANAGE, &auto).await, "approved");
    let v = get_ok(&app, &key, &path(&auto, "/release")).await;
    assert_eq!(v["status"], "published");
    refused(&app, &key, "POST", &path(&auto, "/release"), None).await;

    // delete: approved → deleted (taking it off the app, its keys stop working).
    let keys = get_ok(&app, &key, &path(&auto, "/keys")).await;
    let service_key = Who::Key(keys["primary_key"].as_str().unwrap().to_string());
    let service_api = format!("/api/v1/services/{auto}");
    get_ok(&app, &service_key, &service_api).await;
    expect(&app, &key, "DELETE", &path(&auto, ""), None, 204).await;
    expect(&app, &key, "GET", &path(&auto, ""), None, 404).await;
    let (s, _) = call(&app, &service_key, "GET", &service_api, None).await;
    assert_eq!(s, 401);

    // delete: rejected → deleted.
    let rejected = create(&app, &key, MANAGE, "Servizio respinto").await;
    submit(&app, &key, MANAGE, &rejected, false).await;
    expect(
        &app,
        &op,
        "POST",
        &format!("/io/api/review/{rejected}/reject"),
        Some(&reject_body),
        204,
    )
    .await;
    expect(&app, &key, "DELETE", &path(&rejected, ""), None, 204).await;
    expect(&app, &key, "GET", &path(&rejected, ""), None, 404).await;
}

/// Every change of the first service, oldest first (the refused attempts left no trace).
const EXPECTED_HISTORY: &[(&str, &str)] = &[
    ("lifecycle", "draft"),       // create
    ("lifecycle", "draft"),       // edit
    ("lifecycle", "submitted"),   // submit
    ("lifecycle", "rejected"),    // reject
    ("lifecycle", "draft"),       // edit
    ("lifecycle", "submitted"),   // submit
    ("lifecycle", "approved"),    // approve
    ("publication", "published"), // release
    ("lifecycle", "draft"),       // edit
    ("publication", "unpublished"),
    ("publication", "published"),
];

fn kinds(items: &[Value]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|i| {
            (
                i["status"]["kind"].as_str().unwrap().to_string(),
                i["status"]["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn check_history(app: &TestApp, key: &Who, id: &str) {
    let expected: Vec<(String, String)> = EXPECTED_HISTORY
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let n = expected.len();
    let history = |q: String| {
        let p = path(id, &format!("/history{q}"));
        async move { get_ok(app, key, &p).await }
    };

    // ASC: all of it in one page of exactly its size, with no continuation.
    let asc = history(format!("?order=ASC&limit={n}")).await;
    assert!(asc.get("continuationToken").is_none(), "{asc}");
    let items = asc["items"].as_array().unwrap().clone();
    assert_eq!(kinds(&items), expected);
    let versions: Vec<i64> = items
        .iter()
        .map(|i| i["version"].as_i64().unwrap())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert_eq!(items[3]["status"]["reason"], REASON);
    assert_eq!(items[0]["id"], id);
    assert_eq!(
        items[8]["name"], "Servizio del ciclo di vita, nuovo nome",
        "each record has the data of its version"
    );

    // DESC is the default, and the reverse.
    let desc = history(String::new()).await;
    let mut reversed = expected.clone();
    reversed.reverse();
    let first_page = kinds(desc["items"].as_array().unwrap());
    assert_eq!(first_page, reversed[..10].to_vec(), "default limit is 10");
    assert!(desc["continuationToken"].is_string());

    // Paging by 3 with the continuation token, both ways, finds every record once.
    for (order, want) in [("ASC", &expected), ("DESC", &reversed)] {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let q = match &token {
                Some(t) => format!("?order={order}&limit=3&continuationToken={t}"),
                None => format!("?order={order}&limit=3"),
            };
            let page = history(q).await;
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 3);
            all.extend(kinds(items));
            pages += 1;
            match page["continuationToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
            assert!(pages < 10, "paging does not end");
        }
        assert_eq!(&all, want, "{order}");
        assert_eq!(pages, n.div_ceil(3), "{order}");
    }
}
