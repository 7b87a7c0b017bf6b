//! JSON API calls through a [`TestApp`]: who calls ([`Caller`]), the status and the body, and
//! the usual expectations on them.

use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use crate::{Fetch, TestApp};

/// Who sends a request: how it is signed. A `str`/`String` is a bearer token.
pub trait Caller {
    fn sign(&self, request: RequestBuilder) -> RequestBuilder;
}

impl Caller for str {
    fn sign(&self, request: RequestBuilder) -> RequestBuilder {
        request.bearer_auth(self)
    }
}

impl Caller for String {
    fn sign(&self, request: RequestBuilder) -> RequestBuilder {
        self.as_str().sign(request)
    }
}

/// A request `method url` by `who` with `client`, with a JSON body when given.
pub fn request<C: Caller + ?Sized>(
    client: &reqwest::Client,
    who: &C,
    method: &str,
    url: String,
    body: Option<&Value>,
) -> RequestBuilder {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let r = who.sign(client.request(method, url));
    match body {
        Some(b) => r.json(b),
        None => r,
    }
}

/// Sends a request: the status and the JSON body (`Null` when empty or not JSON).
pub async fn send(r: RequestBuilder) -> (StatusCode, Value) {
    let response = r.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `method path` by `who`: the status and the JSON body (`Null` when empty or not JSON).
pub async fn call<C: Caller + ?Sized>(
    app: &TestApp,
    who: &C,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    send(request(&app.client, who, method, app.url(path), body)).await
}

/// `GET path` by `who`: the JSON body, whatever the status.
pub async fn get_json<C: Caller + ?Sized>(app: &TestApp, who: &C, path: &str) -> Value {
    who.sign(app.get(path)).fetch_json().await
}

/// Like [`call`], asserting the status; the body.
pub async fn expect<C: Caller + ?Sized>(
    app: &TestApp,
    who: &C,
    method: &str,
    path: &str,
    body: Option<&Value>,
    status: u16,
) -> Value {
    let (got, v) = call(app, who, method, path, body).await;
    assert_eq!(got.as_u16(), status, "{method} {path}: {v}");
    v
}

/// The status of `method path` without a body.
pub async fn status_of<C: Caller + ?Sized>(
    app: &TestApp,
    who: &C,
    method: &str,
    path: &str,
) -> StatusCode {
    call(app, who, method, path, None).await.0
}

/// `GET path`, asserting a 200; the body.
pub async fn get_ok<C: Caller + ?Sized>(app: &TestApp, who: &C, path: &str) -> Value {
    expect(app, who, "GET", path, None, 200).await
}

/// `POST path` with `body`, asserting a 201 (created); the body.
pub async fn post_created<C: Caller + ?Sized>(
    app: &TestApp,
    who: &C,
    path: &str,
    body: &Value,
) -> Value {
    expect(app, who, "POST", path, Some(body), 201).await
}

/// `POST path` without a body (a step: submit, activate, ...), asserting a 200; the body.
pub async fn post_ok<C: Caller + ?Sized>(app: &TestApp, who: &C, path: &str) -> Value {
    expect(app, who, "POST", path, None, 200).await
}

/// `PUT path` with `body`, asserting a 200; the body.
pub async fn put_ok<C: Caller + ?Sized>(app: &TestApp, who: &C, path: &str, body: &Value) -> Value {
    expect(app, who, "PUT", path, Some(body), 200).await
}
