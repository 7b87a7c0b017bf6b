//! A DPoP proof (RFC 9449) for one request: signed by the key its header carries, that key's
//! thumbprint the voucher's `cnf.jkt`, for this method and URL, for this voucher (`ath`), and
//! recent.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::VerifyError;

/// What the proof must say.
pub(crate) struct Expected<'a> {
    pub method: &'a str,
    pub url: &'a str,
    /// The voucher, as sent.
    pub token: &'a str,
    pub jkt: &'a str,
}

/// The proof's members the caller still needs (its `jti` is checked once by the caller).
pub(crate) struct Checked {
    pub jti: String,
    pub iat: i64,
}

#[derive(Deserialize)]
struct Proof {
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<i64>,
    jti: Option<String>,
    ath: Option<String>,
}

fn invalid(why: impl Into<String>) -> VerifyError {
    VerifyError::DpopInvalid(why.into())
}

/// `url` without its query and fragment (what `htu` names).
fn without_query(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

pub(crate) fn check(
    proof: &str,
    expected: &Expected<'_>,
    now: i64,
    leeway: u64,
    max_age: u64,
) -> Result<Checked, VerifyError> {
    let header = jsonwebtoken::decode_header(proof).map_err(|e| invalid(e.to_string()))?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(invalid("its typ is not dpop+jwt"));
    }
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
        return Err(invalid("it is signed neither with RS256 nor with ES256"));
    }
    let jwk = header.jwk.ok_or_else(|| invalid("its header has no jwk"))?;
    let jwk_json = serde_json::to_value(&jwk).map_err(|e| invalid(e.to_string()))?;
    let thumbprint =
        crate::thumbprint(&jwk_json).ok_or_else(|| invalid("its jwk is neither RSA nor EC"))?;
    if thumbprint != expected.jkt {
        return Err(invalid(
            "it is signed by another key than the voucher's (cnf.jkt)",
        ));
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| invalid(e.to_string()))?;
    let mut validation = Validation::new(header.alg);
    validation.set_required_spec_claims::<&str>(&[]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Proof>(proof, &key, &validation)
        .map_err(|e| invalid(format!("its signature: {e}")))?
        .claims;
    if claims.htm.as_deref() != Some(expected.method) {
        return Err(invalid("its htm is not this request's method"));
    }
    let htu = claims.htu.unwrap_or_default();
    if without_query(&htu) != without_query(expected.url) {
        return Err(invalid("its htu is not this request's URL"));
    }
    let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(expected.token.as_bytes()));
    if claims.ath.as_deref() != Some(ath.as_str()) {
        return Err(invalid("its ath is not the hash of this voucher"));
    }
    let iat = claims.iat.ok_or_else(|| invalid("it has no iat"))?;
    let leeway = i64::try_from(leeway).unwrap_or(0);
    let max_age = i64::try_from(max_age).unwrap_or(60);
    if iat > now + leeway {
        return Err(invalid("its iat is in the future"));
    }
    if now > iat + max_age + leeway {
        return Err(invalid("it is too old (iat)"));
    }
    let jti = claims
        .jti
        .filter(|j| !j.is_empty())
        .ok_or_else(|| invalid("it has no jti"))?;
    Ok(Checked { jti, iat })
}
