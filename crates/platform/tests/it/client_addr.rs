use axum::Router;
use axum::routing::get;
use platform::client_addr::ClientAddr;
use testkit::Fetch;
use testkit::{Options, TestApp};

/// A route that answers with the address the plumbing resolved.
fn echo() -> Router {
    Router::new().route(
        "/__test/client-addr",
        get(|ClientAddr(ip): ClientAddr| async move { ip.to_string() }),
    )
}

async fn spawn(trusted: &'static [&'static str]) -> TestApp {
    TestApp::spawn_with(Options {
        settings: Some(Box::new(move |s| {
            s.http.trusted_proxies = trusted
                .iter()
                .map(|t| platform::config::parse_ip_net(t).unwrap())
                .collect();
        })),
        routes: Some(echo()),
        // As `serve`: the demo's test identity provider refuses to run behind proxies.
        serve: true,
    })
    .await
}

async fn addr(app: &TestApp, xff: Option<&str>) -> String {
    let mut request = app.get("/__test/client-addr");
    if let Some(xff) = xff {
        request = request.header("x-forwarded-for", xff);
    }
    request.fetch_text().await
}

#[tokio::test]
async fn without_trusted_proxies_a_forged_forwarded_for_is_ignored() {
    let app = spawn(&[]).await;
    assert_eq!(addr(&app, None).await, "127.0.0.1");
    assert_eq!(addr(&app, Some("198.51.100.9")).await, "127.0.0.1");
}

#[tokio::test]
async fn an_untrusted_peer_is_the_client_even_when_other_proxies_are_trusted() {
    let app = spawn(&["10.0.0.0/8"]).await;
    assert_eq!(
        addr(&app, Some("10.0.0.1, 198.51.100.9")).await,
        "127.0.0.1"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_rightmost_untrusted_entry_counts() {
    let app = spawn(&["127.0.0.1", "10.0.0.0/8"]).await;
    // The caller forged 6.6.6.6; the proxy appended what it saw; a second trusted hop too.
    assert_eq!(
        addr(&app, Some("6.6.6.6, 198.51.100.9, 10.1.2.3")).await,
        "198.51.100.9"
    );
    // No header: the proxy itself.
    assert_eq!(addr(&app, None).await, "127.0.0.1");
}
