//! The service form, pure: what the form posts → the JSON payload the model reads (the same
//! rules as the API, so the page and the API can never disagree), the model's field paths →
//! the form's fields, and the model's messages in the person's language.

use std::collections::BTreeMap;

use platform::layout::Page;
use serde_json::{Map, Number, Value, json};

use crate::model::{Category, FieldError, METADATA_TEXT_FIELDS, ServiceData};

/// One optional text field of the metadata as the form shows it.
#[derive(Debug, Clone, Copy)]
pub struct MetaField {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `url`, `email`, `tel` or `textarea`.
    pub kind: &'static str,
    pub hint: Option<&'static str>,
}

/// The metadata text fields in the order of the form, with their labels.
pub const META_FIELDS: &[MetaField] = &[
    MetaField {
        name: "web_url",
        label: "io.fields.web_url",
        kind: "url",
        hint: None,
    },
    MetaField {
        name: "privacy_url",
        label: "io.fields.privacy_url",
        kind: "url",
        hint: Some("io.fields.privacy_url_hint"),
    },
    MetaField {
        name: "tos_url",
        label: "io.fields.tos_url",
        kind: "url",
        hint: None,
    },
    MetaField {
        name: "app_ios",
        label: "io.fields.app_ios",
        kind: "url",
        hint: None,
    },
    MetaField {
        name: "app_android",
        label: "io.fields.app_android",
        kind: "url",
        hint: None,
    },
    MetaField {
        name: "address",
        label: "io.fields.address",
        kind: "text",
        hint: None,
    },
    MetaField {
        name: "phone",
        label: "io.fields.phone",
        kind: "tel",
        hint: None,
    },
    MetaField {
        name: "email",
        label: "io.fields.email",
        kind: "email",
        hint: None,
    },
    MetaField {
        name: "pec",
        label: "io.fields.pec",
        kind: "email",
        hint: None,
    },
    MetaField {
        name: "support_url",
        label: "io.fields.support_url",
        kind: "url",
        hint: None,
    },
    MetaField {
        name: "cta",
        label: "io.fields.cta",
        kind: "textarea",
        hint: Some("io.fields.cta_hint"),
    },
    MetaField {
        name: "token_name",
        label: "io.fields.token_name",
        kind: "text",
        hint: Some("io.fields.token_name_hint"),
    },
];

pub fn meta_field(name: &str) -> Option<&'static MetaField> {
    META_FIELDS.iter().find(|f| f.name == name)
}

/// What the service form holds, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceForm {
    pub name: String,
    pub description: String,
    pub department_name: String,
    pub scope: String,
    pub topic_id: String,
    /// The metadata text fields, by name.
    pub metadata: BTreeMap<&'static str, String>,
    pub require_secure_channel: bool,
    pub suitable_for_minors: bool,
    /// One fiscal code per line.
    pub authorized_recipients: String,
    /// One address or CIDR per line.
    pub authorized_cidrs: String,
    pub max_allowed_payment_amount: String,
    /// The stored service's category, kept on edit (it is not a field of the form).
    pub category: Option<Category>,
}

fn checked(pairs: &[(String, String)], name: &str) -> bool {
    pairs
        .iter()
        .any(|(k, v)| k == name && matches!(v.as_str(), "on" | "true" | "1"))
}

impl ServiceForm {
    pub fn from_pairs(pairs: &[(String, String)]) -> ServiceForm {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        ServiceForm {
            name: get("name"),
            description: get("description"),
            department_name: get("department_name"),
            scope: get("scope"),
            topic_id: get("topic_id"),
            metadata: METADATA_TEXT_FIELDS
                .iter()
                .map(|f| (*f, get(f)))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
            require_secure_channel: checked(pairs, "require_secure_channel"),
            suitable_for_minors: checked(pairs, "suitable_for_minors"),
            authorized_recipients: get("authorized_recipients"),
            authorized_cidrs: get("authorized_cidrs"),
            max_allowed_payment_amount: get("max_allowed_payment_amount"),
            category: None,
        }
    }

    /// The form pre-filled with a stored service.
    pub fn from_data(d: &ServiceData) -> ServiceForm {
        let m = &d.metadata;
        ServiceForm {
            name: d.name.clone(),
            description: d.description.clone(),
            department_name: d.department_name.clone().unwrap_or_default(),
            scope: m.scope.as_str().to_string(),
            topic_id: m.topic_id.map(|t| t.to_string()).unwrap_or_default(),
            metadata: METADATA_TEXT_FIELDS
                .iter()
                .filter_map(|f| m.text(f).map(|v| (*f, v.to_string())))
                .collect(),
            require_secure_channel: d.require_secure_channel,
            suitable_for_minors: d.suitable_for_minors,
            authorized_recipients: d.authorized_recipients.join("\n"),
            authorized_cidrs: d.authorized_cidrs.join("\n"),
            max_allowed_payment_amount: d.max_allowed_payment_amount.to_string(),
            category: Some(m.category),
        }
    }

    pub fn meta(&self, name: &str) -> &str {
        self.metadata.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn recipients(&self) -> Vec<String> {
        entries(&self.authorized_recipients)
            .into_iter()
            .map(|e| e.to_uppercase())
            .collect()
    }

    pub fn cidrs(&self) -> Vec<String> {
        entries(&self.authorized_cidrs)
    }

    /// The payload of the API's create/update: empty inputs are left out (so that the model
    /// says what is required), numbers are numbers, and what cannot be read as a number is
    /// passed as typed so that the model names the field.
    pub fn to_json(&self) -> Value {
        let mut root = Map::new();
        let put = |map: &mut Map<String, Value>, key: &str, value: &str| {
            if !value.trim().is_empty() {
                map.insert(key.into(), json!(value));
            }
        };
        put(&mut root, "name", &self.name);
        put(&mut root, "description", &self.description);
        if !self.department_name.trim().is_empty() {
            root.insert(
                "organization".into(),
                json!({ "department_name": self.department_name }),
            );
        }
        let mut metadata = Map::new();
        put(&mut metadata, "scope", self.scope.trim());
        let topic = self.topic_id.trim();
        if !topic.is_empty() {
            let value = topic
                .parse::<i64>()
                .map(|n| json!(n))
                .unwrap_or_else(|_| json!(topic));
            metadata.insert("topic_id".into(), value);
        }
        for field in METADATA_TEXT_FIELDS {
            put(&mut metadata, field, self.meta(field));
        }
        if let Some(c) = self.category {
            metadata.insert("category".into(), json!(c));
        }
        root.insert("metadata".into(), Value::Object(metadata));
        root.insert(
            "require_secure_channel".into(),
            json!(self.require_secure_channel),
        );
        root.insert(
            "suitable_for_minors".into(),
            json!(self.suitable_for_minors),
        );
        root.insert("authorized_recipients".into(), json!(self.recipients()));
        root.insert("authorized_cidrs".into(), json!(self.cidrs()));
        let amount = self.max_allowed_payment_amount.trim();
        if !amount.is_empty() {
            root.insert("max_allowed_payment_amount".into(), number(amount));
        }
        Value::Object(root)
    }
}

/// A typed number as JSON: an integer when it is one (out of range ones made extreme, so the
/// model says "between"), a decimal (the model says "whole number"), else the text as typed
/// (the model says "a number").
fn number(raw: &str) -> Value {
    if let Ok(n) = raw.parse::<i64>() {
        return json!(n);
    }
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return if raw.starts_with('-') {
            json!(i64::MIN)
        } else {
            json!(u64::MAX)
        };
    }
    match raw.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(n) => Value::Number(n),
        None => json!(raw),
    }
}

/// The entries of a list typed one per line (commas, semicolons and spaces separate too).
pub fn entries(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The form field a model field path belongs to (`metadata.privacy_url` → `privacy_url`,
/// `authorized_cidrs[1]` → `authorized_cidrs`); `None` for what the form has no field for.
pub fn form_field(path: &str) -> Option<&'static str> {
    let base = path.split('[').next().unwrap_or(path);
    let direct = [
        "name",
        "description",
        "require_secure_channel",
        "suitable_for_minors",
        "authorized_recipients",
        "authorized_cidrs",
        "max_allowed_payment_amount",
    ];
    if let Some(f) = direct.iter().find(|f| **f == base) {
        return Some(f);
    }
    match base {
        "organization.department_name" => Some("department_name"),
        "metadata.scope" => Some("scope"),
        "metadata.topic_id" => Some("topic_id"),
        other => other
            .strip_prefix("metadata.")
            .and_then(meta_field)
            .map(|f| f.name),
    }
}

/// The index of a list entry path (`authorized_cidrs[1]` → 1).
fn entry_index(path: &str) -> Option<usize> {
    path.split_once('[')?.1.strip_suffix(']')?.parse().ok()
}

/// The model's errors placed on the form: each message next to its field, in the person's
/// language; those of no field go to the top of the form.
#[derive(Debug, Default)]
pub struct FormErrors {
    pub by_field: BTreeMap<&'static str, Vec<String>>,
    pub general: Vec<String>,
}

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_empty()
    }

    pub fn of(&self, field: &str) -> Option<String> {
        self.by_field.get(field).map(|m| m.join(" "))
    }

    pub fn count(&self) -> usize {
        self.by_field.values().map(Vec::len).sum::<usize>() + self.general.len()
    }
}

pub fn place_errors(page: &Page, errors: &[FieldError], form: &ServiceForm) -> FormErrors {
    let mut out = FormErrors::default();
    for e in errors {
        let message = localize(page, &e.message);
        let Some(field) = form_field(&e.field) else {
            out.general.push(format!("{}: {message}", e.field));
            continue;
        };
        // A list entry is named by what was typed, since lines are counted differently by
        // people and by the parser.
        let list = match field {
            "authorized_recipients" => Some(form.recipients()),
            "authorized_cidrs" => Some(form.cidrs()),
            _ => None,
        };
        let message = match (list, entry_index(&e.field)) {
            (Some(list), Some(i)) => match list.get(i) {
                Some(entry) => format!("«{entry}»: {message}"),
                None => message,
            },
            _ => message,
        };
        out.by_field.entry(field).or_default().push(message);
    }
    out
}

pub use platform::i18n::tr;

/// Which catalogue message says what a model's field message says, with its arguments.
pub fn message_key(message: &str) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    let m = message.trim();
    let number_after = |prefix: &str| -> Option<String> {
        m.strip_prefix(prefix)?
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .filter(|n| !n.is_empty())
            .map(str::to_string)
    };
    let key = match m {
        _ if m.starts_with("is required") || m == "must not be empty" => "io.errors.required",
        "must be a URL (http:// or https://)" => "io.errors.url",
        "must be an email address" => "io.errors.email",
        "must be a phone number" => "io.errors.phone",
        "must be a whole number" => "io.errors.whole_number",
        "must be a number" => "io.errors.number",
        "must be NATIONAL or LOCAL" => "io.errors.scope",
        "must be true or false" => "io.errors.boolean",
        "say why the service is rejected" => "io.errors.reason_required",
        "the address range is empty" => "io.errors.cidr_empty",
        "IPv6 addresses are not supported, only IPv4" => "io.errors.cidr_ipv6",
        "the address is not a valid IPv4 address such as 192.168.1.0" => "io.errors.cidr_address",
        "the prefix length after / must be a whole number from 0 to 32" => "io.errors.cidr_prefix",
        _ if m.ends_with("is not a fiscal code") => "io.errors.fiscal_code",
        _ if m.contains("is not a topic") => "io.errors.topic",
        _ if m.starts_with("must be at most ") && m.contains("characters") => {
            let max = number_after("must be at most ")?;
            return Some(("io.errors.too_long", vec![("max", max)]));
        }
        _ if m.starts_with("must have at most ") || m.starts_with("at most ") => {
            let max = number_after("must have at most ").or_else(|| number_after("at most "))?;
            return Some(("io.errors.too_many", vec![("max", max)]));
        }
        _ if m.starts_with("must be between 0 and ") => {
            let max = number_after("must be between 0 and ")?;
            return Some(("io.errors.amount_range", vec![("max", max)]));
        }
        _ => return None,
    };
    Some((key, Vec::new()))
}

/// A model's field message in the person's language (as it is when it is not a known one).
pub fn localize(page: &Page, message: &str) -> String {
    match message_key(message) {
        Some((key, args)) => {
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            tr(page.t(key), &args)
        }
        None => message.to_string(),
    }
}

/// Which catalogue message says why a change is refused (the model's `Refusal` texts).
pub fn conflict_key(text: &str) -> Option<(&'static str, Option<(&str, &str)>)> {
    let key = match text {
        "the service has been deleted" => "io.conflicts.deleted",
        "the service is under review: withdraw it from review first" => "io.conflicts.under_review",
        "the service is already under review" => "io.conflicts.already_submitted",
        "a rejected service must be changed before it is submitted again" => {
            "io.conflicts.rejected_unchanged"
        }
        "the service is approved: change it before submitting it again" => {
            "io.conflicts.approved_unchanged"
        }
        "the service has never been approved: submit it for review first"
        | "the service has never been approved" => "io.conflicts.never_approved",
        "the last approved version is already published" => "io.conflicts.already_published",
        "the service is not published" => "io.conflicts.not_published",
        _ => {
            // "cannot {action} a service that is {status}"
            let (action, status) = text
                .strip_prefix("cannot ")?
                .split_once(" a service that is ")?;
            return Some(("io.conflicts.not_allowed", Some((action, status))));
        }
    };
    Some((key, None))
}

/// Why a change is refused, in the person's language.
pub fn localize_conflict(page: &Page, text: &str) -> String {
    match conflict_key(text) {
        Some((key, None)) => page.t(key).to_string(),
        Some((key, Some((_, status)))) => {
            let status = crate::model::Lifecycle::parse(status)
                .map(|l| page.t(super::view::status_key(l)).to_string())
                .unwrap_or_else(|| status.to_string());
            tr(page.t(key), &[("status", &status)])
        }
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{self, PayloadKind};

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn full_form() -> ServiceForm {
        ServiceForm::from_pairs(&pairs(&[
            ("csrf", "x"),
            ("name", "  Tassa rifiuti "),
            ("description", "Avvisi di pagamento della TARI"),
            ("department_name", "Tributi"),
            ("scope", "LOCAL"),
            ("topic_id", "4"),
            ("privacy_url", "https://comune.example/privacy"),
            ("email", "tributi@comune.example"),
            ("phone", ""),
            ("require_secure_channel", "on"),
            (
                "authorized_recipients",
                "rssmra85t10a562s\n\n  BNCLRA90A41H501X ",
            ),
            ("authorized_cidrs", "10.0.0.0/8\r\n192.168.1.1"),
            ("max_allowed_payment_amount", "15000"),
        ]))
    }

    #[test]
    fn a_filled_form_is_the_api_payload() {
        let v = full_form().to_json();
        assert_eq!(v["name"], "  Tassa rifiuti ");
        assert_eq!(v["organization"]["department_name"], "Tributi");
        assert_eq!(v["metadata"]["scope"], "LOCAL");
        assert_eq!(v["metadata"]["topic_id"], 4);
        assert_eq!(
            v["metadata"]["privacy_url"],
            "https://comune.example/privacy"
        );
        // Empty inputs are left out.
        assert!(v["metadata"].get("phone").is_none());
        assert!(v["metadata"].get("category").is_none());
        assert_eq!(v["require_secure_channel"], true);
        assert_eq!(v["suitable_for_minors"], false);
        assert_eq!(
            v["authorized_recipients"],
            json!(["RSSMRA85T10A562S", "BNCLRA90A41H501X"])
        );
        assert_eq!(v["authorized_cidrs"], json!(["10.0.0.0/8", "192.168.1.1"]));
        assert_eq!(v["max_allowed_payment_amount"], 15000);
        let data = model::parse_service(&v, PayloadKind::Create).unwrap();
        assert_eq!(data.name, "Tassa rifiuti");
        assert_eq!(data.max_allowed_payment_amount, 15000);
        // And back: the edit form shows what was stored.
        let again = ServiceForm::from_data(&data);
        assert_eq!(again.name, "Tassa rifiuti");
        assert_eq!(again.topic_id, "4");
        assert_eq!(again.meta("email"), "tributi@comune.example");
        assert!(again.require_secure_channel);
        assert_eq!(again.category, Some(Category::Standard));
        assert_eq!(
            model::parse_service(&again.to_json(), PayloadKind::Update).unwrap(),
            data
        );
    }

    #[test]
    fn an_empty_form_lets_the_model_say_what_is_required() {
        let v = ServiceForm::from_pairs(&[]).to_json();
        let errors = model::parse_service(&v, PayloadKind::Create).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in ["name", "description", "metadata.scope", "metadata.topic_id"] {
            assert!(fields.contains(&f), "{fields:?}");
        }
        for e in &errors {
            assert!(form_field(&e.field).is_some(), "{}", e.field);
        }
    }

    #[test]
    fn numbers_that_are_not_numbers_reach_the_model_as_typed() {
        assert_eq!(number("12"), json!(12));
        assert_eq!(number("-3"), json!(-3));
        assert_eq!(number("99999999999999999999"), json!(u64::MAX));
        assert_eq!(number("1.5"), json!(1.5));
        assert_eq!(number("dieci"), json!("dieci"));
        let form = |amount: &str, topic: &str| {
            let mut f = full_form();
            f.max_allowed_payment_amount = amount.into();
            f.topic_id = topic.into();
            model::parse_service(&f.to_json(), PayloadKind::Create).unwrap_err()
        };
        let errors = form("dieci", "x");
        let messages: Vec<_> = errors
            .iter()
            .map(|e| (form_field(&e.field), message_key(&e.message).map(|k| k.0)))
            .collect();
        assert!(messages.contains(&(Some("max_allowed_payment_amount"), Some("io.errors.number"))));
        assert!(messages.contains(&(Some("topic_id"), Some("io.errors.number"))));
        let errors = form("99999999999999999999", "99");
        let keys: Vec<_> = errors
            .iter()
            .filter_map(|e| message_key(&e.message).map(|k| k.0))
            .collect();
        assert!(keys.contains(&"io.errors.amount_range"), "{errors:?}");
        assert!(keys.contains(&"io.errors.topic"), "{errors:?}");
        let errors = form("1.5", "4");
        assert_eq!(
            message_key(&errors[0].message).map(|k| k.0),
            Some("io.errors.whole_number")
        );
    }

    #[test]
    fn model_paths_name_the_form_fields() {
        assert_eq!(form_field("name"), Some("name"));
        assert_eq!(form_field("metadata.privacy_url"), Some("privacy_url"));
        assert_eq!(form_field("metadata.scope"), Some("scope"));
        assert_eq!(form_field("metadata.topic_id"), Some("topic_id"));
        assert_eq!(
            form_field("organization.department_name"),
            Some("department_name")
        );
        assert_eq!(form_field("authorized_cidrs[1]"), Some("authorized_cidrs"));
        assert_eq!(
            form_field("authorized_recipients[0]"),
            Some("authorized_recipients")
        );
        assert_eq!(
            form_field("max_allowed_payment_amount"),
            Some("max_allowed_payment_amount")
        );
        assert_eq!(form_field("metadata.group_id"), None);
        assert_eq!(form_field("metadata.nonsense"), None);
        assert_eq!(form_field("body"), None);
        for f in METADATA_TEXT_FIELDS {
            assert_eq!(form_field(&format!("metadata.{f}")), Some(*f));
        }
        assert_eq!(entry_index("authorized_cidrs[12]"), Some(12));
        assert_eq!(entry_index("authorized_cidrs"), None);
    }

    #[test]
    fn list_errors_name_the_entry_typed() {
        let mut f = full_form();
        f.authorized_cidrs = "10.0.0.0/8\n\n10.0.0.300".into();
        f.authorized_recipients = "NOTACODE".into();
        f.metadata.insert("privacy_url", "ftp://x".into());
        let errors = model::parse_service(&f.to_json(), PayloadKind::Create).unwrap_err();
        let page = Page {
            lang: platform::i18n::Lang::En,
            catalogue: Default::default(),
            banner: None,
            user: None,
            path: "/".into(),
            csrf: None,
        };
        let placed = place_errors(&page, &errors, &f);
        assert!(placed.general.is_empty(), "{placed:?}");
        let cidr = placed.of("authorized_cidrs").unwrap();
        assert!(cidr.starts_with("«10.0.0.300»: "), "{cidr}");
        let fc = placed.of("authorized_recipients").unwrap();
        assert!(fc.starts_with("«NOTACODE»: "), "{fc}");
        assert!(placed.of("privacy_url").is_some());
        assert_eq!(placed.count(), 3);
    }

    #[test]
    fn entries_are_split_on_lines_commas_and_spaces() {
        assert_eq!(entries(" a\r\nb, c;d  \n\n e "), ["a", "b", "c", "d", "e"]);
        assert!(entries(" \n ").is_empty());
    }

    #[test]
    fn known_messages_have_catalogue_keys() {
        assert_eq!(
            message_key("must be at most 100 characters (it has 120)"),
            Some(("io.errors.too_long", vec![("max", "100".to_string())]))
        );
        assert_eq!(
            message_key("is required (NATIONAL or LOCAL)").map(|k| k.0),
            Some("io.errors.required")
        );
        assert_eq!(
            message_key("\"X\" is not a fiscal code").map(|k| k.0),
            Some("io.errors.fiscal_code")
        );
        assert_eq!(
            message_key("at most 100 entries").map(|k| k.0),
            Some("io.errors.too_many")
        );
        assert_eq!(message_key("something new"), None);
        assert_eq!(tr("a {x} b {x}", &[("x", "1")]), "a 1 b 1");
        assert_eq!(
            conflict_key("cannot abort a service that is draft"),
            Some(("io.conflicts.not_allowed", Some(("abort", "draft"))))
        );
        // Every refusal the lifecycle can give is known.
        for from in model::Lifecycle::ALL {
            for action in model::Action::ALL {
                if let Err(r) = model::next(from, action) {
                    assert!(conflict_key(&r.0).is_some(), "{}", r.0);
                }
            }
        }
    }
}
