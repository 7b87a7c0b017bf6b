//! Test support: the real selfcare app on 127.0.0.1, port 0, with a fresh database.
//!
//! - [`TestDb`]: a temporary SQLite file, or — when `SELFCARE_TEST_DATABASE_URL` points at a
//!   PostgreSQL server — a freshly created database, dropped afterwards.
//! - [`TestApp`]: the app in this process, with an HTTP client that keeps cookies.
//! - [`AppProcess`]: the built `selfcare` binary as a child process attached to a given
//!   database, to SIGKILL and restart it or run two instances side by side.
//! - [`outside_program`]: whether a test that needs an outside program runs or is skipped.

pub mod api;
pub mod browser;
pub mod demo;
pub mod interop;
pub mod plans;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use selfcare::{App, Mode, Settings};
use sqlx::{Connection, Executor};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Set to a PostgreSQL URL (user with CREATEDB) to run every test on PostgreSQL.
pub const DATABASE_URL_VAR: &str = "SELFCARE_TEST_DATABASE_URL";
/// Set to 1 to make every test that needs an outside program mandatory.
pub const E2E_VAR: &str = "SELFCARE_E2E";

/// Whether tests needing outside programs must run (CI) rather than be skipped.
pub fn e2e_required() -> bool {
    std::env::var(E2E_VAR).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Finds `program` (a path or a name on PATH). When it is missing the test is skipped with a
/// clear message — or fails, when `SELFCARE_E2E=1` says it must run.
pub fn outside_program(program: &str, test: &str, install_hint: &str) -> Option<PathBuf> {
    let found = if program.contains('/') {
        Some(PathBuf::from(program)).filter(|p| p.is_file())
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        })
    };
    if found.is_none() {
        if e2e_required() {
            panic!(
                "{test}: `{program}` is required ({E2E_VAR}=1) but not installed; {install_hint}"
            );
        }
        skipped(
            test,
            &format!(
                "`{program}` is not installed ({install_hint}); set {E2E_VAR}=1 to make this a failure"
            ),
        );
    }
    found
}

/// Whether `python3` can import every one of `modules`. When not, the test is skipped with a
/// clear message — or fails, when `SELFCARE_E2E=1` says it must run.
pub fn python_with(test: &str, modules: &[&str], hint: &str) -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", &format!("import {}", modules.join(", "))])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            !e2e_required(),
            "{test}: python3 with {modules:?} is required ({E2E_VAR}=1) but missing; {hint}"
        );
        skipped(
            test,
            &format!(
                "python3 with {modules:?} is missing ({hint}); set {E2E_VAR}=1 to make this a failure"
            ),
        );
    }
    found
}

/// Says that `test` was skipped and why, on the terminal: libtest captures `eprintln!` of
/// passing tests, but not direct writes to stderr.
pub fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

/// One RSA signing key for every app this test process starts (generating one per test would
/// cost more than the test).
pub fn test_signing_key() -> PathBuf {
    static KEY: OnceLock<PathBuf> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("selfcare-testkit-{}", std::process::id()));
        let path = dir.join("signing.pem");
        platform::keys::generate_pem_file(&path).expect("generate the test signing key");
        path
    })
    .clone()
}

/// One voucher key per Interoperability environment for every app this test process starts
/// (each environment signs with its own).
pub fn test_interop_key(env: &str) -> PathBuf {
    static KEYS: OnceLock<std::sync::Mutex<Vec<(String, PathBuf)>>> = OnceLock::new();
    let keys = KEYS.get_or_init(Default::default);
    let mut keys = keys.lock().expect("keys");
    if let Some((_, p)) = keys.iter().find(|(e, _)| e == env) {
        return p.clone();
    }
    let dir = std::env::temp_dir().join(format!("selfcare-testkit-{}", std::process::id()));
    let path = dir.join(format!("interop-{env}.pem"));
    platform::keys::generate_pem_file(&path).expect("generate an interop test key");
    keys.push((env.to_string(), path.clone()));
    path
}

/// One master key (for the API keys at rest) for every app this test process starts.
pub fn test_master_key() -> PathBuf {
    static KEY: OnceLock<PathBuf> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("selfcare-testkit-{}", std::process::id()));
        let path = dir.join("master-test.key");
        if !path.exists() {
            io_backoffice::secrets::KeyRing::generate_file(&path)
                .expect("generate the test master key");
        }
        path
    })
    .clone()
}

/// Where app processes started by [`AppProcess::serve`] write their emails (`log` mailer),
/// unless the test sets `SELFCARE_MAIL__LOG_DIR` itself.
pub fn test_mail_dir() -> PathBuf {
    std::env::temp_dir()
        .join(format!("selfcare-testkit-{}", std::process::id()))
        .join("mail")
}

enum DbKind {
    Sqlite { _dir: tempfile::TempDir },
    Postgres { admin_url: String, name: String },
}

/// A database of its own for one test.
pub struct TestDb {
    url: String,
    kind: DbKind,
}

impl TestDb {
    pub async fn new() -> TestDb {
        match std::env::var(DATABASE_URL_VAR) {
            Ok(admin_url) if !admin_url.trim().is_empty() => Self::postgres(admin_url).await,
            _ => Self::sqlite(),
        }
    }

    fn sqlite() -> TestDb {
        let dir = tempfile::Builder::new()
            .prefix("selfcare-test-")
            .tempdir()
            .expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("selfcare.db").display());
        TestDb {
            url,
            kind: DbKind::Sqlite { _dir: dir },
        }
    }

    async fn postgres(admin_url: String) -> TestDb {
        sqlx::any::install_default_drivers();
        let name = format!("selfcare_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::AnyConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("{DATABASE_URL_VAR} is set but PostgreSQL does not answer: {e}")
            });
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create the test database");
        let _ = conn.close().await;
        TestDb {
            url: with_database(&admin_url, &name),
            kind: DbKind::Postgres { admin_url, name },
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.kind, DbKind::Postgres { .. })
    }

    /// The SQLite file, for tests that damage it on purpose.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        platform::db::sqlite_path(&self.url)
    }

    /// A connection of the test's own, to look at what the app stored.
    pub async fn connect(&self) -> platform::db::Db {
        platform::db::Db::connect(&self.url, &Default::default())
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let DbKind::Postgres { admin_url, name } = &self.kind {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside any runtime guarantee: use a thread with its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin_url).await {
                        let _ = conn
                            .execute(
                                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                            )
                            .await;
                        let _ = conn.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// `postgres://u@h:5432/anything?x=y` with the database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_and_path = &base[scheme_end..];
    let host = host_and_path.split('/').next().unwrap_or(host_and_path);
    let mut out = format!("{}{}/{}", &base[..scheme_end], host, name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Settings for a test app on `db`: port 0, the shared test key, quiet logs.
pub fn test_settings(db: &TestDb) -> Settings {
    let mut settings = Settings::default();
    settings.http.listen = "127.0.0.1:0".parse().expect("addr");
    settings.database.url = Some(db.url().to_string());
    settings.database.max_connections = 4;
    settings.signing.key_files = vec![test_signing_key()];
    settings.io.master_key_files = vec![test_master_key()];
    settings.http.shutdown_timeout_secs = 5;
    settings.interop.produzione.signing_key_files = vec![test_interop_key("produzione")];
    settings.interop.collaudo.signing_key_files = vec![test_interop_key("collaudo")];
    // The demo's Developer Portal on a port of its own; the import's delays short.
    settings.devportal.listen = "127.0.0.1:0".parse().expect("addr");
    settings.io.import.poll_interval_ms = 100;
    settings.io.import.retry_base_ms = 100;
    settings.io.import.retry_max_ms = 1_000;
    settings.io.import.lease_ms = 5_000;
    settings.io.import.request_timeout_ms = 5_000;
    settings
}

fn init_logs() {
    // Logs only when asked, so that test output stays readable.
    if let Ok(level) = std::env::var("SELFCARE_TEST_LOG") {
        let _ = platform::telemetry::init(&platform::config::LogSettings {
            level,
            ..Default::default()
        });
    }
}

/// The app running in this process.
pub struct TestApp {
    app: Option<App>,
    /// `http://127.0.0.1:<port>`
    pub url: String,
    /// Keeps cookies, follows no redirects.
    pub client: reqwest::Client,
    pub db: TestDb,
    data_dir: tempfile::TempDir,
}

/// A change to the settings of a test app.
pub type SettingsChange = Box<dyn FnOnce(&mut Settings) + Send>;

/// Choices for [`TestApp::spawn_with`].
#[derive(Default)]
pub struct Options {
    /// Changes to the settings before start.
    pub settings: Option<SettingsChange>,
    /// Routes mounted beside the app's, to observe the plumbing from inside a handler.
    pub routes: Option<Router>,
    /// Start as `serve` does (no demo data, no test identity provider unless configured)
    /// instead of as `demo`.
    pub serve: bool,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> TestApp {
        init_logs();
        let db = TestDb::new().await;
        let data_dir = tempfile::Builder::new()
            .prefix("selfcare-data-")
            .tempdir()
            .expect("temp dir");
        let mut settings = test_settings(&db);
        if let Some(change) = options.settings {
            change(&mut settings);
        }
        let mode = if options.serve {
            settings
                .http
                .public_url
                .get_or_insert_with(|| "http://127.0.0.1".into());
            settings
                .mail
                .log_dir
                .get_or_insert_with(|| selfcare::app::demo_mail_dir(data_dir.path()));
            Mode::Serve
        } else {
            Mode::Demo {
                data_dir: data_dir.path().to_path_buf(),
            }
        };
        let app = App::start_with_routes(settings, mode, options.routes.unwrap_or_default())
            .await
            .expect("start the app");
        let url = format!("http://{}", app.addr());
        TestApp {
            app: Some(app),
            url,
            client: client(),
            db,
            data_dir,
        }
    }

    pub fn app(&self) -> &App {
        self.app.as_ref().expect("app running")
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path))
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.delete(self.url(path))
    }

    /// A second instance of the server on the same database, started as `serve` starts it
    /// (its own listener, pool and state; no demo data of its own).
    pub async fn another_instance(&self) -> Instance {
        self.another_instance_with(Box::new(|_| {})).await
    }

    /// The same, with `change` made to its settings.
    pub async fn another_instance_with(&self, change: SettingsChange) -> Instance {
        let mut settings = test_settings(&self.db);
        change(&mut settings);
        settings
            .http
            .public_url
            .get_or_insert_with(|| "http://127.0.0.1".into());
        settings.mail.log_dir = Some(selfcare::app::demo_mail_dir(self.data_dir.path()));
        let app = App::start_with_routes(settings, Mode::Serve, Router::new())
            .await
            .expect("start the second instance");
        let url = format!("http://{}", app.addr());
        Instance { app, url }
    }

    /// Stops the app gracefully (the database stays until the `TestApp` is dropped).
    pub async fn stop(&mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await.expect("graceful stop");
        }
    }
}

/// Another instance of the server beside a [`TestApp`], on its database.
pub struct Instance {
    app: App,
    /// `http://127.0.0.1:<port>`
    pub url: String,
}

impl Instance {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    pub async fn stop(self) {
        self.app.stop().await.expect("graceful stop");
    }
}

/// Sends a request and reads its body, failing the test on a transport error.
#[allow(async_fn_in_trait)]
pub trait Fetch {
    async fn fetch_text(self) -> String;
    async fn fetch_json(self) -> serde_json::Value;
}

impl Fetch for reqwest::RequestBuilder {
    async fn fetch_text(self) -> String {
        self.send().await.unwrap().text().await.unwrap()
    }

    async fn fetch_json(self) -> serde_json::Value {
        self.send().await.unwrap().json().await.unwrap()
    }
}

/// An HTTP client that keeps cookies and follows no redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// A browser-like [`client`] logged in as `fiscal_code` through the test identity provider's
/// form (its Reserved Area session cookie kept).
pub async fn logged_in(app: &TestApp, fiscal_code: &str) -> reqwest::Client {
    let client = client();
    let r = log_in(&client, app, fiscal_code).await;
    assert_eq!(r.status(), 303, "login of {fiscal_code}");
    client
}

/// Switches `client`'s language (`it`, `en`) with the header's language form.
pub async fn switch_language(client: &reqwest::Client, app: &TestApp, lang: &str) {
    let r = client
        .post(app.url("/lang"))
        .form(&[("lang", lang), ("back", "/")])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{lang}"
    );
}

/// Opens a session of the back-office at `base` (`/io`, `/interop/collaudo`) with an identity
/// token, as scripts do (`POST {base}/api/session`): the status and the bearer token.
pub async fn enter_back_office(
    app: &TestApp,
    base: &str,
    identity: &str,
) -> (reqwest::StatusCode, Option<String>) {
    let r = app
        .post(&format!("{base}/api/session"))
        .json(&serde_json::json!({ "identity_token": identity }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: serde_json::Value = r.json().await.unwrap_or(serde_json::Value::Null);
    (status, v["token"].as_str().map(str::to_owned))
}

/// The text of the page at `path`, read with `client` (a browser).
pub async fn read_page(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    client.get(app.url(path)).fetch_text().await
}

/// Logs `client` out of the Reserved Area with the logout form of its dashboard: the answer.
pub async fn log_out(client: &reqwest::Client, app: &TestApp) -> reqwest::Response {
    let page = read_page(client, app, "/dashboard?choose=true").await;
    let csrf = hidden_field(&page, "csrf").expect("logout form with csrf");
    post_form(client, app.url("/logout"), &[("csrf", csrf.as_str())]).await
}

/// Posts the test identity provider's login form for `fiscal_code` with `client`: the answer.
pub async fn log_in(
    client: &reqwest::Client,
    app: &TestApp,
    fiscal_code: &str,
) -> reqwest::Response {
    let url = app.url("/auth/test-idp/login");
    post_form(client, url, &[("fiscal_number", fiscal_code)]).await
}

/// Posts the form `fields` to `url` with `client`: the answer.
pub async fn post_form(
    client: &reqwest::Client,
    url: String,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client.post(url).form(fields).send().await.unwrap()
}

/// The fields named by the errors of a payload's parse (none when it is read).
pub fn error_fields<T>(parsed: Result<T, Vec<platform::FieldError>>) -> Vec<String> {
    parsed
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

/// The string `field` of each item of the JSON array `list`, in order.
pub fn strings_of<'a>(list: &'a serde_json::Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap())
        .collect()
}

/// The value of the form field `name` (`name="..." value="..."`) in a page, if there is one.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].chars().take_while(|c| *c != '"').collect())
}

/// The text of a page as a person reads it: the text of `<title>` and `<body>`, without scripts,
/// styles and hidden elements, white space folded.
pub fn visible_text(html: &str) -> String {
    use scraper::{Html, Node};
    let document = Html::parse_document(html);
    let mut words = Vec::new();
    for node in document.tree.root().descendants() {
        let Node::Text(text) = node.value() else {
            continue;
        };
        let hidden = node.ancestors().any(|a| match a.value() {
            Node::Element(e) => {
                matches!(e.name(), "script" | "style" | "template" | "noscript")
                    || e.attr("hidden").is_some()
            }
            _ => false,
        });
        if !hidden {
            words.extend(text.split_whitespace().map(str::to_string));
        }
    }
    words.join(" ")
}

/// The `href` of every link of a page, in order.
pub fn links(html: &str) -> Vec<String> {
    let document = scraper::Html::parse_document(html);
    let Ok(anchors) = scraper::Selector::parse("a[href]") else {
        return Vec::new();
    };
    document
        .select(&anchors)
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect()
}

/// The codes records hold that people must never read on a page; a test fails when one of
/// them stands as a word of [`visible_text`].
pub const CODES_NOT_FOR_PEOPLE: &[&str] = &[
    "ACTIVE",
    "SUSPENDED",
    "DELETED",
    "PENDING",
    "MANAGER",
    "DELEGATE",
    "SUB_DELEGATE",
    "OPERATOR",
    "DRAFT",
    "ARCHIVED",
    "DEPRECATED",
    "PUBLISHED",
    "WAITING_FOR_APPROVAL",
    "REJECTED",
    "CONSUMER",
    // Product roles: `admin` only, since `operator`, `security` and `api` are also words of
    // English sentences.
    "admin",
    // Kinds of recorded activity.
    "token.exchanged",
    "user.role.added",
    "user.role.suspended",
    "user.role.activated",
    "user.role.removed",
    "institution.added",
    "institution.onboarded",
    "io.import.requested",
    "io.service.imported",
];

/// Every key of the message catalogues (a key on a page is a message that was not found).
fn message_keys() -> &'static platform::i18n::Catalogue {
    static KEYS: std::sync::OnceLock<platform::i18n::Catalogue> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| platform::i18n::Catalogue::build(&selfcare::app::MESSAGES).unwrap())
}

/// The codes of [`CODES_NOT_FOR_PEOPLE`] that stand as words of `text`, and the keys of the
/// message catalogues it shows (as `key:<the key>`).
pub fn codes_in(text: &str) -> Vec<String> {
    let words: std::collections::HashSet<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .flat_map(|w| {
            // A dotted code, and each of its parts.
            std::iter::once(w.trim_matches('.')).chain(w.split('.'))
        })
        .collect();
    let mut found: Vec<String> = CODES_NOT_FOR_PEOPLE
        .iter()
        .filter(|code| words.contains(*code))
        .map(|code| code.to_string())
        .collect();
    let keys = message_keys();
    found.extend(
        words
            .iter()
            .filter(|w| w.contains('.') && keys.contains(w))
            .map(|w| format!("key:{w}")),
    );
    found.sort();
    found
}

/// The `(method, path)` of the JSON routes of a route table, asserted to be exactly the
/// operations of the OpenAPI document `doc`; with that document as JSON.
pub fn json_routes_documented<A>(
    routes: Vec<platform::routes::RouteDecl<A>>,
    doc: &utoipa::openapi::OpenApi,
) -> (BTreeSet<(String, String)>, serde_json::Value) {
    let table: BTreeSet<(String, String)> = routes
        .into_iter()
        .filter(|r| r.json)
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let documented: BTreeSet<(String, String)> =
        platform::openapi::operations(doc).into_iter().collect();
    assert_eq!(table, documented);
    (table, serde_json::to_value(doc).unwrap())
}

/// The answers of the operation `op` (JSON of an OpenAPI document): each status with whether
/// its content has a schema.
pub fn answers_with_schema(op: &serde_json::Value) -> Vec<(String, bool)> {
    let answers = op["responses"].as_object().unwrap();
    answers
        .iter()
        .map(|(status, answer)| {
            let schema = answer["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .is_some_and(|c| c["schema"].is_object());
            (status.clone(), schema)
        })
        .collect()
}

/// The `selfcare` binary as a child process.
pub struct AppProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`
    pub url: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

/// How long a server started by a test may take to listen: a bound against a hang, generous
/// because a CI machine runs many tests (and their Node and Python servers) at once on two
/// cores.
pub const START_WAIT: Duration = Duration::from_secs(60);

impl AppProcess {
    /// Runs `selfcare serve` on `database_url`, with the test key and any `env`; waits until
    /// it listens.
    pub async fn serve(bin: &Path, database_url: &str, env: &[(&str, &str)]) -> AppProcess {
        let key = test_signing_key();
        let key = key.display().to_string();
        let mail_dir = test_mail_dir().display().to_string();
        let master = test_master_key().display().to_string();
        let mut all_env: Vec<(&str, &str)> = vec![
            ("SELFCARE_SIGNING__KEY_FILES", key.as_str()),
            ("SELFCARE_IO__MASTER_KEY_FILES", master.as_str()),
            ("SELFCARE_MAIL__LOG_DIR", mail_dir.as_str()),
            ("SELFCARE_HTTP__PUBLIC_URL", "http://127.0.0.1"),
            ("SELFCARE_HTTP__SHUTDOWN_TIMEOUT_SECS", "10"),
            ("SELFCARE_LOG__LEVEL", "warn"),
        ];
        all_env.extend_from_slice(env);
        Self::start(
            bin,
            &[
                "serve",
                "--database-url",
                database_url,
                "--listen",
                "127.0.0.1:0",
            ],
            &all_env,
        )
        .await
    }

    /// Runs the binary with `args` and waits for its `listening on http://...` line.
    pub async fn start(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> AppProcess {
        let mut command = Command::new(bin);
        command.args(args);
        for (k, v) in env {
            command.env(k, v);
        }
        Self::spawn(command, &format!("selfcare {args:?}"), START_WAIT).await
    }

    /// Runs `command` (any server that prints `listening on http://...` on stdout, killed on
    /// drop) and waits up to `wait` for that line; `what` names it when it does not start.
    pub async fn spawn(mut command: Command, what: &str, wait: Duration) -> AppProcess {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let collected = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = collected.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(wait, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("listening on ") {
                    return Some(url.trim().to_string());
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        // Keep draining stdout so that the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let Some(url) = url else {
            let _ = child.kill().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            panic!(
                "{what} did not start; stderr:\n{}",
                collected.lock().unwrap()
            );
        };
        AppProcess {
            child,
            url,
            stderr: collected,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    pub fn pid(&self) -> i32 {
        self.child.id().expect("running") as i32
    }

    /// SIGKILL: no chance to clean up, as when the machine dies.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL");
    }

    /// SIGTERM: the orderly stop a service manager asks for.
    pub fn terminate(&self) {
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        let rc = unsafe { libc::kill(self.pid(), libc::SIGTERM) };
        assert_eq!(rc, 0, "SIGTERM failed");
    }

    /// Waits for the process to exit and returns its exit status.
    pub async fn wait(mut self, timeout: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(timeout, self.child.wait())
            .await
            .expect("selfcare did not exit in time")
            .expect("wait")
    }

    /// The stderr collected so far and from now on (still readable after [`Self::wait`]).
    pub fn stderr_handle(&self) -> std::sync::Arc<std::sync::Mutex<String>> {
        self.stderr.clone()
    }

    /// What the process has written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

/// Runs the binary to completion (for commands that should fail at start).
pub async fn run_binary(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(bin);
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("selfcare did not finish in time")
        .expect("run selfcare")
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            super::with_database("postgres://u:p@h?sslmode=disable", "t1"),
            "postgres://u:p@h/t1?sslmode=disable"
        );
    }
}
