//! "Servizi": the list, the create and edit form, a service's page with its actions, history
//! and keys, and the confirmations (delete, regenerate a key).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::Timestamp;
use platform::layout::Page;

use super::form::{FormErrors, META_FIELDS, ServiceForm, localize_conflict, place_errors, tr};
use super::view::{HistoryLine, KeysView, ServiceLine, ServiceView, paged};
use super::{Bo, PageError, PostedForm, QueryString, Shell, query, render, see_other, value};
use crate::error::IoError;
use crate::model::{self, Action, KeyType, Lifecycle, PayloadKind, ServiceData, TOPICS, Topic};
use crate::state::IoState;
use crate::store::{self, ServiceRow};

const PAGE_SIZE: i64 = 10;
const HISTORY_ITEMS: i64 = 20;

// ---- list ----

#[derive(Template, WebTemplate)]
#[template(path = "services.html")]
pub struct ServicesPage {
    page: Page,
    shell: Shell,
    lines: Vec<ServiceLine>,
    pager: platform::paging::Pager,
    /// The search typed (part of a service's name).
    search: String,
    flash: Option<&'static str>,
}

/// `GET /io/services?q=&page=N`: the institution's services, last changed first, those whose
/// name contains `q` (any case, accents, spaces and punctuation ignored) when one is given.
pub async fn list(
    State(state): State<IoState>,
    bo: Bo,
    q: QueryString,
) -> Result<Response, PageError> {
    let q = query(q);
    let db = &state.platform.db;
    let institution = &bo.user.tenant.institution_id;
    let search = q.get("q").cloned().unwrap_or_default();
    let (rows, pager) = paged(&q, &[("q", &search)], PAGE_SIZE, |limit, offset| {
        store::list_services(db, institution, &search, limit, offset)
    })
    .await
    .map_err(|e| bo.fail(e))?;
    let flash = match q.get("done").map(String::as_str) {
        Some("deleted") => Some("io.flash.deleted"),
        _ => None,
    };
    let lang = bo.page.lang;
    let Bo { page, shell, .. } = bo;
    Ok(render(
        ServicesPage {
            lines: rows.iter().map(|r| ServiceLine::of(r, lang)).collect(),
            pager,
            search,
            flash,
            page,
            shell,
        },
        StatusCode::OK,
    ))
}

// ---- the form ----

/// A metadata text field of the form, with what was typed and its error.
pub struct MetaInput {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: &'static str,
    pub hint: Option<&'static str>,
    pub value: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "service_form.html")]
pub struct ServiceFormPage {
    page: Page,
    shell: Shell,
    /// Where the form posts.
    action: String,
    /// The service being edited: id and (stored) name.
    editing: Option<(String, String)>,
    form: ServiceForm,
    errors: FormErrors,
    meta: Vec<MetaInput>,
    topics: &'static [Topic],
}

impl ServiceFormPage {
    fn err(&self, field: &str) -> Option<String> {
        self.errors.of(field)
    }

    fn error_count(&self) -> String {
        platform::layout::error_count(&self.page, self.errors.count())
    }
}

/// The form (of a new service, or editing `editing`) for `bo`.
fn form_page(
    bo: &Bo,
    editing: Option<&ServiceRow>,
    form: ServiceForm,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let meta = META_FIELDS
        .iter()
        .map(|f| MetaInput {
            name: f.name,
            label: f.label,
            kind: f.kind,
            hint: f.hint,
            value: form.meta(f.name).to_string(),
            error: errors.of(f.name),
        })
        .collect();
    let action = match editing {
        Some(row) => format!("/io/services/{}/edit", row.id),
        None => "/io/services/new".to_string(),
    };
    render(
        ServiceFormPage {
            page: bo.page.clone(),
            shell: bo.shell.clone(),
            action,
            editing: editing.map(|r| (r.id.clone(), r.data.name.clone())),
            form,
            errors,
            meta,
            topics: TOPICS,
        },
        status,
    )
}

/// `GET /io/services/new`
pub async fn new_form(bo: Bo) -> Response {
    let form = ServiceForm {
        // A new service may always write to the sandbox fiscal code; say so by showing it.
        authorized_recipients: model::SANDBOX_FISCAL_CODE.to_string(),
        ..ServiceForm::default()
    };
    form_page(&bo, None, form, FormErrors::default(), StatusCode::OK)
}

/// The service document the posted form describes, or the form again with its errors (400).
fn document(
    bo: &Bo,
    editing: Option<&ServiceRow>,
    form: ServiceForm,
    kind: PayloadKind,
) -> Result<ServiceData, Box<Response>> {
    model::parse_service(&form.to_json(), kind).map_err(|errors| {
        let errors = place_errors(&bo.page, &errors, &form);
        Box::new(form_page(
            bo,
            editing,
            form,
            errors,
            StatusCode::BAD_REQUEST,
        ))
    })
}

/// `POST /io/services/new`
pub async fn create(
    State(state): State<IoState>,
    bo: Bo,
    form: PostedForm,
) -> Result<Response, PageError> {
    let pairs = bo.posted(form)?;
    let form = ServiceForm::from_pairs(&pairs);
    let data = match document(&bo, None, form, PayloadKind::Create) {
        Ok(data) => data,
        Err(page) => return Ok(*page),
    };
    let row = store::create_service(
        &state.platform.db,
        &state.ring,
        &bo.user.tenant,
        &data,
        bo.user.session.user_id(),
    )
    .await
    .map_err(|e| bo.fail(e))?;
    Ok(see_other(&format!("/io/services/{}?done=created", row.id)))
}

/// A service of the person's institution.
async fn own(state: &IoState, bo: &Bo, id: &str) -> Result<ServiceRow, PageError> {
    let institution = &bo.user.tenant.institution_id;
    bo.service(id, store::get_service(&state.platform.db, institution, id))
        .await
}

/// `GET /io/services/{id}/edit`
pub async fn edit_form(
    State(state): State<IoState>,
    bo: Bo,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let row = own(&state, &bo, &id).await?;
    if let Err(refusal) = model::next(row.status, Action::Edit) {
        return conflict(&state, bo, row, &refusal.0).await;
    }
    let form = ServiceForm::from_data(&row.data);
    Ok(form_page(
        &bo,
        Some(&row),
        form,
        FormErrors::default(),
        StatusCode::OK,
    ))
}

/// `POST /io/services/{id}/edit`
pub async fn update(
    State(state): State<IoState>,
    bo: Bo,
    Path(id): Path<String>,
    form: PostedForm,
) -> Result<Response, PageError> {
    let pairs = bo.posted(form)?;
    let row = own(&state, &bo, &id).await?;
    if let Err(refusal) = model::next(row.status, Action::Edit) {
        return conflict(&state, bo, row, &refusal.0).await;
    }
    let mut form = ServiceForm::from_pairs(&pairs);
    // Not a field of the form: an edit keeps it.
    form.category = Some(row.data.metadata.category);
    let data = match document(&bo, Some(&row), form, PayloadKind::Update) {
        Ok(data) => data,
        Err(page) => return Ok(*page),
    };
    match store::update_service(
        &state.platform.db,
        &bo.user.tenant,
        &row.id,
        &data,
        bo.user.session.user_id(),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/io/services/{}?done=updated", row.id))),
        Err(IoError::Conflict(why)) => conflict(&state, bo, row, &why).await,
        Err(e) => Err(bo.fail(e)),
    }
}

// ---- the service's page ----

#[derive(Template, WebTemplate)]
#[template(path = "service_detail.html")]
pub struct DetailPage {
    page: Page,
    shell: Shell,
    svc: ServiceView,
    history: Vec<HistoryLine>,
    keys: Option<KeysView>,
    /// A success message (key, alert class).
    flash: Option<(&'static str, &'static str)>,
    /// Why the last action was refused.
    error: Option<String>,
    csrf: String,
    /// "Importato dal Developer Portal il … (delegato …)".
    imported: Option<String>,
    /// The delegate whose service it was, for the history.
    imported_by: Option<String>,
}

fn flash(done: &str) -> Option<(&'static str, &'static str)> {
    let success = "alert alert-success";
    Some(match done {
        "created" => ("io.flash.created", success),
        "updated" => ("io.flash.updated", success),
        "submitted" => ("io.flash.submitted", success),
        "auto_approved" => ("io.flash.auto_approved", success),
        "auto_published" => ("io.flash.auto_published", success),
        "auto_rejected" => ("io.flash.auto_rejected", "alert alert-warning"),
        "aborted" => ("io.flash.aborted", success),
        "published" => ("io.flash.published", success),
        "unpublished" => ("io.flash.unpublished", success),
        "regenerated_primary" => ("io.flash.regenerated_primary", success),
        "regenerated_secondary" => ("io.flash.regenerated_secondary", success),
        _ => return None,
    })
}

async fn detail_page(
    state: &IoState,
    bo: Bo,
    row: ServiceRow,
    show_keys: bool,
    flash: Option<(&'static str, &'static str)>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let db = &state.platform.db;
    let (items, _) = store::history(db, &row.id, true, HISTORY_ITEMS, None)
        .await
        .map_err(|e| bo.fail(e))?;
    let pair = store::keys(db, &state.ring, &row.id)
        .await
        .map_err(|e| bo.fail(e))?;
    let base = format!("/io/services/{}", row.id);
    let keys = KeysView::of(
        &pair,
        show_keys,
        &base,
        &format!("{base}/keys"),
        bo.user.is_admin(),
    );
    let lang = bo.page.lang;
    let origin = match &row.source {
        Some(_) => crate::import::store::origin(db, &row.tenant.institution_id, &row.id)
            .await
            .map_err(|e| bo.fail(e))?,
        None => None,
    };
    let imported = row.source.as_ref().map(|_| match &origin {
        Some((delegate, at)) => tr(
            bo.page.t("io.imported.on_by"),
            &[
                ("date", &Timestamp::from_millis(*at).date_for_people(lang)),
                ("delegate", delegate),
            ],
        ),
        None => bo.page.t("io.imported.mark").to_string(),
    });
    let imported_by = origin.map(|(delegate, _)| delegate);
    let csrf = bo.csrf();
    let Bo { page, shell, .. } = bo;
    Ok(render(
        DetailPage {
            imported,
            imported_by,
            svc: ServiceView::of(&row, lang),
            history: items.iter().map(|i| HistoryLine::of(i, lang)).collect(),
            keys: Some(keys),
            flash,
            error,
            csrf,
            page,
            shell,
        },
        status,
    ))
}

/// The service's page with why the change was refused (409).
async fn conflict(
    state: &IoState,
    bo: Bo,
    row: ServiceRow,
    why: &str,
) -> Result<Response, PageError> {
    let message = localize_conflict(&bo.page, why);
    detail_page(
        state,
        bo,
        row,
        false,
        None,
        Some(message),
        StatusCode::CONFLICT,
    )
    .await
}

/// `GET /io/services/{id}` (`?show_keys=1` shows the keys in full)
pub async fn detail(
    State(state): State<IoState>,
    bo: Bo,
    Path(id): Path<String>,
    q: QueryString,
) -> Result<Response, PageError> {
    let q = query(q);
    let row = own(&state, &bo, &id).await?;
    let show_keys = q.get("show_keys").is_some_and(|v| v == "1" || v == "true");
    let flash = q.get("done").and_then(|d| flash(d));
    detail_page(&state, bo, row, show_keys, flash, None, StatusCode::OK).await
}

/// `POST /io/services/{id}/action`: `action` = submit (with `auto_publish`), abort, publish,
/// unpublish or delete. What the state does not allow is the store's 409, shown on the page.
pub async fn action(
    State(state): State<IoState>,
    bo: Bo,
    Path(id): Path<String>,
    form: PostedForm,
) -> Result<Response, PageError> {
    let pairs = bo.posted(form)?;
    let row = own(&state, &bo, &id).await?;
    let db = &state.platform.db;
    let tenant = &bo.user.tenant;
    let actor = bo.user.session.user_id();
    let action = value(&pairs, "action");
    let done = match action {
        "submit" => {
            let auto_publish = matches!(value(&pairs, "auto_publish"), "on" | "true" | "1");
            store::submit(db, tenant, &row.id, auto_publish, actor)
                .await
                .map(|()| "submitted")
        }
        "abort" => store::abort(db, tenant, &row.id, actor)
            .await
            .map(|()| "aborted"),
        "publish" => store::release(db, tenant, &row.id, actor)
            .await
            .map(|()| "published"),
        "unpublish" => store::unpublish(db, tenant, &row.id, actor)
            .await
            .map(|()| "unpublished"),
        "delete" => store::delete_service(db, tenant, &row.id, actor)
            .await
            .map(|()| "deleted"),
        _ => return Err(bo.unknown_action(format!("/io/services/{}", row.id))),
    };
    let done = match done {
        Ok(done) => done,
        Err(IoError::Conflict(why)) => return conflict(&state, bo, row, &why).await,
        Err(e) => return Err(bo.fail(e)),
    };
    if done == "deleted" {
        return Ok(see_other("/io/services?done=deleted"));
    }
    // A submission may be decided at once (quality check, unchanged published service).
    let done = if done == "submitted" {
        match store::get_service(db, &tenant.institution_id, &row.id)
            .await
            .map_err(|e| bo.fail(e))?
        {
            Some(now) if now.status == Lifecycle::Rejected => "auto_rejected",
            Some(now) if now.status == Lifecycle::Approved && now.is_published() => {
                "auto_published"
            }
            Some(now) if now.status == Lifecycle::Approved => "auto_approved",
            _ => "submitted",
        }
    } else {
        done
    };
    Ok(see_other(&format!("/io/services/{}?done={done}", row.id)))
}

// ---- confirmations ----

#[derive(Template, WebTemplate)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub page: Page,
    pub shell: Shell,
    pub title: String,
    pub message: String,
    /// Where the confirmation posts, and its hidden fields besides the CSRF token.
    pub action: String,
    pub hidden: Vec<(&'static str, String)>,
    pub button_key: &'static str,
    pub danger: bool,
    pub cancel: String,
    pub csrf: String,
}

impl ConfirmPage {
    /// The confirmation, for `bo`, of a step that cannot be undone: it posts to `action`
    /// (with no hidden field yet), "cancel" goes back to `cancel`.
    pub fn danger(
        bo: Bo,
        title: String,
        message: String,
        button_key: &'static str,
        action: String,
        cancel: String,
    ) -> Self {
        let csrf = bo.csrf();
        let Bo { page, shell, .. } = bo;
        ConfirmPage {
            page,
            shell,
            title,
            message,
            action,
            hidden: Vec::new(),
            button_key,
            danger: true,
            cancel,
            csrf,
        }
    }
}

/// `GET /io/services/{id}/delete`: "Eliminare il servizio?"
pub async fn confirm_delete(
    State(state): State<IoState>,
    bo: Bo,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let row = own(&state, &bo, &id).await?;
    if let Err(refusal) = model::next(row.status, Action::Delete) {
        return conflict(&state, bo, row, &refusal.0).await;
    }
    let message = tr(bo.page.t("io.delete.message"), &[("name", &row.data.name)]);
    let title = bo.t("io.delete.title");
    let (action, cancel) = (
        format!("/io/services/{}/action", row.id),
        format!("/io/services/{}", row.id),
    );
    let mut confirm = ConfirmPage::danger(bo, title, message, "io.delete.confirm", action, cancel);
    confirm.hidden.push(("action", "delete".to_string()));
    Ok(render(confirm, StatusCode::OK))
}

pub fn key_type(bo: &Bo, raw: &str) -> Result<KeyType, PageError> {
    match raw {
        "primary" => Ok(KeyType::Primary),
        "secondary" => Ok(KeyType::Secondary),
        _ => Err(bo.fail(IoError::NotFound)),
    }
}

/// The confirmation of a key's regeneration (service keys and manage keys).
pub fn regenerate_confirmation(
    bo: Bo,
    kt: KeyType,
    subject: &str,
    action: String,
    cancel: String,
) -> Response {
    let which = bo.t(match kt {
        KeyType::Primary => "io.regenerate.primary",
        KeyType::Secondary => "io.regenerate.secondary",
    });
    let title = tr(bo.page.t("io.regenerate.title"), &[("key", &which)]);
    let message = tr(
        bo.page.t("io.regenerate.message"),
        &[("key", &which), ("subject", subject)],
    );
    let button = "io.regenerate.confirm";
    let confirm = ConfirmPage::danger(bo, title, message, button, action, cancel);
    render(confirm, StatusCode::OK)
}

/// `GET /io/services/{id}/keys/{primary|secondary}/regenerate` (administrators)
pub async fn confirm_regenerate(
    State(state): State<IoState>,
    bo: Bo,
    Path((id, kt)): Path<(String, String)>,
) -> Result<Response, PageError> {
    bo.require_admin()?;
    let row = own(&state, &bo, &id).await?;
    let kt = key_type(&bo, &kt)?;
    let subject = tr(
        bo.page.t("io.regenerate.of_service"),
        &[("name", &row.data.name)],
    );
    Ok(regenerate_confirmation(
        bo,
        kt,
        &subject,
        format!("/io/services/{}/keys/{}/regenerate", row.id, kt.as_str()),
        format!("/io/services/{}?show_keys=1#keys", row.id),
    ))
}

/// `POST /io/services/{id}/keys/{primary|secondary}/regenerate` (administrators)
pub async fn regenerate(
    State(state): State<IoState>,
    bo: Bo,
    Path((id, kt)): Path<(String, String)>,
    form: PostedForm,
) -> Result<Response, PageError> {
    bo.require_admin()?;
    bo.posted(form)?;
    let row = own(&state, &bo, &id).await?;
    let kt = key_type(&bo, &kt)?;
    store::regenerate(&state.platform.db, &state.ring, &row.id, kt)
        .await
        .map_err(|e| bo.fail(e))?;
    Ok(see_other(&format!(
        "/io/services/{}?show_keys=1&done=regenerated_{}#keys",
        row.id,
        kt.as_str()
    )))
}
