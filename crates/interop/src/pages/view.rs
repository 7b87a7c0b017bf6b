//! What the pages show, ready for the templates: dates, state labels and badges, errors in the
//! person's language next to their fields.

use std::collections::{BTreeMap, HashMap};

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use platform::i18n::Lang;
use platform::layout::Page;

use crate::error::InteropError;
use crate::model::{AgreementState, DescriptorState, FieldError, PurposeVersionState};

/// A whole number with its thousands grouped as people write it (10.000 / 10,000).
pub fn grouped(lang: Lang, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = match lang {
        Lang::It => '.',
        Lang::En => ',',
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A state as shown: its label key, its badge class and its raw value.
#[derive(Clone, Copy)]
pub struct StateView {
    pub key: &'static str,
    pub badge: &'static str,
    pub raw: &'static str,
}

/// A button of a record's page (an agreement, a purpose) that posts one action.
pub struct ActionButton {
    /// The `action` posted; the button's test id is `action-<value>`.
    pub value: &'static str,
    /// `btn-primary`, `btn-outline` or `btn-danger`.
    pub class: &'static str,
    pub label_key: &'static str,
    /// The version the action is on (a purpose's).
    pub version: Option<String>,
    /// Shown after the label (the version an upgrade moves to).
    pub suffix: Option<String>,
}

impl ActionButton {
    pub fn new(value: &'static str, class: &'static str, label_key: &'static str) -> Self {
        ActionButton {
            value,
            class,
            label_key,
            version: None,
            suffix: None,
        }
    }
}

pub fn agreement_state(s: AgreementState) -> StateView {
    let (key, badge) = match s {
        AgreementState::Draft => ("interop.agreement_state.draft", "badge"),
        AgreementState::Pending => ("interop.agreement_state.pending", "badge badge-warning"),
        AgreementState::Active => ("interop.agreement_state.active", "badge badge-success"),
        AgreementState::Suspended => ("interop.agreement_state.suspended", "badge badge-warning"),
        AgreementState::Archived => ("interop.agreement_state.archived", "badge"),
        AgreementState::Rejected => ("interop.agreement_state.rejected", "badge badge-danger"),
        AgreementState::MissingCertifiedAttributes => (
            "interop.agreement_state.missing_attributes",
            "badge badge-danger",
        ),
    };
    StateView {
        key,
        badge,
        raw: s.as_str(),
    }
}

pub fn purpose_state(s: PurposeVersionState) -> StateView {
    let (key, badge) = match s {
        PurposeVersionState::Draft => ("interop.purpose_state.draft", "badge"),
        PurposeVersionState::Active => ("interop.purpose_state.active", "badge badge-success"),
        PurposeVersionState::Suspended => {
            ("interop.purpose_state.suspended", "badge badge-warning")
        }
        PurposeVersionState::Archived => ("interop.purpose_state.archived", "badge"),
        PurposeVersionState::WaitingForApproval => {
            ("interop.purpose_state.waiting", "badge badge-warning")
        }
        PurposeVersionState::Rejected => ("interop.purpose_state.rejected", "badge badge-danger"),
    };
    StateView {
        key,
        badge,
        raw: s.as_str(),
    }
}

pub fn descriptor_state(s: DescriptorState) -> StateView {
    let (key, badge) = match s {
        DescriptorState::Draft => ("interop.descriptor_state.draft", "badge"),
        DescriptorState::Published => ("interop.descriptor_state.published", "badge badge-success"),
        DescriptorState::Suspended => ("interop.descriptor_state.suspended", "badge badge-warning"),
        DescriptorState::Deprecated => ("interop.descriptor_state.deprecated", "badge"),
        DescriptorState::Archived => ("interop.descriptor_state.archived", "badge"),
    };
    StateView {
        key,
        badge,
        raw: s.as_str(),
    }
}

pub fn policy_key(raw: &str) -> &'static str {
    if raw == "AUTOMATIC" {
        "interop.policy.automatic"
    } else {
        "interop.policy.manual"
    }
}

pub use platform::i18n::tr;

/// The values of the `{}` holes of `pattern` in `text`, when `text` has its shape.
fn capture(pattern: &str, text: &str) -> Option<Vec<String>> {
    let pieces: Vec<&str> = pattern.split("{}").collect();
    let mut rest = text.strip_prefix(pieces.first()?)?;
    let mut out = Vec::new();
    for (i, literal) in pieces.iter().enumerate().skip(1) {
        let last = i == pieces.len() - 1;
        let end = if last && literal.is_empty() {
            rest.len()
        } else {
            rest.find(literal)?
        };
        out.push(rest[..end].to_string());
        rest = &rest[end + literal.len()..];
    }
    rest.is_empty().then_some(out)
}

/// A model's field message in the person's language (the message as it is when it has no
/// translation).
pub fn localize_field(page: &Page, message: &str) -> String {
    let m = message.trim();
    let simple: &[(&str, &str)] = &[
        ("is required", "interop.field.required"),
        ("is required (true or false)", "interop.field.required"),
        ("must not be empty", "interop.field.required"),
        ("must be a number", "interop.field.whole_number"),
        ("must be a whole number", "interop.field.whole_number"),
        (
            "is required when the purpose is free of charge",
            "interop.field.free_reason_required",
        ),
        (
            "must not be given unless isFreeOfCharge is true",
            "interop.field.free_reason_refused",
        ),
        (
            "must be the id (a UUID) of an e-service",
            "interop.field.eservice_required",
        ),
        ("unknown action", "interop.field.unknown_action"),
        ("confirm to delete", "interop.field.confirm_delete"),
    ];
    if let Some((_, key)) = simple.iter().find(|(text, _)| *text == m) {
        return page.t(key).to_string();
    }
    let patterns: &[(&str, &str, &[&str])] = &[
        (
            "must be {} to {} characters (it has {})",
            "interop.field.length",
            &["min", "max", "n"],
        ),
        (
            "must be between {} and {} (it is {})",
            "interop.field.range",
            &["min", "max", "n"],
        ),
        (
            "must have exactly one value (it has {})",
            "interop.field.one_value",
            &["n"],
        ),
    ];
    for (pattern, key, names) in patterns {
        if let Some(values) = capture(pattern, m) {
            let args: Vec<(&str, &str)> = names
                .iter()
                .zip(values.iter())
                .map(|(n, v)| (*n, v.as_str()))
                .collect();
            return tr(page.t(key), &args);
        }
    }
    m.to_string()
}

/// A refusal (409 and its kin) in the person's language: the code's message when the
/// catalogue has one, else the model's.
pub fn localize_error(page: &Page, error: &InteropError) -> String {
    match error {
        InteropError::Conflict(code, message) | InteropError::Rejected(code, message) => {
            let key = format!("interop.refusals.{code}");
            if page.catalogue.contains(&key) {
                page.t(&key).to_string()
            } else {
                message.clone()
            }
        }
        InteropError::Invalid(errors) => errors
            .iter()
            .map(|e| localize_field(page, &e.message))
            .collect::<Vec<_>>()
            .join("; "),
        InteropError::Forbidden(why) => {
            format!("{} ({why})", page.t("interop.errors.forbidden_title"))
        }
        InteropError::Refused(r) => refusal_words(page, r),
        other => other.to_string(),
    }
}

/// A rule's refusal in the person's language, by its code (never the rule's English).
pub fn refusal_words(page: &Page, r: &crate::model::Refusal) -> String {
    let key = format!("interop.forbidden.{}", r.code);
    if page.catalogue.contains(&key) {
        page.t(&key).to_string()
    } else {
        page.t("interop.forbidden.other").to_string()
    }
}

/// Whether an error is shown on the page it happened on (a refusal, bad input, a missing
/// right) rather than as an error page.
pub fn shown_in_place(error: &InteropError) -> bool {
    matches!(
        error,
        InteropError::Conflict(..)
            | InteropError::Rejected(..)
            | InteropError::Invalid(_)
            | InteropError::Forbidden(_)
            | InteropError::Refused(_)
    )
}

/// Errors of a form, by the name of the form's field, in the person's language.
#[derive(Default, Clone)]
pub struct FormErrors {
    pub by_field: BTreeMap<String, Vec<String>>,
    /// Errors that belong to no field of the form.
    pub general: Vec<String>,
}

impl FormErrors {
    /// Places the model's errors: `field_of` names the form field of a JSON path (or `None`
    /// when the form has none).
    pub fn place(
        page: &Page,
        errors: &[FieldError],
        field_of: impl Fn(&str) -> Option<String>,
    ) -> FormErrors {
        let mut out = FormErrors::default();
        for e in errors {
            let message = localize_field(page, &e.message);
            match field_of(&e.field) {
                Some(f) => out.by_field.entry(f).or_default().push(message),
                None => out.general.push(format!("{}: {message}", e.field)),
            }
        }
        out
    }

    pub fn add(&mut self, field: &str, message: String) {
        self.by_field
            .entry(field.to_string())
            .or_default()
            .push(message);
    }

    pub fn of(&self, field: &str) -> Option<String> {
        self.by_field.get(field).map(|m| m.join("; "))
    }

    pub fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_empty()
    }

    pub fn count(&self) -> usize {
        self.by_field.len() + self.general.len()
    }
}

pub fn query(q: Result<Query<HashMap<String, String>>, QueryRejection>) -> HashMap<String, String> {
    q.map(|Query(q)| q).unwrap_or_default()
}

/// The message of `?done=<what>` after an action, when the catalogue has one.
pub fn flash(page: &Page, q: &HashMap<String, String>) -> Option<String> {
    let done = q.get("done")?;
    if !done.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return None;
    }
    let key = format!("interop.flash.{done}");
    page.catalogue
        .contains(&key)
        .then(|| page.t(&key).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::Timestamp;

    #[test]
    fn dates_are_civil_in_rome() {
        // The pages show dates through `platform::Timestamp::for_people`: Rome's local time.
        assert_eq!(Timestamp(0).for_people(Lang::It), "01/01/1970 01:00");
        // 2024-02-29 13:05 UTC
        assert_eq!(
            Timestamp(1_709_211_900_000).for_people(Lang::En),
            "29/02/2024 14:05"
        );
        assert_eq!(
            Timestamp(1_709_211_900_000).for_people(Lang::It),
            "29/02/2024 14:05"
        );
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(grouped(Lang::It, 1_000_000), "1.000.000");
        assert_eq!(grouped(Lang::En, 10_000), "10,000");
        assert_eq!(grouped(Lang::It, 600), "600");
        assert_eq!(grouped(Lang::It, -1000), "-1.000");
    }

    #[test]
    fn patterns_capture_their_holes() {
        assert_eq!(
            capture(
                "must be {} to {} characters (it has {})",
                "must be 5 to 60 characters (it has 3)"
            ),
            Some(vec!["5".into(), "60".into(), "3".into()])
        );
        assert_eq!(capture("must be {} to {}", "must not"), None);
        assert_eq!(capture("is required", "is required"), Some(vec![]));
    }
}

/// The next step on the way from an agreement to a voucher, shown after each one: what to do
/// (a message key) and where (an address and its label's key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextStep {
    pub text_key: &'static str,
    pub link: Option<(String, &'static str)>,
}

impl NextStep {
    pub fn new(text_key: &'static str, href: String, label_key: &'static str) -> Self {
        NextStep {
            text_key,
            link: Some((href, label_key)),
        }
    }
}

/// How many rows a page of a list shows.
pub const PAGE_SIZE: i64 = 20;

/// The page `?page=` asks for: 1 when absent or not a number, at most as far as a window may
/// start ([`crate::store::Window::MAX_OFFSET`]).
pub fn page_number(q: &HashMap<String, String>) -> i64 {
    q.get("page")
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, crate::store::Window::MAX_OFFSET / PAGE_SIZE + 1)
}

/// The window of the page `number`.
pub fn page_window(number: i64) -> crate::store::Window {
    crate::store::Window::page(number, PAGE_SIZE)
}

/// The pager of a list of `total` rows shown at page `number` (the platform's
/// `pager.html`); `href` is the list's address at a page, with the filters applied.
pub fn pager(number: i64, total: i64, href: impl Fn(i64) -> String) -> platform::paging::Pager {
    platform::paging::Pager::new(number, PAGE_SIZE, total, href)
}

/// The address `base` with the `filters` that have a value and the page `number` (left out
/// for the first).
pub fn list_href(base: &str, filters: &[(&str, &str)], number: i64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in filters {
        if !value.trim().is_empty() {
            query.append_pair(key, value.trim());
        }
    }
    if number > 1 {
        query.append_pair("page", &number.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{query}")
    }
}
