//! Clients and their keys through the JSON API: who creates, sees and changes them, which
//! purposes they take, and every mistake of a key upload answered with its own reason.

use std::collections::BTreeSet;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use testkit::interop::{ClientKey, pem_block, spki};
use testkit::{Options, TestApp};

use crate::{
    ANNA, COLL, COMUNE, GIULIA, LUCA, MARIO, REGIONE, call, expect, get_ok, give_anna_collaudo,
    give_luca_collaudo, key_upload, link_purpose, member, person_id, post_created, post_ok,
    purpose, send_agreement, status_of, user_id,
};

fn ids(list: &Value) -> Vec<String> {
    list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// The strings of a JSON list, in any order.
fn set(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn param_names(v: &Value) -> Vec<&str> {
    v["invalidParams"]
        .as_array()
        .unwrap_or_else(|| panic!("no invalidParams: {v}"))
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

async fn create(app: &TestApp, token: &str, kind: &str, body: Value, status: u16) -> Value {
    expect(
        app,
        token,
        "POST",
        &format!("{COLL}/api/clients{kind}"),
        Some(&body),
        status,
    )
    .await
}

#[tokio::test]
async fn clients_are_made_by_admins_seen_by_their_members_and_take_active_purposes() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    give_anna_collaudo(&app, &["security"]).await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let anna = member(&app, ANNA, COMUNE, "prod-interop-coll").await;
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let luca_id = user_id(&app, &luca).await;
    let anna_id = user_id(&app, &anna).await;

    // The name: 5..60 characters, each bound exactly.
    for name in [json!("abcd"), json!("x".repeat(61)), json!(""), json!(42)] {
        let v = create(&app, &luca, "Consumer", json!({ "name": name }), 400).await;
        assert_eq!(param_names(&v), ["name"], "{name}: {v}");
    }
    let c = create(&app, &luca, "Consumer", json!({ "name": "abcde" }), 201).await;
    assert_eq!(
        (c["kind"].as_str(), c["name"].as_str()),
        (Some("CONSUMER"), Some("abcde"))
    );
    let sixty = "y".repeat(60);
    create(&app, &luca, "Api", json!({ "name": sixty }), 201).await;
    // A member is someone who entered this environment for the institution: Mario never
    // entered Collaudo, and a made-up id is nobody.
    let mario_id = person_id(&app, MARIO).await;
    for nobody in [mario_id.clone(), uuid::Uuid::new_v4().to_string()] {
        let v = create(
            &app,
            &luca,
            "Consumer",
            json!({ "name": "Client con estraneo", "members": [luca_id, nobody] }),
            400,
        )
        .await;
        assert_eq!(param_names(&v), ["members[1]"], "{v}");
        assert!(v.to_string().contains("never entered"), "{v}");
    }
    let v = create(
        &app,
        &luca,
        "Consumer",
        json!({ "name": "Client malformato", "members": ["not-a-uuid"] }),
        400,
    )
    .await;
    assert_eq!(param_names(&v), ["members[0]"]);

    // Only admins create; members are shown by user id.
    let consumer = create(
        &app,
        &luca,
        "Consumer",
        json!({ "name": "Client SEND", "description": "Le notifiche del Comune",
                "members": [luca_id, anna_id] }),
        201,
    )
    .await;
    assert_eq!(consumer["kind"], "CONSUMER");
    assert_eq!(set(&consumer["members"]), set(&json!([luca_id, anna_id])));
    assert_eq!(consumer["purposes"], json!([]));
    assert_eq!(consumer["keys"], json!([]));
    let consumer_id = consumer["id"].as_str().unwrap().to_string();
    let api = create(
        &app,
        &luca,
        "Api",
        json!({ "name": "Client per le API della piattaforma", "members": [luca_id] }),
        201,
    )
    .await;
    assert_eq!(api["kind"], "API");
    let api_id = api["id"].as_str().unwrap().to_string();
    let (s, _) = call(
        &app,
        &anna,
        "POST",
        &format!("{COLL}/api/clientsConsumer"),
        Some(&json!({ "name": "Client di Anna" })),
    )
    .await;
    assert_eq!(s, 403);

    // Lists and reads: the admin sees all of the institution's, by kind if asked.
    let all = get_ok(&app, &luca, &format!("{COLL}/api/clients")).await;
    assert_eq!(all["totalCount"], 4, "{all}");
    assert!(ids(&all).contains(&consumer_id) && ids(&all).contains(&api_id));
    let only_api = get_ok(&app, &luca, &format!("{COLL}/api/clients?kind=API")).await;
    assert!(
        only_api["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["kind"] == "API")
            && ids(&only_api).contains(&api_id),
        "{only_api}"
    );
    assert_eq!(
        status_of(&app, &luca, "GET", &format!("{COLL}/api/clients?kind=X")).await,
        400
    );
    let got = get_ok(&app, &luca, &format!("{COLL}/api/clients/{consumer_id}")).await;
    assert_eq!(got["name"], "Client SEND");
    assert_eq!(got["description"], "Le notifiche del Comune");
    // A security user sees only the clients they belong to.
    let mine = get_ok(&app, &anna, &format!("{COLL}/api/clients")).await;
    assert_eq!(ids(&mine), std::slice::from_ref(&consumer_id), "{mine}");
    get_ok(&app, &anna, &format!("{COLL}/api/clients/{consumer_id}")).await;
    expect(
        &app,
        &anna,
        "GET",
        &format!("{COLL}/api/clients/{api_id}"),
        None,
        404,
    )
    .await;
    // Another institution's client is not found, and not listed.
    let theirs = get_ok(&app, &giulia, &format!("{COLL}/api/clients")).await;
    assert_eq!(theirs["totalCount"], 0, "{theirs}");
    for path in [
        format!("{COLL}/api/clients/{consumer_id}"),
        format!("{COLL}/api/clients/{consumer_id}/keys"),
    ] {
        assert_eq!(status_of(&app, &giulia, "GET", &path).await, 404, "{path}");
    }
    assert_eq!(
        status_of(
            &app,
            &giulia,
            "DELETE",
            &format!("{COLL}/api/clients/{consumer_id}")
        )
        .await,
        404
    );
    assert_eq!(
        call(
            &app,
            &luca,
            "GET",
            &format!("{COLL}/api/clients/{}", uuid::Uuid::new_v4()),
            None
        )
        .await
        .0,
        404
    );

    // Members: the admin adds and removes them; the security user does not.
    let added = post_ok(
        &app,
        &luca,
        &format!("{COLL}/api/clients/{api_id}/users/{anna_id}"),
    )
    .await;
    assert_eq!(set(&added["members"]), set(&json!([luca_id, anna_id])));
    get_ok(&app, &anna, &format!("{COLL}/api/clients/{api_id}")).await;
    let v = expect(
        &app,
        &luca,
        "POST",
        &format!("{COLL}/api/clients/{api_id}/users/{mario_id}"),
        None,
        400,
    )
    .await;
    assert_eq!(param_names(&v), ["userId"]);
    assert_eq!(
        status_of(
            &app,
            &anna,
            "DELETE",
            &format!("{COLL}/api/clients/{api_id}/users/{anna_id}")
        )
        .await,
        403
    );
    expect(
        &app,
        &luca,
        "DELETE",
        &format!("{COLL}/api/clients/{api_id}/users/{anna_id}"),
        None,
        204,
    )
    .await;
    expect(
        &app,
        &anna,
        "GET",
        &format!("{COLL}/api/clients/{api_id}"),
        None,
        404,
    )
    .await;

    // Purposes: an ACTIVE purpose on an ACTIVE agreement is linked; a draft is not; an API
    // client takes none.
    let (send, _, _) = send_agreement(&app, &luca).await;
    let (active, _, state) = purpose(&app, &luca, &send, "Notifiche dei tributi", 100, false).await;
    assert_eq!(state, "ACTIVE");
    let (draft, _, _) = purpose(&app, &luca, &send, "Notifiche in bozza", 100, true).await;
    let link = |id: &str| format!("{COLL}/api/clients/{id}/purposes");
    let linked = link_purpose(&app, &luca, &consumer_id, &active).await;
    assert_eq!(linked["purposes"], json!([active]));
    // Linking twice changes nothing.
    let linked = link_purpose(&app, &luca, &consumer_id, &active).await;
    assert_eq!(linked["purposes"], json!([active]));
    let (s, v) = call(
        &app,
        &luca,
        "POST",
        &link(&consumer_id),
        Some(&json!({ "purposeId": draft })),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("purpose_not_active_or_suspended")),
        "{v}"
    );
    let (s, v) = call(
        &app,
        &luca,
        "POST",
        &link(&api_id),
        Some(&json!({ "purposeId": active })),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("client_kind_not_allowed")),
        "{v}"
    );
    for (body, field) in [
        (json!({}), "purposeId"),
        (json!({ "purposeId": "x" }), "purposeId"),
        (
            json!({ "purposeId": uuid::Uuid::new_v4().to_string() }),
            "purposeId",
        ),
    ] {
        let v = expect(&app, &luca, "POST", &link(&consumer_id), Some(&body), 400).await;
        assert_eq!(param_names(&v), [field], "{body}: {v}");
    }
    // The security member does not link.
    assert_eq!(
        call(
            &app,
            &anna,
            "POST",
            &link(&consumer_id),
            Some(&json!({ "purposeId": active }))
        )
        .await
        .0,
        403
    );
    // Unlink, once.
    let unlink = format!("{COLL}/api/clients/{consumer_id}/purposes/{active}");
    assert_eq!(status_of(&app, &anna, "DELETE", &unlink).await, 403);
    expect(&app, &luca, "DELETE", &unlink, None, 204).await;
    expect(&app, &luca, "DELETE", &unlink, None, 404).await;
    let got = get_ok(&app, &luca, &format!("{COLL}/api/clients/{consumer_id}")).await;
    assert_eq!(got["purposes"], json!([]));

    // Delete: the security member may not; the admin does, and it is gone.
    let url = format!("{COLL}/api/clients/{consumer_id}");
    assert_eq!(status_of(&app, &anna, "DELETE", &url).await, 403);
    expect(&app, &luca, "DELETE", &url, None, 204).await;
    expect(&app, &luca, "GET", &url, None, 404).await;
    expect(&app, &luca, "DELETE", &url, None, 404).await;
    let mine = get_ok(&app, &anna, &format!("{COLL}/api/clients")).await;
    assert_eq!(mine["totalCount"], 0, "{mine}");
}

/// An RSA public key (SubjectPublicKeyInfo, PEM) with a random odd modulus of `bytes` bytes.
fn short_rsa_pem(bytes: usize) -> String {
    let mut n = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut n).unwrap();
    n[0] |= 0x80;
    n[bytes - 1] |= 1;
    pem_block("PUBLIC KEY", &spki(&n, &[1, 0, 1]))
}

/// A P-256 public key (SubjectPublicKeyInfo, PEM).
fn ec_pem() -> String {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let der = pair.public_key().as_der().unwrap();
    pem_block("PUBLIC KEY", der.as_ref())
}

async fn new_client(app: &TestApp, token: &str, name: &str, members: &[&str]) -> String {
    let c = create(
        app,
        token,
        "Consumer",
        json!({ "name": name, "members": members }),
        201,
    )
    .await;
    c["id"].as_str().unwrap().to_string()
}

fn b64(text: &str) -> String {
    STANDARD.encode(text)
}

#[tokio::test]
async fn keys_are_rsa_public_keys_named_by_thumbprint_unique_limited_and_owned() {
    let app = TestApp::spawn_with(Options {
        settings: Some(Box::new(|s| s.interop.max_keys_per_client = 3)),
        ..Options::default()
    })
    .await;
    give_luca_collaudo(&app, "admin").await;
    give_anna_collaudo(&app, &["security"]).await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let anna = member(&app, ANNA, COMUNE, "prod-interop-coll").await;
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let luca_id = user_id(&app, &luca).await;
    let anna_id = user_id(&app, &anna).await;
    let giulia_id = user_id(&app, &giulia).await;
    let shared = new_client(&app, &luca, "Client del Comune", &[&luca_id, &anna_id]).await;
    let other = new_client(&app, &luca, "Altro client del Comune", &[&luca_id]).await;
    let without_luca = new_client(&app, &luca, "Client senza Luca", &[&anna_id]).await;
    let regione = new_client(&app, &giulia, "Client della Regione", &[&giulia_id]).await;
    let keys = |id: &str| format!("{COLL}/api/clients/{id}/keys");

    // A valid key: its kid is the RFC 7638 thumbprint.
    let k1 = ClientKey::generate();
    let up = post_created(
        &app,
        &luca,
        &keys(&shared),
        &key_upload(&k1.upload_b64(), "Chiave di produzione"),
    )
    .await;
    let kid = up["keys"][0]["kid"].as_str().unwrap();
    assert_eq!(kid.len(), 43, "{up}");
    assert_eq!(kid, k1.kid);
    assert_eq!(up["keys"][0]["userId"], json!(luca_id));
    assert_eq!(up["keys"][0]["use"], "SIG");
    assert_eq!(up["keys"][0]["alg"], "RS256");
    assert_eq!(up["keys"][0]["bits"], 2048);
    let got = expect(
        &app,
        &luca,
        "GET",
        &format!("{}/{}", keys(&shared), k1.kid),
        None,
        200,
    )
    .await;
    assert_eq!(got["jwk"]["kid"], json!(k1.kid));
    assert_eq!(got["jwk"]["kty"], "RSA");
    assert_eq!(got["jwk"]["n"], k1.jwk()["n"]);
    assert_eq!(got["jwk"]["e"], k1.jwk()["e"]);
    assert_eq!(got["name"], "Chiave di produzione");
    let listed = get_ok(&app, &anna, &keys(&shared)).await;
    assert_eq!(listed["keys"].as_array().unwrap().len(), 1, "{listed}");
    let c = get_ok(&app, &luca, &format!("{COLL}/api/clients/{shared}")).await;
    assert_eq!(c["keys"], json!([k1.kid]));
    assert_eq!(
        call(
            &app,
            &luca,
            "GET",
            &format!("{}/{}", keys(&other), k1.kid),
            None
        )
        .await
        .0,
        404,
        "the key is of another client"
    );

    // The same key again, anywhere in the environment: refused.
    for (token, id) in [(&luca, &shared), (&luca, &other), (&giulia, &regione)] {
        let (s, v) = call(
            &app,
            token,
            "POST",
            &keys(id),
            Some(&key_upload(&k1.upload_b64(), "La stessa chiave")),
        )
        .await;
        assert_eq!(
            (s.as_u16(), v["code"].as_str()),
            (409, Some("key_already_exists")),
            "{v}"
        );
    }
    // ... also as PKCS#1 (`RSA PUBLIC KEY`): the same kid.
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(k1.jwk()["n"].as_str().unwrap())
        .unwrap();
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(k1.jwk()["e"].as_str().unwrap())
        .unwrap();
    let pkcs1 = pem_block("RSA PUBLIC KEY", &testkit::interop::pkcs1(&n, &e));
    let (s, v) = call(
        &app,
        &luca,
        "POST",
        &keys(&other),
        Some(&key_upload(&b64(&pkcs1), "La stessa in PKCS1")),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("key_already_exists"))
    );

    // Each mistake people make has its own message, on the field `[0].key`.
    let spki_der = {
        let pem = k1.public_pem.clone();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        STANDARD.decode(body).unwrap()
    };
    let mistakes: Vec<(&str, String)> = vec![
        ("private key", b64(&k1.private_pem)),
        ("certificate", b64(&pem_block("CERTIFICATE", &spki_der))),
        (
            "ssh-rsa",
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 luca@comune".to_string(),
        ),
        ("EC", b64(&ec_pem())),
        ("1024-bit RSA", b64(&short_rsa_pem(128))),
        (
            "two blocks",
            b64(&format!(
                "{}{}",
                k1.public_pem,
                ClientKey::generate().public_pem
            )),
        ),
        ("not base64", "questa non è una chiave!".to_string()),
        ("PEM not encoded", ClientKey::generate().public_pem),
        ("empty", "   ".to_string()),
    ];
    let mut messages = BTreeSet::new();
    for (what, key) in &mistakes {
        let v = expect(
            &app,
            &luca,
            "POST",
            &keys(&shared),
            Some(&key_upload(key, "Chiave sbagliata")),
            400,
        )
        .await;
        assert_eq!(param_names(&v), ["[0].key"], "{what}: {v}");
        let reason = v["invalidParams"][0]["reason"]
            .as_str()
            .unwrap()
            .to_string();
        match *what {
            "private key" => assert!(reason.contains("private key"), "{reason}"),
            "certificate" => assert!(reason.contains("certificate"), "{reason}"),
            "ssh-rsa" => assert!(reason.contains("OpenSSH"), "{reason}"),
            "EC" => assert!(reason.contains("EC"), "{reason}"),
            "1024-bit RSA" => assert!(reason.contains("1024 bits"), "{reason}"),
            "two blocks" => assert!(reason.contains("2 blocks"), "{reason}"),
            "not base64" => assert!(reason.contains("not base64"), "{reason}"),
            _ => {}
        }
        assert!(
            messages.insert(reason.clone()),
            "{what}: same message as another: {reason}"
        );
    }
    assert_eq!(messages.len(), mistakes.len());
    // The other fields, each named; several keys, each by position.
    let k2 = ClientKey::generate();
    let v = expect(
        &app,
        &luca,
        "POST",
        &keys(&shared),
        Some(&json!([
            { "key": k2.upload_b64(), "use": "ENC", "alg": "RS512", "name": "abc" },
            { "key": b64(&k1.private_pem), "use": "SIG", "alg": "RS256", "name": "Seconda chiave" },
            { "use": "SIG", "alg": "RS256", "name": "x".repeat(61) },
        ])),
        400,
    )
    .await;
    assert_eq!(
        param_names(&v),
        [
            "[0].name", "[0].use", "[0].alg", "[1].key", "[2].name", "[2].key"
        ],
        "{v}"
    );
    for body in [json!([]), json!({}), json!("x")] {
        let v = expect(&app, &luca, "POST", &keys(&shared), Some(&body), 400).await;
        assert_eq!(param_names(&v), ["body"], "{v}");
    }
    let v = expect(
        &app,
        &luca,
        "POST",
        &keys(&shared),
        Some(&json!([
            { "key": k2.upload_b64(), "use": "SIG", "alg": "RS256", "name": "Chiave due" },
            { "key": k2.upload_b64(), "use": "SIG", "alg": "RS256", "name": "Chiave due bis" },
        ])),
        400,
    )
    .await;
    assert_eq!(param_names(&v), ["[1].key"], "{v}");
    // Nothing of the refused uploads was kept.
    let listed = get_ok(&app, &luca, &keys(&shared)).await;
    assert_eq!(listed["keys"].as_array().unwrap().len(), 1, "{listed}");

    // Who uploads: members with role admin or security; an admin who is not a member may not.
    let (s, v) = call(
        &app,
        &luca,
        "POST",
        &keys(&without_luca),
        Some(&key_upload(&k2.upload_b64(), "Chiave di Luca")),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(
        call(
            &app,
            &anna,
            "POST",
            &keys(&other),
            Some(&key_upload(&k2.upload_b64(), "Chiave di Anna"))
        )
        .await
        .0,
        404,
        "Anna does not see a client she is not a member of"
    );
    let up = post_created(
        &app,
        &anna,
        &keys(&shared),
        &key_upload(&k2.upload_b64(), "Chiave di Anna"),
    )
    .await;
    assert_eq!(up["keys"][0]["userId"], json!(anna_id));

    // The limit: three keys a client here.
    let k3 = ClientKey::generate();
    let k4 = ClientKey::generate();
    let (s, v) = call(
        &app,
        &luca,
        "POST",
        &keys(&shared),
        Some(&json!([
            { "key": k3.upload_b64(), "use": "SIG", "alg": "RS256", "name": "Chiave tre" },
            { "key": k4.upload_b64(), "use": "SIG", "alg": "RS256", "name": "Chiave quattro" },
        ])),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("too_many_keys")),
        "{v}"
    );
    post_created(
        &app,
        &luca,
        &keys(&shared),
        &key_upload(&k3.upload_b64(), "Chiave tre"),
    )
    .await;
    let (s, v) = call(
        &app,
        &luca,
        "POST",
        &keys(&shared),
        Some(&key_upload(&k4.upload_b64(), "Chiave quattro")),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("too_many_keys")),
        "{v}"
    );

    // Deleting: the security member only the keys she uploaded; the admin any.
    let key_url = |k: &ClientKey| format!("{}/{}", keys(&shared), k.kid);
    let (s, v) = call(&app, &anna, "DELETE", &key_url(&k1), None).await;
    assert_eq!(s, 403, "{v}");
    expect(&app, &anna, "DELETE", &key_url(&k2), None, 204).await;
    expect(&app, &anna, "DELETE", &key_url(&k2), None, 404).await;
    expect(&app, &luca, "DELETE", &key_url(&k1), None, 204).await;
    assert_eq!(status_of(&app, &giulia, "DELETE", &key_url(&k3)).await, 404);
    let listed = get_ok(&app, &luca, &keys(&shared)).await;
    let left = testkit::strings_of(&listed["keys"], "kid");
    assert_eq!(left, [k3.kid.as_str()]);
    // A deleted key can be uploaded again, to another client.
    post_created(
        &app,
        &luca,
        &keys(&other),
        &key_upload(&k1.upload_b64(), "Chiave ricaricata"),
    )
    .await;

    // Deleting the client deletes its keys: the key can go elsewhere.
    expect(
        &app,
        &luca,
        "DELETE",
        &format!("{COLL}/api/clients/{shared}"),
        None,
        204,
    )
    .await;
    post_created(
        &app,
        &giulia,
        &keys(&regione),
        &key_upload(&k3.upload_b64(), "Chiave della Regione"),
    )
    .await;
}

/// "Elimina il client" on the client's page asks for a ticked confirmation: without it the page
/// comes back with the message next to the box and the client stays; with it the client goes.
#[tokio::test]
async fn deleting_a_client_from_its_page_takes_a_ticked_confirmation() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let me = user_id(&app, &luca).await;
    let c = post_created(
        &app,
        &luca,
        &format!("{COLL}/api/clientsConsumer"),
        &json!({"name": "Client da eliminare", "members": [me]}),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_string();
    let page = format!("{COLL}/clients/{id}");
    let html = crate::page(&app, &luca, &page).await;
    assert!(html.contains(r#"data-testid="delete-confirm""#), "{html}");
    // (form, answer, then GET of the client)
    type Step = (&'static [(&'static str, &'static str)], u16, u16);
    let steps: [Step; 3] = [
        (&[("action", "delete")], 400, 200),
        (&[("action", "delete"), ("confirm", "no")], 400, 200),
        (&[("action", "delete"), ("confirm", "yes")], 303, 404),
    ];
    for (form, answer, after) in steps {
        let r = app
            .post(&page)
            .bearer_auth(&luca)
            .header("accept-language", "it")
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), answer, "{form:?}");
        let html = r.text().await.unwrap();
        if answer == 400 {
            assert!(
                html.contains(
                    r#"data-testid="error-confirm">Spunta la conferma per eliminare il client."#
                ),
                "{form:?}: {html}"
            );
        }
        expect(
            &app,
            &luca,
            "GET",
            &format!("{COLL}/api/clients/{id}"),
            None,
            after,
        )
        .await;
    }
}

/// "Crea client" sent twice (a double click, or back and send again) makes one client and
/// leads both times to it; a script's retry with the same `Idempotency-Key` gets the first
/// answer. The form carries its one-time token.
#[tokio::test]
async fn a_client_sent_twice_is_made_once_by_the_form_and_by_the_api() {
    let app = TestApp::spawn().await;
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let page = app
        .get(&format!("{COLL}/clients"))
        .bearer_auth(&giulia)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let once = testkit::hidden_field(&page, "once").expect("the form's one-time token");
    let mut places = BTreeSet::new();
    for _ in 0..2 {
        let r = app
            .post(&format!("{COLL}/clients"))
            .bearer_auth(&giulia)
            .form(&[
                ("kind", "CONSUMER"),
                ("name", "Anagrafe regionale"),
                ("once", once.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        places.insert(r.headers()["location"].to_str().unwrap().to_string());
    }
    assert_eq!(places.len(), 1, "{places:?}");
    // A form shown again has a new token.
    let again = app
        .get(&format!("{COLL}/clients"))
        .bearer_auth(&giulia)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_ne!(testkit::hidden_field(&again, "once"), Some(once));

    let mut answers = Vec::new();
    for _ in 0..2 {
        let r = app
            .post(&format!("{COLL}/api/clientsConsumer"))
            .bearer_auth(&giulia)
            .header("Idempotency-Key", "nightly-sync-2026-12-06")
            .json(&json!({ "name": "Sincronizzazione notturna" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        answers.push(r.json::<Value>().await.unwrap());
    }
    assert_eq!(answers[0], answers[1]);
    let listed = get_ok(&app, &giulia, &format!("{COLL}/api/clients")).await;
    let names: Vec<&str> = listed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .filter(|n| *n == "Anagrafe regionale" || *n == "Sincronizzazione notturna")
        .collect();
    assert_eq!(names.len(), 2, "{listed}");
}

/// "Carica chiave" takes the public key as a file (a form with a file) or pasted; a refused
/// one is told in the page's language, with a summary at the top that links to the field.
#[tokio::test]
async fn a_key_is_uploaded_from_a_file_or_pasted_and_a_refusal_is_summed_up() {
    let app = TestApp::spawn().await;
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let c = create(
        &app,
        &giulia,
        "Consumer",
        json!({ "name": "Anagrafe regionale" }),
        201,
    )
    .await;
    let page = format!("{COLL}/clients/{}", c["id"].as_str().unwrap());
    // Not a member yet: told so in the page's language, with the way on.
    let r = app
        .post(&page)
        .bearer_auth(&giulia)
        .form(&[
            ("action", "add_key"),
            ("name", "Prima"),
            ("key", &ClientKey::generate().public_pem),
        ])
        .send()
        .await
        .unwrap();
    let text = testkit::visible_text(&r.text().await.unwrap());
    assert!(text.contains("aggiungiti ai membri del client"), "{text}");
    assert!(!text.contains("add yourself"), "{text}");
    let giulia_id = user_id(&app, &giulia).await;
    post_ok(
        &app,
        &giulia,
        &format!(
            "{COLL}/api/clients/{}/users/{giulia_id}",
            c["id"].as_str().unwrap()
        ),
    )
    .await;
    let multipart = |parts: &[(&str, Option<&str>, &str)]| {
        let mut body = String::new();
        for (name, file, value) in parts {
            body.push_str("--B0und4ry\r\n");
            match file {
                Some(file) => body.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )),
                None => body.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                )),
            }
            body.push_str(value);
            body.push_str("\r\n");
        }
        body.push_str("--B0und4ry--\r\n");
        body
    };
    let send = |body: String| {
        app.post(&page)
            .bearer_auth(&giulia)
            .header("content-type", "multipart/form-data; boundary=B0und4ry")
            .body(body)
            .send()
    };
    let by_file = ClientKey::generate();
    let r = send(multipart(&[
        ("action", None, "add_key"),
        ("name", None, "Dal file"),
        ("key_file", Some("key.pub"), &by_file.public_pem),
        ("key", None, ""),
    ]))
    .await
    .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    // A file input left empty sends an empty file: the pasted key is taken.
    let pasted = ClientKey::generate();
    let r = send(multipart(&[
        ("action", None, "add_key"),
        ("name", None, "Incollata"),
        ("key_file", Some(""), ""),
        ("key", None, &pasted.public_pem),
    ]))
    .await
    .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let keys = get_ok(
        &app,
        &giulia,
        &format!("{COLL}/api/clients/{}/keys", c["id"].as_str().unwrap()),
    )
    .await;
    let kids: BTreeSet<String> = keys["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("{keys}"))
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kids, BTreeSet::from([by_file.kid, pasted.kid]));

    // The private key file by mistake: refused in Italian only, summed up at the top.
    let r = send(multipart(&[
        ("action", None, "add_key"),
        ("name", None, "Sbagliata"),
        ("key_file", Some("key.pem"), &pasted.private_pem),
    ]))
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    let text = testkit::visible_text(&html);
    assert!(text.contains("Questa è una chiave privata"), "{text}");
    assert!(!text.contains("private key"), "{text}");
    assert!(html.contains("data-error-summary"), "{html}");
    assert!(html.contains("href=\"#key_file\""), "{html}");
}
