//! The RSA keys that sign the tokens this server issues, and their public JWKS.
//!
//! Parsed once at start and kept: parsing a private key is dear, and doing it again for every
//! signature would slow down every token issued. The first key signs; every key is published,
//! so that tokens signed by a retired key keep verifying until they expire.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the key file {path} is not a PEM RSA private key: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("the key file {path} holds an RSA key of {bits} bits; at least 2048 are required")]
    TooShort { path: PathBuf, bits: usize },
    #[error("cannot write the key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot generate an RSA key")]
    Generate,
    #[error("no signing key is configured")]
    Empty,
    #[error("signing failed")]
    Sign,
}

pub struct SigningKey {
    kid: String,
    pair: RsaKeyPair,
    jwk: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn from_pem(path: &Path, text: &str) -> Result<Self, KeyError> {
        let parse_error = |reason: String| KeyError::Parse {
            path: path.to_path_buf(),
            reason,
        };
        let block = pem::parse(text).map_err(|e| parse_error(e.to_string()))?;
        let pair = match block.tag() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(block.contents()),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(block.contents()),
            other => {
                return Err(parse_error(format!(
                    "found a `{other}` block; expected `PRIVATE KEY` or `RSA PRIVATE KEY`"
                )));
            }
        }
        .map_err(|e| parse_error(e.to_string()))?;
        let bits = pair.public_modulus_len() * 8;
        if bits < 2048 {
            return Err(KeyError::TooShort {
                path: path.to_path_buf(),
                bits,
            });
        }
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let kid = jwk_thumbprint(&n, &e);
        let jwk = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e});
        Ok(Self { kid, pair, jwk })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| KeyError::Sign)?;
        Ok(signature)
    }
}

/// RFC 7638 thumbprint of an RSA JWK: SHA-256 of `{"e","kty","n"}`, base64url (43 chars).
pub fn jwk_thumbprint(n_b64: &str, e_b64: &str) -> String {
    let canonical = format!(r#"{{"e":"{e_b64}","kty":"RSA","n":"{n_b64}"}}"#);
    sha256_base64url(canonical.as_bytes())
}

fn sha256_base64url(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// The JWK thumbprint of RFC 7638: base64url SHA-256 of the key's required members in
/// lexicographic order (`{"e","kty","n"}` for RSA, `{"crv","kty","x","y"}` for EC), with no
/// white space. `None` for another key type or a member missing or not a string.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    // Each value written as JSON writes a string (escapes included); the members in
    // lexicographic order, whatever order a map would keep.
    let quoted = |v: &str| serde_json::to_string(v).ok();
    let canonical = match member("kty")? {
        "RSA" => format!(
            r#"{{"e":{},"kty":"RSA","n":{}}}"#,
            quoted(member("e")?)?,
            quoted(member("n")?)?
        ),
        "EC" => format!(
            r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
            quoted(member("crv")?)?,
            quoted(member("x")?)?,
            quoted(member("y")?)?
        ),
        _ => return None,
    };
    Some(sha256_base64url(canonical.as_bytes()))
}

/// The key ring: the first key signs, all verify.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    keys: Arc<Vec<SigningKey>>,
}

impl SigningKeys {
    pub fn load(paths: &[PathBuf]) -> Result<Self, KeyError> {
        if paths.is_empty() {
            return Err(KeyError::Empty);
        }
        let keys = paths
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
                    path: path.clone(),
                    source,
                })?;
                SigningKey::from_pem(path, &text)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            keys: Arc::new(keys),
        })
    }

    /// The key that signs new tokens.
    pub fn active(&self) -> Option<&SigningKey> {
        self.keys.first()
    }

    pub fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// `{"keys": [...]}` with every public key.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
    }
}

/// Writes a new RSA-2048 private key (PKCS#8 PEM, mode 0600) to `path`.
pub fn generate_pem_file(path: &Path) -> Result<(), KeyError> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
    let der = pair.as_der().map_err(|_| KeyError::Generate)?;
    let text = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()));
    let write_error = |source| KeyError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write_error)?;
    }
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(write_error)?;
        file.write_all(text.as_bytes()).map_err(write_error)?;
        file.sync_all().map_err(write_error)?;
    }
    // Written whole or not at all: a crash never leaves half a key behind.
    std::fs::rename(&tmp, path).map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_load_sign_and_verify_against_their_jwk() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.pem");
        let b = dir.path().join("b.pem");
        generate_pem_file(&a).unwrap();
        generate_pem_file(&b).unwrap();
        let keys = SigningKeys::load(&[a, b]).unwrap();
        let jwks = keys.jwks();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        let active = keys.active().unwrap();
        assert_eq!(active.kid().len(), 43);
        assert!(keys.by_kid(active.kid()).is_some());

        let sig = active.sign(b"header.payload").unwrap();
        let n = URL_SAFE_NO_PAD
            .decode(active.jwk()["n"].as_str().unwrap())
            .unwrap();
        let e = URL_SAFE_NO_PAD
            .decode(active.jwk()["e"].as_str().unwrap())
            .unwrap();
        let public = aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e };
        public
            .verify(
                &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                b"header.payload",
                &sig,
            )
            .unwrap();
        assert!(
            public
                .verify(
                    &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                    b"tampered",
                    &sig
                )
                .is_err()
        );
    }

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // The example key of RFC 7638, section 3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            jwk_thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        // From the whole JWK: its other members do not count.
        let jwk = json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"});
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
        assert_eq!(thumbprint(&json!({"kty": "oct", "k": "x"})), None);
        assert_eq!(
            thumbprint(&json!({"kty": "EC", "crv": "P-256", "x": "a"})),
            None
        );
    }

    #[test]
    fn bad_files_give_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pem");
        std::fs::write(&path, "not a pem").unwrap();
        let err = SigningKeys::load(std::slice::from_ref(&path))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a PEM RSA private key"), "{err}");
        std::fs::write(
            &path,
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        )
        .unwrap();
        let err = SigningKeys::load(std::slice::from_ref(&path))
            .unwrap_err()
            .to_string();
        assert!(err.contains("PUBLIC KEY"), "{err}");
        let missing = dir.path().join("missing.pem");
        assert!(matches!(
            SigningKeys::load(&[missing]),
            Err(KeyError::Read { .. })
        ));
        assert!(matches!(SigningKeys::load(&[]), Err(KeyError::Empty)));
    }
}
