//! "Le mie richieste" (consumer side), "Richieste ricevute" (producer side) and an agreement's
//! page with the actions this person may take, each a POST form; a refusal is shown on the
//! page.

use platform::Timestamp;
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::layout::Page;

use super::attributes::{self as words, Refused};
use super::view::{
    ActionButton, FormErrors, StateView, agreement_state, flash, localize_field, policy_key, query,
    shown_in_place,
};
use super::{On, PageError, Pairs, Shell, render, see_other, value};
use crate::error::InteropError;
use crate::model::attribute::{self as attribute_rules, AttributeKind, Requirements};
use crate::model::{self as rules, AgreementApprovalPolicy, RejectionReason, Role, agreement};
use crate::state::EnvState;
use crate::store::Side;
use crate::store::agreements::{self, Action, Agreement};
use crate::store::attributes;
use crate::store::catalogue;

/// One row of a table of agreements.
pub struct AgreementLine {
    pub href: String,
    pub eservice: String,
    pub version: String,
    /// The other party: the producer in "Le mie richieste", the consumer in "Ricevute".
    pub party: String,
    pub state: StateView,
    pub updated: String,
}

/// One choice of a filter: its value, its words, whether it is the one applied.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The filters of "Richieste ricevute": by state, by e-service, by consumer; each lists only
/// what the requests have.
pub struct Filters {
    pub action: String,
    pub states: Vec<Choice>,
    pub eservices: Vec<Choice>,
    pub consumers: Vec<Choice>,
    /// Whether any filter is applied (the page offers to clear them).
    pub applied: bool,
}

impl Filters {
    /// The choices among `rows` and the rows they keep, by the query's `state`, `eservice`
    /// and `consumer` (ids; an unknown value keeps nothing).
    fn apply<'a>(
        page: &Page,
        action: String,
        rows: &'a [Agreement],
        q: &HashMap<String, String>,
    ) -> (Filters, Vec<&'a Agreement>) {
        let wanted = |key: &str| q.get(key).map(String::as_str).filter(|v| !v.is_empty());
        let (state, eservice, consumer) = (wanted("state"), wanted("eservice"), wanted("consumer"));
        let mut states: Vec<Choice> = Vec::new();
        let mut eservices: Vec<Choice> = Vec::new();
        let mut consumers: Vec<Choice> = Vec::new();
        let add = |list: &mut Vec<Choice>, value: &str, label: String, chosen: Option<&str>| {
            if !list.iter().any(|c| c.value == value) {
                list.push(Choice {
                    value: value.to_string(),
                    label,
                    selected: chosen == Some(value),
                });
            }
        };
        for a in rows {
            add(
                &mut states,
                a.state,
                page.t(agreement_state(a.state_value).key).to_string(),
                state,
            );
            add(
                &mut eservices,
                &a.eservice_id,
                a.eservice_name.clone(),
                eservice,
            );
            add(
                &mut consumers,
                &a.consumer_id,
                a.consumer_name.clone(),
                consumer,
            );
        }
        for list in [&mut states, &mut eservices, &mut consumers] {
            list.sort_by_key(|c| c.label.to_lowercase());
        }
        let kept = rows
            .iter()
            .filter(|a| state.is_none_or(|s| a.state == s))
            .filter(|a| eservice.is_none_or(|e| a.eservice_id == e))
            .filter(|a| consumer.is_none_or(|c| a.consumer_id == c))
            .collect();
        let filters = Filters {
            action,
            states,
            eservices,
            consumers,
            applied: state.is_some() || eservice.is_some() || consumer.is_some(),
        };
        (filters, kept)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "agreements.html")]
pub struct AgreementsPage {
    page: Page,
    shell: Shell,
    received: bool,
    lines: Vec<AgreementLine>,
    /// "Richieste ricevute" only.
    filters: Option<Filters>,
    flash: Option<String>,
    catalog_href: String,
    pager: platform::paging::Pager,
}

async fn list(
    state: &EnvState,
    on: On,
    received: bool,
    q: HashMap<String, String>,
) -> Result<Response, PageError> {
    let number = super::view::page_number(&q);
    let window = super::view::page_window(number);
    let db = &state.platform.db;
    let (rows, filters, total, filter_pairs) = if received {
        // The filters offer what the requests received have: read on the producer's index
        // range, then the window of those kept.
        let all = agreements::list(db, state.env, on.institution(), true)
            .await
            .map_err(|e| on.fail(e))?;
        let (f, kept) = Filters::apply(&on.page, on.href("/agreements/received"), &all, &q);
        let total = i64::try_from(kept.len()).unwrap_or(i64::MAX);
        let start = usize::try_from(window.offset).unwrap_or(usize::MAX);
        let size = usize::try_from(window.limit).unwrap_or(0);
        let shown: Vec<Agreement> = kept.into_iter().skip(start).take(size).cloned().collect();
        let pairs: Vec<(&str, String)> = ["state", "eservice", "consumer"]
            .into_iter()
            .map(|k| (k, q.get(k).cloned().unwrap_or_default()))
            .collect();
        (shown, Some(f), total, pairs)
    } else {
        let found = agreements::page(db, state.env, on.institution(), Side::Consumer, window)
            .await
            .map_err(|e| on.fail(e))?;
        (found.results, None, found.total_count, Vec::new())
    };
    let base_href = on.href(if received {
        "/agreements/received"
    } else {
        "/agreements"
    });
    let pager = super::view::pager(number, total, |n| {
        let pairs: Vec<(&str, &str)> = filter_pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        super::view::list_href(&base_href, &pairs, n)
    });
    let lang = on.page.lang;
    let lines = rows
        .iter()
        .map(|a| AgreementLine {
            href: on.href(&format!("/agreements/{}", a.id)),
            eservice: a.eservice_name.clone(),
            version: a.descriptor_version.clone(),
            party: if received {
                a.consumer_name.clone()
            } else {
                a.producer_name.clone()
            },
            state: agreement_state(a.state_value),
            updated: Timestamp(a.updated_at).for_people(lang),
        })
        .collect();
    let flash = flash(&on.page, &q);
    let catalog_href = on.href("/catalog");
    let On { page, shell, .. } = on;
    Ok(render(
        AgreementsPage {
            page,
            shell,
            received,
            lines,
            filters,
            flash,
            catalog_href,
            pager,
        },
        StatusCode::OK,
    ))
}

/// `GET /agreements`: "Le mie richieste".
pub async fn mine(
    State(state): State<EnvState>,
    on: On,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    list(&state, on, false, query(q)).await
}

/// `GET /agreements/received`: "Richieste ricevute".
pub async fn received(
    State(state): State<EnvState>,
    on: On,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    list(&state, on, true, query(q)).await
}

/// What this person may do to the agreement (the same rules the actions apply).
#[derive(Default)]
pub struct Allowed {
    pub submit: bool,
    pub delete: bool,
    pub suspend: bool,
    pub activate: bool,
    pub archive: bool,
    /// The newer version the agreement can move to.
    pub upgrade: Option<String>,
    pub approve: bool,
    pub reject: bool,
}

impl Allowed {
    pub fn any(&self) -> bool {
        self.submit
            || self.delete
            || self.suspend
            || self.activate
            || self.archive
            || self.upgrade.is_some()
            || self.approve
            || self.reject
    }

    /// The buttons of the actions allowed, in the page's order (rejecting has its form).
    pub fn buttons(&self) -> Vec<ActionButton> {
        let button = |allowed: bool, value, class, label_key| {
            allowed.then(|| ActionButton::new(value, class, label_key))
        };
        let upgrade = self.upgrade.as_ref().map(|v| ActionButton {
            suffix: Some(v.clone()),
            ..ActionButton::new("upgrade", "btn-outline", "interop.agreement.upgrade")
        });
        [
            button(
                self.submit,
                "submit",
                "btn-primary",
                "interop.agreement.submit",
            ),
            button(
                self.approve,
                "approve",
                "btn-primary",
                "interop.agreement.approve",
            ),
            button(
                self.activate,
                "activate",
                "btn-primary",
                "interop.agreement.activate",
            ),
            upgrade,
            button(
                self.suspend,
                "suspend",
                "btn-outline",
                "interop.agreement.suspend",
            ),
            button(
                self.archive,
                "archive",
                "btn-outline",
                "interop.agreement.archive",
            ),
            button(
                self.delete,
                "delete",
                "btn-danger",
                "interop.agreement.delete",
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// What the caller may do on it, from their side's role and its state.
fn allowed(on: &On, a: &Agreement, newest: Option<(u32, String)>) -> Allowed {
    if !on.may_act_as_party(&a.consumer_id) {
        return Allowed::default();
    }
    let caller = on.institution();
    let facts = a.facts();
    let consumer = caller == a.consumer_id;
    let producer = caller == a.producer_id;
    let Some(side) = rules::side_of(caller, &a.consumer_id, &a.producer_id) else {
        return Allowed::default();
    };
    let current: u32 = a.descriptor_version.parse().unwrap_or(0);
    Allowed {
        submit: consumer
            && agreement::submit(&facts, AgreementApprovalPolicy::Manual, false).is_ok(),
        delete: consumer && agreement::delete_allowed(&facts).is_ok(),
        suspend: agreement::suspend(&facts, side).is_ok(),
        activate: agreement::activate(&facts, side).is_ok(),
        archive: consumer && agreement::archive(&facts).is_ok(),
        upgrade: newest
            .filter(|(n, _)| consumer && agreement::upgrade(&facts, current, Some(*n)).is_ok())
            .map(|(_, v)| v),
        approve: producer && agreement::approve(&facts).is_ok(),
        reject: producer && facts.state == rules::AgreementState::Pending,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "agreement.html")]
pub struct AgreementPage {
    page: Page,
    shell: Shell,
    /// The environment's address.
    base: String,
    csrf: String,
    action: String,
    id: String,
    eservice: String,
    eservice_href: String,
    version: String,
    producer: String,
    consumer: String,
    policy_key: Option<&'static str>,
    state: StateView,
    suspended_by_consumer: bool,
    suspended_by_producer: bool,
    suspended_by_platform: bool,
    /// The consumer's: the attributes its institution lacks (MISSING_CERTIFIED_ATTRIBUTES, or
    /// suspended by the platform), in words; and where to declare them when it can.
    missing_note: Option<String>,
    missing_link: Option<String>,
    /// The producer's: the verified attributes the version requires, as they stand for the
    /// consumer.
    verifications: Vec<VerificationLine>,
    /// The producer's admin verifies and revokes.
    may_verify: bool,
    consumer_notes: Option<String>,
    rejection_reason: Option<String>,
    created: String,
    updated: String,
    /// The person's institution is the consumer (else the producer).
    as_consumer: bool,
    allowed: Allowed,
    purpose_href: Option<String>,
    flash: Option<String>,
    error: Option<Refused>,
    reason: String,
    reason_error: Option<String>,
    /// The verification forms' errors, by field id (`expires-<attribute>`).
    errors: FormErrors,
}

impl AgreementPage {
    fn error_count(&self) -> String {
        platform::layout::error_count(&self.page, self.errors.count())
    }
}

/// A verified attribute the version requires, for the producer: how it stands for the
/// consumer, and the fields of its forms.
pub struct VerificationLine {
    pub id: String,
    pub name: String,
    pub href: String,
    pub state: String,
    pub badge: &'static str,
    /// A verification that counts now (it can be revoked).
    pub live: bool,
    pub expires_id: String,
    pub expires_value: String,
}

/// What a failed action leaves on the page.
#[derive(Default)]
struct Outcome {
    error: Option<Refused>,
    reason: String,
    reason_error: Option<String>,
    errors: FormErrors,
    /// The expiry typed in a verification's form, by attribute.
    expires: HashMap<String, String>,
}

/// The requirements of the agreement's version (none when it cannot be read).
async fn requirements_of(state: &EnvState, a: &Agreement) -> Result<Requirements, InteropError> {
    let e = catalogue::eservice(&state.platform.db, state.env, &a.eservice_id).await?;
    Ok(e.as_ref()
        .and_then(|e| e.descriptor(&a.descriptor_id))
        .map(|d| d.attributes.clone())
        .unwrap_or_default())
}

/// The consumer's note on what its institution lacks.
async fn missing_note(
    state: &EnvState,
    on: &On,
    a: &Agreement,
    requirements: &Requirements,
) -> Result<(Option<String>, Option<String>), InteropError> {
    let missing_certified = a.state_value == rules::AgreementState::MissingCertifiedAttributes;
    if !(missing_certified || a.suspended_by_platform) || requirements.is_empty() {
        return Ok((None, None));
    }
    let held = words::held_for(state, &a.consumer_id, &a.producer_id).await?;
    let verdict = attribute_rules::check(requirements, &held);
    let names = words::names_of(state, requirements).await?;
    let (key, kinds): (&str, &[AttributeKind]) = if missing_certified {
        (
            "interop.agreement.missing_certified_note",
            &[AttributeKind::Certified],
        )
    } else {
        ("interop.agreement.platform_note", &AttributeKind::ALL)
    };
    let list = words::missing_words(&on.page, &verdict.missing, kinds, &names);
    if list.is_empty() {
        return Ok((None, None));
    }
    let link = (!missing_certified && !verdict.declared).then(|| on.href("/attributes#declared"));
    Ok((Some(on.page.tr(key, &[("names", &list)])), link))
}

/// The producer's view of the verified attributes the version requires.
async fn verification_lines(
    state: &EnvState,
    on: &On,
    a: &Agreement,
    requirements: &Requirements,
    typed: &HashMap<String, String>,
) -> Result<Vec<VerificationLine>, InteropError> {
    let ids = requirements.ids_of(AttributeKind::Verified);
    let on_request = matches!(
        a.state_value,
        rules::AgreementState::Pending
            | rules::AgreementState::Active
            | rules::AgreementState::Suspended
    );
    if ids.is_empty()
        || !on_request
        || a.producer_id != on.institution()
        || a.producer_id == a.consumer_id
    {
        return Ok(Vec::new());
    }
    let names = words::names_of(state, requirements).await?;
    let all =
        attributes::of_institution(state.platform.db.reader(), state.env, &a.consumer_id).await?;
    let page = &on.page;
    let at = |rfc3339: &str| {
        Timestamp::parse_rfc3339(rfc3339)
            .map_or_else(|| rfc3339.to_string(), |t| t.for_people(page.lang))
    };
    Ok(ids
        .into_iter()
        .map(|id| {
            let mine = all
                .verified
                .iter()
                .find(|v| v.attribute_id == id && v.verifier_id == a.producer_id);
            let (state, badge, live) = match mine {
                None => (
                    page.t("interop.agreement.not_verified").to_string(),
                    "badge",
                    false,
                ),
                Some(v) => match (&v.revocation_date, v.valid, &v.expiration_date) {
                    (Some(r), _, _) => (
                        page.tr(
                            "interop.agreement.verification_revoked",
                            &[("date", &at(r))],
                        ),
                        "badge badge-danger",
                        false,
                    ),
                    (None, true, Some(x)) => (
                        page.tr("interop.agreement.verified_until", &[("date", &at(x))]),
                        "badge badge-success",
                        true,
                    ),
                    (None, true, None) => (
                        page.t("interop.agreement.verified_forever").to_string(),
                        "badge badge-success",
                        true,
                    ),
                    (None, false, x) => (
                        page.tr(
                            "interop.agreement.verification_expired",
                            &[("date", &x.as_deref().map(at).unwrap_or_default())],
                        ),
                        "badge badge-warning",
                        false,
                    ),
                },
            };
            VerificationLine {
                id: id.to_string(),
                name: names
                    .get(id)
                    .map_or_else(|| id.to_string(), |x| x.name.clone()),
                href: words::attribute_href(on, id),
                state,
                badge,
                live,
                expires_id: format!("expires-{id}"),
                expires_value: typed.get(id).cloned().unwrap_or_default(),
            }
        })
        .collect())
}

async fn detail(
    state: &EnvState,
    on: On,
    id: &str,
    q: HashMap<String, String>,
    outcome: Outcome,
    status: StatusCode,
) -> Result<Response, PageError> {
    let db = &state.platform.db;
    let a = agreements::get(db, state.env, on.institution(), id)
        .await
        .map_err(|e| on.fail(e))?;
    let e = catalogue::eservice(db, state.env, &a.eservice_id)
        .await
        .map_err(|e| on.fail(e))?;
    let newest = e.as_ref().and_then(|e| {
        e.latest_published().and_then(|d| {
            u32::try_from(d.version_n)
                .ok()
                .map(|n| (n, d.version.clone()))
        })
    });
    let policy = e
        .as_ref()
        .and_then(|e| e.descriptor(&a.descriptor_id))
        .map(|d| policy_key(d.agreement_approval_policy));
    let allowed = allowed(&on, &a, newest);
    let as_consumer = a.consumer_id == on.institution();
    let requirements = e
        .as_ref()
        .and_then(|e| e.descriptor(&a.descriptor_id))
        .map(|d| d.attributes.clone())
        .unwrap_or_default();
    let (missing_note, missing_link) = if as_consumer {
        missing_note(state, &on, &a, &requirements)
            .await
            .map_err(|e| on.fail(e))?
    } else {
        (None, None)
    };
    let verifications = verification_lines(state, &on, &a, &requirements, &outcome.expires)
        .await
        .map_err(|e| on.fail(e))?;
    let may_verify = !verifications.is_empty() && on.member.has(Role::Admin);
    let purpose_href = (as_consumer && a.state_value == rules::AgreementState::Active)
        .then(|| on.href(&format!("/purposes/new?eserviceId={}", a.eservice_id)));
    let lang = on.page.lang;
    let flash = flash(&on.page, &q);
    let csrf = on.csrf();
    let action = on.href(&format!("/agreements/{}", a.id));
    let eservice_href = on.href(&format!("/catalog/{}", a.eservice_id));
    let On {
        page, shell, base, ..
    } = on;
    Ok(render(
        AgreementPage {
            page,
            shell,
            base,
            csrf,
            action,
            eservice_href,
            eservice: a.eservice_name.clone(),
            version: a.descriptor_version.clone(),
            producer: a.producer_name.clone(),
            consumer: a.consumer_name.clone(),
            policy_key: policy,
            state: agreement_state(a.state_value),
            suspended_by_consumer: a.suspended_by_consumer,
            suspended_by_producer: a.suspended_by_producer,
            suspended_by_platform: a.suspended_by_platform,
            missing_note,
            missing_link,
            verifications,
            may_verify,
            consumer_notes: a.consumer_notes.clone(),
            rejection_reason: a.rejection_reason.clone(),
            created: Timestamp(a.created_at).for_people(lang),
            updated: Timestamp(a.updated_at).for_people(lang),
            id: a.id,
            as_consumer,
            allowed,
            purpose_href,
            flash,
            error: outcome.error,
            reason: outcome.reason,
            reason_error: outcome.reason_error,
            errors: outcome.errors,
        },
        status,
    ))
}

/// `GET /agreements/{id}`
pub async fn show(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    detail(
        &state,
        on,
        &id,
        query(q),
        Outcome::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /agreements/{id}` with `action` = submit, approve, reject (with `reason`), suspend,
/// activate, archive, upgrade or delete; the producer's admin also verify (`attribute`,
/// `expires`: a day, optional) and unverify (`attribute`) the consumer's verified attributes.
pub async fn act(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Result<Response, PageError> {
    let db = &state.platform.db;
    let caller = on.institution().to_string();
    // Someone else's agreement is not found, whatever was posted.
    let a = agreements::get(db, state.env, &caller, &id)
        .await
        .map_err(|e| on.fail(e))?;
    let pairs = on.form(form)?;
    let kind = value(&pairs, "action").to_string();
    let reason_raw = value(&pairs, "reason").to_string();
    if !on.may_act_as_party(&a.consumer_id) {
        let message = on.page.t("interop.agreement.not_allowed").to_string();
        let outcome = Outcome {
            error: Some(Refused {
                message,
                link: None,
            }),
            ..Outcome::default()
        };
        return detail(
            &state,
            on,
            &id,
            HashMap::new(),
            outcome,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let user = on.member.session.user_id();
    let attribute = value(&pairs, "attribute").trim().to_string();
    let expires_raw = value(&pairs, "expires").trim().to_string();
    let result: Result<String, InteropError> = match kind.as_str() {
        "verify" | "unverify" => {
            // The producer's admin, on a request it received.
            if a.producer_id != caller || !on.member.has(Role::Admin) {
                let outcome = Outcome {
                    error: Some(Refused {
                        message: on.page.t("interop.agreement.verify_admin_only").to_string(),
                        link: None,
                    }),
                    ..Outcome::default()
                };
                return detail(
                    &state,
                    on,
                    &id,
                    HashMap::new(),
                    outcome,
                    StatusCode::FORBIDDEN,
                )
                .await;
            }
            let verified = kind == "verify";
            // The end of the chosen day in Italy, in milliseconds.
            let expires = match (verified, expires_raw.as_str()) {
                (false, _) | (true, "") => None,
                (true, raw) => match Timestamp::day_in_italy(raw) {
                    Some((_, next)) => Some(next.millis() - 1),
                    None => {
                        let mut outcome = Outcome::default();
                        outcome.errors.add(
                            &format!("expires-{attribute}"),
                            on.page.t("interop.agreement.expires_invalid").to_string(),
                        );
                        outcome
                            .expires
                            .insert(attribute.clone(), expires_raw.clone());
                        return detail(
                            &state,
                            on,
                            &id,
                            HashMap::new(),
                            outcome,
                            StatusCode::BAD_REQUEST,
                        )
                        .await;
                    }
                },
            };
            attributes::verify(
                db,
                state.env,
                on.member.by(),
                &a.consumer_id,
                &attribute,
                Some(id.as_str()),
                expires,
                verified,
            )
            .await
            .map(|()| {
                let done = if verified {
                    "attribute_verified"
                } else {
                    "verification_revoked"
                };
                on.href(&format!("/agreements/{id}?done={done}"))
            })
        }
        "delete" => agreements::delete(db, state.env, &caller, &id)
            .await
            .map(|()| on.href("/agreements?done=agreement_deleted")),
        "upgrade" => agreements::upgrade(db, state.env, &caller, &id)
            .await
            .map(|n| on.href(&format!("/agreements/{}?done=agreement_upgraded", n.id))),
        "reject" => match RejectionReason::of_agreement("reason", &reason_raw) {
            Ok(reason) => {
                agreements::act(db, state.env, &caller, user, &id, Action::Reject(reason))
                    .await
                    .map(|_| on.href(&format!("/agreements/{id}?done=agreement_rejected")))
            }
            Err(e) => {
                let outcome = Outcome {
                    reason_error: Some(localize_field(&on.page, &e.message)),
                    reason: reason_raw,
                    ..Outcome::default()
                };
                return detail(
                    &state,
                    on,
                    &id,
                    HashMap::new(),
                    outcome,
                    StatusCode::BAD_REQUEST,
                )
                .await;
            }
        },
        other => {
            let action = match other {
                "submit" => Some((Action::Submit, "agreement_submitted")),
                "approve" => Some((Action::Approve, "agreement_approved")),
                "suspend" => Some((Action::Suspend, "agreement_suspended")),
                "activate" => Some((Action::Activate, "agreement_activated")),
                "archive" => Some((Action::Archive, "agreement_archived")),
                _ => None,
            };
            match action {
                Some((action, done)) => agreements::act(db, state.env, &caller, user, &id, action)
                    .await
                    .map(|_| on.href(&format!("/agreements/{id}?done={done}"))),
                None => Err(InteropError::invalid("action", "unknown action")),
            }
        }
    };
    match result {
        Ok(to) => {
            // A decision, or a request that waits, may have queued emails.
            state.platform.mail.wake();
            Ok(see_other(&to))
        }
        Err(e) if shown_in_place(&e) => {
            let status = e.status();
            let mut outcome = Outcome {
                reason: reason_raw,
                ..Outcome::default()
            };
            let past = kind == "verify"
                && matches!(&e, InteropError::Invalid(errs)
                    if errs.iter().any(|x| x.field == "expirationDate"));
            if past {
                outcome.errors.add(
                    &format!("expires-{attribute}"),
                    on.page.t("interop.agreement.expires_past").to_string(),
                );
                outcome.expires.insert(attribute, expires_raw);
            } else {
                // A refusal about attributes names them.
                let requirements = requirements_of(&state, &a)
                    .await
                    .map_err(|err| on.fail(err))?;
                let explained = words::explain(
                    &state,
                    &on,
                    &e,
                    &a.consumer_id,
                    &a.producer_id,
                    &requirements,
                )
                .await
                .map_err(|err| on.fail(err))?;
                outcome.error = Some(explained.unwrap_or_else(|| Refused::of(&on.page, &e)));
            }
            detail(&state, on, &id, HashMap::new(), outcome, status).await
        }
        Err(e) => Err(on.fail(e)),
    }
}
