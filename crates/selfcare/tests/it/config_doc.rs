//! `docs/configuration.md` names every setting, and only settings: the keys of its tables are
//! compared with the leaves of `Settings::default()` serialized.

use std::collections::BTreeSet;

use serde_json::Value;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md");

/// Every leaf of `value` as a dotted path: objects recurse; arrays, scalars and nulls are
/// leaves.
fn leaf_keys(prefix: &str, value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (name, inner) in map {
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                leaf_keys(&path, inner, out);
            }
        }
        _ => {
            out.insert(prefix.to_string());
        }
    }
}

/// The backticked keys of the first column of the doc's tables whose first header is `key`.
fn documented_keys(markdown: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut in_key_table = false;
    for line in markdown.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            in_key_table = false;
            continue;
        }
        let first = line.split('|').nth(1).unwrap_or("").trim();
        if first == "key" {
            in_key_table = true;
            continue;
        }
        if !in_key_table || first.starts_with("---") {
            continue;
        }
        let mut rest = first;
        while let Some(start) = rest.find('`') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('`') else { break };
            keys.insert(after[..end].to_string());
            rest = &after[end + 1..];
        }
    }
    keys
}

#[test]
fn the_configuration_doc_names_every_setting_and_nothing_else() {
    let settings = serde_json::to_value(selfcare::Settings::default()).unwrap();
    let mut in_code = BTreeSet::new();
    leaf_keys("", &settings, &mut in_code);
    let markdown = std::fs::read_to_string(DOC).unwrap_or_else(|e| panic!("{DOC}: {e}"));
    let in_doc = documented_keys(&markdown);
    assert!(!in_code.is_empty() && !in_doc.is_empty());

    let undocumented: Vec<&String> = in_code.difference(&in_doc).collect();
    let unknown: Vec<&String> = in_doc.difference(&in_code).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "docs/configuration.md is out of step with selfcare::Settings\n\
         settings missing from the doc: {undocumented:?}\n\
         keys in the doc that are not settings: {unknown:?}"
    );
}

#[test]
fn the_doc_reader_takes_the_first_column_of_key_tables_only() {
    let md = "\
| key | default | meaning |
|---|---|---|
| `a.b` | `1` | one |
| `a.c` | `x` (see `a.b`) | two |

| variable | meaning |
|---|---|
| `SELFCARE_A__B` | not a key |
";
    let keys = documented_keys(md);
    let expected: BTreeSet<String> = ["a.b", "a.c"].iter().map(|s| s.to_string()).collect();
    assert_eq!(keys, expected);
}
