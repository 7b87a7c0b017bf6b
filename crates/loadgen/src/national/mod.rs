//! `loadgen national`: the pages, lists and APIs of issue #25 on a database written by
//! `loadgen seed` (the national dataset, or a fraction of it).
//!
//! The real app is started in process as `selfcare serve` does (no demo data), with the test
//! identity provider on, its runtime on one worker thread pinned to the first CPU and the load
//! generator on the other. The fixtures (the institution with the most people and its
//! manager, the one with the most IO services, a manage key, a busy Interoperability tenant)
//! are found in the database with SQL; the sessions are opened as a script does (test identity
//! provider, token exchange, back-office session). Each scenario is a closed loop over
//! `--connections` keep-alive connections for `--duration` after a warm-up, printed beside the
//! same server's `GET /healthz` measured right before it in the same way; every answer must
//! have the expected status and content, or the command fails.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Error;
use crate::token::cores::{Placement, cpu_times, on_cpus, thread_cpu};
use crate::token::keys::raw_sign_rate_for;
use crate::token::load::{Phase, record};
use crate::token::server::Server;

mod fixtures;
#[cfg(test)]
mod tests;

/// Every scenario, in the order they run.
pub const SCENARIOS: &[&str] = &[
    "login",
    "users-page",
    "users-api",
    "users-search",
    "users-late",
    "audit",
    "io-services",
    "io-search",
    "io-late",
    "io-service",
    "manage-get",
    "manage-list",
    "exchange",
    "catalogue",
    "agreements",
    "purposes",
];

/// Pages and lists: p99 at most this…
const PAGE_P99: Duration = Duration::from_millis(20);
/// …and at least this many answers per second.
const PAGE_RATE: f64 = 500.0;
/// The manage API: at least this share of `/healthz`.
const MANAGE_RATIO: f64 = 0.40;
/// The identity-token exchange: at least this share of the raw RSA-2048 sign rate.
const EXCHANGE_RATIO: f64 = 0.70;

pub struct Options {
    /// A database written by `loadgen seed`.
    pub database_url: String,
    /// The master key file the seed sealed the API keys with.
    pub master_key_file: PathBuf,
    pub connections: usize,
    /// Of each measured phase (the reference's and the scenario's).
    pub duration: Duration,
    /// Before each measured phase.
    pub warmup: Duration,
    /// The scenarios to run (all when empty).
    pub only: Vec<String>,
    /// How long the raw RSA sign rate is measured (the exchange's reference).
    pub sign_reference: Duration,
    /// Print the progress and the table (the tests keep quiet).
    pub verbose: bool,
    /// The app's `database.max_connections` (the app's default when `None`).
    pub max_connections: Option<u32>,
}

/// Parses `--only`: names of [`SCENARIOS`], comma-separated.
pub fn parse_only(s: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = s
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    for n in &names {
        if !SCENARIOS.contains(&n.as_str()) {
            return Err(format!(
                "--only: no scenario {n} (there are: {})",
                SCENARIOS.join(", ")
            ));
        }
    }
    Ok(names)
}

/// What a credential a request carries.
#[derive(Clone, Debug)]
pub(crate) enum Auth {
    None,
    Bearer(String),
    /// A manage key, as the real platform's API Management takes it.
    Key(String),
    /// A browser's session cookie (`name=value`): the pages take no bearer token.
    Cookie(String),
}

/// What one answer must be.
#[derive(Clone, Debug)]
pub(crate) struct Check {
    pub(crate) status: u16,
    /// Each of these must appear in the body.
    pub(crate) contains: Vec<String>,
    /// The body must hold a non-empty JSON list of objects (`[{`).
    pub(crate) list: bool,
}

impl Check {
    pub(crate) fn ok(contains: &[&str]) -> Check {
        Check {
            status: 200,
            contains: contains.iter().map(|s| (*s).to_owned()).collect(),
            list: false,
        }
    }

    pub(crate) fn list(contains: &[&str]) -> Check {
        Check {
            list: true,
            ..Check::ok(contains)
        }
    }

    fn verify(&self, what: &str, status: u16, body: &[u8]) -> Result<(), String> {
        let text = || {
            let s = String::from_utf8_lossy(body);
            let cut: String = s.chars().take(300).collect();
            cut
        };
        if status != self.status {
            return Err(format!(
                "{what}: {status} instead of {}: {}",
                self.status,
                text()
            ));
        }
        for c in &self.contains {
            if !contains(body, c.as_bytes()) {
                return Err(format!("{what}: the answer lacks {c:?}: {}", text()));
            }
        }
        if self.list && !contains(body, b"[{") {
            return Err(format!("{what}: the answer has no list items: {}", text()));
        }
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// One GET.
#[derive(Clone, Debug)]
pub(crate) struct Get {
    /// The path and query (after the server's address).
    pub(crate) path: String,
    pub(crate) auth: Auth,
    pub(crate) check: Check,
}

/// What one answer of a scenario is.
#[derive(Clone, Debug)]
pub(crate) enum Work {
    /// The same GET each time.
    Get(Get),
    /// A browser's login through the test identity provider's form (`POST
    /// /auth/test-idp/login`, answered with the session cookie), then each page with that
    /// cookie.
    Login {
        person: Vec<(String, String)>,
        pages: Vec<Get>,
    },
}

/// Which target a scenario is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// p99 ≤ 20 ms and ≥ 500 answers/s.
    Page,
    /// ≥ 40% of `/healthz`.
    Manage,
    /// ≥ 70% of the raw RSA-2048 sign rate.
    Exchange,
}

#[derive(Clone, Debug)]
pub(crate) struct Scenario {
    pub(crate) name: &'static str,
    /// What it asks, in words.
    pub(crate) what: String,
    pub(crate) target: Target,
    pub(crate) work: Work,
}

/// The figures of one scenario.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    pub ok: usize,
    pub failed: usize,
    pub failures: Vec<String>,
    pub rate: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// Server CPU time per answer.
    pub cpu_per_answer: Duration,
    /// `/healthz` right before it.
    pub reference: f64,
    /// The raw RSA-2048 sign rate (the exchange only).
    pub sign_rate: Option<f64>,
    /// Whether the target was met, and the target in words.
    pub met: bool,
    pub target: String,
}

impl Outcome {
    /// The rate against what the target compares it with.
    fn ratio(&self) -> f64 {
        match self.sign_rate {
            Some(sign) => self.rate / sign.max(1e-9),
            None => self.rate / self.reference.max(1e-9),
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Runs the scenarios, prints each and the summary; the outcomes, or an error when an answer
/// was not the expected one.
pub fn run(options: &Options) -> Result<Vec<Outcome>, Error> {
    let say = |s: String| {
        if options.verbose {
            println!("{s}");
        }
    };
    let placement = Placement::new(1);
    let dir = tempfile::tempdir()?;
    let settings = settings(options, dir.path())?;
    say(format!(
        "national: starting the app on {} (1 worker thread, {}), load generator on {}…",
        redact(&options.database_url),
        Placement::describe(&placement.server),
        Placement::describe(&placement.load)
    ));
    let started = Instant::now();
    let server = Server::start_in(settings, selfcare::Mode::Serve, 1, &placement.server)?;
    say(format!(
        "national:   ready in {} ms",
        started.elapsed().as_millis()
    ));
    let base = format!("http://{}", server.addr);

    let result = measure(options, &placement, &server, &base, say);
    let stopped = server.stop();
    let outcomes = result?;
    stopped?;
    if options.verbose {
        print_table(&outcomes);
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.failed > 0).collect();
    if !failed.is_empty() {
        let mut message = String::from("answers that were not the expected ones:");
        for o in failed {
            message.push_str(&format!(
                "\n  {}: {} of {}; first: {}",
                o.name,
                o.failed,
                o.ok + o.failed,
                o.failures.first().map_or("", String::as_str)
            ));
        }
        return Err(message.into());
    }
    Ok(outcomes)
}

/// The app's settings as `selfcare serve` on the seeded database would have them, with the test
/// identity provider on; the keys it needs besides the master key are made in `dir`.
fn settings(options: &Options, dir: &std::path::Path) -> Result<selfcare::Settings, Error> {
    let mut settings = selfcare::Settings::default();
    settings.http.listen = "127.0.0.1:0".parse()?;
    settings.http.public_url = Some("http://127.0.0.1".into());
    settings.database.url = Some(options.database_url.clone());
    if let Some(n) = options.max_connections {
        settings.database.max_connections = n;
    }
    settings.mail.log_dir = Some(dir.join("mail"));
    let signing = dir.join("signing.pem");
    platform::keys::generate_pem_file(&signing)?;
    settings.signing.key_files = vec![signing];
    for (env, s) in [
        ("produzione", &mut settings.interop.produzione),
        ("collaudo", &mut settings.interop.collaudo),
    ] {
        let path = dir.join(format!("interop-{env}.pem"));
        platform::keys::generate_pem_file(&path)?;
        s.signing_key_files = vec![path];
    }
    settings.io.master_key_files = vec![options.master_key_file.clone()];
    settings.reserved_area.test_idp.enabled = true;
    settings.log.level = "warn".into();
    Ok(settings)
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

fn measure(
    options: &Options,
    placement: &Placement,
    server: &Server,
    base: &str,
    say: impl Fn(String),
) -> Result<Vec<Outcome>, Error> {
    say("national: finding the fixtures in the database…".into());
    let db = server.db.clone();
    let master_key = options.master_key_file.clone();
    let found = server.run(async move { fixtures::find(&db, &master_key).await })?;
    for line in found.describe() {
        say(format!("  {line}"));
    }
    say("national: logging in and entering the back-offices…".into());
    let setup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let http = http_client(4)?;
    let sessions = setup.block_on(fixtures::open_sessions(&http, base, &found))?;
    let wanted = |name: &str| options.only.is_empty() || options.only.iter().any(|o| o == name);
    let scenarios: Vec<Scenario> = fixtures::scenarios(&found, &sessions)
        .into_iter()
        .filter(|s| wanted(s.name))
        .collect();
    let healthz = Work::Get(Get {
        path: "/healthz".into(),
        auth: Auth::None,
        check: Check::ok(&["\"ok\""]),
    });

    // Each one once, before any load: a wrong answer stops here, clearly.
    for s in &scenarios {
        setup
            .block_on(once(&http, base, &s.work))
            .map_err(|e| format!("[{}] {}: {e}", s.name, s.what))?;
    }
    drop(setup);

    let mut outcomes = Vec::new();
    for s in &scenarios {
        say(format!("national: [{}] {}", s.name, s.what));
        let sign_rate = if s.target == Target::Exchange {
            let (rate, _) = raw_sign_rate_for(&placement.server, options.sign_reference)?;
            say(format!(
                "  reference: raw RSA-2048 signatures on the server's core: {rate:.0}/s"
            ));
            Some(rate)
        } else {
            None
        };
        let reference = load(options, placement, base, &healthz)?;
        say(format!(
            "  reference GET /healthz  {:>9.0}/s  p50 {}  p99 {}",
            reference.rate(),
            ms(reference.percentile(0.50)),
            ms(reference.percentile(0.99))
        ));
        let phase = load(options, placement, base, &s.work)?;
        let per_answer = phase.server_cpu / u32::try_from(phase.ok.max(1)).unwrap_or(u32::MAX);
        let mut outcome = Outcome {
            name: s.name.to_string(),
            ok: phase.ok,
            failed: phase.failed,
            failures: phase.failures.clone(),
            rate: phase.rate(),
            p50: phase.percentile(0.50),
            p99: phase.percentile(0.99),
            cpu_per_answer: per_answer,
            reference: reference.rate(),
            sign_rate,
            met: false,
            target: String::new(),
        };
        (outcome.met, outcome.target) = verdict(s.target, &outcome);
        say(format!(
            "  {:<22} {:>9.0}/s  p50 {}  p99 {}  ({:.1}% of {}; {:.0} µs of server CPU each; {})",
            s.name,
            outcome.rate,
            ms(outcome.p50),
            ms(outcome.p99),
            outcome.ratio() * 100.0,
            if sign_rate.is_some() {
                "the sign rate"
            } else {
                "/healthz"
            },
            per_answer.as_secs_f64() * 1e6,
            phase.describe_cpu(&placement.server)
        ));
        say(format!(
            "  target: {} → {}",
            outcome.target,
            if outcome.met { "met" } else { "NOT met" }
        ));
        for f in outcome.failures.iter().take(3) {
            say(format!("  failure: {f}"));
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn verdict(target: Target, o: &Outcome) -> (bool, String) {
    match target {
        Target::Page => (
            o.p99 <= PAGE_P99 && o.rate >= PAGE_RATE,
            format!("p99 ≤ {} and ≥ {PAGE_RATE:.0}/s", ms(PAGE_P99)),
        ),
        Target::Manage => (
            o.rate >= MANAGE_RATIO * o.reference,
            format!("≥ {:.0}% of /healthz", MANAGE_RATIO * 100.0),
        ),
        Target::Exchange => (
            o.sign_rate
                .is_some_and(|sign| o.rate >= EXCHANGE_RATIO * sign),
            format!("≥ {:.0}% of the RSA sign rate", EXCHANGE_RATIO * 100.0),
        ),
    }
}

fn print_table(outcomes: &[Outcome]) {
    println!();
    println!(
        "{:<14} {:>10} {:>9} {:>9} {:>10} {:>12} {:>8}  target",
        "scenario", "answers/s", "p50 ms", "p99 ms", "CPU µs", "/healthz/s", "ratio"
    );
    for o in outcomes {
        let ratio = match o.sign_rate {
            Some(sign) => format!("{:.1}%*", o.rate / sign.max(1e-9) * 100.0),
            None => format!("{:.1}%", o.ratio() * 100.0),
        };
        println!(
            "{:<14} {:>10.0} {:>9.2} {:>9.2} {:>10.0} {:>12.0} {:>8}  {} → {}",
            o.name,
            o.rate,
            o.p50.as_secs_f64() * 1000.0,
            o.p99.as_secs_f64() * 1000.0,
            o.cpu_per_answer.as_secs_f64() * 1e6,
            o.reference,
            ratio,
            o.target,
            if o.met { "met" } else { "NOT met" }
        );
    }
    println!("(CPU µs: the server's CPU time per answer, its SQLite threads included)");
    if let Some(o) = outcomes.iter().find(|o| o.sign_rate.is_some()) {
        println!(
            "* of the raw RSA-2048 sign rate on the server's core ({:.0}/s), not of /healthz",
            o.sign_rate.unwrap_or_default()
        );
    }
}

/// `work` once: Ok, or what came back instead.
async fn once(http: &reqwest::Client, base: &str, work: &Work) -> Result<(), String> {
    match work {
        Work::Get(get) => fetch(http, base, get, None).await,
        Work::Login { person, pages } => {
            let r = http
                .post(format!("{base}/auth/test-idp/login"))
                .form(person)
                .send()
                .await
                .map_err(|e| format!("login: transport: {e}"))?;
            let status = r.status().as_u16();
            let cookie = session_cookie(&r);
            let body = r
                .bytes()
                .await
                .map_err(|e| format!("login: transport: {e}"))?;
            Check {
                status: 303,
                contains: Vec::new(),
                list: false,
            }
            .verify("POST /auth/test-idp/login", status, &body)?;
            let cookie = cookie.ok_or("POST /auth/test-idp/login: no session cookie")?;
            for page in pages {
                fetch(http, base, page, Some(&cookie)).await?;
            }
            Ok(())
        }
    }
}

/// The first cookie an answer sets, as `name=value`.
pub(crate) fn session_cookie(r: &reqwest::Response) -> Option<String> {
    let set = r
        .headers()
        .get(reqwest::header::SET_COOKIE)?
        .to_str()
        .ok()?;
    let pair = set.split(';').next()?.trim();
    (!pair.is_empty()).then(|| pair.to_owned())
}

/// An HTTP client that keeps `connections` connections alive and follows no redirects (a
/// login's answer is a redirect with the session cookie).
pub(crate) fn http_client(connections: usize) -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// One GET, with `cookie` (a session cookie) when given.
async fn fetch(
    http: &reqwest::Client,
    base: &str,
    get: &Get,
    cookie: Option<&str>,
) -> Result<(), String> {
    let mut r = http.get(format!("{base}{}", get.path));
    r = match (&get.auth, cookie) {
        (_, Some(cookie)) => r.header(reqwest::header::COOKIE, cookie),
        (Auth::Cookie(cookie), None) => r.header(reqwest::header::COOKIE, cookie.as_str()),
        (Auth::Bearer(token), None) => r.bearer_auth(token),
        (Auth::Key(key), None) => r.header("Ocp-Apim-Subscription-Key", key),
        (Auth::None, None) => r,
    };
    let what = || format!("GET {}", get.path);
    let response = r
        .send()
        .await
        .map_err(|e| format!("{}: transport: {e}", what()))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("{}: transport: {e}", what()))?;
    get.check.verify(&what(), status, &body)
}

/// A warm-up, then the measured closed loop, on the load generator's CPU.
fn load(options: &Options, placement: &Placement, base: &str, work: &Work) -> Result<Phase, Error> {
    let (base, work) = (Arc::new(base.to_string()), Arc::new(work.clone()));
    let connections = options.connections;
    let (warmup, duration) = (options.warmup, options.duration);
    on_cpus("load", &placement.load, move || async move {
        let http = http_client(connections)?;
        if !warmup.is_zero() {
            closed_loop(&http, &base, &work, connections, warmup).await?;
        }
        closed_loop(&http, &base, &work, connections, duration).await
    })
}

/// `connections` callers, each sending the next request as soon as its previous one is
/// answered, for `length`.
async fn closed_loop(
    http: &reqwest::Client,
    base: &Arc<String>,
    work: &Arc<Work>,
    connections: usize,
    length: Duration,
) -> Result<Phase, Error> {
    let threads = thread_cpu();
    let cpu_before = cpu_times();
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (http, base, work) = (http.clone(), base.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            let mut phase = Phase::default();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let result = once(&http, &base, &work).await.map(|()| sent.elapsed());
                record(&mut phase, result);
            }
            phase
        }));
    }
    let mut total = Phase::default();
    for t in tasks {
        total.merge(t.await?);
    }
    total.finish(started, &cpu_before, &threads);
    Ok(total)
}
