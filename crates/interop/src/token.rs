//! `POST /interop/<environment>/token.oauth2`: client assertions in, vouchers out — the hot
//! path of the product. One indexed read of committed state per request (no cache), the
//! signature checked with the uploaded key, the voucher signed with the environment's parsed
//! key, and its record committed in a group commit before the answer.
//!
//! Every refusal is the same opaque 400; the reason is logged with the answer's
//! `correlationId` and shown only by the debug tool ([`diagnose`]).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::client_addr::ClientAddr;
use platform::jwt::{now_secs, sign_with_header};
use platform::rate_limit::Decision;
use serde::Serialize;

use crate::model::Role;
use crate::model::client::{ClientKind, may_see};
use crate::model::token::dpop::{self, Confirmation, Proof};
use crate::model::token::{
    self as rules, Assertion, Failure, Grant, IssuedClaims, KeyFacts, PlatformClaims, Step,
    TokenForm, VoucherClaims, VoucherHeader,
};
use crate::state::EnvState;
use crate::store::tokens::{self, VoucherRecord};

/// The reference's error codes (`^[0-9]{3}-[0-9]{4}$`).
const REFUSED: &str = "015-0008";
const TOO_MANY: &str = "015-0009";
const FAILED: &str = "015-0000";

/// The problem document of the reference (`authorizationServerApi.yml`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = InteropTokenProblem)]
pub struct TokenProblem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    status: u16,
    title: &'a str,
    #[serde(rename = "correlationId")]
    correlation_id: String,
    detail: &'a str,
    errors: [ProblemError<'a>; 1],
}

/// The reference's `ProblemError`: a code `^[0-9]{3}-[0-9]{4}$` and its explanation.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = InteropProblemError)]
pub struct ProblemError<'a> {
    code: &'a str,
    detail: &'a str,
}

fn problem(status: StatusCode, code: &str, title: &str, detail: &str) -> (String, Response) {
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let body = TokenProblem {
        kind: "about:blank",
        status: status.as_u16(),
        title,
        correlation_id: correlation_id.clone(),
        detail,
        errors: [ProblemError { code, detail }],
    };
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(platform::error::PROBLEM_JSON),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    (correlation_id, response)
}

/// The opaque refusal: the caller learns nothing of which check failed.
fn refused(env: &str, failure: &Failure) -> Response {
    let (correlation_id, response) = problem(
        StatusCode::BAD_REQUEST,
        REFUSED,
        "The request contains bad syntax or cannot be fulfilled",
        "Unable to generate a token for the given request",
    );
    tracing::info!(
        environment = env,
        correlation_id,
        step = failure.step.as_str(),
        reason = failure.code,
        "token request refused"
    );
    response
}

fn rate_headers(headers: &mut HeaderMap, d: &Decision) {
    headers.insert("x-rate-limit-limit", HeaderValue::from(d.limit));
    headers.insert("x-rate-limit-remaining", HeaderValue::from(d.remaining));
    headers.insert("x-rate-limit-interval", HeaderValue::from(d.interval_ms));
}

fn too_many(d: &Decision) -> Response {
    let (_, mut response) = problem(
        StatusCode::TOO_MANY_REQUESTS,
        TOO_MANY,
        "Too Many Requests",
        "Too many requests: slow down and retry after the interval",
    );
    rate_headers(response.headers_mut(), d);
    response
}

fn failed(env: &str, why: &dyn std::fmt::Display) -> Response {
    let (correlation_id, response) = problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        FAILED,
        "Internal Server Error",
        "The token could not be issued; try again",
    );
    tracing::error!(environment = env, correlation_id, error = %why, "token not issued");
    response
}

/// The answer of the reference (`authorizationServerApi.yml`): its
/// `ClientCredentialsResponse`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = InteropTokenResponse)]
pub struct TokenResponse<'a> {
    /// The voucher (a JWS).
    access_token: &'a str,
    /// `Bearer`, or `DPoP` when the request carried a DPoP proof (the voucher is then bound to
    /// the proof's key: its `cnf.jkt`).
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds.
    expires_in: i64,
}

/// The claims of what is issued: an e-service voucher or the platform's own token.
#[derive(Serialize)]
#[serde(untagged)]
enum Claims<'a> {
    Consumer(VoucherClaims<'a>),
    Api(PlatformClaims<'a>),
}

/// Everything the checks concluded: the DPoP proof (its `jti` not yet used), the assertion,
/// its key and what to issue.
pub struct Checked<'a> {
    pub proof: Option<Proof>,
    pub assertion: Assertion<'a>,
    pub key: KeyFacts,
    pub grant: Grant,
}

/// The checks of the spec in order (the DPoP proof's `jti` excepted: it is used last, after
/// the rate limit).
pub async fn check<'a>(
    state: &EnvState,
    form: &'a TokenForm,
    dpop: &[&[u8]],
    now: i64,
) -> Result<Result<Checked<'a>, Failure>, sqlx::Error> {
    let proof = match dpop::check_dpop(dpop, &state.dpop, now) {
        Ok(p) => p,
        Err(f) => return Ok(Err(f)),
    };
    let assertion = match rules::check_assertion(form, &state.policy, now) {
        Ok(a) => a,
        Err(f) => return Ok(Err(f)),
    };
    let facts = tokens::facts(
        &state.platform.db,
        state.env,
        &assertion.kid,
        assertion.purpose_id.as_deref(),
    )
    .await?;
    let key = match rules::check_key(&assertion, facts.key.as_ref()) {
        Ok(k) => k.clone(),
        Err(f) => return Ok(Err(f)),
    };
    if let Err(f) = rules::check_signature(&assertion, &key, &state.key_memo) {
        return Ok(Err(f));
    }
    let grant = match rules::check_states(&assertion, &key, facts.purpose.as_ref()) {
        Ok(g) => g,
        Err(f) => return Ok(Err(f)),
    };
    if state.token.jti_replay_check
        && !tokens::use_jti(
            &state.platform.db,
            state.env,
            &key.client_id,
            &assertion.jti,
            assertion.exp,
        )
        .await?
    {
        return Ok(Err(replayed()));
    }
    Ok(Ok(Checked {
        proof,
        assertion,
        key,
        grant,
    }))
}

fn replayed() -> Failure {
    Failure {
        step: Step::ClientAssertionValidation,
        code: "jti_already_used",
        reason: "this assertion's jti was already used: make a new assertion (a new jti) for \
                 each request"
            .into(),
        args: Vec::new(),
    }
}

/// `POST /token.oauth2`
pub async fn token(
    State(state): State<EnvState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let env = state.env.as_str();
    let by_address = state.limits.by_address.check(&addr.to_string());
    if !by_address.allowed {
        return too_many(&by_address);
    }
    let form = TokenForm::parse(&body);
    let now = now_secs();
    let proofs: Vec<&[u8]> = headers
        .get_all(dpop::HEADER)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    let checked = match check(&state, &form, &proofs, now).await {
        Ok(Ok(c)) => c,
        Ok(Err(failure)) => return refused(env, &failure),
        Err(e) => return failed(env, &e),
    };
    let by_consumer = state.limits.by_consumer.check(&checked.key.consumer_id);
    if !by_consumer.allowed {
        return too_many(&by_consumer);
    }
    if let Some(proof) = &checked.proof {
        match tokens::use_dpop_jti(&state.platform.db, state.env, &proof.jti, proof.keep_until)
            .await
        {
            Ok(true) => {}
            Ok(false) => return refused(env, &dpop::replayed()),
            Err(e) => return failed(env, &e),
        }
    }
    let cnf = checked.proof.as_ref().map(|p| Confirmation { jkt: &p.jkt });
    let Some(signing) = state.keys.as_ref().and_then(|k| k.active()) else {
        return failed(
            env,
            &"this environment has no signing key (interop.<env>.signing_key_files)",
        );
    };
    // Time-ordered (UUID v7: the millisecond, then 74 random bits): the records' primary key
    // grows at its end instead of touching a random page of its index at every insert, which
    // cut the writer's flushes. The time is no secret: `iat` says it.
    let jti = uuid::Uuid::now_v7().to_string();
    let client_id = checked.key.client_id.as_str();
    let consumer_id = checked.key.consumer_id.as_str();
    let record =
        |kind, audience: &str, lifespan: i64, consumer: Option<[&String; 4]>| VoucherRecord {
            jti: jti.clone(),
            env: state.env,
            kind,
            client_id: client_id.to_string(),
            consumer_id: consumer_id.to_string(),
            purpose_id: consumer.map(|c| c[0].clone()),
            agreement_id: consumer.map(|c| c[1].clone()),
            eservice_id: consumer.map(|c| c[2].clone()),
            descriptor_id: consumer.map(|c| c[3].clone()),
            client_kid: checked.assertion.kid.clone(),
            signing_kid: signing.kid().to_string(),
            audience: audience.to_string(),
            assertion_jti: checked.assertion.jti.clone(),
            issued_at: now,
            expires_at: now + lifespan,
        };
    let issued = |aud, lifespan| IssuedClaims {
        jti: &jti,
        iss: &state.issuer,
        aud,
        sub: client_id,
        client_id,
        iat: now,
        nbf: now,
        exp: now + lifespan,
    };
    // What the voucher says and what its record keeps, from the one grant.
    let (claims, record, lifespan) = match &checked.grant {
        Grant::Consumer {
            purpose_id,
            agreement_id,
            eservice_id,
            descriptor_id,
            producer_id,
            audience,
            lifespan,
        } => (
            Claims::Consumer(VoucherClaims {
                issued: issued(audience.as_str(), *lifespan),
                purpose_id,
                digest: checked.assertion.digest.as_ref(),
                producer_id,
                consumer_id,
                eservice_id,
                descriptor_id,
                cnf: cnf.clone(),
            }),
            record(
                ClientKind::Consumer,
                audience,
                *lifespan,
                Some([purpose_id, agreement_id, eservice_id, descriptor_id]),
            ),
            *lifespan,
        ),
        Grant::Api => {
            let lifespan = state.token.platform_token_lifespan_secs;
            let audience = state.settings.platform_token_audience.as_str();
            (
                Claims::Api(PlatformClaims {
                    issued: issued(audience, lifespan),
                    organization_id: consumer_id,
                    role: "m2m",
                    cnf: cnf.clone(),
                }),
                record(ClientKind::Api, audience, lifespan, None),
                lifespan,
            )
        }
    };
    // The record's commit (its flush above all) runs while the voucher is signed; the answer
    // waits for both. No record, no token: a voucher whose record failed is not handed out. A
    // record whose voucher then failed to sign (no such failure is known with a loaded key)
    // stays, like that of a voucher whose answer was lost on the way.
    let pending = state.vouchers.submit(record).await;
    let signed = sign_with_header(signing, &VoucherHeader::new(signing.kid()), &claims);
    let signed = match signed {
        Ok(t) => t,
        Err(e) => return failed(env, &e),
    };
    if !pending.committed().await {
        return failed(env, &"the voucher's record could not be committed");
    }
    let body = TokenResponse {
        access_token: &signed,
        token_type: if checked.proof.is_some() {
            "DPoP"
        } else {
            "Bearer"
        },
        expires_in: lifespan,
    };
    let body = match serde_json::to_vec(&body) {
        Ok(b) => b,
        Err(e) => return failed(env, &e),
    };
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    rate_headers(headers, &by_consumer);
    response
}

/// What the debug tool checks: the token request's form, and the DPoP proof its `DPoP` header
/// would carry.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = InteropDebugRequest)]
pub struct DebugRequest {
    #[serde(flatten)]
    pub form: TokenForm,
    /// The DPoP proof the token request sends in its `DPoP` header (RFC 9449), if any: the
    /// proof's checks are reported as the step `dpopProofValidation`.
    #[schema(nullable = false)]
    pub dpop_proof: Option<String>,
}

impl DebugRequest {
    /// Reads an `application/x-www-form-urlencoded` body: the token form's fields and
    /// `dpop_proof`.
    pub fn parse(body: &[u8]) -> Self {
        let dpop_proof = form_urlencoded::parse(body)
            .find(|(k, _)| k == "dpop_proof")
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.trim().is_empty());
        Self {
            form: TokenForm::parse(body),
            dpop_proof,
        }
    }
}

/// What the debug tool reports: the client's kind when known, and each step PASSED, FAILED
/// (with the reason) or SKIPPED after a failure.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = InteropDiagnosis)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_kind: Option<ClientKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub result: &'static str,
    /// `{<step>: {result, failures}}`, written in the order the steps run.
    #[serde(serialize_with = "in_step_order")]
    #[schema(value_type = std::collections::BTreeMap<String, StepReport>)]
    pub steps: Vec<(Step, StepReport)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// How one step went: PASSED, FAILED (with its failure) or SKIPPED after a failure.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = InteropStepReport)]
pub struct StepReport {
    pub result: &'static str,
    pub failures: Vec<StepFailure>,
}

/// Why a step failed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = InteropStepFailure)]
pub struct StepFailure {
    pub code: &'static str,
    pub reason: String,
    /// The values the reason names (for the pages' words; not part of the API's answer).
    #[serde(skip)]
    pub args: Vec<(&'static str, String)>,
}

/// The steps as a JSON object, in the order they run.
fn in_step_order<S: serde::Serializer>(
    steps: &[(Step, StepReport)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(steps.iter().map(|(step, report)| (step.as_str(), report)))
}

/// Why the debug tool will not say.
pub enum NotYours {
    /// The assertion names a client or key of another institution.
    NotFound,
}

/// Who asks the debug tool: they look at the clients of their institution they may see
/// ([`crate::model::client::may_see`]: an admin any, a security user those they belong to).
pub struct Inspector<'a> {
    pub institution_id: &'a str,
    pub user_id: &'a str,
    pub roles: &'a [Role],
}

/// Runs the token endpoint's checks on `form` and the DPoP proof, if any, for an
/// institution's technician (nothing is issued or recorded, no `jti` is consumed). An
/// assertion that names a client or key the inspector may not see (another institution's, or
/// for a security user a client they are not a member of) is "not found".
pub async fn diagnose(
    state: &EnvState,
    inspector: &Inspector<'_>,
    form: &TokenForm,
    dpop_proof: Option<&str>,
) -> Result<Result<Diagnosis, NotYours>, sqlx::Error> {
    let now = now_secs();
    let db = &state.platform.db;
    let visible = |id: String| async move {
        let membership = tokens::client_membership(
            db,
            state.env,
            &id,
            inspector.institution_id,
            inspector.user_id,
        )
        .await?;
        Ok::<_, sqlx::Error>(
            membership.is_some_and(|is_member| may_see(inspector.roles, is_member)),
        )
    };
    // A client or key the inspector may not see: not found, whatever else is wrong.
    let (named_client, named_kid) = rules::named(form);
    if let Some(id) = named_client
        && !visible(id).await?
    {
        return Ok(Err(NotYours::NotFound));
    }
    if let Some(kid) = &named_kid
        && let Some(key) = tokens::facts(db, state.env, kid, None).await?.key
        && !visible(key.client_id).await?
    {
        return Ok(Err(NotYours::NotFound));
    }
    let mut client_kind = None;
    let mut client_id = None;
    let mut named_purpose = None;
    let proofs: Vec<&[u8]> = dpop_proof.map(str::as_bytes).into_iter().collect();
    let (proof, dpop_failure) = match dpop::check_dpop(&proofs, &state.dpop, now) {
        Ok(p) => (p, None),
        Err(f) => (None, Some(f)),
    };
    let failure = match rules::check_assertion(form, &state.policy, now) {
        _ if dpop_failure.is_some() => dpop_failure,
        Err(f) => Some(f),
        Ok(assertion) => {
            named_purpose = assertion.purpose_id.clone();
            let facts = tokens::facts(
                db,
                state.env,
                &assertion.kid,
                assertion.purpose_id.as_deref(),
            )
            .await?;
            client_id = Some(assertion.client_id.clone());
            match rules::check_key(&assertion, facts.key.as_ref()) {
                Err(f) => Some(f),
                Ok(key) => {
                    client_kind = Some(key.kind);
                    let failure = rules::check_signature(&assertion, key, &state.key_memo)
                        .and_then(|()| rules::check_states(&assertion, key, facts.purpose.as_ref()))
                        .err();
                    // The replay check as the endpoint makes it, without using the jti up.
                    let replay = failure.is_none()
                        && state.token.jti_replay_check
                        && tokens::jti_used(db, state.env, &key.client_id, &assertion.jti).await?;
                    // The proof's jti last, as the endpoint checks it.
                    let proof_replay = failure.is_none()
                        && !replay
                        && match &proof {
                            Some(p) => tokens::dpop_jti_used(db, state.env, &p.jti).await?,
                            None => false,
                        };
                    if replay {
                        Some(replayed())
                    } else if proof_replay {
                        Some(dpop::replayed())
                    } else {
                        failure
                    }
                }
            }
        }
    };
    // An agreement the platform suspended: name the attributes the consumer lacks.
    let failure = match failure {
        Some(f) if f.code == "agreement_not_active" => match named_purpose {
            Some(p) => match tokens::platform_suspension(db, state.env, &p).await? {
                Some(missing) => Some(rules::suspended_by_platform(&missing)),
                None => Some(f),
            },
            None => Some(f),
        },
        other => other,
    };
    let mut steps = Vec::with_capacity(Step::ALL.len());
    let mut seen_failure = false;
    for step in Step::ALL {
        if step == Step::DpopProofValidation && dpop_proof.is_none() {
            continue;
        }
        let report = match &failure {
            Some(f) if f.step == step => {
                seen_failure = true;
                StepReport {
                    result: "FAILED",
                    failures: vec![StepFailure {
                        code: f.code,
                        reason: f.reason.clone(),
                        args: f.args.clone(),
                    }],
                }
            }
            _ if seen_failure => StepReport {
                result: "SKIPPED",
                failures: Vec::new(),
            },
            _ => StepReport {
                result: "PASSED",
                failures: Vec::new(),
            },
        };
        steps.push((step, report));
    }
    Ok(Ok(Diagnosis {
        client_kind,
        client_id,
        result: if failure.is_some() {
            "FAILED"
        } else {
            "PASSED"
        },
        steps,
        failure,
    }))
}
