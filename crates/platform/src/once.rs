//! Requests that create something, made safe to repeat.
//!
//! A form that creates carries a one-time token (the hidden field [`FORM_FIELD`], a fresh one
//! each time the form is shown: [`token`]); a script calling a JSON API that creates may send an
//! `Idempotency-Key` header. The first request with a key claims it and runs; the answer it got
//! (status, `Location`, body) is kept for a day, and a repeat — a double click, the back button
//! and "send again", a script's retry after a lost answer — gets that answer again, marked
//! `Idempotent-Replayed: true`, instead of creating a second thing. A repeat that arrives while
//! the first still runs waits for it. A refused first request (4xx, 5xx) gives its key back, so
//! that the corrected form can be sent again.
//!
//! An API key used again with another body is refused (`422`); a form token used again with
//! other values shows what the first submission made (the person sees the first result, as the
//! pattern of one-time form tokens intends).
//!
//! The route table marks the routes that create ([`crate::routes::Route::creates`]); the answers
//! of those routes are stored, so they must not carry secrets.

use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use axum::extract::FromRequest;

use crate::Problem;
use crate::db::{Db, now_millis};
use crate::web::{FormData, content_type_is};

/// The hidden field of a form that creates.
pub const FORM_FIELD: &str = "once";
/// The header of an API request that creates.
pub const HEADER: &str = "idempotency-key";
/// The header of a repeated answer.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long an answer is kept.
pub const KEPT_MS: i64 = 24 * 3600 * 1000;
/// The largest answer this keeps (requests are bounded by the application's body limit).
const MOST_BYTES: usize = 1024 * 1024;
/// How long a repeat waits for the first request to finish, and how often it looks.
const WAIT: Duration = Duration::from_secs(15);
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// The database where keys are claimed, put in the requests' extensions by the application.
#[derive(Clone)]
pub struct Store(pub Db);

/// A fresh one-time token for a form.
pub fn token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn digest(parts: &[&[u8]]) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in parts {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a key's row says.
enum Claim {
    /// This request holds the key: run it.
    Fresh,
    /// The first request's answer.
    Done(Kept),
    /// The first request still runs.
    Running,
}

/// A key's row.
#[derive(sqlx::FromRow)]
struct Row {
    fingerprint: String,
    status: Option<i64>,
    location: Option<String>,
    content_type: Option<String>,
    body: Option<String>,
}

/// An answer as kept.
struct Kept {
    fingerprint: String,
    status: i64,
    location: Option<String>,
    content_type: Option<String>,
    body: Option<String>,
}

async fn claim(db: &Db, scope: &str, key: &str, fingerprint: &str) -> Result<Claim, sqlx::Error> {
    let now = now_millis();
    // A key older than a day is free again.
    sqlx::query("DELETE FROM once_requests WHERE scope = $1 AND key = $2 AND created_at < $3")
        .bind(scope)
        .bind(key)
        .bind(now - KEPT_MS)
        .execute(db.writer())
        .await?;
    let claimed = sqlx::query(
        "INSERT INTO once_requests (scope, key, fingerprint, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (scope, key) DO NOTHING",
    )
    .bind(scope)
    .bind(key)
    .bind(fingerprint)
    .bind(now)
    .execute(db.writer())
    .await?;
    if claimed.rows_affected() == 1 {
        return Ok(Claim::Fresh);
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT fingerprint, status, location, content_type, body FROM once_requests \
         WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(db.writer())
    .await?;
    Ok(match row {
        // Given back between the insert and the read: the next look claims it.
        None => Claim::Running,
        Some(Row { status: None, .. }) => Claim::Running,
        Some(Row {
            fingerprint,
            status: Some(status),
            location,
            content_type,
            body,
        }) => Claim::Done(Kept {
            fingerprint,
            status,
            location,
            content_type,
            body,
        }),
    })
}

async fn keep(db: &Db, scope: &str, key: &str, answer: &Kept) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE once_requests SET status = $3, location = $4, content_type = $5, body = $6 \
         WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .bind(answer.status)
    .bind(answer.location.as_deref())
    .bind(answer.content_type.as_deref())
    .bind(answer.body.as_deref())
    .execute(db.writer())
    .await?;
    Ok(())
}

async fn give_back(db: &Db, scope: &str, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM once_requests WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Removes the answers older than a day.
pub async fn purge(db: &Db) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM once_requests WHERE created_at < $1")
            .bind(now_millis() - KEPT_MS)
            .execute(db.writer())
            .await?
            .rows_affected(),
    )
}

/// Where a key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Header,
    Form,
}

/// The key of a request, if it has one: the header, else the form's field (of a plain form
/// or of one that carries a file).
async fn key_of(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Option<(String, Source)>, Box<Problem>> {
    if let Some(value) = headers.get(HEADER) {
        let key = value.to_str().unwrap_or_default();
        let fine = (1..=255).contains(&key.len())
            && key.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        if !fine {
            return Err(Box::new(
                Problem::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1 to 255 visible ASCII characters",
                )
                .with_invalid_param("Idempotency-Key", "1 to 255 visible ASCII characters"),
            ));
        }
        return Ok(Some((key.to_string(), Source::Header)));
    }
    let is_form = content_type_is(headers, "application/x-www-form-urlencoded")
        || content_type_is(headers, "multipart/form-data");
    if !is_form {
        return Ok(None);
    }
    let mut copy = Request::new(Body::from(body.clone()));
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        copy.headers_mut()
            .insert(header::CONTENT_TYPE, content_type.clone());
    }
    // A broken form has no key: the route refuses it on its own terms.
    let Ok(form) = FormData::from_request(copy, &()).await else {
        return Ok(None);
    };
    let key = form.value(FORM_FIELD).trim();
    Ok((!key.is_empty() && key.len() <= 255).then(|| (key.to_string(), Source::Form)))
}

/// Who is asking, and where: the credentials (bearer, cookies) and the route.
fn scope_of(headers: &HeaderMap, method: &Method, path: &str) -> String {
    let credentials = |name| {
        headers
            .get(name)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default()
    };
    digest(&[
        credentials(header::AUTHORIZATION),
        credentials(header::COOKIE),
        method.as_str().as_bytes(),
        path.as_bytes(),
    ])
}

fn replay(kept: Kept) -> Response {
    let status = u16::try_from(kept.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = Response::new(Body::from(kept.body.unwrap_or_default()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    for (name, value) in [
        (header::LOCATION, kept.location),
        (header::CONTENT_TYPE, kept.content_type),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, value);
        }
    }
    response
}

fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    Problem::new(status, code, status.canonical_reason().unwrap_or("Refused"))
        .with_detail(detail)
        .into_response()
}

/// The middleware of a route that creates (see the module's documentation).
pub async fn guard(request: Request, next: Next) -> Response {
    let Some(Store(db)) = request.extensions().get::<Store>().cloned() else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is too large",
        );
    };
    let (key, source) = match key_of(&parts.headers, &body).await {
        Ok(Some(found)) => found,
        Ok(None) => return next.run(Request::from_parts(parts, Body::from(body))).await,
        Err(refused) => return refused.into_response(),
    };
    let scope = scope_of(&parts.headers, &parts.method, parts.uri.path());
    let fingerprint = digest(&[&body]);
    let waited_since = tokio::time::Instant::now();
    loop {
        match claim(&db, &scope, &key, &fingerprint).await {
            Err(e) => {
                tracing::error!(error = %e, "idempotency: claiming a key failed");
                return problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "try again shortly",
                );
            }
            Ok(Claim::Fresh) => break,
            Ok(Claim::Done(kept)) => {
                if source == Source::Header && kept.fingerprint != fingerprint {
                    return problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "idempotency_key_reused",
                        "this Idempotency-Key was used with another request body",
                    );
                }
                return replay(kept);
            }
            Ok(Claim::Running) => {
                if waited_since.elapsed() >= WAIT {
                    return problem(
                        StatusCode::CONFLICT,
                        "request_in_progress",
                        "a request with this key is still running; try again shortly",
                    );
                }
                tokio::time::sleep(LOOK_EVERY).await;
            }
        }
    }
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let status = response.status();
    if !(status.is_success() || status.is_redirection()) {
        if let Err(e) = give_back(&db, &scope, &key).await {
            tracing::error!(error = %e, "idempotency: giving a key back failed");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let body: Bytes = match to_bytes(body, MOST_BYTES).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "idempotency: an answer could not be read");
            Bytes::new()
        }
    };
    let text = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let kept = Kept {
        fingerprint,
        status: i64::from(status.as_u16()),
        location: text(header::LOCATION),
        content_type: text(header::CONTENT_TYPE),
        body: String::from_utf8(body.to_vec()).ok(),
    };
    if let Err(e) = keep(&db, &scope, &key, &kept).await {
        tracing::error!(error = %e, "idempotency: keeping an answer failed");
    }
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        h
    }

    #[tokio::test]
    async fn a_key_comes_from_the_header_or_from_the_form() {
        let body = Bytes::from_static(b"name=Client&once=abc123&csrf=x");
        assert_eq!(
            key_of(&form(), &body).await.unwrap(),
            Some(("abc123".to_string(), Source::Form))
        );
        let without = Bytes::from_static(b"name=Client");
        assert_eq!(key_of(&form(), &without).await.unwrap(), None);
        assert_eq!(key_of(&HeaderMap::new(), &body).await.unwrap(), None);
        // A form with a file.
        let mut multipart = HeaderMap::new();
        multipart.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=XyZ"),
        );
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"once\"\r\n\r\nt-42\r\n\
              --XyZ\r\nContent-Disposition: form-data; name=\"key_file\"; filename=\"k.pub\"\r\n\
              Content-Type: application/octet-stream\r\n\r\n-----BEGIN\r\n--XyZ--\r\n",
        );
        assert_eq!(
            key_of(&multipart, &body).await.unwrap(),
            Some(("t-42".to_string(), Source::Form))
        );
        let mut h = HeaderMap::new();
        h.insert(HEADER, HeaderValue::from_static("retry-7"));
        let json = Bytes::from_static(b"{}");
        assert_eq!(
            key_of(&h, &json).await.unwrap(),
            Some(("retry-7".to_string(), Source::Header))
        );
        h.insert(HEADER, HeaderValue::from_static(""));
        assert!(key_of(&h, &json).await.is_err());
    }

    #[test]
    fn the_scope_tells_callers_and_routes_apart() {
        let mut a = HeaderMap::new();
        a.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer a"));
        let mut b = HeaderMap::new();
        b.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer b"));
        let post = Method::POST;
        assert_ne!(scope_of(&a, &post, "/x"), scope_of(&b, &post, "/x"));
        assert_ne!(scope_of(&a, &post, "/x"), scope_of(&a, &post, "/y"));
        assert_eq!(scope_of(&a, &post, "/x"), scope_of(&a, &post, "/x"));
        // Parts are told apart by their lengths, not only their bytes.
        assert_ne!(digest(&[b"ab", b"c"]), digest(&[b"a", b"bc"]));
    }
}
