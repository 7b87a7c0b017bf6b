//! The IO back-office's rules, pure: the service document and its validation, the lifecycle
//! and publication state machines, the review decision, API keys and logos. No IO here.

use std::collections::BTreeSet;

use platform::types::{Cidr, Email};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
const CIDRS_MAX: usize = 100;

/// One topic of the fixed list served at `/services/topics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Topic {
    pub id: i64,
    pub name: &'static str,
}

/// The thematic taxonomy of IO services (ids as on the real platform).
pub const TOPICS: &[Topic] = &[
    Topic {
        id: 0,
        name: "Altro",
    },
    Topic {
        id: 1,
        name: "Ambiente e animali",
    },
    Topic {
        id: 2,
        name: "Attività produttive e commercio",
    },
    Topic {
        id: 3,
        name: "Benessere sociale",
    },
    Topic {
        id: 4,
        name: "Casa e utenze",
    },
    Topic {
        id: 5,
        name: "Cultura, tempo libero e sport",
    },
    Topic {
        id: 6,
        name: "Educazione e formazione",
    },
    Topic {
        id: 7,
        name: "Giustizia e legge",
    },
    Topic {
        id: 8,
        name: "Lavori edilizi, catasto e urbanistica",
    },
    Topic {
        id: 9,
        name: "Mobilità e trasporti",
    },
    Topic {
        id: 10,
        name: "Redditi, patrimoni e fisco",
    },
    Topic {
        id: 11,
        name: "Servizi anagrafici e civici",
    },
    Topic {
        id: 12,
        name: "Servizi elettorali",
    },
    Topic {
        id: 13,
        name: "Sicurezza e Protezione Civile",
    },
    Topic {
        id: 14,
        name: "Suolo, spazi e beni pubblici",
    },
    Topic {
        id: 15,
        name: "Viaggi e turismo",
    },
    Topic {
        id: 16,
        name: "Vita lavorativa",
    },
    Topic {
        id: 17,
        name: "Salute",
    },
];

pub fn topic(id: i64) -> Option<&'static Topic> {
    TOPICS.iter().find(|t| t.id == id)
}

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

/// One invalid field, named by its JSON path (`metadata.privacy_url`).
pub use platform::FieldError;

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

/// The quality check of the review: what keeps a service from being reviewed at all.
pub fn quality_issues(d: &ServiceData) -> Vec<&'static str> {
    let mut out = Vec::new();
    if d.metadata.privacy_url.is_none() {
        out.push("privacy_url");
    }
    let m = &d.metadata;
    if m.email.is_none() && m.pec.is_none() && m.phone.is_none() && m.support_url.is_none() {
        out.push("contact");
    }
    out
}

/// The fields whose change needs a person's review; the others (technical settings) are
/// approved automatically once a version has been published.
pub fn needs_manual_review(new: &ServiceData, published: &ServiceData) -> bool {
    new.name != published.name
        || new.description != published.description
        || new.department_name != published.department_name
        || new.suitable_for_minors != published.suitable_for_minors
        || {
            let mut a = new.metadata.clone();
            let mut b = published.metadata.clone();
            a.group_id = None;
            b.group_id = None;
            a != b
        }
}

/// What a submission leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewOutcome {
    /// Rejected at once, with the reason the institution sees.
    Reject(String),
    /// Nothing that needs a person changed since the published version.
    AutoApprove,
    /// Waits for a platform operator.
    Manual,
}

pub fn review(
    d: &ServiceData,
    published: Option<&ServiceData>,
    duplicate_name: bool,
) -> ReviewOutcome {
    let issues = quality_issues(d);
    if !issues.is_empty() {
        let mut reasons = Vec::new();
        if issues.contains(&"privacy_url") {
            reasons.push("the privacy policy URL (privacy_url) is missing");
        }
        if issues.contains(&"contact") {
            reasons.push("at least one contact is needed: email, pec, phone or support_url");
        }
        return ReviewOutcome::Reject(format!("Quality check failed: {}.", reasons.join("; ")));
    }
    if duplicate_name {
        return ReviewOutcome::Reject(format!(
            "Another published service of the institution is already named \"{}\".",
            d.name
        ));
    }
    match published {
        Some(p) if !needs_manual_review(d, p) => ReviewOutcome::AutoApprove,
        _ => ReviewOutcome::Manual,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    Draft,
    Submitted,
    Approved,
    Rejected,
    Deleted,
}

impl Lifecycle {
    pub const ALL: [Lifecycle; 5] = [
        Lifecycle::Draft,
        Lifecycle::Submitted,
        Lifecycle::Approved,
        Lifecycle::Rejected,
        Lifecycle::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Draft => "draft",
            Lifecycle::Submitted => "submitted",
            Lifecycle::Approved => "approved",
            Lifecycle::Rejected => "rejected",
            Lifecycle::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Edit,
    Submit,
    Abort,
    Approve,
    Reject,
    Delete,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Edit,
        Action::Submit,
        Action::Abort,
        Action::Approve,
        Action::Reject,
        Action::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Edit => "edit",
            Action::Submit => "submit",
            Action::Abort => "abort",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Delete => "delete",
        }
    }
}

/// An action the current state does not allow (HTTP 409), with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// The lifecycle: exactly one transition matches, otherwise a refusal that says why.
pub fn next(from: Lifecycle, action: Action) -> Result<Lifecycle, Refusal> {
    use Action::*;
    use Lifecycle::*;
    let to = match (action, from) {
        (Edit, Draft | Rejected | Approved) => Draft,
        (Submit, Draft) => Submitted,
        (Abort, Submitted) => Draft,
        (Approve, Submitted) => Approved,
        (Reject, Submitted) => Rejected,
        (Delete, Draft | Rejected | Approved) => Deleted,
        _ => {
            let why = match (action, from) {
                (_, Deleted) => "the service has been deleted".to_string(),
                (Edit | Delete, Submitted) => {
                    "the service is under review: withdraw it from review first".to_string()
                }
                (Submit, Submitted) => "the service is already under review".to_string(),
                (Submit, Rejected) => {
                    "a rejected service must be changed before it is submitted again".to_string()
                }
                (Submit, Approved) => {
                    "the service is approved: change it before submitting it again".to_string()
                }
                (a, f) => format!("cannot {} a service that is {}", a.as_str(), f.as_str()),
            };
            return Err(Refusal(why));
        }
    };
    Ok(to)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Publication {
    Published,
    Unpublished,
}

impl Publication {
    pub fn as_str(self) -> &'static str {
        match self {
            Publication::Published => "published",
            Publication::Unpublished => "unpublished",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "published" => Some(Publication::Published),
            "unpublished" => Some(Publication::Unpublished),
            _ => None,
        }
    }
}

/// What the publication rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicationState {
    pub lifecycle: Lifecycle,
    /// The version of the last approval, if any.
    pub approved_version: Option<i64>,
    pub publication: Option<Publication>,
    /// The approved version that is (or was last) published.
    pub published_version: Option<i64>,
}

/// `POST /release`: publishes the last approved version.
pub fn release(s: &PublicationState) -> Result<(), Refusal> {
    if s.lifecycle == Lifecycle::Deleted {
        return Err(Refusal("the service has been deleted".into()));
    }
    let Some(approved) = s.approved_version else {
        return Err(Refusal(
            "the service has never been approved: submit it for review first".into(),
        ));
    };
    if s.publication == Some(Publication::Published) && s.published_version == Some(approved) {
        return Err(Refusal(
            "the last approved version is already published".into(),
        ));
    }
    Ok(())
}

/// `DELETE /release`: takes the service off the app.
pub fn unpublish(s: &PublicationState) -> Result<(), Refusal> {
    match s.publication {
        Some(Publication::Published) => Ok(()),
        _ => Err(Refusal("the service is not published".into())),
    }
}

/// The two keys of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    Primary,
    Secondary,
}

impl KeyType {
    pub const BOTH: [KeyType; 2] = [KeyType::Primary, KeyType::Secondary];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Primary => "primary",
            KeyType::Secondary => "secondary",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "primary" | "PRIMARY_KEY" | "primary_key" => Some(KeyType::Primary),
            "secondary" | "SECONDARY_KEY" | "secondary_key" => Some(KeyType::Secondary),
            _ => None,
        }
    }
}

/// The kinds of subscriptions (key pairs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionKind {
    ManageRoot,
    Service,
}

impl SubscriptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionKind::ManageRoot => "MANAGE_ROOT",
            SubscriptionKind::Service => "SERVICE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "MANAGE_ROOT" => Some(SubscriptionKind::ManageRoot),
            "SERVICE" => Some(SubscriptionKind::Service),
            _ => None,
        }
    }
}

/// The id of an institution's root manage subscription.
pub fn manage_subscription_id(institution_id: &str) -> String {
    format!("MANAGE-{institution_id}")
}

/// Whether `ip` may use a key restricted to `cidrs` (an empty list allows every address).
pub fn address_allowed(cidrs: &[Cidr], ip: std::net::IpAddr) -> bool {
    cidrs.is_empty() || cidrs.iter().any(|c| c.contains_ip(ip))
}

/// Parses a list of CIDRs (manage keys' allow-list), naming the first bad entry.
pub fn parse_cidrs(list: &[String]) -> Result<Vec<Cidr>, FieldError> {
    if list.len() > CIDRS_MAX {
        return Err(FieldError::new(
            "cidrs",
            format!("at most {CIDRS_MAX} entries"),
        ));
    }
    let mut out: Vec<Cidr> = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let cidr = Cidr::parse(c.trim())
            .map_err(|e| FieldError::new(format!("cidrs[{i}]"), e.to_string()))?;
        if !out.iter().any(|o| o.as_str() == cidr.as_str()) {
            out.push(cidr);
        }
    }
    Ok(out)
}

pub use platform::ids::ulid;

/// A service id as given in a path: ULIDs and the legacy portal's ids (letters, digits,
/// `-` and `_`, up to 64 characters).
pub fn service_id_shape(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub const LOGO_MAX_BYTES: usize = 512 * 1024;
pub const LOGO_MIN_SIDE: u32 = 300;
pub const LOGO_MAX_SIDE: u32 = 1024;

/// Checks a logo given as base64: a PNG image, square, 300 to 1024 pixels a side, at most
/// 512 KiB. Returns the image bytes.
pub fn check_logo(base64_png: &str) -> Result<Vec<u8>, FieldError> {
    use base64::Engine;
    let compact: String = base64_png.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(FieldError::new("logo", "must not be empty"));
    }
    if compact.len() > LOGO_MAX_BYTES * 4 / 3 + 4 {
        return Err(FieldError::new("logo", "must be at most 512 KiB"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| FieldError::new("logo", "is not valid base64"))?;
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(FieldError::new("logo", "must be at most 512 KiB"));
    }
    let (w, h) = png_size(&bytes).ok_or_else(|| FieldError::new("logo", "is not a PNG image"))?;
    if w != h {
        return Err(FieldError::new(
            "logo",
            format!("must be square (it is {w}×{h} pixels)"),
        ));
    }
    if !(LOGO_MIN_SIDE..=LOGO_MAX_SIDE).contains(&w) {
        return Err(FieldError::new(
            "logo",
            format!("must be {LOGO_MIN_SIDE} to {LOGO_MAX_SIDE} pixels a side (it is {w})"),
        ));
    }
    Ok(bytes)
}

/// Width and height from a PNG's signature and IHDR chunk.
pub fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() < 24 || !bytes.starts_with(SIGNATURE) || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    (w > 0 && h > 0).then_some((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "name": "Tassa rifiuti",
            "description": "Avvisi di pagamento della TARI",
            "organization": {"name": "ignored", "fiscal_code": "00000000000"},
            "metadata": {"scope": "LOCAL", "topic_id": 15, "privacy_url": "https://x.it/privacy",
                         "email": "tari@comune.it"}
        })
    }

    fn errors(v: Value) -> Vec<String> {
        parse_service(&v, PayloadKind::Create)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
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

    #[test]
    fn quality_check_wants_privacy_and_a_contact() {
        let mut d = parse_service(&valid(), PayloadKind::Create).unwrap();
        d.metadata.email = None;
        assert_eq!(quality_issues(&d), vec!["contact"]);
        d.metadata.support_url = Some("https://x.it/help".into());
        assert!(quality_issues(&d).is_empty());
        d.metadata.privacy_url = None;
        assert_eq!(quality_issues(&d), vec!["privacy_url"]);
        assert!(
            matches!(review(&d, None, false), ReviewOutcome::Reject(r) if r.contains("privacy_url"))
        );
    }

    #[test]
    fn review_decides_between_reject_auto_and_manual() {
        let d = parse_service(&valid(), PayloadKind::Create).unwrap();
        assert_eq!(review(&d, None, false), ReviewOutcome::Manual);
        assert!(matches!(review(&d, None, true), ReviewOutcome::Reject(_)));
        let mut technical = d.clone();
        technical.authorized_cidrs = vec!["10.0.0.0/8".into()];
        technical.max_allowed_payment_amount = 100;
        technical.require_secure_channel = true;
        assert_eq!(
            review(&technical, Some(&d), false),
            ReviewOutcome::AutoApprove
        );
        let mut renamed = d.clone();
        renamed.name = "Altro nome".into();
        assert_eq!(review(&renamed, Some(&d), false), ReviewOutcome::Manual);
        let mut contact = d.clone();
        contact.metadata.phone = Some("06 1234567".into());
        assert_eq!(review(&contact, Some(&d), false), ReviewOutcome::Manual);
    }

    #[test]
    fn lifecycle_allows_exactly_the_table() {
        use Action::*;
        use Lifecycle::*;
        let allowed = [
            (Edit, Draft, Draft),
            (Edit, Rejected, Draft),
            (Edit, Approved, Draft),
            (Submit, Draft, Submitted),
            (Abort, Submitted, Draft),
            (Approve, Submitted, Approved),
            (Reject, Submitted, Rejected),
            (Delete, Draft, Deleted),
            (Delete, Rejected, Deleted),
            (Delete, Approved, Deleted),
        ];
        for action in Action::ALL {
            for from in Lifecycle::ALL {
                let expected = allowed
                    .iter()
                    .find(|(a, f, _)| *a == action && *f == from)
                    .map(|(_, _, to)| *to);
                match (next(from, action), expected) {
                    (Ok(to), Some(e)) => assert_eq!(to, e),
                    (Err(Refusal(why)), None) => assert!(!why.is_empty()),
                    (got, e) => panic!("{action:?} from {from:?}: {got:?}, expected {e:?}"),
                }
            }
        }
    }

    #[test]
    fn release_needs_an_approval_not_yet_published() {
        let mut s = PublicationState {
            lifecycle: Lifecycle::Draft,
            approved_version: None,
            publication: None,
            published_version: None,
        };
        assert!(release(&s).is_err());
        assert!(unpublish(&s).is_err());
        s.approved_version = Some(3);
        assert!(release(&s).is_ok());
        s.publication = Some(Publication::Published);
        s.published_version = Some(3);
        assert!(release(&s).is_err());
        assert!(unpublish(&s).is_ok());
        s.approved_version = Some(5);
        assert!(release(&s).is_ok());
        s.publication = Some(Publication::Unpublished);
        assert!(unpublish(&s).is_err());
        s.lifecycle = Lifecycle::Deleted;
        assert!(release(&s).is_err());
    }

    #[test]
    fn logos_must_be_square_pngs_of_the_right_size() {
        use base64::Engine;
        let png = |w: u32, h: u32| {
            let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
            b.extend_from_slice(&w.to_be_bytes());
            b.extend_from_slice(&h.to_be_bytes());
            b.extend_from_slice(&[8, 6, 0, 0, 0]);
            base64::engine::general_purpose::STANDARD.encode(b)
        };
        assert!(check_logo(&png(300, 300)).is_ok());
        assert!(
            check_logo(&png(300, 301))
                .unwrap_err()
                .message
                .contains("square")
        );
        assert!(
            check_logo(&png(100, 100))
                .unwrap_err()
                .message
                .contains("300")
        );
        assert!(
            check_logo("not base64!")
                .unwrap_err()
                .message
                .contains("base64")
        );
        assert!(check_logo("aGVsbG8=").unwrap_err().message.contains("PNG"));
        assert!(check_logo("").is_err());
    }

    #[test]
    fn timestamps_are_iso_with_milliseconds() {
        assert_eq!(
            platform::Timestamp::from_millis(0).rfc3339_millis(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            platform::Timestamp::from_millis(1_674_345_600_123).rfc3339_millis(),
            "2023-01-22T00:00:00.123Z"
        );
    }

    #[test]
    fn address_checks_and_cidr_lists() {
        let cidrs = parse_cidrs(&["10.0.0.0/8".into(), "10.0.0.0/8".into()]).unwrap();
        assert_eq!(cidrs.len(), 1);
        assert!(address_allowed(&cidrs, "10.1.2.3".parse().unwrap()));
        assert!(!address_allowed(&cidrs, "11.1.2.3".parse().unwrap()));
        assert!(address_allowed(&[], "11.1.2.3".parse().unwrap()));
        assert_eq!(parse_cidrs(&["x".into()]).unwrap_err().field, "cidrs[0]");
    }
}
