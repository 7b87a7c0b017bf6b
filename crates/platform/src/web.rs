//! The web plumbing every context shares: typed JSON bodies and query strings whose errors
//! are `400 problem+json` naming the field, the field errors of forms and APIs, and the
//! `Set-Cookie` builder.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Problem;

/// The stable code of a request whose body or query string cannot be read as the operation's
/// type.
pub const INVALID_PAYLOAD: &str = "invalid_payload";

/// One field of a form or of an API request that was refused, and why (in words for people;
/// pages translate them through the message catalogue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A `400 problem+json` listing `errors` as `invalidParams` (the first one in `detail`).
pub fn invalid(errors: &[FieldError]) -> Problem {
    let detail = errors
        .first()
        .map(|e| format!("{}: {}", e.field, e.message))
        .unwrap_or_default();
    let mut problem = Problem::bad_request(INVALID_PAYLOAD, detail);
    for e in errors {
        problem = problem.with_invalid_param(e.field.clone(), e.message.clone());
    }
    problem
}

/// A JSON request body read as `T`. A body that is missing, not JSON or not of `T`'s shape is
/// a `400 problem+json` whose `invalidParams` names the field (`body` for the whole of it),
/// never a 500. The content type is not required: scripts often omit it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let body = Bytes::from_request(request, state).await.map_err(|e| {
            Problem::new(e.status(), INVALID_PAYLOAD, "Bad Request").with_detail(e.body_text())
        })?;
        parse_json(&body).map(Json).map_err(|e| invalid(&[e]))
    }
}

/// Reads `body` as `T`; the refused field, as [`Json`] names it.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, FieldError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(FieldError::new("body", "a JSON body is required"));
    }
    let not_json =
        |e: &serde_json::Error| FieldError::new("body", format!("is not valid JSON ({e})"));
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            not_json(&inner)
        } else {
            field_error(&path, &inner.to_string())
        }
    })?;
    de.end().map_err(|e| not_json(&e))?;
    Ok(value)
}

/// A form's fields as sent by a browser: `application/x-www-form-urlencoded`, or
/// `multipart/form-data` when the form carries a file. Text fields are pairs in their order;
/// files apart (a file input left empty sends no file).
#[derive(Debug, Clone, Default)]
pub struct FormData {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

/// A file of a form.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The form field's name.
    pub field: String,
    /// The name the browser gave (the file's name on the person's machine).
    pub file_name: String,
    /// The part's declared content type ("" when none was sent).
    pub content_type: String,
    pub bytes: Bytes,
}

/// A body that is not a form (another content type, a broken multipart body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAForm(pub String);

impl axum::response::IntoResponse for NotAForm {
    fn into_response(self) -> axum::response::Response {
        Problem::bad_request(INVALID_PAYLOAD, self.0).into_response()
    }
}

impl FormData {
    /// The first value of `name` ("" when absent).
    pub fn value(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// The file sent in `field`, if one was chosen.
    pub fn file(&self, field: &str) -> Option<&Upload> {
        self.files
            .iter()
            .find(|f| f.field == field && !(f.file_name.is_empty() && f.bytes.is_empty()))
    }
}

/// Is `headers`' content type `expected` (parameters aside)?
pub fn content_type_is(headers: &axum::http::HeaderMap, expected: &str) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(expected))
}

impl<S> FromRequest<S> for FormData
where
    S: Send + Sync,
{
    type Rejection = NotAForm;

    async fn from_request(request: Request, state: &S) -> Result<Self, NotAForm> {
        let headers = request.headers();
        if content_type_is(headers, "multipart/form-data") {
            let mut multipart = axum::extract::Multipart::from_request(request, state)
                .await
                .map_err(|e| NotAForm(e.body_text()))?;
            let mut form = FormData::default();
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|e| NotAForm(e.body_text()))?
            {
                let name = field.name().unwrap_or_default().to_string();
                match field.file_name().map(str::to_string) {
                    Some(file_name) => {
                        let content_type = field.content_type().unwrap_or_default().to_string();
                        let bytes = field.bytes().await.map_err(|e| NotAForm(e.body_text()))?;
                        form.files.push(Upload {
                            field: name,
                            file_name,
                            content_type,
                            bytes,
                        });
                    }
                    None => {
                        let text = field.text().await.map_err(|e| NotAForm(e.body_text()))?;
                        form.fields.push((name, text));
                    }
                }
            }
            return Ok(form);
        }
        if content_type_is(headers, "application/x-www-form-urlencoded") {
            let body = Bytes::from_request(request, state)
                .await
                .map_err(|e| NotAForm(e.body_text()))?;
            return Ok(FormData {
                fields: form_urlencoded::parse(&body).into_owned().collect(),
                files: Vec::new(),
            });
        }
        Err(NotAForm(
            "a form is sent as application/x-www-form-urlencoded or multipart/form-data".into(),
        ))
    }
}

/// A query string read as `T`, with the errors of [`Json`] (`query` for the whole of it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        parse_query(parts.uri.query().unwrap_or_default())
            .map(Query)
            .map_err(|e| invalid(&[e]))
    }
}

/// Reads a query string as `T`; the refused parameter, as [`Query`] names it.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, FieldError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
        let path = e.path().to_string();
        let error = field_error(&path, &e.into_inner().to_string());
        // A query string's top level is the query, not a body.
        if error.field == "body" {
            FieldError::new("query", error.message)
        } else {
            error
        }
    })
}

/// A serde refusal at `path` (`.` for the top level), in words: the field it names, and the
/// reason without serde's own phrasing where it has a plainer one.
fn field_error(path: &str, message: &str) -> FieldError {
    let at = |field: &str| {
        if path.is_empty() || path == "." {
            field.to_string()
        } else {
            format!("{path}.{field}")
        }
    };
    let here = if path.is_empty() || path == "." {
        "body".to_string()
    } else {
        path.to_string()
    };
    // serde_json appends " at line L column C" to data errors.
    let message = message.rsplit_once(" at line ").map_or(message, |(m, _)| m);
    if let Some(field) = quoted_after(message, "missing field ") {
        return FieldError::new(at(field), "is required");
    }
    if let Some(field) = quoted_after(message, "unknown field ") {
        // The path already ends with the unknown field.
        let name = if path.ends_with(field) {
            here
        } else {
            at(field)
        };
        return FieldError::new(name, "is not a field of this request");
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (got, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another type"));
        return FieldError::new(here, format!("must be {expected} (not {got})"));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let expected = rest
            .split_once(", expected ")
            .map_or("", |(_, e)| e)
            .replace('`', "");
        return FieldError::new(here, format!("must be {expected}"));
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (got, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another value"));
        return FieldError::new(here, format!("must be {expected} (not {got})"));
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        let expected = rest.split_once(", expected ").map_or(rest, |(_, e)| e);
        return FieldError::new(here, format!("must have {expected}"));
    }
    FieldError::new(here, message.to_string())
}

/// `x` of "<prefix>`x`…".
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split_once('`').map(|(field, _)| field)
}

/// `SameSite` of a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
}

/// A `Set-Cookie` value: `HttpOnly` and `SameSite=Lax` unless said otherwise, `Secure` when the
/// server is reached over HTTPS.
#[derive(Debug, Clone)]
pub struct Cookie {
    name: String,
    value: String,
    path: String,
    max_age: Option<u64>,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
}

impl Cookie {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            path: "/".into(),
            max_age: None,
            secure: false,
            http_only: true,
            same_site: SameSite::Lax,
        }
    }

    /// The cookie that removes `name` (at the same path).
    pub fn removal(name: impl Into<String>) -> Self {
        Self::new(name, "").max_age(0)
    }

    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Readable by the page's scripts (for a preference, never for a secret).
    pub fn readable_by_scripts(mut self) -> Self {
        self.http_only = false;
        self
    }

    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// The header's text.
    pub fn to_header_string(&self) -> String {
        let mut out = format!("{}={}; Path={}", self.name, self.value, self.path);
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        out.push_str(match self.same_site {
            SameSite::Lax => "; SameSite=Lax",
            SameSite::Strict => "; SameSite=Strict",
        });
        if let Some(age) = self.max_age {
            out.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure {
            out.push_str("; Secure");
        }
        out
    }

    /// The header's value; a name or value that cannot be a header (never the case for the
    /// tokens and codes the contexts set) gives an empty cookie rather than a panic.
    pub fn to_header(&self) -> HeaderValue {
        HeaderValue::from_str(&self.to_header_string()).unwrap_or(HeaderValue::from_static(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Body {
        name: String,
        count: Option<u32>,
        kind: Option<Kind>,
        inner: Option<Inner>,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    enum Kind {
        #[serde(rename = "REST")]
        Rest,
        #[serde(rename = "SOAP")]
        Soap,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Inner {
        urls: Vec<String>,
    }

    fn refusal(body: &str) -> (String, String) {
        let e = parse_json::<Body>(body.as_bytes()).unwrap_err();
        let p = invalid(std::slice::from_ref(&e));
        assert_eq!(p.status, 400);
        assert_eq!(p.code, INVALID_PAYLOAD);
        assert_eq!(p.invalid_params[0].name, e.field);
        (e.field, e.message)
    }

    #[test]
    fn json_refusals_name_the_field_in_words() {
        assert_eq!(
            refusal(""),
            ("body".into(), "a JSON body is required".into())
        );
        assert_eq!(refusal("{").0, "body");
        assert!(refusal("{").1.starts_with("is not valid JSON"));
        assert_eq!(refusal("{}"), ("name".into(), "is required".into()));
        assert_eq!(
            refusal(r#"{"name": 1}"#),
            ("name".into(), "must be a string (not integer `1`)".into())
        );
        assert_eq!(
            refusal(r#"{"name": "a", "count": -1}"#),
            ("count".into(), "must be u32 (not integer `-1`)".into())
        );
        assert_eq!(
            refusal(r#"{"name": "a", "kind": "GRPC"}"#),
            ("kind".into(), "must be REST or SOAP".into())
        );
        assert_eq!(
            refusal(r#"{"name": "a", "inner": {}}"#),
            ("inner.urls".into(), "is required".into())
        );
        assert_eq!(
            refusal(r#"{"name": "a", "inner": {"urls": [1]}}"#),
            (
                "inner.urls[0]".into(),
                "must be a string (not integer `1`)".into()
            )
        );
        assert_eq!(
            refusal(r#"{"name": "a", "extra": true}"#),
            ("extra".into(), "is not a field of this request".into())
        );
        assert_eq!(refusal(r#"{"name": "a"} x"#).0, "body");
        assert_eq!(refusal("[]").0, "body");
        let ok = parse_json::<Body>(br#"{"name": "a", "kind": "SOAP"}"#).unwrap();
        assert_eq!(ok.name, "a");
    }

    #[test]
    fn query_refusals_name_the_parameter() {
        #[allow(dead_code)]
        #[derive(Debug, Deserialize)]
        struct Q {
            page: Option<u32>,
            q: Option<String>,
        }
        let ok: Q = parse_query("page=2&q=caf%C3%A8").unwrap();
        assert_eq!((ok.page, ok.q.as_deref()), (Some(2), Some("cafè")));
        let e = parse_query::<Q>("page=two").unwrap_err();
        assert_eq!(e.field, "page");
    }

    #[test]
    fn cookies_are_http_only_and_lax_unless_said_otherwise() {
        assert_eq!(
            Cookie::new("sid", "abc")
                .max_age(60)
                .secure(true)
                .to_header_string(),
            "sid=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        assert_eq!(
            Cookie::removal("sid").path("/io").to_header_string(),
            "sid=; Path=/io; HttpOnly; SameSite=Lax; Max-Age=0"
        );
        assert_eq!(
            Cookie::new("lang", "en")
                .readable_by_scripts()
                .same_site(SameSite::Strict)
                .to_header_string(),
            "lang=en; Path=/; SameSite=Strict"
        );
    }
}
