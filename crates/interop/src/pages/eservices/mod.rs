//! "I miei e-service": a producer's e-services with their versions, the creation form, an
//! e-service's page and a version's page (its interface, its documents, its lifecycle). Every
//! change goes through the same store functions and model rules as the JSON API.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::Timestamp;
use platform::i18n::Lang;
use platform::layout::{ErrorSummary, Page};
use platform::web::FormData;
use serde_json::{Map, Value, json};

use super::view::{
    FormErrors, StateView, descriptor_state, flash, grouped, localize_field, policy_key, query, tr,
};
use super::{On, PageError, Shell, render};
use crate::error::InteropError;
use crate::model::descriptor::{self, PublishedUpdate};
use crate::model::{self as rules, AgreementApprovalPolicy, DescriptorInput, EServiceInput};
use crate::model::{Mode, Technology, eservice};
use crate::state::EnvState;
use crate::store::catalogue::{self, Descriptor, EService};
use crate::store::documents::DocumentInfo;

mod create;
mod page;
mod requirements;
mod version;

pub use create::{create, new_form};
pub use page::{act, show};
pub use version::{document, version, version_act};

// ---- shared by the pages ----

/// A choice of a group of radio buttons: its value, its label's key and its hint's key ("" for
/// none).
pub struct Choice {
    pub value: &'static str,
    pub label_key: &'static str,
    pub hint_key: &'static str,
}

const fn choice(value: &'static str, label_key: &'static str, hint_key: &'static str) -> Choice {
    Choice {
        value,
        label_key,
        hint_key,
    }
}

pub const TECHNOLOGIES: &[Choice] = &[
    choice(
        "REST",
        "interop.eservice_form.rest",
        "interop.eservice_form.rest_hint",
    ),
    choice(
        "SOAP",
        "interop.eservice_form.soap",
        "interop.eservice_form.soap_hint",
    ),
];

pub const MODES: &[Choice] = &[
    choice(
        "DELIVER",
        "interop.mode.deliver",
        "interop.eservice_form.deliver_hint",
    ),
    choice(
        "RECEIVE",
        "interop.mode.receive",
        "interop.eservice_form.receive_hint",
    ),
];

pub const YES_NO: &[Choice] = &[
    choice("true", "interop.eservice_form.yes", ""),
    choice("false", "interop.eservice_form.no", ""),
];

pub const POLICIES: &[Choice] = &[
    choice(
        "AUTOMATIC",
        "interop.eservice_form.automatic",
        "interop.eservice_form.automatic_hint",
    ),
    choice(
        "MANUAL",
        "interop.eservice_form.manual",
        "interop.eservice_form.manual_hint",
    ),
];

/// The voucher's lifespan as the pages ask it, in minutes (the model keeps seconds).
pub const MINUTES_MIN: i64 = descriptor::VOUCHER_LIFESPAN_MIN / 60;
pub const MINUTES_MAX: i64 = descriptor::VOUCHER_LIFESPAN_MAX / 60;

/// Only an admin or an API operator works on the institution's e-services.
fn require_producer(on: &On) -> Result<(), PageError> {
    if rules::may_manage_eservices(&on.member.roles) {
        Ok(())
    } else {
        Err(on.fail(InteropError::Forbidden(
            on.page.t("interop.eservices.producers_only").to_string(),
        )))
    }
}

pub fn mode_key(mode: &str) -> &'static str {
    if mode == Mode::Deliver.as_str() {
        "interop.mode.deliver"
    } else {
        "interop.mode.receive"
    }
}

pub fn personal_data_key(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "interop.eservice_form.yes",
        Some(false) => "interop.eservice_form.no",
        None => "interop.eservice_page.personal_data_unsaid",
    }
}

/// A whole number as typed: digits, possibly grouped by thousands as people write them
/// (`10.000`, `10,000`, `10 000`).
fn whole(raw: &str) -> Option<i64> {
    let t = raw.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Some(n);
    }
    let groups: Vec<&str> = t.split(['.', ',', ' ', '\u{a0}']).collect();
    let grouped = groups.len() > 1
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()))
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3);
    if grouped {
        groups.concat().parse().ok()
    } else {
        None
    }
}

/// A number typed in a form as JSON: blank is absent, a whole number a number, anything else
/// a string (which the model refuses with its own message).
fn number(raw: &str) -> Option<Value> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    Some(whole(t).map_or_else(|| json!(t), |n| json!(n)))
}

/// A message of the catalogue with its `{name}` holes filled.
fn say(page: &Page, key: &str, args: &[(&str, &str)]) -> String {
    tr(page.t(key), args)
}

/// A model's field message in the person's language, with the messages of these forms the
/// shared catalogue does not know.
fn words(page: &Page, message: &str) -> String {
    let m = message.trim();
    if m.starts_with("is required") {
        return page.t("interop.field.required").to_string();
    }
    let bad_choice = (m.starts_with("must be ") && m.contains(" or ") && m.contains("(it is"))
        || m.starts_with("must be a string:")
        || m == "must be true or false";
    if bad_choice {
        return page.t("interop.eservice_form.choose_one").to_string();
    }
    if m.starts_with("must not exceed dailyCallsTotal") {
        return page
            .t("interop.eservice_form.daily_calls_over_total")
            .to_string();
    }
    if let Some(value) = m.strip_suffix(" appears more than once") {
        return say(
            page,
            "interop.eservice_form.audience_duplicate",
            &[("value", value.trim_matches('"'))],
        );
    }
    if m.starts_with("must have at most") {
        return say(
            page,
            "interop.eservice_form.audience_too_many",
            &[("max", &descriptor::AUDIENCE_MAX_ITEMS.to_string())],
        );
    }
    localize_field(page, m)
}

/// What was typed in the e-service's fields (creation, or a change before publication).
#[derive(Default, Clone)]
pub struct EServiceForm {
    pub name: String,
    pub description: String,
    pub technology: String,
    pub mode: String,
    /// `true`, `false` or empty.
    pub personal_data: String,
}

impl EServiceForm {
    pub fn posted(data: &FormData) -> Self {
        EServiceForm {
            name: data.value("name").to_string(),
            description: data.value("description").to_string(),
            technology: data.value("technology").trim().to_string(),
            mode: data.value("mode").trim().to_string(),
            personal_data: data.value("personalData").trim().to_string(),
        }
    }

    pub fn of(e: &EService) -> Self {
        EServiceForm {
            name: e.name.clone(),
            description: e.description.clone(),
            technology: e.technology.clone(),
            mode: e.mode.clone(),
            personal_data: e.personal_data.map(|b| b.to_string()).unwrap_or_default(),
        }
    }

    fn json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("description".into(), json!(self.description));
        for (key, value) in [("technology", &self.technology), ("mode", &self.mode)] {
            if !value.is_empty() {
                m.insert(key.into(), json!(value));
            }
        }
        match self.personal_data.as_str() {
            "true" => {
                m.insert("personalData".into(), json!(true));
            }
            "false" => {
                m.insert("personalData".into(), json!(false));
            }
            "" => {}
            other => {
                m.insert("personalData".into(), json!(other));
            }
        }
        Value::Object(m)
    }

    /// The e-service as the model reads it; the page asks every choice (the model lets the
    /// mode default and the personal data wait until publication). Errors by field name.
    pub fn parse(&self, page: &Page) -> Result<EServiceInput, FormErrors> {
        let mut errors = FormErrors::default();
        for (field, value) in [
            ("technology", &self.technology),
            ("mode", &self.mode),
            ("personalData", &self.personal_data),
        ] {
            if value.is_empty() {
                errors.add(field, page.t("interop.eservice_form.choose").to_string());
            }
        }
        let parsed = eservice::parse_eservice(&self.json());
        if let Err(model) = &parsed {
            for e in model {
                if errors.of(&e.field).is_none() {
                    errors.add(&e.field, words(page, &e.message));
                }
            }
        }
        match parsed {
            Ok(input) if errors.is_empty() => Ok(input),
            _ => Err(errors),
        }
    }
}

/// What was typed in a version's fields; the voucher's lifespan in minutes.
#[derive(Default, Clone)]
pub struct VersionForm {
    pub description: String,
    /// One audience a line.
    pub audience: String,
    pub minutes: String,
    pub per_consumer: String,
    pub total: String,
    pub policy: String,
}

impl VersionForm {
    pub fn posted(data: &FormData) -> Self {
        VersionForm {
            description: data.value("versionDescription").to_string(),
            audience: data.value("audience").to_string(),
            minutes: data.value("voucherMinutes").to_string(),
            per_consumer: data.value("dailyCallsPerConsumer").to_string(),
            total: data.value("dailyCallsTotal").to_string(),
            policy: data.value("agreementApprovalPolicy").trim().to_string(),
        }
    }

    pub fn of(d: &Descriptor) -> Self {
        VersionForm {
            description: d.description.clone().unwrap_or_default(),
            audience: d.audience.join("\n"),
            minutes: minutes_of(d.voucher_lifespan),
            per_consumer: d.daily_calls_per_consumer.to_string(),
            total: d.daily_calls_total.to_string(),
            policy: d.agreement_approval_policy.to_string(),
        }
    }

    /// The defaults of a first version.
    pub fn first() -> Self {
        VersionForm {
            minutes: "10".into(),
            policy: AgreementApprovalPolicy::Automatic.as_str().into(),
            ..VersionForm::default()
        }
    }

    /// The audience's lines that say something, with their line numbers (from 1).
    fn audience_lines(&self) -> Vec<(usize, String)> {
        self.audience
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, l.trim().to_string()))
            .collect()
    }

    /// The lifespan in seconds, checked in minutes by the page.
    fn lifespan(&self, page: &Page, errors: &mut FormErrors) -> Option<Value> {
        let raw = self.minutes.trim();
        let message = if raw.is_empty() {
            page.t("interop.field.required").to_string()
        } else {
            match whole(raw) {
                Some(m) if (MINUTES_MIN..=MINUTES_MAX).contains(&m) => return Some(json!(m * 60)),
                Some(m) => minutes_range(page, &m.to_string()),
                None => page.t("interop.field.whole_number").to_string(),
            }
        };
        errors.add("voucherMinutes", message);
        None
    }

    fn limits_json(&self, page: &Page, errors: &mut FormErrors) -> Map<String, Value> {
        let mut m = Map::new();
        if let Some(v) = self.lifespan(page, errors) {
            m.insert("voucherLifespan".into(), v);
        }
        for (key, raw) in [
            ("dailyCallsPerConsumer", &self.per_consumer),
            ("dailyCallsTotal", &self.total),
        ] {
            if let Some(v) = number(raw) {
                m.insert(key.into(), v);
            }
        }
        m
    }

    /// Places the model's errors (by JSON path) next to the form's fields.
    fn place(&self, page: &Page, model: &[rules::FieldError], errors: &mut FormErrors) {
        let lines = self.audience_lines();
        for e in model {
            let (field, message) = match e.field.as_str() {
                "description" => ("versionDescription", words(page, &e.message)),
                // The minutes field says its own words.
                "voucherLifespan" if errors.of("voucherMinutes").is_some() => continue,
                "voucherLifespan" => ("voucherMinutes", minutes_range(page, "?")),
                "audience" => ("audience", words(page, &e.message)),
                p if p.starts_with("audience[") => {
                    let i: usize = p
                        .trim_start_matches("audience[")
                        .trim_end_matches(']')
                        .parse()
                        .unwrap_or(0);
                    let line = lines.get(i).map_or(i + 1, |(n, _)| *n);
                    (
                        "audience",
                        say(
                            page,
                            "interop.eservice_form.audience_line",
                            &[
                                ("n", &line.to_string()),
                                ("message", &words(page, &e.message)),
                            ],
                        ),
                    )
                }
                "dailyCallsPerConsumer" => ("dailyCallsPerConsumer", words(page, &e.message)),
                "dailyCallsTotal" => ("dailyCallsTotal", words(page, &e.message)),
                "agreementApprovalPolicy" => ("agreementApprovalPolicy", words(page, &e.message)),
                other => {
                    errors
                        .general
                        .push(format!("{other}: {}", words(page, &e.message)));
                    continue;
                }
            };
            errors.add(field, message);
        }
    }

    /// A draft's whole content as the model reads it. Errors by field name.
    pub fn parse(&self, page: &Page) -> Result<DescriptorInput, FormErrors> {
        let mut errors = FormErrors::default();
        let mut m = self.limits_json(page, &mut errors);
        m.insert("description".into(), json!(self.description));
        let audience: Vec<String> = self.audience_lines().into_iter().map(|(_, l)| l).collect();
        m.insert("audience".into(), json!(audience));
        if self.policy.is_empty() {
            errors.add(
                "agreementApprovalPolicy",
                page.t("interop.eservice_form.choose").to_string(),
            );
        } else {
            m.insert("agreementApprovalPolicy".into(), json!(self.policy));
        }
        match descriptor::parse_descriptor(&Value::Object(m)) {
            Ok(input) if errors.is_empty() => Ok(input),
            Ok(_) => Err(errors),
            Err(model) => {
                let model: Vec<_> = model
                    .into_iter()
                    .filter(|e| !(e.field == "agreementApprovalPolicy" && self.policy.is_empty()))
                    .collect();
                self.place(page, &model, &mut errors);
                Err(errors)
            }
        }
    }

    /// A published version's lifespan and daily calls as the model reads them.
    pub fn parse_limits(&self, page: &Page) -> Result<PublishedUpdate, FormErrors> {
        let mut errors = FormErrors::default();
        let m = self.limits_json(page, &mut errors);
        match descriptor::parse_published_update(&Value::Object(m)) {
            Ok(update) if errors.is_empty() => Ok(update),
            Ok(_) => Err(errors),
            Err(model) => {
                self.place(page, &model, &mut errors);
                Err(errors)
            }
        }
    }

    /// The approval policy as the model reads it.
    pub fn parse_policy(&self, page: &Page) -> Result<AgreementApprovalPolicy, FormErrors> {
        let mut errors = FormErrors::default();
        if self.policy.is_empty() {
            errors.add(
                "agreementApprovalPolicy",
                page.t("interop.eservice_form.choose").to_string(),
            );
            return Err(errors);
        }
        descriptor::parse_policy(&json!({ "agreementApprovalPolicy": self.policy })).map_err(
            |model| {
                self.place(page, &model, &mut errors);
                errors
            },
        )
    }
}

/// "Between 1 and 1440 minutes (it is n)".
fn minutes_range(page: &Page, n: &str) -> String {
    say(
        page,
        "interop.eservice_form.minutes_range",
        &[
            ("min", &MINUTES_MIN.to_string()),
            ("max", &MINUTES_MAX.to_string()),
            ("n", n),
        ],
    )
}

/// Seconds as whole minutes for the form (a lifespan set through the API may have seconds
/// left over: rounded up, so that the form never shortens it unasked).
fn minutes_of(seconds: i64) -> String {
    ((seconds + 59) / 60).to_string()
}

/// A lifespan in minutes as people read it ("10 minuti", "1 minute", "90 s" when not whole).
pub fn lifespan_for_people(page: &Page, seconds: i64) -> String {
    if seconds % 60 != 0 {
        return format!(
            "{} {}",
            grouped(page.lang, seconds),
            page.t("interop.eservice.seconds")
        );
    }
    let minutes = seconds / 60;
    if minutes == 1 {
        page.t("interop.eservice_form.one_minute").to_string()
    } else {
        say(
            page,
            "interop.eservice_form.minutes_n",
            &[("n", &grouped(page.lang, minutes))],
        )
    }
}

/// A size in bytes as people read it (`812 byte`, `12,4 KB`, `2,1 MB`).
pub fn size_for_people(lang: Lang, bytes: i64) -> String {
    let one = |value: f64, unit: &str| {
        let text = format!("{value:.1}");
        let text = match lang {
            Lang::It => text.replace('.', ","),
            Lang::En => text,
        };
        format!("{text} {unit}")
    };
    #[expect(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} byte")
    } else if bytes < 1024 * 1024 {
        one(b / 1024.0, "KB")
    } else {
        one(b / (1024.0 * 1024.0), "MB")
    }
}

/// A file of a version as the pages show it, with its download address.
pub struct FileLine {
    pub id: String,
    pub pretty_name: String,
    pub file_name: String,
    pub size: String,
    pub uploaded: String,
    pub href: String,
}

impl FileLine {
    /// The file, downloaded from `base` (a version's page, the producer's or the catalogue's)
    /// followed by `/documents/<id>`.
    pub fn of(on: &On, base: &str, f: &DocumentInfo) -> Self {
        FileLine {
            id: f.id.clone(),
            pretty_name: f.pretty_name.clone(),
            file_name: f.name.clone(),
            size: size_for_people(on.page.lang, f.size),
            uploaded: Timestamp(f.upload_date).for_people(on.page.lang),
            href: on.href(&format!("{base}/documents/{}", f.id)),
        }
    }
}

pub fn version_path(eservice_id: &str, descriptor_id: &str) -> String {
    format!("/eservices/{eservice_id}/versions/{descriptor_id}")
}

/// The summary at the top of a page: each error of a field linked to the field's id
/// (`id_of` the field's name), then the errors of no field.
fn summary(page: &Page, errors: &FormErrors, id_of: impl Fn(&str) -> String) -> ErrorSummary {
    let mut items: Vec<(String, String)> = Vec::new();
    for (field, messages) in &errors.by_field {
        for m in messages {
            items.push((id_of(field), m.clone()));
        }
    }
    items.extend(errors.general.iter().map(|m| (String::new(), m.clone())));
    ErrorSummary::new(page, items)
}

/// The technology an e-service's interface is written for, as the upload form accepts it.
pub fn interface_accept(technology: &str) -> &'static str {
    match Technology::parse(technology) {
        Some(Technology::Soap) => ".wsdl,.xml",
        _ => ".json,.yaml,.yml",
    }
}

// ---- the list ----

pub struct DescriptorLine {
    pub version: String,
    pub href: String,
    pub state: StateView,
    pub policy_key: &'static str,
    pub daily_calls_per_consumer: String,
    pub daily_calls_total: String,
    pub voucher_lifespan: String,
    pub audience: String,
    pub published_at: Option<String>,
}

pub struct EServiceLine {
    pub id: String,
    pub href: String,
    pub name: String,
    pub description: String,
    pub technology: String,
    pub mode_key: &'static str,
    /// Its page in the catalogue, when a version is published.
    pub catalog_href: Option<String>,
    pub versions: Vec<DescriptorLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "eservices.html")]
pub struct EServicesPage {
    page: Page,
    shell: Shell,
    new_href: String,
    lines: Vec<EServiceLine>,
    flash: Option<String>,
    pager: platform::paging::Pager,
}

/// `GET /eservices?page=` (admin or api): 20 a page, by name.
pub async fn list(
    State(state): State<EnvState>,
    on: On,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    require_producer(&on)?;
    let q = query(q);
    let number = super::view::page_number(&q);
    let found = catalogue::producer_page(
        &state.platform.db,
        state.env,
        on.institution(),
        super::view::page_window(number),
    )
    .await
    .map_err(|e| on.fail(e))?;
    let base_href = on.href("/eservices");
    let pager = super::view::pager(number, found.total_count, |n| {
        super::view::list_href(&base_href, &[], n)
    });
    let lang = on.page.lang;
    let lines = found
        .results
        .iter()
        .map(|e| EServiceLine {
            id: e.id.clone(),
            href: on.href(&format!("/eservices/{}", e.id)),
            name: e.name.clone(),
            description: e.description.clone(),
            technology: e.technology.clone(),
            mode_key: mode_key(&e.mode),
            catalog_href: e
                .latest_published()
                .map(|_| on.href(&format!("/catalog/{}", e.id))),
            versions: e
                .descriptors
                .iter()
                .rev()
                .map(|d| DescriptorLine {
                    version: d.version.clone(),
                    href: on.href(&version_path(&e.id, &d.id)),
                    state: descriptor_state(d.state_value),
                    policy_key: policy_key(d.agreement_approval_policy),
                    daily_calls_per_consumer: grouped(lang, d.daily_calls_per_consumer),
                    daily_calls_total: grouped(lang, d.daily_calls_total),
                    voucher_lifespan: lifespan_for_people(&on.page, d.voucher_lifespan),
                    audience: d.audience.join(", "),
                    published_at: d.published_at.map(|t| Timestamp(t).for_people(lang)),
                })
                .collect(),
        })
        .collect();
    let flash = flash(&on.page, &q);
    let new_href = on.href("/eservices/new");
    let On { page, shell, .. } = on;
    Ok(render(
        EServicesPage {
            page,
            shell,
            new_href,
            lines,
            flash,
            pager,
        },
        StatusCode::OK,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_as_people_write_them() {
        assert_eq!(whole("10000"), Some(10_000));
        assert_eq!(whole(" 10.000 "), Some(10_000));
        assert_eq!(whole("1,000,000"), Some(1_000_000));
        assert_eq!(whole("1.5"), None);
        assert_eq!(whole("10.00"), None);
        assert_eq!(whole("dieci"), None);
        assert_eq!(number(""), None);
        assert_eq!(number("abc"), Some(json!("abc")));
    }

    #[test]
    fn lifespans_are_minutes() {
        assert_eq!(minutes_of(600), "10");
        assert_eq!(minutes_of(90), "2");
        assert_eq!((MINUTES_MIN, MINUTES_MAX), (1, 1440));
        assert_eq!(size_for_people(Lang::It, 812), "812 byte");
        assert_eq!(size_for_people(Lang::It, 12_700), "12,4 KB");
        assert_eq!(size_for_people(Lang::En, 3 * 1024 * 1024), "3.0 MB");
    }
}
