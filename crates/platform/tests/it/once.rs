//! Routes that create, repeated: a form's one-time token or an API's `Idempotency-Key` makes
//! the repeat get the first answer, through the real server and database.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::post;
use platform::routes::{Route, RouteTable};
use testkit::TestApp;
use tokio::sync::Semaphore;

/// How many times the handler ran, and a gate the slow route waits at.
#[derive(Clone)]
struct Seen {
    made: Arc<AtomicUsize>,
    gate: Arc<Semaphore>,
}

async fn app() -> (TestApp, Seen) {
    let seen = Seen {
        made: Arc::new(AtomicUsize::new(0)),
        gate: Arc::new(Semaphore::new(0)),
    };
    let routes: Router<Seen> =
        RouteTable(vec![
        // A form: answers with the way to what it made.
        Route::page(
            "POST",
            "/once/things",
            (),
            post(|axum::extract::State(seen): axum::extract::State<Seen>, body: String| async move {
                if body.contains("name=&") || body.ends_with("name=") {
                    return (StatusCode::BAD_REQUEST, "a name is required").into_response();
                }
                let n = seen.made.fetch_add(1, Ordering::SeqCst) + 1;
                Redirect::to(&format!("/once/things/{n}")).into_response()
            }),
        )
        .creates(),
        // An API: answers 201 with what it made, after the test opens the gate.
        Route::page(
            "POST",
            "/once/slow",
            (),
            post(|axum::extract::State(seen): axum::extract::State<Seen>| async move {
                let _pass = seen.gate.acquire().await;
                let n = seen.made.fetch_add(1, Ordering::SeqCst) + 1;
                (StatusCode::CREATED, axum::Json(serde_json::json!({ "id": n })))
            }),
        )
        .creates(),
        // The same handler, not marked: every request runs.
        Route::page(
            "POST",
            "/once/unmarked",
            (),
            post(|axum::extract::State(seen): axum::extract::State<Seen>| async move {
                seen.made.fetch_add(1, Ordering::SeqCst);
                StatusCode::CREATED
            }),
        ),
    ])
        .router();
    let app = TestApp::spawn_with(testkit::Options {
        routes: Some(routes.with_state(seen.clone())),
        ..Default::default()
    })
    .await;
    (app, seen)
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_form_sent_twice_makes_one_thing_and_both_answers_lead_to_it() {
    let (app, seen) = app().await;
    let client = no_redirects();
    let send = |body: &'static str| {
        client
            .post(app.url("/once/things"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let first = send("name=Client&once=t-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(first.headers()["location"], "/once/things/1");
    // Back and send again, even with other values: the first result, nothing new.
    for body in ["name=Client&once=t-1", "name=Other&once=t-1"] {
        let again = send(body).await.unwrap();
        assert_eq!(again.status(), StatusCode::SEE_OTHER);
        assert_eq!(again.headers()["location"], "/once/things/1");
        assert_eq!(again.headers()["idempotent-replayed"], "true");
    }
    assert_eq!(seen.made.load(Ordering::SeqCst), 1);
    // Another form (another token) makes another thing; no token, no guard.
    assert_eq!(
        send("name=Client&once=t-2").await.unwrap().headers()["location"],
        "/once/things/2"
    );
    assert_eq!(
        send("name=Client").await.unwrap().headers()["location"],
        "/once/things/3"
    );
    // The guard is only on the routes marked as creating.
    for _ in 0..2 {
        let r = client
            .post(app.url("/once/unmarked"))
            .header("idempotency-key", "same")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    assert_eq!(seen.made.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_refused_form_gives_its_token_back_for_the_corrected_one() {
    let (app, seen) = app().await;
    let client = no_redirects();
    let send = |body: &'static str| {
        client
            .post(app.url("/once/things"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let refused = send("name=&once=t-9").await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let corrected = send("name=Client&once=t-9").await.unwrap();
    assert_eq!(corrected.status(), StatusCode::SEE_OTHER);
    assert!(corrected.headers().get("idempotent-replayed").is_none());
    assert_eq!(seen.made.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_api_retry_gets_the_first_answer_and_a_reused_key_is_refused() {
    let (app, seen) = app().await;
    seen.gate.add_permits(100);
    let client = no_redirects();
    let send = |key: &'static str, body: &'static str| {
        client
            .post(app.url("/once/slow"))
            .header("idempotency-key", key)
            .header("authorization", "Bearer script")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let first = send("k-1", r#"{"name":"a"}"#).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: serde_json::Value = first.json().await.unwrap();
    let again = send("k-1", r#"{"name":"a"}"#).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["content-type"], "application/json");
    assert_eq!(again.json::<serde_json::Value>().await.unwrap(), first);
    let reused = send("k-1", r#"{"name":"b"}"#).await.unwrap();
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reused.json::<serde_json::Value>().await.unwrap()["code"],
        "idempotency_key_reused"
    );
    // The same key from another caller is another request.
    let other = client
        .post(app.url("/once/slow"))
        .header("idempotency-key", "k-1")
        .header("authorization", "Bearer another")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::CREATED);
    assert_eq!(seen.made.load(Ordering::SeqCst), 2);
    let bad = client
        .post(app.url("/once/slow"))
        .header("idempotency-key", "é")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_repeat_sent_while_the_first_runs_gets_its_answer() {
    let (app, seen) = app().await;
    let send = || {
        no_redirects()
            .post(app.url("/once/slow"))
            .header("idempotency-key", "k-double-click")
            .send()
    };
    let db = app.db.connect().await;
    let first = tokio::spawn(send());
    // The first holds the key (it waits at the gate) before the second is sent.
    while testkit::demo::count(
        &db,
        "SELECT count(*) FROM once_requests WHERE key = $1",
        "k-double-click",
    )
    .await
        == 0
    {
        tokio::task::yield_now().await;
    }
    let second = tokio::spawn(send());
    // Let the first one through only: the second must not run the handler.
    seen.gate.add_permits(1);
    let first = first.await.unwrap().unwrap();
    let second = second.await.unwrap().unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(
        first.json::<serde_json::Value>().await.unwrap(),
        second.json::<serde_json::Value>().await.unwrap()
    );
    assert_eq!(seen.made.load(Ordering::SeqCst), 1);
}
