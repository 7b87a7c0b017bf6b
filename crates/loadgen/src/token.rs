//! The `token` scenario: `POST /interop/collaudo/token.oauth2` with valid client assertions,
//! the server on one core, next to the raw RSA-2048 sign rate of that core.
//!
//! Everything the endpoint needs is prepared through the real JSON API (an ACTIVE agreement and
//! purpose on SEND - UAT for the demo Comune, consumer clients with uploaded keys and the
//! purpose linked); the client assertions are all signed before the timed part, on every core,
//! since each costs as much as the server's own signature.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use interop::model::Environment;
use interop::model::client::ClientKind;
use interop::store::tokens::{self, VoucherRecord};
use platform::db::{Db, Dialect};
use platform::group_commit::GroupCommit;
use serde_json::{Value, json};

use crate::{Error, json_of};

const MARIO: &str = "RSSMRA85T10A562S"; // Comune admin
const LUCA: &str = "NRELCU92C15L219G"; // given admin on Interoperabilità Collaudo here
const COLL: &str = "/interop/collaudo";
const SEND: &str = "SEND - UAT (Piattaforma Notifiche)";
const AUDIENCE: &str = "auth.uat.interop.pagopa.it/client-assertion";
const ASSERTION_TYPE: &str = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer";
/// The target of `quality.md`: vouchers/s on one core ≥ 75% of the raw sign rate.
const TARGET_RATIO: f64 = 0.75;
/// p99 at half load.
const TARGET_P99: Duration = Duration::from_millis(5);
const WARMUP: Duration = Duration::from_secs(1);
const REFERENCE: Duration = Duration::from_secs(3);

pub struct Options {
    pub database_url: Option<String>,
    pub connections: usize,
    pub duration: Duration,
    pub clients: usize,
    pub server_threads: usize,
    pub database_connections: Option<u32>,
    pub commit_interval_ms: Option<u64>,
}

// ---- cores ----

/// The CPUs this process may run on.
#[allow(unsafe_code)]
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: `set` is a plain bitset the call fills in; its size is passed along.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// Pins the calling thread (and the threads it starts from now on) to `cpus`.
#[allow(unsafe_code)]
fn pin(cpus: &[usize]) -> bool {
    if cpus.is_empty() {
        return false;
    }
    // SAFETY: `set` is a plain bitset built here; its size is passed along; pid 0 is this
    // thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// Where each part runs: the server's runtime (and every thread it starts: SQLite's connection
/// threads too) on the first `server_threads` CPUs, the load generator on the remaining ones.
struct Placement {
    server: Vec<usize>,
    load: Vec<usize>,
}

impl Placement {
    fn new(server_threads: usize) -> Placement {
        let cpus = allowed_cpus();
        if cpus.len() > server_threads {
            Placement {
                server: cpus[..server_threads].to_vec(),
                load: cpus[server_threads..].to_vec(),
            }
        } else {
            Placement {
                server: Vec::new(),
                load: Vec::new(),
            }
        }
    }

    fn describe(cpus: &[usize]) -> String {
        if cpus.is_empty() {
            "not pinned".into()
        } else {
            let list: Vec<String> = cpus.iter().map(ToString::to_string).collect();
            format!("CPU {}", list.join(","))
        }
    }
}

/// Jiffies of one CPU (`/proc/stat`).
#[derive(Clone, Copy)]
struct CpuTimes {
    /// Not idle: this machine's work, and the time the hypervisor gave to others (steal).
    busy: u64,
    steal: u64,
    total: u64,
}

/// The jiffies of each CPU.
fn cpu_times() -> Vec<CpuTimes> {
    let Ok(text) = std::fs::read_to_string("/proc/stat") else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let v: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            let total: u64 = v.iter().sum();
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            CpuTimes {
                busy: total - idle,
                steal: v.get(7).copied().unwrap_or(0),
                total,
            }
        })
        .collect()
}

/// The busy share of each CPU between two readings of [`cpu_times`], and the share stolen by
/// the hypervisor (a virtual CPU that did not run: everything on it waited).
fn cpu_busy(before: &[CpuTimes], after: &[CpuTimes]) -> Vec<(f64, f64)> {
    before
        .iter()
        .zip(after)
        .map(|(b, a)| {
            let total = a.total.saturating_sub(b.total).max(1) as f64;
            (
                a.busy.saturating_sub(b.busy) as f64 / total,
                a.steal.saturating_sub(b.steal) as f64 / total,
            )
        })
        .collect()
}

/// The CPU time stolen by the hypervisor from all CPUs between two readings of [`cpu_times`]
/// (jiffies of 1/`USER_HZ` = 10 ms as `/proc/stat` counts them).
fn stolen(before: &[CpuTimes], after: &[CpuTimes]) -> Duration {
    let jiffies: u64 = before
        .iter()
        .zip(after)
        .map(|(b, a)| a.steal.saturating_sub(b.steal))
        .sum();
    Duration::from_millis(jiffies * 10)
}

/// The server's threads: its runtime's (and any they start), SQLite's connections and the
/// group-commit writers.
fn is_server_thread(name: &str) -> bool {
    name.starts_with("server")
        || name.starts_with("sqlx-sqlite")
        || name.starts_with("group-commit")
}

/// CPU time of each thread of this process so far (ns, `/proc/self/task/*/schedstat`), by
/// thread id, with the thread's name.
fn thread_cpu() -> std::collections::HashMap<u64, (String, u64)> {
    let mut out = std::collections::HashMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<u64>().ok())
        else {
            continue;
        };
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let ns = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
        out.insert(tid, (name.trim().to_string(), ns));
    }
    out
}

/// CPU time the server's threads used between two readings of [`thread_cpu`]: all of them,
/// and among them sqlx's SQLite connection threads and the group-commit writers.
fn server_cpu(
    before: &std::collections::HashMap<u64, (String, u64)>,
    after: &std::collections::HashMap<u64, (String, u64)>,
) -> ServerCpu {
    let mut cpu = ServerCpu::default();
    for (tid, (name, ns)) in after {
        if !is_server_thread(name) {
            continue;
        }
        let used = Duration::from_nanos(ns.saturating_sub(before.get(tid).map_or(0, |(_, b)| *b)));
        cpu.all += used;
        if name.starts_with("sqlx-sqlite") {
            cpu.sqlite += used;
        }
        if name.starts_with("group-commit") {
            cpu.writer += used;
        }
    }
    cpu
}

#[derive(Debug, Default, Clone, Copy)]
struct ServerCpu {
    all: Duration,
    sqlite: Duration,
    writer: Duration,
}

/// CPU time of the calling thread so far.
fn this_thread_cpu() -> Duration {
    Duration::from_nanos(
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0),
    )
}

/// Runs `f` on a current-thread runtime in a new thread pinned to `cpus`.
fn on_cpus<T, F>(
    name: &str,
    cpus: &[usize],
    f: impl FnOnce() -> F + Send + 'static,
) -> Result<T, Error>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, Error>>,
{
    let cpus = cpus.to_vec();
    let thread = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            pin(&cpus);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .thread_name("load")
                .enable_all()
                .build()?;
            runtime.block_on(f())
        })?;
    thread.join().map_err(|_| "a load thread panicked")?
}

// ---- the server, on its own runtime and cores ----

struct Server {
    addr: std::net::SocketAddr,
    runtime: tokio::runtime::Handle,
    db: Db,
    vouchers: interop::Vouchers,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), Error>>>,
}

impl Server {
    fn start(
        settings: selfcare::Settings,
        data_dir: std::path::PathBuf,
        threads: usize,
        cpus: &[usize],
    ) -> Result<Server, Error> {
        let cpus = cpus.to_vec();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("server".into()).spawn(
            move || -> Result<(), Error> {
                pin(&cpus);
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
                    .thread_name("server-worker")
                    .enable_all()
                    .build()?;
                let handle = runtime.handle().clone();
                runtime.block_on(async move {
                    let app =
                        match selfcare::App::start(settings, selfcare::Mode::Demo { data_dir })
                            .await
                        {
                            Ok(app) => app,
                            Err(e) => {
                                let _ = ready_tx.send(Err(e.to_string()));
                                return Ok(());
                            }
                        };
                    let _ = ready_tx.send(Ok((
                        app.addr(),
                        handle,
                        app.platform().db.clone(),
                        app.vouchers().clone(),
                    )));
                    let _ = stop_rx.await;
                    app.stop().await?;
                    Ok(())
                })
            },
        )?;
        let (addr, runtime, db, vouchers) =
            ready_rx.recv().map_err(|_| "the server thread ended")??;
        Ok(Server {
            addr,
            runtime,
            db,
            vouchers,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the server's runtime (its cores) and waits for it.
    fn run<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = Result<T, Error>> + Send + 'static,
    ) -> Result<T, Error> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.recv()
            .map_err(|_| "a task on the server's runtime failed")?
    }

    fn stop(mut self) -> Result<(), Error> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| "the server thread panicked")?,
            None => Ok(()),
        }
    }
}

// ---- client keys and assertions ----

struct ClientKey {
    id: String,
    kid: String,
    pair: RsaKeyPair,
    /// The base64url header of its assertions.
    header: String,
}

fn new_key_pair() -> Result<RsaKeyPair, Error> {
    RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| "cannot generate an RSA key".into())
}

/// The upload form of the public half: the base64 of its `PUBLIC KEY` PEM; and its kid.
fn public_upload(pair: &RsaKeyPair) -> Result<(String, String), Error> {
    let der = pair
        .public_key()
        .as_der()
        .map_err(|_| "cannot encode a public key")?;
    let body = STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line)?);
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    let public = pair.public_key();
    let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
    let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
    Ok((STANDARD.encode(pem), platform::keys::jwk_thumbprint(&n, &e)))
}

fn rs256(pair: &RsaKeyPair, message: &[u8]) -> Result<Vec<u8>, Error> {
    let mut signature = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut signature,
    )
    .map_err(|_| "signing failed")?;
    Ok(signature)
}

/// A token request's form with a fresh assertion of `key` (distinct `jti`, `exp` an hour on).
fn token_request(key: &ClientKey, purpose_id: &str, now: i64) -> Result<Bytes, Error> {
    let claims = json!({
        "iss": key.id, "sub": key.id, "aud": AUDIENCE,
        "jti": uuid::Uuid::new_v4().simple().to_string(),
        "iat": now, "exp": now + 3600, "purposeId": purpose_id,
    });
    let mut jwt = key.header.clone();
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?));
    let signature = rs256(&key.pair, jwt.as_bytes())?;
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(Bytes::from(format!(
        "client_id={}&client_assertion={jwt}&client_assertion_type={ASSERTION_TYPE}\
         &grant_type=client_credentials",
        key.id
    )))
}

/// `count` token requests, round robin over the clients, signed on every core.
fn presign(keys: &[ClientKey], purpose_id: &str, count: usize) -> Result<Vec<Bytes>, Error> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let now = platform::jwt::now_secs();
    let per = count.div_ceil(threads);
    let parts: Vec<Result<Vec<Bytes>, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let from = t * per;
                    let to = ((t + 1) * per).min(count);
                    (from..to)
                        .map(|i| token_request(&keys[i % keys.len()], purpose_id, now))
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| Error::from("a signing thread panicked"))?
            })
            .collect()
    });
    let mut all = Vec::with_capacity(count);
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}

/// Raw RSA-2048 PKCS#1 SHA-256 signatures per second on one core (the first of `cpus`), for
/// [`REFERENCE`], with the library the server uses: per second of wall-clock time, and per
/// second of the thread's CPU time (which other processes on the machine do not lower).
fn raw_sign_rate(cpus: &[usize]) -> Result<(f64, f64), Error> {
    let cpus: Vec<usize> = cpus.iter().copied().take(1).collect();
    let thread = std::thread::Builder::new().name("reference".into()).spawn(
        move || -> Result<(f64, f64), Error> {
            pin(&cpus);
            let pair = new_key_pair()?;
            // About the size of what the server signs: a voucher's header and claims.
            let message = vec![b'a'; 700];
            rs256(&pair, &message)?;
            let started = Instant::now();
            let cpu = this_thread_cpu();
            let mut n = 0u64;
            while started.elapsed() < REFERENCE {
                rs256(&pair, &message)?;
                n += 1;
            }
            let cpu = this_thread_cpu()
                .saturating_sub(cpu)
                .as_secs_f64()
                .max(1e-9);
            Ok((n as f64 / started.elapsed().as_secs_f64(), n as f64 / cpu))
        },
    )?;
    thread.join().map_err(|_| "the reference thread panicked")?
}

// ---- preparation through the JSON API ----

struct Prepared {
    purpose_id: String,
    keys: Vec<ClientKey>,
}

async fn session_token(
    http: &reqwest::Client,
    base: &str,
    fiscal_code: &str,
) -> Result<String, Error> {
    let r = json_of(
        http.post(format!("{base}/auth/test-idp/token"))
            .json(&json!({ "fiscal_number": fiscal_code })),
    )
    .await?;
    Ok(r["sessionToken"]
        .as_str()
        .ok_or("no session token")?
        .to_string())
}

async fn comune_id(http: &reqwest::Client, base: &str, session: &str) -> Result<String, Error> {
    let list = json_of(
        http.get(format!("{base}/v2/institutions"))
            .bearer_auth(session),
    )
    .await?;
    Ok(list
        .as_array()
        .and_then(|l| l.iter().find(|i| i["name"] == "Comune di Roccabella"))
        .and_then(|i| i["id"].as_str())
        .ok_or("no Comune")?
        .to_string())
}

/// Mario gives Luca admin on Interoperabilità Collaudo; Luca enters Collaudo for the Comune;
/// an ACTIVE agreement and purpose on SEND - UAT; `clients` consumer clients with Luca as
/// member, an uploaded RSA-2048 key each and the purpose linked.
async fn prepare(http: &reqwest::Client, base: &str, clients: usize) -> Result<Prepared, Error> {
    let mario = session_token(http, base, MARIO).await?;
    let comune = comune_id(http, base, &mario).await?;
    json_of(
        http.post(format!(
            "{base}/v2/institutions/{comune}/products/prod-interop-coll/users"
        ))
        .bearer_auth(&mario)
        .json(&json!({
            "name": "Luca", "surname": "Neri", "taxCode": LUCA,
            "email": "luca.neri@comune.roccabella.it",
            "role": "SUB_DELEGATE", "productRoles": ["admin"]
        })),
    )
    .await?;
    let session = session_token(http, base, LUCA).await?;
    let identity = json_of(
        http.get(format!(
            "{base}/v2/token/exchange?institutionId={comune}&productId=prod-interop-coll"
        ))
        .bearer_auth(&session),
    )
    .await?;
    let r = json_of(
        http.post(format!("{base}{COLL}/api/session"))
            .json(&json!({ "identity_token": identity["token"] })),
    )
    .await?;
    let luca = r["token"]
        .as_str()
        .ok_or("no Collaudo session")?
        .to_string();
    let api = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{base}{COLL}/api{path}"))
            .bearer_auth(&luca)
    };
    use reqwest::Method;

    let catalog = json_of(api(Method::GET, "/catalog?q=SEND")).await?;
    let send = catalog["results"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["name"] == SEND))
        .ok_or("SEND - UAT is not in the catalogue")?;
    let eservice = send["id"].as_str().ok_or("no e-service id")?.to_string();
    let descriptor = send["activeDescriptor"]["id"]
        .as_str()
        .ok_or("no published version")?;
    let a = json_of(
        api(Method::POST, "/agreements")
            .json(&json!({"eserviceId": eservice, "descriptorId": descriptor})),
    )
    .await?;
    let agreement = a["id"].as_str().ok_or("no agreement id")?;
    let a = json_of(api(
        Method::POST,
        &format!("/agreements/{agreement}/submit"),
    ))
    .await?;
    if a["state"] != "ACTIVE" {
        return Err(format!("the agreement is {} instead of ACTIVE", a["state"]).into());
    }

    let form = json_of(api(Method::GET, "/purposes/riskAnalysis/form")).await?;
    let risk = risk_answers(&form)?;
    let p = json_of(api(Method::POST, "/purposes").json(&json!({
        "eserviceId": eservice,
        "title": "Notifiche degli atti (loadgen)",
        "description": "Invio delle notifiche degli atti del Comune.",
        "isFreeOfCharge": false,
        "dailyCalls": 1000,
        "riskAnalysisForm": risk,
    })))
    .await?;
    let purpose_id = p["id"].as_str().ok_or("no purpose id")?.to_string();
    let version = p["versions"][0]["id"]
        .as_str()
        .ok_or("no purpose version")?;
    let p = json_of(api(
        Method::POST,
        &format!("/purposes/{purpose_id}/versions/{version}/activate"),
    ))
    .await?;
    if p["versions"][0]["state"] != "ACTIVE" {
        return Err(format!(
            "the purpose is {} instead of ACTIVE",
            p["versions"][0]["state"]
        )
        .into());
    }

    let me = json_of(api(Method::GET, "/me")).await?;
    let user_id = me["userId"].as_str().ok_or("no user id")?.to_string();
    // RSA key generation is slow: on every core, while nothing is measured.
    let pairs: Vec<RsaKeyPair> = {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per = clients.div_ceil(threads);
        let made: Vec<Result<Vec<RsaKeyPair>, Error>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        (t * per..((t + 1) * per).min(clients))
                            .map(|_| new_key_pair())
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().map_err(|_| Error::from("a key thread panicked"))?)
                .collect()
        });
        let mut all = Vec::with_capacity(clients);
        for m in made {
            all.extend(m?);
        }
        all
    };
    let mut keys = Vec::with_capacity(clients);
    for (i, pair) in pairs.into_iter().enumerate() {
        let c = json_of(api(Method::POST, "/clientsConsumer").json(&json!({
            "name": format!("Client di carico {i:03}"),
            "description": "Client del benchmark del token endpoint",
            "members": [user_id],
        })))
        .await?;
        let id = c["id"].as_str().ok_or("no client id")?.to_string();
        let (upload, kid) = public_upload(&pair)?;
        let added = json_of(
            api(Method::POST, &format!("/clients/{id}/keys")).json(&json!([{
                "key": upload, "use": "SIG", "alg": "RS256", "name": format!("Chiave {i:03}"),
            }])),
        )
        .await?;
        if added["keys"][0]["kid"].as_str().is_some_and(|k| k != kid) {
            return Err(
                format!("the platform gave the key kid {}", added["keys"][0]["kid"]).into(),
            );
        }
        json_of(
            api(Method::POST, &format!("/clients/{id}/purposes"))
                .json(&json!({ "purposeId": purpose_id })),
        )
        .await?;
        let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(
            &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        )?);
        keys.push(ClientKey {
            id,
            kid,
            pair,
            header,
        });
    }
    Ok(Prepared { purpose_id, keys })
}

/// Answers that satisfy the current risk-analysis form: the first choice of every question
/// that applies, a sentence for texts.
fn risk_answers(form: &Value) -> Result<Value, Error> {
    let mut answers = serde_json::Map::new();
    for q in form["questions"].as_array().ok_or("no questions")? {
        if let Some(dep) = q.get("dependsOn") {
            let given = dep["question"]
                .as_str()
                .and_then(|d| answers.get(d))
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x == &dep["value"]));
            if !given {
                continue;
            }
        }
        let value = match q["kind"].as_str() {
            Some("TEXT") => json!(["Notifiche degli atti del Comune ai cittadini."]),
            _ => json!([q["options"][0]["value"]]),
        };
        let id = q["id"].as_str().ok_or("a question without id")?;
        answers.insert(id.to_string(), value);
    }
    Ok(json!({ "version": form["version"], "answers": answers }))
}

/// One request made and checked through the endpoint before anything is measured: the
/// voucher's claims are the ones of the spec.
async fn check_one(
    http: &reqwest::Client,
    url: &str,
    body: Bytes,
    purpose_id: &str,
) -> Result<(), Error> {
    let r = post_form(http, url, body).send().await?;
    let status = r.status();
    let text = r.text().await?;
    if status != 200 {
        return Err(format!("the token endpoint answered {status}: {text}").into());
    }
    let v: Value = serde_json::from_str(&text)?;
    let token = v["access_token"].as_str().ok_or("no access_token")?;
    let payload = token.split('.').nth(1).ok_or("the voucher is not a JWT")?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
    if claims["purposeId"] != purpose_id || v["token_type"] != "Bearer" {
        return Err(format!("unexpected voucher: {text}").into());
    }
    Ok(())
}

// ---- load ----

#[derive(Default)]
struct Phase {
    ok: usize,
    failed: usize,
    /// The first failures, as `status: body`.
    failures: Vec<String>,
    /// Latency of each 200, in microseconds.
    latencies: Vec<u32>,
    elapsed: Duration,
    /// The pre-signed requests ran out before the time did.
    exhausted: bool,
    /// Largest delay of a paced request behind its schedule.
    max_lag: Duration,
    /// Busy share of each CPU.
    cpu: Vec<(f64, f64)>,
    /// CPU time of the server's threads, and of SQLite's among them.
    server_cpu: Duration,
    sqlite_cpu: Duration,
    writer_cpu: Duration,
    /// Group commits of voucher records during the phase.
    commits: u64,
    /// Paced: the p99 latency of the requests of each second of the schedule.
    p99_by_second: Vec<Duration>,
    /// Paced: how late the generator was at most in each second of the schedule, and the
    /// CPU time the hypervisor stole from all CPUs in it (a stall of the whole machine shows
    /// in both, one of the server alone in neither).
    lag_by_second: Vec<Duration>,
    steal_by_second: Vec<Duration>,
}

impl Phase {
    fn merge(&mut self, other: Phase) {
        self.ok += other.ok;
        self.failed += other.failed;
        for f in other.failures {
            if self.failures.len() < 10 {
                self.failures.push(f);
            }
        }
        self.latencies.extend(other.latencies);
        self.exhausted |= other.exhausted;
    }

    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Vouchers per second of the server's CPU time.
    fn cpu_rate(&self) -> f64 {
        self.ok as f64 / self.server_cpu.as_secs_f64().max(1e-9)
    }

    fn finish(
        &mut self,
        started: Instant,
        cpu: &[CpuTimes],
        threads: &std::collections::HashMap<u64, (String, u64)>,
    ) {
        self.elapsed = started.elapsed();
        self.cpu = cpu_busy(cpu, &cpu_times());
        let cpu = server_cpu(threads, &thread_cpu());
        (self.server_cpu, self.sqlite_cpu, self.writer_cpu) = (cpu.all, cpu.sqlite, cpu.writer);
        self.latencies.sort_unstable();
    }

    /// "CPU0 100% (stolen 0.0%), CPU1 35% (stolen 0.0%), server 99% of its CPU(s) (…)".
    fn describe_cpu(&self, server_cpus: &[usize]) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let mut parts: Vec<String> = self
            .cpu
            .iter()
            .enumerate()
            .map(|(i, (busy, steal))| {
                format!("CPU{i} {:.0}% (stolen {:.1}%)", busy * 100.0, steal * 100.0)
            })
            .collect();
        if !server_cpus.is_empty() {
            let busy: f64 = server_cpus
                .iter()
                .filter_map(|&c| self.cpu.get(c))
                .map(|(busy, steal)| busy - steal)
                .sum::<f64>();
            let server = self.server_cpu.as_secs_f64() / secs;
            parts.push(format!(
                "server {:.0}% of its CPU(s) (SQLite threads {:.0}%, group-commit writer {:.0}%), \
                 other processes {:.0}%",
                100.0 * server / server_cpus.len() as f64,
                100.0 * self.sqlite_cpu.as_secs_f64() / secs / server_cpus.len() as f64,
                100.0 * self.writer_cpu.as_secs_f64() / secs / server_cpus.len() as f64,
                100.0 * (busy - server).max(0.0) / server_cpus.len() as f64
            ));
        }
        parts.join(", ")
    }

    fn percentile(&self, p: f64) -> Duration {
        sorted_percentile(&self.latencies, p)
    }
}

/// The `p` percentile of latencies in microseconds, sorted.
fn sorted_percentile(sorted: &[u32], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    Duration::from_micros(u64::from(sorted[i]))
}

/// The `p` percentile of latencies in microseconds (sorts them).
fn percentile(latencies: &mut [u32], p: f64) -> Duration {
    latencies.sort_unstable();
    sorted_percentile(latencies, p)
}

fn client(connections: usize) -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .build()?)
}

/// `POST url` with a form body (a token request).
fn post_form(http: &reqwest::Client, url: &str, body: Bytes) -> reqwest::RequestBuilder {
    http.post(url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
}

/// One request: Ok(latency) for a 200 with a voucher, Err(what came back) otherwise.
async fn one(http: &reqwest::Client, url: &str, body: Bytes) -> Result<Duration, String> {
    let started = Instant::now();
    let r = post_form(http, url, body)
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = r.status();
    let body = r.bytes().await.map_err(|e| format!("transport: {e}"))?;
    let elapsed = started.elapsed();
    if status == 200 && body.starts_with(b"{\"access_token\":\"") {
        Ok(elapsed)
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
    }
}

fn record(phase: &mut Phase, result: Result<Duration, String>) {
    match result {
        Ok(latency) => {
            phase.ok += 1;
            phase
                .latencies
                .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
        }
        Err(e) => {
            phase.failed += 1;
            if phase.failures.len() < 10 {
                phase.failures.push(e);
            }
        }
    }
}

/// Closed loop: `connections` callers, each sending the next request as soon as its previous
/// one is answered, until `length` has passed or the requests run out.
async fn full_load(
    url: String,
    requests: Arc<Vec<Bytes>>,
    next: Arc<AtomicUsize>,
    connections: usize,
    length: Duration,
) -> Result<Phase, Error> {
    let http = client(connections)?;
    let threads = thread_cpu();
    let cpu_before = cpu_times();
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (http, url, requests, next) =
            (http.clone(), url.clone(), requests.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut phase = Phase::default();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = requests.get(i) else {
                    phase.exhausted = true;
                    break;
                };
                record(&mut phase, one(&http, &url, body.clone()).await);
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

/// Open loop: the requests sent at `rate` per second on a fixed schedule, whatever the answers
/// (at most `connections` in flight), for `length`.
async fn paced_load(
    url: String,
    requests: Vec<Bytes>,
    rate: f64,
    connections: usize,
) -> Result<Phase, Error> {
    let http = client(connections)?;
    let slots = Arc::new(tokio::sync::Semaphore::new(connections));
    let threads = thread_cpu();
    let cpu_before = cpu_times();
    let started = Instant::now();
    let mut max_lag = Duration::ZERO;
    let per_second = (rate.max(1.0) as usize).max(1);
    let mut lag_by_second = Vec::new();
    let mut steal_by_second = Vec::new();
    let mut second_lag = Duration::ZERO;
    let mut second_cpu = cpu_times();
    let mut tasks = Vec::with_capacity(requests.len());
    for (i, body) in requests.into_iter().enumerate() {
        if i > 0 && i % per_second == 0 {
            let now_cpu = cpu_times();
            lag_by_second.push(std::mem::take(&mut second_lag));
            steal_by_second.push(stolen(&second_cpu, &now_cpu));
            second_cpu = now_cpu;
        }
        let at = started + Duration::from_secs_f64(i as f64 / rate);
        let now = Instant::now();
        if now < at {
            tokio::time::sleep_until(at.into()).await;
        } else {
            max_lag = max_lag.max(now - at);
            second_lag = second_lag.max(now - at);
        }
        let (http, url, slots) = (http.clone(), url.clone(), slots.clone());
        tasks.push(tokio::spawn(async move {
            // Waiting for a free connection counts in the latency.
            let queued = Instant::now();
            let _slot = slots.acquire_owned().await;
            one(&http, &url, body).await.map(|_| queued.elapsed())
        }));
    }
    lag_by_second.push(second_lag);
    steal_by_second.push(stolen(&second_cpu, &cpu_times()));
    let mut phase = Phase {
        lag_by_second,
        steal_by_second,
        ..Phase::default()
    };
    let mut second: Vec<u32> = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let result = t.await?;
        if let Ok(latency) = &result {
            second.push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
        }
        // The tail of each second of the schedule: a slow episode shows as such.
        if (i + 1) % per_second == 0 {
            phase.p99_by_second.push(percentile(&mut second, 0.99));
            second.clear();
        }
        record(&mut phase, result);
    }
    phase.finish(started, &cpu_before, &threads);
    phase.max_lag = max_lag;
    Ok(phase)
}

// ---- the database alone ----

struct DbProbe {
    /// Mean time of the endpoint's one read (`tokens::facts`), one after another.
    lookup: Duration,
    /// Mean time of a group commit of N voucher records (as the endpoint writes them).
    commits: Vec<(usize, Duration)>,
}

/// Times the endpoint's read and its group commit straight on the database, on the server's
/// runtime, with nothing else running.
async fn probe_db(
    db: Db,
    kid: String,
    client_id: String,
    purpose_id: String,
) -> Result<DbProbe, Error> {
    let facts = tokens::facts(&db, Environment::Collaudo, &kid, Some(&purpose_id)).await?;
    let Some(purpose) = facts.purpose else {
        return Err("the probe's lookup found no purpose".into());
    };
    let Some(agreement) = purpose.agreement else {
        return Err("the probe's lookup found no agreement".into());
    };
    const LOOKUPS: u32 = 2_000;
    let started = Instant::now();
    for _ in 0..LOOKUPS {
        tokens::facts(&db, Environment::Collaudo, &kid, Some(&purpose_id)).await?;
    }
    let lookup = started.elapsed() / LOOKUPS;

    let record = |jti: String| VoucherRecord {
        jti: format!("probe-{jti}"),
        env: Environment::Collaudo,
        kind: ClientKind::Consumer,
        client_id: client_id.clone(),
        consumer_id: purpose.consumer_id.clone(),
        purpose_id: Some(purpose_id.clone()),
        agreement_id: Some(agreement.id.clone()),
        eservice_id: Some(purpose.eservice_id.clone()),
        descriptor_id: Some(agreement.descriptor_id.clone()),
        client_kid: kid.clone(),
        signing_kid: kid.clone(),
        audience: agreement.audience.join(","),
        assertion_jti: jti,
        issued_at: platform::jwt::now_secs(),
        expires_at: platform::jwt::now_secs() + 600,
    };
    let store = interop::voucher_store(&db).await?;
    let writer = GroupCommit::<VoucherRecord>::spawn(&store, "probe voucher records");
    let mut commits = Vec::new();
    for (size, rounds) in [(1usize, 100u32), (8, 50), (32, 50), (128, 20)] {
        let batches: Vec<Vec<VoucherRecord>> = (0..rounds)
            .map(|_| {
                (0..size)
                    .map(|_| record(uuid::Uuid::new_v4().to_string()))
                    .collect()
            })
            .collect();
        let mut spent = Duration::ZERO;
        for batch in batches {
            // Past the writer's pause between commits, so that it commits at once.
            tokio::time::sleep(db.group_commit_interval()).await;
            // N records handed to the endpoint's writer at once.
            let started = Instant::now();
            let written =
                futures::future::join_all(batch.into_iter().map(|r| writer.record(r))).await;
            spent += started.elapsed();
            if written.contains(&false) {
                return Err("the probe's group commit failed".into());
            }
        }
        commits.push((size, spent / rounds));
    }
    sqlx::query("DELETE FROM interop_vouchers WHERE jti LIKE 'probe-%'")
        .execute(store.writer())
        .await?;
    Ok(DbProbe { lookup, commits })
}

// ---- the scenario ----

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub fn run(options: &Options) -> Result<(), Error> {
    let placement = Placement::new(options.server_threads);
    let dir = tempfile::tempdir()?;
    let mut settings = selfcare::Settings::default();
    settings.http.listen = "127.0.0.1:0".parse()?;
    settings.database.url = options.database_url.clone();
    settings.devportal.listen = "127.0.0.1:0".parse()?;
    settings.log.level = "warn".into();
    if let Some(n) = options.database_connections {
        settings.database.max_connections = n;
    }
    if let Some(ms) = options.commit_interval_ms {
        settings.database.group_commit_interval_ms = ms;
    }
    // All the load comes from one address and one institution: the limits must not count.
    settings.interop.token.rate_limit_per_address = 1_000_000_000;
    settings.interop.token.rate_limit_per_consumer = 1_000_000_000;
    println!(
        "token: starting the demo app ({} worker thread(s), {}), load generator on {}…",
        options.server_threads,
        Placement::describe(&placement.server),
        Placement::describe(&placement.load)
    );
    let server = Server::start(
        settings,
        dir.path().join("data"),
        options.server_threads,
        &placement.server,
    )?;
    let base = format!("http://{}", server.addr);
    let url = format!("{base}{COLL}/token.oauth2");
    let dialect = server.db.dialect();
    let max_connections = options
        .database_connections
        .unwrap_or_else(|| platform::config::DatabaseSettings::default().max_connections);

    println!(
        "token: preparing through the JSON API: agreement, purpose, {} clients with a key each…",
        options.clients
    );
    let setup = tokio::runtime::Builder::new_current_thread()
        .thread_name("setup")
        .enable_all()
        .build()?;
    let http = reqwest::Client::new();
    let prepared = setup.block_on(prepare(&http, &base, options.clients))?;
    let first = presign(&prepared.keys, &prepared.purpose_id, 1)?;
    for body in first {
        setup.block_on(check_one(&http, &url, body, &prepared.purpose_id))?;
    }
    let mut issued = 1usize;

    println!(
        "token: reference: raw RSA-2048 signatures on one core for {} s…",
        REFERENCE.as_secs()
    );
    let reference_before = raw_sign_rate(&placement.server)?;

    // The server signs once per voucher on its core(s): it cannot go faster than this.
    let full_count = (reference_before.1
        * options.server_threads as f64
        * (options.duration + WARMUP).as_secs_f64()
        * 1.15) as usize
        + 1000;
    println!("token: signing {full_count} client assertions on every core…");
    let signing = Instant::now();
    let requests = Arc::new(presign(&prepared.keys, &prepared.purpose_id, full_count)?);
    println!(
        "token:   {:.1} s ({:.0}/s)",
        signing.elapsed().as_secs_f64(),
        full_count as f64 / signing.elapsed().as_secs_f64()
    );

    println!(
        "token: full load, {} connections, {} s (after {} s of warm-up)…",
        options.connections,
        options.duration.as_secs(),
        WARMUP.as_secs()
    );
    let next = Arc::new(AtomicUsize::new(0));
    let (u, r, n, c) = (
        url.clone(),
        requests.clone(),
        next.clone(),
        options.connections,
    );
    let warmup = on_cpus("load", &placement.load, move || {
        full_load(u, r, n, c, WARMUP)
    })?;
    let (u, r, n, c, d) = (
        url.clone(),
        requests.clone(),
        next.clone(),
        options.connections,
        options.duration,
    );
    let commits = server.vouchers.commits();
    let mut full = on_cpus("load", &placement.load, move || full_load(u, r, n, c, d))?;
    full.commits = server.vouchers.commits() - commits;
    drop(requests);
    issued += warmup.ok + full.ok;

    let half_rate = full.rate() / 2.0;
    let half_count = (half_rate * options.duration.as_secs_f64()) as usize;
    println!("token: signing {half_count} client assertions for half load…");
    let paced = presign(&prepared.keys, &prepared.purpose_id, half_count)?;
    println!(
        "token: half load, {half_rate:.0} requests/s on a fixed schedule, {} s…",
        options.duration.as_secs()
    );
    let (u, c) = (url.clone(), options.connections);
    let commits = server.vouchers.commits();
    let mut half = on_cpus("load", &placement.load, move || {
        paced_load(u, paced, half_rate, c)
    })?;
    half.commits = server.vouchers.commits() - commits;
    issued += half.ok;

    println!("token: reference again…");
    let reference_after = raw_sign_rate(&placement.server)?;

    let db = server.db.clone();
    let recorded: i64 = server.run(async move {
        let store = interop::voucher_store(&db).await?;
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT CAST(COUNT(*) AS BIGINT) FROM interop_vouchers")
                .fetch_one(store.reader())
                .await?,
        )
    })?;
    println!("token: timing the endpoint's read and group commit straight on the database…");
    let key = prepared.keys.first().ok_or("no clients")?;
    let probe = server.run(probe_db(
        server.db.clone(),
        key.kid.clone(),
        key.id.clone(),
        prepared.purpose_id.clone(),
    ))?;
    server.stop()?;

    // The stricter of the two references.
    let reference = reference_before.0.max(reference_after.0);
    let reference_cpu = reference_before.1.max(reference_after.1);
    let cores = options.server_threads as f64;
    let ratio = full.rate() / (reference * cores);
    let ratio_cpu = full.cpu_rate() / reference_cpu;
    let database = match dialect {
        Dialect::Postgres => "PostgreSQL",
        Dialect::Sqlite => "SQLite (WAL, synchronous = FULL)",
    };
    println!();
    println!(
        "token: POST {COLL}/token.oauth2, {} clients, {} connections, database {database} \
         ({} connections in the app's pool)",
        options.clients, options.connections, max_connections
    );
    println!(
        "  server: {} tokio worker thread(s) on {}; load generator on {}",
        options.server_threads,
        Placement::describe(&placement.server),
        Placement::describe(&placement.load)
    );
    match dialect {
        Dialect::Sqlite => println!(
            "  note: sqlx runs each SQLite connection on a thread of its own; started from the \
             server's runtime, they inherit its CPUs ({}) and count as the server's",
            Placement::describe(&placement.server)
        ),
        Dialect::Postgres => println!(
            "  note: the PostgreSQL server's processes are not pinned (they share every CPU, \
             the load generator's too) and do not count as the server's CPU time"
        ),
    }
    for (name, phase) in [("full load", &full), ("half load", &half)] {
        println!(
            "  {name:<10} {:>8.0} vouchers/s  p50 {}  p90 {}  p99 {}  max {}",
            phase.rate(),
            ms(phase.percentile(0.50)),
            ms(phase.percentile(0.90)),
            ms(phase.percentile(0.99)),
            ms(phase.percentile(1.0)),
        );
        println!(
            "             {} in {:.2} s; {:.0} µs of server CPU per voucher; {}",
            phase.ok,
            phase.elapsed.as_secs_f64(),
            phase.server_cpu.as_secs_f64() * 1e6 / phase.ok.max(1) as f64,
            phase.describe_cpu(&placement.server)
        );
        println!(
            "             {} group commits, {:.1} records each",
            phase.commits,
            phase.ok as f64 / phase.commits.max(1) as f64
        );
    }
    println!(
        "             requests sent on schedule, at most {} late",
        ms(half.max_lag)
    );
    let by_second: Vec<String> = half
        .p99_by_second
        .iter()
        .map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0))
        .collect();
    println!(
        "             p99 of each second (ms): {}",
        by_second.join(" ")
    );
    let seconds = |values: &[Duration]| -> String {
        let v: Vec<String> = values
            .iter()
            .map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0))
            .collect();
        v.join(" ")
    };
    println!(
        "             generator late at most, each second (ms): {}",
        seconds(&half.lag_by_second)
    );
    println!(
        "             CPU time stolen by the hypervisor, each second (ms): {}",
        seconds(&half.steal_by_second)
    );
    println!(
        "  reference: raw RSA-2048 signatures (aws-lc-rs, PKCS#1 SHA-256) on one core: \
         {:.0}/s before, {:.0}/s after; {:.0} µs of CPU each",
        reference_before.0,
        reference_after.0,
        1e6 / reference_cpu
    );
    println!(
        "  ratio      {:>8.1}% of {} core(s) × {reference:.0}/s (target ≥ {:.0}%)",
        ratio * 100.0,
        options.server_threads,
        TARGET_RATIO * 100.0
    );
    println!(
        "             {:>8.1}% in CPU time: signature CPU ÷ server CPU per voucher (what \
         other processes on the machine do not change)",
        ratio_cpu * 100.0
    );
    println!(
        "  database alone, one at a time (latency, idle machine): lookup {:.0} µs; group commit {}",
        probe.lookup.as_secs_f64() * 1e6,
        probe
            .commits
            .iter()
            .map(|(n, d)| format!("of {n}: {}", ms(*d)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let all_failures = warmup.failed + full.failed + half.failed;
    println!(
        "  voucher records: {recorded} in the database, {issued} vouchers issued (200s), \
         {all_failures} failures"
    );
    for f in warmup
        .failures
        .iter()
        .chain(&full.failures)
        .chain(&half.failures)
        .take(10)
    {
        println!("    failure: {f}");
    }
    if full.exhausted {
        println!("  note: the pre-signed requests ran out before the end of the full load");
    }
    let met_rate = ratio >= TARGET_RATIO;
    let met_latency = half.percentile(0.99) <= TARGET_P99;
    println!(
        "  target: ≥ {:.0}% of the raw sign rate → {}; p99 ≤ {} at half load → {}",
        TARGET_RATIO * 100.0,
        if met_rate { "met" } else { "NOT met" },
        ms(TARGET_P99),
        if met_latency { "met" } else { "NOT met" }
    );
    if all_failures > 0 {
        return Err(format!("{all_failures} requests were not answered 200").into());
    }
    if usize::try_from(recorded).ok() != Some(issued) {
        return Err(format!("{recorded} voucher records for {issued} vouchers issued").into());
    }
    Ok(())
}
