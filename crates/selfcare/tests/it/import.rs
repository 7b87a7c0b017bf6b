//! The import from the legacy Developer Portal, end to end over HTTP: the portal is the real
//! `devportal` service (in this process or beside it), the back-office the real app; faults are
//! made by a real proxy between them (errors, timeouts) or by stopping the portal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use testkit::Fetch;
use testkit::{AppProcess, Options, TestApp, TestDb};

use crate::bin;

use testkit::demo::{ANNA, GIULIA, MARIO};

/// The demo institutions, as the Reserved Area names them.
pub const COMUNE_NAME: &str = "Comune di Roccabella";
pub const REGIONE_NAME: &str = "Regione Valdoro";
const KEY: &str = "test-migration-key-0123456789";

// ---- sessions ----

/// A back-office bearer token of `fiscal_code` for the institution named `institution`, at
/// `base` (the app in this process or a process).
pub async fn bo_token(base: &str, fiscal_code: &str, institution: &str) -> String {
    let c = testkit::client();
    let r: Value = c
        .post(format!("{base}/auth/test-idp/token"))
        .json(&json!({ "fiscal_number": fiscal_code }))
        .fetch_json()
        .await;
    let session = r["sessionToken"].as_str().unwrap().to_string();
    let list: Value = c
        .get(format!("{base}/v2/institutions"))
        .bearer_auth(&session)
        .fetch_json()
        .await;
    let id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == institution)
        .unwrap_or_else(|| panic!("{fiscal_code} has no {institution}: {list}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r: Value = c
        .get(format!(
            "{base}/v2/token/exchange?institutionId={id}&productId=prod-io"
        ))
        .bearer_auth(&session)
        .fetch_json()
        .await;
    let r: Value = c
        .post(format!("{base}/io/api/session"))
        .json(&json!({ "identity_token": r["token"] }))
        .fetch_json()
        .await;
    r["token"].as_str().unwrap().to_string()
}

/// `method path` with the bearer token; the status and the JSON body (`Null` when none).
pub async fn call(base: &str, token: &str, method: &str, path: &str) -> (u16, Value) {
    let url = format!("{base}{path}");
    let r = testkit::api::request(&testkit::client(), token, method, url, None);
    let (status, v) = testkit::api::send(r).await;
    (status.as_u16(), v)
}

/// Like [`call`], asserting the status; the body.
pub async fn expect(base: &str, token: &str, method: &str, path: &str, status: u16) -> Value {
    let (got, v) = call(base, token, method, path).await;
    assert_eq!(got, status, "{method} {path}: {v}");
    v
}

const CLAIMS: &str = "/io/api/services/migrations/ownership-claims";

/// The counts of a delegate's import.
async fn counts(base: &str, token: &str, delegate: &str) -> Value {
    expect(base, token, "GET", &format!("{CLAIMS}/{delegate}"), 200).await["status"].clone()
}

/// Waits until nothing of the delegate's import is waiting or running; its final counts.
async fn settled(base: &str, token: &str, delegate: &str, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let c = counts(base, token, delegate).await;
        if c["initial"] == 0 && c["processing"] == 0 {
            return c;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the import of {delegate} did not settle: {c}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn start(base: &str, token: &str, delegate: &str) {
    expect(base, token, "POST", &format!("{CLAIMS}/{delegate}"), 202).await;
}

/// The delegates the back-office shows the admin, by "Surname Name".
async fn delegates(base: &str, token: &str) -> Vec<(String, String, i64)> {
    let v = expect(
        base,
        token,
        "GET",
        "/io/api/services/migrations/delegates",
        200,
    )
    .await;
    v["delegates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                format!(
                    "{} {}",
                    d["sourceSurname"].as_str().unwrap(),
                    d["sourceName"].as_str().unwrap()
                ),
                d["sourceId"].as_str().unwrap().to_string(),
                d["subscriptionCounter"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn id_of(list: &[(String, String, i64)], name: &str) -> String {
    list.iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("{name} not in {list:?}"))
        .1
        .clone()
}

// ---- the portal's side, read directly ----

/// `(id, name, primary, secondary)` of the pending services of `fc` on the portal.
async fn pending_on_portal(
    db: &platform::db::Db,
    fc: &str,
) -> Vec<(String, String, String, String)> {
    use sqlx::Row;
    sqlx::query(
        "SELECT id, name, primary_key, secondary_key FROM dp_services \
         WHERE organization_fiscal_code = $1 AND transferred_at IS NULL ORDER BY id",
    )
    .bind(fc)
    .fetch_all(db.reader())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.get("id"),
            r.get("name"),
            r.get("primary_key"),
            r.get("secondary_key"),
        )
    })
    .collect()
}

async fn scalar(db: &platform::db::Db, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A valid legacy service of the Comune.
fn legacy(name: &str) -> devportal::model::LegacyService {
    serde_json::from_value(json!({
        "name": name,
        "description": "Un servizio del Comune portato dal vecchio portale.",
        "organization": { "name": "Comune di Roccabella", "fiscal_code": testkit::demo::COMUNE },
        "metadata": {
            "scope": "LOCAL",
            "privacy_url": "https://www.comune.roccabella.it/privacy",
            "email": "servizi@comune.roccabella.it"
        }
    }))
    .unwrap()
}

/// A portal of the test's own on a fresh database, with `delegates` delegates of
/// `per_delegate` services each for the Comune. Its database and the running portal.
async fn own_portal(
    delegates: usize,
    per_delegate: usize,
    listen: Option<SocketAddr>,
) -> (TestDb, devportal::DevPortal) {
    let db = TestDb::new().await;
    let portal_db = devportal::open_db(db.url(), &Default::default())
        .await
        .unwrap();
    let hash = devportal::store::hash_password("una-password-lunga")
        .await
        .unwrap();
    for d in 0..delegates {
        let id = devportal::store::add_delegate(
            &portal_db,
            &format!("delegato{d}@example.it"),
            &format!("Nome{d}"),
            &format!("Cognome{d:04}"),
            &hash,
        )
        .await
        .unwrap();
        for s in 0..per_delegate {
            let visibility = match s % 3 {
                0 => devportal::model::Visibility::Visible,
                1 => devportal::model::Visibility::VisibleOnce,
                _ => devportal::model::Visibility::NeverVisible,
            };
            devportal::store::add_service(
                &portal_db,
                &id,
                &legacy(&format!("Servizio {d}-{s}")),
                visibility,
            )
            .await
            .unwrap();
        }
    }
    let portal = start_portal(portal_db, listen).await;
    (db, portal)
}

async fn start_portal(db: platform::db::Db, listen: Option<SocketAddr>) -> devportal::DevPortal {
    let settings = devportal::Settings {
        listen: listen.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap()),
        migration_api_key: Some(KEY.into()),
        ..Default::default()
    };
    devportal::DevPortal::start(&settings, db).await.unwrap()
}

// ---- a proxy that makes faults ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Pass everything through.
    None,
    /// Answer 500 to every write (freeze, transfer).
    Fail500,
    /// Answer writes only after `ms` (longer than the back-office's timeout).
    Hang(u64),
    /// Pass writes through after `ms`.
    Slow(u64),
}

pub struct ProxyState {
    upstream: String,
    fault: std::sync::Mutex<Fault>,
    writes: AtomicU64,
    http: reqwest::Client,
}

/// A real HTTP proxy in front of the portal that can fail on demand.
pub struct Proxy {
    pub url: String,
    state: Arc<ProxyState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

async fn forward(
    State(s): State<Arc<ProxyState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = *s.fault.lock().unwrap();
    if method == Method::POST {
        s.writes.fetch_add(1, Ordering::SeqCst);
        match fault {
            Fault::Fail500 => {
                return (StatusCode::INTERNAL_SERVER_ERROR, "injected failure").into_response();
            }
            Fault::Hang(ms) | Fault::Slow(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Fault::None => {}
        }
    }
    let mut r = s.http.request(
        method,
        format!(
            "{}{}",
            s.upstream,
            uri.path_and_query().map_or("", |p| p.as_str())
        ),
    );
    if let Some(k) = headers.get("x-functions-key") {
        r = r.header("x-functions-key", k);
    }
    match r.body(body).send().await {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let bytes = answer.bytes().await.unwrap_or_default();
            (status, [("content-type", "application/json")], bytes).into_response()
        }
        Err(_) => (StatusCode::BAD_GATEWAY, "portal unreachable").into_response(),
    }
}

impl Proxy {
    pub async fn start(upstream: &str, listen: Option<SocketAddr>) -> Proxy {
        let state = Arc::new(ProxyState {
            upstream: upstream.trim_end_matches('/').to_string(),
            fault: std::sync::Mutex::new(Fault::None),
            writes: AtomicU64::new(0),
            http: reqwest::Client::new(),
        });
        Self::serve(
            state,
            listen.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap()),
        )
        .await
    }

    async fn serve(state: Arc<ProxyState>, listen: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Proxy {
            url: format!("http://{addr}"),
            state,
            stop: Some(tx),
            task,
        }
    }

    pub fn set(&self, fault: Fault) {
        *self.state.fault.lock().unwrap() = fault;
    }

    pub fn writes(&self) -> u64 {
        self.state.writes.load(Ordering::SeqCst)
    }

    fn addr(&self) -> SocketAddr {
        self.url.trim_start_matches("http://").parse().unwrap()
    }

    /// Stops listening, as a stopped process does: new connections are refused.
    pub async fn stop(mut self) -> (Arc<ProxyState>, SocketAddr) {
        let addr = self.addr();
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
        (self.state.clone(), addr)
    }

    /// Listens again on the same address.
    pub async fn restart(state: Arc<ProxyState>, addr: SocketAddr) -> Proxy {
        Self::serve(state, addr).await
    }
}

/// A test app (demo data) whose import talks to `portal_url`, with fast retries.
async fn app_with_portal(portal_url: &str, max_attempts: u32, timeout_ms: u64) -> TestApp {
    let url = portal_url.to_string();
    TestApp::spawn_with(Options {
        settings: Some(Box::new(move |s| {
            s.io.import.devportal_url = Some(url);
            s.io.import.devportal_api_key = Some(KEY.into());
            s.io.import.retry_base_ms = 50;
            s.io.import.retry_max_ms = 200;
            s.io.import.max_attempts = max_attempts;
            s.io.import.request_timeout_ms = timeout_ms;
            s.io.import.workers = 4;
        })),
        ..Default::default()
    })
    .await
}

// ---- the tests ----

#[tokio::test]
async fn import_lists_by_the_rules_maps_states_keeps_keys_and_runs_once() {
    let app = TestApp::spawn().await;
    let portal = app.app().devportal().expect("the demo starts a portal");
    let portal_db = portal.db().clone();
    let admin = bo_token(&app.url, MARIO, COMUNE_NAME).await;

    // The demo's delegates, as the spec's rules give them for the Comune: Giovanni Verdi (3:
    // the "deleted" service does not count) and Laura Neri (1: her Regione service does not);
    // Franco Gialli has nothing of the Comune.
    let list = delegates(&app.url, &admin).await;
    let names: Vec<(&str, i64)> = list.iter().map(|(n, _, c)| (n.as_str(), *c)).collect();
    assert_eq!(names, vec![("Neri Laura", 1), ("Verdi Giovanni", 3)]);
    // The Regione sees only Laura, for its own service.
    let regione = bo_token(&app.url, GIULIA, REGIONE_NAME).await;
    let theirs = delegates(&app.url, &regione).await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!((theirs[0].0.as_str(), theirs[0].2), ("Neri Laura", 1));
    // Operators cannot import.
    let operator = bo_token(&app.url, ANNA, COMUNE_NAME).await;
    expect(
        &app.url,
        &operator,
        "GET",
        "/io/api/services/migrations/delegates",
        403,
    )
    .await;
    let giovanni = id_of(&list, "Verdi Giovanni");
    let laura = id_of(&list, "Neri Laura");
    expect(
        &app.url,
        &operator,
        "POST",
        &format!("{CLAIMS}/{giovanni}"),
        403,
    )
    .await;
    // Nothing asked yet: no status.
    expect(
        &app.url,
        &admin,
        "GET",
        &format!("{CLAIMS}/{giovanni}"),
        404,
    )
    .await;

    // The keys as the delegate knows them, before the import.
    let before = pending_on_portal(&portal_db, testkit::demo::COMUNE).await;
    assert_eq!(before.len(), 5, "{before:?}");

    // Two starts at once for Giovanni (two admins, or a double click): both 202, one item each.
    tokio::join!(
        start(&app.url, &admin, &giovanni),
        start(&app.url, &admin, &giovanni)
    );
    let db = app.db.connect().await;
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM io_import_items").await,
        3,
        "one item per service, whatever the number of starts"
    );
    let done = settled(&app.url, &admin, &giovanni, Duration::from_secs(30)).await;
    assert_eq!(
        done,
        json!({"initial": 0, "processing": 0, "failed": 0, "completed": 3})
    );
    // A start while nothing is left adds nothing.
    start(&app.url, &admin, &giovanni).await;
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM io_import_items").await, 3);

    // The legacy states, mapped: visible → approved + published; visible once → approved +
    // unpublished; never visible → draft.
    let (_, services) = call(&app.url, &admin, "GET", "/io/api/services?limit=100").await;
    let by_name = |name: &str| -> Value {
        services["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name} not imported: {services}"))
            .clone()
    };
    let release = |svc: &Value| {
        let id = svc["id"].as_str().unwrap().to_string();
        let (base, admin) = (app.url.clone(), admin.clone());
        async move {
            call(
                &base,
                &admin,
                "GET",
                &format!("/io/api/services/{id}/release"),
            )
            .await
        }
    };
    let tari = by_name("Tari - Tassa sui rifiuti");
    assert_eq!(tari["status"]["value"], "approved");
    let (status, published) = release(&tari).await;
    assert_eq!(
        (status, &published["status"]),
        (200, &json!("published")),
        "{published}"
    );
    let demografici = by_name("Servizi demografici");
    assert_eq!(demografici["status"]["value"], "approved");
    let (status, unpublished) = release(&demografici).await;
    assert_eq!(
        (status, &unpublished["status"]),
        (200, &json!("unpublished"))
    );
    let sale = by_name("Prenotazione sale comunali");
    assert_eq!(sale["status"]["value"], "draft");
    assert_eq!(release(&sale).await.0, 404, "never published");

    // Same ids, same keys: the key the delegate had still works on the service API.
    for (id, name, primary, secondary) in &before {
        if name.contains("deleted") || name.contains("Polizia") {
            continue;
        }
        let (status, keys) = call(
            &app.url,
            &admin,
            "GET",
            &format!("/io/api/services/{id}/keys"),
        )
        .await;
        assert_eq!(status, 200, "{name}: {keys}");
        assert_eq!(
            keys["primary_key"].as_str(),
            Some(primary.as_str()),
            "{name}"
        );
        assert_eq!(
            keys["secondary_key"].as_str(),
            Some(secondary.as_str()),
            "{name}"
        );
    }
    let (tari_id, _, tari_key, _) = before
        .iter()
        .find(|(_, n, _, _)| n.starts_with("Tari"))
        .unwrap();
    let read = testkit::client()
        .get(app.url(&format!("/api/v1/services/{tari_id}")))
        .header("Ocp-Apim-Subscription-Key", tari_key)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);

    // Gone from the portal, but for the "deleted" one; one audit record per import.
    let left: Vec<String> = pending_on_portal(&portal_db, testkit::demo::COMUNE)
        .await
        .into_iter()
        .map(|(_, n, _, _)| n)
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().any(|n| n.contains("deleted")));
    assert!(left.iter().any(|n| n.contains("Polizia")));
    assert_eq!(
        platform::audit::count(db.reader(), "io.service.imported")
            .await
            .unwrap(),
        3
    );
    let after = delegates(&app.url, &admin).await;
    assert_eq!(
        after
            .iter()
            .find(|(n, _, _)| n == "Verdi Giovanni")
            .unwrap()
            .2,
        0,
        "{after:?}"
    );

    // Laura: only the Comune's service arrives; her Regione service stays hers.
    start(&app.url, &admin, &laura).await;
    settled(&app.url, &admin, &laura, Duration::from_secs(30)).await;
    let regione_left = pending_on_portal(&portal_db, "80001234568").await;
    assert_eq!(regione_left.len(), 1, "{regione_left:?}");
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM io_services WHERE source IS NOT NULL"
        )
        .await,
        4
    );

    // The latest imports, newest first, in the spec's shape.
    let (status, latest) = call(
        &app.url,
        &admin,
        "GET",
        "/io/api/services/migrations/ownership-claims/latest",
    )
    .await;
    assert_eq!(status, 200);
    let items = latest["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{latest}");
    assert_eq!(items[0]["delegate"]["sourceId"], laura.as_str());
    assert_eq!(items[0]["delegate"]["sourceEmail"], "laura.neri@example.it");
    assert_eq!(
        items[1]["status"],
        json!({"initial": 0, "processing": 0, "failed": 0, "completed": 3})
    );
    assert!(items[1]["lastUpdate"].as_str().unwrap().ends_with('Z'));
    // The Regione has imported nothing.
    let (_, theirs) = call(
        &app.url,
        &regione,
        "GET",
        "/io/api/services/migrations/ownership-claims/latest",
    )
    .await;
    assert_eq!(theirs["items"], json!([]));
    db.close().await;
}

#[tokio::test]
async fn an_edit_in_the_back_office_survives_a_retry_of_its_import_item() {
    let app = TestApp::spawn().await;
    let admin = bo_token(&app.url, MARIO, COMUNE_NAME).await;
    let giovanni = id_of(&delegates(&app.url, &admin).await, "Verdi Giovanni");
    start(&app.url, &admin, &giovanni).await;
    settled(&app.url, &admin, &giovanni, Duration::from_secs(30)).await;

    let db = app.db.connect().await;
    let id: String = sqlx::query_scalar(
        "SELECT service_id FROM io_import_items WHERE service_name = 'Prenotazione sale comunali'",
    )
    .fetch_one(db.reader())
    .await
    .unwrap();
    let (_, mut svc) = call(&app.url, &admin, "GET", &format!("/io/api/services/{id}")).await;
    svc["description"] = json!("Descrizione cambiata nel back-office dopo l'importazione.");
    svc["metadata"]["topic_id"] = json!(3);
    let path = format!("/io/api/services/{id}");
    let (status, v) = testkit::api::call(&app, &admin, "PUT", &path, Some(&svc)).await;
    assert_eq!(status, 200, "{v}");

    // The item runs again, as after a crash between the copy and its completion: freeze and
    // transfer answer as before, and the copy finds the service already there.
    sqlx::query(
        "UPDATE io_import_items SET status = 'initial', attempts = 0, lease_until = NULL \
         WHERE service_id = $1",
    )
    .bind(&id)
    .execute(db.writer())
    .await
    .unwrap();
    let done = settled(&app.url, &admin, &giovanni, Duration::from_secs(30)).await;
    assert_eq!(done["completed"], 3, "{done}");
    let attempts: i64 =
        sqlx::query_scalar("SELECT attempts FROM io_import_items WHERE service_id = $1")
            .bind(&id)
            .fetch_one(db.reader())
            .await
            .unwrap();
    assert_eq!(attempts, 1, "the item ran again");
    let (_, again) = call(&app.url, &admin, "GET", &format!("/io/api/services/{id}")).await;
    assert_eq!(
        again["description"],
        "Descrizione cambiata nel back-office dopo l'importazione."
    );
    assert_eq!(
        platform::audit::count(db.reader(), "io.service.imported")
            .await
            .unwrap(),
        3,
        "no second copy"
    );
    db.close().await;
}

#[tokio::test]
async fn a_failing_portal_is_retried_and_failures_end_failed_with_their_reason() {
    const N: usize = 12;
    let (portal_db_handle, portal) = own_portal(1, N, None).await;
    let portal_db = portal.db().clone();
    let proxy = Proxy::start(&portal.url(), None).await;
    let app = app_with_portal(&proxy.url, 3, 400).await;
    let admin = bo_token(&app.url, MARIO, COMUNE_NAME).await;
    let delegate = id_of(&delegates(&app.url, &admin).await, "Cognome0000 Nome0");
    let db = app.db.connect().await;

    // 1. Errors for a while: every write answers 500, so each item is tried three times and
    //    ends FAILED with the reason.
    proxy.set(Fault::Fail500);
    start(&app.url, &admin, &delegate).await;
    let c = settled(&app.url, &admin, &delegate, Duration::from_secs(30)).await;
    assert_eq!(c["failed"], N as i64, "{c}");
    assert!(
        proxy.writes() >= (3 * N) as u64,
        "{} writes",
        proxy.writes()
    );
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT error FROM io_import_items WHERE status = 'failed'")
            .fetch_all(db.reader())
            .await
            .unwrap();
    assert!(reasons.iter().all(|r| r.contains("500")), "{reasons:?}");
    // The page shows them, with the reason, and offers to retry.
    let page = testkit::client()
        .get(app.url("/io"))
        .bearer_auth(&admin)
        .fetch_text()
        .await;
    assert!(page.contains("import-failed"), "{page}");
    assert!(page.contains("answered 500"));

    // 2. Timeouts: the portal answers later than the back-office waits.
    proxy.set(Fault::Hang(1_500));
    start(&app.url, &admin, &delegate).await;
    let c = settled(&app.url, &admin, &delegate, Duration::from_secs(60)).await;
    assert_eq!(c["failed"], N as i64, "{c}");
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT error FROM io_import_items WHERE status = 'failed'")
            .fetch_all(db.reader())
            .await
            .unwrap();
    assert!(
        reasons.iter().all(|r| r.contains("did not answer in time")),
        "{reasons:?}"
    );

    // 3. The portal's process stopped: connections refused.
    proxy.set(Fault::None);
    let (state, addr) = proxy.stop().await;
    let (status, _) = call(
        &app.url,
        &admin,
        "POST",
        &format!("/io/api/services/migrations/ownership-claims/{delegate}"),
    )
    .await;
    assert_eq!(status, 502, "starting needs the portal, and says so");
    // Retry from the page while it is down, then bring it back before the attempts run out:
    // the retries complete the items.
    sqlx::query(
        "UPDATE io_import_items SET status = 'initial', attempts = 0, next_attempt_at = 0 \
         WHERE status = 'failed'",
    )
    .execute(db.writer())
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let proxy = Proxy::restart(state, addr).await;
    let c = settled(&app.url, &admin, &delegate, Duration::from_secs(30)).await;
    // Items that ran out of attempts while it was down are retried from the page.
    if c["failed"] != 0 {
        start(&app.url, &admin, &delegate).await;
    }
    let c = settled(&app.url, &admin, &delegate, Duration::from_secs(30)).await;
    assert_eq!(
        c,
        json!({"initial": 0, "processing": 0, "failed": 0, "completed": N as i64})
    );

    // In the end: one row per service in the back-office, one transfer per service on the
    // portal, nothing missing, one audit record per service.
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM io_services WHERE source IS NOT NULL"
        )
        .await,
        N as i64
    );
    assert_eq!(
        scalar(
            &portal_db,
            "SELECT COUNT(*) FROM dp_services WHERE transferred_at IS NOT NULL"
        )
        .await,
        N as i64
    );
    assert_eq!(
        scalar(&portal_db, "SELECT COUNT(*) FROM dp_services").await,
        N as i64
    );
    assert!(
        pending_on_portal(&portal_db, testkit::demo::COMUNE)
            .await
            .is_empty()
    );
    assert_eq!(
        platform::audit::count(db.reader(), "io.service.imported")
            .await
            .unwrap(),
        N as i64
    );
    let _ = proxy.stop().await;
    db.close().await;
    portal.stop().await;
    drop(portal_db_handle);
}

#[tokio::test]
async fn transient_errors_are_retried_until_the_items_complete() {
    const N: usize = 6;
    let (_portal_db, portal) = own_portal(1, N, None).await;
    let proxy = Proxy::start(&portal.url(), None).await;
    let app = app_with_portal(&proxy.url, 8, 2_000).await;
    let admin = bo_token(&app.url, MARIO, COMUNE_NAME).await;
    let delegate = id_of(&delegates(&app.url, &admin).await, "Cognome0000 Nome0");
    proxy.set(Fault::Fail500);
    start(&app.url, &admin, &delegate).await;
    // Let every item fail once or twice, then heal the portal.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while proxy.writes() < (2 * N) as u64 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proxy.set(Fault::None);
    let c = settled(&app.url, &admin, &delegate, Duration::from_secs(30)).await;
    assert_eq!(
        c,
        json!({"initial": 0, "processing": 0, "failed": 0, "completed": N as i64})
    );
    let db = app.db.connect().await;
    assert!(
        scalar(&db, "SELECT MIN(attempts) FROM io_import_items").await >= 2,
        "the items were retried"
    );
    db.close().await;
    let _ = proxy.stop().await;
    portal.stop().await;
}

// ---- processes ----

/// The demo as a process, on `data_dir` (and on the test database when it is PostgreSQL),
/// importing from `portal_url`.
async fn demo_process(data_dir: &std::path::Path, db: &TestDb, portal_url: &str) -> AppProcess {
    let data = data_dir.display().to_string();
    // Instances of one installation share their keys.
    let signing = testkit::test_signing_key().display().to_string();
    let master = testkit::test_master_key().display().to_string();
    let mut env = vec![
        ("SELFCARE_SIGNING__KEY_FILES", signing),
        ("SELFCARE_IO__MASTER_KEY_FILES", master),
        ("SELFCARE_IO__IMPORT__DEVPORTAL_URL", portal_url.to_string()),
        ("SELFCARE_IO__IMPORT__DEVPORTAL_API_KEY", KEY.to_string()),
        ("SELFCARE_IO__IMPORT__WORKERS", "4".to_string()),
        // Short, so that a restart takes over the items of a killed process soon; long enough
        // that a worker on a busy machine (a debug build beside the browser tests) finishes its
        // batch within its lease, else others retake and redo it and the import thrashes.
        ("SELFCARE_IO__IMPORT__LEASE_MS", "5000".to_string()),
        ("SELFCARE_IO__IMPORT__POLL_INTERVAL_MS", "100".to_string()),
        ("SELFCARE_IO__IMPORT__RETRY_BASE_MS", "100".to_string()),
        (
            "SELFCARE_LOG__LEVEL",
            "warn,io_backoffice::import=info".to_string(),
        ),
    ];
    if db.is_postgres() {
        env.push(("SELFCARE_DATABASE__URL", db.url().to_string()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    AppProcess::start(
        bin(),
        &[
            "demo",
            "--data-dir",
            &data,
            "--listen",
            "127.0.0.1:0",
            "--devportal-listen",
            "127.0.0.1:0",
        ],
        &env,
    )
    .await
}

/// The import's items counted by state, attempts and error: what a stalled import left.
async fn items_by_state(db: &platform::db::Db) -> String {
    let rows: Vec<(String, i64, Option<String>, i64)> = sqlx::query_as(
        "SELECT status, attempts, error, COUNT(*) FROM io_import_items \
         GROUP BY status, attempts, error ORDER BY status, attempts",
    )
    .fetch_all(db.reader())
    .await
    .unwrap();
    rows.iter()
        .map(|(s, a, e, n)| {
            format!(
                "{n} {s} after {a} attempts ({})",
                e.as_deref().unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The main database of a demo process.
async fn demo_db(data_dir: &std::path::Path, db: &TestDb) -> platform::db::Db {
    if db.is_postgres() {
        db.connect().await
    } else {
        platform::db::Db::connect(
            &format!("sqlite://{}", data_dir.join("selfcare.db").display()),
            &Default::default(),
        )
        .await
        .unwrap()
    }
}

/// Starts the import of every delegate of the Comune; their ids.
async fn start_all(base: &str, token: &str) -> Vec<String> {
    let list = delegates(base, token).await;
    for (_, id, _) in &list {
        start(base, token, id).await;
    }
    list.into_iter().map(|(_, id, _)| id).collect()
}

/// Checks the end state: every service of the portal imported exactly once with its keys,
/// none left on the portal.
async fn assert_imported_once(
    main: &platform::db::Db,
    portal_db: &platform::db::Db,
    before: &[(String, String, String, String)],
) {
    assert_eq!(
        scalar(
            main,
            "SELECT COUNT(*) FROM io_services WHERE source IS NOT NULL"
        )
        .await,
        before.len() as i64
    );
    assert_eq!(
        platform::audit::count(main.reader(), "io.service.imported")
            .await
            .unwrap(),
        before.len() as i64,
        "one copy per service"
    );
    for (id, name, primary, secondary) in before {
        let hashes: Vec<(String, String)> = sqlx::query_as(
            "SELECT key_type, key_hash FROM io_api_keys WHERE subscription_id = $1 ORDER BY key_type",
        )
        .bind(id)
        .fetch_all(main.reader())
        .await
        .unwrap();
        assert_eq!(
            hashes,
            vec![
                (
                    "primary".to_string(),
                    io_backoffice::secrets::hash_key(primary)
                ),
                (
                    "secondary".to_string(),
                    io_backoffice::secrets::hash_key(secondary)
                ),
            ],
            "{name}: keys unchanged"
        );
    }
    assert!(
        pending_on_portal(portal_db, testkit::demo::COMUNE)
            .await
            .is_empty()
    );
    assert_eq!(
        scalar(
            portal_db,
            "SELECT COUNT(*) FROM dp_services WHERE transferred_at IS NULL"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn sigkill_in_the_middle_of_an_import_and_restart_imports_everything_once() {
    const DELEGATES: usize = 30;
    const EACH: usize = 10;
    let (_portal_handle, portal) = own_portal(DELEGATES, EACH, None).await;
    let portal_db = portal.db().clone();
    // Slow writes, so that the kill lands in the middle.
    let proxy = Proxy::start(&portal.url(), None).await;
    proxy.set(Fault::Slow(15));
    let before = pending_on_portal(&portal_db, testkit::demo::COMUNE).await;
    assert_eq!(before.len(), DELEGATES * EACH);

    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let first = demo_process(data.path(), &db, &proxy.url).await;
    let admin = bo_token(&first.url, MARIO, COMUNE_NAME).await;
    start_all(&first.url, &admin).await;
    let main = demo_db(data.path(), &db).await;
    // Kill it when some items are done and some are not.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let done = scalar(
            &main,
            "SELECT COUNT(*) FROM io_import_items WHERE status = 'completed'",
        )
        .await;
        if done >= 20 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the import did not start"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let first_said = first.stderr();
    first.kill().await;
    let done = scalar(
        &main,
        "SELECT COUNT(*) FROM io_import_items WHERE status = 'completed'",
    )
    .await;
    let total = scalar(&main, "SELECT COUNT(*) FROM io_import_items").await;
    assert_eq!(total, (DELEGATES * EACH) as i64);
    assert!(
        done > 0 && done < total,
        "the kill must land mid-import: {done} of {total} done"
    );

    // Restarted on the same data, it finishes: leases of the dead process run out.
    proxy.set(Fault::None);
    let second = demo_process(data.path(), &db, &proxy.url).await;
    // A bound on waiting, not a measurement: generous for a busy machine.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        let done = scalar(
            &main,
            "SELECT COUNT(*) FROM io_import_items WHERE status = 'completed'",
        )
        .await;
        if done == total {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!(
                "only {done} of {total} done after the restart\nitems: {}\nthe first process said:\n{}\nthe second process said:\n{}",
                items_by_state(&main).await,
                first_said,
                second.stderr()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_imported_once(&main, &portal_db, &before).await;
    second.kill().await;
    main.close().await;
    let _ = proxy.stop().await;
    portal.stop().await;
}

#[tokio::test]
async fn two_instances_on_one_postgresql_both_import_and_each_service_arrives_once() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        testkit::skipped(
            "two_instances_on_one_postgresql_both_import_and_each_service_arrives_once",
            "SQLite has one writer process; set SELFCARE_TEST_DATABASE_URL to run it",
        );
        return;
    }
    const DELEGATES: usize = 20;
    const EACH: usize = 10;
    let (_portal_handle, portal) = own_portal(DELEGATES, EACH, None).await;
    let portal_db = portal.db().clone();
    let proxy = Proxy::start(&portal.url(), None).await;
    proxy.set(Fault::Slow(5));
    let before = pending_on_portal(&portal_db, testkit::demo::COMUNE).await;
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let a = demo_process(dir_a.path(), &db, &proxy.url).await;
    let b = demo_process(dir_b.path(), &db, &proxy.url).await;
    let admin = bo_token(&a.url, MARIO, COMUNE_NAME).await;
    start_all(&a.url, &admin).await;
    let main = db.connect().await;
    // A bound on waiting, not a measurement: generous for a busy machine.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    while scalar(
        &main,
        "SELECT COUNT(*) FROM io_import_items WHERE status <> 'completed'",
    )
    .await
        > 0
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the import did not finish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both instances took part.
    let runners: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT claimed_by FROM io_import_items")
            .fetch_all(main.reader())
            .await
            .unwrap();
    let pids = [a.pid(), b.pid()];
    for pid in pids {
        assert!(
            runners.iter().any(|r| r.ends_with(&format!(":{pid}"))),
            "instance {pid} ran no item: {runners:?}"
        );
    }
    assert_imported_once(&main, &portal_db, &before).await;
    a.kill().await;
    b.kill().await;
    main.close().await;
    let _ = proxy.stop().await;
    portal.stop().await;
}

#[tokio::test]
async fn regenerating_the_imported_keys_retires_the_ones_the_delegate_knows() {
    let app = TestApp::spawn().await;
    let portal_db = app.app().devportal().unwrap().db().clone();
    let admin = bo_token(&app.url, MARIO, COMUNE_NAME).await;
    let before = pending_on_portal(&portal_db, testkit::demo::COMUNE).await;
    let giovanni = id_of(&delegates(&app.url, &admin).await, "Verdi Giovanni");
    start(&app.url, &admin, &giovanni).await;
    settled(&app.url, &admin, &giovanni, Duration::from_secs(30)).await;
    let (tari_id, _, tari_key, _) = before
        .iter()
        .find(|(_, n, _, _)| n.starts_with("Tari"))
        .unwrap()
        .clone();
    let read = |key: String| {
        let url = app.url(&format!("/api/v1/services/{tari_id}"));
        async move {
            testkit::client()
                .get(url)
                .header("Ocp-Apim-Subscription-Key", key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(read(tari_key.clone()).await, 200);

    // The overview suggests it; operators may not do it.
    let page = |token: String| {
        let url = app.url("/io");
        async move {
            testkit::client()
                .get(url)
                .bearer_auth(token)
                .fetch_text()
                .await
        }
    };
    assert!(page(admin.clone()).await.contains("import-rekey"));
    let operator = bo_token(&app.url, ANNA, COMUNE_NAME).await;
    let refused = testkit::client()
        .post(app.url("/io/import/regenerate-keys"))
        .bearer_auth(&operator)
        .form(&[("csrf", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(read(tari_key.clone()).await, 200);

    let done = testkit::client()
        .post(app.url("/io/import/regenerate-keys"))
        .bearer_auth(&admin)
        .form(&[("csrf", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    // The delegate's key no longer works; the new one does; the suggestion is gone.
    assert_eq!(read(tari_key.clone()).await, 401);
    let keys = expect(
        &app.url,
        &admin,
        "GET",
        &format!("/io/api/services/{tari_id}/keys"),
        200,
    )
    .await;
    assert_ne!(keys["primary_key"].as_str().unwrap(), tari_key);
    assert_eq!(
        read(keys["primary_key"].as_str().unwrap().into()).await,
        200
    );
    assert!(!page(admin.clone()).await.contains("import-rekey"));
}
