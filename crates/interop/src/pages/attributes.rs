//! "Attributi": what the institution holds (certified, declared, verified) and its contact
//! email; the registry of attributes with the creation of declared and verified ones; and how
//! the other pages show a version's requirements (groups, held or missing) and say a refusal
//! about attributes naming them. Every change goes through the same store functions as the
//! JSON API, with the same rights (declaring and the contact email: the admin).

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::Timestamp;
use platform::db::now_millis;
use platform::layout::Page;

use super::eservices::Choice;
use super::view::{FormErrors, flash, localize_error, query, shown_in_place};
use super::{On, PageError, Pairs, Shell, render, see_other, value};
use crate::error::InteropError;
use crate::model::Role;
use crate::model::attribute::{self as rules, AttributeInput, AttributeKind, Held, Requirements};
use crate::state::EnvState;
use crate::store::attributes::{self, Attribute, HeldAttribute, TenantAttributes};

// ---- words shared by the pages ----

/// An attribute's kind in words ("Certificato").
pub fn kind_key(kind: AttributeKind) -> &'static str {
    match kind {
        AttributeKind::Certified => "interop.attributes.kind_certified",
        AttributeKind::Declared => "interop.attributes.kind_declared",
        AttributeKind::Verified => "interop.attributes.kind_verified",
    }
}

/// The title of a kind's list ("Attributi certificati").
pub fn kind_title_key(kind: AttributeKind) -> &'static str {
    match kind {
        AttributeKind::Certified => "interop.attributes.certified_title",
        AttributeKind::Declared => "interop.attributes.declared_title",
        AttributeKind::Verified => "interop.attributes.verified_title",
    }
}

/// The kind as an adjective inside a sentence ("certificato").
fn kind_adjective_key(kind: AttributeKind) -> &'static str {
    match kind {
        AttributeKind::Certified => "interop.requirements.of_kind_certified",
        AttributeKind::Declared => "interop.requirements.of_kind_declared",
        AttributeKind::Verified => "interop.requirements.of_kind_verified",
    }
}

/// An instant the store writes in RFC 3339, as people read it.
fn when(page: &Page, rfc3339: &str) -> String {
    Timestamp::parse_rfc3339(rfc3339)
        .map_or_else(|| rfc3339.to_string(), |t| t.for_people(page.lang))
}

/// A day the store writes in RFC 3339, as people read it.
fn day(page: &Page, rfc3339: &str) -> String {
    Timestamp::parse_rfc3339(rfc3339)
        .map_or_else(|| rfc3339.to_string(), |t| t.date_for_people(page.lang))
}

/// The address of an attribute's page in the registry.
pub fn attribute_href(on: &On, id: &str) -> String {
    on.href(&format!("/attributes/registry/{id}"))
}

/// The attributes a version's requirements name, by id.
pub async fn names_of(
    state: &EnvState,
    requirements: &Requirements,
) -> Result<BTreeMap<String, Attribute>, InteropError> {
    let ids: Vec<&str> = requirements.ids().into_iter().collect();
    Ok(attributes::by_ids(state.platform.db.reader(), state.env, &ids).await?)
}

/// What `consumer` holds now for the versions of `producer` (its verifications only).
pub async fn held_for(
    state: &EnvState,
    consumer: &str,
    producer: &str,
) -> Result<Held, InteropError> {
    let all = attributes::of_institution(state.platform.db.reader(), state.env, consumer).await?;
    Ok(all.held_for(producer, now_millis()))
}

/// The groups of `kinds` that fail, in words: «A» o «B»; «C».
pub fn missing_words(
    page: &Page,
    missing: &[(AttributeKind, Vec<String>)],
    kinds: &[AttributeKind],
    names: &BTreeMap<String, Attribute>,
) -> String {
    let or = format!(" {} ", page.t("interop.attributes.or"));
    missing
        .iter()
        .filter(|(k, _)| kinds.contains(k))
        .map(|(_, group)| {
            group
                .iter()
                .map(|id| {
                    let name = names.get(id).map_or(id.as_str(), |a| a.name.as_str());
                    page.tr("interop.attributes.quoted", &[("name", name)])
                })
                .collect::<Vec<_>>()
                .join(&or)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

// ---- a version's requirements as the pages show them ----

/// How an attribute stands for the person's institution.
pub struct Mark {
    pub key: &'static str,
    pub badge: &'static str,
    /// `held`, `missing`, `verified` or `to-verify` (for the page's tests).
    pub state: &'static str,
}

fn mark(kind: AttributeKind, held: &Held, id: &str) -> Mark {
    let has = held.of(kind).contains(id);
    match (kind, has) {
        (AttributeKind::Verified, true) => Mark {
            key: "interop.requirements.verified",
            badge: "badge badge-success",
            state: "verified",
        },
        (AttributeKind::Verified, false) => Mark {
            key: "interop.requirements.to_verify",
            badge: "badge badge-warning",
            state: "to-verify",
        },
        (_, true) => Mark {
            key: "interop.requirements.held",
            badge: "badge badge-success",
            state: "held",
        },
        (_, false) => Mark {
            key: "interop.requirements.missing",
            badge: "badge badge-danger",
            state: "missing",
        },
    }
}

/// One attribute of a group.
pub struct RequirementLine {
    pub id: String,
    pub name: String,
    pub href: String,
    /// Certified: the daily calls a consumer holding it may make, in words.
    pub daily_calls: Option<String>,
    pub mark: Option<Mark>,
}

/// A group: one of its attributes suffices. The editor's fields of the version's page (to add
/// an attribute to it) have their ids and what was typed.
pub struct GroupView {
    pub index: usize,
    pub title: String,
    pub lines: Vec<RequirementLine>,
    pub add_title: String,
    pub name_id: String,
    pub calls_id: String,
    pub name_value: String,
    pub calls_value: String,
}

/// The groups of one kind; the editor's "new group" fields.
pub struct KindView {
    pub kind: AttributeKind,
    /// `certified`, `declared` or `verified`.
    pub key: &'static str,
    pub title_key: &'static str,
    pub certified: bool,
    pub groups: Vec<GroupView>,
    pub name_hint: String,
    pub datalist_id: String,
    /// Names of the registry offered while typing (the editor).
    pub choices: Vec<String>,
    pub new_title: String,
    pub new_name_id: String,
    pub new_calls_id: String,
    pub new_name_value: String,
    pub new_calls_value: String,
}

/// A version's requirements, by kind.
pub struct RequirementsView {
    pub kinds: Vec<KindView>,
}

impl RequirementsView {
    pub fn is_empty(&self) -> bool {
        self.kinds.iter().all(|k| k.groups.is_empty())
    }

    /// Of `requirements`, with the attributes' names; each attribute marked for the person's
    /// institution when `held` is given.
    pub fn of(
        on: &On,
        requirements: &Requirements,
        names: &BTreeMap<String, Attribute>,
        held: Option<&Held>,
    ) -> Self {
        let page = &on.page;
        let kinds = AttributeKind::ALL
            .into_iter()
            .map(|kind| {
                let key = kind.key();
                let groups = requirements
                    .groups(kind)
                    .iter()
                    .enumerate()
                    .map(|(i, group)| {
                        let n = (i + 1).to_string();
                        let title_key = if group.len() > 1 {
                            "interop.requirements.group_any"
                        } else {
                            "interop.requirements.group_one"
                        };
                        GroupView {
                            index: i,
                            title: page.tr(title_key, &[("n", &n)]),
                            lines: group
                                .iter()
                                .map(|r| RequirementLine {
                                    id: r.id.clone(),
                                    name: names
                                        .get(&r.id)
                                        .map_or_else(|| r.id.clone(), |a| a.name.clone()),
                                    href: attribute_href(on, &r.id),
                                    daily_calls: r.daily_calls_per_consumer.map(|c| {
                                        page.tr(
                                            "interop.requirements.daily_calls",
                                            &[("n", &super::view::grouped(page.lang, c))],
                                        )
                                    }),
                                    mark: held.map(|h| mark(kind, h, &r.id)),
                                })
                                .collect(),
                            add_title: page.tr("interop.requirements.add_to_group", &[("n", &n)]),
                            name_id: format!("req-{key}-{i}-name"),
                            calls_id: format!("req-{key}-{i}-calls"),
                            name_value: String::new(),
                            calls_value: String::new(),
                        }
                    })
                    .collect();
                KindView {
                    kind,
                    key,
                    title_key: kind_title_key(kind),
                    certified: kind == AttributeKind::Certified,
                    groups,
                    name_hint: page.tr(
                        "interop.requirements.attribute_name_hint",
                        &[("kind", page.t(kind_adjective_key(kind)))],
                    ),
                    datalist_id: format!("req-{key}-choices"),
                    choices: Vec::new(),
                    new_title: page.t("interop.requirements.new_group").to_string(),
                    new_name_id: format!("req-{key}-new-name"),
                    new_calls_id: format!("req-{key}-new-calls"),
                    new_name_value: String::new(),
                    new_calls_value: String::new(),
                }
            })
            .collect();
        RequirementsView { kinds }
    }
}

// ---- a refusal about attributes, in words ----

/// A refusal as a page says it, with where to put it right.
pub struct Refused {
    pub message: String,
    /// An address and its label's key.
    pub link: Option<(String, &'static str)>,
}

impl Refused {
    pub fn of(page: &Page, error: &InteropError) -> Self {
        Refused {
            message: localize_error(page, error),
            link: None,
        }
    }
}

/// The words of a refusal about attributes naming them (what `consumer` lacks for the
/// `requirements` of a version of `producer`, as it stands now); `None` for any other error,
/// or when nothing is missing any more.
pub async fn explain(
    state: &EnvState,
    on: &On,
    error: &InteropError,
    consumer: &str,
    producer: &str,
    requirements: &Requirements,
) -> Result<Option<Refused>, InteropError> {
    let InteropError::Rejected(code, _) = error else {
        return Ok(None);
    };
    let code = *code;
    if code == rules::NO_CONTACT_EMAIL {
        return Ok(Some(Refused {
            message: on
                .page
                .t("interop.attribute_refusals.contact_email")
                .to_string(),
            link: Some((
                on.href("/attributes#contact-email"),
                "interop.attribute_refusals.to_contact_email",
            )),
        }));
    }
    if ![
        rules::MISSING_CERTIFIED,
        rules::SUBMISSION_FAILED,
        rules::ACTIVATION_FAILED,
    ]
    .contains(&code)
    {
        return Ok(None);
    }
    let held = held_for(state, consumer, producer).await?;
    let verdict = rules::check(requirements, &held);
    let names = names_of(state, requirements).await?;
    let words = |kinds: &[AttributeKind]| missing_words(&on.page, &verdict.missing, kinds, &names);
    let (key, names, link) = if code == rules::ACTIVATION_FAILED {
        ("activation", words(&AttributeKind::ALL), None)
    } else if code == rules::MISSING_CERTIFIED || !verdict.certified {
        (
            "missing_certified",
            words(&[AttributeKind::Certified]),
            None,
        )
    } else {
        (
            "missing_declared",
            words(&[AttributeKind::Declared]),
            Some((
                on.href("/attributes#declared"),
                "interop.attribute_refusals.to_declare",
            )),
        )
    };
    if names.is_empty() {
        return Ok(None);
    }
    Ok(Some(Refused {
        message: on.page.tr(
            &format!("interop.attribute_refusals.{key}"),
            &[("names", &names)],
        ),
        link,
    }))
}

// ---- "Attributi dell'ente" ----

/// A certified or declared attribute the institution holds.
pub struct HeldLine {
    pub id: String,
    pub name: String,
    pub href: String,
    pub origin: Option<String>,
    pub since: String,
}

/// A producer's verification of one of the institution's attributes.
pub struct VerifiedLine {
    pub name: String,
    pub href: String,
    pub by: String,
    pub at: String,
    pub expires: Option<String>,
    pub state: String,
    pub badge: &'static str,
}

fn held_lines(on: &On, list: &[HeldAttribute]) -> Vec<HeldLine> {
    list.iter()
        .filter(|a| a.revocation_timestamp.is_none())
        .map(|a| HeldLine {
            id: a.id.clone(),
            name: a.name.clone(),
            href: attribute_href(on, &a.id),
            origin: a.origin.clone(),
            since: when(&on.page, &a.assignment_timestamp),
        })
        .collect()
}

fn verified_lines(on: &On, all: &TenantAttributes) -> Vec<VerifiedLine> {
    let page = &on.page;
    all.verified
        .iter()
        .map(|v| {
            let (state, badge) = match (&v.revocation_date, v.valid) {
                (Some(r), _) => (
                    page.tr("interop.attributes.revoked", &[("date", &day(page, r))]),
                    "badge badge-danger",
                ),
                (None, true) => (
                    page.t("interop.attributes.valid").to_string(),
                    "badge badge-success",
                ),
                (None, false) => (
                    page.t("interop.attributes.expired").to_string(),
                    "badge badge-warning",
                ),
            };
            VerifiedLine {
                name: v.name.clone(),
                href: attribute_href(on, &v.attribute_id),
                by: v.verifier_name.clone(),
                at: when(page, &v.verification_date),
                expires: v.expiration_date.as_deref().map(|e| when(page, e)),
                state,
                badge,
            }
        })
        .collect()
}

/// The most declared attributes the declaration's list offers at once.
const OPTIONS_MAX: i64 = 100;
/// The longest search the pages accept.
const Q_MAX: usize = 100;

#[derive(Template, WebTemplate)]
#[template(path = "attributes.html")]
pub struct AttributesPage {
    page: Page,
    shell: Shell,
    csrf: String,
    action: String,
    registry_href: String,
    admin: bool,
    certified: Vec<HeldLine>,
    declared: Vec<HeldLine>,
    verified: Vec<VerifiedLine>,
    contact_email: Option<String>,
    /// What was typed in the contact email's field.
    address: String,
    /// The search of the declaration's list.
    declare_q: String,
    /// The declared attributes of the registry not declared yet: id and name.
    options: Vec<(String, String)>,
    /// More match the search than the list shows.
    options_more: bool,
    errors: FormErrors,
    flash: Option<String>,
}

impl AttributesPage {
    fn error_count(&self) -> String {
        platform::layout::error_count(&self.page, self.errors.count())
    }

    fn more_note(&self) -> String {
        self.page.tr(
            "interop.attributes.declare_more",
            &[("n", &OPTIONS_MAX.to_string())],
        )
    }
}

/// What the person typed, kept on the page after a refusal.
#[derive(Default)]
struct Typed {
    address: Option<String>,
    declare_q: String,
}

fn only_admin(on: &On) -> bool {
    on.member.has(Role::Admin)
}

async fn own_page(
    state: &EnvState,
    on: On,
    typed: Typed,
    errors: FormErrors,
    flash: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let db = &state.platform.db;
    let me = on.institution().to_string();
    let all = attributes::of_institution(db.reader(), state.env, &me)
        .await
        .map_err(|e| on.fail(e.into()))?;
    let contact_email = attributes::contact_email(db, state.env, &me)
        .await
        .map_err(|e| on.fail(e))?;
    let admin = only_admin(&on);
    let certified = held_lines(&on, &all.certified);
    let declared = held_lines(&on, &all.declared);
    let declare_q: String = typed.declare_q.trim().chars().take(Q_MAX).collect();
    let (options, options_more) = if admin {
        let (found, total) = attributes::search(
            db,
            state.env,
            Some(AttributeKind::Declared),
            &declare_q,
            OPTIONS_MAX,
            0,
        )
        .await
        .map_err(|e| on.fail(e))?;
        let more = total > i64::try_from(found.len()).unwrap_or(i64::MAX);
        let options = found
            .into_iter()
            .filter(|a| !declared.iter().any(|d| d.id == a.id))
            .map(|a| (a.id, a.name))
            .collect();
        (options, more)
    } else {
        (Vec::new(), false)
    };
    let verified = verified_lines(&on, &all);
    let csrf = on.csrf();
    let action = on.href("/attributes");
    let registry_href = on.href("/attributes/registry");
    let address = typed
        .address
        .unwrap_or_else(|| contact_email.clone().unwrap_or_default());
    let On { page, shell, .. } = on;
    Ok(render(
        AttributesPage {
            page,
            shell,
            csrf,
            action,
            registry_href,
            admin,
            certified,
            declared,
            verified,
            contact_email,
            address,
            declare_q,
            options,
            options_more,
            errors,
            flash,
        },
        status,
    ))
}

/// `GET /attributes?q=`: the institution's attributes and contact email (`q` searches the
/// declared attributes offered for declaration).
pub async fn show(
    State(state): State<EnvState>,
    on: On,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q);
    let flash = flash(&on.page, &q);
    let typed = Typed {
        address: None,
        declare_q: q.get("q").cloned().unwrap_or_default(),
    };
    own_page(
        &state,
        on,
        typed,
        FormErrors::default(),
        flash,
        StatusCode::OK,
    )
    .await
}

/// `POST /attributes` with `action` = declare (`attribute`), withdraw (`attribute`) or
/// contact_email (`address`); the institution's admin.
pub async fn act(
    State(state): State<EnvState>,
    on: On,
    form: Result<Form<Pairs>, FormRejection>,
) -> Result<Response, PageError> {
    let pairs = on.form(form)?;
    let action = value(&pairs, "action").to_string();
    let address = value(&pairs, "address").to_string();
    let typed = Typed {
        address: (action == "contact_email").then(|| address.clone()),
        declare_q: String::new(),
    };
    if !only_admin(&on) {
        let mut errors = FormErrors::default();
        errors
            .general
            .push(on.page.t("interop.attributes.admin_only").to_string());
        return own_page(&state, on, typed, errors, None, StatusCode::FORBIDDEN).await;
    }
    let db = &state.platform.db;
    let env = state.env;
    let attribute = value(&pairs, "attribute").trim().to_string();
    // The field a refusal is shown beside ("" for none).
    let (field, result): (&str, Result<&str, InteropError>) = match action.as_str() {
        "declare" | "withdraw" => {
            let declared = action == "declare";
            let field = if declared { "attribute" } else { "" };
            let result = if attribute.is_empty() {
                Err(InteropError::invalid("attribute", "is required"))
            } else {
                attributes::declare(db, env, on.member.by(), &attribute, declared)
                    .await
                    .map(|_| {
                        if declared {
                            "attribute_declared"
                        } else {
                            "attribute_withdrawn"
                        }
                    })
            };
            (field, result)
        }
        "contact_email" => {
            let result = if address.trim().is_empty() {
                Err(InteropError::invalid("address", "is required"))
            } else {
                attributes::set_contact_email(db, env, on.member.by(), &on.member.tenant, &address)
                    .await
                    .map(|_| "contact_email_saved")
            };
            ("address", result)
        }
        _ => ("", Err(InteropError::invalid("action", "unknown action"))),
    };
    let error = match result {
        Ok(done) => {
            state.platform.mail.wake();
            return Ok(see_other(&on.href(&format!("/attributes?done={done}"))));
        }
        Err(e) => e,
    };
    if !shown_in_place(&error) && !matches!(error, InteropError::NotFound) {
        return Err(on.fail(error));
    }
    let t = |k: &str| on.page.t(k).to_string();
    let required = matches!(&error, InteropError::Invalid(errs)
        if errs.iter().any(|x| x.message == "is required"));
    let message = match (&error, field) {
        (InteropError::Invalid(_), _) if required && field == "attribute" => {
            t("interop.attributes.choose")
        }
        (InteropError::Invalid(_), _) if required => t("interop.field.required"),
        (InteropError::Invalid(_), "address") => t("interop.attributes.contact_invalid"),
        (InteropError::Invalid(_), "attribute") => t("interop.attributes.not_declarable"),
        (InteropError::NotFound, _) => t("interop.attributes.gone"),
        _ => localize_error(&on.page, &error),
    };
    let mut errors = FormErrors::default();
    if field.is_empty() {
        errors.general.push(message);
    } else {
        errors.add(field, message);
    }
    let status = error.status();
    own_page(&state, on, typed, errors, None, status).await
}

// ---- the registry ----

/// How many attributes a page of the registry shows.
const PAGE_SIZE: i64 = 20;

/// The kinds an institution creates, as the form offers them.
pub const NEW_KINDS: &[Choice] = &[
    Choice {
        value: "DECLARED",
        label_key: "interop.attributes.kind_declared",
        hint_key: "interop.attributes.new_declared_hint",
    },
    Choice {
        value: "VERIFIED",
        label_key: "interop.attributes.kind_verified",
        hint_key: "interop.attributes.new_verified_hint",
    },
];

/// One attribute of the registry.
pub struct RegistryLine {
    pub id: String,
    pub href: String,
    pub name: String,
    pub kind_key: &'static str,
    pub description: String,
    pub code: Option<String>,
    pub origin: Option<String>,
}

/// A kind of the registry's filter.
pub struct KindChoice {
    pub value: &'static str,
    pub label_key: &'static str,
    pub selected: bool,
}

/// What was typed in the creation form.
#[derive(Default)]
pub struct NewAttribute {
    pub kind: String,
    pub name: String,
    pub description: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "attributes_registry.html")]
pub struct RegistryPage {
    page: Page,
    shell: Shell,
    csrf: String,
    action: String,
    own_href: String,
    /// The filter applied: a kind (`CERTIFIED`…) or "" for any.
    kind: String,
    kinds: Vec<KindChoice>,
    q: String,
    q_error: Option<String>,
    lines: Vec<RegistryLine>,
    total: i64,
    pager: platform::paging::Pager,
    admin: bool,
    form: NewAttribute,
    errors: FormErrors,
    flash: Option<String>,
}

impl RegistryPage {
    fn error_count(&self) -> String {
        platform::layout::error_count(&self.page, self.errors.count())
    }

    fn count(&self) -> String {
        self.page.tr(
            "interop.attributes.registry_count",
            &[("n", &super::view::grouped(self.page.lang, self.total))],
        )
    }
}

/// The registry's filters as read from the address.
struct Filter {
    kind: Option<AttributeKind>,
    q: String,
    number: i64,
}

impl Filter {
    fn read(q: &HashMap<String, String>) -> Self {
        Filter {
            kind: q.get("kind").and_then(|k| AttributeKind::parse(k.trim())),
            q: q.get("q").cloned().unwrap_or_default(),
            number: q
                .get("page")
                .and_then(|p| p.trim().parse::<i64>().ok())
                .filter(|n| *n >= 1)
                .unwrap_or(1),
        }
    }

    /// The registry's address with these filters at page `number`.
    fn href(&self, on: &On, number: i64) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(k) = self.kind {
            query.append_pair("kind", k.as_str());
        }
        if !self.q.trim().is_empty() {
            query.append_pair("q", self.q.trim());
        }
        if number > 1 {
            query.append_pair("page", &number.to_string());
        }
        let query = query.finish();
        let base = on.href("/attributes/registry");
        if query.is_empty() {
            base
        } else {
            format!("{base}?{query}")
        }
    }
}

async fn registry_page(
    state: &EnvState,
    on: On,
    filter: Filter,
    form: NewAttribute,
    errors: FormErrors,
    flash: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let too_long = filter.q.trim().chars().count() > Q_MAX;
    let q_error = too_long.then(|| {
        on.page.tr(
            "interop.attributes.q_too_long",
            &[("max", &Q_MAX.to_string())],
        )
    });
    let (found, total) = if too_long {
        (Vec::new(), 0)
    } else {
        attributes::search(
            &state.platform.db,
            state.env,
            filter.kind,
            filter.q.trim(),
            PAGE_SIZE,
            (filter.number - 1).saturating_mul(PAGE_SIZE),
        )
        .await
        .map_err(|e| on.fail(e))?
    };
    let lines = found
        .into_iter()
        .map(|a| RegistryLine {
            href: attribute_href(&on, &a.id),
            kind_key: kind_key(a.kind),
            id: a.id,
            name: a.name,
            description: a.description,
            code: a.code,
            origin: a.origin,
        })
        .collect();
    let pager =
        platform::paging::Pager::new(filter.number, PAGE_SIZE, total, |n| filter.href(&on, n));
    let admin = only_admin(&on);
    let csrf = on.csrf();
    let action = on.href("/attributes/registry");
    let own_href = on.href("/attributes");
    let kinds = AttributeKind::ALL
        .into_iter()
        .map(|k| KindChoice {
            value: k.as_str(),
            label_key: kind_title_key(k),
            selected: filter.kind == Some(k),
        })
        .collect();
    let On { page, shell, .. } = on;
    Ok(render(
        RegistryPage {
            page,
            shell,
            csrf,
            action,
            own_href,
            kind: filter
                .kind
                .map(|k| k.as_str().to_string())
                .unwrap_or_default(),
            kinds,
            q: filter.q,
            q_error,
            lines,
            total,
            pager,
            admin,
            form,
            errors,
            flash,
        },
        status,
    ))
}

/// `GET /attributes/registry?kind=&q=&page=`: the registry, 20 a page.
pub async fn registry(
    State(state): State<EnvState>,
    on: On,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q);
    let flash = flash(&on.page, &q);
    let filter = Filter::read(&q);
    let form = NewAttribute {
        kind: "DECLARED".into(),
        ..NewAttribute::default()
    };
    registry_page(
        &state,
        on,
        filter,
        form,
        FormErrors::default(),
        flash,
        StatusCode::OK,
    )
    .await
}

/// `POST /attributes/registry`: `kind` (DECLARED or VERIFIED), `name`, `description`; the
/// institution's admin. Then the new attribute's page.
pub async fn create(
    State(state): State<EnvState>,
    on: On,
    form: Result<Form<Pairs>, FormRejection>,
) -> Result<Response, PageError> {
    let pairs = on.form(form)?;
    let typed = NewAttribute {
        kind: value(&pairs, "kind").trim().to_string(),
        name: value(&pairs, "name").to_string(),
        description: value(&pairs, "description").to_string(),
    };
    let filter = Filter {
        kind: None,
        q: String::new(),
        number: 1,
    };
    let mut errors = FormErrors::default();
    if !only_admin(&on) {
        errors.general.push(
            on.page
                .t("interop.attributes.create_admin_only")
                .to_string(),
        );
        return registry_page(
            &state,
            on,
            filter,
            typed,
            errors,
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let kind = match AttributeKind::parse(&typed.kind) {
        Some(k @ (AttributeKind::Declared | AttributeKind::Verified)) => Some(k),
        _ => None,
    };
    let input = AttributeInput {
        name: typed.name.clone(),
        description: typed.description.clone(),
    };
    let parsed = rules::parse_attribute(&input);
    if kind.is_none() {
        errors.add(
            "kind",
            on.page.t("interop.eservice_form.choose").to_string(),
        );
    }
    if let Err(model) = &parsed {
        for e in model {
            errors.add(&e.field, super::view::localize_field(&on.page, &e.message));
        }
    }
    let (Some(kind), Ok(input)) = (kind, parsed) else {
        return registry_page(
            &state,
            on,
            filter,
            typed,
            errors,
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    match attributes::create(&state.platform.db, state.env, on.member.by(), kind, &input).await {
        Ok(a) => Ok(see_other(&on.href(&format!(
            "/attributes/registry/{}?done=attribute_created",
            a.id
        )))),
        Err(e) if shown_in_place(&e) => {
            let status = e.status();
            match &e {
                InteropError::Conflict(rules::DUPLICATE_NAME, _) => {
                    errors.add("name", localize_error(&on.page, &e));
                }
                InteropError::Invalid(model) => {
                    for x in model {
                        let field = if x.field == "description" {
                            "description"
                        } else if x.field == "kind" {
                            "kind"
                        } else {
                            "name"
                        };
                        errors.add(field, super::view::localize_field(&on.page, &x.message));
                    }
                }
                _ => errors.general.push(localize_error(&on.page, &e)),
            }
            registry_page(&state, on, filter, typed, errors, None, status).await
        }
        Err(e) => Err(on.fail(e)),
    }
}

/// One verification of the attribute for the person's institution.
pub struct OwnVerification {
    pub by: String,
    pub at: String,
    pub expires: Option<String>,
    pub state: String,
    pub badge: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "attribute.html")]
pub struct AttributePage {
    page: Page,
    shell: Shell,
    csrf: String,
    /// Declaring and withdrawing are posted to the institution's attributes page.
    own_action: String,
    registry_href: String,
    id: String,
    name: String,
    kind: &'static str,
    kind_key: &'static str,
    description: String,
    code: Option<String>,
    origin: Option<String>,
    created: String,
    /// Certified or declared: since when the institution holds it.
    held_since: Option<String>,
    verifications: Vec<OwnVerification>,
    /// A declared attribute the institution's admin may declare or withdraw.
    may_declare: bool,
    flash: Option<String>,
}

/// `GET /attributes/registry/{id}`: an attribute, and how the institution holds it.
pub async fn attribute(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let db = &state.platform.db;
    let a = attributes::get(db, state.env, &id)
        .await
        .map_err(|e| on.fail(e))?
        .ok_or_else(|| on.fail(InteropError::NotFound))?;
    let all = attributes::of_institution(db.reader(), state.env, on.institution())
        .await
        .map_err(|e| on.fail(e.into()))?;
    let held_since = match a.kind {
        AttributeKind::Certified => Some(&all.certified),
        AttributeKind::Declared => Some(&all.declared),
        AttributeKind::Verified => None,
    }
    .and_then(|list| {
        list.iter()
            .find(|h| h.id == a.id && h.revocation_timestamp.is_none())
    })
    .map(|h| when(&on.page, &h.assignment_timestamp));
    let verifications = verified_lines(&on, &all)
        .into_iter()
        .zip(all.verified.iter())
        .filter(|(_, v)| v.attribute_id == a.id)
        .map(|(l, _)| OwnVerification {
            by: l.by,
            at: l.at,
            expires: l.expires,
            state: l.state,
            badge: l.badge,
        })
        .collect();
    let flash = flash(&on.page, &query(q));
    let may_declare = a.kind == AttributeKind::Declared && only_admin(&on);
    let csrf = on.csrf();
    let own_action = on.href("/attributes");
    let registry_href = on.href("/attributes/registry");
    let created = when(&on.page, &a.creation_time);
    let On { page, shell, .. } = on;
    Ok(render(
        AttributePage {
            page,
            shell,
            csrf,
            own_action,
            registry_href,
            kind: a.kind.as_str(),
            kind_key: kind_key(a.kind),
            id: a.id,
            name: a.name,
            description: a.description,
            code: a.code,
            origin: a.origin,
            created,
            held_since,
            verifications,
            may_declare,
            flash,
        },
        StatusCode::OK,
    ))
}
