use reqwest::StatusCode;
use serde_json::Value;
use testkit::Fetch;
use testkit::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = TestApp::spawn().await;
    let r = app.get("/healthz").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ok");
    let r = app.get("/readyz").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn readyz_says_unavailable_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.app().platform().db.close().await;
    let r = app.get("/readyz").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "database_unavailable"
    );
    // The process itself is still up.
    assert_eq!(
        app.get("/healthz").send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/", "/healthz", "/no-such-page", "/static/selfcare.css"] {
        let r = app.get(path).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.contains_key("x-request-id"), "{path}");
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.get("/healthz").send().await.unwrap();
    }
    app.get("/does/not/exist/123").send().await.unwrap();
    let text = app.get("/metrics").fetch_text().await;
    assert!(
        text.contains(
            r#"selfcare_http_requests_total{method="GET",route="/healthz",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"selfcare_http_request_duration_seconds_bucket{method="GET",route="/healthz","#
        ),
        "{text}"
    );
    // Unknown paths share one label instead of adding one each.
    assert!(
        text.contains(r#"route="unmatched",status="404"} 1"#),
        "{text}"
    );
    assert!(!text.contains("/does/not/exist"), "{text}");
}

#[tokio::test]
async fn unknown_paths_get_a_page_or_a_problem() {
    let app = TestApp::spawn().await;
    let r = app.get("/nowhere").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("Pagina non trovata"));

    let r = app.get("/api/v1/nowhere").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 404);
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let app = TestApp::spawn_with(testkit::Options {
        settings: Some(Box::new(|s| s.http.body_limit_bytes = 1024)),
        ..Default::default()
    })
    .await;
    // Declared too large: refused before it is read.
    let r = app
        .post("/lang")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("lang=en&back={}", "a".repeat(4096)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // Streamed without a length: cut off at the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(b"lang=en&back=/".to_vec()), Ok(vec![b'a'; 4096])];
    let r = app
        .post("/lang")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Within the limit: fine.
    let r = testkit::post_form(
        &app.client,
        app.url("/lang"),
        &[("lang", "en"), ("back", "/")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_language_switch_remembers_the_choice_and_goes_back() {
    let app = TestApp::spawn().await;
    let home = app.get("/").fetch_text().await;
    assert!(home.contains(r#"<html lang="it">"#));
    assert!(home.contains("Area Riservata"));

    let r = testkit::post_form(
        &app.client,
        app.url("/lang"),
        &[("lang", "en"), ("back", "/?x=1")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/?x=1");
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("lang=en;"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");

    let home = app.get("/").fetch_text().await;
    assert!(home.contains(r#"<html lang="en">"#));
    assert!(home.contains("Reserved Area"));

    // Never a redirect to another site.
    let r = testkit::post_form(
        &app.client,
        app.url("/lang"),
        &[("lang", "it"), ("back", "//evil.example/")],
    )
    .await;
    assert_eq!(r.headers()["location"], "/");
    // An unknown language is a clear 400.
    let r = testkit::post_form(&app.client, app.url("/lang"), &[("lang", "fr")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_language");
}

#[tokio::test]
async fn css_and_script_are_served_with_long_caching() {
    let app = TestApp::spawn().await;
    let home = app.get("/").fetch_text().await;
    let start = home
        .find("/static/selfcare.css?v=")
        .expect("stylesheet link");
    let href: String = home[start..].chars().take_while(|c| *c != '"').collect();
    let r = app.get(&href).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(r.text().await.unwrap().contains("--primary"));
    let r = app.get("/static/selfcare.js").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn jwks_publishes_the_signing_keys() {
    let app = TestApp::spawn().await;
    let jwks: Value = app.get("/.well-known/jwks.json").fetch_json().await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["alg"], "RS256");
    assert_eq!(keys[0]["kid"].as_str().unwrap().len(), 43);
    assert!(keys[0].get("d").is_none(), "no private part");
}

/// Whatever extractor refuses a malformed request to a JSON API (a path segment, a query
/// string, a body that is not JSON or not of the operation's shape, a wrong content type),
/// the caller gets a 4xx `problem+json`, never axum's plain text.
#[tokio::test]
async fn malformed_api_requests_are_refused_as_problem_json() {
    let app = TestApp::spawn().await;
    // (method, path, content type and body)
    type Case<'a> = (&'a str, &'a str, Option<(&'a str, &'a str)>);
    let cases: [Case; 5] = [
        ("GET", "/v2/token/exchange", None),
        ("GET", "/v2/token/exchange?institutionId=", None),
        ("POST", "/v2/users/search", Some(("text/plain", "hello"))),
        ("POST", "/v2/users/search", Some(("application/json", "{"))),
        (
            "POST",
            "/io/api/session",
            Some(("application/json", "[1, 2]")),
        ),
    ];
    for (method, path, body) in cases {
        let mut r = app.client.request(method.parse().unwrap(), app.url(path));
        if let Some((content_type, text)) = body {
            r = r
                .header("content-type", content_type)
                .body(text.to_string());
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        assert!(status.is_client_error(), "{method} {path}: {status}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], status.as_u16(), "{method} {path}: {v}");
        assert!(v["code"].is_string(), "{method} {path}: {v}");
    }
}
