//! "Client e-service" and "Client API": the institution's clients with the creation form, a
//! client's page (linked purposes, members, public keys, deletion), the download of a key as a
//! JWK and "Genera voucher", which shows what a client assertion must say for a client and a
//! purpose. Every change goes through the same store functions as the JSON API.

use platform::Timestamp;
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use platform::layout::{ErrorSummary, Page};
use platform::web::{FormData, NotAForm};
use serde_json::{Value, json};

use super::view::{
    FormErrors, NextStep, StateView, flash, localize_error, localize_field, purpose_state, query,
    shown_in_place, tr,
};
use super::{On, PageError, Pairs, Shell, render, see_other, value};
use crate::api::clients::caller;
use crate::error::InteropError;
use crate::model::client::{self as rules, ClientInput, ClientKind, KEY_ALG, KEY_USE};
use crate::model::key::parse_uploaded_key;
use crate::model::token::{ASSERTION_TYPE, GRANT_TYPE};
use crate::model::{AgreementState, FieldError, PurposeVersionState, purpose};
use crate::state::EnvState;
use crate::store::clients::{self, Client, Key};
use crate::store::purposes::{self, Purpose};
use crate::store::{self, Person, agreements};

/// The kind named by `?kind=` (CONSUMER unless API).
fn kind_of(raw: Option<&str>) -> ClientKind {
    match raw {
        Some(k) if k.eq_ignore_ascii_case("API") => ClientKind::Api,
        _ => ClientKind::Consumer,
    }
}

/// The list of clients of a kind, under this environment.
fn list_href(on: &On, kind: ClientKind) -> String {
    on.href(&format!("/clients?kind={}", kind.as_str()))
}

/// Marks the left column's entry of the kind as the current one (both lists share a path).
fn mark_nav(on: &mut On, kind: ClientKind) {
    let href = list_href(on, kind);
    for item in &mut on.shell.nav {
        item.current = item.href == href;
    }
}

fn kind_key(kind: ClientKind) -> &'static str {
    match kind {
        ClientKind::Consumer => "interop.clients.title_consumer",
        ClientKind::Api => "interop.clients.title_api",
    }
}

/// The kind of one client (the lists' titles are plural).
fn kind_label(kind: ClientKind) -> &'static str {
    match kind {
        ClientKind::Consumer => "interop.clients.kind_consumer",
        ClientKind::Api => "interop.clients.kind_api",
    }
}

fn role_key(role: &str) -> &'static str {
    match role {
        "admin" => "interop.roles.admin",
        "api" => "interop.roles.api",
        _ => "interop.roles.security",
    }
}

fn full_name(p: &Person) -> String {
    format!("{} {}", p.name, p.family_name)
}

/// A person's name by user id, or the id when they are not among the people of the
/// environment any more.
fn name_of(people: &[Person], user_id: &str) -> String {
    people
        .iter()
        .find(|p| p.user_id == user_id)
        .map_or_else(|| user_id.to_string(), full_name)
}

// ---- the lists ----

pub struct ClientLine {
    pub href: String,
    pub name: String,
    pub description: Option<String>,
    pub members: usize,
    pub keys: usize,
    pub purposes: usize,
    /// Vouchers issued to the client in the last [`VOUCHER_DAYS`] days.
    pub vouchers: i64,
    pub created: String,
}

/// The window of the voucher counts on the clients list (the records themselves are kept for
/// `interop.token.voucher_retention_days` in their own store, and shown only as counts).
pub const VOUCHER_DAYS: i64 = 30;

/// A person the creation form offers as a member.
pub struct PersonOption {
    pub user_id: String,
    pub name: String,
    pub roles: Vec<&'static str>,
    pub checked: bool,
    pub me: bool,
}

/// What was typed in the creation form.
#[derive(Default)]
pub struct ClientForm {
    pub name: String,
    pub description: String,
    pub members: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "clients.html")]
pub struct ClientsPage {
    page: Page,
    shell: Shell,
    kind: &'static str,
    title_key: &'static str,
    consumer: bool,
    lines: Vec<ClientLine>,
    /// Security users see only the clients they belong to.
    only_mine: bool,
    may_create: bool,
    csrf: String,
    action: String,
    form: ClientForm,
    people: Vec<PersonOption>,
    errors: FormErrors,
    flash: Option<String>,
    pager: platform::paging::Pager,
}

impl ClientsPage {
    fn error_count(&self) -> String {
        platform::layout::error_count(&self.page, self.errors.count())
    }
}

async fn list_page(
    state: &EnvState,
    mut on: On,
    kind: ClientKind,
    form: Option<ClientForm>,
    errors: FormErrors,
    q: &HashMap<String, String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    mark_nav(&mut on, kind);
    let flash = flash(&on.page, q);
    let number = super::view::page_number(q);
    let db = &state.platform.db;
    let found = clients::page(
        db,
        state.env,
        caller(&on.member),
        Some(kind),
        super::view::page_window(number),
    )
    .await
    .map_err(|e| on.fail(e))?;
    let base_href = on.href("/clients");
    let pager = super::view::pager(number, found.total_count, |n| {
        super::view::list_href(&base_href, &[("kind", kind.as_str())], n)
    });
    let list = found.results;
    let since = platform::jwt::now_secs() - VOUCHER_DAYS * 86_400;
    let counts = crate::store::tokens::counts_by_client(
        &state.voucher_store,
        state.env,
        on.institution(),
        since,
    )
    .await
    .map_err(|e| on.fail(e.into()))?;
    let lang = on.page.lang;
    let lines = list
        .iter()
        .map(|c| ClientLine {
            vouchers: counts
                .iter()
                .find(|(id, _)| *id == c.id)
                .map_or(0, |(_, n)| *n),
            href: on.href(&format!("/clients/{}", c.id)),
            name: c.name.clone(),
            description: c.description.clone(),
            members: c.members.len(),
            keys: c.keys.len(),
            purposes: c.purposes.len(),
            created: Timestamp(c.created_at).for_people(lang),
        })
        .collect();
    let may_create = rules::may_manage_clients(&on.member.roles);
    let me = on.member.session.user_id().to_string();
    let people = if may_create {
        store::people(db, state.env, on.institution())
            .await
            .map_err(|e| on.fail(e))?
    } else {
        Vec::new()
    };
    // The creator is checked by default; after a failed POST, what was checked.
    let form = form.unwrap_or_else(|| ClientForm {
        members: vec![me.clone()],
        ..ClientForm::default()
    });
    let people = people
        .iter()
        .filter(|p| rules::may_become_member(&p.roles).is_ok())
        .map(|p| PersonOption {
            user_id: p.user_id.clone(),
            name: full_name(p),
            roles: p.roles.iter().map(|r| role_key(r)).collect(),
            checked: form.members.contains(&p.user_id),
            me: p.user_id == me,
        })
        .collect();
    let only_mine = !on.member.roles.contains(&crate::model::Role::Admin);
    let csrf = on.csrf();
    let action = on.href("/clients");
    let On { page, shell, .. } = on;
    Ok(render(
        ClientsPage {
            page,
            shell,
            kind: kind.as_str(),
            title_key: kind_key(kind),
            consumer: kind == ClientKind::Consumer,
            lines,
            only_mine,
            may_create,
            csrf,
            action,
            form,
            people,
            errors,
            flash,
            pager,
        },
        status,
    ))
}

/// Admin and security users work with clients; an API operator has none to see.
fn require_keys_role(on: &On) -> Result<(), PageError> {
    if crate::model::may_manage_keys(&on.member.roles) {
        Ok(())
    } else {
        Err(on.fail(InteropError::Forbidden(
            on.page.t("interop.clients.role_note").to_string(),
        )))
    }
}

/// `GET /clients?kind=CONSUMER|API`
pub async fn list(
    State(state): State<EnvState>,
    on: On,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    require_keys_role(&on)?;
    let q = query(q);
    let kind = kind_of(q.get("kind").map(String::as_str));
    list_page(
        &state,
        on,
        kind,
        None,
        FormErrors::default(),
        &q,
        StatusCode::OK,
    )
    .await
}

/// The form field of a path of `ClientInput`'s errors.
fn client_field(path: &str) -> Option<String> {
    match path {
        "name" | "description" => Some(path.to_string()),
        p if p.starts_with("members") => Some("members".into()),
        _ => None,
    }
}

/// `POST /clients`: `kind`, `name`, `description`, `members` (repeated); then the new
/// client's page.
pub async fn create(
    State(state): State<EnvState>,
    on: On,
    form: Result<Form<Pairs>, FormRejection>,
) -> Result<Response, PageError> {
    let pairs = on.form(form)?;
    let kind = kind_of(Some(value(&pairs, "kind")));
    if !rules::may_manage_clients(&on.member.roles) {
        return Err(on.fail(InteropError::Forbidden(
            on.page.t("interop.clients.admin_only").to_string(),
        )));
    }
    let form = ClientForm {
        name: value(&pairs, "name").to_string(),
        description: value(&pairs, "description").to_string(),
        members: pairs
            .iter()
            .filter(|(k, _)| k == "members")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    let payload = json!({
        "name": form.name, "description": form.description, "members": form.members,
    });
    let none = HashMap::new();
    let failed = |on: On, form: ClientForm, errors: FormErrors, status: StatusCode| {
        list_page(&state, on, kind, Some(form), errors, &none, status)
    };
    let input = match ClientInput::parse(&payload) {
        Ok(input) => input,
        Err(errors) => {
            let errors = FormErrors::place(&on.page, &errors, client_field);
            return failed(on, form, errors, StatusCode::BAD_REQUEST).await;
        }
    };
    match clients::create(
        &state.platform.db,
        state.env,
        caller(&on.member),
        kind,
        &input,
    )
    .await
    {
        Ok(c) => Ok(see_other(
            &on.href(&format!("/clients/{}?done=client_created", c.id)),
        )),
        Err(e) if shown_in_place(&e) => {
            let status = e.status();
            let errors = match &e {
                InteropError::Invalid(errors) => FormErrors::place(&on.page, errors, client_field),
                _ => {
                    let mut errors = FormErrors::default();
                    errors.general.push(localize_error(&on.page, &e));
                    errors
                }
            };
            failed(on, form, errors, status).await
        }
        Err(e) => Err(on.fail(e)),
    }
}

mod client;
#[cfg(test)]
mod tests;
mod voucher;

pub use client::{act, jwk, show};
pub use voucher::voucher;
