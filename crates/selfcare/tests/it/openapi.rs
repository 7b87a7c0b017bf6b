//! `/openapi.json` as served: every operation of every context's document, nothing else, and
//! no two contexts giving the same schema name to different shapes (the merged document keeps
//! one of them, which would silently describe the other context's answers wrongly).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use testkit::{Fetch, TestApp};
use utoipa::openapi::OpenApi;

fn contexts() -> Vec<(&'static str, OpenApi)> {
    vec![
        ("reserved-area", reserved_area::openapi()),
        ("io-backoffice", io_backoffice::openapi()),
        ("interop", interop::openapi::openapi()),
    ]
}

#[tokio::test]
async fn the_served_document_holds_every_context_operation_and_nothing_else() {
    let app = TestApp::spawn().await;
    let served: Value = app.get("/openapi.json").fetch_json().await;
    let served_doc: OpenApi = serde_json::from_value(served.clone()).unwrap();
    let served_ops: BTreeSet<(String, String)> = platform::openapi::operations(&served_doc)
        .into_iter()
        .collect();
    let mut expected = BTreeSet::new();
    for (name, doc) in contexts() {
        let ops = platform::openapi::operations(&doc);
        assert!(!ops.is_empty(), "{name} documents no operation");
        expected.extend(ops);
    }
    let missing: Vec<_> = expected.difference(&served_ops).collect();
    let extra: Vec<_> = served_ops.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing from /openapi.json: {missing:?}; not of any context: {extra:?}"
    );
    // Every operation answers something documented, with a schema for a JSON body.
    for (path, item) in served["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object();
            assert!(
                responses.is_some_and(|r| !r.is_empty()),
                "{method} {path} documents no answer"
            );
            for (status, answer) in responses.unwrap() {
                if let Some(content) = answer["content"].as_object() {
                    for (media, body) in content {
                        assert!(
                            body["schema"].is_object(),
                            "{method} {path} {status} {media}: no schema"
                        );
                    }
                }
            }
        }
    }
    let swagger = app.get("/docs/").send().await.unwrap();
    assert_eq!(swagger.status(), 200);
}

#[test]
fn contexts_do_not_give_one_schema_name_to_two_shapes() {
    let mut seen: BTreeMap<String, (&'static str, Value)> = BTreeMap::new();
    let mut clashes = Vec::new();
    for (name, doc) in contexts() {
        let doc = serde_json::to_value(&doc).unwrap();
        let schemas = doc["components"]["schemas"].as_object().cloned();
        for (schema, shape) in schemas.unwrap_or_default() {
            match seen.get(&schema) {
                Some((other, known)) if *known != shape => {
                    clashes.push(format!("{schema}: {other} and {name} differ"))
                }
                Some(_) => {}
                None => {
                    seen.insert(schema, (name, shape));
                }
            }
        }
    }
    assert!(clashes.is_empty(), "{clashes:#?}");
}
