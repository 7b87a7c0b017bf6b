//! A real headless Chromium, driven over WebDriver (chromedriver + fantoccini).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::outside_program;

pub const CHROMIUM_HINT: &str = "apt-get install chromium chromium-driver";

/// A Chromium session; the driver process ends with it.
pub struct Browser {
    pub client: Client,
    /// axe-core's script, when installed: every screenshot is checked with it.
    axe: Option<String>,
    _driver: Child,
    _profile: tempfile::TempDir,
}

/// Where `.ci/run` installs axe-core (`npm ci` in `crates/testkit/axe`).
pub const AXE_HINT: &str = "npm ci --no-audit --no-fund in crates/testkit/axe";

/// axe-core's script, or `None` (the check is skipped with a message) when it is not installed
/// and `SELFCARE_E2E` does not require it.
fn axe_source(test: &str) -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("axe/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) if crate::e2e_required() => {
            panic!(
                "{test}: axe-core is missing at {}: {AXE_HINT}",
                path.display()
            )
        }
        Err(_) => {
            crate::skipped(test, &format!("accessibility not checked: {AXE_HINT}"));
            None
        }
    }
}

/// The accessibility rules checked: WCAG 2.1 A and AA.
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, {
  runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  resultTypes: ["violations"]
}).then(function (r) {
  done(r.violations
    .filter(function (v) { return v.impact === "serious" || v.impact === "critical"; })
    .map(function (v) {
      return v.impact + " " + v.id + ": " + v.help + " — " +
        v.nodes.slice(0, 5).map(function (n) { return n.target.join(" "); }).join(", ");
    }));
}, function (e) { done(["axe failed: " + e]); });
"#;

impl Browser {
    /// Starts headless Chromium, or returns `None` (the test is skipped) when it is not
    /// installed and `SELFCARE_E2E` does not require it.
    pub async fn start(test: &str) -> Option<Browser> {
        let driver_bin = outside_program("chromedriver", test, CHROMIUM_HINT)?;
        let chromium = ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .find_map(|name| which(name));
        let Some(chromium) = chromium else {
            outside_program("chromium", test, CHROMIUM_HINT)?;
            return None;
        };
        let port = free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::Builder::new()
            .prefix("selfcare-chromium-")
            .tempdir()
            .expect("profile dir");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic", "--no-first-run",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Browser {
                        client,
                        axe: axe_source(test),
                        _driver: driver,
                        _profile: profile,
                    });
                }
                Err(e) => {
                    last_error = e.to_string();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        panic!("{test}: chromedriver did not accept a session: {last_error}");
    }

    /// The serious and critical accessibility violations of the page shown (axe-core, WCAG 2.1
    /// A and AA); none when axe-core is not installed.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let Some(axe) = &self.axe else {
            return Vec::new();
        };
        let loaded = self
            .client
            .execute("return typeof window.axe === 'object'", vec![])
            .await
            .expect("ask for axe");
        if loaded.as_bool() != Some(true) {
            self.client
                .execute(axe, vec![])
                .await
                .expect("load axe-core");
        }
        let found = self
            .client
            .execute_async(AXE_RUN, vec![])
            .await
            .expect("run axe-core");
        found
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Saves a screenshot as `target/screenshots/<name>.png` and returns its path; the page
    /// must have no serious or critical accessibility violation.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let violations = self.accessibility_violations().await;
        assert!(
            violations.is_empty(),
            "{name}: accessibility violations (axe-core):\n{}",
            violations.join("\n")
        );
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

fn which(name: &str) -> Option<String> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
            .map(|p| p.display().to_string())
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The workspace's `target` directory (tests run with the crate as working directory).
pub fn target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let mut dir = std::env::current_dir().expect("cwd");
    loop {
        if dir.join("Cargo.lock").is_file() {
            return dir.join("target");
        }
        if !dir.pop() {
            return PathBuf::from("target");
        }
    }
}
