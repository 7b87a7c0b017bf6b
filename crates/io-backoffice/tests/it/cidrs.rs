//! Authorized CIDRs of manage keys and of services: the caller's address is the socket's peer,
//! and `X-Forwarded-For` counts only when that peer is a trusted proxy.

use serde_json::json;
use testkit::api::Caller as _;
use testkit::{Options, TestApp};

use crate::{
    BO, COMUNE, MANAGE, MARIO, Who, bo, expect, get_ok, invalid_params, manage_keys, operator,
    put_ok,
};

/// The status of `GET path` with `key`, optionally with an `X-Forwarded-For`.
async fn status(app: &TestApp, key: &str, path: &str, forwarded_for: Option<&str>) -> u16 {
    let mut r = Who::Key(key.to_string()).sign(app.get(path));
    if let Some(xff) = forwarded_for {
        r = r.header("X-Forwarded-For", xff);
    }
    r.send().await.unwrap().status().as_u16()
}

/// What each test needs: Mario's session, the manage key restricted to 10.0.0.0/8, and a
/// published service restricted to 10.0.0.0/8 with its primary key.
struct Setup {
    mario: Who,
    manage_id: String,
    manage_key: String,
    service_api: String,
    service_key: String,
}

async fn setup(app: &TestApp) -> Setup {
    let mario = bo(app, MARIO, COMUNE).await;
    let op = operator(app).await;
    let manage = manage_keys(app, &mario).await;
    let cidrs = format!("/io/api/subscriptions/{}/cidrs", manage.id);
    assert_eq!(get_ok(app, &mario, &cidrs).await, json!([]));
    // Bad entries are refused, naming the entry.
    let v = expect(
        app,
        &mario,
        "PUT",
        &cidrs,
        Some(&json!(["10.0.0.0/8", "10.0.0.0/40"])),
        400,
    )
    .await;
    assert_eq!(invalid_params(&v), vec!["cidrs[1]"]);
    let v = put_ok(app, &mario, &cidrs, &json!(["10.0.0.0/8"])).await;
    assert_eq!(v, json!(["10.0.0.0/8"]));
    assert_eq!(get_ok(app, &mario, &cidrs).await, json!(["10.0.0.0/8"]));

    let mut payload = crate::service_payload("Servizio da 10/8");
    payload["authorized_cidrs"] = json!(["10.0.0.0/8"]);
    let created = expect(
        app,
        &mario,
        "POST",
        &format!("{BO}/services"),
        Some(&payload),
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["authorized_cidrs"], json!(["10.0.0.0/8"]));
    crate::submit(app, &mario, BO, &id, true).await;
    crate::approve(app, &op, &id).await;
    let keys = get_ok(app, &mario, &format!("{BO}/services/{id}/keys")).await;
    Setup {
        mario,
        manage_id: manage.id,
        manage_key: manage.primary,
        service_api: format!("/api/v1/services/{id}"),
        service_key: keys["primary_key"].as_str().unwrap().to_string(),
    }
}

#[tokio::test]
async fn addresses_outside_the_cidrs_are_refused_and_forwarded_for_is_not_believed() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let list = format!("{MANAGE}/services");
    for (key, path) in [(&s.manage_key, &list), (&s.service_key, &s.service_api)] {
        // The test calls from 127.0.0.1, outside 10.0.0.0/8.
        assert_eq!(status(&app, key, path, None).await, 403, "{path}");
        // 127.0.0.1 is no trusted proxy: what it forwards is not believed.
        assert_eq!(
            status(&app, key, path, Some("10.1.2.3")).await,
            403,
            "{path}"
        );
        assert_eq!(
            status(&app, key, path, Some("192.0.2.1, 10.1.2.3")).await,
            403,
            "{path}"
        );
    }
    let r = Who::Key(s.manage_key.clone())
        .sign(app.get(&list))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "a problem answer"
    );

    // Emptied, the list allows every address again.
    put_ok(
        &app,
        &s.mario,
        &format!("/io/api/subscriptions/{}/cidrs", s.manage_id),
        &json!({ "cidrs": [] }),
    )
    .await;
    assert_eq!(status(&app, &s.manage_key, &list, None).await, 200);
    // And 127.0.0.1 may be allowed.
    put_ok(
        &app,
        &s.mario,
        &format!("/io/api/subscriptions/{}/cidrs", s.manage_id),
        &json!(["127.0.0.1"]),
    )
    .await;
    assert_eq!(status(&app, &s.manage_key, &list, None).await, 200);
    // The service's own list is the service's: its key is still refused.
    assert_eq!(
        status(&app, &s.service_key, &s.service_api, None).await,
        403
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_decides() {
    let app = TestApp::spawn_with(Options {
        settings: Some(Box::new(|s| {
            s.http.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
            // The test identity provider refuses to run behind a proxy unless forced: the
            // test still calls it from this machine only.
            s.reserved_area.test_idp.unsafe_allow_non_loopback = true;
        })),
        ..Default::default()
    })
    .await;
    let s = setup(&app).await;
    let list = format!("{MANAGE}/services");
    for (key, path) in [(&s.manage_key, &list), (&s.service_key, &s.service_api)] {
        assert_eq!(
            status(&app, key, path, Some("10.1.2.3")).await,
            200,
            "{path}"
        );
        assert_eq!(
            status(&app, key, path, Some("192.0.2.1")).await,
            403,
            "{path}"
        );
        // No header: the proxy itself is the caller.
        assert_eq!(status(&app, key, path, None).await, 403, "{path}");
        // The right-most entry that is not a trusted proxy counts; what the client wrote
        // to the left of it proves nothing.
        assert_eq!(
            status(&app, key, path, Some("10.1.2.3, 192.0.2.1")).await,
            403,
            "{path}"
        );
        assert_eq!(
            status(&app, key, path, Some("192.0.2.1, 10.1.2.3")).await,
            200,
            "{path}"
        );
        assert_eq!(
            status(&app, key, path, Some("10.1.2.3, 127.0.0.1")).await,
            200,
            "{path}"
        );
    }
}
