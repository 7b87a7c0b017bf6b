use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use platform::keys::{SigningKeys, generate_pem_file, thumbprint};
use serde_json::{Value, json};

use super::*;

const HTU: &str = "https://selfcare.example/interop/collaudo/token.oauth2";
const NOW: i64 = 1_800_000_000;

fn policy() -> DpopPolicy {
    DpopPolicy {
        htu: HTU.into(),
        future_leeway_secs: 10,
        max_age_secs: 60,
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// A P-256 key that signs proofs (ES256), and its public JWK.
struct EcKey(EcdsaKeyPair);

impl EcKey {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        Self(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap())
    }

    fn jwk(&self) -> Value {
        // The uncompressed point: 0x04 || x || y.
        let point = self.0.public_key().as_ref();
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        })
    }

    fn sign(&self, header: &Value, payload: &Value) -> String {
        let signed = format!("{}.{}", b64(header), b64(payload));
        let sig = self
            .0
            .sign(&SystemRandom::new(), signed.as_bytes())
            .unwrap();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }
}

fn header(jwk: &Value) -> Value {
    json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk})
}

fn payload() -> Value {
    json!({"htm": "POST", "htu": HTU, "iat": NOW, "jti": "4b0b5a7e-6c43-4c7e-9c1e-2f1b1d1f0a01"})
}

fn check(proof: &str, now: i64) -> Result<Proof, Failure> {
    check_proof(proof.as_bytes(), &policy(), now)
}

fn code(proof: &str, now: i64) -> &'static str {
    match check(proof, now) {
        Ok(p) => panic!("passed: {p:?}"),
        Err(f) => {
            assert_eq!(f.step, Step::DpopProofValidation, "{f:?}");
            f.code
        }
    }
}

#[test]
fn a_good_es256_proof_binds_its_keys_thumbprint_and_keeps_its_jti_for_its_window() {
    let key = EcKey::new();
    let proof = key.sign(&header(&key.jwk()), &payload());
    let p = check(&proof, NOW).unwrap();
    assert_eq!(p.jkt, thumbprint(&key.jwk()).unwrap());
    assert_eq!(p.jti, "4b0b5a7e-6c43-4c7e-9c1e-2f1b1d1f0a01");
    assert_eq!(p.keep_until, NOW + 60);
    // The window's edges: 10 s ahead, 60 s behind.
    assert!(check(&proof, NOW - 10).is_ok());
    assert!(check(&proof, NOW + 60).is_ok());
    assert_eq!(code(&proof, NOW - 11), "dpop_iat_in_future");
    assert_eq!(code(&proof, NOW + 61), "dpop_expired");
    // No header, no proof; two headers, refused.
    assert_eq!(check_dpop(&[], &policy(), NOW), Ok(None));
    let one = [proof.as_bytes()];
    assert_eq!(check_dpop(&one, &policy(), NOW).unwrap().unwrap(), p);
    let two = [proof.as_bytes(), proof.as_bytes()];
    assert_eq!(
        check_dpop(&two, &policy(), NOW).unwrap_err().code,
        "dpop_malformed"
    );
}

#[test]
fn a_good_rs256_proof_passes_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.pem");
    generate_pem_file(&path).unwrap();
    let keys = SigningKeys::load(&[path]).unwrap();
    let key = keys.active().unwrap();
    let jwk = keys.jwks()["keys"][0].clone();
    let public = json!({"kty": "RSA", "n": jwk["n"], "e": jwk["e"]});
    let proof = platform::jwt::sign_with_header(
        key,
        &json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": public}),
        &payload(),
    )
    .unwrap();
    assert_eq!(check(&proof, NOW).unwrap().jkt, key.kid());
    // The same with a kid in the jwk: refused.
    let with_kid = json!({"kty": "RSA", "n": jwk["n"], "e": jwk["e"], "kid": key.kid()});
    let proof = platform::jwt::sign_with_header(
        key,
        &json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": with_kid}),
        &payload(),
    )
    .unwrap();
    assert_eq!(code(&proof, NOW), "dpop_invalid_jwk");
}

#[test]
fn each_departure_from_the_shape_is_refused_with_its_code() {
    let key = EcKey::new();
    let jwk = key.jwk();
    let with = |edit: &dyn Fn(&mut Value, &mut Value)| {
        let (mut h, mut p) = (header(&jwk), payload());
        edit(&mut h, &mut p);
        key.sign(&h, &p)
    };
    let cases: Vec<(&str, String)> = vec![
        ("dpop_malformed", "not a jwt".into()),
        ("dpop_malformed", format!("{}.e30", b64(&header(&jwk)))),
        ("dpop_invalid_header", with(&|h, _| h["typ"] = json!("JWT"))),
        ("dpop_invalid_header", with(&|h, _| h["kid"] = json!("k1"))),
        (
            "dpop_algorithm_not_allowed",
            with(&|h, _| h["alg"] = json!("HS256")),
        ),
        ("dpop_invalid_jwk", with(&|h, _| h["alg"] = json!("RS256"))),
        (
            "dpop_invalid_jwk",
            with(&|h, _| h["jwk"]["kid"] = json!("k1")),
        ),
        (
            "dpop_invalid_jwk",
            with(&|h, _| h["jwk"]["use"] = json!("sig")),
        ),
        (
            "dpop_invalid_jwk",
            with(&|h, _| h["jwk"]["crv"] = json!("P-384")),
        ),
        ("dpop_invalid_claims", with(&|_, p| p["ath"] = json!("x"))),
        (
            "dpop_invalid_claims",
            with(&|_, p| {
                p.as_object_mut().unwrap().remove("jti");
            }),
        ),
        ("dpop_invalid_claims", with(&|_, p| p["jti"] = json!(""))),
        ("dpop_invalid_claims", with(&|_, p| p["iat"] = json!("now"))),
        ("dpop_htm_mismatch", with(&|_, p| p["htm"] = json!("GET"))),
        (
            "dpop_htu_mismatch",
            with(&|_, p| p["htu"] = json!(format!("{HTU}/"))),
        ),
        (
            "dpop_htu_mismatch",
            with(&|_, p| p["htu"] = json!("https://auth.uat.interop.pagopa.it/token.oauth2")),
        ),
    ];
    for (expected, proof) in &cases {
        assert_eq!(code(proof, NOW), *expected, "{proof}");
    }
    // Signed by another key than its jwk's.
    let other = EcKey::new();
    let forged = other.sign(&header(&jwk), &payload());
    assert_eq!(code(&forged, NOW), "dpop_invalid_signature");
    // Tampered after signing.
    let good = key.sign(&header(&jwk), &payload());
    let mut parts: Vec<&str> = good.split('.').collect();
    let changed = b64(&json!({"htm": "POST", "htu": HTU, "iat": NOW, "jti": "other"}));
    parts[1] = &changed;
    assert_eq!(code(&parts.join("."), NOW), "dpop_invalid_signature");
    // Every code given is one the pages have words for.
    for (expected, _) in &cases {
        assert!(crate::model::token::FAILURE_CODES.contains(expected));
    }
}
