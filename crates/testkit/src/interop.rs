//! Client key pairs and client assertions for the Interoperability tests, signed the way a
//! consumer's software signs them.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use platform::keys::{SigningKeys, generate_pem_file};
use serde_json::{Value, json};

/// An RSA-2048 key pair of a client: the private half signs assertions, the public half is
/// what gets uploaded.
pub struct ClientKey {
    keys: SigningKeys,
    /// RFC 7638 thumbprint: the kid the platform gives the uploaded key.
    pub kid: String,
    /// The public key as a PEM `PUBLIC KEY` block.
    pub public_pem: String,
    /// The private key as PEM (PKCS#8), as a user might wrongly upload it.
    pub private_pem: String,
}

impl ClientKey {
    pub fn generate() -> ClientKey {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.pem");
        generate_pem_file(&path).unwrap();
        let private_pem = std::fs::read_to_string(&path).unwrap();
        let keys = SigningKeys::load(&[path]).unwrap();
        let key = keys.active().unwrap();
        let kid = key.kid().to_string();
        let n = URL_SAFE_NO_PAD
            .decode(key.jwk()["n"].as_str().unwrap())
            .unwrap();
        let e = URL_SAFE_NO_PAD
            .decode(key.jwk()["e"].as_str().unwrap())
            .unwrap();
        let public_pem = pem_block("PUBLIC KEY", &spki(&n, &e));
        ClientKey {
            keys,
            kid,
            public_pem,
            private_pem,
        }
    }

    /// The upload form of the public key: the base64 of its PEM.
    pub fn upload_b64(&self) -> String {
        STANDARD.encode(&self.public_pem)
    }

    /// The public key as `{kty, n, e}`.
    pub fn jwk(&self) -> &Value {
        self.keys.active().unwrap().jwk()
    }

    /// Signs `claims` under `header` (RS256 with this key, whatever the header says).
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        platform::jwt::sign_with_header(self.keys.active().unwrap(), header, claims).unwrap()
    }

    /// The public key alone, `{kty, n, e}`: a DPoP proof's `jwk`.
    pub fn public_jwk(&self) -> Value {
        let jwk = self.jwk();
        json!({"kty": "RSA", "n": jwk["n"], "e": jwk["e"]})
    }

    /// A DPoP proof (RFC 9449) signed with this key: header `{typ: dpop+jwt, alg: RS256,
    /// jwk}` and `claims`.
    pub fn dpop_proof(&self, claims: &Value) -> String {
        self.sign(
            &json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": self.public_jwk()}),
            claims,
        )
    }

    /// A client assertion: header `{alg: RS256, typ: JWT, kid}` and `claims`.
    pub fn assertion(&self, claims: &Value) -> String {
        self.sign(
            &json!({"alg": "RS256", "typ": "JWT", "kid": self.kid}),
            claims,
        )
    }
}

/// The claims of a fresh DPoP proof for `method` and `url`: `iat` now, a new `jti`.
pub fn dpop_claims(method: &str, url: &str) -> Value {
    json!({
        "htm": method,
        "htu": url,
        "iat": platform::jwt::now_secs(),
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

/// Whether Python's jwcrypto is here for [`jwcrypto_proof`] (see [`crate::python_with`]).
pub fn jwcrypto_available(test: &str) -> bool {
    crate::python_with(
        test,
        &["jwcrypto"],
        "python3 -m pip install jwcrypto==1.5.6",
    )
}

/// A DPoP proof made by jwcrypto (`crates/testkit/dpop_proof.py`) with the P-256 key in
/// `key_file` (made at the first call) for `method` and `url`, with `ath` when `token` is
/// given: the proof and jwcrypto's RFC 7638 thumbprint of the key.
pub async fn jwcrypto_proof(
    key_file: &std::path::Path,
    method: &str,
    url: &str,
    token: Option<&str>,
) -> (String, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/dpop_proof.py");
    let mut command = tokio::process::Command::new("python3");
    command.arg(script).arg(key_file).arg(method).arg(url);
    if let Some(t) = token {
        command.arg(t);
    }
    let out = command.output().await.expect("run python3");
    assert!(
        out.status.success(),
        "dpop_proof.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("dpop_proof.py's JSON");
    (
        v["proof"].as_str().unwrap_or_default().to_string(),
        v["jkt"].as_str().unwrap_or_default().to_string(),
    )
}

/// The claims of a valid client assertion for `client_id`, valid for ten minutes.
pub fn assertion_claims(client_id: &str, audience: &str, purpose_id: Option<&str>) -> Value {
    let now = platform::jwt::now_secs();
    let mut claims = json!({
        "iss": client_id, "sub": client_id, "aud": audience,
        "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 600,
    });
    if let Some(p) = purpose_id {
        claims["purposeId"] = json!(p);
    }
    claims
}

/// The form of a token request.
pub fn token_form(client_id: Option<&str>, assertion: &str) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("client_assertion", assertion.to_string()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
        ),
        ("grant_type", "client_credentials".to_string()),
    ];
    if let Some(id) = client_id {
        form.push(("client_id", id.to_string()));
    }
    form
}

pub fn pem_block(tag: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {tag}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {tag}-----\n"));
    out
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 128 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if v.first().is_none_or(|b| *b & 0x80 != 0) {
        v.insert(0, 0);
    }
    der(0x02, &v)
}

/// PKCS#1 `RSAPublicKey` of (n, e).
pub fn pkcs1(n: &[u8], e: &[u8]) -> Vec<u8> {
    der(0x30, &[der_uint(n), der_uint(e)].concat())
}

/// SubjectPublicKeyInfo of an RSA key (n, e).
pub fn spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    let algorithm = der(
        0x30,
        &[
            der(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
            ),
            vec![0x05, 0x00],
        ]
        .concat(),
    );
    let mut bits = vec![0u8];
    bits.extend(pkcs1(n, e));
    der(0x30, &[algorithm, der(0x03, &bits)].concat())
}

/// Answers that satisfy the risk-analysis form `form` (as the API gives it): the first choice
/// of every question that applies, a sentence for texts.
pub fn risk_answers(form: &Value) -> Value {
    let mut answers = serde_json::Map::new();
    for q in form["questions"].as_array().unwrap() {
        if let Some(dep) = q.get("dependsOn") {
            let given = answers
                .get(dep["question"].as_str().unwrap())
                .and_then(|v: &Value| v.as_array())
                .is_some_and(|a| a.iter().any(|x| x == &dep["value"]));
            if !given {
                continue;
            }
        }
        let value = match q["kind"].as_str().unwrap() {
            "TEXT" => json!(["Notifiche degli atti del Comune ai cittadini."]),
            _ => json!([q["options"][0]["value"]]),
        };
        answers.insert(q["id"].as_str().unwrap().to_string(), value);
    }
    json!({ "version": form["version"], "answers": answers })
}
