//! The HTTP plumbing around the contexts' routers: the platform's own routes, metrics by route,
//! the body limit, security headers, request ids, panics turned into 500s, request logs.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::layout::{self, LayoutInfo};
use crate::{Platform, Problem, health, metrics};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The Content-Security-Policy of every answer that does not set its own.
pub const CSP: &str = "default-src 'self'; base-uri 'none'; object-src 'none'; \
    frame-ancestors 'none'; form-action 'self'; img-src 'self' data:; \
    script-src 'self'; style-src 'self'";

/// The platform's own routes: health, readiness, metrics, JWKS, assets, language switch.
fn platform_routes(platform: &Platform) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/.well-known/jwks.json", get(health::jwks))
        .route("/static/selfcare.css", get(layout::css))
        .route("/static/selfcare.js", get(layout::js))
        .route("/static/favicon.svg", get(layout::favicon))
        .route("/favicon.ico", get(layout::favicon))
        .route("/lang", post(layout::switch_language))
        .with_state(platform.clone())
        .merge(
            Router::new()
                .route("/metrics", get(metrics::endpoint))
                .with_state(platform.metrics.clone()),
        )
}

/// Wraps the contexts' routes (already merged into `routes`) with everything they share.
pub fn finish(routes: Router, platform: &Platform, layout: LayoutInfo) -> Router {
    let limits = BodyLimits {
        body: platform.http.body_limit_bytes,
        upload: platform.http.upload_limit_bytes,
    };
    let https = platform.public_url.starts_with("https://");
    let fallback_metrics = platform.metrics.clone();
    routes
        .merge(platform_routes(platform))
        .route_layer(middleware::from_fn_with_state(
            platform.metrics.clone(),
            metrics::track,
        ))
        .fallback(move |request: Request| {
            let metrics = fallback_metrics.clone();
            async move {
                let method = request.method().as_str().to_owned();
                let (parts, _) = request.into_parts();
                let response = layout::not_found(parts).await;
                metrics.observe(
                    &method,
                    metrics::UNMATCHED_ROUTE,
                    response.status().as_u16(),
                    0.0,
                );
                response
            }
        })
        .layer(Extension(layout))
        .layer(Extension(platform.trusted_proxies.clone()))
        .layer(Extension(crate::once::Store(platform.db.clone())))
        // The extractors' own limit is the largest; `limit_body` holds each request to its own.
        .layer(DefaultBodyLimit::max(limits.body.max(limits.upload)))
        .layer(middleware::from_fn(move |req, next| {
            limit_body(limits, req, next)
        }))
        .layer(middleware::from_fn(move |req, next| {
            security_headers(https, req, next)
        }))
        .layer(middleware::from_fn(problem_for_plain_refusals))
        .layer(middleware::from_fn(run_to_completion))
        .layer(CatchPanicLayer::custom(|_| {
            Problem::internal(&"a request handler panicked").into_response()
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    // The path only: query strings are never logged.
                    tracing::debug_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        id = request
                            .headers()
                            .get(&REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or(""),
                    )
                })
                .on_request(())
                .on_response(
                    |response: &Response, latency: Duration, _span: &tracing::Span| {
                        tracing::debug!(status = response.status().as_u16(), ?latency, "answered");
                    },
                ),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The refusals of axum's own extractors (a path segment, a form or a body it cannot read)
/// are plain text; an API's caller gets them as `problem+json` like every other refusal, with
/// the extractor's reason as the detail (422 becomes 400, as the platform's own extractors
/// answer).
async fn problem_for_plain_refusals(request: Request, next: Next) -> Response {
    let api = layout::wants_json(request.uri().path(), request.headers());
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !api || !plain || !response.status().is_client_error() {
        return response;
    }
    let status = response.status();
    let bytes = match axum::body::to_bytes(response.into_body(), 64 * 1024).await {
        Ok(bytes) => bytes,
        Err(e) => return Problem::internal(&e).into_response(),
    };
    let detail = String::from_utf8_lossy(&bytes).trim().to_string();
    let problem = match status.as_u16() {
        400 | 422 => Problem::bad_request(crate::web::INVALID_PAYLOAD, detail),
        415 => Problem::new(status, "unsupported_media_type", "Unsupported Media Type")
            .with_detail(detail),
        405 => Problem::new(status, "method_not_allowed", "Method Not Allowed"),
        _ => Problem::new(
            status,
            "refused",
            status.canonical_reason().unwrap_or("Refused"),
        )
        .with_detail(detail),
    };
    problem.into_response()
}

/// A body declared larger than the limit is refused before it is read.
/// The largest bodies: a form with a file (`multipart/form-data`) may be larger than the rest.
#[derive(Debug, Clone, Copy)]
struct BodyLimits {
    body: usize,
    upload: usize,
}

/// Runs the request's handler on a task of its own, so that a caller who hangs up does not
/// stop it half-way: it finishes (commits or rolls back) and its answer is dropped. A
/// transaction's future dropped in the middle of its `BEGIN` can leave an SQLite connection
/// inside the transaction (sqlx issue #3932), and the one writer of the database with it.
pub async fn run_to_completion(request: Request, next: Next) -> Response {
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        // The handler panicked: the same answer as `CatchPanicLayer`'s.
        Err(_) => Problem::internal(&"a request handler panicked").into_response(),
    }
}

/// Answers 413 to a body declared larger than its limit, and cuts one that grows past it
/// (the extractors then answer 413 too).
async fn limit_body(limits: BodyLimits, request: Request, next: Next) -> Response {
    let limit = if crate::web::content_type_is(request.headers(), "multipart/form-data") {
        limits.upload
    } else {
        limits.body
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => Problem::payload_too_large(limit).into_response(),
        _ => {
            next.run(
                request
                    .map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit))),
            )
            .await
        }
    }
}

async fn security_headers(https: bool, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let defaults: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if https && !headers.contains_key(header::STRICT_TRANSPORT_SECURITY) {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::body::Body;
    use tokio::sync::Notify;
    use tower::ServiceExt;

    use super::*;

    /// A caller that hangs up (its request's future dropped) does not stop the handler: it
    /// runs to its end.
    #[tokio::test]
    async fn a_handler_runs_to_its_end_when_the_caller_hangs_up() {
        let started = Arc::new(Notify::new());
        let go_on = Arc::new(Notify::new());
        let finished = Arc::new(AtomicBool::new(false));
        let (s, g, f) = (started.clone(), go_on.clone(), finished.clone());
        let app = Router::new()
            .route(
                "/write",
                post(move || {
                    let (s, g, f) = (s.clone(), g.clone(), f.clone());
                    async move {
                        s.notify_one();
                        g.notified().await;
                        f.store(true, Ordering::SeqCst);
                        "done"
                    }
                }),
            )
            .layer(middleware::from_fn(run_to_completion));
        let request = Request::builder()
            .method("POST")
            .uri("/write")
            .body(Body::empty())
            .unwrap();
        let call = tokio::spawn(app.oneshot(request));
        started.notified().await;
        // The caller goes away while the handler is in the middle.
        call.abort();
        assert!(call.await.unwrap_err().is_cancelled());
        go_on.notify_one();
        for _ in 0..1000 {
            if finished.load(Ordering::SeqCst) {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the handler was stopped with its caller");
    }
}
