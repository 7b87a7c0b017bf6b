//! The token endpoint (`POST /interop/<env>/token.oauth2`) and its debug tool: the voucher of a
//! valid assertion, exactly; every refusal the same opaque 400 while the debug tool names its
//! reason; the switches that are off by default; rate limits; changes honoured at once.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use platform::jwt::{Unverified, now_secs, rsa_components};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sqlx::Row;
use testkit::Fetch;
use testkit::interop::{ClientKey, assertion_claims, token_form};
use testkit::{Options, TestApp};

use crate::{
    ANNA, COLL, COMUNE, GIULIA, LUCA, PAGOPA, PAOLO, PROD, REGIONE, call, expect,
    give_anna_collaudo, give_luca_collaudo, institution_id, key_upload, link_purpose, member,
    post_created, post_ok, published_version, purpose, send_agreement, user_id,
};

pub(crate) const AUD: &str = "auth.uat.interop.pagopa.it/client-assertion";
const PROD_AUD: &str = "auth.interop.pagopa.it/client-assertion";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The audiences and lifespan of the version of SEND - UAT the tests subscribe to.
const AUDIENCES: [&str; 2] = [
    "https://api.uat.notifichedigitali.it",
    "https://api.uat.notifichedigitali.it/delivery",
];
const LIFESPAN: i64 = 900;

pub(crate) type Form = Vec<(&'static str, String)>;

/// Luca (Comune, admin in Collaudo) with an ACTIVE agreement on version 2 of SEND - UAT (two
/// audiences, vouchers of 900 s), an ACTIVE purpose, and a CONSUMER client with a key and the
/// purpose linked.
pub(crate) struct Setup {
    pub(crate) app: TestApp,
    pub(crate) luca: String,
    pub(crate) luca_id: String,
    pub(crate) paolo: String,
    pub(crate) comune: String,
    pub(crate) pagopa: String,
    pub(crate) send: String,
    pub(crate) descriptor: String,
    pub(crate) agreement: String,
    pub(crate) purpose: String,
    pub(crate) version: String,
    pub(crate) client: String,
    pub(crate) key: ClientKey,
}

pub(crate) async fn setup(options: Options) -> Setup {
    let app = TestApp::spawn_with(options).await;
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let luca_id = user_id(&app, &luca).await;
    let comune = institution_id(&app, COMUNE).await;
    let pagopa = institution_id(&app, PAGOPA).await;
    // PagoPA publishes version 2 of SEND - UAT, with two audiences.
    let (send, _) = crate::find(&app, &luca, COLL, "SEND - UAT (Piattaforma Notifiche)").await;
    let v2 = published_version(
        &app,
        &paolo,
        &format!("{COLL}/api/eservices/{send}"),
        &json!({
            "audience": AUDIENCES, "voucherLifespan": LIFESPAN,
            "dailyCallsPerConsumer": 10_000, "dailyCallsTotal": 1_000_000,
            "agreementApprovalPolicy": "AUTOMATIC", "serverUrls": [],
        }),
    )
    .await;
    let (send_again, descriptor, agreement) = send_agreement(&app, &luca).await;
    assert_eq!((&send_again, &descriptor), (&send, &v2));
    let (purpose, version, state) =
        purpose(&app, &luca, &send, "Notifiche degli atti", 100, false).await;
    assert_eq!(state, "ACTIVE");
    let c = post_created(
        &app,
        &luca,
        &format!("{COLL}/api/clientsConsumer"),
        &json!({ "name": "Client notifiche", "members": [luca_id] }),
    )
    .await;
    let client = c["id"].as_str().unwrap().to_string();
    let key = ClientKey::generate();
    upload(&app, &luca, &client, &key).await;
    link_purpose(&app, &luca, &client, &purpose).await;
    Setup {
        app,
        luca,
        luca_id,
        paolo,
        comune,
        pagopa,
        send,
        descriptor,
        agreement,
        purpose,
        version,
        client,
        key,
    }
}

async fn upload(app: &TestApp, token: &str, client: &str, key: &ClientKey) {
    post_created(
        app,
        token,
        &format!("{COLL}/api/clients/{client}/keys"),
        &key_upload(&key.upload_b64(), "Chiave del client"),
    )
    .await;
}

impl Setup {
    /// The claims of a valid assertion (a new jti each time).
    fn claims(&self) -> Value {
        assertion_claims(&self.client, AUD, Some(&self.purpose))
    }

    /// The token request of a valid assertion, changed by `change`.
    pub(crate) fn form_with(&self, change: impl FnOnce(&mut Value)) -> Form {
        let mut claims = self.claims();
        change(&mut claims);
        token_form(Some(&self.client), &self.key.assertion(&claims))
    }

    pub(crate) fn valid(&self) -> Form {
        self.form_with(|_| {})
    }
}

/// The answer of the token endpoint.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
    pub(crate) text: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header: {:?}", self.headers))
            .to_str()
            .unwrap()
    }
}

pub(crate) fn encode(form: &[(&str, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish()
}

async fn token_at(app: &TestApp, base: &str, form: &[(&str, String)]) -> Reply {
    let r = app
        .client
        .post(app.url(&format!("{base}/token.oauth2")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(form))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

pub(crate) async fn token(app: &TestApp, form: &[(&str, String)]) -> Reply {
    token_at(app, COLL, form).await
}

/// A voucher is issued; the answer's body.
async fn issued(app: &TestApp, form: &[(&str, String)], what: &str) -> Value {
    let r = token(app, form).await;
    assert_eq!(r.status, 200, "{what}: {}", r.text);
    r.body
}

/// The debug tool on the same fields, as JSON, called with `token`: the status, the body and
/// its text.
pub(crate) async fn debug(
    app: &TestApp,
    token: &str,
    form: &[(&str, String)],
) -> (u16, Value, String) {
    let mut body = serde_json::Map::new();
    for (k, v) in form {
        body.entry(k.to_string()).or_insert_with(|| json!(v));
    }
    let r = app
        .client
        .post(app.url(&format!("{COLL}/api/tools/validateTokenGeneration")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    )
}

/// The opaque refusal, whatever the reason.
pub(crate) fn assert_opaque(r: &Reply, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.text);
    assert_eq!(
        r.header("content-type"),
        "application/problem+json",
        "{what}"
    );
    assert_eq!(r.header("cache-control"), "no-cache, no-store", "{what}");
    let mut body = r.body.clone();
    let correlation = body
        .as_object_mut()
        .unwrap()
        .remove("correlationId")
        .unwrap_or_else(|| panic!("{what}: no correlationId in {}", r.text));
    uuid::Uuid::parse_str(correlation.as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({
            "type": "about:blank", "status": 400,
            "title": "The request contains bad syntax or cannot be fulfilled",
            "detail": "Unable to generate a token for the given request",
            "errors": [{ "code": "015-0008",
                         "detail": "Unable to generate a token for the given request" }],
        }),
        "{what}"
    );
}

/// The token endpoint refuses `form` opaquely, and the debug tool (called by `by`) names
/// `code`; the debug tool's answer.
async fn refused_by(app: &TestApp, by: &str, form: &[(&str, String)], code: &str) -> Value {
    let r = token(app, form).await;
    assert_opaque(&r, code);
    assert!(!r.text.contains(code), "{code} leaked: {}", r.text);
    let (status, d, text) = debug(app, by, form).await;
    assert_eq!(status, 200, "debug tool on {code}: {text}");
    assert_eq!(d["result"], "FAILED", "{code}: {d}");
    assert_eq!(d["failure"]["code"], code, "{d}");
    assert!(
        !d["failure"]["reason"].as_str().unwrap().is_empty(),
        "{code}: {d}"
    );
    d
}

async fn refused(s: &Setup, form: &[(&str, String)], code: &str) -> Value {
    refused_by(&s.app, &s.luca, form, code).await
}

/// `header.payload.signature` from JSON parts and raw signature bytes.
fn jwt(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

fn keys_of(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// The voucher's header and claims, its signature checked with the environment's JWKS.
pub(crate) async fn open_voucher(app: &TestApp, access_token: &str) -> (Value, Value) {
    let t = Unverified::parse(access_token).unwrap();
    let kid = t.kid().unwrap().to_string();
    let jwks: Value = app
        .client
        .get(app.url(&format!("{COLL}/.well-known/jwks.json")))
        .fetch_json()
        .await;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("{kid} not in the Collaudo JWKS {jwks}"));
    let (n, e) = rsa_components(jwk).unwrap();
    let claims: Value = t.verify(&n, &e).unwrap();
    // Produzione's keys are others.
    let prod: Value = app
        .client
        .get(app.url(&format!("{PROD}/.well-known/jwks.json")))
        .fetch_json()
        .await;
    for k in prod["keys"].as_array().unwrap() {
        assert_ne!(k["kid"], kid.as_str());
        let (n, e) = rsa_components(k).unwrap();
        assert!(t.verify_signature(&n, &e).is_err());
    }
    (t.header.clone(), claims)
}

fn step_results(d: &Value) -> Vec<String> {
    [
        "clientAssertionValidation",
        "publicKeyRetrieve",
        "clientAssertionSignatureVerification",
        "platformStatesVerification",
    ]
    .iter()
    .map(|s| {
        d["steps"][s]["result"]
            .as_str()
            .unwrap_or("missing")
            .to_string()
    })
    .collect()
}

#[tokio::test]
async fn a_valid_assertion_gets_its_voucher_and_every_mistake_the_same_refusal() {
    let s = setup(Options::default()).await;
    let app = &s.app;

    // ---- the voucher ----
    let claims = s.claims();
    let assertion = s.key.assertion(&claims);
    let form = token_form(Some(&s.client), &assertion);
    let r = token(app, &form).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.header("cache-control"), "no-cache, no-store");
    assert_eq!(r.header("x-rate-limit-limit"), "2000");
    assert_eq!(r.header("x-rate-limit-interval"), "1000");
    let remaining: u32 = r.header("x-rate-limit-remaining").parse().unwrap();
    assert!(remaining < 2000, "{remaining}");
    assert_eq!(
        keys_of(&r.body),
        BTreeSet::from(["access_token", "token_type", "expires_in"])
    );
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], LIFESPAN);
    let (header, voucher) = open_voucher(app, r.body["access_token"].as_str().unwrap()).await;
    let signing_kid = header["kid"].as_str().unwrap().to_string();
    assert_eq!(
        header,
        json!({ "alg": "RS256", "typ": "at+jwt", "use": "sig", "kid": signing_kid })
    );
    assert_eq!(
        keys_of(&voucher),
        BTreeSet::from([
            "jti",
            "iss",
            "aud",
            "sub",
            "client_id",
            "iat",
            "nbf",
            "exp",
            "purposeId",
            "producerId",
            "consumerId",
            "eserviceId",
            "descriptorId",
        ]),
        "{voucher}"
    );
    let jti = voucher["jti"].as_str().unwrap().to_string();
    uuid::Uuid::parse_str(&jti).unwrap();
    assert_ne!(jti, claims["jti"].as_str().unwrap());
    assert!(
        voucher["iss"]
            .as_str()
            .unwrap()
            .ends_with("/interop/collaudo"),
        "{voucher}"
    );
    assert_eq!(voucher["aud"], AUDIENCES.join(","));
    assert_eq!(voucher["sub"], s.client.as_str());
    assert_eq!(voucher["client_id"], s.client.as_str());
    let iat = voucher["iat"].as_i64().unwrap();
    assert!((iat - now_secs()).abs() <= 5, "{voucher}");
    assert_eq!(voucher["nbf"], iat);
    assert_eq!(voucher["exp"], iat + LIFESPAN);
    assert_eq!(voucher["purposeId"], s.purpose.as_str());
    assert_eq!(voucher["producerId"], s.pagopa.as_str());
    assert_eq!(voucher["consumerId"], s.comune.as_str());
    assert_eq!(voucher["eserviceId"], s.send.as_str());
    assert_eq!(voucher["descriptorId"], s.descriptor.as_str());
    // Recorded before the answer, in the voucher records' own store (on SQLite a file of its
    // own beside the main one; on PostgreSQL the main database).
    let db = interop::voucher_store(&app.db.connect().await)
        .await
        .unwrap();
    if !app.db.is_postgres() {
        let main: Option<i64> =
            sqlx::query_scalar("SELECT CAST(count(*) AS BIGINT) FROM interop_vouchers")
                .fetch_optional(app.db.connect().await.reader())
                .await
                .unwrap();
        assert_eq!(main, Some(0), "no voucher record in the main SQLite file");
    }
    let row = sqlx::query(
        "SELECT kind, client_id, consumer_id, purpose_id, agreement_id, eservice_id, \
         descriptor_id, client_kid, signing_kid, audience, assertion_jti, issued_at, expires_at \
         FROM interop_vouchers WHERE jti = $1",
    )
    .bind(&jti)
    .fetch_one(db.reader())
    .await
    .unwrap();
    let text = |c: &str| row.try_get::<String, _>(c).unwrap();
    assert_eq!(text("kind"), "CONSUMER");
    assert_eq!(text("client_id"), s.client);
    assert_eq!(text("consumer_id"), s.comune);
    assert_eq!(text("purpose_id"), s.purpose);
    assert_eq!(text("agreement_id"), s.agreement);
    assert_eq!(text("eservice_id"), s.send);
    assert_eq!(text("descriptor_id"), s.descriptor);
    assert_eq!(text("client_kid"), s.key.kid);
    assert_eq!(text("signing_kid"), signing_kid);
    assert_eq!(text("audience"), AUDIENCES.join(","));
    assert_eq!(text("assertion_jti"), claims["jti"].as_str().unwrap());
    assert_eq!(row.try_get::<i64, _>("issued_at").unwrap(), iat);
    assert_eq!(row.try_get::<i64, _>("expires_at").unwrap(), iat + LIFESPAN);
    db.close().await;
    // client_id is optional.
    issued(
        app,
        &token_form(None, &s.key.assertion(&s.claims())),
        "no client_id",
    )
    .await;

    // The debug tool on the valid assertion: every step PASSED, in order.
    let (status, d, text) = debug(app, &s.luca, &form).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(d["result"], "PASSED", "{d}");
    assert_eq!(d["clientKind"], "CONSUMER");
    assert_eq!(d["clientId"], s.client.as_str());
    assert!(d.get("failure").is_none(), "{d}");
    assert_eq!(step_results(&d), ["PASSED"; 4]);
    for step in d["steps"].as_object().unwrap().values() {
        assert_eq!(step["failures"], json!([]), "{d}");
    }
    let positions: Vec<usize> = [
        "clientAssertionValidation",
        "publicKeyRetrieve",
        "clientAssertionSignatureVerification",
        "platformStatesVerification",
    ]
    .iter()
    .map(|step| text.find(&format!("\"{step}\"")).unwrap())
    .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "the steps in the order they run: {text}"
    );
    // Nothing was issued or recorded by the debug tool, and the same assertion still works.
    issued(app, &form, "the same assertion again").await;

    // ---- the assertion's form, header and claims ----
    let kid = s.key.kid.clone();
    let none = jwt(
        &json!({ "alg": "none", "typ": "JWT", "kid": kid }),
        &s.claims(),
        b"",
    );
    let d = refused(
        &s,
        &token_form(Some(&s.client), &none),
        "algorithm_not_allowed",
    )
    .await;
    assert_eq!(
        step_results(&d),
        ["FAILED", "SKIPPED", "SKIPPED", "SKIPPED"]
    );
    assert_eq!(d["failure"]["step"], "clientAssertionValidation");
    assert_eq!(
        d["steps"]["clientAssertionValidation"]["failures"][0]["code"],
        "algorithm_not_allowed"
    );
    // HS256 with the public key (as uploaded) as the HMAC secret.
    for secret in [
        s.key.public_pem.clone().into_bytes(),
        s.key.upload_b64().into_bytes(),
    ] {
        let header = json!({ "alg": "HS256", "typ": "JWT", "kid": kid });
        let claims = s.claims();
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
        let tag = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes());
        let hs = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        refused(
            &s,
            &token_form(Some(&s.client), &hs),
            "algorithm_not_allowed",
        )
        .await;
    }
    // RS512 named in the header (signed RS256 anyway), no alg at all.
    for alg in [json!("RS512"), Value::Null] {
        let a = s.key.sign(
            &json!({ "alg": alg, "typ": "JWT", "kid": kid }),
            &s.claims(),
        );
        refused(
            &s,
            &token_form(Some(&s.client), &a),
            "algorithm_not_allowed",
        )
        .await;
    }
    // The kid: required, 43 characters of the base64url alphabet.
    let a = s
        .key
        .sign(&json!({ "alg": "RS256", "typ": "JWT" }), &s.claims());
    refused(&s, &token_form(Some(&s.client), &a), "kid_missing").await;
    for bad_kid in [
        "abc".to_string(),
        format!("{kid}="),
        format!("{}+", &kid[..42]),
        kid[..42].to_string(),
    ] {
        let a = s.key.sign(
            &json!({ "alg": "RS256", "typ": "JWT", "kid": bad_kid }),
            &s.claims(),
        );
        refused(&s, &token_form(Some(&s.client), &a), "invalid_kid_format").await;
    }
    // `typ` is not checked.
    for typ in [json!("at+jwt"), Value::Null, json!("whatever")] {
        let a = s.key.sign(
            &json!({ "alg": "RS256", "typ": typ, "kid": kid }),
            &s.claims(),
        );
        issued(app, &token_form(Some(&s.client), &a), "any typ").await;
    }
    // Not a JWT at all.
    let claims_b64 = URL_SAFE_NO_PAD.encode(s.claims().to_string());
    let header_b64 = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": kid}).to_string());
    for garbage in [
        "not-a-jwt".to_string(),
        "!!!.@@@.###".to_string(),
        "Zm9v.YmFy.YmF6".to_string(),
        format!("{header_b64}.{claims_b64}"),
        format!("{header_b64}.{claims_b64}.c2ln.more"),
        format!("{header_b64}.{claims_b64}.not base64!"),
        format!("{header_b64}.bm90IGpzb24.c2ln"),
        format!("{}.{claims_b64}.c2ln", URL_SAFE_NO_PAD.encode("[1,2]")),
    ] {
        refused(
            &s,
            &token_form(Some(&s.client), &garbage),
            "malformed_assertion",
        )
        .await;
    }
    // A 1 MB assertion (under the body limit): refused unread.
    let big = format!("{}.{}.{}", "A".repeat(500_000), "B".repeat(499_998), "");
    assert_eq!(big.len(), 1_000_000);
    refused(
        &s,
        &token_form(Some(&s.client), &big),
        "assertion_too_large",
    )
    .await;
    // The request's own fields.
    let mut f = s.valid();
    f.retain(|(k, _)| *k != "client_assertion");
    refused(&s, &f, "assertion_missing").await;
    let mut f = s.valid();
    f.retain(|(k, _)| *k != "grant_type");
    refused(&s, &f, "grant_type_missing").await;
    for wrong in ["password", "authorization_code", "CLIENT_CREDENTIALS"] {
        let mut f = s.valid();
        f.iter_mut()
            .filter(|(k, _)| *k == "grant_type")
            .for_each(|(_, v)| *v = wrong.into());
        refused(&s, &f, "invalid_grant_type").await;
    }
    let mut f = s.valid();
    f.retain(|(k, _)| *k != "client_assertion_type");
    refused(&s, &f, "assertion_type_missing").await;
    for wrong in [
        "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        "jwt-bearer",
    ] {
        let mut f = s.valid();
        f.iter_mut()
            .filter(|(k, _)| *k == "client_assertion_type")
            .for_each(|(_, v)| *v = wrong.into());
        refused(&s, &f, "invalid_assertion_type").await;
    }
    for wrong in ["not-a-uuid", "", "12345"] {
        let mut f = s.valid();
        f.iter_mut()
            .filter(|(k, _)| *k == "client_id")
            .for_each(|(_, v)| *v = wrong.into());
        refused(&s, &f, "invalid_client_id_format").await;
    }
    // Each required claim.
    for claim in ["jti", "iat", "exp", "iss", "sub", "aud"] {
        refused(
            &s,
            &s.form_with(|c| {
                c.as_object_mut().unwrap().remove(claim);
            }),
            &format!("{claim}_missing"),
        )
        .await;
    }
    for (claim, value) in [
        ("jti", json!("")),
        ("jti", json!(42)),
        ("iat", json!("now")),
        ("exp", json!(1.5)),
        ("iss", json!(" ")),
    ] {
        refused(
            &s,
            &s.form_with(|c| c[claim] = value),
            &format!("{claim}_missing"),
        )
        .await;
    }
    // Expired, without leeway.
    let now = now_secs();
    for exp in [now - 1, now - 3600] {
        refused(
            &s,
            &s.form_with(|c| {
                c["iat"] = json!(exp - 600);
                c["exp"] = json!(exp);
            }),
            "assertion_expired",
        )
        .await;
    }
    // The audience: this environment's, as a string or within a list.
    for aud in [
        json!(PROD_AUD),
        json!("https://auth.uat.interop.pagopa.it/client-assertion"),
        json!([PROD_AUD, "other"]),
        json!([]),
        json!(42),
    ] {
        refused(&s, &s.form_with(|c| c["aud"] = aud), "invalid_audience").await;
    }
    issued(
        app,
        &s.form_with(|c| c["aud"] = json!([PROD_AUD, AUD])),
        "aud as a list holding the audience",
    )
    .await;
    // sub: a UUID, the client_id when sent.
    let other_client = post_created(
        app,
        &s.luca,
        &format!("{COLL}/api/clientsConsumer"),
        &json!({ "name": "Secondo client", "members": [s.luca_id] }),
    )
    .await;
    let other_client = other_client["id"].as_str().unwrap().to_string();
    let other_key = ClientKey::generate();
    upload(app, &s.luca, &other_client, &other_key).await;
    let a = s.key.assertion(&s.claims());
    refused(
        &s,
        &token_form(Some(&other_client), &a),
        "sub_client_id_mismatch",
    )
    .await;
    refused(
        &s,
        &s.form_with(|c| c["sub"] = json!("not-a-uuid")),
        "invalid_sub_format",
    )
    .await;
    // The client_id may differ in case only.
    issued(
        app,
        &token_form(
            Some(&s.client.to_uppercase()),
            &s.key.assertion(&s.claims()),
        ),
        "client_id in capitals",
    )
    .await;
    // purposeId: required for a CONSUMER client, a UUID, a purpose of the institution.
    let d = refused(
        &s,
        &s.form_with(|c| {
            c.as_object_mut().unwrap().remove("purposeId");
        }),
        "purpose_id_missing",
    )
    .await;
    assert_eq!(step_results(&d), ["PASSED", "PASSED", "PASSED", "FAILED"]);
    assert_eq!(d["failure"]["step"], "platformStatesVerification");
    refused(
        &s,
        &s.form_with(|c| c["purposeId"] = json!("purpose-1")),
        "invalid_purpose_id_format",
    )
    .await;
    refused(
        &s,
        &s.form_with(|c| c["purposeId"] = json!(uuid::Uuid::new_v4().to_string())),
        "purpose_not_found",
    )
    .await;
    // digest: optional, {alg: SHA256, value: 64 characters} and nothing else.
    let sha = "a".repeat(64);
    for digest in [
        json!({ "alg": "SHA256", "value": "abc" }),
        json!({ "alg": "SHA512", "value": sha }),
        json!({ "alg": "SHA256", "value": sha, "extra": 1 }),
        json!({ "value": sha }),
        json!("sha256"),
    ] {
        refused(&s, &s.form_with(|c| c["digest"] = digest), "invalid_digest").await;
    }
    let digest = json!({ "alg": "SHA256", "value": sha });
    let body = issued(
        app,
        &s.form_with(|c| c["digest"] = digest.clone()),
        "a valid digest",
    )
    .await;
    let (_, voucher) = open_voucher(app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(voucher["digest"], digest);
    // Without strict mode, claims of other kinds are accepted (existing clients send them).
    issued(
        app,
        &s.form_with(|c| {
            c["nbf"] = json!(now_secs());
            c["foo"] = json!("bar");
        }),
        "an extra claim without strict mode",
    )
    .await;
    // No maximum lifetime and no jti replay check by default, like the real platform: exp 30
    // days ahead, a hex jti, the same assertion twice.
    let long = s.form_with(|c| {
        c["exp"] = json!(now_secs() + 30 * 86_400);
        c["jti"] = json!("9f86d081884c7d659a2feaa0c55ad015");
    });
    issued(app, &long, "exp 30 days ahead").await;
    issued(app, &long, "the same jti again").await;

    // ---- the key ----
    // A key of another client of the same institution.
    let a = other_key.assertion(&s.claims());
    let d = refused(
        &s,
        &token_form(Some(&s.client), &a),
        "key_of_another_client",
    )
    .await;
    assert_eq!(step_results(&d), ["PASSED", "FAILED", "SKIPPED", "SKIPPED"]);
    assert_eq!(d["failure"]["step"], "publicKeyRetrieve");
    // A kid nobody uploaded.
    let stranger = ClientKey::generate();
    refused(
        &s,
        &token_form(Some(&s.client), &stranger.assertion(&s.claims())),
        "key_not_found",
    )
    .await;
    // The right kid, signed by another key.
    let forged = stranger.sign(
        &json!({ "alg": "RS256", "typ": "JWT", "kid": kid }),
        &s.claims(),
    );
    let d = refused(
        &s,
        &token_form(Some(&s.client), &forged),
        "invalid_signature",
    )
    .await;
    assert_eq!(step_results(&d), ["PASSED", "PASSED", "FAILED", "SKIPPED"]);
    // The header and a genuine signature of one assertion, the claims of another.
    let genuine = s.key.assertion(&s.claims());
    let (signed, signature) = genuine.rsplit_once('.').unwrap();
    let (header, _) = signed.split_once('.').unwrap();
    let claims = URL_SAFE_NO_PAD.encode(s.claims().to_string());
    let spliced = format!("{header}.{claims}.{signature}");
    refused(
        &s,
        &token_form(Some(&s.client), &spliced),
        "invalid_signature",
    )
    .await;
    // A key deleted through the API: refused by the very next request.
    let third = ClientKey::generate();
    upload(app, &s.luca, &s.client, &third).await;
    let with_third = |s: &Setup| token_form(Some(&s.client), &third.assertion(&s.claims()));
    issued(app, &with_third(&s), "the third key").await;
    expect(
        app,
        &s.luca,
        "DELETE",
        &format!("{COLL}/api/clients/{}/keys/{}", s.client, third.kid),
        None,
        204,
    )
    .await;
    refused(&s, &with_third(&s), "key_not_found").await;

    // ---- the platform's states, each change honoured by the very next request ----
    // Purpose unlinked, then linked again.
    let link = format!("{COLL}/api/clients/{}/purposes", s.client);
    expect(
        app,
        &s.luca,
        "DELETE",
        &format!("{link}/{}", s.purpose),
        None,
        204,
    )
    .await;
    refused(&s, &s.valid(), "purpose_not_linked").await;
    expect(
        app,
        &s.luca,
        "POST",
        &link,
        Some(&json!({ "purposeId": s.purpose })),
        200,
    )
    .await;
    issued(app, &s.valid(), "linked again").await;
    // Agreement suspended by the consumer, then by the producer; reactivated.
    let agreement = |action: &str| format!("{COLL}/api/agreements/{}/{action}", s.agreement);
    for who in [&s.luca, &s.paolo] {
        post_ok(app, who, &agreement("suspend")).await;
        let d = refused(&s, &s.valid(), "agreement_not_active").await;
        assert!(
            d["failure"]["reason"]
                .as_str()
                .unwrap()
                .contains("SUSPENDED"),
            "{d}"
        );
        post_ok(app, who, &agreement("activate")).await;
        issued(app, &s.valid(), "agreement active again").await;
    }
    // The e-service's version suspended by the producer.
    let descriptor = |action: &str| {
        format!(
            "{COLL}/api/eservices/{}/descriptors/{}/{action}",
            s.send, s.descriptor
        )
    };
    post_ok(app, &s.paolo, &descriptor("suspend")).await;
    refused(&s, &s.valid(), "eservice_not_active").await;
    post_ok(app, &s.paolo, &descriptor("activate")).await;
    issued(app, &s.valid(), "e-service active again").await;
    // Purpose suspended; then, still suspended, a new version over the quota waits for the
    // producer's approval: not active either.
    let version = |action: &str| {
        format!(
            "{COLL}/api/purposes/{}/versions/{}/{action}",
            s.purpose, s.version
        )
    };
    post_ok(app, &s.luca, &version("suspend")).await;
    let d = refused(&s, &s.valid(), "purpose_not_active").await;
    assert!(
        d["failure"]["reason"]
            .as_str()
            .unwrap()
            .contains("suspended"),
        "{d}"
    );
    let p = expect(
        app,
        &s.luca,
        "POST",
        &format!("{COLL}/api/purposes/{}/versions", s.purpose),
        Some(&json!({ "dailyCalls": 20_000 })),
        200,
    )
    .await;
    let states = testkit::strings_of(&p["versions"], "state");
    assert_eq!(states, ["SUSPENDED", "WAITING_FOR_APPROVAL"], "{p}");
    let d = refused(&s, &s.valid(), "purpose_not_active").await;
    assert!(
        d["failure"]["reason"]
            .as_str()
            .unwrap()
            .contains("approval"),
        "{d}"
    );
    post_ok(app, &s.luca, &version("activate")).await;
    issued(app, &s.valid(), "purpose active again").await;
    // A purpose whose only version waits for approval (over the quota from the start).
    let (waiting, _, state) =
        purpose(app, &s.luca, &s.send, "Notifiche massive", 20_000, false).await;
    assert_eq!(state, "WAITING_FOR_APPROVAL");
    refused(
        &s,
        &s.form_with(|c| c["purposeId"] = json!(waiting)),
        "purpose_not_linked",
    )
    .await;

    // ---- Produzione: nothing of Collaudo exists there ----
    let r = token_at(app, PROD, &s.valid()).await;
    assert_opaque(&r, "the Collaudo assertion in Produzione");
    let r = token_at(app, PROD, &s.form_with(|c| c["aud"] = json!(PROD_AUD))).await;
    assert_opaque(&r, "with the Produzione audience");
    issued(app, &s.valid(), "still valid in Collaudo").await;

    // ---- an API client: the platform's token ----
    let api = post_created(
        app,
        &s.luca,
        &format!("{COLL}/api/clientsApi"),
        &json!({ "name": "Client delle API", "members": [s.luca_id] }),
    )
    .await;
    let api = api["id"].as_str().unwrap().to_string();
    let api_key = ClientKey::generate();
    upload(app, &s.luca, &api, &api_key).await;
    let api_form = token_form(
        Some(&api),
        &api_key.assertion(&assertion_claims(&api, AUD, None)),
    );
    let body = issued(app, &api_form, "the API client").await;
    assert_eq!(body["expires_in"], 600);
    let (header, platform_token) = open_voucher(app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(
        keys_of(&platform_token),
        BTreeSet::from([
            "jti",
            "iss",
            "aud",
            "sub",
            "client_id",
            "iat",
            "nbf",
            "exp",
            "organizationId",
            "role",
        ]),
        "{platform_token}"
    );
    assert_eq!(platform_token["aud"], "m2m.uat.interop.pagopa.it");
    assert_eq!(platform_token["organizationId"], s.comune.as_str());
    assert_eq!(platform_token["role"], "m2m");
    assert_eq!(platform_token["sub"], api.as_str());
    assert_eq!(platform_token["client_id"], api.as_str());
    let iat = platform_token["iat"].as_i64().unwrap();
    assert_eq!(platform_token["exp"], iat + 600);
    // A purposeId is not needed, nor looked at.
    issued(
        app,
        &token_form(
            Some(&api),
            &api_key.assertion(&assertion_claims(&api, AUD, Some(&s.purpose))),
        ),
        "the API client naming a purpose",
    )
    .await;
    let (status, d, _) = debug(app, &s.luca, &api_form).await;
    assert_eq!((status, &d["result"]), (200, &json!("PASSED")), "{d}");
    assert_eq!(d["clientKind"], "API");

    // ---- the debug tool: the institution's admin and security users, own clients only ----
    let giulia = member(app, GIULIA, REGIONE, "prod-interop-coll").await;
    for form in [s.valid(), api_form.clone(), with_third(&s)] {
        let (status, d, _) = debug(app, &giulia, &form).await;
        assert_eq!(status, 404, "{d}");
    }
    // The token endpoint does not care who asks: the assertion decides.
    issued(app, &s.valid(), "valid whoever sends it").await;
    give_anna_collaudo(app, &["api"]).await;
    let anna = member(app, ANNA, COMUNE, "prod-interop-coll").await;
    let (status, _, text) = debug(app, &anna, &s.valid()).await;
    assert_eq!(status, 403, "{text}");
    // A security user looks only at the clients they are a member of: Anna is not one of
    // Luca's client's, whether the assertion names it by `sub` and kid or by the kid alone.
    give_anna_collaudo(app, &["security"]).await;
    let anna = member(app, ANNA, COMUNE, "prod-interop-coll").await;
    let mut claims = s.claims();
    claims["sub"] = json!("not-a-client");
    claims["iss"] = json!("not-a-client");
    let kid_only = token_form(None, &s.key.assertion(&claims));
    for form in [s.valid(), kid_only.clone()] {
        let (status, d, _) = debug(app, &anna, &form).await;
        assert_eq!(status, 404, "{d}");
    }
    let anna_id = user_id(app, &anna).await;
    post_ok(
        app,
        &s.luca,
        &format!("{COLL}/api/clients/{}/users/{anna_id}", s.client),
    )
    .await;
    let (status, d, _) = debug(app, &anna, &s.valid()).await;
    assert_eq!((status, &d["result"]), (200, &json!("PASSED")), "{d}");
    let (status, d, _) = debug(app, &anna, &kid_only).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["result"], "FAILED", "{d}");
    let (status, _, _) = debug(app, "not-a-session", &s.valid()).await;
    assert_eq!(status, 401);
    // A form, as sent to the token endpoint, is read as well.
    let r = app
        .client
        .post(app.url(&format!("{COLL}/api/tools/validateTokenGeneration")))
        .bearer_auth(&s.luca)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&s.form_with(|c| c["aud"] = json!(PROD_AUD))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["failure"]["code"], "invalid_audience", "{d}");
    let (status, _) = call(
        app,
        &s.luca,
        "POST",
        &format!("{COLL}/api/tools/validateTokenGeneration"),
        Some(&json!({ "client_assertion": 42 })),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn strict_claims_lifetime_cap_jti_replay_and_consumer_rate_limit_are_switches() {
    let s = setup(Options {
        settings: Some(Box::new(|settings| {
            let t = &mut settings.interop.token;
            t.strict_claims = true;
            t.max_assertion_lifetime_secs = Some(3600);
            t.jti_replay_check = true;
            t.rate_limit_per_consumer = 3;
            t.rate_limit_interval_ms = 3_600_000;
        })),
        ..Options::default()
    })
    .await;
    let app = &s.app;
    // Strict mode: a claim outside the known ones is refused.
    for extra in ["foo", "nbf", "client_id"] {
        let d = refused(
            &s,
            &s.form_with(|c| c[extra] = json!("x")),
            "unexpected_claim",
        )
        .await;
        assert!(
            d["failure"]["reason"].as_str().unwrap().contains(extra),
            "{d}"
        );
    }
    // The known ones are all accepted.
    let full = s.form_with(|c| {
        c["digest"] = json!({ "alg": "SHA256", "value": "b".repeat(64) });
    });
    // The lifetime cap: an hour here.
    refused(
        &s,
        &s.form_with(|c| c["exp"] = json!(now_secs() + 30 * 86_400)),
        "lifetime_too_long",
    )
    .await;
    refused(
        &s,
        &s.form_with(|c| {
            c["iat"] = json!(now_secs() - 3_000);
            c["exp"] = json!(now_secs() + 601);
        }),
        "lifetime_too_long",
    )
    .await;
    // None of the refusals took from the consumer's budget (counted after validation).
    let first = token(app, &full).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.header("x-rate-limit-limit"), "3");
    assert_eq!(first.header("x-rate-limit-remaining"), "2");
    assert_eq!(first.header("x-rate-limit-interval"), "3600000");
    // The jti replay check: the same assertion a second time is refused...
    refused(&s, &full, "jti_already_used").await;
    // ... also by a client that does not send client_id.
    let a = full.iter().find(|(k, _)| *k == "client_assertion").unwrap();
    let r = token(app, &token_form(None, &a.1)).await;
    assert_opaque(&r, "replayed without client_id");
    // The budget: two more vouchers, then 429 with the headers.
    let r = token(app, &s.valid()).await;
    assert_eq!(
        (r.status, r.header("x-rate-limit-remaining")),
        (200, "1"),
        "{}",
        r.text
    );
    let r = token(app, &s.valid()).await;
    assert_eq!(
        (r.status, r.header("x-rate-limit-remaining")),
        (200, "0"),
        "{}",
        r.text
    );
    let r = token(app, &s.valid()).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert_eq!(r.header("x-rate-limit-limit"), "3");
    assert_eq!(r.header("x-rate-limit-remaining"), "0");
    assert_eq!(r.header("x-rate-limit-interval"), "3600000");
    assert_eq!(r.body["status"], 429);
    assert!(r.body.get("access_token").is_none());
    // Invalid requests are still answered 400: the consumer's limit comes after validation.
    let r = token(app, &s.form_with(|c| c["foo"] = json!(1))).await;
    assert_opaque(&r, "an invalid request of a limited consumer");
    // The debug tool is not limited and takes nothing from the budget.
    let (status, d, _) = debug(app, &s.luca, &s.valid()).await;
    assert_eq!((status, &d["result"]), (200, &json!("PASSED")), "{d}");
}

#[tokio::test]
async fn floods_of_invalid_requests_are_bounded_per_address() {
    let app = TestApp::spawn_with(Options {
        settings: Some(Box::new(|settings| {
            let t = &mut settings.interop.token;
            t.rate_limit_per_address = 2;
            t.rate_limit_interval_ms = 3_600_000;
        })),
        ..Options::default()
    })
    .await;
    let form: Form = vec![
        ("client_assertion", "garbage".into()),
        ("client_assertion_type", ASSERTION_TYPE.into()),
        ("grant_type", "client_credentials".into()),
    ];
    for i in 0..2 {
        let r = token(&app, &form).await;
        assert_opaque(&r, &format!("request {i}"));
    }
    let r = token(&app, &form).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert_eq!(r.header("x-rate-limit-limit"), "2");
    assert_eq!(r.header("x-rate-limit-remaining"), "0");
    assert_eq!(r.header("x-rate-limit-interval"), "3600000");
    // The address is bounded in Produzione too (each environment counts its own).
    for _ in 0..2 {
        assert_eq!(token_at(&app, PROD, &form).await.status, 400);
    }
    assert_eq!(token_at(&app, PROD, &form).await.status, 429);
}
