//! DPoP (RFC 9449) at the token endpoint: a proof binds the voucher to its key (`cnf.jkt`,
//! `token_type: DPoP`); each departure from the proof's exact shape is the same opaque 400
//! while the debug tool names it; a proof's `jti` is used once, across instances; a proof made
//! by a library outside this workspace (Python's jwcrypto) gets a voucher that the producer's
//! verifier library accepts.

use std::time::Duration;

use platform::jwt::now_secs;
use serde_json::{Value, json};
use testkit::interop::{ClientKey, dpop_claims, jwcrypto_available, jwcrypto_proof};
use testkit::{Options, TestApp, visible_text};

use crate::attribute_pages::{browser_in_collaudo, open, post};
use crate::tokens::{Reply, Setup, assert_opaque, encode, open_voucher, setup};
use crate::{COLL, COMUNE, LUCA};

/// The token URL both environments' proofs name (`interop.collaudo.token_url`), as a real
/// installation behind its own host names would configure it.
const TOKEN_URL: &str = "https://auth.uat.interop.selfcare.test/token.oauth2";

fn with_token_url() -> Options {
    Options {
        settings: Some(Box::new(|s| {
            s.interop.collaudo.token_url = Some(TOKEN_URL.into());
        })),
        ..Options::default()
    }
}

/// `POST /token.oauth2` at `url` with the valid assertion of `s` and these `DPoP` headers.
async fn token_with(s: &Setup, url: &str, proofs: &[&str]) -> Reply {
    let mut request = s
        .app
        .client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&s.valid()));
    for p in proofs {
        request = request.header("DPoP", *p);
    }
    let r = request.send().await.unwrap();
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

async fn token(s: &Setup, proofs: &[&str]) -> Reply {
    token_with(s, &s.app.url(&format!("{COLL}/token.oauth2")), proofs).await
}

/// The debug tool on the valid assertion of `s` and `proof`.
async fn debug(s: &Setup, proof: &str) -> Value {
    let mut body = serde_json::Map::new();
    for (k, v) in s.valid() {
        body.insert(k.to_string(), json!(v));
    }
    body.insert("dpop_proof".into(), json!(proof));
    let r = s
        .app
        .client
        .post(
            s.app
                .url(&format!("{COLL}/api/tools/validateTokenGeneration")),
        )
        .bearer_auth(&s.luca)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The token endpoint refuses the proof opaquely, and the debug tool names `code` in the
/// step `dpopProofValidation`, skipping the rest.
async fn refused(s: &Setup, proof: &str, code: &str) {
    let r = token(s, &[proof]).await;
    assert_opaque(&r, code);
    assert!(!r.text.contains(code), "{code} leaked: {}", r.text);
    let d = debug(s, proof).await;
    assert_eq!(d["result"], "FAILED", "{code}: {d}");
    assert_eq!(d["failure"]["code"], code, "{d}");
    assert_eq!(d["failure"]["step"], "dpopProofValidation", "{d}");
    assert_eq!(d["steps"]["dpopProofValidation"]["result"], "FAILED", "{d}");
    assert_eq!(
        d["steps"]["clientAssertionValidation"]["result"], "SKIPPED",
        "{d}"
    );
}

#[tokio::test]
async fn a_proof_binds_the_voucher_to_its_key_and_every_departure_is_refused_and_named() {
    let s = setup(with_token_url()).await;
    let dpop = ClientKey::generate();
    let proof = |change: &dyn Fn(&mut Value)| {
        let mut claims = dpop_claims("POST", TOKEN_URL);
        change(&mut claims);
        dpop.dpop_proof(&claims)
    };

    // Without a proof: Bearer, no cnf; the debug tool shows no DPoP step.
    let r = token(&s, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    let (_, claims) = open_voucher(&s.app, r.body["access_token"].as_str().unwrap()).await;
    assert!(claims.get("cnf").is_none(), "{claims}");
    let d = crate::tokens::debug(&s.app, &s.luca, &s.valid()).await.1;
    assert!(d["steps"].get("dpopProofValidation").is_none(), "{d}");

    // With one: DPoP, cnf.jkt the thumbprint of the proof's key (its kid, here: the same
    // RFC 7638 thumbprint), the voucher's type still at+jwt.
    let good = proof(&|_| {});
    let d = debug(&s, &good).await;
    assert_eq!(d["result"], "PASSED", "{d}");
    assert_eq!(d["steps"]["dpopProofValidation"]["result"], "PASSED", "{d}");
    let r = token(&s, &[&good]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "DPoP", "{}", r.text);
    let (header, claims) = open_voucher(&s.app, r.body["access_token"].as_str().unwrap()).await;
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["cnf"], json!({ "jkt": dpop.kid }), "{claims}");
    assert_eq!(claims["purposeId"], s.purpose.as_str());

    // The same proof again: refused, and named by the debug tool.
    refused(&s, &good, "dpop_jti_already_used").await;

    // Each departure from the spec, opaque at the endpoint and named by the debug tool.
    refused(
        &s,
        &proof(&|c| c["htm"] = json!("GET")),
        "dpop_htm_mismatch",
    )
    .await;
    let default_url = s.app.url(&format!("{COLL}/token.oauth2"));
    refused(
        &s,
        &proof(&|c| c["htu"] = json!(default_url)),
        "dpop_htu_mismatch",
    )
    .await;
    refused(
        &s,
        &proof(&|c| c["htu"] = json!(format!("{TOKEN_URL}?x=1"))),
        "dpop_htu_mismatch",
    )
    .await;
    refused(
        &s,
        &proof(&|c| c["iat"] = json!(now_secs() - 120)),
        "dpop_expired",
    )
    .await;
    refused(
        &s,
        &proof(&|c| c["iat"] = json!(now_secs() + 120)),
        "dpop_iat_in_future",
    )
    .await;
    refused(
        &s,
        &proof(&|c| c["ath"] = json!("x")),
        "dpop_invalid_claims",
    )
    .await;
    // A kid in the jwk.
    let mut with_kid = dpop.public_jwk();
    with_kid["kid"] = json!(dpop.kid);
    let p = dpop.sign(
        &json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": with_kid}),
        &dpop_claims("POST", TOKEN_URL),
    );
    refused(&s, &p, "dpop_invalid_jwk").await;
    // A kid beside the jwk, in the header.
    let p = dpop.sign(
        &json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": dpop.public_jwk(), "kid": dpop.kid}),
        &dpop_claims("POST", TOKEN_URL),
    );
    refused(&s, &p, "dpop_invalid_header").await;
    // Signed by another key than the jwk it carries.
    let other = ClientKey::generate();
    let p = other.sign(
        &json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": dpop.public_jwk()}),
        &dpop_claims("POST", TOKEN_URL),
    );
    refused(&s, &p, "dpop_invalid_signature").await;
    refused(&s, "not.a.proof", "dpop_malformed").await;
    // Two proofs: refused (the debug tool takes one, so only the endpoint is asked).
    let (a, b) = (proof(&|_| {}), proof(&|_| {}));
    assert_opaque(&token(&s, &[&a, &b]).await, "two DPoP headers");
    // None of those refusals used up a proof's jti: each of the two is still good once.
    assert_eq!(token(&s, &[&a]).await.status, 200);
    assert_eq!(token(&s, &[&b]).await.status, 200);
}

#[tokio::test]
async fn a_proofs_jti_is_used_once_across_instances_and_swept_after_its_window() {
    let s = setup(with_token_url()).await;
    let other = s
        .app
        .another_instance_with(Box::new(|settings| {
            settings.interop.collaudo.token_url = Some(TOKEN_URL.into());
        }))
        .await;
    let dpop = ClientKey::generate();
    let proof = dpop.dpop_proof(&dpop_claims("POST", TOKEN_URL));
    let r = token(&s, &[&proof]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The second instance refuses the same proof: the jti is in the shared database.
    let r = token_with(&s, &other.url(&format!("{COLL}/token.oauth2")), &[&proof]).await;
    assert_opaque(&r, "a proof replayed through the other instance");
    // A new proof is good on the other instance.
    let fresh = dpop.dpop_proof(&dpop_claims("POST", TOKEN_URL));
    let r = token_with(&s, &other.url(&format!("{COLL}/token.oauth2")), &[&fresh]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "DPoP");
    other.stop().await;

    // The sweep deletes the jtis kept until before now, and only those.
    let db = s.app.db.connect().await;
    let kept = |db: &platform::db::Db| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT CAST(count(*) AS BIGINT) FROM interop_dpop_jtis")
                .fetch_one(db.reader())
                .await
                .unwrap()
        }
    };
    assert_eq!(kept(&db).await, 2);
    let gone = interop::store::tokens::sweep_dpop_jtis(&db, now_secs())
        .await
        .unwrap();
    assert_eq!(gone, 0, "a jti still in its window was swept");
    let gone = interop::store::tokens::sweep_dpop_jtis(&db, now_secs() + 61)
        .await
        .unwrap();
    assert_eq!(gone, 2);
    assert_eq!(kept(&db).await, 0);
    db.close().await;
}

#[tokio::test]
async fn a_proof_made_by_jwcrypto_gets_a_voucher_that_the_verifier_library_accepts() {
    if !jwcrypto_available(
        "a_proof_made_by_jwcrypto_gets_a_voucher_that_the_verifier_library_accepts",
    ) {
        return;
    }
    let s = setup(with_token_url()).await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dpop-key.json");
    let (proof, jkt) = jwcrypto_proof(&key_file, "POST", TOKEN_URL, None).await;
    let r = token(&s, &[&proof]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "DPoP");
    let voucher = r.body["access_token"].as_str().unwrap().to_string();
    let (_, claims) = open_voucher(&s.app, &voucher).await;
    // The thumbprint of an EC key, as jwcrypto computes it.
    assert_eq!(claims["cnf"]["jkt"], jkt.as_str(), "{claims}");

    // The producer's verifier, configured as the e-service's producer would, accepts the
    // voucher with a jwcrypto proof for its own URL, once.
    let config = voucher_verifier::Config {
        jwks_url: s.app.url(&format!("{COLL}/.well-known/jwks.json")),
        issuer: claims["iss"].as_str().unwrap().into(),
        audience: "https://api.uat.notifichedigitali.it".into(),
        eservice_ids: vec![s.send.clone()],
        producer_id: s.pagopa.clone(),
        descriptor_ids: vec![s.descriptor.clone()],
        fetch_timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let verifier = voucher_verifier::Verifier::new(config).unwrap();
    let url = "https://api.uat.notifichedigitali.it/delivery/notifications/sent";
    let (call_proof, _) = jwcrypto_proof(&key_file, "GET", url, Some(&voucher)).await;
    let authorization = format!("DPoP {voucher}");
    let request = voucher_verifier::Request {
        method: "GET",
        url,
        authorization: Some(&authorization),
        dpop: Some(&call_proof),
        tracking_evidence: None,
    };
    let verified = verifier.verify(&request).await.unwrap();
    assert_eq!(verified.purpose_id, s.purpose);
    assert_eq!(verified.consumer_id, s.comune);
    assert_eq!(verified.client_id, s.client);
    // The same call proof again: a replay.
    let again = verifier.verify(&request).await.unwrap_err();
    assert_eq!(again.reason(), "dpop_replay", "{again}");
    // The DPoP voucher used as a Bearer one: refused.
    let bearer = format!("Bearer {voucher}");
    let (call_proof, _) = jwcrypto_proof(&key_file, "GET", url, Some(&voucher)).await;
    let err = verifier
        .verify(&voucher_verifier::Request {
            authorization: Some(&bearer),
            dpop: Some(&call_proof),
            ..request
        })
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "dpop_bound_as_bearer", "{err}");
}

#[tokio::test]
async fn the_keys_endpoint_gives_a_clients_public_key_by_its_kid() {
    let s = setup(Options::default()).await;
    let app: &TestApp = &s.app;
    let r = app
        .client
        .get(app.url(&format!("{COLL}/keys/{}", s.key.kid)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["clientId"], s.client.as_str(), "{body}");
    assert_eq!(body["jwk"]["kid"], s.key.kid.as_str());
    assert_eq!(body["jwk"]["n"], s.key.jwk()["n"]);
    assert_eq!(body["jwk"]["e"], s.key.jwk()["e"]);
    // Another environment's, or no such key: 404.
    for path in [
        format!("/interop/produzione/keys/{}", s.key.kid),
        format!("{COLL}/keys/{}", "A".repeat(43)),
    ] {
        let r = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
}

/// "Verifica client assertion", the page: the DPoP proof's field, and its step in words.
#[tokio::test]
async fn the_debug_page_checks_a_dpop_proof_and_says_what_is_wrong_in_words() {
    let s = setup(with_token_url()).await;
    let browser = browser_in_collaudo(&s.app, LUCA, COMUNE).await;
    let path = format!("{COLL}/tools/client-assertion");
    let form = open(&browser, &s.app, &path).await;
    assert!(form.contains(r#"name="dpop_proof""#), "no DPoP field");
    let assertion = s.valid();
    let assertion = &assertion
        .iter()
        .find(|(k, _)| *k == "client_assertion")
        .unwrap()
        .1;
    let dpop = ClientKey::generate();
    let check = |proof: String| {
        let (browser, app, path, form, assertion) = (&browser, &s.app, &path, &form, assertion);
        async move {
            let r = post(
                browser,
                app,
                path,
                form,
                &[
                    ("client_assertion", assertion),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("grant_type", "client_credentials"),
                    ("dpop_proof", &proof),
                ],
            )
            .await;
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    // A proof for GET: the DPoP step fails, in words; the others are skipped.
    let mut claims = dpop_claims("POST", TOKEN_URL);
    claims["htm"] = json!("GET");
    let html = check(dpop.dpop_proof(&claims)).await;
    assert!(
        html.contains(r#"data-step="dpopProofValidation" data-result="FAILED""#),
        "{html}"
    );
    assert!(html.contains(r#"data-step="clientAssertionValidation" data-result="SKIPPED""#));
    let text = visible_text(&html);
    assert!(text.contains("Validazione della prova DPoP"), "{text}");
    assert!(
        text.contains("L'htm della prova DPoP deve essere POST"),
        "{text}"
    );
    // A good one: every step passes, the DPoP one first.
    let html = check(dpop.dpop_proof(&dpop_claims("POST", TOKEN_URL))).await;
    assert!(
        html.contains(r#"data-testid="verdict" data-result="PASSED""#),
        "{html}"
    );
    assert!(html.contains(r#"data-step="dpopProofValidation" data-result="PASSED""#));
}
