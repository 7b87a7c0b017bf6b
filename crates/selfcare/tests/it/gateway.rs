//! `selfcare gateway` as a process, in front of a real e-service process that counts the
//! requests it receives (`tests/gateway/upstream.py`), with the vouchers issued by the real
//! `selfcare` server process (`selfcare demo` on the test's database): a good voucher reaches
//! the e-service with the verified claims in `X-Pdnd-*` headers and without `Authorization`;
//! every bad one is answered 401 with its reason in `WWW-Authenticate`, and the e-service's
//! count does not move. The demo's own gateway lets the seed guide's voucher call SEND - UAT.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use testkit::interop::{ClientKey, assertion_claims, token_form};
use testkit::{AppProcess, TestDb};
use tokio::io::{AsyncBufReadExt, BufReader};
use voucher_verifier::VerifyError;

use crate::bin;

const COLL: &str = "/interop/collaudo";
const ASSERTION_AUDIENCE: &str = "auth.uat.interop.pagopa.it/client-assertion";
const SEND: &str = "SEND - UAT (Piattaforma Notifiche)";
const SEND_AUDIENCE: &str = "https://api.uat.notifichedigitali.it";

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/gateway")
        .join(name)
}

// ---- the processes ----

/// The e-service behind the gateway: a Python process that counts what reaches it.
struct Upstream {
    process: AppProcess,
    http: reqwest::Client,
}

impl Upstream {
    async fn start() -> Upstream {
        let mut command = tokio::process::Command::new("python3");
        command.arg(script("upstream.py"));
        let process =
            AppProcess::spawn(command, "the upstream (upstream.py)", testkit::START_WAIT).await;
        Upstream {
            process,
            http: testkit::client(),
        }
    }

    fn url(&self) -> &str {
        &self.process.url
    }

    /// The requests it has received.
    async fn count(&self) -> i64 {
        let v: Value = self
            .http
            .get(format!("{}/__count", self.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["count"].as_i64().unwrap()
    }
}

/// `selfcare demo` on the test's database with its gateway on a free port (voucher keys of
/// the test, so that the test can sign vouchers as the environment does).
struct Demo {
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
    /// `http://127.0.0.1:<port>`
    url: String,
    /// The demo's gateway in front of its SEND - UAT.
    gateway: String,
}

impl Demo {
    async fn start(db: &TestDb) -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let collaudo = testkit::test_interop_key("collaudo").display().to_string();
        let produzione = testkit::test_interop_key("produzione")
            .display()
            .to_string();
        let mut command = tokio::process::Command::new(bin());
        command
            .args([
                "demo",
                "--listen",
                "127.0.0.1:0",
                "--devportal-listen",
                "127.0.0.1:0",
                "--gateway-listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(dir.path())
            .env("SELFCARE_DATABASE__URL", db.url())
            .env("SELFCARE_DATABASE__MAX_CONNECTIONS", "4")
            .env("SELFCARE_INTEROP__COLLAUDO__SIGNING_KEY_FILES", collaudo)
            .env(
                "SELFCARE_INTEROP__PRODUZIONE__SIGNING_KEY_FILES",
                produzione,
            )
            .env("SELFCARE_LOG__LEVEL", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut url, mut gateway) = (None, None);
        let read = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(u) = line.strip_prefix("listening on ") {
                    url = Some(u.trim().to_string());
                }
                if let Some(rest) = line.trim_start().strip_prefix("Gateway") {
                    gateway = rest.split_whitespace().next().map(|g| {
                        assert!(g.starts_with("http://"), "{line}");
                        g.trim_end_matches('/').to_string()
                    });
                    break;
                }
            }
        })
        .await;
        assert!(read.is_ok(), "the demo did not start in time");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Demo {
            child,
            _dir: dir,
            url: url.expect("the demo's URL"),
            gateway: gateway.expect("the demo's gateway URL"),
        }
    }
}

/// `selfcare gateway --upstream <upstream>` with the settings `env` (SELFCARE_GATEWAY__*).
async fn gateway(upstream: &str, env: &[(&str, String)]) -> AppProcess {
    // Refusals are logged at `info`: the test reads the logs for vouchers.
    let mut all: Vec<(&str, &str)> = vec![("SELFCARE_LOG__LEVEL", "info")];
    all.extend(env.iter().map(|(k, v)| (*k, v.as_str())));
    AppProcess::start(
        bin(),
        &["gateway", "--listen", "127.0.0.1:0", "--upstream", upstream],
        &all,
    )
    .await
}

// ---- the consumer and its vouchers, through the JSON API of the running server ----

async fn json_of(r: reqwest::RequestBuilder) -> Value {
    let r = r.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The Reserved Area session of the person `fiscal_code` (test identity provider).
async fn ra_session(http: &reqwest::Client, base: &str, fiscal_code: &str) -> String {
    json_of(
        http.post(format!("{base}/auth/test-idp/token"))
            .json(&json!({ "fiscal_number": fiscal_code })),
    )
    .await["sessionToken"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The id of the institution named `name` among those `session` sees.
async fn institution_id(http: &reqwest::Client, base: &str, session: &str, name: &str) -> String {
    let list = json_of(
        http.get(format!("{base}/v2/institutions"))
            .bearer_auth(session),
    )
    .await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {list}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A session of Collaudo of the person `fiscal_code` for the institution named `institution`.
async fn collaudo_session(
    http: &reqwest::Client,
    base: &str,
    fiscal_code: &str,
    institution: &str,
) -> String {
    let session = ra_session(http, base, fiscal_code).await;
    let id = institution_id(http, base, &session, institution).await;
    let identity = json_of(
        http.get(format!(
            "{base}/v2/token/exchange?institutionId={id}&productId=prod-interop-coll"
        ))
        .bearer_auth(&session),
    )
    .await;
    json_of(
        http.post(format!("{base}{COLL}/api/session"))
            .json(&json!({ "identity_token": identity["token"] })),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The demo running with an ACTIVE agreement and purpose of the Comune on SEND - UAT, and a
/// consumer client (Luca's) with an uploaded key and the purpose linked.
struct World {
    demo: Demo,
    db: TestDb,
    http: reqwest::Client,
    luca: String,
    client: String,
    key: ClientKey,
    send: String,
    purpose: String,
}

impl World {
    async fn new() -> World {
        let db = TestDb::new().await;
        let demo = Demo::start(&db).await;
        let http = testkit::client();
        let base = demo.url.clone();
        // Mario makes Luca admin of Interoperabilità Collaudo for the Comune (the guide's step 1).
        let mario = ra_session(&http, &base, testkit::demo::MARIO).await;
        let comune = institution_id(&http, &base, &mario, "Comune di Roccabella").await;
        json_of(
            http.post(format!(
                "{base}/v2/institutions/{comune}/products/prod-interop-coll/users"
            ))
            .bearer_auth(&mario)
            .json(&json!({
                "name": "Luca", "surname": "Neri", "taxCode": testkit::demo::LUCA,
                "email": "luca.neri@comune.roccabella.it",
                "role": "SUB_DELEGATE", "productRoles": ["admin"],
            })),
        )
        .await;
        let luca =
            collaudo_session(&http, &base, testkit::demo::LUCA, "Comune di Roccabella").await;
        let me = json_of(http.get(format!("{base}{COLL}/api/me")).bearer_auth(&luca)).await;
        let client = json_of(
            http.post(format!("{base}{COLL}/api/clientsConsumer"))
                .bearer_auth(&luca)
                .json(&json!({"name": "Gestionale notifiche", "members": [me["userId"]]})),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let key = ClientKey::generate();
        json_of(
            http.post(format!("{base}{COLL}/api/clients/{client}/keys"))
                .bearer_auth(&luca)
                .json(
                    &json!([{"key": key.upload_b64(), "use": "SIG", "alg": "RS256",
                               "name": "Chiave del gestionale"}]),
                ),
        )
        .await;
        let mut world = World {
            demo,
            db,
            http,
            luca,
            client,
            key,
            send: String::new(),
            purpose: String::new(),
        };
        let (send, purpose) = world.subscribe(SEND).await;
        world.send = send;
        world.purpose = purpose;
        world
    }

    fn base(&self) -> &str {
        &self.demo.url
    }

    /// Stops the demo, then drops its database.
    async fn stop(mut self) {
        let _ = self.demo.child.kill().await;
        drop(self.db);
    }

    fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{COLL}/api{path}", self.base()))
            .bearer_auth(&self.luca)
    }

    /// The Comune subscribes to the e-service named `name` (ACTIVE agreement and purpose, the
    /// purpose linked to the client): the e-service's id and the purpose's.
    async fn subscribe(&self, name: &str) -> (String, String) {
        use reqwest::Method;
        let q = name.split_whitespace().next().unwrap();
        let catalog = json_of(self.api(Method::GET, &format!("/catalog?q={q}"))).await;
        let entry = catalog["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in {catalog}"))
            .clone();
        let eservice = entry["id"].as_str().unwrap().to_string();
        let a = json_of(self.api(Method::POST, "/agreements").json(
            &json!({"eserviceId": eservice, "descriptorId": entry["activeDescriptor"]["id"]}),
        ))
        .await;
        let a = json_of(self.api(
            Method::POST,
            &format!("/agreements/{}/submit", a["id"].as_str().unwrap()),
        ))
        .await;
        assert_eq!(a["state"], "ACTIVE", "{a}");
        let form = json_of(self.api(Method::GET, "/purposes/riskAnalysis/form")).await;
        let p = json_of(self.api(Method::POST, "/purposes").json(&json!({
            "eserviceId": eservice, "title": format!("Chiamate a {q}"),
            "description": "Le chiamate del gestionale del Comune all'e-service.",
            "isFreeOfCharge": false, "dailyCalls": 100,
            "riskAnalysisForm": testkit::interop::risk_answers(&form),
        })))
        .await;
        let purpose = p["id"].as_str().unwrap().to_string();
        let p = json_of(self.api(
            Method::POST,
            &format!(
                "/purposes/{purpose}/versions/{}/activate",
                p["versions"][0]["id"].as_str().unwrap()
            ),
        ))
        .await;
        assert_eq!(p["versions"][0]["state"], "ACTIVE", "{p}");
        json_of(
            self.api(Method::POST, &format!("/clients/{}/purposes", self.client))
                .json(&json!({ "purposeId": purpose })),
        )
        .await;
        (eservice, purpose)
    }

    /// Regione Valdoro (Giulia) publishes an e-service with SEND - UAT's very audience, and the
    /// Comune subscribes to it: the audience alone would let its vouchers call SEND.
    async fn same_audience_elsewhere(&self) -> String {
        let base = self.base();
        let giulia =
            collaudo_session(&self.http, base, testkit::demo::GIULIA, "Regione Valdoro").await;
        let name = "Registro delle notifiche regionali";
        let e = json_of(
            self.http
                .post(format!("{base}{COLL}/api/eservices"))
                .bearer_auth(&giulia)
                .json(&json!({
                    "name": name, "description": "Un e-service con l'audience di SEND - UAT.",
                    "technology": "REST", "mode": "DELIVER", "personalData": false,
                    "descriptor": {
                        "audience": [SEND_AUDIENCE], "voucherLifespan": 600,
                        "dailyCallsPerConsumer": 100, "dailyCallsTotal": 1000,
                        "agreementApprovalPolicy": "AUTOMATIC",
                    },
                })),
        )
        .await;
        let version = format!(
            "{base}{COLL}/api/eservices/{}/descriptors/{}",
            e["id"].as_str().unwrap(),
            e["descriptors"][0]["id"].as_str().unwrap()
        );
        let openapi = "openapi: 3.0.3\ninfo:\n  title: Registro\n  version: 1.0.0\nservers:\n  \
                       - url: https://api.uat.notifichedigitali.it/registro\npaths: {}\n";
        let part = reqwest::multipart::Part::bytes(openapi.as_bytes().to_vec())
            .file_name("openapi.yaml")
            .mime_str("application/yaml")
            .unwrap();
        let form = reqwest::multipart::Form::new()
            .text("kind", "INTERFACE")
            .text("prettyName", "Interfaccia")
            .part("doc", part);
        json_of(
            self.http
                .post(format!("{version}/documents"))
                .bearer_auth(&giulia)
                .multipart(form),
        )
        .await;
        json_of(
            self.http
                .post(format!("{version}/publish"))
                .bearer_auth(&giulia),
        )
        .await;
        self.subscribe(name).await.1
    }

    /// The token endpoint's answer to a valid assertion for `purpose`, with `digest` and a
    /// `DPoP` proof when given.
    async fn token(&self, purpose: &str, digest: Option<&str>, dpop: Option<&str>) -> Value {
        let mut claims = assertion_claims(&self.client, ASSERTION_AUDIENCE, Some(purpose));
        if let Some(d) = digest {
            claims["digest"] = json!({"alg": "SHA256", "value": d});
        }
        let mut r = self
            .http
            .post(format!("{}{COLL}/token.oauth2", self.base()))
            .form(&token_form(
                Some(&self.client),
                &self.key.assertion(&claims),
            ));
        if let Some(proof) = dpop {
            r = r.header("DPoP", proof);
        }
        json_of(r).await
    }

    /// A Bearer voucher for `purpose`.
    async fn voucher(&self, purpose: &str, digest: Option<&str>) -> String {
        let v = self.token(purpose, digest, None).await;
        assert_eq!(v["token_type"], "Bearer", "{v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    /// The settings of a gateway for SEND - UAT in Collaudo, as its producer would write them.
    fn send_settings(&self, voucher: &str) -> Vec<(&'static str, String)> {
        let claims = payload(voucher);
        vec![
            (
                "SELFCARE_GATEWAY__JWKS_URL",
                format!("{}{COLL}/.well-known/jwks.json", self.base()),
            ),
            (
                "SELFCARE_GATEWAY__ISSUER",
                claims["iss"].as_str().unwrap().to_string(),
            ),
            ("SELFCARE_GATEWAY__AUDIENCE", SEND_AUDIENCE.to_string()),
            ("SELFCARE_GATEWAY__ESERVICE_IDS", self.send.clone()),
            (
                "SELFCARE_GATEWAY__PRODUCER_ID",
                claims["producerId"].as_str().unwrap().to_string(),
            ),
        ]
    }
}

// ---- vouchers and answers ----

/// The claims of a JWT (not verified).
fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// A voucher with `claims`, signed by the environment's key as the platform signs them.
fn signed_by_collaudo(claims: &Value) -> String {
    let keys = platform::keys::SigningKeys::load(&[testkit::test_interop_key("collaudo")]).unwrap();
    let key = keys.active().unwrap();
    platform::jwt::sign_with_header(
        key,
        &json!({"alg": "RS256", "typ": "at+jwt", "use": "sig", "kid": key.kid()}),
        claims,
    )
    .unwrap()
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Answer {
    status: StatusCode,
    www_authenticate: String,
    body: Value,
    text: String,
}

async fn send(r: reqwest::RequestBuilder) -> Answer {
    let r = r.send().await.unwrap();
    let status = r.status();
    let www_authenticate = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    Answer {
        status,
        www_authenticate,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

/// Asserts a 401 for `error` with the `scheme` challenge naming it, and the upstream's count
/// still at `count`.
async fn assert_refused(
    answer: &Answer,
    scheme: &str,
    error: &VerifyError,
    upstream: &Upstream,
    count: i64,
    what: &str,
) {
    assert_eq!(answer.status, 401, "{what}: {}", answer.text);
    let expected = format!(
        "{scheme} error=\"{}\", error_description=\"{error}\"",
        error.oauth_error().unwrap()
    );
    assert!(
        answer.www_authenticate.starts_with(&expected),
        "{what}: WWW-Authenticate {:?}, expected {expected:?}",
        answer.www_authenticate
    );
    assert_eq!(
        answer.body["code"],
        error.reason(),
        "{what}: {}",
        answer.text
    );
    assert_eq!(answer.body["detail"], error.to_string(), "{what}");
    assert_eq!(
        upstream.count().await,
        count,
        "{what}: the upstream was reached"
    );
}

/// The values of the header `name` the upstream received.
fn received<'a>(echo: &'a Value, name: &str) -> Vec<&'a str> {
    echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0] == name)
        .map(|h| h[1].as_str().unwrap())
        .collect()
}

// ---- the tests ----

#[tokio::test]
async fn gateway_forwards_good_vouchers_and_refuses_bad_ones_before_the_upstream() {
    let test = "gateway_forwards_good_vouchers_and_refuses_bad_ones_before_the_upstream";
    if !testkit::python_with(test, &["http.server"], "install python3") {
        return;
    }
    let world = World::new().await;
    let http = testkit::client();
    let voucher = world.voucher(&world.purpose, None).await;
    let claims = payload(&voucher);

    // The seed guide's voucher calls the demo's SEND - UAT through the demo's gateway.
    let r = send(
        http.get(format!(
            "{}/delivery/v2.3/notifications/sent",
            world.demo.gateway
        ))
        .bearer_auth(&voucher),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["eservice"], SEND, "{}", r.text);
    assert_eq!(r.body["path"], "/delivery/v2.3/notifications/sent");
    assert_eq!(r.body["pdnd"]["x-pdnd-purpose-id"], world.purpose.as_str());
    assert_eq!(r.body["pdnd"]["x-pdnd-client-id"], world.client.as_str());
    assert_eq!(r.body["pdnd"]["x-pdnd-eservice-id"], world.send.as_str());
    let r = send(http.get(format!("{}/delivery/x", world.demo.gateway))).await;
    assert_eq!(r.status, 401, "{}", r.text);

    let upstream = Upstream::start().await;
    let settings = world.send_settings(&voucher);
    let gw = gateway(upstream.url(), &settings).await;

    // 1) A good Bearer voucher: forwarded, with the verified claims and without the
    // credentials; forged X-Pdnd headers and the hop-by-hop ones do not pass.
    let r = send(
        http.get(gw.url("/v1/notifiche/42?stato=inviata"))
            .bearer_auth(&voucher)
            .header("X-Pdnd-Purpose-Id", "forged-purpose")
            .header("x-pdnd-consumer-id", "forged-consumer")
            .header("X-Pdnd-Something", "else")
            .header("Connection", "keep-alive, x-hop-test")
            .header("x-hop-test", "1")
            .header("x-end-to-end", "kept"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let echo = &r.body;
    assert_eq!(echo["count"], 1);
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["path"], "/v1/notifiche/42?stato=inviata");
    for (header, claim) in [
        ("x-pdnd-purpose-id", "purposeId"),
        ("x-pdnd-consumer-id", "consumerId"),
        ("x-pdnd-client-id", "client_id"),
        ("x-pdnd-eservice-id", "eserviceId"),
        ("x-pdnd-descriptor-id", "descriptorId"),
        ("x-pdnd-producer-id", "producerId"),
        ("x-pdnd-voucher-id", "jti"),
    ] {
        assert_eq!(
            received(echo, header),
            vec![claims[claim].as_str().unwrap()],
            "{header}: {echo}"
        );
    }
    assert_eq!(
        received(echo, "x-pdnd-purpose-id"),
        vec![world.purpose.as_str()]
    );
    assert!(received(echo, "x-pdnd-something").is_empty(), "{echo}");
    assert!(received(echo, "authorization").is_empty(), "{echo}");
    assert!(received(echo, "x-hop-test").is_empty(), "{echo}");
    assert_eq!(received(echo, "x-end-to-end"), vec!["kept"]);
    assert_eq!(received(echo, "x-forwarded-for"), vec!["127.0.0.1"]);

    // Bodies are streamed both ways, with a length or chunked.
    let big: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let digest: String = Sha256::digest(&big)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let r = send(
        http.post(gw.url("/v1/notifiche"))
            .bearer_auth(&voucher)
            .body(big.clone()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["body_bytes"], big.len());
    assert_eq!(r.body["body_sha256"], digest.as_str());
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(100_000).map(|c| Ok(c.to_vec())).collect();
    let r = send(
        http.put(gw.url("/v1/notifiche/42"))
            .bearer_auth(&voucher)
            .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks))),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["method"], "PUT");
    assert_eq!(r.body["body_bytes"], big.len());
    assert_eq!(r.body["body_sha256"], digest.as_str());
    let mut count = upstream.count().await;
    assert_eq!(count, 3);

    // 2) Each refusal: a 401 naming the check, and the upstream never reached.
    let url = gw.url("/v1/notifiche/42");
    let r = send(http.get(&url)).await;
    assert_refused(
        &r,
        "Bearer",
        &VerifyError::MissingAuthorization,
        &upstream,
        count,
        "no voucher",
    )
    .await;

    // Another institution's e-service with SEND's very audience: its voucher is refused.
    let elsewhere = world.same_audience_elsewhere().await;
    let other = world.voucher(&elsewhere, None).await;
    assert_eq!(payload(&other)["aud"], SEND_AUDIENCE);
    let other_eservice = payload(&other)["eserviceId"].as_str().unwrap().to_string();
    assert_ne!(other_eservice, world.send);
    let r = send(http.get(&url).bearer_auth(&other)).await;
    assert_refused(
        &r,
        "Bearer",
        &VerifyError::EService(other_eservice),
        &upstream,
        count,
        "another e-service with the same audience",
    )
    .await;

    let now = platform::jwt::now_secs();
    let mut expired = claims.clone();
    expired["iat"] = json!(now - 1200);
    expired["nbf"] = json!(now - 1200);
    expired["exp"] = json!(now - 600);
    let r = send(http.get(&url).bearer_auth(signed_by_collaudo(&expired))).await;
    assert_refused(
        &r,
        "Bearer",
        &VerifyError::Expired,
        &upstream,
        count,
        "expired",
    )
    .await;

    let mut early = claims.clone();
    early["nbf"] = json!(now + 300);
    early["exp"] = json!(now + 900);
    let r = send(http.get(&url).bearer_auth(signed_by_collaudo(&early))).await;
    assert_refused(
        &r,
        "Bearer",
        &VerifyError::NotYetValid,
        &upstream,
        count,
        "nbf ahead",
    )
    .await;

    // The claims changed after signing: another purpose, the platform's signature kept.
    let parts: Vec<&str> = voucher.split('.').collect();
    let mut changed = claims.clone();
    changed["purposeId"] = json!(elsewhere);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(changed.to_string()),
        parts[2]
    );
    let r = send(http.get(&url).bearer_auth(&tampered)).await;
    assert_refused(
        &r,
        "Bearer",
        &VerifyError::Signature,
        &upstream,
        count,
        "tampered",
    )
    .await;

    // AUDIT_REST_02: a voucher with the digest of one tracking evidence, sent with another.
    let evidence = world.key.sign(
        &json!({"alg": "RS256", "typ": "JWT", "kid": world.key.kid}),
        &json!({
            "iss": world.client, "aud": SEND_AUDIENCE, "purposeId": world.purpose,
            "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 600,
            "dnonce": 1_234_567_890_123_i64, "userID": "operatore-42",
            "userLocation": "postazione-1", "LoA": "substantial",
        }),
    );
    let audited = world
        .voucher(&world.purpose, Some(&sha256_hex(&evidence)))
        .await;
    let other_evidence = world.key.sign(
        &json!({"alg": "RS256", "typ": "JWT", "kid": world.key.kid}),
        &json!({"iss": world.client, "aud": SEND_AUDIENCE, "purposeId": world.purpose,
                "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 600}),
    );
    let r = send(
        http.get(&url)
            .bearer_auth(&audited)
            .header("Agid-JWT-TrackingEvidence", &other_evidence),
    )
    .await;
    assert_refused(
        &r,
        "Bearer",
        &VerifyError::DigestMismatch,
        &upstream,
        count,
        "digest mismatch",
    )
    .await;
    let r = send(http.get(&url).bearer_auth(&audited)).await;
    assert_refused(
        &r,
        "Bearer",
        &VerifyError::TrackingEvidenceMissing,
        &upstream,
        count,
        "the evidence missing",
    )
    .await;
    // With its own evidence it passes, the evidence forwarded for the e-service's audit.
    let r = send(
        http.get(&url)
            .bearer_auth(&audited)
            .header("Agid-JWT-TrackingEvidence", &evidence),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        received(&r.body, "agid-jwt-trackingevidence"),
        vec![evidence.as_str()]
    );
    count += 1;

    // The same voucher checked against Produzione's keys: not a key of that environment.
    let mut produzione = settings.clone();
    produzione[0].1 = format!("{}/interop/produzione/.well-known/jwks.json", world.base());
    produzione[1].1 = claims["iss"]
        .as_str()
        .unwrap()
        .replace("/collaudo", "/produzione");
    let prod_gw = gateway(upstream.url(), &produzione).await;
    let kid = voucher_kid(&voucher);
    let r = send(
        http.get(prod_gw.url("/v1/notifiche/42"))
            .bearer_auth(&voucher),
    )
    .await;
    assert_refused(
        &r,
        "Bearer",
        &VerifyError::UnknownKey(kid),
        &upstream,
        count,
        "another environment's JWKS",
    )
    .await;

    // Keys that cannot be read: a 503, not a refusal of the caller.
    let dead = format!("http://{}/jwks.json", free_addr());
    let mut unreadable = settings.clone();
    unreadable[0].1 = dead;
    let dead_gw = gateway(upstream.url(), &unreadable).await;
    let r = send(
        http.get(dead_gw.url("/v1/notifiche/42"))
            .bearer_auth(&voucher),
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body["code"], "keys_unavailable");
    assert_eq!(r.www_authenticate, "");
    assert_eq!(upstream.count().await, count);

    // The client's key from the platform's keys endpoint (AUDIT_REST_02's signature).
    let keys = format!("{}{COLL}/keys", world.base());
    let known = http
        .get(format!("{keys}/{}", world.key.kid))
        .send()
        .await
        .unwrap()
        .status();
    if known == 200 {
        let mut signed = settings.clone();
        signed.push(("SELFCARE_GATEWAY__KEYS_URL", keys));
        let keys_gw = gateway(upstream.url(), &signed).await;
        let r = send(
            http.get(keys_gw.url("/v1/notifiche/42"))
                .bearer_auth(&audited)
                .header("Agid-JWT-TrackingEvidence", &evidence),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        count += 1;
        // The right digest, but signed by another key than the client's one it names.
        let stranger = ClientKey::generate();
        let forged = stranger.sign(
            &json!({"alg": "RS256", "typ": "JWT", "kid": world.key.kid}),
            &json!({"iss": world.client, "aud": SEND_AUDIENCE, "purposeId": world.purpose}),
        );
        let forged_voucher = world
            .voucher(&world.purpose, Some(&sha256_hex(&forged)))
            .await;
        let r = send(
            http.get(keys_gw.url("/v1/notifiche/42"))
                .bearer_auth(&forged_voucher)
                .header("Agid-JWT-TrackingEvidence", &forged),
        )
        .await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(r.body["code"], "tracking_evidence", "{}", r.text);
        assert!(
            r.www_authenticate
                .starts_with("Bearer error=\"invalid_token\""),
            "{}",
            r.www_authenticate
        );
        assert_eq!(upstream.count().await, count);
    } else {
        testkit::skipped(
            test,
            &format!(
                "(in part) GET {COLL}/keys/{{kid}} answers {known}: the tracking evidence's \
                 signature by the client's key is not checked"
            ),
        );
    }

    // Its own health and metrics: not forwarded.
    let r = send(http.get(gw.url("/healthz"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let metrics = http
        .get(gw.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(upstream.count().await, count);
    for line in [
        "gateway_requests_accepted_total 4",
        // The good voucher's second and third calls: verified once.
        "gateway_requests_cached_total 2",
        "gateway_requests_refused_total{reason=\"missing_authorization\"} 1",
        "gateway_requests_refused_total{reason=\"eservice\"} 1",
        "gateway_requests_refused_total{reason=\"expired\"} 1",
        "gateway_requests_refused_total{reason=\"not_yet_valid\"} 1",
        "gateway_requests_refused_total{reason=\"signature\"} 1",
        "gateway_requests_refused_total{reason=\"digest\"} 1",
        "gateway_requests_refused_total{reason=\"tracking_evidence_missing\"} 1",
        "gateway_jwks_fetches 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }

    // The e-service down: a 502 problem.
    upstream.process.kill().await;
    let r = send(http.get(&url).bearer_auth(&voucher)).await;
    assert_eq!(r.status, 502, "{}", r.text);
    assert_eq!(r.body["code"], "upstream_unreachable");
    let metrics = http
        .get(gw.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("gateway_upstream_errors_total{kind=\"unreachable\"} 1"),
        "{metrics}"
    );
    // Nothing of a voucher in the logs.
    for process in [&gw, &prod_gw, &dead_gw] {
        let logs = process.stderr();
        assert!(!logs.contains(&voucher[..40]), "{logs}");
    }
    world.stop().await;
}

/// The `kid` of a JWT's header.
fn voucher_kid(jwt: &str) -> String {
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_string()
}

/// An address where nothing listens (for now).
fn free_addr() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn gateway_takes_a_dpop_voucher_only_with_its_proof_for_this_request() {
    let test = "gateway_takes_a_dpop_voucher_only_with_its_proof_for_this_request";
    if !testkit::interop::jwcrypto_available(test) {
        return;
    }
    let world = World::new().await;
    let http = testkit::client();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dpop-key.json");

    // A DPoP voucher, obtained with a proof made by jwcrypto.
    let token_url = format!("{}{COLL}/token.oauth2", world.base());
    let (proof, jkt) = testkit::interop::jwcrypto_proof(&key_file, "POST", &token_url, None).await;
    let answer = world.token(&world.purpose, None, Some(&proof)).await;
    assert_eq!(answer["token_type"], "DPoP", "{answer}");
    let voucher = answer["access_token"].as_str().unwrap().to_string();
    assert_eq!(payload(&voucher)["cnf"]["jkt"], jkt.as_str());

    let upstream = Upstream::start().await;
    let gw = gateway(upstream.url(), &world.send_settings(&voucher)).await;
    let url = gw.url("/v1/notifiche/42");

    // With a proof for this request, by the voucher's key: forwarded, without the proof.
    let (proof, _) = testkit::interop::jwcrypto_proof(&key_file, "GET", &url, Some(&voucher)).await;
    let r = send(
        http.get(&url)
            .header("Authorization", format!("DPoP {voucher}"))
            .header("DPoP", &proof),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        received(&r.body, "x-pdnd-purpose-id"),
        vec![world.purpose.as_str()]
    );
    assert!(received(&r.body, "dpop").is_empty(), "{}", r.text);
    assert!(received(&r.body, "authorization").is_empty(), "{}", r.text);
    let count = upstream.count().await;
    assert_eq!(count, 1);

    // The same proof again.
    let r = send(
        http.get(&url)
            .header("Authorization", format!("DPoP {voucher}"))
            .header("DPoP", &proof),
    )
    .await;
    assert_refused(
        &r,
        "DPoP",
        &VerifyError::DpopReplay,
        &upstream,
        count,
        "replayed proof",
    )
    .await;
    assert!(
        r.www_authenticate.contains("algs=\"RS256 ES256\""),
        "{}",
        r.www_authenticate
    );

    // A proof for another URL.
    let (proof, _) =
        testkit::interop::jwcrypto_proof(&key_file, "GET", &gw.url("/v1/altro"), Some(&voucher))
            .await;
    let r = send(
        http.get(&url)
            .header("Authorization", format!("DPoP {voucher}"))
            .header("DPoP", &proof),
    )
    .await;
    assert_refused(
        &r,
        "DPoP",
        &VerifyError::DpopInvalid("its htu is not this request's URL".into()),
        &upstream,
        count,
        "a proof for another URL",
    )
    .await;

    // The DPoP voucher used as a Bearer one, with a valid proof or none.
    let (proof, _) = testkit::interop::jwcrypto_proof(&key_file, "GET", &url, Some(&voucher)).await;
    let r = send(http.get(&url).bearer_auth(&voucher).header("DPoP", &proof)).await;
    assert_refused(
        &r,
        "DPoP",
        &VerifyError::DpopBoundUsedAsBearer,
        &upstream,
        count,
        "Bearer use of a DPoP voucher",
    )
    .await;

    // A proof signed by another key (made in Rust: RS256).
    let stranger = ClientKey::generate();
    let jwk = stranger.jwk();
    let wrong = stranger.sign(
        &json!({"typ": "dpop+jwt", "alg": "RS256",
                "jwk": {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}}),
        &json!({"htm": "GET", "htu": url, "iat": platform::jwt::now_secs(),
                "jti": uuid::Uuid::new_v4().to_string(),
                "ath": URL_SAFE_NO_PAD.encode(Sha256::digest(voucher.as_bytes()))}),
    );
    let r = send(
        http.get(&url)
            .header("Authorization", format!("DPoP {voucher}"))
            .header("DPoP", &wrong),
    )
    .await;
    assert_refused(
        &r,
        "DPoP",
        &VerifyError::DpopInvalid(
            "it is signed by another key than the voucher's (cnf.jkt)".into(),
        ),
        &upstream,
        count,
        "a proof by another key",
    )
    .await;

    // A Bearer voucher sent as DPoP.
    let bearer = world.voucher(&world.purpose, None).await;
    let r = send(
        http.get(&url)
            .header("Authorization", format!("DPoP {bearer}"))
            .header("DPoP", &proof),
    )
    .await;
    assert_refused(
        &r,
        "DPoP",
        &VerifyError::NotDpopBound,
        &upstream,
        count,
        "a Bearer voucher as DPoP",
    )
    .await;
    world.stop().await;
}

#[tokio::test]
async fn gateway_refuses_to_start_without_its_settings_naming_them() {
    let err = crate::refused(&["gateway"], &[]).await;
    assert!(
        err.contains("missing required setting `gateway.upstream`"),
        "{err}"
    );
    let mut env = vec![("SELFCARE_GATEWAY__UPSTREAM", "http://127.0.0.1:9")];
    for (var, key, value) in [
        (
            "SELFCARE_GATEWAY__JWKS_URL",
            "gateway.jwks_url",
            "http://127.0.0.1:9/jwks.json",
        ),
        (
            "SELFCARE_GATEWAY__ISSUER",
            "gateway.issuer",
            "http://x/interop/collaudo",
        ),
        (
            "SELFCARE_GATEWAY__AUDIENCE",
            "gateway.audience",
            "https://api.example.it",
        ),
        (
            "SELFCARE_GATEWAY__ESERVICE_IDS",
            "gateway.eservice_ids",
            "e1,e2",
        ),
        ("SELFCARE_GATEWAY__PRODUCER_ID", "gateway.producer_id", "p1"),
    ] {
        let err = crate::refused(&["gateway"], &env).await;
        assert!(
            err.contains(&format!("missing required setting `{key}`")),
            "{key}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        env.push((var, value));
    }
    let err = crate::refused(
        &["gateway", "--upstream", "https://api.example.it"],
        &env[1..],
    )
    .await;
    assert!(err.contains("only http://"), "{err}");
    let err = crate::refused(&["gateway"], &[("SELFCARE_GATEWAY__LISTN", "x")]).await;
    assert!(err.contains("SELFCARE_GATEWAY__LISTN"), "{err}");
}
