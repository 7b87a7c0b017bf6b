//! The token endpoint's rules, pure: the request form, the client assertion's header and
//! claims, the key, the signature and the platform states, each check with its own reason
//! code, and the claims of the voucher. The endpoint answers every [`Failure`] with the same
//! opaque error; the debug tool names it.

use platform::jwt::{JwtError, RsaKeyMemo, Unverified};
use serde::Serialize;
use serde_json::{Map, Value};

use super::client::ClientKind;
use super::{AgreementState, DescriptorState, uuid_shape};

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub const GRANT_TYPE: &str = "client_credentials";
/// Client assertions larger than this are refused unread.
pub const MAX_ASSERTION_BYTES: usize = platform::jwt::MAX_TOKEN_BYTES;

pub mod dpop;

/// The steps of the check, as the debug tool reports them (the DPoP proof's only when the
/// request carries one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InteropStep)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    DpopProofValidation,
    ClientAssertionValidation,
    PublicKeyRetrieve,
    ClientAssertionSignatureVerification,
    PlatformStatesVerification,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::DpopProofValidation,
        Step::ClientAssertionValidation,
        Step::PublicKeyRetrieve,
        Step::ClientAssertionSignatureVerification,
        Step::PlatformStatesVerification,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::DpopProofValidation => "dpopProofValidation",
            Step::ClientAssertionValidation => "clientAssertionValidation",
            Step::PublicKeyRetrieve => "publicKeyRetrieve",
            Step::ClientAssertionSignatureVerification => "clientAssertionSignatureVerification",
            Step::PlatformStatesVerification => "platformStatesVerification",
        }
    }
}

/// Why a token request was refused: the step, a stable code and an explanation for the
/// consumer's technicians (never sent by the token endpoint itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InteropFailure)]
pub struct Failure {
    pub step: Step,
    pub code: &'static str,
    pub reason: String,
    /// The values the reason names, for the pages to say it in their language.
    pub args: Vec<(&'static str, String)>,
}

impl Failure {
    /// With the value of `{name}` in the catalogue's words for this failure.
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }
}

/// Every code a check gives (the pages have words for each).
pub const FAILURE_CODES: &[&str] = &[
    "dpop_malformed",
    "dpop_invalid_header",
    "dpop_algorithm_not_allowed",
    "dpop_invalid_jwk",
    "dpop_invalid_signature",
    "dpop_invalid_claims",
    "dpop_htm_mismatch",
    "dpop_htu_mismatch",
    "dpop_iat_in_future",
    "dpop_expired",
    "dpop_jti_already_used",
    "assertion_type_missing",
    "invalid_assertion_type",
    "grant_type_missing",
    "invalid_grant_type",
    "invalid_client_id_format",
    "assertion_missing",
    "assertion_too_large",
    "malformed_assertion",
    "algorithm_not_allowed",
    "kid_missing",
    "invalid_kid_format",
    "jti_missing",
    "iat_missing",
    "exp_missing",
    "assertion_expired",
    "lifetime_too_long",
    "iss_missing",
    "sub_missing",
    "invalid_sub_format",
    "sub_client_id_mismatch",
    "aud_missing",
    "invalid_audience",
    "invalid_purpose_id_format",
    "unexpected_claim",
    "invalid_digest",
    "jti_already_used",
    "key_not_found",
    "key_of_another_client",
    "invalid_signature",
    "purpose_id_missing",
    "purpose_not_found",
    "purpose_not_linked",
    "purpose_not_active",
    "agreement_not_active",
    "agreement_suspended_by_platform",
    "eservice_not_active",
];

fn fail(step: Step, code: &'static str, reason: impl Into<String>) -> Failure {
    Failure {
        step,
        code,
        reason: reason.into(),
        args: Vec::new(),
    }
}

fn invalid(code: &'static str, reason: impl Into<String>) -> Failure {
    fail(Step::ClientAssertionValidation, code, reason)
}

/// What the environment accepts.
#[derive(Debug, Clone)]
pub struct Policy {
    /// One of the assertion's `aud` values must be this.
    pub audience: String,
    /// Refuse claims other than the known ones.
    pub strict: bool,
    /// `exp - iat` at most this many seconds (off by default, like the real platform).
    pub max_lifetime_secs: Option<i64>,
}

/// The form of `POST /token.oauth2`, as sent (the reference's `AccessTokenRequest`; every
/// field is read leniently here, the checks name what is missing or wrong).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = InteropTokenForm)]
pub struct TokenForm {
    /// The client's id (a UUID); optional, the assertion's `sub` names it too.
    #[schema(nullable = false, example = "e58035ce-c753-4f72-b613-46f8a17b71cc")]
    pub client_id: Option<String>,
    /// The client assertion: a JWT signed with one of the client's keys.
    #[schema(required = true, nullable = false)]
    pub client_assertion: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    #[schema(
        required = true,
        example = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    )]
    pub client_assertion_type: Option<String>,
    /// `client_credentials`.
    #[schema(required = true, nullable = false, example = "client_credentials")]
    pub grant_type: Option<String>,
}

impl TokenForm {
    /// Reads an `application/x-www-form-urlencoded` body; unknown fields are ignored, a field
    /// sent twice keeps its first value.
    pub fn parse(body: &[u8]) -> Self {
        let mut form = TokenForm::default();
        for (k, v) in form_urlencoded::parse(body) {
            let slot = match k.as_ref() {
                "client_id" => &mut form.client_id,
                "client_assertion" => &mut form.client_assertion,
                "client_assertion_type" => &mut form.client_assertion_type,
                "grant_type" => &mut form.grant_type,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(v.into_owned());
            }
        }
        form
    }
}

/// A client assertion whose form, header and claims passed; its signature is not checked
/// yet.
#[derive(Debug)]
pub struct Assertion<'a> {
    pub token: Unverified<'a>,
    pub kid: String,
    /// `sub`: the client.
    pub client_id: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub purpose_id: Option<String>,
    pub digest: Option<Value>,
}

/// The claims a client assertion may carry (with strict mode on, only these).
pub const KNOWN_CLAIMS: [&str; 8] = [
    "iss",
    "sub",
    "aud",
    "jti",
    "iat",
    "exp",
    "purposeId",
    "digest",
];

fn kid_shape(kid: &str) -> bool {
    kid.len() == 43
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn whole_seconds(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        _ => None,
    }
}

fn non_empty_string(value: Option<&Value>) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The first step: the form and the assertion's header and claims, in the order the debug
/// tool reports them.
pub fn check_assertion<'a>(
    form: &'a TokenForm,
    policy: &Policy,
    now: i64,
) -> Result<Assertion<'a>, Failure> {
    match form.client_assertion_type.as_deref() {
        Some(ASSERTION_TYPE) => {}
        None => {
            return Err(invalid(
                "assertion_type_missing",
                format!("client_assertion_type is required: {ASSERTION_TYPE}"),
            ));
        }
        Some(other) => {
            return Err(invalid(
                "invalid_assertion_type",
                format!("client_assertion_type must be {ASSERTION_TYPE} (it is {other:?})"),
            )
            .with("it", other));
        }
    }
    match form.grant_type.as_deref() {
        Some(GRANT_TYPE) => {}
        None => {
            return Err(invalid(
                "grant_type_missing",
                "grant_type is required: client_credentials",
            ));
        }
        Some(other) => {
            return Err(invalid(
                "invalid_grant_type",
                format!("grant_type must be client_credentials (it is {other:?})"),
            )
            .with("it", other));
        }
    }
    if let Some(id) = &form.client_id
        && !uuid_shape(id)
    {
        return Err(invalid(
            "invalid_client_id_format",
            "client_id, when sent, must be the client's id (a UUID)",
        ));
    }
    let Some(raw) = form.client_assertion.as_deref().filter(|a| !a.is_empty()) else {
        return Err(invalid(
            "assertion_missing",
            "client_assertion is required: the JWT signed with the client's private key",
        ));
    };
    let token = Unverified::parse(raw).map_err(|e| match e {
        JwtError::TooLarge => invalid(
            "assertion_too_large",
            format!("the client assertion is longer than {MAX_ASSERTION_BYTES} bytes"),
        )
        .with("max", MAX_ASSERTION_BYTES),
        _ => invalid(
            "malformed_assertion",
            "the client assertion is not a JWT: three base64url parts (header, payload, \
             signature) separated by dots, the header a JSON object",
        ),
    })?;
    match token.alg() {
        Some("RS256") => {}
        other => {
            return Err(invalid(
                "algorithm_not_allowed",
                format!(
                    "the header's alg must be RS256 (it is {})",
                    other.map_or_else(|| "missing".to_string(), |a| format!("{a:?}"))
                ),
            )
            .with(
                "it",
                other.map_or_else(|| "-".to_string(), |a| format!("{a:?}")),
            ));
        }
    }
    let kid = match token.kid() {
        None => {
            return Err(invalid(
                "kid_missing",
                "the header must name the key in kid (the key id shown next to the key)",
            ));
        }
        Some(kid) if !kid_shape(kid) => {
            return Err(invalid(
                "invalid_kid_format",
                "the header's kid must be a key id: 43 characters of A-Z, a-z, 0-9, - and _",
            ));
        }
        Some(kid) => kid.to_string(),
    };
    let claims: Map<String, Value> = serde_json::from_slice(token.payload()).map_err(|_| {
        invalid(
            "malformed_assertion",
            "the client assertion's payload is not a JSON object",
        )
    })?;
    let Some(jti) = non_empty_string(claims.get("jti")) else {
        return Err(invalid(
            "jti_missing",
            "the jti claim is required: a unique id of this assertion (a UUID)",
        ));
    };
    let Some(iat) = whole_seconds(claims.get("iat")) else {
        return Err(invalid(
            "iat_missing",
            "the iat claim is required: when the assertion was made, in seconds since 1970",
        ));
    };
    let Some(exp) = whole_seconds(claims.get("exp")) else {
        return Err(invalid(
            "exp_missing",
            "the exp claim is required: when the assertion expires, in seconds since 1970",
        ));
    };
    if exp <= now {
        return Err(invalid(
            "assertion_expired",
            format!(
                "the assertion expired {} s ago (exp {exp}, now {now}): make a new one",
                now - exp
            ),
        )
        .with("ago", now - exp));
    }
    if let Some(max) = policy.max_lifetime_secs
        && exp.saturating_sub(iat) > max
    {
        return Err(invalid(
            "lifetime_too_long",
            format!(
                "exp - iat is {} s; this environment accepts at most {max} s",
                exp.saturating_sub(iat)
            ),
        )
        .with("lifetime", exp.saturating_sub(iat))
        .with("max", max));
    }
    if non_empty_string(claims.get("iss")).is_none() {
        return Err(invalid(
            "iss_missing",
            "the iss claim is required: the client's id",
        ));
    }
    let Some(sub) = non_empty_string(claims.get("sub")) else {
        return Err(invalid(
            "sub_missing",
            "the sub claim is required: the client's id",
        ));
    };
    if !uuid_shape(sub) {
        return Err(invalid(
            "invalid_sub_format",
            "the sub claim must be the client's id (a UUID)",
        ));
    }
    if let Some(id) = &form.client_id
        && !id.eq_ignore_ascii_case(sub)
    {
        return Err(invalid(
            "sub_client_id_mismatch",
            "the sub claim and the client_id of the request name different clients",
        ));
    }
    let audience_ok = match claims.get("aud") {
        None | Some(Value::Null) => {
            return Err(invalid(
                "aud_missing",
                format!("the aud claim is required: {}", policy.audience),
            )
            .with("audience", &policy.audience));
        }
        Some(Value::String(a)) => *a == policy.audience,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(&policy.audience)),
        Some(_) => false,
    };
    if !audience_ok {
        return Err(invalid(
            "invalid_audience",
            format!(
                "the aud claim must be (or contain) {:?}, this environment's audience",
                policy.audience
            ),
        )
        .with("audience", &policy.audience));
    }
    let purpose_id = match claims.get("purposeId") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if uuid_shape(p) => Some(p.to_ascii_lowercase()),
        Some(_) => {
            return Err(invalid(
                "invalid_purpose_id_format",
                "the purposeId claim must be the purpose's id (a UUID)",
            ));
        }
    };
    let digest = match claims.get("digest") {
        None | Some(Value::Null) => None,
        Some(d) => Some(check_digest(d)?),
    };
    if policy.strict
        && let Some(extra) = claims.keys().find(|k| !KNOWN_CLAIMS.contains(&k.as_str()))
    {
        return Err(invalid(
            "unexpected_claim",
            format!(
                "the claim {extra:?} is not allowed here (accepted: {})",
                KNOWN_CLAIMS.join(", ")
            ),
        )
        .with("claim", extra)
        .with("accepted", KNOWN_CLAIMS.join(", ")));
    }
    let client_id = sub.to_ascii_lowercase();
    let jti = jti.to_string();
    Ok(Assertion {
        token,
        kid,
        client_id,
        jti,
        iat,
        exp,
        purpose_id,
        digest,
    })
}

/// The client and key an assertion names (`client_id`, else `sub`; `kid`), read without any
/// check: the debug tool first makes sure they are the caller's own.
pub fn named(form: &TokenForm) -> (Option<String>, Option<String>) {
    let Some(token) = form
        .client_assertion
        .as_deref()
        .and_then(|a| Unverified::parse(a).ok())
    else {
        return (
            form.client_id
                .clone()
                .filter(|c| uuid_shape(c))
                .map(|c| c.to_ascii_lowercase()),
            None,
        );
    };
    let kid = token.kid().map(str::to_owned);
    let sub = serde_json::from_slice::<Map<String, Value>>(token.payload())
        .ok()
        .and_then(|c| c.get("sub").and_then(Value::as_str).map(str::to_owned));
    let client = form
        .client_id
        .clone()
        .filter(|c| uuid_shape(c))
        .or(sub.filter(|s| uuid_shape(s)))
        .map(|c| c.to_ascii_lowercase());
    (client, kid)
}

fn check_digest(d: &Value) -> Result<Value, Failure> {
    let bad = || {
        invalid(
            "invalid_digest",
            "digest must be {\"alg\": \"SHA256\", \"value\": <64 hex characters>} and nothing \
             else",
        )
    };
    let obj = d.as_object().ok_or_else(bad)?;
    if obj.len() != 2 || obj.get("alg").and_then(Value::as_str) != Some("SHA256") {
        return Err(bad());
    }
    match obj.get("value").and_then(Value::as_str) {
        Some(v) if v.len() == 64 => Ok(d.clone()),
        _ => Err(bad()),
    }
}

/// The key named by the assertion's `kid`, with its client, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    pub client_id: String,
    pub consumer_id: String,
    pub kind: ClientKind,
    /// base64url, as in the JWK.
    pub n: String,
    pub e: String,
}

/// The second step: the key exists in this environment and belongs to the client `sub`.
pub fn check_key<'k>(
    assertion: &Assertion,
    key: Option<&'k KeyFacts>,
) -> Result<&'k KeyFacts, Failure> {
    let Some(key) = key else {
        return Err(fail(
            Step::PublicKeyRetrieve,
            "key_not_found",
            "no key with this kid exists in this environment: it was never uploaded here, or it \
             was deleted",
        ));
    };
    if key.client_id != assertion.client_id {
        return Err(fail(
            Step::PublicKeyRetrieve,
            "key_of_another_client",
            "the key named by kid belongs to another client than sub",
        ));
    }
    Ok(key)
}

/// The third step: the signature verifies with the key.
pub fn check_signature(
    assertion: &Assertion,
    key: &KeyFacts,
    memo: &RsaKeyMemo,
) -> Result<(), Failure> {
    let broken = || {
        fail(
            Step::ClientAssertionSignatureVerification,
            "invalid_signature",
            "the signature does not verify with the uploaded public key: sign with the private \
             key that matches it, RS256",
        )
    };
    let parsed = memo.key(&key.n, &key.e).ok_or_else(broken)?;
    assertion
        .token
        .verify_signature_with(&parsed)
        .map_err(|_| broken())
}

/// What the platform states check needs of the purpose named by the assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeStates {
    pub consumer_id: String,
    pub eservice_id: String,
    pub producer_id: String,
    /// The purpose is linked to the assertion's client.
    pub linked: bool,
    /// The purpose has an ACTIVE version.
    pub active: bool,
    /// A version waits for the producer's approval (named in the explanation).
    pub waiting_for_approval: bool,
    /// The consumer's live agreement for the e-service, if any.
    pub agreement: Option<AgreementFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementFacts {
    pub id: String,
    pub state: AgreementState,
    pub descriptor_id: String,
    pub descriptor_state: DescriptorState,
    pub audience: Vec<String>,
    pub voucher_lifespan: i64,
}

/// What a voucher is issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// An e-service voucher.
    Consumer {
        purpose_id: String,
        agreement_id: String,
        eservice_id: String,
        descriptor_id: String,
        producer_id: String,
        audience: String,
        lifespan: i64,
    },
    /// The platform's own (m2m) token.
    Api,
}

/// The agreement is SUSPENDED by the platform: the consumer lacks `missing` (in words).
pub fn suspended_by_platform(missing: &str) -> Failure {
    states(
        "agreement_suspended_by_platform",
        format!("the platform suspended the agreement: the institution no longer has {missing}"),
    )
    .with("attributes", missing)
}

fn states(code: &'static str, reason: impl Into<String>) -> Failure {
    fail(Step::PlatformStatesVerification, code, reason)
}

/// The fourth step: for CONSUMER clients the purpose is linked, and the purpose, its agreement
/// and the agreement's version are active.
pub fn check_states(
    assertion: &Assertion,
    key: &KeyFacts,
    purpose: Option<&PurposeStates>,
) -> Result<Grant, Failure> {
    if key.kind == ClientKind::Api {
        return Ok(Grant::Api);
    }
    let Some(purpose_id) = &assertion.purpose_id else {
        return Err(states(
            "purpose_id_missing",
            "a CONSUMER client must name the purpose in the purposeId claim",
        ));
    };
    let Some(p) = purpose.filter(|p| p.consumer_id == key.consumer_id) else {
        return Err(states(
            "purpose_not_found",
            "no purpose of the client's institution has this purposeId in this environment",
        ));
    };
    if !p.linked {
        return Err(states(
            "purpose_not_linked",
            "the purpose is not linked to this client: link it on the client's page",
        ));
    }
    if !p.active {
        return Err(states(
            "purpose_not_active",
            if p.waiting_for_approval {
                "the purpose is not active: its version waits for the producer's approval"
            } else {
                "the purpose is not active (suspended, archived or never activated)"
            },
        ));
    }
    let Some(a) = &p.agreement else {
        return Err(states(
            "agreement_not_active",
            "the institution has no agreement for this purpose's e-service",
        ));
    };
    if a.state != AgreementState::Active {
        return Err(states(
            "agreement_not_active",
            format!("the agreement is {}, not ACTIVE", a.state.as_str()),
        ));
    }
    if !matches!(
        a.descriptor_state,
        DescriptorState::Published | DescriptorState::Deprecated
    ) {
        return Err(states(
            "eservice_not_active",
            format!(
                "the e-service's version of the agreement is {}, not PUBLISHED or DEPRECATED",
                a.descriptor_state.as_str()
            ),
        ));
    }
    Ok(Grant::Consumer {
        purpose_id: purpose_id.clone(),
        agreement_id: a.id.clone(),
        eservice_id: p.eservice_id.clone(),
        descriptor_id: a.descriptor_id.clone(),
        producer_id: p.producer_id.clone(),
        audience: a.audience.join(","),
        lifespan: a.voucher_lifespan,
    })
}

/// The header of vouchers and platform tokens.
#[derive(Debug, Serialize)]
pub struct VoucherHeader<'a> {
    pub alg: &'static str,
    pub typ: &'static str,
    #[serde(rename = "use")]
    pub key_use: &'static str,
    pub kid: &'a str,
}

impl<'a> VoucherHeader<'a> {
    /// `{alg: RS256, typ: at+jwt, use: sig, kid}`
    pub fn new(kid: &'a str) -> Self {
        Self {
            alg: "RS256",
            typ: "at+jwt",
            key_use: "sig",
            kid,
        }
    }
}

/// The claims every issued token opens with, in the real platform's order.
#[derive(Debug, Serialize)]
pub struct IssuedClaims<'a> {
    pub jti: &'a str,
    pub iss: &'a str,
    pub aud: &'a str,
    pub sub: &'a str,
    pub client_id: &'a str,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// The claims of an e-service voucher, in the real platform's order.
#[derive(Debug, Serialize)]
pub struct VoucherClaims<'a> {
    #[serde(flatten)]
    pub issued: IssuedClaims<'a>,
    #[serde(rename = "purposeId")]
    pub purpose_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<&'a Value>,
    #[serde(rename = "producerId")]
    pub producer_id: &'a str,
    #[serde(rename = "consumerId")]
    pub consumer_id: &'a str,
    #[serde(rename = "eserviceId")]
    pub eservice_id: &'a str,
    #[serde(rename = "descriptorId")]
    pub descriptor_id: &'a str,
    /// The key a DPoP-bound voucher is bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<dpop::Confirmation<'a>>,
}

/// The claims of the platform's token for API clients.
#[derive(Debug, Serialize)]
pub struct PlatformClaims<'a> {
    #[serde(flatten)]
    pub issued: IssuedClaims<'a>,
    #[serde(rename = "organizationId")]
    pub organization_id: &'a str,
    pub role: &'static str,
    /// The key a DPoP-bound token is bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<dpop::Confirmation<'a>>,
}

#[cfg(test)]
mod tests;
