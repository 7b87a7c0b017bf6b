//! The manage API against the reference's OpenAPI (`reference/io-services-cms` in the repository): every
//! operation with a JSON answer is called for real and its answer checked field by field —
//! every required property present, every property emitted documented, types, enums,
//! patterns and bounds, recursively — and the status codes of the others are the documented
//! ones.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use serde_json::{Value, json};
use testkit::TestApp;

use crate::{COMUNE, MARIO, Who, bo, call, manage_keys, operator, png_base64};

/// The reference lives in the repository (`reference/io-services-cms`, see its README).
fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../reference/io-services-cms")
}

const FILES: [&str; 3] = [
    "openapi.yaml",
    "services-cms-schemas.yaml",
    "commons-schemas.yaml",
];

/// The reference's three files, parsed.
struct Reference {
    docs: HashMap<&'static str, Value>,
    /// The path prefix of the reference's server (`/api/v1/manage`).
    base: String,
}

impl Reference {
    fn load() -> Reference {
        let dir = reference_dir();
        let mut docs = HashMap::new();
        for file in FILES {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "the reference OpenAPI is needed by this test and is missing: {} ({e}); \
                     it lives in reference/io-services-cms in the repository",
                    path.display()
                )
            });
            let doc: Value = serde_norway::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()));
            docs.insert(file, doc);
        }
        let server = docs["openapi.yaml"]["servers"][0]["url"]
            .as_str()
            .unwrap()
            .to_string();
        let base = server
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
            .unwrap();
        Reference { docs, base }
    }

    /// Follows `$ref`s (also across files) to the schema they name.
    fn resolve<'a>(&'a self, mut file: &'a str, mut schema: &'a Value) -> (&'a str, &'a Value) {
        for _ in 0..32 {
            let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
                return (file, schema);
            };
            let (target, pointer) = r.split_once('#').unwrap_or((r, ""));
            if !target.is_empty() {
                file = FILES
                    .iter()
                    .find(|f| **f == target)
                    .unwrap_or_else(|| panic!("$ref to an unknown file: {r}"));
            }
            schema = self.docs[file]
                .pointer(pointer)
                .unwrap_or_else(|| panic!("$ref {r} (from {file}) names nothing"));
        }
        panic!("$ref loop in {file}");
    }

    /// The operation with this id: its method, path (as in the reference) and definition.
    fn operation(&self, id: &str) -> (String, String, &Value) {
        let paths = self.docs["openapi.yaml"]["paths"].as_object().unwrap();
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                if op["operationId"] == id {
                    return (method.to_uppercase(), path.clone(), op);
                }
            }
        }
        panic!("no operation {id} in the reference");
    }

    /// Checks `status` is documented for the operation; returns the JSON schema of that
    /// answer, if it has one.
    fn response(&self, id: &str, status: u16) -> Option<(&str, &Value)> {
        let (_, _, op) = self.operation(id);
        let Some(response) = op["responses"].get(status.to_string()) else {
            panic!(
                "{id} answered {status}, which the reference does not document (it has {:?})",
                op["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .collect::<Vec<_>>()
            );
        };
        let (file, response) = self.resolve("openapi.yaml", response);
        response["content"]
            .get("application/json")
            .map(|c| self.resolve(file, &c["schema"]))
    }

    /// Every property a schema documents (through `$ref` and `allOf`) and the required ones.
    fn collect<'a>(
        &'a self,
        file: &'a str,
        schema: &'a Value,
        props: &mut BTreeMap<String, Vec<(&'a str, &'a Value)>>,
        required: &mut BTreeSet<String>,
    ) {
        let (file, schema) = self.resolve(file, schema);
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for member in all {
                self.collect(file, member, props, required);
            }
        }
        if let Some(p) = schema.get("properties").and_then(Value::as_object) {
            for (name, s) in p {
                props.entry(name.clone()).or_default().push((file, s));
            }
        }
        if let Some(r) = schema.get("required").and_then(Value::as_array) {
            required.extend(r.iter().map(|n| n.as_str().unwrap().to_string()));
        }
    }

    /// Checks `v` against `schema`, adding one line per problem to `errors`.
    fn check(&self, file: &str, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
        self.check_value(file, schema, v, at, errors);
        if let Some(obj) = v.as_object() {
            let mut props = BTreeMap::new();
            let mut required = BTreeSet::new();
            self.collect(file, schema, &mut props, &mut required);
            for name in &required {
                if !obj.contains_key(name) {
                    errors.push(format!("{at}.{name}: required, missing"));
                }
            }
            for (name, value) in obj {
                match props.get(name) {
                    None => errors.push(format!(
                        "{at}.{name}: not documented (documented: {:?})",
                        props.keys().collect::<Vec<_>>()
                    )),
                    Some(schemas) => {
                        for (f, s) in schemas {
                            self.check(f, s, value, &format!("{at}.{name}"), errors);
                        }
                    }
                }
            }
        }
    }

    /// Everything but the properties of objects: type, enum, pattern, bounds, array items.
    fn check_value(
        &self,
        file: &str,
        schema: &Value,
        v: &Value,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let (file, schema) = self.resolve(file, schema);
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for member in all {
                self.check_value(file, member, v, at, errors);
            }
        }
        let mut fail = |what: String| errors.push(format!("{at}: {what} (value {v})"));
        if let Some(t) = schema.get("type").and_then(Value::as_str) {
            let ok = match t {
                "string" => v.is_string(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                "array" => v.is_array(),
                "object" => v.is_object(),
                other => panic!("type {other} in the reference: teach the validator"),
            };
            if !ok {
                fail(format!("must be {t}"));
                return;
            }
        } else if v.is_null() {
            fail("null is not documented".into());
            return;
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array)
            && !options.contains(v)
        {
            fail(format!("must be one of {options:?}"));
        }
        if let Some(s) = v.as_str() {
            if let Some(p) = schema.get("pattern").and_then(Value::as_str)
                && !regex::Regex::new(p).unwrap().is_match(s)
            {
                fail(format!("must match {p}"));
            }
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && (s.chars().count() as u64) < min
            {
                fail(format!("must have at least {min} characters"));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && (s.chars().count() as u64) > max
            {
                fail(format!("must have at most {max} characters"));
            }
        }
        if let Some(n) = v.as_f64() {
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                fail(format!("must be at least {min}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
                let exclusive = schema.get("exclusiveMaximum") == Some(&Value::Bool(true));
                if n > max || (exclusive && n == max) {
                    fail(format!("must be at most {max}"));
                }
            }
        }
        if let (Some(items), Some(list)) = (schema.get("items"), v.as_array()) {
            for (i, item) in list.iter().enumerate() {
                self.check(file, items, item, &format!("{at}[{i}]"), errors);
            }
        }
    }

    /// Checks an answer of operation `id` against its documented schema.
    fn conforms(&self, id: &str, status: u16, body: &Value) {
        let (file, schema) = self
            .response(id, status)
            .unwrap_or_else(|| panic!("{id} {status} documents no JSON answer"));
        let mut errors = Vec::new();
        self.check(file, schema, body, id, &mut errors);
        assert!(
            errors.is_empty(),
            "{id} does not match the reference:\n{}\n{body:#}",
            errors.join("\n")
        );
    }

    /// Checks a request body against the operation's documented request schema.
    fn request_conforms(&self, id: &str, body: &Value) {
        let (_, _, op) = self.operation(id);
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        let mut errors = Vec::new();
        self.check("openapi.yaml", schema, body, id, &mut errors);
        assert!(
            errors.is_empty(),
            "the test's {id} payload does not match the reference:\n{}",
            errors.join("\n")
        );
    }
}

/// A payload that sets every documented field.
fn full_payload(name: &str) -> Value {
    json!({
        "name": name,
        "description": "Avvisi di pagamento e scadenze della tassa sui rifiuti.",
        "organization": {
            "name": "Comune di Roccabella",
            "fiscal_code": COMUNE,
            "department_name": "Ufficio tributi",
        },
        "require_secure_channel": true,
        "authorized_recipients": ["AAAAAA00A00A000A", "RSSMRA85T10A562S"],
        "authorized_cidrs": ["10.0.0.0/8", "192.0.2.7"],
        "max_allowed_payment_amount": 9_999_999_999_i64,
        "suitable_for_minors": false,
        "metadata": {
            "scope": "LOCAL",
            "topic_id": 10,
            "web_url": "https://www.comune.roccabella.it",
            "app_ios": "https://apps.apple.com/it/app/roccabella/id1",
            "app_android": "https://play.google.com/store/apps/details?id=it.roccabella",
            "tos_url": "https://www.comune.roccabella.it/termini",
            "privacy_url": "https://www.comune.roccabella.it/privacy",
            "address": "Piazza del Municipio 1, Roccabella",
            "phone": "06 1234567",
            "email": "tributi@comune.roccabella.it",
            "pec": "tributi@pec.comune.roccabella.it",
            "cta": "---\nit:\n  cta_1:\n    text: \"Paga\"\n    action: \"iohandledlink://https://www.comune.roccabella.it\"\n---",
            "token_name": "roccabella",
            "support_url": "https://www.comune.roccabella.it/aiuto",
        },
    })
}

/// Calls an operation of the reference by its id: its method and path, with the path's
/// parameters filled in.
async fn invoke(
    app: &TestApp,
    reference: &Reference,
    who: &Who,
    id: &str,
    params: &[(&str, &str)],
    query: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let (method, mut path, _) = reference.operation(id);
    for (name, value) in params {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    assert!(!path.contains('{'), "{id}: unfilled parameter in {path}");
    let (s, v) = call(
        app,
        who,
        &method,
        &format!("{}{path}{query}", reference.base),
        body,
    )
    .await;
    (s.as_u16(), v)
}

#[tokio::test]
async fn the_manage_api_answers_as_the_reference_documents() {
    let reference = Reference::load();
    assert_eq!(reference.base, crate::MANAGE);
    let app = TestApp::spawn().await;
    let mario = bo(&app, MARIO, COMUNE).await;
    let key = manage_keys(&app, &mario).await.who();
    let op = operator(&app).await;
    let r = &reference;
    let app = &app;

    let (s, v) = invoke(app, r, &Who::Anonymous, "info", &[], "", None).await;
    assert_eq!(s, 200);
    r.conforms("info", s, &v);
    let (s, v) = invoke(app, r, &Who::Anonymous, "getServiceTopics", &[], "", None).await;
    assert_eq!(s, 200);
    r.conforms("getServiceTopics", s, &v);
    assert!(v["topics"].as_array().unwrap().len() > 10);

    // createService: 201, every field set.
    let payload = full_payload("Tassa sui rifiuti del Comune");
    r.request_conforms("createService", &payload);
    let (s, created) = invoke(app, r, &key, "createService", &[], "", Some(&payload)).await;
    assert_eq!(s, 201, "{created}");
    r.conforms("createService", s, &created);
    let id = created["id"].as_str().unwrap().to_string();
    let sid = [("serviceId", id.as_str())];
    // A minimal one too (the optional fields absent).
    let minimal = json!({
        "name": "Servizio minimo",
        "description": "Il minimo.",
        "organization": { "name": "Comune di Roccabella", "fiscal_code": COMUNE },
        "metadata": { "scope": "NATIONAL", "topic_id": 0 },
    });
    r.request_conforms("createService", &minimal);
    let (s, v) = invoke(app, r, &key, "createService", &[], "", Some(&minimal)).await;
    assert_eq!(s, 201, "{v}");
    r.conforms("createService", s, &v);
    let minimal_id = v["id"].as_str().unwrap().to_string();
    // It is rejected at review (no privacy policy): a status with a reason.
    let (s, _) = invoke(
        app,
        r,
        &key,
        "reviewService",
        &[("serviceId", &minimal_id)],
        "",
        Some(&json!({ "auto_publish": false })),
    )
    .await;
    assert_eq!(s, 204);

    // updateService: 200.
    let mut update = full_payload("Tassa sui rifiuti del Comune");
    update["suitable_for_minors"] = json!(true);
    r.request_conforms("updateService", &update);
    let (s, v) = invoke(app, r, &key, "updateService", &sid, "", Some(&update)).await;
    assert_eq!(s, 200, "{v}");
    r.conforms("updateService", s, &v);

    // The documented 204s of the lifecycle: review, explain, logo, release, unpublish.
    let (s, _) = invoke(
        app,
        r,
        &key,
        "reviewService",
        &sid,
        "",
        Some(&json!({ "auto_publish": false })),
    )
    .await;
    assert_eq!(s, 204);
    r.response("reviewService", s);
    // Submitted: another submission is the documented 409.
    let (s, _) = invoke(
        app,
        r,
        &key,
        "reviewService",
        &sid,
        "",
        Some(&json!({ "auto_publish": false })),
    )
    .await;
    assert_eq!(s, 409);
    r.response("reviewService", s);
    let (s, v) = invoke(
        app,
        r,
        &key,
        "explainService",
        &sid,
        "",
        Some(&json!({ "comment": "Il servizio riguarda i soli residenti." })),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    r.response("explainService", s);
    let (s, _) = call(
        app,
        &op,
        "POST",
        &format!("/io/api/review/{id}/approve"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, v) = invoke(
        app,
        r,
        &key,
        "updateServiceLogo",
        &sid,
        "",
        Some(&json!({ "logo": png_base64(512, 512) })),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    r.response("updateServiceLogo", s);
    let (s, _) = invoke(app, r, &key, "releaseService", &sid, "", None).await;
    assert_eq!(s, 204);
    r.response("releaseService", s);
    let (s, v) = invoke(app, r, &key, "getPublishedService", &sid, "", None).await;
    assert_eq!(s, 200);
    r.conforms("getPublishedService", s, &v);
    let (s, _) = invoke(app, r, &key, "unpublishService", &sid, "", None).await;
    assert_eq!(s, 204);
    r.response("unpublishService", s);
    let (s, v) = invoke(app, r, &key, "getPublishedService", &sid, "", None).await;
    assert_eq!(s, 200);
    r.conforms("getPublishedService", s, &v);
    assert_eq!(v["status"], "unpublished");
    // patchService: groups do not exist, the documented 400.
    let (s, _) = invoke(
        app,
        r,
        &key,
        "patchService",
        &sid,
        "",
        Some(&json!({ "metadata": { "group_id": "g1" } })),
    )
    .await;
    assert_eq!(s, 400);
    r.response("patchService", s);

    // getService, getServices (drafts, approved, rejected with a reason, unpublished).
    let (s, v) = invoke(app, r, &key, "getService", &sid, "", None).await;
    assert_eq!(s, 200);
    r.conforms("getService", s, &v);
    assert_eq!(v["status"]["value"], "approved");
    let (s, v) = invoke(
        app,
        r,
        &key,
        "getService",
        &[("serviceId", &minimal_id)],
        "",
        None,
    )
    .await;
    assert_eq!(s, 200);
    r.conforms("getService", s, &v);
    assert!(v["status"]["reason"].is_string(), "{v}");
    let (s, v) = invoke(app, r, &key, "getServices", &[], "?limit=100", None).await;
    assert_eq!(s, 200);
    r.conforms("getServices", s, &v);
    assert!(v["value"].as_array().unwrap().len() >= 2);
    let (s, _) = invoke(
        app,
        r,
        &key,
        "getService",
        &[("serviceId", "01NOSUCHSERVICE0000000000")],
        "",
        None,
    )
    .await;
    assert_eq!(s, 404);
    r.response("getService", s);

    // getServiceHistory, with and without a continuation token.
    for query in ["", "?limit=1", "?order=ASC&limit=100"] {
        let (s, v) = invoke(app, r, &key, "getServiceHistory", &sid, query, None).await;
        assert_eq!(s, 200);
        r.conforms("getServiceHistory", s, &v);
        if query == "?limit=1" {
            assert!(v["continuationToken"].is_string(), "{v}");
        }
    }

    // getServiceKeys, regenerateServiceKey.
    let (s, v) = invoke(app, r, &key, "getServiceKeys", &sid, "", None).await;
    assert_eq!(s, 200);
    r.conforms("getServiceKeys", s, &v);
    for kt in ["primary", "secondary"] {
        let (s, v) = invoke(
            app,
            r,
            &key,
            "regenerateServiceKey",
            &[("serviceId", &id), ("keyType", kt)],
            "",
            None,
        )
        .await;
        assert_eq!(s, 200);
        r.conforms("regenerateServiceKey", s, &v);
    }
    let (s, _) = invoke(
        app,
        r,
        &key,
        "regenerateServiceKey",
        &[("serviceId", &id), ("keyType", "tertiary")],
        "",
        None,
    )
    .await;
    assert_eq!(s, 400);
    r.response("regenerateServiceKey", s);

    // Without a key: the documented 401.
    for (op_id, params) in [
        ("getServices", &[][..]),
        ("getService", &sid[..]),
        ("getServiceKeys", &sid[..]),
    ] {
        let (s, _) = invoke(app, r, &Who::Anonymous, op_id, params, "", None).await;
        assert_eq!(s, 401, "{op_id}");
        r.response(op_id, s);
    }

    // deleteService: 204, then 404.
    let (s, _) = invoke(app, r, &key, "deleteService", &sid, "", None).await;
    assert_eq!(s, 204);
    r.response("deleteService", s);
    let (s, _) = invoke(app, r, &key, "getService", &sid, "", None).await;
    assert_eq!(s, 404);
}

#[test]
fn the_validator_catches_what_it_must() {
    let r = Reference::load();
    let root = json!({ "$ref": "#/components/schemas/ServiceLifecycle" });
    let (file, schema) = r.resolve("openapi.yaml", &root);
    let good = json!({
        "id": "01", "status": { "value": "draft" }, "version": 1,
        "last_update": "2024-01-01T00:00:00.000Z",
        "name": "n", "description": "d",
        "organization": { "name": "o", "fiscal_code": "00123456782" },
        "authorized_cidrs": ["10.0.0.0/8"],
        "metadata": { "scope": "LOCAL", "topic": { "id": 1, "name": "x" } },
    });
    let errors = |v: &Value| {
        let mut e = Vec::new();
        r.check(file, schema, v, "s", &mut e);
        e
    };
    assert_eq!(errors(&good), Vec::<String>::new());
    let bad: Vec<(&str, Value)> = vec![
        ("/status/value", json!("gone")),
        ("/organization/fiscal_code", json!("123")),
        ("/authorized_cidrs/0", json!("10.0.0.0/33")),
        ("/name", json!("")),
        ("/version", json!(1.5)),
        ("/metadata/scope", json!(null)),
    ];
    for (pointer, value) in bad {
        let mut v = good.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        assert!(!errors(&v).is_empty(), "{pointer}");
    }
    let mut v = good.clone();
    v["metadata"]["category"] = json!("STANDARD");
    assert!(errors(&v)[0].contains("not documented"), "{:?}", errors(&v));
    let mut v = good.clone();
    v.as_object_mut().unwrap().remove("organization");
    assert!(errors(&v)[0].contains("required"));
    let mut v = good;
    v["max_allowed_payment_amount"] = json!(10_000_000_000_i64);
    assert!(!errors(&v).is_empty());
}
