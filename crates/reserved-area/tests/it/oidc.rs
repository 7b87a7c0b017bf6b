//! Login through a real OpenID provider: `oidc-provider` (npm) run by
//! `tests/oidc-provider/server.js`, driven by hand across the two servers (cookies kept,
//! redirects followed one by one).

use std::path::PathBuf;
use std::time::Duration;

use reqwest::{StatusCode, Url, header};
use testkit::{AppProcess, Options, TestApp};
use tokio::process::Command;

use crate::MARIO;

const CLIENT_ID: &str = "selfcare";
const CLIENT_SECRET: &str = "test-client-secret-4f9a";
/// The public URL selfcare is configured with: the browser's redirects to it are sent to the
/// test app (as a reverse proxy would), so that the provider can be started first.
const PUBLIC_URL: &str = "http://localhost";
const SESSION_COOKIE: &str = "sc_session";
const SPID_L2: &str = "https://www.spid.gov.it/SpidL2";
const SPID_L3: &str = "https://www.spid.gov.it/SpidL3";

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider")
}

/// `node server.js`, killed on drop; its stderr is shown when the test fails.
struct Provider {
    process: AppProcess,
    url: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- the OpenID provider's stderr:\n{}",
                self.process.stderr()
            );
        }
    }
}

impl Provider {
    /// Starts the provider with `env` beside the client's settings; `None` (the test is then
    /// skipped) when node or the npm packages are missing, unless `SELFCARE_E2E=1`.
    async fn start(test: &str, env: &[(&str, &str)]) -> Option<Provider> {
        let node = testkit::outside_program(
            "node",
            test,
            "apt-get install nodejs npm, then npm ci in crates/reserved-area/tests/oidc-provider",
        )?;
        let dir = provider_dir();
        if !dir.join("node_modules").is_dir() {
            let why = format!(
                "{}/node_modules is missing: run `npm ci --no-audit --no-fund` there",
                dir.display()
            );
            if testkit::e2e_required() {
                panic!("{test}: required ({}=1) but {why}", testkit::E2E_VAR);
            }
            testkit::skipped(
                test,
                &format!("{why}; set SELFCARE_E2E=1 to make this a failure"),
            );
            return None;
        }
        let mut command = Command::new(node);
        command
            .arg("server.js")
            .current_dir(&dir)
            .env("OIDC_PORT", "0")
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env(
                "OIDC_REDIRECT_URI",
                format!("{PUBLIC_URL}/auth/oidc/callback"),
            );
        for (k, v) in env {
            command.env(k, v);
        }
        let process = AppProcess::spawn(command, "the OpenID provider", testkit::START_WAIT).await;
        let provider = Provider {
            url: process.url.clone(),
            process,
        };
        provider.wait_for_discovery().await;
        Some(provider)
    }

    async fn wait_for_discovery(&self) {
        let client = testkit::client();
        let discovery = format!("{}/.well-known/openid-configuration", self.url);
        // It listens before it has loaded its configuration; on a busy machine that can take
        // a while.
        let deadline = tokio::time::Instant::now() + testkit::START_WAIT;
        while tokio::time::Instant::now() < deadline {
            if let Ok(r) = client.get(&discovery).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no discovery document at {discovery}");
    }
}

/// The app, logging in through `issuer_url`.
async fn app_with_issuer(issuer_url: &str) -> TestApp {
    let issuer_url = issuer_url.to_string();
    TestApp::spawn_with(Options {
        settings: Some(Box::new(move |s| {
            s.http.public_url = Some(PUBLIC_URL.into());
            s.reserved_area.oidc.issuer_url = issuer_url;
            s.reserved_area.oidc.client_id = CLIENT_ID.into();
            s.reserved_area.oidc.client_secret = CLIENT_SECRET.into();
        })),
        ..Default::default()
    })
    .await
}

fn location(r: &reqwest::Response) -> Url {
    let value = r
        .headers()
        .get(header::LOCATION)
        .unwrap_or_else(|| panic!("{} {} has no Location", r.status(), r.url()))
        .to_str()
        .unwrap();
    r.url().join(value).unwrap()
}

/// Where the app sends the browser: the public URL, served by the test app.
fn to_app(app: &TestApp, url: &Url) -> Url {
    let s = url.as_str();
    match s.strip_prefix(PUBLIC_URL) {
        Some(rest) if rest.starts_with('/') => Url::parse(&app.url(rest)).unwrap(),
        _ => url.clone(),
    }
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn with_query(url: &Url, name: &str, value: &str) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

/// `GET /auth/oidc/login`: the provider's authorization URL.
async fn start_login(app: &TestApp, browser: &reqwest::Client) -> Url {
    let r = browser
        .get(app.url("/auth/oidc/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "/auth/oidc/login");
    let to = location(&r);
    assert_eq!(query(&to, "code_challenge_method").as_deref(), Some("S256"));
    for param in ["state", "nonce", "code_challenge"] {
        assert!(query(&to, param).is_some(), "{param} in {to}");
    }
    to
}

/// Follows the provider's redirects (login and consent complete by themselves) up to the
/// redirect back to the app; answers the callback URL, not yet visited.
async fn through_provider(app: &TestApp, browser: &reqwest::Client, authorize: Url) -> Url {
    let mut next = authorize;
    for _ in 0..10 {
        let r = browser.get(next.clone()).send().await.unwrap();
        assert!(
            r.status().is_redirection(),
            "{} answered {}: {}",
            next,
            r.status(),
            r.text().await.unwrap_or_default()
        );
        let to = location(&r);
        let back = to_app(app, &to);
        if back.path() == "/auth/oidc/callback" && back.as_str().starts_with(&app.url) {
            return back;
        }
        next = to;
    }
    panic!("the provider never sent the browser back");
}

/// A whole login up to the callback, not visited yet.
async fn callback_url(app: &TestApp, browser: &reqwest::Client) -> Url {
    let authorize = start_login(app, browser).await;
    through_provider(app, browser, authorize).await
}

fn sets_session_cookie(r: &reqwest::Response) -> bool {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with(&format!("{SESSION_COOKIE}=")) && !c.contains("Max-Age=0"))
}

async fn sessions(app: &TestApp) -> Vec<(String, String)> {
    let db = app.db.connect().await;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT fiscal_code, spid_level FROM sessions ORDER BY created_at")
            .fetch_all(db.reader())
            .await
            .unwrap();
    db.close().await;
    rows
}

async fn pending_flows(app: &TestApp) -> i64 {
    let db = app.db.connect().await;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oidc_login_flows")
        .fetch_one(db.reader())
        .await
        .unwrap();
    db.close().await;
    n
}

/// The browser is logged in: `/dashboard` shows the institutions (or goes straight to the only
/// one), instead of sending it to the login.
async fn assert_logged_in(app: &TestApp, browser: &reqwest::Client) {
    let r = browser.get(app.url("/dashboard")).send().await.unwrap();
    match r.status() {
        StatusCode::OK => {}
        StatusCode::SEE_OTHER => {
            let to = location(&r);
            assert!(to.path().starts_with("/dashboard/"), "dashboard → {to}");
        }
        other => panic!("/dashboard answered {other}"),
    }
}

async fn assert_not_logged_in(app: &TestApp, browser: &reqwest::Client) {
    let r = browser.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r).path(), "/login");
}

/// A refused callback: the given 4xx, no session cookie, no session.
async fn assert_refused(r: reqwest::Response, status: StatusCode) {
    assert!(!sets_session_cookie(&r), "a refused callback set a session");
    let got = r.status();
    let body = r.text().await.unwrap_or_default();
    assert_eq!(got, status, "{body}");
    assert!(
        !body.contains(CLIENT_SECRET),
        "the answer shows the client secret"
    );
}

#[tokio::test]
async fn oidc_login_through_the_provider_opens_a_session() {
    let test = "oidc_login_through_the_provider_opens_a_session";
    let Some(provider) = Provider::start(test, &[("OIDC_ACR", SPID_L3)]).await else {
        return;
    };
    let app = app_with_issuer(&provider.url).await;
    let browser = testkit::client();
    let callback = callback_url(&app, &browser).await;
    assert!(query(&callback, "code").is_some());

    let r = browser.get(callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r).path(), "/dashboard");
    assert!(sets_session_cookie(&r), "no session cookie");
    assert_logged_in(&app, &browser).await;

    // The demo's Mario Rossi (fiscal code from `TINIT-...`), at the level the provider said.
    assert_eq!(
        sessions(&app).await,
        vec![(MARIO.to_string(), SPID_L3.to_string())]
    );
    assert_eq!(pending_flows(&app).await, 0, "the flow is consumed");
    // ...who works for the Comune di Roccabella.
    let mut r = browser.get(app.url("/dashboard")).send().await.unwrap();
    if r.status() == StatusCode::SEE_OTHER {
        r = browser.get(location(&r)).send().await.unwrap();
    }
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("Comune di Roccabella"), "{page}");
}

#[tokio::test]
async fn oidc_login_reads_userinfo_and_posts_the_client_secret() {
    let test = "oidc_login_reads_userinfo_and_posts_the_client_secret";
    let env = [
        ("OIDC_TEST_CLAIMS_IN", "userinfo"),
        ("OIDC_CLIENT_AUTH", "client_secret_post"),
    ];
    let Some(provider) = Provider::start(test, &env).await else {
        return;
    };
    let app = app_with_issuer(&provider.url).await;
    let browser = testkit::client();
    let callback = callback_url(&app, &browser).await;
    let r = browser.get(callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(sets_session_cookie(&r));
    assert_logged_in(&app, &browser).await;
    // No `acr` from the provider: SPID level 2.
    assert_eq!(
        sessions(&app).await,
        vec![(MARIO.to_string(), SPID_L2.to_string())]
    );
}

#[tokio::test]
async fn oidc_callbacks_that_do_not_match_a_pending_login_are_refused() {
    let test = "oidc_callbacks_that_do_not_match_a_pending_login_are_refused";
    let Some(provider) = Provider::start(test, &[]).await else {
        return;
    };
    let app = app_with_issuer(&provider.url).await;
    let browser = testkit::client();

    // A state this server never issued.
    let callback = callback_url(&app, &browser).await;
    let wrong = with_query(&callback, "state", "not-the-state");
    let r = browser.get(wrong).send().await.unwrap();
    assert_refused(r, StatusCode::BAD_REQUEST).await;
    // The page says what happened, in the person's language.
    let r = browser
        .get(app.url("/auth/oidc/callback?state=unknown&code=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(page.contains("Accesso scaduto"), "{page}");
    // No state at all.
    let r = browser
        .get(app.url("/auth/oidc/callback?code=abc"))
        .send()
        .await
        .unwrap();
    assert_refused(r, StatusCode::BAD_REQUEST).await;
    // The right state, from another browser (no flow cookie): login CSRF.
    let other = testkit::client();
    let r = other.get(callback.clone()).send().await.unwrap();
    assert_refused(r, StatusCode::BAD_REQUEST).await;
    // ...which consumed the flow: the right browser cannot use it any more either.
    let r = browser.get(callback).send().await.unwrap();
    assert_refused(r, StatusCode::BAD_REQUEST).await;

    // A flow older than 10 minutes.
    let callback = callback_url(&app, &browser).await;
    let db = app.db.connect().await;
    sqlx::query("UPDATE oidc_login_flows SET created_at = created_at - 600001")
        .execute(db.writer())
        .await
        .unwrap();
    db.close().await;
    let r = browser.get(callback).send().await.unwrap();
    assert_refused(r, StatusCode::BAD_REQUEST).await;

    // The provider's error (the person cancelled).
    let authorize = start_login(&app, &browser).await;
    let state = query(&authorize, "state").unwrap();
    let r = browser
        .get(app.url(&format!(
            "/auth/oidc/callback?error=access_denied&state={state}"
        )))
        .send()
        .await
        .unwrap();
    assert_refused(r, StatusCode::UNAUTHORIZED).await;

    // JSON callers get a problem.
    let r = browser
        .get(app.url("/auth/oidc/callback?state=nope&code=nope"))
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let problem: serde_json::Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "oidc_unknown_state");

    assert_not_logged_in(&app, &browser).await;
    assert!(sessions(&app).await.is_empty());
}

#[tokio::test]
async fn oidc_replayed_callback_is_refused() {
    let test = "oidc_replayed_callback_is_refused";
    let Some(provider) = Provider::start(test, &[]).await else {
        return;
    };
    let app = app_with_issuer(&provider.url).await;
    let browser = testkit::client();
    let callback = callback_url(&app, &browser).await;
    let r = browser.get(callback.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(sets_session_cookie(&r));

    // The same code and state again, from the same browser and from another one.
    let r = browser.get(callback.clone()).send().await.unwrap();
    assert_refused(r, StatusCode::BAD_REQUEST).await;
    let attacker = testkit::client();
    let r = attacker.get(callback).send().await.unwrap();
    assert_refused(r, StatusCode::BAD_REQUEST).await;
    assert_not_logged_in(&app, &attacker).await;
    assert_eq!(
        sessions(&app).await.len(),
        1,
        "only the first callback logs in"
    );
}

#[tokio::test]
async fn oidc_tampered_nonce_or_pkce_challenge_is_refused() {
    let test = "oidc_tampered_nonce_or_pkce_challenge_is_refused";
    let Some(provider) = Provider::start(test, &[]).await else {
        return;
    };
    let app = app_with_issuer(&provider.url).await;
    let browser = testkit::client();

    // The provider signs an ID token for another nonce than the one this login stored.
    let authorize = start_login(&app, &browser).await;
    let tampered = with_query(&authorize, "nonce", "a-nonce-of-someone-else");
    let callback = through_provider(&app, &browser, tampered).await;
    let r = browser.get(callback).send().await.unwrap();
    assert_refused(r, StatusCode::UNAUTHORIZED).await;

    // The code was issued for another PKCE challenge: the stored verifier does not match.
    let authorize = start_login(&app, &browser).await;
    let tampered = with_query(
        &authorize,
        "code_challenge",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
    let callback = through_provider(&app, &browser, tampered).await;
    let r = browser.get(callback).send().await.unwrap();
    assert_refused(r, StatusCode::UNAUTHORIZED).await;

    assert_not_logged_in(&app, &browser).await;
    assert!(sessions(&app).await.is_empty());
}

#[tokio::test]
async fn oidc_id_token_of_another_issuer_is_refused() {
    let test = "oidc_id_token_of_another_issuer_is_refused";
    let env = [("OIDC_TEST_TOKEN_ISSUER", "https://elsewhere.example")];
    let Some(provider) = Provider::start(test, &env).await else {
        return;
    };
    let app = app_with_issuer(&provider.url).await;
    let browser = testkit::client();
    let callback = callback_url(&app, &browser).await;
    let r = browser.get(callback).send().await.unwrap();
    assert_refused(r, StatusCode::UNAUTHORIZED).await;
    assert_not_logged_in(&app, &browser).await;
    assert!(sessions(&app).await.is_empty());
}

#[tokio::test]
async fn oidc_id_token_with_a_bad_signature_is_refused() {
    let test = "oidc_id_token_with_a_bad_signature_is_refused";
    let Some(provider) = Provider::start(test, &[("OIDC_TEST_FOREIGN_JWKS", "1")]).await else {
        return;
    };
    let app = app_with_issuer(&provider.url).await;
    let browser = testkit::client();
    let callback = callback_url(&app, &browser).await;
    let r = browser.get(callback).send().await.unwrap();
    assert_refused(r, StatusCode::UNAUTHORIZED).await;
    assert!(sessions(&app).await.is_empty());
}

#[tokio::test]
async fn oidc_invalid_fiscal_code_is_refused() {
    let test = "oidc_invalid_fiscal_code_is_refused";
    let env = [("OIDC_ACCOUNT_FISCAL_NUMBER", "TINIT-RSSMRA85T10A562X")];
    let Some(provider) = Provider::start(test, &env).await else {
        return;
    };
    let app = app_with_issuer(&provider.url).await;
    let browser = testkit::client();
    let callback = callback_url(&app, &browser).await;
    let r = browser.get(callback).send().await.unwrap();
    assert_refused(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(sessions(&app).await.is_empty());
}

/// Needs no provider: nothing listens at the issuer URL.
#[tokio::test]
async fn oidc_provider_down_does_not_stop_the_server() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let app = app_with_issuer(&format!("http://127.0.0.1:{port}")).await;
    assert_eq!(
        app.get("/healthz").send().await.unwrap().status(),
        StatusCode::OK
    );
    let r = app.get("/auth/oidc/login").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = app
        .get("/auth/oidc/login")
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem: serde_json::Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "oidc_unavailable");
    let r = app
        .get("/auth/oidc/callback?state=x&code=y")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(sessions(&app).await.is_empty());
}

#[tokio::test]
async fn oidc_routes_are_404_when_not_configured() {
    let app = TestApp::spawn().await;
    for path in ["/auth/oidc/login", "/auth/oidc/callback?state=x&code=y"] {
        assert_eq!(
            app.get(path).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
