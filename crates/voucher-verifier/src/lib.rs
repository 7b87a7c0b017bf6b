//! Verifies the vouchers of the Interoperability platform (PDND) that reach a producer's
//! e-service, as the platform's manual recommends and more: the audience alone is not enough
//! (another institution can publish an e-service with the same audience, consume it and call
//! yours), so the e-service, the producer and, when given, the versions are checked too.
//!
//! This crate depends on nothing else of its workspace: a producer can build it alone.
//!
//! What a request must carry, checked in this order:
//! 1. `Authorization: Bearer <voucher>` or `Authorization: DPoP <voucher>`;
//! 2. the voucher's header: `alg` RS256, `typ` `at+jwt`, a `kid` of the environment's JWKS
//!    (fetched and cached; fetched again on an unknown `kid`, at most once per
//!    [`Config::refetch_interval`], so that a key rotation is followed without a restart and a
//!    flood of unknown kids is not a flood of fetches);
//! 3. its signature, `iss`, `aud` (one comma-joined string or a list: ours must be among them),
//!    `exp` and `nbf` with [`Config::leeway`];
//! 4. `eserviceId` among ours, `producerId` ours, `descriptorId` among ours when configured,
//!    `purposeId` present;
//! 5. a voucher bound to a key (`cnf.jkt`) is used only as `DPoP`, with a `DPoP` proof signed
//!    by that key for this request (`htm`, `htu`, `ath`, a recent `iat`, a `jti` seen once);
//! 6. with a `digest` in the voucher (or [`Config::require_tracking_evidence`]), the
//!    `Agid-JWT-TrackingEvidence` header whose SHA-256 is that digest (AUDIT_REST_02), signed,
//!    when [`Config::keys_url`] is set, by a key of the voucher's client.
//!
//! ```ignore
//! let verifier = voucher_verifier::Verifier::new(voucher_verifier::Config {
//!     jwks_url: "https://uat.interop.pagopa.it/.well-known/jwks.json".into(),
//!     issuer: "uat.interop.pagopa.it".into(),
//!     audience: "https://api.example.it/anagrafe".into(),
//!     eservice_ids: vec!["<the e-service's id>".into()],
//!     producer_id: "<your institution's id>".into(),
//!     ..voucher_verifier::Config::default()
//! })?;
//! let verified = verifier.verify(&voucher_verifier::Request {
//!     method: "GET",
//!     url: "https://api.example.it/anagrafe/v1/persone/42",
//!     authorization: Some(authorization_header),
//!     dpop: dpop_header,
//!     tracking_evidence: None,
//! }).await?;
//! println!("purpose {} of {}", verified.purpose_id, verified.consumer_id);
//! ```

mod dpop;
mod error;
mod keys;
mod replay;

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use error::VerifyError;

/// What the verifier accepts.
#[derive(Debug, Clone)]
pub struct Config {
    /// The environment's JWKS: `https://<env host>/.well-known/jwks.json`.
    pub jwks_url: String,
    /// The vouchers' `iss` (`interop.pagopa.it`, `uat.interop.pagopa.it`, or this
    /// installation's issuer).
    pub issuer: String,
    /// The e-service's audience, as its version declares it.
    pub audience: String,
    /// The ids of the e-services this endpoint serves.
    pub eservice_ids: Vec<String>,
    /// The producer's id (your institution's, as the platform names it).
    pub producer_id: String,
    /// When not empty, the versions (descriptor ids) accepted.
    pub descriptor_ids: Vec<String>,
    /// Tolerance on `exp`, `nbf` and a DPoP proof's `iat`.
    pub leeway: Duration,
    /// A DPoP proof older than this is refused.
    pub dpop_max_age: Duration,
    /// The shortest time between two fetches of the JWKS.
    pub refetch_interval: Duration,
    /// After a fetch of the JWKS failed, the shortest time before the next (at most
    /// `refetch_interval`); meanwhile a voucher whose key is not cached is `KeysUnavailable`.
    pub retry_after_failure: Duration,
    /// Refuse vouchers without a `digest` (AUDIT_REST_02 for every call).
    pub require_tracking_evidence: bool,
    /// The platform's keys endpoint (`GET <keys_url>/<kid>` → `{clientId, jwk}`): when set, the
    /// tracking evidence's signature is checked against the client's key.
    pub keys_url: Option<String>,
    /// The longest a fetch may take.
    pub fetch_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            jwks_url: String::new(),
            issuer: String::new(),
            audience: String::new(),
            eservice_ids: Vec::new(),
            producer_id: String::new(),
            descriptor_ids: Vec::new(),
            leeway: Duration::from_secs(5),
            dpop_max_age: Duration::from_secs(60),
            refetch_interval: Duration::from_secs(60),
            retry_after_failure: Duration::from_secs(5),
            require_tracking_evidence: false,
            keys_url: None,
            fetch_timeout: Duration::from_secs(5),
        }
    }
}

/// What a request carries, as received.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The URL the caller used, scheme and host included (the DPoP proof's `htu`); a query or
    /// fragment is not compared.
    pub url: &'a str,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The `DPoP` header.
    pub dpop: Option<&'a str>,
    /// The `Agid-JWT-TrackingEvidence` header.
    pub tracking_evidence: Option<&'a str>,
}

/// The claims of a voucher that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub purpose_id: String,
    pub consumer_id: String,
    pub client_id: String,
    pub eservice_id: String,
    pub descriptor_id: String,
    pub producer_id: String,
    /// The voucher's `jti`.
    pub voucher_id: String,
    /// Seconds since the epoch.
    pub expires_at: i64,
    /// Bound to a key (used with a DPoP proof).
    pub dpop: bool,
}

#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(default)]
    aud: Audience,
    #[serde(default)]
    jti: String,
    exp: i64,
    #[serde(rename = "purposeId")]
    purpose_id: Option<String>,
    #[serde(rename = "eserviceId")]
    eservice_id: Option<String>,
    #[serde(rename = "descriptorId")]
    descriptor_id: Option<String>,
    #[serde(rename = "producerId")]
    producer_id: Option<String>,
    #[serde(rename = "consumerId")]
    consumer_id: Option<String>,
    client_id: Option<String>,
    sub: Option<String>,
    digest: Option<DigestClaim>,
    cnf: Option<Confirmation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Audience {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// Every audience named: a list, or one string of comma-joined values.
    fn values(&self) -> Vec<&str> {
        match self {
            Audience::None => Vec::new(),
            Audience::One(s) => s.split(',').map(str::trim).collect(),
            Audience::Many(list) => list
                .iter()
                .flat_map(|s| s.split(','))
                .map(str::trim)
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct DigestClaim {
    alg: String,
    value: String,
}

#[derive(Debug, Deserialize)]
struct Confirmation {
    jkt: String,
}

/// The verifier: its configuration, the environment's keys and the DPoP proofs seen.
pub struct Verifier {
    config: Config,
    keys: keys::KeyCache,
    proofs: replay::Seen,
}

impl Verifier {
    pub fn new(config: Config) -> Result<Self, VerifyError> {
        if config.jwks_url.is_empty() || config.issuer.is_empty() || config.audience.is_empty() {
            return Err(VerifyError::Config(
                "jwks_url, issuer and audience are required".into(),
            ));
        }
        if config.eservice_ids.is_empty() || config.producer_id.is_empty() {
            return Err(VerifyError::Config(
                "the e-service ids and the producer id are required: the audience alone lets \
                 another institution's e-service with the same audience call yours"
                    .into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(config.fetch_timeout)
            .build()
            .map_err(|e| VerifyError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            keys: keys::KeyCache::new(
                http,
                config.jwks_url.clone(),
                config.refetch_interval,
                config.retry_after_failure,
            ),
            proofs: replay::Seen::default(),
            config,
        })
    }

    /// How many times the JWKS was fetched (for operators and tests).
    pub fn jwks_fetches(&self) -> u64 {
        self.keys.fetches()
    }

    /// Verifies `request` now.
    pub async fn verify(&self, request: &Request<'_>) -> Result<Verified, VerifyError> {
        self.verify_at(request, now_secs()).await
    }

    /// Verifies `request` at `now` (seconds since the epoch).
    pub async fn verify_at(
        &self,
        request: &Request<'_>,
        now: i64,
    ) -> Result<Verified, VerifyError> {
        let authorization = request
            .authorization
            .ok_or(VerifyError::MissingAuthorization)?;
        let (scheme, token) = authorization
            .split_once(' ')
            .map(|(s, t)| (s, t.trim()))
            .ok_or(VerifyError::MissingAuthorization)?;
        let dpop_scheme = if scheme.eq_ignore_ascii_case("DPoP") {
            true
        } else if scheme.eq_ignore_ascii_case("Bearer") {
            false
        } else {
            return Err(VerifyError::MissingAuthorization);
        };
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(VerifyError::Algorithm(format!("{:?}", header.alg)));
        }
        if header.typ.as_deref() != Some("at+jwt") {
            return Err(VerifyError::Type(header.typ.unwrap_or_default()));
        }
        let kid = header
            .kid
            .ok_or_else(|| VerifyError::Malformed("no kid in the header".into()))?;
        let key = self.keys.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.set_issuer(&[self.config.issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        let claims = decode_at::<Claims>(token, &key, &validation, now)?;
        if !claims.aud.values().contains(&self.config.audience.as_str()) {
            return Err(VerifyError::Audience);
        }
        let eservice_id = claims.eservice_id.clone().unwrap_or_default();
        if !self.config.eservice_ids.contains(&eservice_id) {
            return Err(VerifyError::EService(eservice_id));
        }
        if claims.producer_id.as_deref() != Some(self.config.producer_id.as_str()) {
            return Err(VerifyError::Producer);
        }
        let descriptor_id = claims.descriptor_id.clone().unwrap_or_default();
        if !self.config.descriptor_ids.is_empty()
            && !self.config.descriptor_ids.contains(&descriptor_id)
        {
            return Err(VerifyError::Descriptor(descriptor_id));
        }
        let purpose_id = claims
            .purpose_id
            .clone()
            .filter(|p| !p.is_empty())
            .ok_or(VerifyError::MissingPurpose)?;
        match (&claims.cnf, dpop_scheme) {
            (Some(cnf), true) => {
                let proof = request.dpop.ok_or(VerifyError::DpopMissing)?;
                let checked = dpop::check(
                    proof,
                    &dpop::Expected {
                        method: request.method,
                        url: request.url,
                        token,
                        jkt: &cnf.jkt,
                    },
                    now,
                    self.config.leeway.as_secs(),
                    self.config.dpop_max_age.as_secs(),
                )?;
                let keep_until = checked.iat
                    + i64::try_from(self.config.dpop_max_age.as_secs()).unwrap_or(i64::MAX / 2)
                    + i64::try_from(self.config.leeway.as_secs()).unwrap_or(0);
                if !self.proofs.first_time(&checked.jti, keep_until, now) {
                    return Err(VerifyError::DpopReplay);
                }
            }
            (Some(_), false) => return Err(VerifyError::DpopBoundUsedAsBearer),
            (None, true) => return Err(VerifyError::NotDpopBound),
            (None, false) => {}
        }
        let client_id = claims
            .client_id
            .clone()
            .or(claims.sub.clone())
            .unwrap_or_default();
        match (&claims.digest, request.tracking_evidence) {
            (Some(digest), evidence) => {
                let evidence = evidence.ok_or(VerifyError::TrackingEvidenceMissing)?;
                if !digest.alg.eq_ignore_ascii_case("SHA256") {
                    return Err(VerifyError::DigestMismatch);
                }
                let actual: String = Sha256::digest(evidence.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                if !actual.eq_ignore_ascii_case(&digest.value) {
                    return Err(VerifyError::DigestMismatch);
                }
                if let Some(keys_url) = &self.config.keys_url {
                    self.keys
                        .check_evidence(keys_url, evidence, &client_id, &self.config)
                        .await?;
                }
            }
            (None, _) if self.config.require_tracking_evidence => {
                return Err(VerifyError::TrackingEvidenceMissing);
            }
            (None, _) => {}
        }
        Ok(Verified {
            purpose_id,
            consumer_id: claims.consumer_id.unwrap_or_default(),
            client_id,
            eservice_id,
            descriptor_id,
            producer_id: self.config.producer_id.clone(),
            voucher_id: claims.jti,
            expires_at: claims.exp,
            dpop: claims.cnf.is_some(),
        })
    }
}

/// Decodes and checks `token` as at `now`: `jsonwebtoken` reads the clock itself, so the time
/// claims are checked here against `now`, the signature and the rest by the library.
fn decode_at<T: serde::de::DeserializeOwned>(
    token: &str,
    key: &jsonwebtoken::DecodingKey,
    validation: &Validation,
    now: i64,
) -> Result<T, VerifyError> {
    let mut v = validation.clone();
    let (check_exp, check_nbf) = (v.validate_exp, v.validate_nbf);
    v.validate_exp = false;
    v.validate_nbf = false;
    let mut required: HashSet<String> = v.required_spec_claims.clone();
    required.remove("nbf");
    v.required_spec_claims = required;
    let data =
        jsonwebtoken::decode::<serde_json::Value>(token, key, &v).map_err(VerifyError::from)?;
    let leeway = i64::try_from(v.leeway).unwrap_or(0);
    let claims = data.claims;
    if check_exp {
        let exp = claims
            .get("exp")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| VerifyError::Malformed("no exp".into()))?;
        if exp + leeway <= now {
            return Err(VerifyError::Expired);
        }
    }
    if check_nbf
        && let Some(nbf) = claims.get("nbf").and_then(serde_json::Value::as_i64)
        && nbf - leeway > now
    {
        return Err(VerifyError::NotYetValid);
    }
    serde_json::from_value(claims).map_err(|e| VerifyError::Malformed(e.to_string()))
}

/// The RFC 7638 thumbprint of a public JWK (RSA or EC), base64url.
pub fn thumbprint(jwk: &serde_json::Value) -> Option<String> {
    let s = |k: &str| jwk.get(k).and_then(serde_json::Value::as_str);
    let canonical = match s("kty")? {
        "RSA" => serde_json::json!({"e": s("e")?, "kty": "RSA", "n": s("n")?}),
        "EC" => serde_json::json!({"crv": s("crv")?, "kty": "EC", "x": s("x")?, "y": s("y")?}),
        _ => return None,
    };
    // serde_json writes an object's members in the order of their keys (sorted, as above).
    let text = serde_json::to_string(&canonical).ok()?;
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes())))
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
