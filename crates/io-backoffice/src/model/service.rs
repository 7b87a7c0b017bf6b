//! The service document an institution writes, and its validation: every problem reported,
//! each naming its field.

use std::collections::BTreeSet;

use platform::types::{Cidr, Email};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{FieldError, topic};

/// The sandbox fiscal code every service may always write to. It has no valid check
/// character: authorized recipients are checked by the regex only, as the real API does.
pub const SANDBOX_FISCAL_CODE: &str = "AAAAAA00A00A000A";

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 1000;
pub const MAX_PAYMENT_AMOUNT: i64 = 9_999_999_999;
const URL_MAX: usize = 500;
const TEXT_MAX: usize = 500;
const CTA_MAX: usize = 2000;
const RECIPIENTS_MAX: usize = 1000;
pub(crate) const CIDRS_MAX: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Scope {
    National,
    Local,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::National => "NATIONAL",
            Scope::Local => "LOCAL",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Category {
    #[default]
    Standard,
    Special,
}

/// The optional text fields of the metadata, in the order of the form and of the API.
pub const METADATA_TEXT_FIELDS: &[&str] = &[
    "web_url",
    "app_ios",
    "app_android",
    "tos_url",
    "privacy_url",
    "address",
    "phone",
    "email",
    "pec",
    "cta",
    "token_name",
    "support_url",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_ios: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_android: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pec: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default)]
    pub category: Category,
}

impl Metadata {
    /// The optional text field `name` (one of [`METADATA_TEXT_FIELDS`]).
    pub fn text(&self, name: &str) -> Option<&str> {
        match name {
            "web_url" => self.web_url.as_deref(),
            "app_ios" => self.app_ios.as_deref(),
            "app_android" => self.app_android.as_deref(),
            "tos_url" => self.tos_url.as_deref(),
            "privacy_url" => self.privacy_url.as_deref(),
            "address" => self.address.as_deref(),
            "phone" => self.phone.as_deref(),
            "email" => self.email.as_deref(),
            "pec" => self.pec.as_deref(),
            "cta" => self.cta.as_deref(),
            "token_name" => self.token_name.as_deref(),
            "support_url" => self.support_url.as_deref(),
            _ => None,
        }
    }

    fn text_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "web_url" => &mut self.web_url,
            "app_ios" => &mut self.app_ios,
            "app_android" => &mut self.app_android,
            "tos_url" => &mut self.tos_url,
            "privacy_url" => &mut self.privacy_url,
            "address" => &mut self.address,
            "phone" => &mut self.phone,
            "email" => &mut self.email,
            "pec" => &mut self.pec,
            "cta" => &mut self.cta,
            "token_name" => &mut self.token_name,
            "support_url" => &mut self.support_url,
            _ => return None,
        })
    }
}

/// What an institution writes about a service: everything but its id, state and organization
/// (the organization is always the caller's institution; only the department is theirs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceData {
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_name: Option<String>,
    #[serde(default)]
    pub require_secure_channel: bool,
    #[serde(default)]
    pub authorized_recipients: Vec<String>,
    #[serde(default)]
    pub authorized_cidrs: Vec<String>,
    #[serde(default)]
    pub max_allowed_payment_amount: i64,
    #[serde(default)]
    pub suitable_for_minors: bool,
    pub metadata: Metadata,
}

impl ServiceData {
    /// The key of the duplicate-name check: trimmed, case-folded.
    pub fn name_key(&self) -> String {
        name_key(&self.name)
    }

    /// The service's CIDRs, parsed (stored ones are valid by construction).
    pub fn cidrs(&self) -> Vec<Cidr> {
        self.authorized_cidrs
            .iter()
            .filter_map(|c| Cidr::parse(c).ok())
            .collect()
    }
}

pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Which payload is being read: on create the category is forced to STANDARD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    Create,
    Update,
    /// A service brought over from the legacy Developer Portal, which had no topics: the topic
    /// may be missing (it is asked for before the next review).
    Import,
}

struct Reader<'a> {
    errors: Vec<FieldError>,
    root: &'a serde_json::Map<String, Value>,
}

impl<'a> Reader<'a> {
    fn err(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// A string field: absent → None; present, it must be a string of `min..=max` characters
    /// once trimmed.
    fn text(
        &mut self,
        obj: &serde_json::Map<String, Value>,
        key: &str,
        path: &str,
        max: usize,
    ) -> Option<String> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let t = s.trim();
                let n = t.chars().count();
                if n == 0 {
                    self.err(path, "must not be empty");
                    None
                } else if n > max {
                    self.err(
                        path,
                        format!("must be at most {max} characters (it has {n})"),
                    );
                    None
                } else {
                    Some(t.to_string())
                }
            }
            Some(_) => {
                self.err(path, "must be a string");
                None
            }
        }
    }

    fn required_text(&mut self, key: &str, max: usize) -> String {
        let root = self.root;
        if !root.contains_key(key) || root.get(key) == Some(&Value::Null) {
            self.err(key, "is required");
            return String::new();
        }
        self.text(root, key, key, max).unwrap_or_default()
    }

    fn boolean(&mut self, key: &str) -> bool {
        match self.root.get(key) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.err(key, "must be true or false");
                false
            }
        }
    }

    fn string_list(&mut self, key: &str, max_items: usize) -> Vec<String> {
        match self.root.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                if items.len() > max_items {
                    self.err(key, format!("must have at most {max_items} entries"));
                    return Vec::new();
                }
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.trim().to_string()),
                        _ => self.err(&format!("{key}[{i}]"), "must be a string"),
                    }
                }
                out
            }
            Some(_) => {
                self.err(key, "must be a list");
                Vec::new()
            }
        }
    }
}

/// The fiscal code pattern of the reference's `FiscalCode` (check character not verified).
pub fn fiscal_code_shape(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 16 {
        return false;
    }
    let omo = |c: u8| c.is_ascii_digit() || b"LMNPQRSTUV".contains(&c);
    let upper = |c: u8| c.is_ascii_uppercase();
    b[..6].iter().all(|c| upper(*c))
        && b[6..8].iter().all(|c| omo(*c))
        && b"ABCDEHLMPRST".contains(&b[8])
        && b[9..11].iter().all(|c| omo(*c))
        && upper(b[11])
        && b[12..15].iter().all(|c| omo(*c))
        && upper(b[15])
}

/// `^https?:\S+$`, as the real back-office checks URLs.
pub fn url_shape(s: &str) -> bool {
    let rest = s.strip_prefix("https:").or_else(|| s.strip_prefix("http:"));
    rest.is_some_and(|r| !r.is_empty() && !r.chars().any(char::is_whitespace))
}

/// A phone number as people write it: digits with spaces, dots, dashes or slashes, an optional
/// leading `+`, 6 to 20 characters.
pub fn phone_shape(s: &str) -> bool {
    let body = s.strip_prefix('+').unwrap_or(s);
    let n = s.chars().count();
    (6..=20).contains(&n)
        && body.chars().next().is_some_and(|c| c.is_ascii_digit())
        && body.chars().last().is_some_and(|c| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '/'))
}

/// Reads and validates a create or update payload (the reference's `CreateServicePayload` /
/// `ServicePayload`). Every problem is reported, each naming its field.
pub fn parse_service(payload: &Value, kind: PayloadKind) -> Result<ServiceData, Vec<FieldError>> {
    let Some(root) = payload.as_object() else {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    };
    let mut r = Reader {
        errors: Vec::new(),
        root,
    };
    let name = r.required_text("name", NAME_MAX);
    let description = r.required_text("description", DESCRIPTION_MAX);

    // The organization is the caller's institution; only its shape is checked, and only the
    // department is kept.
    let mut department_name = None;
    match root.get("organization") {
        None | Some(Value::Null) => {}
        Some(Value::Object(org)) => {
            if let Some(Value::String(fc)) = org.get("fiscal_code")
                && !(fc.len() == 11 && fc.bytes().all(|b| b.is_ascii_digit()))
            {
                r.err("organization.fiscal_code", "must be 11 digits");
            }
            department_name = r.text(org, "department_name", "organization.department_name", 200);
        }
        Some(_) => r.err("organization", "must be an object"),
    }

    let require_secure_channel = r.boolean("require_secure_channel");
    let suitable_for_minors = r.boolean("suitable_for_minors");

    let mut authorized_recipients = r.string_list("authorized_recipients", RECIPIENTS_MAX);
    for (i, fc) in authorized_recipients.iter().enumerate() {
        if !fiscal_code_shape(fc) {
            r.err(
                &format!("authorized_recipients[{i}]"),
                format!("{fc:?} is not a fiscal code"),
            );
        }
    }
    if !authorized_recipients
        .iter()
        .any(|f| f == SANDBOX_FISCAL_CODE)
    {
        authorized_recipients.insert(0, SANDBOX_FISCAL_CODE.to_string());
    }
    let mut seen = BTreeSet::new();
    authorized_recipients.retain(|f| seen.insert(f.clone()));

    let raw_cidrs = r.string_list("authorized_cidrs", CIDRS_MAX);
    let mut authorized_cidrs = Vec::new();
    for (i, c) in raw_cidrs.iter().enumerate() {
        match Cidr::parse(c) {
            Ok(cidr) => authorized_cidrs.push(cidr.as_str().to_string()),
            Err(e) => r.err(&format!("authorized_cidrs[{i}]"), e.to_string()),
        }
    }

    let max_allowed_payment_amount = match root.get("max_allowed_payment_amount") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if (0..=MAX_PAYMENT_AMOUNT).contains(&v) => v,
            Some(_) | None if n.as_u64().is_some() || n.as_i64().is_some() => {
                r.err(
                    "max_allowed_payment_amount",
                    format!("must be between 0 and {MAX_PAYMENT_AMOUNT}"),
                );
                0
            }
            _ => {
                r.err("max_allowed_payment_amount", "must be a whole number");
                0
            }
        },
        Some(_) => {
            r.err("max_allowed_payment_amount", "must be a number");
            0
        }
    };

    let metadata = match root.get("metadata") {
        Some(Value::Object(m)) => Some(parse_metadata(&mut r, m, kind)),
        None | Some(Value::Null) => {
            r.err("metadata", "is required");
            None
        }
        Some(_) => {
            r.err("metadata", "must be an object");
            None
        }
    };

    match metadata {
        Some(metadata) if r.errors.is_empty() => Ok(ServiceData {
            name,
            description,
            department_name,
            require_secure_channel,
            authorized_recipients,
            authorized_cidrs,
            max_allowed_payment_amount,
            suitable_for_minors,
            metadata,
        }),
        _ => Err(r.errors),
    }
}

fn parse_metadata(
    r: &mut Reader<'_>,
    m: &serde_json::Map<String, Value>,
    kind: PayloadKind,
) -> Metadata {
    let scope = match m.get("scope") {
        Some(Value::String(s)) if s == "NATIONAL" => Scope::National,
        Some(Value::String(s)) if s == "LOCAL" => Scope::Local,
        None | Some(Value::Null) => {
            r.err("metadata.scope", "is required (NATIONAL or LOCAL)");
            Scope::National
        }
        Some(_) => {
            r.err("metadata.scope", "must be NATIONAL or LOCAL");
            Scope::National
        }
    };
    let topic_id = match m.get("topic_id") {
        None | Some(Value::Null) if kind == PayloadKind::Import => None,
        None | Some(Value::Null) => {
            r.err("metadata.topic_id", "is required (see /services/topics)");
            None
        }
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && topic(f as i64).is_some() => Some(f as i64),
            _ => {
                r.err(
                    "metadata.topic_id",
                    format!("{n} is not a topic (see /services/topics)"),
                );
                None
            }
        },
        Some(_) => {
            r.err("metadata.topic_id", "must be a number");
            None
        }
    };
    let mut metadata = Metadata {
        scope,
        topic_id,
        web_url: None,
        app_ios: None,
        app_android: None,
        tos_url: None,
        privacy_url: None,
        address: None,
        phone: None,
        email: None,
        pec: None,
        cta: None,
        token_name: None,
        support_url: None,
        group_id: None,
        category: Category::Standard,
    };
    for field in METADATA_TEXT_FIELDS {
        let path = format!("metadata.{field}");
        let max = match *field {
            "cta" => CTA_MAX,
            f if f.ends_with("_url") || f.starts_with("app_") => URL_MAX,
            _ => TEXT_MAX,
        };
        let Some(value) = r.text(m, field, &path, max) else {
            continue;
        };
        let ok = match *field {
            "web_url" | "app_ios" | "app_android" | "tos_url" | "privacy_url" | "support_url" => {
                url_shape(&value)
                    .then_some(())
                    .ok_or("must be a URL (http:// or https://)")
            }
            "email" | "pec" => Email::parse(&value)
                .map(|_| ())
                .map_err(|_| "must be an email address"),
            "phone" => phone_shape(&value)
                .then_some(())
                .ok_or("must be a phone number"),
            _ => Ok(()),
        };
        match ok {
            Ok(()) => {
                if let Some(slot) = metadata.text_mut(field) {
                    *slot = Some(value);
                }
            }
            Err(message) => r.err(&path, message),
        }
    }
    // Groups do not exist yet: every group id names an unknown group.
    if let Some(g) = m.get("group_id")
        && !g.is_null()
    {
        r.err("metadata.group_id", "no such group");
    }
    if kind == PayloadKind::Update
        && let Some(Value::String(c)) = m.get("category")
    {
        match c.as_str() {
            "STANDARD" => metadata.category = Category::Standard,
            "SPECIAL" => metadata.category = Category::Special,
            _ => r.err("metadata.category", "must be STANDARD or SPECIAL"),
        }
    }
    metadata
}

/// A service id as given in a path: ULIDs and the legacy portal's ids (letters, digits,
/// `-` and `_`, up to 64 characters).
pub fn service_id_shape(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A valid create payload, for the model's tests.
#[cfg(test)]
pub(crate) fn valid() -> Value {
    serde_json::json!({
        "name": "Tassa rifiuti",
        "description": "Avvisi di pagamento della TARI",
        "organization": {"name": "ignored", "fiscal_code": "00000000000"},
        "metadata": {"scope": "LOCAL", "topic_id": 15, "privacy_url": "https://x.it/privacy",
                     "email": "tari@comune.it"}
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::quality_issues;
    use serde_json::json;

    fn errors(v: Value) -> Vec<String> {
        testkit::error_fields(parse_service(&v, PayloadKind::Create))
    }

    #[test]
    fn a_valid_payload_is_read_with_the_sandbox_recipient() {
        let d = parse_service(&valid(), PayloadKind::Create).unwrap();
        assert_eq!(d.name, "Tassa rifiuti");
        assert_eq!(d.authorized_recipients, vec![SANDBOX_FISCAL_CODE]);
        assert_eq!(d.metadata.category, Category::Standard);
        assert_eq!(d.metadata.topic_id, Some(15));
        assert!(quality_issues(&d).is_empty());
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("name", json!(""), "name"),
            ("name", json!("x".repeat(101)), "name"),
            ("name", json!(5), "name"),
            ("description", json!("d".repeat(1001)), "description"),
            (
                "require_secure_channel",
                json!("yes"),
                "require_secure_channel",
            ),
            (
                "authorized_recipients",
                json!(["ABC"]),
                "authorized_recipients[0]",
            ),
            (
                "authorized_recipients",
                json!("AAAAAA00A00A000A"),
                "authorized_recipients",
            ),
            (
                "authorized_cidrs",
                json!(["10.0.0.0/33"]),
                "authorized_cidrs[0]",
            ),
            ("authorized_cidrs", json!(["::1"]), "authorized_cidrs[0]"),
            (
                "max_allowed_payment_amount",
                json!(10_000_000_000_i64),
                "max_allowed_payment_amount",
            ),
            (
                "max_allowed_payment_amount",
                json!(-1),
                "max_allowed_payment_amount",
            ),
            (
                "max_allowed_payment_amount",
                json!(1.5),
                "max_allowed_payment_amount",
            ),
            (
                "max_allowed_payment_amount",
                json!("5"),
                "max_allowed_payment_amount",
            ),
            ("organization", json!("Comune"), "organization"),
            ("metadata", json!([]), "metadata"),
        ];
        for (key, value, field) in cases {
            let mut v = valid();
            v[key] = value.clone();
            assert_eq!(errors(v), vec![field], "{key} = {value}");
        }
        let meta_cases: Vec<(&str, Value, &str)> = vec![
            ("scope", json!("REGIONAL"), "metadata.scope"),
            ("topic_id", json!(99), "metadata.topic_id"),
            ("topic_id", json!("3"), "metadata.topic_id"),
            ("privacy_url", json!("ftp://x"), "metadata.privacy_url"),
            ("privacy_url", json!("https://a b"), "metadata.privacy_url"),
            ("web_url", json!(""), "metadata.web_url"),
            ("email", json!("not-an-email"), "metadata.email"),
            ("pec", json!("@x.it"), "metadata.pec"),
            ("phone", json!("call me"), "metadata.phone"),
            ("group_id", json!("g1"), "metadata.group_id"),
            ("cta", json!("c".repeat(2001)), "metadata.cta"),
        ];
        for (key, value, field) in meta_cases {
            let mut v = valid();
            v["metadata"][key] = value.clone();
            assert_eq!(errors(v), vec![field], "metadata.{key} = {value}");
        }
        let mut v = valid();
        v.as_object_mut().unwrap().remove("name");
        v["metadata"].as_object_mut().unwrap().remove("topic_id");
        assert_eq!(errors(v), vec!["name", "metadata.topic_id"]);
        assert_eq!(errors(json!([1])), vec!["body"]);
    }

    #[test]
    fn the_biggest_payment_amount_is_accepted() {
        let mut v = valid();
        v["max_allowed_payment_amount"] = json!(MAX_PAYMENT_AMOUNT);
        let d = parse_service(&v, PayloadKind::Create).unwrap();
        assert_eq!(d.max_allowed_payment_amount, MAX_PAYMENT_AMOUNT);
    }

    #[test]
    fn category_is_forced_on_create_and_kept_on_update() {
        let mut v = valid();
        v["metadata"]["category"] = json!("SPECIAL");
        let created = parse_service(&v, PayloadKind::Create).unwrap();
        assert_eq!(created.metadata.category, Category::Standard);
        let updated = parse_service(&v, PayloadKind::Update).unwrap();
        assert_eq!(updated.metadata.category, Category::Special);
    }

    #[test]
    fn fiscal_code_shape_is_the_reference_regex() {
        assert!(fiscal_code_shape("AAAAAA00A00A000A"));
        assert!(fiscal_code_shape("RSSMRA85T10A562S"));
        assert!(!fiscal_code_shape("RSSMRA85T10A562"));
        assert!(!fiscal_code_shape("rssmra85t10a562s"));
        assert!(!fiscal_code_shape("RSSMRA85Z10A562S"));
    }
}
