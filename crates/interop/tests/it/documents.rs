//! The producer's files and the version lifecycle through the JSON API: every upload check and
//! every publication rule answers 4xx with the real platform's error name, never 5xx.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use testkit::TestApp;

use crate::{
    COLL, COMUNE, LUCA, PAGOPA, PAOLO, call, expect, get_ok, give_luca_collaudo, member,
    post_created, post_ok,
};

/// An OpenAPI 3 interface in YAML whose only server is `server`.
pub fn openapi(server: &str) -> String {
    format!(
        "openapi: 3.0.3\ninfo:\n  title: Registro delle prove\n  version: 1.0.0\nservers:\n  \
         - url: {server}\n    description: Collaudo\npaths:\n  /prove/{{id}}:\n    get:\n      \
         operationId: getProva\n      parameters:\n        - name: id\n          in: path\n          \
         required: true\n          schema:\n            type: string\n      responses:\n        \
         '200':\n          description: La prova\n"
    )
}

/// Uploads `file` (name, content type, bytes) to the version at `version` (its API path) as
/// `kind`: the status and the answer.
pub async fn upload(
    app: &TestApp,
    token: &str,
    version: &str,
    kind: &str,
    pretty_name: &str,
    file: (&str, &str, Vec<u8>),
) -> (StatusCode, Value) {
    let (name, content_type, bytes) = file;
    let part = Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(content_type)
        .unwrap();
    let form = Form::new()
        .text("kind", kind.to_string())
        .text("prettyName", pretty_name.to_string())
        .part("doc", part);
    let r = app
        .post(&format!("{version}/documents"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

const SWAGGER_2: &str = "swagger: '2.0'\ninfo:\n  title: Vecchia\n  version: '1'\nhost: api.example.it\n\
                         basePath: /v1\npaths: {}\n";

const WSDL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"
             xmlns:s12="http://schemas.xmlsoap.org/wsdl/soap12/"
             xmlns:tns="urn:prove" targetNamespace="urn:prove">
  <portType name="ProvePort"/>
  <binding name="ProveBinding" type="tns:ProvePort"/>
  <service name="ProveService">
    <port name="ProvePort" binding="tns:ProveBinding">
      <s12:address location="https://soap.example.it/prove"/>
    </port>
  </service>
</definitions>"#;

/// A new e-service of Paolo's (PagoPA, Collaudo) with its first version as a draft: the
/// e-service's API path and the version's.
async fn draft(app: &TestApp, paolo: &str, name: &str, technology: &str) -> (String, String) {
    let e = post_created(
        app,
        paolo,
        &format!("{COLL}/api/eservices"),
        &json!({
            "name": name, "description": "Un e-service per provare i documenti.",
            "technology": technology, "mode": "DELIVER",
            "descriptor": {
                "audience": [], "voucherLifespan": 600, "dailyCallsPerConsumer": 10,
                "dailyCallsTotal": 100, "agreementApprovalPolicy": "MANUAL",
            },
        }),
    )
    .await;
    assert_eq!(e["descriptors"][0]["state"], "DRAFT", "{e}");
    assert_eq!(e["descriptors"][0]["version"], "1", "{e}");
    let base = format!("{COLL}/api/eservices/{}", e["id"].as_str().unwrap());
    let version = format!(
        "{base}/descriptors/{}",
        e["descriptors"][0]["id"].as_str().unwrap()
    );
    (base, version)
}

fn refused(got: (StatusCode, Value), status: u16, code: &str) {
    let (s, v) = got;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (status, Some(code)),
        "{v}"
    );
}

#[tokio::test]
async fn every_upload_check_refuses_with_its_name_and_an_interface_gives_the_server_urls() {
    let app = TestApp::spawn().await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let (base, version) = draft(&app, &paolo, "Registro delle prove", "REST").await;
    let yaml = |text: &str| ("openapi.yaml", "application/yaml", text.as_bytes().to_vec());
    let up =
        |kind: &'static str, pretty: &'static str, file: (&'static str, &'static str, Vec<u8>)| {
            let (app, paolo, version) = (&app, &paolo, &version);
            async move { upload(app, paolo, version, kind, pretty, file).await }
        };

    // The checks, each with its name, in the order of the real platform.
    refused(
        up(
            "INTERFACE",
            "Interfaccia",
            ("prove.wsdl", "application/xml", WSDL.into()),
        )
        .await,
        400,
        "invalidContentTypeDetected",
    );
    refused(
        up(
            "DOCUMENT",
            "Immagine",
            ("foto.png", "image/png", vec![0x89, b'P', b'N', b'G']),
        )
        .await,
        400,
        "invalidContentTypeDetected",
    );
    let big = format!(
        "{}\n#{}",
        openapi("https://api.example.it/v1"),
        "x".repeat(3 << 20)
    );
    refused(
        up("INTERFACE", "Interfaccia", yaml(&big)).await,
        400,
        "contentTooLargeError",
    );
    refused(
        up(
            "DOCUMENT",
            "Manuale",
            ("manuale.txt", "text/plain", vec![b'a'; (10 << 20) + 1]),
        )
        .await,
        400,
        "contentTooLargeError",
    );
    refused(
        up(
            "DOCUMENT",
            "Programma",
            ("setup.exe", "application/octet-stream", b"MZ".to_vec()),
        )
        .await,
        400,
        "invalidFileUploadError",
    );
    refused(
        up(
            "DOCUMENT",
            "Finto PDF",
            ("finto.pdf", "application/pdf", b"non un pdf".to_vec()),
        )
        .await,
        400,
        "invalidFileUploadError",
    );
    refused(
        up("INTERFACE", "Interfaccia", yaml(SWAGGER_2)).await,
        400,
        "openapiVersionNotRecognized",
    );
    let no_servers = openapi("https://x.it").replace(
        "servers:\n  - url: https://x.it\n    description: Collaudo\n",
        "",
    );
    refused(
        up("INTERFACE", "Interfaccia", yaml(&no_servers)).await,
        400,
        "invalidEserviceInterfaceFileDetected",
    );
    refused(
        up(
            "INTERFACE",
            "Interfaccia",
            yaml(&openapi("ftp://files.example.it/v1")),
        )
        .await,
        400,
        "invalidServerUrl",
    );
    // Nothing refused was kept; a part missing names its field.
    let e = get_ok(&app, &paolo, &base).await;
    assert_eq!(e["descriptors"][0]["docs"], json!([]), "{e}");
    assert_eq!(e["descriptors"][0]["interface"], Value::Null, "{e}");
    let r = app
        .post(&format!("{version}/documents"))
        .bearer_auth(&paolo)
        .multipart(Form::new().text("kind", "INTERFACE"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        testkit::strings_of(&v["invalidParams"], "name").contains(&"doc"),
        "{v}"
    );

    // Publishing needs the interface first.
    let publish = format!("{version}/publish");
    refused(
        call(&app, &paolo, "POST", &publish, None).await,
        400,
        "eServiceDescriptorWithoutInterface",
    );

    // The interface: its servers become the version's server URLs; one only.
    let (s, doc) = up(
        "INTERFACE",
        "Interfaccia REST",
        yaml(&openapi("https://api.example.it/prove/v1")),
    )
    .await;
    assert_eq!(s, 201, "{doc}");
    assert_eq!(doc["kind"], "INTERFACE");
    assert_eq!(doc["checksum"].as_str().unwrap().len(), 64);
    let d = &get_ok(&app, &paolo, &base).await["descriptors"][0];
    assert_eq!(
        d["serverUrls"],
        json!(["https://api.example.it/prove/v1"]),
        "{d}"
    );
    assert_eq!(d["interface"]["prettyName"], "Interfaccia REST");
    refused(
        up(
            "INTERFACE",
            "Altra interfaccia",
            yaml(&openapi("https://api.example.it/v2")),
        )
        .await,
        409,
        "interfaceAlreadyExists",
    );
    // Documents: names and contents once each.
    let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n".to_vec();
    let (s, manual) = up(
        "DOCUMENT",
        "Manuale d'uso",
        ("manuale.pdf", "application/pdf", pdf.clone()),
    )
    .await;
    assert_eq!(s, 201, "{manual}");
    refused(
        up(
            "DOCUMENT",
            "MANUALE D'USO",
            ("altro.md", "text/markdown", b"# Altro".to_vec()),
        )
        .await,
        409,
        "documentPrettyNameDuplicate",
    );
    refused(
        up(
            "DOCUMENT",
            "Copia del manuale",
            ("copia.pdf", "application/pdf", pdf),
        )
        .await,
        409,
        "checksumDuplicate",
    );

    // Publication: the audience, then the personal-data flag.
    refused(
        call(&app, &paolo, "POST", &publish, None).await,
        400,
        "audienceCannotBeEmpty",
    );
    expect(
        &app,
        &paolo,
        "PUT",
        &version,
        Some(&json!({
            "audience": ["https://api.example.it/prove"], "voucherLifespan": 600,
            "dailyCallsPerConsumer": 10, "dailyCallsTotal": 100,
            "agreementApprovalPolicy": "MANUAL",
        })),
        200,
    )
    .await;
    refused(
        call(&app, &paolo, "POST", &publish, None).await,
        400,
        "missingPersonalDataFlag",
    );
    // Another institution sees nothing of a draft, its files included.
    give_luca_collaudo(&app, "admin").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let interface = format!("{version}/documents/{}", doc["id"].as_str().unwrap());
    assert_eq!(call(&app, &luca, "GET", &interface, None).await.0, 404);
    expect(
        &app,
        &paolo,
        "PUT",
        &base,
        Some(&json!({
            "name": "Registro delle prove", "description": "Un e-service per provare i documenti.",
            "technology": "REST", "mode": "DELIVER", "personalData": false,
        })),
        200,
    )
    .await;
    let published = post_ok(&app, &paolo, &publish).await;
    assert_eq!(published["state"], "PUBLISHED");
    // Each step is in PagoPA's activity log, told as a sentence.
    let ra = testkit::logged_in(&app, PAOLO).await;
    let pagopa = crate::institution_id(&app, PAGOPA).await;
    let html = testkit::read_page(
        &ra,
        &app,
        &format!("/dashboard/{pagopa}/audit?kind=interop."),
    )
    .await;
    let log = testkit::visible_text(&html);
    for words in [
        "ha creato l'e-service « Registro delle prove » in Interoperabilità Collaudo",
        "ha caricato « Interfaccia REST » nella versione 1 dell'e-service « Registro delle prove »",
        "ha caricato « Manuale d'uso » nella versione 1",
        // The demo's own e-service, published by PagoPA's admin.
        "Paolo Esposito ha pubblicato la versione 1 dell'e-service « SEND - UAT (Piattaforma Notifiche) »",
        "ha modificato la versione 1 dell'e-service « Registro delle prove »",
        "ha modificato l'e-service « Registro delle prove »",
        "ha pubblicato la versione 1 dell'e-service « Registro delle prove » in Interoperabilità Collaudo",
    ] {
        assert!(log.contains(words), "{words:?} not in {log}");
    }
    assert!(testkit::codes_in(&log).is_empty(), "{log}");

    // Published: consumers download the interface as it was uploaded.
    let r = app.get(&interface).bearer_auth(&luca).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/yaml");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("openapi.yaml")
    );
    assert_eq!(
        r.text().await.unwrap(),
        openapi("https://api.example.it/prove/v1")
    );
    // The interface is frozen; documents still come and go; others change nothing.
    refused(
        up(
            "INTERFACE",
            "Nuova interfaccia",
            yaml(&openapi("https://api.example.it/v3")),
        )
        .await,
        400,
        "notValidDescriptor",
    );
    refused(
        call(&app, &paolo, "DELETE", &interface, None).await,
        400,
        "notValidDescriptor",
    );
    let manual = format!("{version}/documents/{}", manual["id"].as_str().unwrap());
    // (Luca may manage e-services, but not PagoPA's: not found.)
    assert_eq!(call(&app, &luca, "DELETE", &manual, None).await.0, 404);
    assert_eq!(call(&app, &paolo, "DELETE", &manual, None).await.0, 204);
    assert_eq!(call(&app, &paolo, "GET", &manual, None).await.0, 404);
}

#[tokio::test]
async fn a_wsdl_gives_its_soap_addresses_and_a_wsdl_without_one_is_refused() {
    let app = TestApp::spawn().await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let (base, version) = draft(&app, &paolo, "Registro SOAP", "SOAP").await;
    let no_address = WSDL.replace(
        r#"<s12:address location="https://soap.example.it/prove"/>"#,
        "",
    );
    refused(
        upload(
            &app,
            &paolo,
            &version,
            "INTERFACE",
            "WSDL",
            ("prove.wsdl", "text/xml", no_address.into()),
        )
        .await,
        400,
        "interfaceExtractingSoapFieldValueError",
    );
    refused(
        upload(
            &app,
            &paolo,
            &version,
            "INTERFACE",
            "WSDL",
            ("prove.wsdl", "text/xml", b"<definitions".to_vec()),
        )
        .await,
        400,
        "soapFileParsingError",
    );
    refused(
        upload(
            &app,
            &paolo,
            &version,
            "INTERFACE",
            "WSDL",
            (
                "prove.yaml",
                "application/yaml",
                openapi("https://x.it").into(),
            ),
        )
        .await,
        400,
        "invalidContentTypeDetected",
    );
    let (s, v) = upload(
        &app,
        &paolo,
        &version,
        "INTERFACE",
        "WSDL",
        ("prove.wsdl", "text/xml", WSDL.into()),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let e = get_ok(&app, &paolo, &base).await;
    assert_eq!(
        e["descriptors"][0]["serverUrls"],
        json!(["https://soap.example.it/prove"])
    );
    // A new technology drops the drafts' interfaces (a WSDL does not describe a REST service).
    let e = expect(
        &app,
        &paolo,
        "PUT",
        &base,
        Some(&json!({
            "name": "Registro SOAP", "description": "Un e-service per provare i documenti.",
            "technology": "REST", "mode": "DELIVER", "personalData": true,
        })),
        200,
    )
    .await;
    assert_eq!(e["descriptors"][0]["interface"], Value::Null, "{e}");
    assert_eq!(e["descriptors"][0]["serverUrls"], json!([]), "{e}");
}

#[tokio::test]
async fn versions_follow_the_lifecycle_of_the_real_platform() {
    let app = TestApp::spawn().await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;

    // Deleting the only draft deletes the e-service.
    let (base, version) = draft(&app, &paolo, "Registro effimero", "REST").await;
    assert_eq!(call(&app, &paolo, "DELETE", &version, None).await.0, 204);
    assert_eq!(call(&app, &paolo, "GET", &base, None).await.0, 404);

    // Names are unique per producer, in any case.
    let (base, version) = draft(&app, &paolo, "Registro delle versioni", "REST").await;
    refused(
        call(
            &app,
            &paolo,
            "POST",
            &format!("{COLL}/api/eservices"),
            Some(&json!({"name": "REGISTRO delle versioni", "description": "Lo stesso nome, in maiuscolo.", "technology": "REST"})),
        )
        .await,
        409,
        "eServiceNameDuplicateForProducer",
    );
    // One draft at a time.
    let body = json!({
        "audience": ["https://api.example.it/versioni"], "voucherLifespan": 600,
        "dailyCallsPerConsumer": 10, "dailyCallsTotal": 100, "agreementApprovalPolicy": "AUTOMATIC",
    });
    refused(
        call(
            &app,
            &paolo,
            "POST",
            &format!("{base}/descriptors"),
            Some(&body),
        )
        .await,
        400,
        "draftDescriptorAlreadyExists",
    );
    expect(&app, &paolo, "PUT", &version, Some(&body), 200).await;
    let (s, v) = upload(
        &app,
        &paolo,
        &version,
        "INTERFACE",
        "Interfaccia",
        (
            "openapi.yaml",
            "application/yaml",
            openapi("https://api.example.it/versioni/v1").into(),
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    expect(
        &app,
        &paolo,
        "PUT",
        &base,
        Some(&json!({
            "name": "Registro delle versioni", "description": "Un e-service per provare i documenti.",
            "technology": "REST", "mode": "DELIVER", "personalData": true,
        })),
        200,
    )
    .await;
    post_ok(&app, &paolo, &format!("{version}/publish")).await;

    // Published: lifespan, calls and policy change in place; name and description too.
    let d = post_ok_with(
        &app,
        &paolo,
        &format!("{version}/update"),
        &json!({"voucherLifespan": 120, "dailyCallsPerConsumer": 50, "dailyCallsTotal": 500}),
    )
    .await;
    assert_eq!(
        (
            &d["voucherLifespan"],
            &d["dailyCallsPerConsumer"],
            &d["dailyCallsTotal"]
        ),
        (&json!(120), &json!(50), &json!(500))
    );
    let (s, v) = call(
        &app,
        &paolo,
        "POST",
        &format!("{version}/update"),
        Some(
            &json!({"voucherLifespan": 120, "dailyCallsPerConsumer": 501, "dailyCallsTotal": 500}),
        ),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    let d = post_ok_with(
        &app,
        &paolo,
        &format!("{version}/agreementApprovalPolicy/update"),
        &json!({"agreementApprovalPolicy": "MANUAL"}),
    )
    .await;
    assert_eq!(d["agreementApprovalPolicy"], "MANUAL");
    let e = post_ok_with(
        &app,
        &paolo,
        &format!("{base}/name/update"),
        &json!({"name": "Registro delle versioni v2"}),
    )
    .await;
    assert_eq!(e["name"], "Registro delle versioni v2");
    // The whole e-service is frozen, the version's draft fields too.
    assert_eq!(
        call(&app, &paolo, "PUT", &version, Some(&body)).await.0,
        409
    );

    // Version 2 is numbered after 1; publishing it archives 1 (no agreement uses it).
    let v2 = post_created(&app, &paolo, &format!("{base}/descriptors"), &body).await;
    assert_eq!(v2["version"], "2");
    let v2 = format!("{base}/descriptors/{}", v2["id"].as_str().unwrap());
    let (s, v) = upload(
        &app,
        &paolo,
        &v2,
        "INTERFACE",
        "Interfaccia",
        (
            "openapi.yaml",
            "application/yaml",
            openapi("https://api.example.it/versioni/v2").into(),
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    post_ok(&app, &paolo, &format!("{v2}/publish")).await;
    let e = get_ok(&app, &paolo, &base).await;
    let states: Vec<&str> = e["descriptors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["ARCHIVED", "PUBLISHED"]);
    // An archived version is updated no more.
    refused(
        call(
            &app,
            &paolo,
            "POST",
            &format!("{version}/update"),
            Some(
                &json!({"voucherLifespan": 120, "dailyCallsPerConsumer": 5, "dailyCallsTotal": 5}),
            ),
        )
        .await,
        409,
        "descriptor_not_published",
    );
}

async fn post_ok_with(app: &TestApp, token: &str, path: &str, body: &Value) -> Value {
    expect(app, token, "POST", path, Some(body), 200).await
}
