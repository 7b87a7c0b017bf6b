//! Login through an OpenID provider (SPID/CIE OIDC, a broker, Keycloak): the authorization code
//! flow with PKCE, `state` and `nonce`.
//!
//! - `GET /auth/oidc/login` discovers the provider (once, then cached for an hour), records the
//!   pending flow (state, nonce, PKCE verifier) in `oidc_login_flows` — so that the callback may
//!   land on any instance, after a restart too — binds it to the browser with a short cookie and
//!   sends the browser to the provider.
//! - `GET /auth/oidc/callback` consumes the flow named by `state` (one use, 10 minutes at
//!   most), exchanges the code with the PKCE verifier, verifies the ID token (signature,
//!   issuer, audience, expiry, nonce, `at_hash`), reads the person from the configured claims
//!   (or the userinfo endpoint) and ends like every login, in [`crate::pages::login::complete_login`].
//!
//! Every refusal is a 4xx page (or problem+json for callers that want JSON); a provider that
//! cannot be reached is a 503. Nothing logged here carries the code, a token or the client
//! secret.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthType, AuthorizationCode, ClaimsVerificationError,
    ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, TokenResponse, UserInfoClaims,
};
use platform::db::now_millis;
use platform::layout::{Page, wants_json};
use platform::types::FiscalCode;
use platform::{Cookie, Problem};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::auth;
use crate::error::RaError;
use crate::pages::login::{self, LoginIdentity};
use crate::state::RaState;

/// How long a login may stay at the provider.
const FLOW_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// How long the discovered metadata and keys are trusted before being fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(60 * 60);
/// Binds a pending flow to the browser that started it (against login CSRF).
const FLOW_COOKIE: &str = "selfcare_oidc";
/// The SPID level when the provider sends no `acr`.
const DEFAULT_SPID_LEVEL: &str = "https://www.spid.gov.it/SpidL2";

/// A client configured from the provider's discovery document.
type Discovered = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Every claim beyond the standard ones (the fiscal code, or whatever the settings name).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OtherClaims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for OtherClaims {}

type FullIdToken = IdToken<
    OtherClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// The provider as this instance knows it: discovered at the first login and kept for
/// [`DISCOVERY_TTL`] (forgotten earlier when a token's signature does not verify, in case the
/// keys rotated). A provider that is down costs the logins a 503, never the start.
#[derive(Clone, Default)]
pub struct Oidc {
    cache: Arc<Mutex<Cache>>,
}

#[derive(Default)]
struct Cache {
    http: Option<reqwest::Client>,
    client: Option<(Arc<Discovered>, Instant)>,
}

impl Oidc {
    /// `GET /auth/oidc/login`.
    pub fn login_route(&self) -> MethodRouter<RaState> {
        get(login).layer(Extension(self.clone()))
    }

    /// `GET /auth/oidc/callback`.
    pub fn callback_route(&self) -> MethodRouter<RaState> {
        get(callback).layer(Extension(self.clone()))
    }

    fn http(&self) -> Result<reqwest::Client, Failure> {
        let mut cache = self.cache.lock().map_err(|_| Failure::Unavailable)?;
        if let Some(http) = &cache.http {
            return Ok(http.clone());
        }
        let http = reqwest::Client::builder()
            // The provider's answers are used as they come: following redirects would let
            // it send our requests elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| {
                tracing::error!(error = %e, "OIDC: cannot build the HTTP client");
                Failure::Unavailable
            })?;
        cache.http = Some(http.clone());
        Ok(http)
    }

    fn cached(&self) -> Option<Arc<Discovered>> {
        let cache = self.cache.lock().ok()?;
        cache
            .client
            .as_ref()
            .filter(|(_, at)| at.elapsed() < DISCOVERY_TTL)
            .map(|(client, _)| client.clone())
    }

    fn forget(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.client = None;
        }
    }

    /// The configured client, discovering the provider when it is not known yet.
    async fn client(&self, state: &RaState) -> Result<Arc<Discovered>, Failure> {
        if let Some(client) = self.cached() {
            return Ok(client);
        }
        let settings = &state.settings.oidc;
        let http = self.http()?;
        let issuer = IssuerUrl::new(settings.issuer_url.trim().to_string()).map_err(|e| {
            tracing::error!(error = %e, "OIDC: reserved_area.oidc.issuer_url is not a URL");
            Failure::Unavailable
        })?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| {
                tracing::warn!(
                    issuer = settings.issuer_url.trim(),
                    error = %e,
                    cause = e.source_text(),
                    "OIDC: discovery of the provider failed"
                );
                Failure::Unavailable
            })?;
        let auth_type = auth_type(metadata.token_endpoint_auth_methods_supported());
        let redirect =
            RedirectUrl::new(format!("{}/auth/oidc/callback", state.platform.public_url)).map_err(
                |e| {
                    tracing::error!(error = %e, "OIDC: the redirect URI is not a URL");
                    Failure::Unavailable
                },
            )?;
        let secret = Some(settings.client_secret.as_str())
            .filter(|s| !s.is_empty())
            .map(|s| ClientSecret::new(s.to_string()));
        let client = Arc::new(
            CoreClient::from_provider_metadata(
                metadata,
                ClientId::new(settings.client_id.clone()),
                secret,
            )
            .set_redirect_uri(redirect)
            .set_auth_type(auth_type),
        );
        if let Ok(mut cache) = self.cache.lock() {
            cache.client = Some((client.clone(), Instant::now()));
        }
        tracing::info!(
            issuer = settings.issuer_url.trim(),
            "OIDC: provider discovered"
        );
        Ok(client)
    }
}

/// Client authentication at the token endpoint as the provider advertises it:
/// `client_secret_basic` (also the default when nothing is advertised), else
/// `client_secret_post`.
fn auth_type(supported: Option<&Vec<CoreClientAuthMethod>>) -> AuthType {
    match supported {
        Some(methods)
            if !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
                && methods.contains(&CoreClientAuthMethod::ClientSecretPost) =>
        {
            AuthType::RequestBody
        }
        _ => AuthType::BasicAuth,
    }
}

trait SourceText {
    /// The causes of an error, for the log (never a body or a token).
    fn source_text(&self) -> String;
}

impl<E: std::error::Error> SourceText for E {
    fn source_text(&self) -> String {
        let mut out = Vec::new();
        let mut cause = self.source();
        while let Some(e) = cause {
            out.push(e.to_string());
            cause = e.source();
        }
        out.join(": ")
    }
}

/// Why a login through the provider did not happen.
#[derive(Debug)]
enum Failure {
    /// OIDC is not configured.
    NotConfigured,
    /// The provider cannot be reached (or its discovery document is not usable).
    Unavailable,
    Refused(Refusal),
    Internal(RaError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// No `state`, or no `code` beside it.
    BadCallback,
    /// A `state` this server did not issue, already used, or expired.
    UnknownState,
    /// The flow was started by another browser.
    OtherBrowser,
    /// The provider answered with an `error` (the person cancelled, for instance).
    ProviderError,
    /// The provider refused the code (used, expired, wrong PKCE verifier, wrong client).
    CodeRejected,
    /// The ID token is missing or does not verify (signature, issuer, audience, nonce...).
    TokenInvalid,
    /// No valid fiscal code, name or family name in the claims.
    Identity,
}

impl Refusal {
    fn status(self) -> StatusCode {
        match self {
            Refusal::Identity => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::ProviderError | Refusal::CodeRejected | Refusal::TokenInvalid => {
                StatusCode::UNAUTHORIZED
            }
            Refusal::BadCallback | Refusal::UnknownState | Refusal::OtherBrowser => {
                StatusCode::BAD_REQUEST
            }
        }
    }

    fn code(self) -> &'static str {
        match self {
            Refusal::BadCallback => "oidc_bad_callback",
            Refusal::UnknownState => "oidc_unknown_state",
            Refusal::OtherBrowser => "oidc_other_browser",
            Refusal::ProviderError => "oidc_provider_error",
            Refusal::CodeRejected => "oidc_code_rejected",
            Refusal::TokenInvalid => "oidc_token_invalid",
            Refusal::Identity => "oidc_invalid_identity",
        }
    }

    fn detail(self) -> &'static str {
        match self {
            Refusal::BadCallback => "the callback carries no state or no code",
            Refusal::UnknownState => {
                "unknown, already used or expired login; start again from the login page"
            }
            Refusal::OtherBrowser => "the login was started in another browser",
            Refusal::ProviderError => "the identity provider did not authenticate the person",
            Refusal::CodeRejected => "the identity provider refused the authorization code",
            Refusal::TokenInvalid => "the identity provider's ID token does not verify",
            Refusal::Identity => {
                "the identity provider sent no valid fiscal code, name or family name"
            }
        }
    }

    /// The page's message keys (title, message).
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            Refusal::BadCallback | Refusal::UnknownState | Refusal::OtherBrowser => {
                ("ra.oidc.expired.title", "ra.oidc.expired.message")
            }
            Refusal::ProviderError => ("ra.oidc.refused.title", "ra.oidc.refused.message"),
            Refusal::CodeRejected | Refusal::TokenInvalid => {
                ("ra.oidc.invalid.title", "ra.oidc.invalid.message")
            }
            Refusal::Identity => ("ra.oidc.identity.title", "ra.oidc.identity.message"),
        }
    }
}

impl From<RaError> for Failure {
    fn from(e: RaError) -> Self {
        Failure::Internal(e)
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Internal(RaError::Sql(e))
    }
}

/// Logs why (without secrets) and refuses.
fn refuse(refusal: Refusal, why: &str) -> Failure {
    tracing::warn!(reason = refusal.code(), why, "OIDC login refused");
    Failure::Refused(refusal)
}

impl Failure {
    fn respond(self, parts: &Parts) -> Response {
        let json = wants_json(parts.uri.path(), &parts.headers);
        let (status, code, title, detail, keys) = match self {
            Failure::Internal(e) => return e.into_response(),
            Failure::NotConfigured => return RaError::NotFound.into_response(),
            Failure::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "oidc_unavailable",
                "Service Unavailable",
                "the identity provider cannot be reached; try again later",
                ("ra.oidc.unavailable.title", "ra.oidc.unavailable.message"),
            ),
            Failure::Refused(r) => (
                r.status(),
                r.code(),
                r.status().canonical_reason().unwrap_or("Refused"),
                r.detail(),
                r.keys(),
            ),
        };
        if json {
            Problem::new(status, code, title)
                .with_detail(detail)
                .into_response()
        } else {
            crate::pages::error::keyed(&Page::from_parts(parts), status, keys.0, keys.1)
                .into_response()
        }
    }
}

fn flow_cookie(state: &RaState, value: &str, max_age_secs: u64) -> HeaderValue {
    Cookie::new(FLOW_COOKIE, value)
        .path("/auth/oidc")
        .max_age(max_age_secs)
        .secure(state.secure_cookies)
        .to_header()
}

/// `GET /auth/oidc/login`: off to the provider.
async fn login(
    Extension(oidc): Extension<Oidc>,
    State(state): State<RaState>,
    parts: Parts,
) -> Response {
    match start(&oidc, &state).await {
        Ok(response) => response,
        Err(failure) => failure.respond(&parts),
    }
}

async fn start(oidc: &Oidc, state: &RaState) -> Result<Response, Failure> {
    if !state.settings.oidc.enabled() {
        return Err(Failure::NotConfigured);
    }
    let client = oidc.client(state).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let scopes = state
        .settings
        .oidc
        .scopes
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && *s != "openid")
        .map(|s| Scope::new(s.to_string()));
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scopes(scopes)
        .set_pkce_challenge(challenge)
        .url();
    let now = now_millis();
    let db = &state.platform.db;
    sqlx::query("DELETE FROM oidc_login_flows WHERE created_at < $1")
        .bind(now - FLOW_LIFETIME_MS)
        .execute(db.writer())
        .await?;
    sqlx::query(
        "INSERT INTO oidc_login_flows (state, nonce, pkce_verifier, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(csrf.secret())
    .bind(nonce.secret())
    .bind(verifier.secret())
    .bind(now)
    .execute(db.writer())
    .await?;
    let mut response = Redirect::to(url.as_str()).into_response();
    let lifetime = u64::try_from(FLOW_LIFETIME_MS / 1000).unwrap_or(0);
    response.headers_mut().append(
        header::SET_COOKIE,
        flow_cookie(state, csrf.secret(), lifetime),
    );
    Ok(response)
}

/// No `Debug`: the code must not end up in a log.
#[derive(Default, Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/oidc/callback`: back from the provider.
async fn callback(
    Extension(oidc): Extension<Oidc>,
    State(state): State<RaState>,
    parts: Parts,
) -> Response {
    let mut response = match finish(&oidc, &state, &parts).await {
        Ok(response) => response,
        Err(failure) => failure.respond(&parts),
    };
    // The flow is over either way.
    response
        .headers_mut()
        .append(header::SET_COOKIE, flow_cookie(&state, "", 0));
    response
}

struct PendingFlow {
    nonce: String,
    pkce_verifier: String,
    created_at: i64,
}

/// Deletes and returns the flow named by `state`: a state serves once.
async fn take_flow(state: &RaState, flow_state: &str) -> Result<Option<PendingFlow>, Failure> {
    use sqlx::Row;
    let row = sqlx::query(
        "DELETE FROM oidc_login_flows WHERE state = $1 \
         RETURNING nonce, pkce_verifier, created_at",
    )
    .bind(flow_state)
    .fetch_optional(state.platform.db.writer())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(PendingFlow {
        nonce: row.try_get("nonce")?,
        pkce_verifier: row.try_get("pkce_verifier")?,
        created_at: row.try_get("created_at")?,
    }))
}

fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn finish(oidc: &Oidc, state: &RaState, parts: &Parts) -> Result<Response, Failure> {
    if !state.settings.oidc.enabled() {
        return Err(Failure::NotConfigured);
    }
    let params = Query::<CallbackParams>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .map_err(|_| refuse(Refusal::BadCallback, "unreadable query string"))?;
    let flow_state = params
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| refuse(Refusal::BadCallback, "no state"))?;
    let flow = take_flow(state, flow_state)
        .await?
        .ok_or_else(|| refuse(Refusal::UnknownState, "no pending login with this state"))?;
    if flow.created_at < now_millis() - FLOW_LIFETIME_MS {
        return Err(refuse(Refusal::UnknownState, "the login has expired"));
    }
    let from_this_browser =
        platform::i18n::cookie(parts, FLOW_COOKIE).is_some_and(|bound| same(bound, flow_state));
    if !from_this_browser {
        return Err(refuse(
            Refusal::OtherBrowser,
            "the flow cookie is missing or names another login",
        ));
    }
    if let Some(error) = &params.error {
        // The provider's error code is short and carries no secret; keep it printable.
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect();
        return Err(refuse(
            Refusal::ProviderError,
            &format!("the provider answered error={error}"),
        ));
    }
    let code = params
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| refuse(Refusal::BadCallback, "no code"))?;

    let client = oidc.client(state).await?;
    let http = oidc.http()?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| {
            tracing::error!(error = %e, "OIDC: the provider advertises no token endpoint");
            Failure::Unavailable
        })?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier))
        .request_async(&http)
        .await
        .map_err(|e| match e {
            RequestTokenError::Request(e) => {
                tracing::warn!(error = %e, "OIDC: the token endpoint cannot be reached");
                Failure::Unavailable
            }
            RequestTokenError::ServerResponse(e) => refuse(
                Refusal::CodeRejected,
                &format!("the token endpoint answered {}", e.error()),
            ),
            RequestTokenError::Parse(_, _) => refuse(
                Refusal::CodeRejected,
                "the token endpoint's answer is not a token response",
            ),
            RequestTokenError::Other(_) => refuse(
                Refusal::CodeRejected,
                "the token endpoint's answer is not usable",
            ),
        })?;

    let id_token = tokens
        .id_token()
        .ok_or_else(|| refuse(Refusal::TokenInvalid, "the token response has no ID token"))?;
    // Read again with every claim kept (the core type drops the non-standard ones).
    let id_token: FullIdToken = id_token
        .to_string()
        .parse()
        .map_err(|_| refuse(Refusal::TokenInvalid, "the ID token does not parse"))?;
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &Nonce::new(flow.nonce))
        .map_err(|e| {
            if matches!(e, ClaimsVerificationError::SignatureVerification(_)) {
                // Perhaps the provider rotated its keys: discover again next time.
                oidc.forget();
            }
            refuse(Refusal::TokenInvalid, &e.to_string())
        })?;
    if let Some(expected) = claims.access_token_hash() {
        let actual = id_token
            .signing_alg()
            .and_then(|alg| Ok((alg, id_token.signing_key(&verifier)?)))
            .ok()
            .and_then(|(alg, key)| {
                AccessTokenHash::from_token(tokens.access_token(), alg, key).ok()
            });
        if actual.as_ref() != Some(expected) {
            return Err(refuse(
                Refusal::TokenInvalid,
                "the access token does not match the ID token's at_hash",
            ));
        }
    }

    let settings = &state.settings.oidc;
    let mut found = serde_json::to_value(claims)
        .ok()
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    let wanted = [
        settings.fiscal_number_claim.as_str(),
        settings.name_claim.as_str(),
        settings.family_name_claim.as_str(),
    ];
    if wanted.iter().any(|c| text_claim(&found, c).is_none()) {
        // Some providers put the person in the userinfo answer only.
        let request = client
            .user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .map_err(|_| {
                refuse(
                    Refusal::Identity,
                    "the ID token lacks the person's claims and there is no userinfo endpoint",
                )
            })?;
        let info: UserInfoClaims<OtherClaims, CoreGenderClaim> =
            request.request_async(&http).await.map_err(|e| match e {
                openidconnect::UserInfoError::Request(e) => {
                    tracing::warn!(error = %e, "OIDC: the userinfo endpoint cannot be reached");
                    Failure::Unavailable
                }
                other => refuse(
                    Refusal::Identity,
                    &format!("the userinfo answer is not usable: {}", error_kind(&other)),
                ),
            })?;
        if let Ok(Value::Object(map)) = serde_json::to_value(&info) {
            for (k, v) in map {
                found.entry(k).or_insert(v);
            }
        }
    }

    let fiscal = text_claim(&found, &settings.fiscal_number_claim)
        .ok_or_else(|| refuse(Refusal::Identity, "no fiscal code claim"))?;
    let fiscal_code = FiscalCode::parse(strip_tinit(&fiscal))
        .map_err(|e| refuse(Refusal::Identity, &format!("invalid fiscal code: {e}")))?;
    let name = text_claim(&found, &settings.name_claim)
        .ok_or_else(|| refuse(Refusal::Identity, "no name claim"))?;
    let family_name = text_claim(&found, &settings.family_name_claim)
        .ok_or_else(|| refuse(Refusal::Identity, "no family name claim"))?;
    let spid_level = text_claim(&found, "acr").unwrap_or_else(|| DEFAULT_SPID_LEVEL.to_string());
    let who = LoginIdentity {
        fiscal_code,
        name,
        family_name,
        spid_level,
    };
    let previous = auth::cookie_secret(parts);
    let (secret, _) = login::complete_login(state, &who, previous.as_ref(), "oidc", parts).await?;
    Ok(login::logged_in_response(state, &secret))
}

fn error_kind<E: std::error::Error + 'static>(e: &openidconnect::UserInfoError<E>) -> &'static str {
    match e {
        openidconnect::UserInfoError::ClaimsVerification(_) => "claims do not verify",
        openidconnect::UserInfoError::Parse(_) => "unparseable",
        openidconnect::UserInfoError::Response(..) => "error status",
        _ => "other",
    }
}

/// A non-empty string claim, trimmed, at most 200 characters.
fn text_claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    let value = claims.get(name)?.as_str()?.trim();
    (!value.is_empty() && value.chars().count() <= 200).then(|| value.to_string())
}

/// SPID sends the fiscal code as `TINIT-<code>`.
fn strip_tinit(value: &str) -> &str {
    match value.get(..6) {
        Some(prefix) if prefix.eq_ignore_ascii_case("TINIT-") => &value[6..],
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spid_prefix_goes() {
        assert_eq!(strip_tinit("TINIT-RSSMRA85T10A562S"), "RSSMRA85T10A562S");
        assert_eq!(strip_tinit("tinit-RSSMRA85T10A562S"), "RSSMRA85T10A562S");
        assert_eq!(strip_tinit("RSSMRA85T10A562S"), "RSSMRA85T10A562S");
        assert_eq!(strip_tinit("TINIT"), "TINIT");
        assert_eq!(strip_tinit("è"), "è");
    }

    #[test]
    fn client_authentication_follows_the_provider() {
        use CoreClientAuthMethod::{ClientSecretBasic, ClientSecretPost};
        assert!(matches!(auth_type(None), AuthType::BasicAuth));
        assert!(matches!(
            auth_type(Some(&vec![ClientSecretPost, ClientSecretBasic])),
            AuthType::BasicAuth
        ));
        assert!(matches!(
            auth_type(Some(&vec![ClientSecretPost])),
            AuthType::RequestBody
        ));
    }

    #[test]
    fn claims_are_read_as_short_text() {
        let claims: Map<String, Value> =
            serde_json::from_str(r#"{"a":" Mario ","b":"","c":3,"d":"x"}"#).unwrap();
        assert_eq!(text_claim(&claims, "a").as_deref(), Some("Mario"));
        assert_eq!(text_claim(&claims, "b"), None);
        assert_eq!(text_claim(&claims, "c"), None);
        assert_eq!(text_claim(&claims, "missing"), None);
    }
}
