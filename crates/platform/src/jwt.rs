//! Compact RS256 JSON Web Tokens: signing with the server's key ring, verifying against a set
//! of RSA public keys. Claim checks (issuer, audience, expiry, type) belong to each verifier.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
    UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::keys::{KeyError, SigningKey};

/// Tokens larger than this are refused unread.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is not a compact JWT")]
    Malformed,
    #[error("the token is too large")]
    TooLarge,
    #[error("the token's algorithm is not RS256")]
    Algorithm,
    #[error("the token's key is unknown")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token's claims are invalid: {0}")]
    Claims(String),
    #[error("the token could not be signed")]
    Sign,
}

impl From<KeyError> for JwtError {
    fn from(_: KeyError) -> Self {
        JwtError::Sign
    }
}

/// Signs `claims` with `key`: header `{alg: RS256, typ, kid}`.
pub fn sign<C: Serialize>(key: &SigningKey, typ: &str, claims: &C) -> Result<String, JwtError> {
    sign_with_header(
        key,
        &json!({"alg": "RS256", "typ": typ, "kid": key.kid()}),
        claims,
    )
}

/// Signs `claims` under `header` (which must name `alg: RS256` and the key's `kid`).
pub fn sign_with_header<H: Serialize + ?Sized, C: Serialize>(
    key: &SigningKey,
    header: &H,
    claims: &C,
) -> Result<String, JwtError> {
    let header = serde_json::to_vec(header).map_err(|_| JwtError::Sign)?;
    let payload = serde_json::to_vec(claims).map_err(|_| JwtError::Sign)?;
    let mut token = String::with_capacity(1024);
    token.push_str(&URL_SAFE_NO_PAD.encode(header));
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(token)
}

/// A token split and decoded, not yet verified.
#[derive(Debug)]
pub struct Unverified<'a> {
    pub header: Value,
    signed: &'a str,
    signature: Vec<u8>,
    payload: Vec<u8>,
}

impl<'a> Unverified<'a> {
    pub fn parse(token: &'a str) -> Result<Self, JwtError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(JwtError::TooLarge);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| JwtError::Malformed)
        };
        let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| JwtError::Malformed)?;
        if !header.is_object() {
            return Err(JwtError::Malformed);
        }
        Ok(Self {
            header,
            signed: &token[..h.len() + 1 + p.len()],
            signature: decode(s)?,
            payload: decode(p)?,
        })
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// The payload as sent (decoded from base64url, not yet verified).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Checks that the token is RS256 and its signature verifies with the RSA key (`n`, `e`
    /// big-endian).
    pub fn verify_signature(&self, n: &[u8], e: &[u8]) -> Result<(), JwtError> {
        if self.alg() != Some("RS256") {
            return Err(JwtError::Algorithm);
        }
        RsaPublicKeyComponents { n, e }
            .verify(
                &RSA_PKCS1_2048_8192_SHA256,
                self.signed.as_bytes(),
                &self.signature,
            )
            .map_err(|_| JwtError::Signature)
    }

    /// Checks that the token is RS256 and its signature verifies with `key` (from
    /// [`RsaKeyMemo`]).
    pub fn verify_signature_with(&self, key: &ParsedPublicKey) -> Result<(), JwtError> {
        if self.alg() != Some("RS256") {
            return Err(JwtError::Algorithm);
        }
        key.verify_sig(self.signed.as_bytes(), &self.signature)
            .map_err(|_| JwtError::Signature)
    }

    /// Checks that the token is ES256 and its signature (`r || s`, 64 bytes) verifies with the
    /// P-256 key (`x`, `y`: 32 bytes each, big-endian).
    pub fn verify_es256(&self, x: &[u8], y: &[u8]) -> Result<(), JwtError> {
        if self.alg() != Some("ES256") {
            return Err(JwtError::Algorithm);
        }
        if x.len() != 32 || y.len() != 32 {
            return Err(JwtError::UnknownKey);
        }
        let mut point = Vec::with_capacity(65);
        point.push(0x04);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(self.signed.as_bytes(), &self.signature)
            .map_err(|_| JwtError::Signature)
    }

    /// Verifies the RS256 signature with the RSA key (`n`, `e` big-endian) and decodes the
    /// claims.
    pub fn verify<C: DeserializeOwned>(&self, n: &[u8], e: &[u8]) -> Result<C, JwtError> {
        self.verify_signature(n, e)?;
        serde_json::from_slice(&self.payload).map_err(|e| JwtError::Claims(e.to_string()))
    }
}

/// RSA public keys parsed once, by their material (`n` and `e`, base64url as stored): a key
/// used again skips the parse and the Montgomery set-up. It remembers key material only, not
/// which client holds a key or whether it still does (that is read where it is decided), so it
/// cannot serve a deleted key.
#[derive(Default)]
pub struct RsaKeyMemo {
    keys: Mutex<HashMap<Box<str>, Remembered>>,
}

/// By `n`: `e` and the parsed key.
type Remembered = (Box<str>, Arc<ParsedPublicKey>);

/// Keys remembered at most; past that the memo starts again empty.
const MEMO_MAX: usize = 4096;

impl RsaKeyMemo {
    pub fn new() -> Self {
        Self::default()
    }

    /// The parsed RSA key of `n`, `e` (base64url, no padding); `None` when they are not one.
    /// RS256's size limits (2048 to 8192 bits) are checked when it verifies.
    pub fn key(&self, n: &str, e: &str) -> Option<Arc<ParsedPublicKey>> {
        if let Ok(keys) = self.keys.lock()
            && let Some((known_e, key)) = keys.get(n)
            && &**known_e == e
        {
            return Some(key.clone());
        }
        let n_bytes = URL_SAFE_NO_PAD.decode(n).ok()?;
        let e_bytes = URL_SAFE_NO_PAD.decode(e).ok()?;
        let parsed = RsaPublicKeyComponents {
            n: n_bytes.as_slice(),
            e: e_bytes.as_slice(),
        }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .ok()?;
        let parsed = Arc::new(parsed);
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() >= MEMO_MAX {
                keys.clear();
            }
            keys.insert(n.into(), (e.into(), parsed.clone()));
        }
        Some(parsed)
    }
}

/// The `n` and `e` of an RSA JWK, decoded.
pub fn rsa_components(jwk: &Value) -> Option<(Vec<u8>, Vec<u8>)> {
    if jwk.get("kty").and_then(Value::as_str) != Some("RSA") {
        return None;
    }
    let n = URL_SAFE_NO_PAD.decode(jwk.get("n")?.as_str()?).ok()?;
    let e = URL_SAFE_NO_PAD.decode(jwk.get("e")?.as_str()?).ok()?;
    Some((n, e))
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{SigningKeys, generate_pem_file};

    fn keys() -> SigningKeys {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        generate_pem_file(&path).unwrap();
        SigningKeys::load(&[path]).unwrap()
    }

    #[test]
    fn the_key_memo_parses_once_by_material_and_refuses_what_is_not_a_key() {
        let keys = keys();
        let key = keys.active().unwrap();
        let jwk = key.jwk();
        let (n, e) = (jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap());
        let memo = RsaKeyMemo::new();
        let first = memo.key(n, e).unwrap();
        assert!(Arc::ptr_eq(&first, &memo.key(n, e).unwrap()));
        let token = sign(key, "JWT", &json!({"sub": "u1"})).unwrap();
        let parsed = Unverified::parse(&token).unwrap();
        parsed.verify_signature_with(&first).unwrap();
        // The same modulus with another exponent is another key, parsed anew (and wrong).
        let other = memo.key(n, "Aw").unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(
            parsed.verify_signature_with(&other),
            Err(JwtError::Signature)
        );
        // Not base64url, or not a number.
        assert!(memo.key("not base64!", e).is_none());
        assert!(memo.key("", e).is_none());
        // A tampered token does not verify with the memo's key either.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin"}"#);
        parts[1] = &forged;
        let forged = parts.join(".");
        let forged = Unverified::parse(&forged).unwrap();
        assert_eq!(
            forged.verify_signature_with(&first),
            Err(JwtError::Signature)
        );
    }

    #[test]
    fn signed_tokens_verify_and_tampered_ones_do_not() {
        let keys = keys();
        let key = keys.active().unwrap();
        let token = sign(key, "JWT", &json!({"sub": "u1", "n": 1})).unwrap();
        let (n, e) = rsa_components(key.jwk()).unwrap();
        let parsed = Unverified::parse(&token).unwrap();
        assert_eq!(parsed.kid(), Some(key.kid()));
        let claims: Value = parsed.verify(&n, &e).unwrap();
        assert_eq!(claims["sub"], "u1");

        // Another payload under the same signature.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin","n":1}"#);
        parts[1] = &forged;
        let forged = parts.join(".");
        assert_eq!(
            Unverified::parse(&forged)
                .unwrap()
                .verify::<Value>(&n, &e)
                .unwrap_err(),
            JwtError::Signature
        );
    }

    #[test]
    fn alg_none_and_garbage_are_refused() {
        let keys = keys();
        let (n, e) = rsa_components(keys.active().unwrap().jwk()).unwrap();
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let p = URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        let t = format!("{h}.{p}.");
        assert_eq!(
            Unverified::parse(&t)
                .unwrap()
                .verify::<Value>(&n, &e)
                .unwrap_err(),
            JwtError::Algorithm
        );
        assert_eq!(Unverified::parse("a.b").unwrap_err(), JwtError::Malformed);
        assert_eq!(
            Unverified::parse("a.b.c.d").unwrap_err(),
            JwtError::Malformed
        );
        assert_eq!(
            Unverified::parse("!!.??.**").unwrap_err(),
            JwtError::Malformed
        );
        assert_eq!(
            Unverified::parse(&"a".repeat(MAX_TOKEN_BYTES + 1)).unwrap_err(),
            JwtError::TooLarge
        );
    }
}
