//! The verifier against vouchers signed by an environment's key served over real HTTP: every
//! check refuses what it should, with its reason, and a key rotation is followed without a
//! flood of fetches.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use axum::extract::{Path, State};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use voucher_verifier::{Config, Request, Verifier, VerifyError, thumbprint};

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "uat.interop.pagopa.it";
const AUDIENCE: &str = "https://api.example.it/anagrafe";
const ESERVICE: &str = "0b5e1c7a-2f4d-4b8e-9c1a-7d3e5f6a8b9c";
const PRODUCER: &str = "5c3a9e1f-7b2d-4a6c-8e0f-1d2b3c4d5e6f";
const URL: &str = "https://api.example.it/anagrafe/v1/persone/42";

/// An RSA key with its public JWK (`kid` its thumbprint).
struct Key {
    pair: RsaKeyPair,
    jwk: Value,
    kid: String,
}

impl Key {
    fn new() -> Key {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let mut jwk = json!({"kty": "RSA", "n": n, "e": e});
        let kid = thumbprint(&jwk).unwrap();
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        jwk["alg"] = json!("RS256");
        Key { pair, jwk, kid }
    }

    fn public(&self) -> Value {
        json!({"kty": "RSA", "n": self.jwk["n"], "e": self.jwk["e"]})
    }

    /// A compact JWS of `header` and `claims`, RS256.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

/// The environment: its JWKS (the keys can change) and a client's key endpoint, counted.
#[derive(Clone)]
struct Env {
    jwks: Arc<std::sync::Mutex<Value>>,
    client_keys: Arc<std::sync::Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

async fn serve(env: Env) -> String {
    let app = axum::Router::new()
        .route(
            "/.well-known/jwks.json",
            get(|State(env): State<Env>| async move {
                env.fetches.fetch_add(1, Ordering::SeqCst);
                // A null set: the JWKS is down.
                let jwks = env.jwks.lock().unwrap().clone();
                match jwks {
                    Value::Null => (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        axum::Json(jwks),
                    ),
                    _ => (axum::http::StatusCode::OK, axum::Json(jwks)),
                }
            }),
        )
        .route(
            "/keys/{kid}",
            get(
                |State(env): State<Env>, Path(kid): Path<String>| async move {
                    let keys = env.client_keys.lock().unwrap().clone();
                    match keys.get(&kid) {
                        Some(k) => (axum::http::StatusCode::OK, axum::Json(k.clone())),
                        None => (axum::http::StatusCode::NOT_FOUND, axum::Json(json!({}))),
                    }
                },
            ),
        )
        .with_state(env);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

struct World {
    platform: Key,
    client: Key,
    base: String,
    env: Env,
}

async fn world() -> World {
    let platform = Key::new();
    let client = Key::new();
    let env = Env {
        jwks: Arc::new(std::sync::Mutex::new(
            json!({"keys": [platform.jwk.clone()]}),
        )),
        client_keys: Arc::new(std::sync::Mutex::new(json!({
            client.kid.clone(): {"clientId": "client-1", "jwk": client.jwk.clone()},
        }))),
        fetches: Arc::new(AtomicUsize::new(0)),
    };
    let base = serve(env.clone()).await;
    World {
        platform,
        client,
        base,
        env,
    }
}

impl World {
    /// Valid claims whose `digest` (AUDIT_REST_02) is the hex SHA-256 of `evidence`.
    fn claims_with_digest_of(&self, evidence: &str) -> Value {
        let digest: String = Sha256::digest(evidence.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut claims = self.claims();
        claims["digest"] = json!({"alg": "SHA256", "value": digest});
        claims
    }

    fn config(&self) -> Config {
        Config {
            jwks_url: format!("{}/.well-known/jwks.json", self.base),
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            eservice_ids: vec![ESERVICE.into()],
            producer_id: PRODUCER.into(),
            keys_url: Some(format!("{}/keys", self.base)),
            ..Config::default()
        }
    }

    fn claims(&self) -> Value {
        json!({
            "iss": ISSUER, "aud": format!("https://other.example.it,{AUDIENCE}"),
            "sub": "client-1", "client_id": "client-1", "jti": "voucher-1",
            "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 600,
            "purposeId": "purpose-1", "consumerId": "consumer-1", "producerId": PRODUCER,
            "eserviceId": ESERVICE, "descriptorId": "descriptor-1",
        })
    }

    fn voucher(&self, claims: &Value) -> String {
        self.platform.sign(
            &json!({"alg": "RS256", "typ": "at+jwt", "kid": self.platform.kid}),
            claims,
        )
    }

    /// A DPoP proof of `key` for `method url` and `voucher`.
    fn proof(
        &self,
        key: &Key,
        method: &str,
        url: &str,
        voucher: &str,
        iat: i64,
        jti: &str,
    ) -> String {
        let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(voucher.as_bytes()));
        key.sign(
            &json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": key.public()}),
            &json!({"htm": method, "htu": url, "iat": iat, "jti": jti, "ath": ath}),
        )
    }
}

fn bearer(voucher: &str) -> String {
    format!("Bearer {voucher}")
}

async fn check(
    verifier: &Verifier,
    auth: &str,
    dpop: Option<&str>,
    evidence: Option<&str>,
) -> Result<voucher_verifier::Verified, VerifyError> {
    verifier
        .verify_at(
            &Request {
                method: "GET",
                url: URL,
                authorization: Some(auth),
                dpop,
                tracking_evidence: evidence,
            },
            NOW,
        )
        .await
}

#[tokio::test]
async fn a_good_voucher_passes_with_its_claims() {
    let w = world().await;
    let v = Verifier::new(w.config()).unwrap();
    let ok = check(&v, &bearer(&w.voucher(&w.claims())), None, None)
        .await
        .unwrap();
    assert_eq!(ok.purpose_id, "purpose-1");
    assert_eq!(ok.consumer_id, "consumer-1");
    assert_eq!(ok.client_id, "client-1");
    assert_eq!(ok.eservice_id, ESERVICE);
    assert!(!ok.dpop);
}

#[tokio::test]
async fn every_claim_that_is_not_ours_is_refused_with_its_reason() {
    let w = world().await;
    let v = Verifier::new(w.config()).unwrap();
    let with = |k: &str, value: Value| {
        let mut c = w.claims();
        c[k] = value;
        bearer(&w.voucher(&c))
    };
    let cases: Vec<(String, &str)> = vec![
        // Another e-service with the same audience (the real platform's #1056).
        (with("eserviceId", json!("another-eservice")), "eservice"),
        (with("producerId", json!("another-producer")), "producer"),
        (with("aud", json!("https://other.example.it")), "audience"),
        (with("iss", json!("interop.pagopa.it")), "issuer"),
        (with("exp", json!(NOW - 60)), "expired"),
        (with("nbf", json!(NOW + 60)), "not_yet_valid"),
        (with("purposeId", json!("")), "purpose"),
        ("Basic abc".to_string(), "missing_authorization"),
    ];
    for (auth, reason) in cases {
        let e = check(&v, &auth, None, None).await.unwrap_err();
        assert_eq!(e.reason(), reason, "{e}");
    }
    // Tampered: a claim changed after the signature.
    let good = w.voucher(&w.claims());
    let parts: Vec<&str> = good.split('.').collect();
    let mut claims = w.claims();
    claims["purposeId"] = json!("purpose-2");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    let e = check(&v, &bearer(&tampered), None, None).await.unwrap_err();
    assert_eq!(e.reason(), "signature", "{e}");
    // Another environment's key (its JWKS does not have it).
    let other = Key::new();
    let foreign = other.sign(
        &json!({"alg": "RS256", "typ": "at+jwt", "kid": other.kid}),
        &w.claims(),
    );
    let e = check(&v, &bearer(&foreign), None, None).await.unwrap_err();
    assert_eq!(e.reason(), "unknown_kid", "{e}");
    // A wrong typ.
    let jws = w.platform.sign(
        &json!({"alg": "RS256", "typ": "JWT", "kid": w.platform.kid}),
        &w.claims(),
    );
    assert_eq!(
        check(&v, &bearer(&jws), None, None)
            .await
            .unwrap_err()
            .reason(),
        "typ"
    );
    // The versions, when configured.
    let mut config = w.config();
    config.descriptor_ids = vec!["descriptor-2".into()];
    let v2 = Verifier::new(config).unwrap();
    let e = check(&v2, &bearer(&w.voucher(&w.claims())), None, None)
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "descriptor");
    // The audience alone is not a configuration.
    let mut config = w.config();
    config.eservice_ids.clear();
    assert!(matches!(Verifier::new(config), Err(VerifyError::Config(_))));
}

#[tokio::test]
async fn a_dpop_voucher_needs_its_proof_for_this_request_once() {
    let w = world().await;
    let v = Verifier::new(w.config()).unwrap();
    let holder = Key::new();
    let mut claims = w.claims();
    claims["cnf"] = json!({"jkt": thumbprint(&holder.public()).unwrap()});
    let voucher = w.voucher(&claims);
    let dpop = format!("DPoP {voucher}");
    let proof = w.proof(&holder, "GET", URL, &voucher, NOW - 1, "proof-1");
    let ok = check(&v, &dpop, Some(&proof), None).await.unwrap();
    assert!(ok.dpop);
    // The same proof again: replayed.
    let e = check(&v, &dpop, Some(&proof), None).await.unwrap_err();
    assert_eq!(e.reason(), "dpop_replay");
    // Used as Bearer, without a proof, with a proof for another URL, another method, an old
    // one, or one signed by another key.
    assert_eq!(
        check(&v, &bearer(&voucher), None, None)
            .await
            .unwrap_err()
            .reason(),
        "dpop_bound_as_bearer"
    );
    assert_eq!(
        check(&v, &dpop, None, None).await.unwrap_err().reason(),
        "dpop_missing"
    );
    let other = Key::new();
    for (proof, why) in [
        (
            w.proof(
                &holder,
                "GET",
                "https://api.example.it/other",
                &voucher,
                NOW,
                "p2",
            ),
            "htu",
        ),
        (w.proof(&holder, "POST", URL, &voucher, NOW, "p3"), "htm"),
        (
            w.proof(&holder, "GET", URL, &voucher, NOW - 3600, "p4"),
            "iat",
        ),
        (
            w.proof(&holder, "GET", URL, "another voucher", NOW, "p5"),
            "ath",
        ),
        (w.proof(&other, "GET", URL, &voucher, NOW, "p6"), "cnf.jkt"),
    ] {
        let e = check(&v, &dpop, Some(&proof), None).await.unwrap_err();
        assert_eq!(e.reason(), "dpop_invalid", "{why}: {e}");
        assert!(e.to_string().contains(why), "{why}: {e}");
    }
    // A Bearer voucher presented as DPoP.
    let plain = w.voucher(&w.claims());
    let e = check(&v, &format!("DPoP {plain}"), Some(&proof), None)
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "not_dpop_bound");
}

#[tokio::test]
async fn the_tracking_evidence_must_match_the_digest_and_be_the_clients() {
    let w = world().await;
    let v = Verifier::new(w.config()).unwrap();
    let evidence = w.client.sign(
        &json!({"alg": "RS256", "typ": "JWT", "kid": w.client.kid}),
        &json!({"userID": "operatore-7", "userLocation": "sportello-1", "LoA": "substantial"}),
    );
    let claims = w.claims_with_digest_of(&evidence);
    let auth = bearer(&w.voucher(&claims));
    check(&v, &auth, None, Some(&evidence)).await.unwrap();
    assert_eq!(
        check(&v, &auth, None, None).await.unwrap_err().reason(),
        "tracking_evidence_missing"
    );
    let other = w.client.sign(
        &json!({"alg": "RS256", "typ": "JWT", "kid": w.client.kid}),
        &json!({"userID": "qualcun-altro"}),
    );
    assert_eq!(
        check(&v, &auth, None, Some(&other))
            .await
            .unwrap_err()
            .reason(),
        "digest"
    );
    // The right digest of an evidence signed by a key that is not the client's.
    let stranger = Key::new();
    let forged = stranger.sign(
        &json!({"alg": "RS256", "typ": "JWT", "kid": w.client.kid}),
        &json!({"userID": "x"}),
    );
    let claims = w.claims_with_digest_of(&forged);
    let e = check(&v, &bearer(&w.voucher(&claims)), None, Some(&forged))
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "tracking_evidence", "{e}");
    // Required for every call when configured.
    let mut config = w.config();
    config.require_tracking_evidence = true;
    let strict = Verifier::new(config).unwrap();
    let e = check(&strict, &bearer(&w.voucher(&w.claims())), None, None)
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "tracking_evidence_missing");
}

#[tokio::test]
async fn a_key_rotation_is_followed_and_unknown_kids_do_not_flood_the_jwks() {
    let w = world().await;
    // Within the refetch interval (an hour here), a flood of unknown kids fetches nothing.
    let mut config = w.config();
    config.refetch_interval = Duration::from_secs(3600);
    let v = Verifier::new(config).unwrap();
    check(&v, &bearer(&w.voucher(&w.claims())), None, None)
        .await
        .unwrap();
    assert_eq!(w.env.fetches.load(Ordering::SeqCst), 1);
    let stranger = Key::new();
    for i in 0..50 {
        let jws = stranger.sign(
            &json!({"alg": "RS256", "typ": "at+jwt", "kid": format!("unknown-{i}")}),
            &w.claims(),
        );
        let e = check(&v, &bearer(&jws), None, None).await.unwrap_err();
        assert_eq!(e.reason(), "unknown_kid");
    }
    assert_eq!(w.env.fetches.load(Ordering::SeqCst), 1);
    assert_eq!(v.jwks_fetches(), 1);
    // The platform rotates its key: once the interval has passed (none here), the new kid is
    // fetched, and the known one is not fetched again.
    let mut config = w.config();
    config.refetch_interval = Duration::ZERO;
    let v = Verifier::new(config).unwrap();
    check(&v, &bearer(&w.voucher(&w.claims())), None, None)
        .await
        .unwrap();
    let rotated = Key::new();
    *w.env.jwks.lock().unwrap() = json!({"keys": [rotated.jwk.clone(), w.platform.jwk.clone()]});
    let voucher = rotated.sign(
        &json!({"alg": "RS256", "typ": "at+jwt", "kid": rotated.kid}),
        &w.claims(),
    );
    check(&v, &bearer(&voucher), None, None).await.unwrap();
    check(&v, &bearer(&voucher), None, None).await.unwrap();
    check(&v, &bearer(&w.voucher(&w.claims())), None, None)
        .await
        .unwrap();
    assert_eq!(v.jwks_fetches(), 2);
}

#[tokio::test]
async fn while_the_jwks_is_down_vouchers_are_unverifiable_not_refused_and_fetches_stay_few() {
    let w = world().await;
    *w.env.jwks.lock().unwrap() = Value::Null;
    let mut config = w.config();
    config.refetch_interval = Duration::from_secs(3600);
    config.retry_after_failure = Duration::from_secs(3600);
    let v = Verifier::new(config).unwrap();
    let auth = bearer(&w.voucher(&w.claims()));
    // The outage: every voucher is "keys unavailable" (a 503 for a gateway, not a 401), and a
    // flood of them fetches once.
    for _ in 0..20 {
        let e = check(&v, &auth, None, None).await.unwrap_err();
        assert_eq!(e.reason(), "keys_unavailable", "{e}");
        assert_eq!(e.oauth_error(), None);
    }
    assert_eq!(v.jwks_fetches(), 1);
    // Back up: retried at once here (no retry interval), verified.
    *w.env.jwks.lock().unwrap() = json!({"keys": [w.platform.jwk.clone()]});
    let mut config = w.config();
    config.refetch_interval = Duration::from_secs(3600);
    config.retry_after_failure = Duration::ZERO;
    let v = Verifier::new(config).unwrap();
    *w.env.jwks.lock().unwrap() = Value::Null;
    assert_eq!(
        check(&v, &auth, None, None).await.unwrap_err().reason(),
        "keys_unavailable"
    );
    *w.env.jwks.lock().unwrap() = json!({"keys": [w.platform.jwk.clone()]});
    check(&v, &auth, None, None).await.unwrap();
    assert_eq!(v.jwks_fetches(), 2);
    // Down again: the keys already fetched keep verifying.
    *w.env.jwks.lock().unwrap() = Value::Null;
    check(&v, &auth, None, None).await.unwrap();
}

#[tokio::test]
async fn a_tracking_evidence_signed_under_an_unknown_kid_is_refused_not_unavailable() {
    let w = world().await;
    let v = Verifier::new(w.config()).unwrap();
    let stranger = Key::new();
    let evidence = stranger.sign(
        &json!({"alg": "RS256", "typ": "JWT", "kid": stranger.kid}),
        &json!({"userID": "x"}),
    );
    let claims = w.claims_with_digest_of(&evidence);
    let e = check(&v, &bearer(&w.voucher(&claims)), None, Some(&evidence))
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "tracking_evidence", "{e}");
    assert_eq!(e.oauth_error(), Some("invalid_token"));
}
