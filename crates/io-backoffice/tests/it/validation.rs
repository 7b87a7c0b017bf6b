//! Every rule of the service payload answers 400 `application/problem+json` naming its field;
//! what is valid is accepted; what belongs to the caller's institution is never taken from the
//! payload.

use serde_json::{Value, json};
use testkit::TestApp;
use testkit::api::Caller as _;

use crate::{
    COMUNE, MANAGE, MARIO, Who, create, expect, get_ok, invalid_params, manage_key, png_base64,
    put_ok, service_payload,
};

/// A change to the valid payload: `Some(v)` sets the field at `path`, `None` removes it.
fn changed(path: &str, value: Option<Value>) -> Value {
    let mut p = service_payload("Servizio da validare");
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (&mut p[parent], key),
        None => (&mut p, path),
    };
    let obj = parent.as_object_mut().unwrap();
    match value {
        Some(v) => obj.insert(key.to_string(), v),
        None => obj.remove(key),
    };
    p
}

async fn refused(app: &TestApp, key: &Who, method: &str, path: &str, body: reqwest::Body) -> Value {
    let r = key
        .sign(
            app.client
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                    app.url(path),
                )
                .header("content-type", "application/json"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 400, "{method} {path}: {v}");
    assert_eq!(content_type, "application/problem+json", "{v}");
    assert_eq!(v["status"], 400);
    v
}

#[tokio::test]
async fn each_rule_of_the_payload_answers_400_naming_its_field() {
    let app = TestApp::spawn().await;
    let key = manage_key(&app, MARIO, COMUNE).await;
    let existing = create(&app, &key, MANAGE, "Servizio esistente").await;

    let cases: Vec<(&str, Option<Value>, &str)> = vec![
        ("name", None, "name"),
        ("name", Some(json!("")), "name"),
        ("name", Some(json!("   ")), "name"),
        ("name", Some(json!("n".repeat(101))), "name"),
        ("name", Some(json!(42)), "name"),
        ("name", Some(json!(["a"])), "name"),
        ("description", None, "description"),
        ("description", Some(json!("d".repeat(1001))), "description"),
        ("metadata", None, "metadata"),
        ("metadata", Some(json!("LOCAL")), "metadata"),
        ("metadata.scope", None, "metadata.scope"),
        ("metadata.scope", Some(json!("REGIONAL")), "metadata.scope"),
        ("metadata.scope", Some(json!("local")), "metadata.scope"),
        ("metadata.topic_id", None, "metadata.topic_id"),
        ("metadata.topic_id", Some(json!(999)), "metadata.topic_id"),
        ("metadata.topic_id", Some(json!(-1)), "metadata.topic_id"),
        ("metadata.topic_id", Some(json!("3")), "metadata.topic_id"),
        (
            "metadata.privacy_url",
            Some(json!("www.ente.it/privacy")),
            "metadata.privacy_url",
        ),
        (
            "metadata.privacy_url",
            Some(json!("ftp://ente.it/privacy")),
            "metadata.privacy_url",
        ),
        (
            "metadata.web_url",
            Some(json!("https://ente.it/a b")),
            "metadata.web_url",
        ),
        ("metadata.email", Some(json!("servizi")), "metadata.email"),
        (
            "metadata.email",
            Some(json!("servizi@@ente.it")),
            "metadata.email",
        ),
        ("metadata.pec", Some(json!("@pec.it")), "metadata.pec"),
        ("metadata.phone", Some(json!("chiamaci")), "metadata.phone"),
        ("metadata.phone", Some(json!("12")), "metadata.phone"),
        (
            "authorized_recipients",
            Some(json!(["RSSMRA85T10A562"])),
            "authorized_recipients[0]",
        ),
        (
            "authorized_recipients",
            Some(json!(["AAAAAA00A00A000A", "rssmra85t10a562s"])),
            "authorized_recipients[1]",
        ),
        (
            "authorized_recipients",
            Some(json!("AAAAAA00A00A000A")),
            "authorized_recipients",
        ),
        (
            "authorized_cidrs",
            Some(json!(["10.0.0.0/33"])),
            "authorized_cidrs[0]",
        ),
        (
            "authorized_cidrs",
            Some(json!(["10.0.0.1", "300.0.0.1"])),
            "authorized_cidrs[1]",
        ),
        (
            "authorized_cidrs",
            Some(json!(["ufficio"])),
            "authorized_cidrs[0]",
        ),
        (
            "max_allowed_payment_amount",
            Some(json!(10_000_000_000_i64)),
            "max_allowed_payment_amount",
        ),
        (
            "max_allowed_payment_amount",
            Some(json!(-1)),
            "max_allowed_payment_amount",
        ),
        (
            "max_allowed_payment_amount",
            Some(json!(1.5)),
            "max_allowed_payment_amount",
        ),
        (
            "max_allowed_payment_amount",
            Some(json!("100")),
            "max_allowed_payment_amount",
        ),
        (
            "require_secure_channel",
            Some(json!("true")),
            "require_secure_channel",
        ),
        (
            "require_secure_channel",
            Some(json!(1)),
            "require_secure_channel",
        ),
        (
            "suitable_for_minors",
            Some(json!("no")),
            "suitable_for_minors",
        ),
        (
            "organization.fiscal_code",
            Some(json!("123")),
            "organization.fiscal_code",
        ),
    ];
    let services = format!("{MANAGE}/services");
    let one = format!("{MANAGE}/services/{existing}");
    for (path, value, field) in &cases {
        let payload = changed(path, value.clone());
        for (method, target) in [("POST", &services), ("PUT", &one)] {
            let v = refused(
                &app,
                &key,
                method,
                target,
                serde_json::to_vec(&payload).unwrap().into(),
            )
            .await;
            assert_eq!(
                invalid_params(&v),
                vec![field.to_string()],
                "{method} {path} = {value:?}: {v}"
            );
        }
    }
    // Several problems at once: each is named.
    let mut p = changed("name", None);
    p["metadata"].as_object_mut().unwrap().remove("topic_id");
    p["max_allowed_payment_amount"] = json!(-1);
    let v = refused(
        &app,
        &key,
        "POST",
        &services,
        serde_json::to_vec(&p).unwrap().into(),
    )
    .await;
    let mut names = invalid_params(&v);
    names.sort();
    assert_eq!(
        names,
        vec!["max_allowed_payment_amount", "metadata.topic_id", "name"]
    );
    // Not JSON, or not an object.
    for body in ["", "{", "name=x", "[1, 2]", "\"service\"", "null"] {
        let v = refused(&app, &key, "POST", &services, body.to_string().into()).await;
        assert_eq!(invalid_params(&v), vec!["body"], "{body:?}: {v}");
    }
    // Nothing was created or changed by the refused calls.
    let list = get_ok(&app, &key, &services).await;
    let names = testkit::strings_of(&list["value"], "name");
    assert!(!names.contains(&"Servizio da validare"), "{names:?}");
    let v = get_ok(&app, &key, &one).await;
    assert_eq!(v["name"], "Servizio esistente");
    assert_eq!(v["version"], 1);

    // The limits themselves are accepted.
    let mut p = service_payload(&"n".repeat(100));
    p["description"] = json!("d".repeat(1000));
    p["max_allowed_payment_amount"] = json!(9_999_999_999_i64);
    p["authorized_cidrs"] = json!(["10.0.0.1", "192.168.0.0/16"]);
    p["authorized_recipients"] = json!(["RSSMRA85T10A562S"]);
    p["require_secure_channel"] = json!(true);
    p["metadata"]["phone"] = json!("+39 06 1234567");
    p["metadata"]["topic_id"] = json!(0);
    p["metadata"]["scope"] = json!("NATIONAL");
    // The organization is the key's institution, whatever the payload says; only the
    // department is taken.
    p["organization"] = json!({
        "name": "Un altro ente", "fiscal_code": "99999999999", "department_name": "Tributi"
    });
    let v = expect(&app, &key, "POST", &services, Some(&p), 201).await;
    assert_eq!(v["max_allowed_payment_amount"], 9_999_999_999_i64);
    assert_eq!(v["name"], "n".repeat(100));
    assert_eq!(
        v["organization"],
        json!({ "name": "Comune di Roccabella", "fiscal_code": COMUNE, "department_name": "Tributi" })
    );
    // The sandbox recipient is always there.
    assert_eq!(
        v["authorized_recipients"],
        json!(["AAAAAA00A00A000A", "RSSMRA85T10A562S"])
    );
    // A single address is stored as its /32.
    assert_eq!(
        v["authorized_cidrs"],
        json!(["10.0.0.1/32", "192.168.0.0/16"])
    );
    assert_eq!(v["metadata"]["topic"]["id"], 0);
    assert_eq!(v["metadata"]["scope"], "NATIONAL");
    let id = v["id"].as_str().unwrap().to_string();
    // Without an organization at all, the same.
    let v = put_ok(
        &app,
        &key,
        &format!("{services}/{id}"),
        &changed("organization", None),
    )
    .await;
    assert_eq!(
        v["organization"],
        json!({ "name": "Comune di Roccabella", "fiscal_code": COMUNE })
    );

    // PATCH sets a group, and there are no groups: 400 naming it, on both routes.
    for (method, path) in [
        ("PATCH", format!("{services}/{id}")),
        ("PUT", format!("{services}/{id}/patch")),
    ] {
        for body in [
            json!({ "metadata": { "group_id": "x" } }),
            json!({ "metadata": { "group_id": "" } }),
            json!({ "metadata": { "group_id": 5 } }),
        ] {
            let v = expect(&app, &key, method, &path, Some(&body), 400).await;
            assert_eq!(invalid_params(&v), vec!["metadata.group_id"], "{body}");
        }
        let v = expect(&app, &key, method, &path, Some(&json!({})), 400).await;
        assert_eq!(invalid_params(&v), vec!["metadata"]);
    }

    // The logo: a square PNG from 300 to 1024 pixels a side, in base64.
    let logo = format!("{services}/{id}/logo");
    expect(
        &app,
        &key,
        "PUT",
        &logo,
        Some(&json!({ "logo": png_base64(300, 300) })),
        204,
    )
    .await;
    expect(
        &app,
        &key,
        "PUT",
        &logo,
        Some(&json!({ "logo": png_base64(1024, 1024) })),
        204,
    )
    .await;
    for body in [
        json!({ "logo": png_base64(300, 400) }),
        json!({ "logo": png_base64(299, 299) }),
        json!({ "logo": png_base64(1025, 1025) }),
        json!({ "logo": "not base64!" }),
        json!({ "logo": "aGVsbG8=" }),
        json!({ "logo": "" }),
        json!({ "logo": 7 }),
        json!({}),
    ] {
        let v = expect(&app, &key, "PUT", &logo, Some(&body), 400).await;
        assert_eq!(invalid_params(&v), vec!["logo"], "{body}");
    }
}
