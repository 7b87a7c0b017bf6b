//! Who is calling: a delegate by their session cookie (pages), the IO back-office by the
//! migration key (API).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use platform::Cookie;

use crate::AppState;
use crate::error::DevportalError;
use crate::pages::PageError;
use crate::store::{self, SessionRow};

pub(crate) const SESSION_COOKIE: &str = "dp_session";
pub(crate) const MIGRATION_KEY_HEADER: &str = "x-functions-key";

pub(crate) fn digest(text: &str) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes())
        .as_ref()
        .to_vec()
}

/// The random secret of a session cookie: 32 bytes as hex. Only its SHA-256 is stored; its
/// `Debug` never shows it.
pub(crate) struct SessionSecret(String);

impl std::fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionSecret(…)")
    }
}

impl SessionSecret {
    pub fn generate() -> Result<SessionSecret, DevportalError> {
        Ok(SessionSecret(store::random_hex(32)?))
    }

    /// The secret a request carries, if it looks like one of ours.
    pub fn from_headers(headers: &HeaderMap) -> Option<SessionSecret> {
        platform::i18n::cookie_in(headers, SESSION_COOKIE)
            .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|v| SessionSecret(v.to_string()))
    }

    pub fn hash(&self) -> String {
        store::sha256_hex(&self.0)
    }

    /// `Set-Cookie` for this secret.
    pub fn cookie(&self, max_age_secs: u64) -> HeaderValue {
        Cookie::new(SESSION_COOKIE, self.0.as_str())
            .max_age(max_age_secs)
            .to_header()
    }
}

/// `Set-Cookie` that removes the session cookie.
pub(crate) fn clear_cookie() -> HeaderValue {
    Cookie::removal(SESSION_COOKIE).to_header()
}

/// Compares two secrets in constant time.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(&digest(a), &digest(b)).is_ok()
}

/// A logged-in delegate. Without a valid session, pages send the browser to the login.
pub(crate) struct LoggedIn(pub SessionRow);

impl LoggedIn {
    /// A form's CSRF token must be this session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), DevportalError> {
        if same_secret(&self.0.csrf, submitted) {
            Ok(())
        } else {
            Err(DevportalError::Csrf)
        }
    }
}

impl FromRequestParts<AppState> for LoggedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(secret) = SessionSecret::from_headers(&parts.headers) else {
            return Err(Redirect::to("/login").into_response());
        };
        match store::find_session(&state.db, &secret.hash()).await {
            Ok(Some(row)) => Ok(LoggedIn(row)),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(PageError::anonymous(e).into_response()),
        }
    }
}

/// The IO back-office, by the shared secret in `X-Functions-Key`.
pub(crate) struct MigrationCaller;

impl FromRequestParts<AppState> for MigrationCaller {
    type Rejection = DevportalError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, DevportalError> {
        let presented = parts
            .headers
            .get(MIGRATION_KEY_HEADER)
            .ok_or(DevportalError::Unauthenticated)?;
        // Digests of equal length, compared in constant time: neither the key nor its length
        // leaks through the timing.
        let presented = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, presented.as_bytes());
        aws_lc_rs::constant_time::verify_slices_are_equal(
            presented.as_ref(),
            &state.migration_key_digest,
        )
        .map_err(|_| DevportalError::Unauthenticated)?;
        Ok(MigrationCaller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_are_found_and_checked() {
        let mut h = HeaderMap::new();
        let secret = "ab".repeat(32);
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_str(&format!("x=1; {SESSION_COOKIE}={secret}")).unwrap(),
        );
        let s = SessionSecret::from_headers(&h).unwrap();
        assert_eq!(s.hash().len(), 64);
        assert_eq!(format!("{s:?}"), "SessionSecret(…)");
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_static("dp_session=short"),
        );
        assert!(SessionSecret::from_headers(&h).is_none());
        assert!(same_secret("a", "a"));
        assert!(!same_secret("a", "b"));
    }
}
