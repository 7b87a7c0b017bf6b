//! The legacy Developer Portal through its real HTTP server: delegates' login and pages, and
//! the migration API of the IO back-office. On SQLite, and on PostgreSQL too when
//! `SELFCARE_TEST_DATABASE_URL` points at a server (each test gets a database of its own).

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_doc;
mod login;
mod migration;
mod services;

use devportal::model::{LegacyService, Metadata, Organization, Scope, Visibility};
use devportal::{DevPortal, Settings, StartError, store};
use platform::db::Db;
use reqwest::StatusCode;
use serde_json::Value;
use testkit::TestDb;

pub const KEY: &str = "migration-key-for-the-tests-0123";
pub const PASSWORD: &str = "password-di-prova-1";
pub const COMUNE: &str = "00123456782";
pub const REGIONE: &str = "80001234568";
pub const ALTRO: &str = "01234567897";

pub fn settings() -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        migration_api_key: Some(KEY.into()),
        ..Settings::default()
    }
}

/// A running portal on a fresh database, and a client for the migration API.
pub struct Portal {
    pub portal: DevPortal,
    pub db: Db,
    pub api: reqwest::Client,
    _testdb: TestDb,
}

impl Portal {
    pub async fn start() -> Portal {
        Self::start_with(settings()).await
    }

    pub async fn start_with(settings: Settings) -> Portal {
        let testdb = TestDb::new().await;
        let db = devportal::open_db(testdb.url(), &Default::default())
            .await
            .unwrap();
        let portal = DevPortal::start(&settings, db.clone()).await.unwrap();
        Portal {
            portal,
            db,
            api: reqwest::Client::new(),
            _testdb: testdb,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.portal.url())
    }

    /// A delegate whose password is [`PASSWORD`].
    pub async fn delegate(&self, email: &str, name: &str, surname: &str) -> String {
        let hash = store::hash_password(PASSWORD).await.unwrap();
        store::add_delegate(&self.db, email, name, surname, &hash)
            .await
            .unwrap()
    }

    /// Giovanni Verdi, a delegate of the Comune: his id.
    pub async fn giovanni(&self) -> String {
        self.delegate("giovanni.verdi@example.it", "Giovanni", "Verdi")
            .await
    }

    /// Giovanni with his visible service "Tari" of the Comune, logged in: his id, the
    /// service's id and his browser.
    pub async fn giovanni_with_tari(&self) -> (String, String, reqwest::Client) {
        let giovanni = self.giovanni().await;
        let id = self
            .service(&giovanni, "Tari", COMUNE, Visibility::Visible)
            .await;
        let browser = self.logged_in("giovanni.verdi@example.it").await;
        (giovanni, id, browser)
    }

    pub async fn service(
        &self,
        delegate: &str,
        name: &str,
        fc: &str,
        visibility: Visibility,
    ) -> String {
        store::add_service(&self.db, delegate, &sample(name, fc), visibility)
            .await
            .unwrap()
    }

    /// A browser: keeps cookies, follows redirects.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap()
    }

    /// A browser logged in as `email`.
    pub async fn logged_in(&self, email: &str) -> reqwest::Client {
        let browser = self.browser();
        let r = self.login(&browser, email, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.url().path().ends_with("/services"), "{}", r.url());
        browser
    }

    pub async fn login(
        &self,
        browser: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let form = [("email", email), ("password", password)];
        testkit::post_form(browser, self.url("/login"), &form).await
    }

    /// GET a page: status and body.
    pub async fn page(&self, browser: &reqwest::Client, path: &str) -> (StatusCode, String) {
        let r = browser.get(self.url(path)).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// POST a form: status and body (after redirects).
    pub async fn post_form(
        &self,
        browser: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let r = testkit::post_form(browser, self.url(path), form).await;
        (r.status(), r.text().await.unwrap())
    }

    /// Regenerates the key `which` of the service `id` with the form's `csrf`: status and body.
    pub async fn regenerate(
        &self,
        browser: &reqwest::Client,
        id: &str,
        which: &str,
        csrf: &str,
    ) -> (StatusCode, String) {
        let path = format!("/services/{id}/keys/{which}");
        self.post_form(browser, &path, &[("csrf", csrf)]).await
    }

    /// The CSRF token of the logged-in browser (from any page's logout form).
    pub async fn csrf(&self, browser: &reqwest::Client) -> String {
        let (status, body) = self.page(browser, "/services").await;
        assert_eq!(status, StatusCode::OK);
        csrf_of(&body)
    }

    /// A migration API call with the right key: status and JSON (`Null` when not JSON).
    pub async fn api(&self, method: &str, path: &str) -> (StatusCode, Value) {
        self.api_as(Some(KEY), method, path).await
    }

    pub async fn api_as(&self, key: Option<&str>, method: &str, path: &str) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut r = self
            .api
            .request(method, self.url(&format!("/api/v1{path}")));
        if let Some(key) = key {
            r = r.header("X-Functions-Key", key);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn freeze(&self, fc: &str, delegate: &str, service: &str) -> (StatusCode, Value) {
        self.api(
            "POST",
            &format!("/organizations/{fc}/delegates/{delegate}/services/{service}/freeze"),
        )
        .await
    }

    pub async fn transfer(&self, fc: &str, delegate: &str, service: &str) -> (StatusCode, Value) {
        self.api(
            "POST",
            &format!("/organizations/{fc}/delegates/{delegate}/services/{service}/transfer"),
        )
        .await
    }
}

/// A page's text as read, with the entities askama writes turned back into characters.
pub fn unescape(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub fn csrf_of(html: &str) -> String {
    testkit::hidden_field(html, "csrf").expect("a csrf field")
}

/// A valid service of the organization `fc`.
pub fn sample(name: &str, fc: &str) -> LegacyService {
    LegacyService {
        name: name.into(),
        description: format!("Il servizio «{name}» del Comune."),
        organization: Organization {
            name: "Comune di Roccabella".into(),
            fiscal_code: fc.into(),
            department_name: None,
        },
        require_secure_channel: false,
        authorized_recipients: vec![],
        authorized_cidrs: vec![],
        max_allowed_payment_amount: 0,
        metadata: Metadata {
            topic_id: Some(3),
            privacy_url: Some("https://www.comune.roccabella.it/privacy".into()),
            email: Some("servizi@comune.roccabella.it".into()),
            ..Metadata::new(Scope::Local)
        },
    }
}

#[tokio::test]
async fn start_requires_a_long_enough_migration_key() {
    let testdb = TestDb::new().await;
    let db = devportal::open_db(testdb.url(), &Default::default())
        .await
        .unwrap();
    // Opening twice migrates nothing more.
    devportal::open_db(testdb.url(), &Default::default())
        .await
        .unwrap();
    let mut s = settings();
    s.migration_api_key = None;
    let err = DevPortal::start(&s, db.clone()).await.unwrap_err();
    assert!(matches!(err, StartError::MissingMigrationKey), "{err}");
    assert!(
        err.to_string()
            .contains("SELFCARE_DEVPORTAL__MIGRATION_API_KEY")
    );
    s.migration_api_key = Some("too-short".into());
    let err = DevPortal::start(&s, db.clone()).await.unwrap_err();
    assert!(matches!(err, StartError::ShortMigrationKey { .. }), "{err}");
    // The Debug of the settings never shows the key.
    assert!(!format!("{:?}", settings()).contains(KEY));
    let portal = DevPortal::start(&settings(), db.clone()).await.unwrap();
    let r = reqwest::get(format!("{}/healthz", portal.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert!(r.headers().contains_key("content-security-policy"));
    portal.stop().await;
    // Stopping does not close the database it was given.
    db.ping().await.unwrap();
}
