//! The HTML layout every page shares: header with the product name and the logged-in user, the
//! language switch, the footer, the stylesheet. Templates of every context extend
//! `base.html` (their `askama.toml` lists `../platform/templates`) and hold a [`Page`].

use std::convert::Infallible;
use std::sync::{Arc, LazyLock};

use axum::Form;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::Problem;
use crate::i18n::{Catalogue, LANG_COOKIE, Lang};

pub const CSS: &str = include_str!("../static/selfcare.css");
pub const JS: &str = include_str!("../static/selfcare.js");
/// The portal's icon (a public building on the portal's blue), for every page's tab.
pub const FAVICON: &str = include_str!("../static/favicon.svg");

/// A short content hash, so that the asset URLs change when the files do and can be cached.
static ASSET_VERSION: LazyLock<String> = LazyLock::new(|| {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{CSS}{JS}").as_bytes());
    d.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect()
});

/// What the layout needs from the running app, added to every request as an extension.
#[derive(Debug, Clone)]
pub struct LayoutInfo {
    pub catalogue: Arc<Catalogue>,
    /// A message key shown as a banner on every page (e.g. the test identity provider is on).
    pub banner: Option<&'static str>,
}

/// The logged-in person as the header shows them.
#[derive(Debug, Clone)]
pub struct UserBadge {
    pub display_name: String,
}

/// The errors of a form, shown above it (the "error summary" of GOV.UK and Designers Italia):
/// how many there are, then each one linked to its field; the page's script moves the focus to
/// it, so that a person who sent the form learns at once what to correct and where.
#[derive(Debug, Clone, Default)]
pub struct ErrorSummary {
    pub title: String,
    /// (the id of the field, or "" for an error of no field; the message in the page's language)
    pub items: Vec<(String, String)>,
}

/// "The form has N errors: correct them and try again", in the page's language.
pub fn error_count(page: &Page, n: usize) -> String {
    match n {
        1 => page.t("form.errors_one").to_string(),
        n => crate::i18n::tr(page.t("form.errors_many"), &[("count", &n.to_string())]),
    }
}

impl ErrorSummary {
    pub fn new(page: &Page, items: Vec<(String, String)>) -> Self {
        let title = error_count(page, items.len());
        ErrorSummary { title, items }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Everything the base layout shows; built per request.
#[derive(Debug, Clone)]
pub struct Page {
    pub lang: Lang,
    pub catalogue: Arc<Catalogue>,
    pub banner: Option<&'static str>,
    pub user: Option<UserBadge>,
    /// Path and query of this page, where the language switch comes back to.
    pub path: String,
    /// The CSRF token forms carry, once sessions exist.
    pub csrf: Option<String>,
}

impl Page {
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.catalogue.get(self.lang, key)
    }

    /// A message with its `{name}` placeholders filled: `page.tr("k", [("min", "10")])` in a
    /// template (askama passes the list by reference).
    pub fn tr(&self, key: &str, args: &[(&str, &str)]) -> String {
        crate::i18n::tr(self.t(key), args)
    }

    /// A fresh one-time token for a form that creates (its hidden field
    /// [`crate::once::FORM_FIELD`]).
    pub fn once(&self) -> String {
        crate::once::token()
    }

    pub fn css_url(&self) -> String {
        format!("/static/selfcare.css?v={}", ASSET_VERSION.as_str())
    }

    pub fn favicon_url(&self) -> &'static str {
        "/static/favicon.svg"
    }

    pub fn js_url(&self) -> String {
        format!("/static/selfcare.js?v={}", ASSET_VERSION.as_str())
    }

    pub fn from_parts(parts: &Parts) -> Page {
        let (catalogue, banner) = match parts.extensions.get::<LayoutInfo>() {
            Some(info) => (info.catalogue.clone(), info.banner),
            None => (Arc::new(Catalogue::default()), None),
        };
        Page {
            lang: Lang::from_parts(parts),
            catalogue,
            banner,
            user: None,
            path: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            csrf: None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Page::from_parts(parts))
    }
}

/// Whether the caller wants JSON rather than a page: API paths (`…/api/…`, the Reserved
/// Area's `/v2/…`), or an Accept header that asks for JSON and not HTML.
pub fn wants_json(parts_path: &str, headers: &HeaderMap) -> bool {
    if parts_path.starts_with("/api/")
        || parts_path.contains("/api/")
        || parts_path.starts_with("/v2/")
    {
        return true;
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("json") && !accept.contains("text/html")
}

/// The fallback for paths that match no route.
pub async fn not_found(parts: Parts) -> Response {
    if wants_json(parts.uri.path(), &parts.headers) {
        return Problem::not_found()
            .with_detail(format!("no resource at {}", parts.uri.path()))
            .into_response();
    }
    let page = Page::from_parts(&parts);
    crate::page_error::PageError::from_keys(
        &page,
        StatusCode::NOT_FOUND,
        "error.not_found.title",
        "error.not_found.message",
    )
    .link("/", page.t("error.back_home"))
    .into_response()
}

#[derive(Debug, Deserialize)]
pub struct LangForm {
    lang: String,
    #[serde(default)]
    back: String,
}

/// `POST /lang`: remembers the chosen language and goes back to the page it came from.
pub async fn switch_language(Form(form): Form<LangForm>) -> Response {
    let Some(lang) = Lang::parse(&form.lang) else {
        return Problem::bad_request("invalid_language", "lang must be `it` or `en`")
            .with_invalid_param("lang", "must be `it` or `en`")
            .into_response();
    };
    // A year: the choice outlives sessions.
    let cookie = crate::web::Cookie::new(LANG_COOKIE, lang.code()).max_age(31_536_000);
    let mut response = Redirect::to(&safe_local_path(&form.back)).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookie.to_header());
    response
}

/// A path on this site to redirect to; anything else (another host, a scheme) becomes `/`.
pub fn safe_local_path(candidate: &str) -> String {
    let ok = candidate.starts_with('/')
        && !candidate.starts_with("//")
        && !candidate.starts_with("/\\")
        && !candidate.chars().any(|c| c.is_control());
    if ok {
        candidate.to_string()
    } else {
        "/".to_string()
    }
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // The URL carries the content hash, so it may be cached for long.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        body,
    )
        .into_response()
}

pub async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

pub async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

/// A page of a signed-in person with its status: never stored by the browser or a proxy
/// (it names the person and their institution).
pub fn render(template: impl IntoResponse, status: StatusCode) -> Response {
    let mut response = template.into_response();
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `/favicon.ico` (what browsers ask for by themselves) and `/static/favicon.svg`: their URLs
/// carry no content hash, so they are cached for a day only.
pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert_eq!(safe_local_path("/dashboard?x=1"), "/dashboard?x=1");
        assert_eq!(safe_local_path("//evil.example"), "/");
        assert_eq!(safe_local_path("/\\evil.example"), "/");
        assert_eq!(safe_local_path("https://evil.example"), "/");
        assert_eq!(safe_local_path(""), "/");
        assert_eq!(safe_local_path("/a\r\nSet-Cookie: x"), "/");
    }

    #[test]
    fn api_paths_and_json_accept_want_json() {
        let mut h = HeaderMap::new();
        assert!(wants_json("/api/v1/x", &h));
        assert!(!wants_json("/x", &h));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(wants_json("/x", &h));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/json"),
        );
        assert!(!wants_json("/x", &h));
    }
}
