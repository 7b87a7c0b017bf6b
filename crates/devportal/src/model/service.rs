//! A service as the old portal keeps it: what it holds, which values it accepts, its keys and
//! the form the delegates edit it with.

use platform::FieldError;
use platform::types::{Cidr, Email};
use serde::{Deserialize, Serialize};

use super::migration::is_org_fiscal_code;

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 1000;
pub const TEXT_MAX: usize = 200;
pub const ADDRESS_MAX: usize = 500;
pub const CTA_MAX: usize = 5000;
pub const URL_MAX: usize = 500;
pub const CIDRS_MAX: usize = 100;
pub const RECIPIENTS_MAX: usize = 1000;
pub const MAX_PAYMENT_AMOUNT: i64 = 9_999_999_999;
pub const TOPIC_MAX: i64 = 99;

/// Whether the app shows the service: decided by the platform's review, never by the delegate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Visible,
    VisibleOnce,
    NeverVisible,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Visible => "visible",
            Visibility::VisibleOnce => "visible_once",
            Visibility::NeverVisible => "never_visible",
        }
    }

    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "visible" => Some(Visibility::Visible),
            "visible_once" => Some(Visibility::VisibleOnce),
            "never_visible" => Some(Visibility::NeverVisible),
            _ => None,
        }
    }

    /// What the delegate reads.
    pub fn label(self) -> &'static str {
        match self {
            Visibility::Visible => "Visibile",
            Visibility::VisibleOnce => "Non più visibile",
            Visibility::NeverVisible => "Mai visibile",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

    pub fn parse(s: &str) -> Option<Scope> {
        match s.trim() {
            "NATIONAL" => Some(Scope::National),
            "LOCAL" => Some(Scope::Local),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Organization {
    pub name: String,
    pub fiscal_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Metadata {
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pec: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_ios: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_android: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_name: Option<String>,
}

impl Metadata {
    /// Only the scope: every other field is optional.
    pub fn new(scope: Scope) -> Metadata {
        Metadata {
            scope,
            topic_id: None,
            web_url: None,
            privacy_url: None,
            tos_url: None,
            email: None,
            pec: None,
            phone: None,
            address: None,
            support_url: None,
            app_ios: None,
            app_android: None,
            cta: None,
            token_name: None,
        }
    }
}

/// A service as the old portal keeps it (stored as JSON, and sent as such by the freeze).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LegacyService {
    pub name: String,
    pub description: String,
    pub organization: Organization,
    #[serde(default)]
    pub require_secure_channel: bool,
    #[serde(default)]
    pub authorized_recipients: Vec<String>,
    #[serde(default)]
    pub authorized_cidrs: Vec<String>,
    #[serde(default)]
    pub max_allowed_payment_amount: i64,
    pub metadata: Metadata,
}

impl LegacyService {
    /// The service with every rule checked and its values in canonical form (trimmed, CIDRs and
    /// emails normalised, recipients upper-case, empty optionals as none), or every problem.
    pub fn checked(self) -> Result<LegacyService, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = required("name", &self.name, NAME_MAX, &mut errors);
        let description = required(
            "description",
            &self.description,
            DESCRIPTION_MAX,
            &mut errors,
        );
        let organization_name = required(
            "organization_name",
            &self.organization.name,
            TEXT_MAX,
            &mut errors,
        );
        let fiscal_code = self.organization.fiscal_code.trim().to_string();
        if !is_org_fiscal_code(&fiscal_code) {
            errors.push(FieldError::new(
                "organization_fiscal_code",
                "Il codice fiscale dell'ente deve essere di 11 cifre",
            ));
        }
        let department_name = optional_text(
            "department_name",
            self.organization.department_name,
            TEXT_MAX,
            &mut errors,
        );
        let m = self.metadata;
        if let Some(topic) = m.topic_id
            && !(1..=TOPIC_MAX).contains(&topic)
        {
            errors.push(FieldError::new(
                "topic_id",
                format!("L'argomento deve essere un numero da 1 a {TOPIC_MAX}"),
            ));
        }
        let metadata = Metadata {
            scope: m.scope,
            topic_id: m.topic_id,
            web_url: optional_url("web_url", m.web_url, &mut errors),
            privacy_url: optional_url("privacy_url", m.privacy_url, &mut errors),
            tos_url: optional_url("tos_url", m.tos_url, &mut errors),
            email: optional_email("email", m.email, &mut errors),
            pec: optional_email("pec", m.pec, &mut errors),
            phone: optional_phone(m.phone, &mut errors),
            address: optional_text("address", m.address, ADDRESS_MAX, &mut errors),
            support_url: optional_url("support_url", m.support_url, &mut errors),
            app_ios: optional_url("app_ios", m.app_ios, &mut errors),
            app_android: optional_url("app_android", m.app_android, &mut errors),
            cta: optional_text("cta", m.cta, CTA_MAX, &mut errors),
            token_name: optional_text("token_name", m.token_name, NAME_MAX, &mut errors),
        };
        let authorized_cidrs = check_cidrs(&self.authorized_cidrs, &mut errors);
        let authorized_recipients = check_recipients(&self.authorized_recipients, &mut errors);
        if !(0..=MAX_PAYMENT_AMOUNT).contains(&self.max_allowed_payment_amount) {
            errors.push(payment_error());
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(LegacyService {
            name,
            description,
            organization: Organization {
                name: organization_name,
                fiscal_code,
                department_name,
            },
            require_secure_channel: self.require_secure_channel,
            authorized_recipients,
            authorized_cidrs,
            max_allowed_payment_amount: self.max_allowed_payment_amount,
            metadata,
        })
    }
}

fn payment_error() -> FieldError {
    FieldError::new(
        "max_allowed_payment_amount",
        format!("L'importo massimo deve essere un numero intero da 0 a {MAX_PAYMENT_AMOUNT}"),
    )
}

fn required(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim();
    if value.is_empty() {
        errors.push(FieldError::new(field, "Campo obbligatorio"));
    } else if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("Al massimo {max} caratteri"),
        ));
    }
    value.to_string()
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = non_empty(value)?;
    if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("Al massimo {max} caratteri"),
        ));
    }
    Some(value)
}

/// Whether `url` is an http(s) address as the old portal accepted them.
pub fn is_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https:")
        .or_else(|| lower.strip_prefix("http:"));
    rest.is_some_and(|r| !r.is_empty())
        && url.chars().count() <= URL_MAX
        && !url.chars().any(char::is_whitespace)
}

fn optional_url(
    field: &str,
    value: Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = non_empty(value)?;
    if !is_url(&value) {
        errors.push(FieldError::new(
            field,
            format!(
                "Indirizzo non valido: deve iniziare con http: o https:, senza spazi, al massimo {URL_MAX} caratteri"
            ),
        ));
    }
    Some(value)
}

fn optional_email(
    field: &str,
    value: Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = non_empty(value)?;
    match Email::parse(&value) {
        Ok(email) => Some(email.as_str().to_string()),
        Err(e) => {
            errors.push(FieldError::new(
                field,
                format!("Indirizzo email non valido ({e})"),
            ));
            Some(value)
        }
    }
}

/// Digits with spaces, dots, dashes or slashes, an optional leading +, 6 to 20 characters.
pub fn is_phone(phone: &str) -> bool {
    let body = phone.strip_prefix('+').unwrap_or(phone);
    (6..=20).contains(&phone.chars().count())
        && body.chars().any(|c| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '/'))
}

fn optional_phone(value: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = non_empty(value)?;
    if !is_phone(&value) {
        errors.push(FieldError::new(
            "phone",
            "Numero non valido: cifre, spazi, . - / e un + iniziale facoltativo, da 6 a 20 caratteri",
        ));
    }
    Some(value)
}

fn check_cidrs(list: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out = Vec::new();
    for raw in list.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        match Cidr::parse(raw) {
            Ok(cidr) => out.push(cidr.as_str().to_string()),
            Err(e) => {
                errors.push(FieldError::new(
                    "authorized_cidrs",
                    format!("«{raw}» non è un indirizzo IPv4 o una rete CIDR valida ({e})"),
                ));
                return out;
            }
        }
    }
    if out.len() > CIDRS_MAX {
        errors.push(FieldError::new(
            "authorized_cidrs",
            format!("Al massimo {CIDRS_MAX} reti"),
        ));
    }
    out
}

/// A recipient looks like a person's fiscal code: 16 letters and digits.
pub fn is_recipient(s: &str) -> bool {
    s.len() == 16 && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn check_recipients(list: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out = Vec::new();
    for raw in list.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        if !is_recipient(raw) {
            errors.push(FieldError::new(
                "authorized_recipients",
                format!("«{raw}» non è un codice fiscale (16 lettere e cifre)"),
            ));
            return out;
        }
        out.push(raw.to_ascii_uppercase());
    }
    if out.len() > RECIPIENTS_MAX {
        errors.push(FieldError::new(
            "authorized_recipients",
            format!("Al massimo {RECIPIENTS_MAX} destinatari"),
        ));
    }
    out
}

/// Which of a service's two keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Primary,
    Secondary,
}

impl KeyKind {
    pub fn parse(s: &str) -> Option<KeyKind> {
        match s {
            "primary" => Some(KeyKind::Primary),
            "secondary" => Some(KeyKind::Secondary),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            KeyKind::Primary => "primaria",
            KeyKind::Secondary => "secondaria",
        }
    }
}

/// The service form as typed (every field a string), kept to show it again with its errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ServiceForm {
    pub name: String,
    pub description: String,
    pub organization_name: String,
    pub organization_fiscal_code: String,
    pub department_name: String,
    pub scope: String,
    pub topic_id: String,
    pub web_url: String,
    pub privacy_url: String,
    pub tos_url: String,
    pub email: String,
    pub pec: String,
    pub phone: String,
    pub address: String,
    /// One CIDR per line.
    pub authorized_cidrs: String,
    /// Fiscal codes, one per line (commas and spaces separate too).
    pub authorized_recipients: String,
    pub max_allowed_payment_amount: String,
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl ServiceForm {
    /// The form showing a stored service.
    pub fn from_service(s: &LegacyService) -> ServiceForm {
        let m = &s.metadata;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        ServiceForm {
            name: s.name.clone(),
            description: s.description.clone(),
            organization_name: s.organization.name.clone(),
            organization_fiscal_code: s.organization.fiscal_code.clone(),
            department_name: text(&s.organization.department_name),
            scope: m.scope.as_str().to_string(),
            topic_id: m.topic_id.map(|t| t.to_string()).unwrap_or_default(),
            web_url: text(&m.web_url),
            privacy_url: text(&m.privacy_url),
            tos_url: text(&m.tos_url),
            email: text(&m.email),
            pec: text(&m.pec),
            phone: text(&m.phone),
            address: text(&m.address),
            authorized_cidrs: s.authorized_cidrs.join("\n"),
            authorized_recipients: s.authorized_recipients.join("\n"),
            max_allowed_payment_amount: s.max_allowed_payment_amount.to_string(),
        }
    }

    /// The service the form describes. `base` is the stored service when editing: the fields
    /// the form does not show (support URL, apps, call to action, ...) keep its values.
    pub fn to_service(
        &self,
        base: Option<&LegacyService>,
    ) -> Result<LegacyService, Vec<FieldError>> {
        let mut errors = Vec::new();
        let scope = Scope::parse(&self.scope).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "scope",
                "Scegli l'ambito: nazionale (NATIONAL) o locale (LOCAL)",
            ));
            Scope::Local
        });
        let topic_id = match opt(&self.topic_id) {
            None => None,
            Some(t) => match t.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(FieldError::new(
                        "topic_id",
                        format!("L'argomento deve essere un numero da 1 a {TOPIC_MAX}"),
                    ));
                    None
                }
            },
        };
        let max_allowed_payment_amount = match opt(&self.max_allowed_payment_amount) {
            None => 0,
            Some(a) => a.parse::<i64>().unwrap_or_else(|_| {
                errors.push(payment_error());
                0
            }),
        };
        let mut metadata = base
            .map(|b| b.metadata.clone())
            .unwrap_or_else(|| Metadata::new(scope));
        metadata.scope = scope;
        metadata.topic_id = topic_id;
        metadata.web_url = opt(&self.web_url);
        metadata.privacy_url = opt(&self.privacy_url);
        metadata.tos_url = opt(&self.tos_url);
        metadata.email = opt(&self.email);
        metadata.pec = opt(&self.pec);
        metadata.phone = opt(&self.phone);
        metadata.address = opt(&self.address);
        let service = LegacyService {
            name: self.name.clone(),
            description: self.description.clone(),
            organization: Organization {
                name: self.organization_name.clone(),
                fiscal_code: self.organization_fiscal_code.clone(),
                department_name: opt(&self.department_name),
            },
            require_secure_channel: base.is_some_and(|b| b.require_secure_channel),
            authorized_recipients: split_list(&self.authorized_recipients),
            authorized_cidrs: split_list(&self.authorized_cidrs),
            max_allowed_payment_amount,
            metadata,
        };
        match service.checked() {
            Ok(service) if errors.is_empty() => Ok(service),
            Ok(_) => Err(errors),
            Err(more) => {
                // A field that could not even be parsed reports that, not a later rule.
                for e in more {
                    if !errors.iter().any(|x| x.field == e.field) {
                        errors.push(e);
                    }
                }
                Err(errors)
            }
        }
    }
}

/// Entries of a textarea: one per line, commas and blanks separate too.
fn split_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
