//! Service keys and manage keys: who reads them, who regenerates them, and that a regenerated
//! key stops working at once while the other one of the pair goes on.

use serde_json::Value;
use testkit::TestApp;

use crate::{
    ANNA, BO, COMUNE, MANAGE, MARIO, Who, bo, call, expect, get_ok, invalid_params, manage_keys,
    operator, published,
};

fn pair(v: &Value) -> (String, String) {
    (
        v["primary_key"].as_str().unwrap().to_string(),
        v["secondary_key"].as_str().unwrap().to_string(),
    )
}

async fn status_with(app: &TestApp, key: &str, path: &str) -> u16 {
    call(app, &Who::Key(key.to_string()), "GET", path, None)
        .await
        .0
        .as_u16()
}

#[tokio::test]
async fn regenerated_keys_stop_working_at_once_and_only_admins_regenerate() {
    let app = TestApp::spawn().await;
    let mario = bo(&app, MARIO, COMUNE).await;
    let anna = bo(&app, ANNA, COMUNE).await;
    let op = operator(&app).await;
    let id = published(&app, &mario, &op, BO, "Servizio con chiavi").await;
    let keys_path = format!("{BO}/services/{id}/keys");
    let service_api = format!("/api/v1/services/{id}");

    // Both keys of the service read its published data.
    let (primary, secondary) = pair(&get_ok(&app, &mario, &keys_path).await);
    assert_ne!(primary, secondary);
    let v = expect(
        &app,
        &Who::Key(primary.clone()),
        "GET",
        &service_api,
        None,
        200,
    )
    .await;
    assert_eq!(v["service_id"], id.as_str());
    assert_eq!(v["service_name"], "Servizio con chiavi");
    assert_eq!(status_with(&app, &secondary, &service_api).await, 200);
    // A service key is not a manage key, and reads no other service.
    assert_eq!(
        status_with(&app, &primary, &format!("{MANAGE}/services")).await,
        403
    );
    let other = published(&app, &mario, &op, BO, "Altro servizio con chiavi").await;
    assert_eq!(
        status_with(&app, &primary, &format!("/api/v1/services/{other}")).await,
        403
    );
    assert_eq!(status_with(&app, "not-a-key", &service_api).await, 401);

    // An operator (of the institution) reads and copies the keys, but does not regenerate.
    let seen_by_anna = get_ok(&app, &anna, &keys_path).await;
    assert_eq!(pair(&seen_by_anna), (primary.clone(), secondary.clone()));
    for kt in ["primary", "secondary"] {
        let (s, v) = call(&app, &anna, "PUT", &format!("{keys_path}/{kt}"), None).await;
        assert_eq!(s, 403, "anna regenerates {kt}: {v}");
    }
    assert_eq!(status_with(&app, &primary, &service_api).await, 200);

    // Only primary and secondary exist.
    for kt in ["tertiary", "PRIMARY", "0"] {
        let (s, v) = call(&app, &mario, "PUT", &format!("{keys_path}/{kt}"), None).await;
        assert_eq!(s, 400, "{kt}: {v}");
        assert_eq!(invalid_params(&v), vec!["keyType"], "{kt}: {v}");
    }

    // The admin regenerates the primary key: the old one fails at once, the secondary stays.
    let (new_primary, same_secondary) = pair(
        &expect(
            &app,
            &mario,
            "PUT",
            &format!("{keys_path}/primary"),
            None,
            200,
        )
        .await,
    );
    assert_ne!(new_primary, primary);
    assert_eq!(same_secondary, secondary);
    assert_eq!(status_with(&app, &primary, &service_api).await, 401);
    assert_eq!(status_with(&app, &new_primary, &service_api).await, 200);
    assert_eq!(status_with(&app, &secondary, &service_api).await, 200);
    assert_eq!(
        pair(&get_ok(&app, &anna, &keys_path).await),
        (new_primary.clone(), secondary.clone())
    );

    // The same through the manage API (secondary this time).
    let manage = manage_keys(&app, &mario).await;
    let (p2, s2) = pair(
        &expect(
            &app,
            &manage.who(),
            "PUT",
            &format!("{MANAGE}/services/{id}/keys/secondary"),
            None,
            200,
        )
        .await,
    );
    assert_eq!(p2, new_primary);
    assert_ne!(s2, secondary);
    assert_eq!(status_with(&app, &secondary, &service_api).await, 401);
    assert_eq!(status_with(&app, &s2, &service_api).await, 200);
    assert_eq!(
        pair(
            &expect(
                &app,
                &manage.who(),
                "GET",
                &format!("{MANAGE}/services/{id}/keys"),
                None,
                200
            )
            .await
        ),
        (p2.clone(), s2.clone())
    );

    // Manage keys: only the admin sees them; regenerating one kills it at once.
    let list = format!("{MANAGE}/services");
    assert_eq!(status_with(&app, &manage.primary, &list).await, 200);
    assert_eq!(status_with(&app, &manage.secondary, &list).await, 200);
    for path in [
        "/io/api/subscriptions?kind=MANAGE_ROOT".to_string(),
        format!("/io/api/subscriptions/{}/keys", manage.id),
        format!("/io/api/subscriptions/{}/cidrs", manage.id),
    ] {
        let (s, v) = call(&app, &anna, "GET", &path, None).await;
        assert_eq!(s, 403, "anna {path}: {v}");
    }
    let sub_keys = format!("/io/api/subscriptions/{}/keys", manage.id);
    let (s, _) = call(&app, &anna, "PUT", &format!("{sub_keys}/primary"), None).await;
    assert_eq!(s, 403);
    let (s, v) = call(&app, &mario, "PUT", &format!("{sub_keys}/tertiary"), None).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(status_with(&app, &manage.primary, &list).await, 200);

    let (m1, m2) = pair(
        &expect(
            &app,
            &mario,
            "PUT",
            &format!("{sub_keys}/primary"),
            None,
            200,
        )
        .await,
    );
    assert_ne!(m1, manage.primary);
    assert_eq!(m2, manage.secondary);
    assert_eq!(status_with(&app, &manage.primary, &list).await, 401);
    assert_eq!(status_with(&app, &m1, &list).await, 200);
    assert_eq!(status_with(&app, &manage.secondary, &list).await, 200);
    assert_eq!(pair(&get_ok(&app, &mario, &sub_keys).await), (m1, m2));
    // The service keys did not move.
    assert_eq!(status_with(&app, &p2, &service_api).await, 200);
    assert_eq!(status_with(&app, &s2, &service_api).await, 200);
}
