//! DPoP proofs (RFC 9449) at the token endpoint, as the real platform checks them: the header
//! exactly `{typ: "dpop+jwt", alg: RS256 | ES256, jwk}`, the `jwk` exactly the public key's
//! members (`{kty, n, e}` or `{kty, crv, x, y}`: a `kid`, `use` or `alg` in it is refused),
//! the payload exactly `{htm: "POST", htu, iat, jti}`, `htu` the environment's token URL as
//! written, `iat` within its window, the signature by the `jwk`. The proof's `jti` is used
//! once, by the caller, after everything else. The voucher is then bound to the key: its
//! `cnf.jkt` is the key's thumbprint (RFC 7638).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use platform::jwt::Unverified;
use platform::keys::thumbprint;
use serde_json::{Map, Value};

use super::{Failure, Step, fail};

/// The header that carries the proof.
pub const HEADER: &str = "DPoP";
/// The proof's `typ`.
pub const TYP: &str = "dpop+jwt";
/// Proofs larger than this are refused unread (a 4096-bit RSA key and the claims fit easily).
pub const MAX_PROOF_BYTES: usize = 4 * 1024;

/// What the environment accepts.
#[derive(Debug, Clone)]
pub struct DpopPolicy {
    /// The token endpoint's URL, exactly as a proof's `htu` must write it.
    pub htu: String,
    /// `iat` may be this many seconds ahead of the server's clock.
    pub future_leeway_secs: i64,
    /// `iat` may be this many seconds behind it; the `jti` is kept as long.
    pub max_age_secs: i64,
}

/// A proof that passed every check but the single use of its `jti`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The thumbprint of the proof's key: the voucher's `cnf.jkt`.
    pub jkt: String,
    pub jti: String,
    /// Until when the `jti` must be remembered (seconds).
    pub keep_until: i64,
}

/// The voucher's confirmation claim (RFC 9449 § 6.1).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Confirmation<'a> {
    pub jkt: &'a str,
}

fn refuse(code: &'static str, reason: impl Into<String>) -> Failure {
    fail(Step::DpopProofValidation, code, reason)
}

/// The proof's `jti` was already used.
pub fn replayed() -> Failure {
    refuse(
        "dpop_jti_already_used",
        "this DPoP proof was already used: make a new proof (a new jti) for each token request",
    )
}

/// The members of `object`, sorted, when they are not exactly `expected`.
fn members_differ(object: &Map<String, Value>, expected: &[&str]) -> Option<String> {
    let mut found: Vec<&str> = object.keys().map(String::as_str).collect();
    found.sort_unstable();
    let mut wanted = expected.to_vec();
    wanted.sort_unstable();
    (found != wanted).then(|| found.join(", "))
}

fn decoded(jwk: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(jwk.get(name)?.as_str()?)
        .ok()
        .filter(|b| !b.is_empty())
}

/// Checks the `DPoP` header's values (`headers`: every `DPoP` header of the request, as sent)
/// against `policy` at `now`; `Ok(None)` when there is none.
pub fn check_dpop(
    headers: &[&[u8]],
    policy: &DpopPolicy,
    now: i64,
) -> Result<Option<Proof>, Failure> {
    let proof = match headers {
        [] => return Ok(None),
        [one] => *one,
        _ => {
            return Err(refuse(
                "dpop_malformed",
                "the request carries more than one DPoP header: send exactly one proof",
            ));
        }
    };
    check_proof(proof, policy, now).map(Some)
}

/// Checks one proof.
pub fn check_proof(proof: &[u8], policy: &DpopPolicy, now: i64) -> Result<Proof, Failure> {
    let malformed = || {
        refuse(
            "dpop_malformed",
            "the DPoP header is not a compact JWS (header.payload.signature, base64url) with \
             JSON objects for header and payload",
        )
    };
    if proof.len() > MAX_PROOF_BYTES {
        return Err(malformed().with("max", MAX_PROOF_BYTES));
    }
    let text = std::str::from_utf8(proof).map_err(|_| malformed())?;
    let token = Unverified::parse(text.trim()).map_err(|_| malformed())?;
    let payload: Map<String, Value> =
        serde_json::from_slice(token.payload()).map_err(|_| malformed())?;
    let Some(header) = token.header.as_object() else {
        return Err(malformed());
    };
    if let Some(found) = members_differ(header, &["typ", "alg", "jwk"]) {
        return Err(refuse(
            "dpop_invalid_header",
            format!("the proof's header must have exactly typ, alg and jwk; it has: {found}"),
        )
        .with("found", found));
    }
    if header.get("typ").and_then(Value::as_str) != Some(TYP) {
        return Err(
            refuse("dpop_invalid_header", "the proof's typ must be dpop+jwt").with("found", "typ"),
        );
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(jwk) = header.get("jwk").and_then(Value::as_object) else {
        return Err(refuse(
            "dpop_invalid_jwk",
            "the proof's jwk is not a JSON object",
        ));
    };
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or_default();
    let expected: &[&str] = match (alg, kty) {
        ("RS256", "RSA") => &["kty", "n", "e"],
        ("ES256", "EC") => &["kty", "crv", "x", "y"],
        ("RS256" | "ES256", _) => {
            return Err(refuse(
                "dpop_invalid_jwk",
                "the proof's jwk is not a key of its algorithm: RSA for RS256, EC P-256 for \
                 ES256",
            ));
        }
        _ => {
            return Err(refuse(
                "dpop_algorithm_not_allowed",
                "the proof must be signed with RS256 or ES256",
            )
            .with("alg", alg));
        }
    };
    if let Some(found) = members_differ(jwk, expected) {
        return Err(refuse(
            "dpop_invalid_jwk",
            format!(
                "the proof's jwk must have exactly {} (no kid, use or alg); it has: {found}",
                expected.join(", ")
            ),
        )
        .with("found", found));
    }
    let bad_key = || {
        refuse(
            "dpop_invalid_jwk",
            "the proof's jwk is not a valid public key",
        )
    };
    let verified = if kty == "RSA" {
        let (n, e) = (
            decoded(jwk, "n").ok_or_else(bad_key)?,
            decoded(jwk, "e").ok_or_else(bad_key)?,
        );
        token.verify_signature(&n, &e)
    } else {
        if jwk.get("crv").and_then(Value::as_str) != Some("P-256") {
            return Err(bad_key());
        }
        let (x, y) = (
            decoded(jwk, "x").ok_or_else(bad_key)?,
            decoded(jwk, "y").ok_or_else(bad_key)?,
        );
        if x.len() != 32 || y.len() != 32 {
            return Err(bad_key());
        }
        token.verify_es256(&x, &y)
    };
    if verified.is_err() {
        return Err(refuse(
            "dpop_invalid_signature",
            "the proof's signature does not verify with the jwk of its header: sign it with the \
             private key of that jwk",
        ));
    }
    if let Some(found) = members_differ(&payload, &["htm", "htu", "iat", "jti"]) {
        return Err(refuse(
            "dpop_invalid_claims",
            format!("the proof's payload must have exactly htm, htu, iat and jti; it has: {found}"),
        )
        .with("found", found));
    }
    if payload.get("htm").and_then(Value::as_str) != Some("POST") {
        return Err(refuse(
            "dpop_htm_mismatch",
            "the proof's htm must be POST, the token request's method",
        ));
    }
    if payload.get("htu").and_then(Value::as_str) != Some(policy.htu.as_str()) {
        return Err(refuse(
            "dpop_htu_mismatch",
            format!(
                "the proof's htu must be this environment's token URL, exactly: {}",
                policy.htu
            ),
        )
        .with("htu", &policy.htu));
    }
    let Some(iat) = payload.get("iat").and_then(Value::as_i64) else {
        return Err(refuse(
            "dpop_invalid_claims",
            "the proof's iat must be a number of seconds since 1970",
        )
        .with("found", "htm, htu, iat, jti"));
    };
    if iat > now + policy.future_leeway_secs {
        return Err(refuse(
            "dpop_iat_in_future",
            "the proof's iat is in the future: check the clock of the machine that makes it",
        ));
    }
    if now > iat + policy.max_age_secs {
        return Err(refuse(
            "dpop_expired",
            format!(
                "the proof is older than {} seconds: make a new one for each request",
                policy.max_age_secs
            ),
        )
        .with("seconds", policy.max_age_secs));
    }
    let jti = match payload.get("jti").and_then(Value::as_str) {
        Some(j) if !j.is_empty() && j.len() <= 255 => j.to_string(),
        _ => {
            return Err(refuse(
                "dpop_invalid_claims",
                "the proof's jti must be a non-empty string (a new UUID for each proof)",
            )
            .with("found", "htm, htu, iat, jti"));
        }
    };
    let jkt = thumbprint(&Value::Object(jwk.clone())).ok_or_else(bad_key)?;
    Ok(Proof {
        jkt,
        jti,
        keep_until: iat + policy.max_age_secs,
    })
}

#[cfg(test)]
mod tests;
