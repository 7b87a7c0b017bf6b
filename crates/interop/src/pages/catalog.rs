//! "Catalogo e-service": the published e-services with a search box, an e-service's page with
//! its active version, and the subscription ("Crea richiesta di fruizione").

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

use super::attributes::{self as words, Refused, RequirementsView};
use super::eservices::FileLine;
use super::view::{self, StateView, descriptor_state, grouped, localize_error, policy_key, query};
use super::{On, PageError, Pairs, Shell, render, see_other, value};
use crate::error::InteropError;
use crate::model as rules;
use crate::model::attribute::{self as attribute_rules, AttributeKind};
use crate::state::EnvState;
use crate::store::agreements;
use crate::store::catalogue::{self, EService};

/// The longest search the catalogue accepts (as the API).
const Q_MAX: usize = 60;

/// One e-service of the catalogue.
pub struct CatalogLine {
    pub href: String,
    pub id: String,
    pub name: String,
    pub producer: String,
    pub description: String,
    pub version: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "catalog.html")]
pub struct CatalogPage {
    page: Page,
    shell: Shell,
    /// The environment's address.
    base: String,
    q: String,
    q_error: Option<String>,
    lines: Vec<CatalogLine>,
    /// How many e-services match in all.
    total: i64,
    pager: platform::paging::Pager,
}

/// `GET /catalog?q=&page=`: 20 a page.
pub async fn list(
    State(state): State<EnvState>,
    on: On,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q);
    let number = view::page_number(&q);
    let q = q.get("q").cloned().unwrap_or_default();
    let (search, q_error) = if q.trim().chars().count() > Q_MAX {
        (
            None,
            Some(super::view::tr(
                on.page.t("interop.catalog.q_too_long"),
                &[("max", &Q_MAX.to_string())],
            )),
        )
    } else {
        (Some(q.trim().to_string()), None)
    };
    let found = match &search {
        Some(s) => catalogue::catalog_page(
            &state.platform.db,
            state.env,
            Some(s),
            view::page_window(number),
        )
        .await
        .map_err(|e| on.fail(e))?,
        None => catalogue_none(),
    };
    let base_href = on.href("/catalog");
    let pager = view::pager(number, found.total_count, |n| {
        view::list_href(&base_href, &[("q", q.as_str())], n)
    });
    let total = found.total_count;
    let lines = found
        .results
        .iter()
        .map(|e| CatalogLine {
            href: on.href(&format!("/catalog/{}", e.id)),
            id: e.id.clone(),
            name: e.name.clone(),
            producer: e.producer_name.clone(),
            description: e.description.clone(),
            version: e.latest_published().map(|d| d.version.clone()),
        })
        .collect();
    let On {
        page, shell, base, ..
    } = on;
    Ok(render(
        CatalogPage {
            page,
            shell,
            base,
            q,
            q_error,
            lines,
            total,
            pager,
        },
        StatusCode::OK,
    ))
}

fn catalogue_none() -> crate::store::Paged<EService> {
    crate::store::Paged {
        results: Vec::new(),
        total_count: 0,
    }
}

/// The active version of an e-service as its page shows it.
pub struct VersionView {
    pub id: String,
    pub version: String,
    pub description: Option<String>,
    pub state: StateView,
    pub audience: Vec<String>,
    pub voucher_lifespan: String,
    pub daily_calls_per_consumer: String,
    pub daily_calls_total: String,
    pub policy_key: &'static str,
    pub policy: &'static str,
    pub server_urls: Vec<String>,
    pub published_at: Option<String>,
    /// Its interface and documents, each with its download link.
    pub interface: Option<FileLine>,
    pub docs: Vec<FileLine>,
}

/// The person's institution's agreement on the e-service, if one is alive.
pub struct ExistingAgreement {
    pub href: String,
    pub state: StateView,
}

#[derive(Template, WebTemplate)]
#[template(path = "eservice.html")]
pub struct EServicePage {
    page: Page,
    shell: Shell,
    /// The environment's address.
    base: String,
    csrf: String,
    id: String,
    name: String,
    producer: String,
    description: String,
    technology: String,
    active: Option<VersionView>,
    existing: Option<ExistingAgreement>,
    /// An ACTIVE agreement: purposes can be created.
    purpose_href: Option<String>,
    may_subscribe: bool,
    own: bool,
    notes: String,
    notes_error: Option<String>,
    error: Option<Refused>,
    /// The attributes the active version requires, each marked for the person's institution
    /// (not on its own e-service, which it uses without them).
    requirements: Option<RequirementsView>,
    /// The certified attributes the institution lacks, in words.
    missing_certified: Option<String>,
}

async fn load(state: &EnvState, on: &On, id: &str) -> Result<EService, PageError> {
    catalogue::eservice(&state.platform.db, state.env, id)
        .await
        .map_err(|e| on.fail(e))?
        .filter(|e| e.producer_id == on.institution() || e.latest_published().is_some())
        .ok_or_else(|| on.fail(InteropError::NotFound))
}

async fn detail(
    state: &EnvState,
    on: On,
    id: &str,
    notes: String,
    notes_error: Option<String>,
    error: Option<Refused>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let e = load(state, &on, id).await?;
    let own = e.producer_id == on.institution();
    let (requirements, missing_certified) = match e.latest_published() {
        Some(d) => {
            let names = words::names_of(state, &d.attributes)
                .await
                .map_err(|err| on.fail(err))?;
            let held = if own {
                None
            } else {
                Some(
                    words::held_for(state, on.institution(), &e.producer_id)
                        .await
                        .map_err(|err| on.fail(err))?,
                )
            };
            let view = RequirementsView::of(&on, &d.attributes, &names, held.as_ref());
            let missing = held.as_ref().and_then(|h| {
                let verdict = attribute_rules::check(&d.attributes, h);
                (!verdict.certified).then(|| {
                    let list = words::missing_words(
                        &on.page,
                        &verdict.missing,
                        &[AttributeKind::Certified],
                        &names,
                    );
                    on.page.tr(
                        "interop.requirements.missing_certified",
                        &[("names", &list)],
                    )
                })
            });
            (Some(view), missing)
        }
        None => (None, None),
    };
    let lang = on.page.lang;
    let mine = agreements::list(&state.platform.db, state.env, on.institution(), false)
        .await
        .map_err(|err| on.fail(err))?;
    let alive = mine
        .iter()
        .find(|a| a.eservice_id == e.id && a.state_value.blocks_new_agreement());
    let existing = alive.map(|a| ExistingAgreement {
        href: on.href(&format!("/agreements/{}", a.id)),
        state: super::view::agreement_state(a.state_value),
    });
    let purpose_href = alive
        .filter(|a| a.state_value == rules::AgreementState::Active)
        .map(|_| on.href(&format!("/purposes/new?eserviceId={}", e.id)));
    let active = e.latest_published().map(|d| VersionView {
        id: d.id.clone(),
        version: d.version.clone(),
        description: d.description.clone(),
        state: descriptor_state(d.state_value),
        audience: d.audience.clone(),
        voucher_lifespan: grouped(lang, d.voucher_lifespan),
        daily_calls_per_consumer: grouped(lang, d.daily_calls_per_consumer),
        daily_calls_total: grouped(lang, d.daily_calls_total),
        policy_key: policy_key(d.agreement_approval_policy),
        policy: d.agreement_approval_policy,
        server_urls: d.server_urls.clone(),
        published_at: d.published_at.map(|t| Timestamp(t).for_people(lang)),
        interface: d
            .interface
            .as_ref()
            .map(|f| FileLine::of(&on, &catalog_version_path(&e.id, &d.id), f)),
        docs: d
            .docs
            .iter()
            .map(|f| FileLine::of(&on, &catalog_version_path(&e.id, &d.id), f))
            .collect(),
    });
    let may_subscribe = rules::may_act_as_consumer(&on.member.roles);
    let csrf = on.csrf();
    let On {
        page, shell, base, ..
    } = on;
    Ok(render(
        EServicePage {
            page,
            shell,
            base,
            csrf,
            id: e.id,
            name: e.name,
            producer: e.producer_name,
            description: e.description,
            technology: e.technology,
            active,
            existing,
            purpose_href,
            may_subscribe,
            own,
            notes,
            notes_error,
            error,
            requirements,
            missing_certified,
        },
        status,
    ))
}

/// `GET /catalog/{id}`
pub async fn show(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    detail(&state, on, &id, String::new(), None, None, StatusCode::OK).await
}

/// `POST /catalog/{id}`: "Crea richiesta di fruizione" on the active version, with an optional
/// note; then the agreement's page.
pub async fn subscribe(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Result<Response, PageError> {
    let pairs = on.form(form)?;
    let notes_raw = value(&pairs, "consumerNotes").to_string();
    if !rules::may_act_as_consumer(&on.member.roles) {
        let message = on.page.t("interop.catalog.admin_only").to_string();
        let refused = Refused {
            message,
            link: None,
        };
        return detail(
            &state,
            on,
            &id,
            notes_raw,
            None,
            Some(refused),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let notes = match rules::agreement::consumer_notes(Some(&notes_raw)) {
        Ok(n) => n,
        Err(e) => {
            let message = super::view::localize_field(&on.page, &e.message);
            return detail(
                &state,
                on,
                &id,
                notes_raw,
                Some(message),
                None,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let descriptor_id = value(&pairs, "descriptorId").to_string();
    let created = agreements::create(
        &state.platform.db,
        state.env,
        &on.member.tenant,
        &id,
        &descriptor_id,
        notes,
    )
    .await;
    match created {
        Ok(a) => Ok(see_other(
            &on.href(&format!("/agreements/{}?done=agreement_created", a.id)),
        )),
        Err(e) if super::view::shown_in_place(&e) => {
            let status = e.status();
            // A refusal about attributes names them.
            let found = load(&state, &on, &id).await?;
            let chosen = found
                .descriptor(&descriptor_id)
                .or_else(|| found.latest_published());
            let explained = match chosen {
                Some(d) => words::explain(
                    &state,
                    &on,
                    &e,
                    on.institution(),
                    &found.producer_id,
                    &d.attributes,
                )
                .await
                .map_err(|err| on.fail(err))?,
                None => None,
            };
            let refused = explained.unwrap_or_else(|| Refused {
                message: localize_error(&on.page, &e),
                link: None,
            });
            detail(&state, on, &id, notes_raw, None, Some(refused), status).await
        }
        Err(e) => Err(on.fail(e)),
    }
}

/// A version of the catalogue, whose files are downloaded under it.
fn catalog_version_path(eservice_id: &str, descriptor_id: &str) -> String {
    format!("/catalog/{eservice_id}/versions/{descriptor_id}")
}

/// `GET /catalog/{id}/versions/{descriptor_id}/documents/{document_id}`: a file of a version
/// that left the draft, for anyone of the environment (the producer's own in any state).
pub async fn document(
    State(state): State<EnvState>,
    on: On,
    Path((id, descriptor_id, document_id)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let (info, content) = crate::store::documents::content(
        &state.platform.db,
        state.env,
        on.institution(),
        &id,
        &descriptor_id,
        &document_id,
    )
    .await
    .map_err(|e| on.fail(e))?;
    Ok(crate::api::documents::file_response(&info, content))
}
