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
use platform::i18n::Lang;
use platform::layout::Page;
use serde_json::{Value, json};

use super::view::{
    FormErrors, StateView, flash, localize_error, localize_field, purpose_state, query,
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
}

impl ClientsPage {
    fn err(&self, field: &str) -> Option<String> {
        self.errors.of(field)
    }
}

async fn list_page(
    state: &EnvState,
    mut on: On,
    kind: ClientKind,
    form: Option<ClientForm>,
    errors: FormErrors,
    flash: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    mark_nav(&mut on, kind);
    let db = &state.platform.db;
    let list = clients::list(db, state.env, caller(&on.member), Some(kind))
        .await
        .map_err(|e| on.fail(e))?;
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
    let me = on.member.user_id().to_string();
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
    let flash = flash(&on.page, &q);
    list_page(
        &state,
        on,
        kind,
        None,
        FormErrors::default(),
        flash,
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
    let failed = |on: On, form: ClientForm, errors: FormErrors, status: StatusCode| {
        list_page(&state, on, kind, Some(form), errors, None, status)
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

// ---- a client ----

pub struct LinkedPurpose {
    pub id: String,
    pub title: String,
    pub href: Option<String>,
    pub eservice: String,
    pub state: Option<StateView>,
    pub voucher_href: String,
}

pub struct MemberLine {
    pub user_id: String,
    pub name: String,
    pub roles: Vec<&'static str>,
    pub me: bool,
}

pub struct KeyLine {
    pub kid: String,
    pub name: String,
    pub bits: i64,
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub jwk_href: String,
    pub may_delete: bool,
}

/// A key refused at upload: what is wrong in the person's language, and the model's detailed
/// explanation (what was found, what to do).
pub struct KeyProblem {
    pub lead: String,
    pub detail: Option<String>,
}

/// What a failed action leaves on the page.
#[derive(Default)]
struct Outcome {
    error: Option<String>,
    errors: FormErrors,
    key_problem: Option<KeyProblem>,
    key_name: String,
    key_text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "client.html")]
pub struct ClientPage {
    page: Page,
    shell: Shell,
    csrf: String,
    action: String,
    list_href: String,
    list_key: &'static str,
    kind_key: &'static str,
    id: String,
    name: String,
    description: Option<String>,
    kind: &'static str,
    consumer: bool,
    created: String,
    may_manage: bool,
    purposes: Vec<LinkedPurpose>,
    /// Purposes of the institution that can be linked: id and "title — e-service".
    linkable: Vec<(String, String)>,
    purposes_href: String,
    /// For API clients.
    voucher_href: String,
    members: Vec<MemberLine>,
    /// People who can be added: id and name.
    candidates: Vec<(String, String)>,
    keys: Vec<KeyLine>,
    may_upload: bool,
    /// An admin who is not a member: may add themself to upload keys.
    may_add_me: bool,
    me: String,
    max_keys: usize,
    flash: Option<String>,
    error: Option<String>,
    errors: FormErrors,
    key_problem: Option<KeyProblem>,
    key_name: String,
    key_text: String,
}

impl ClientPage {
    fn err(&self, field: &str) -> Option<String> {
        self.errors.of(field)
    }

    /// How many keys a client holds at most, for the upload's hint.
    fn max_keys_note(&self) -> String {
        tr(
            self.page.t("interop.client.max_keys"),
            &[("max", &self.max_keys.to_string())],
        )
    }
}

/// The version a purpose's state is read from: the current one, else the latest.
fn shown_state(p: &Purpose) -> Option<StateView> {
    p.versions
        .iter()
        .rev()
        .find(|v| v.state_value.is_current())
        .or_else(|| p.versions.last())
        .map(|v| purpose_state(v.state_value))
}

/// The institution's agreement state on each e-service as the link rule reads it: ACTIVE if
/// one is, else SUSPENDED if one is.
async fn agreement_states(
    state: &EnvState,
    institution: &str,
) -> Result<HashMap<String, AgreementState>, InteropError> {
    let list = agreements::list(&state.platform.db, state.env, institution, false).await?;
    let mut out: HashMap<String, AgreementState> = HashMap::new();
    for a in list {
        let rank = |s: AgreementState| match s {
            AgreementState::Active => 0,
            AgreementState::Suspended => 1,
            _ => 2,
        };
        let better = out
            .get(&a.eservice_id)
            .is_none_or(|s| rank(a.state_value) < rank(*s));
        if better {
            out.insert(a.eservice_id.clone(), a.state_value);
        }
    }
    Ok(out)
}

async fn detail(
    state: &EnvState,
    mut on: On,
    c: Client,
    q: HashMap<String, String>,
    outcome: Outcome,
    status: StatusCode,
) -> Result<Response, PageError> {
    mark_nav(&mut on, c.kind);
    let db = &state.platform.db;
    let lang = on.page.lang;
    let me = on.member.user_id().to_string();
    let roles = on.member.roles.clone();
    let may_manage = rules::may_manage_clients(&roles);
    let is_member = c.members.contains(&me);
    let people = store::people(db, state.env, on.institution())
        .await
        .map_err(|e| on.fail(e))?;
    let keys = clients::list_keys(db, state.env, caller(&on.member), &c.id)
        .await
        .map_err(|e| on.fail(e))?;
    let (linked, linkable) = if c.kind == ClientKind::Consumer {
        let all = purposes::list(db, state.env, on.institution(), false)
            .await
            .map_err(|e| on.fail(e))?;
        let agreements = agreement_states(state, on.institution())
            .await
            .map_err(|e| on.fail(e))?;
        let linked = c
            .purposes
            .iter()
            .map(|pid| {
                let voucher_href = on.href(&format!("/clients/{}/voucher?purpose={pid}", c.id));
                match all.iter().find(|p| p.id == *pid) {
                    Some(p) => LinkedPurpose {
                        id: p.id.clone(),
                        title: p.title.clone(),
                        href: Some(on.href(&format!("/purposes/{}", p.id))),
                        eservice: p.eservice_name.clone(),
                        state: shown_state(p),
                        voucher_href,
                    },
                    None => LinkedPurpose {
                        id: pid.clone(),
                        title: pid.clone(),
                        href: None,
                        eservice: String::new(),
                        state: None,
                        voucher_href,
                    },
                }
            })
            .collect();
        let linkable = all
            .iter()
            .filter(|p| !c.purposes.contains(&p.id))
            .filter(|p| {
                let versions: Vec<PurposeVersionState> =
                    p.versions.iter().map(|v| v.state_value).collect();
                let agreement = agreements
                    .get(&p.eservice_id)
                    .copied()
                    .unwrap_or(AgreementState::Archived);
                purpose::linkable_to_client(&versions, agreement).is_ok()
            })
            .map(|p| (p.id.clone(), format!("{} — {}", p.title, p.eservice_name)))
            .collect();
        (linked, linkable)
    } else {
        (Vec::new(), Vec::new())
    };
    let members = c
        .members
        .iter()
        .map(|uid| {
            let person = people.iter().find(|p| p.user_id == *uid);
            MemberLine {
                user_id: uid.clone(),
                name: person.map_or_else(|| uid.clone(), full_name),
                roles: person
                    .map(|p| p.roles.iter().map(|r| role_key(r)).collect())
                    .unwrap_or_default(),
                me: *uid == me,
            }
        })
        .collect();
    let candidates = people
        .iter()
        .filter(|p| !c.members.contains(&p.user_id))
        .filter(|p| rules::may_become_member(&p.roles).is_ok())
        .map(|p| (p.user_id.clone(), full_name(p)))
        .collect();
    let keys = keys
        .iter()
        .map(|k: &Key| KeyLine {
            kid: k.kid.clone(),
            name: k.name.clone(),
            bits: k.bits,
            uploaded_by: name_of(&people, &k.user_id),
            uploaded_at: Timestamp(k.created_at).for_people(lang),
            jwk_href: on.href(&format!("/clients/{}/keys/{}/jwk", c.id, k.kid)),
            may_delete: rules::may_delete_key(&roles, is_member, &me, &k.user_id).is_ok(),
        })
        .collect();
    let may_upload = rules::may_upload_key(&roles, is_member).is_ok();
    let may_add_me = may_manage && !is_member && people.iter().any(|p| p.user_id == me);
    let flash = flash(&on.page, &q);
    let csrf = on.csrf();
    let action = on.href(&format!("/clients/{}", c.id));
    let list_href = list_href(&on, c.kind);
    let purposes_href = on.href("/purposes");
    let voucher_href = on.href(&format!("/clients/{}/voucher", c.id));
    let On { page, shell, .. } = on;
    Ok(render(
        ClientPage {
            page,
            shell,
            csrf,
            action,
            list_href,
            list_key: kind_key(c.kind),
            kind_key: kind_label(c.kind),
            kind: c.kind.as_str(),
            consumer: c.kind == ClientKind::Consumer,
            created: Timestamp(c.created_at).for_people(lang),
            may_manage,
            purposes: linked,
            linkable,
            purposes_href,
            voucher_href,
            members,
            candidates,
            keys,
            may_upload,
            may_add_me,
            me,
            max_keys: state.max_keys_per_client,
            flash,
            error: outcome.error,
            errors: outcome.errors,
            key_problem: outcome.key_problem,
            key_name: outcome.key_name,
            key_text: outcome.key_text,
            id: c.id,
            name: c.name,
            description: c.description,
        },
        status,
    ))
}

/// `GET /clients/{id}`
pub async fn show(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let c = clients::get(&state.platform.db, state.env, caller(&on.member), &id)
        .await
        .map_err(|e| on.fail(e))?;
    detail(&state, on, c, query(q), Outcome::default(), StatusCode::OK).await
}

/// The base64 of the PEM the upload expects: a pasted PEM text is encoded here (with `\n`
/// line endings, as in the file), anything else is taken as already encoded.
pub fn key_base64(raw: &str) -> String {
    let text = raw.trim();
    if text.contains("-----BEGIN") {
        let mut pem = text.replace("\r\n", "\n");
        pem.push('\n');
        base64::engine::general_purpose::STANDARD.encode(pem)
    } else {
        text.to_string()
    }
}

/// The first letter of a model message in upper case (the models write them mid-sentence).
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Why an uploaded key was refused, in the person's language: the rejection's own summary
/// (Italian) and the model's specific message.
fn key_problem(page: &Page, encoded: &str, message: &str) -> KeyProblem {
    let code = parse_uploaded_key(encoded).err().map(|r| r.code());
    let key = code.map(|c| format!("interop.key_rejection.{c}"));
    match (page.lang, key) {
        (Lang::It, Some(key)) if page.catalogue.contains(&key) => KeyProblem {
            lead: page.t(&key).to_string(),
            detail: Some(sentence(message)),
        },
        _ => KeyProblem {
            lead: sentence(&localize_field(page, message)),
            detail: None,
        },
    }
}

/// The upload's key and name checked by the model; errors placed next to the two fields.
fn parse_upload(
    page: &Page,
    name: &str,
    raw: &str,
) -> Result<Vec<rules::KeyInput>, (FormErrors, Option<KeyProblem>)> {
    let encoded = key_base64(raw);
    let payload = json!([{ "key": encoded, "use": KEY_USE, "alg": KEY_ALG, "name": name }]);
    rules::parse_keys(&payload).map_err(|errors: Vec<FieldError>| {
        let mut placed = FormErrors::default();
        let mut problem = None;
        for e in &errors {
            match e.field.as_str() {
                "[0].key" => problem = Some(key_problem(page, &encoded, &e.message)),
                "[0].name" => placed.add("name", localize_field(page, &e.message)),
                _ => placed.general.push(format!(
                    "{}: {}",
                    e.field,
                    localize_field(page, &e.message)
                )),
            }
        }
        (placed, problem)
    })
}

/// `POST /clients/{id}` with `action` = link_purpose / unlink_purpose (`purposeId`),
/// add_member / remove_member (`userId`), add_key (`name`, `key`), delete_key (`kid`) or
/// delete.
pub async fn act(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Result<Response, PageError> {
    let db = &state.platform.db;
    let env = state.env;
    // Someone else's client is not found, whatever was posted.
    let c = clients::get(db, env, caller(&on.member), &id)
        .await
        .map_err(|e| on.fail(e))?;
    let pairs = on.form(form)?;
    let action = value(&pairs, "action").to_string();
    let who = caller(&on.member);
    let mut outcome = Outcome::default();
    let href =
        |done: &str, anchor: &str| on.href(&format!("/clients/{}?done={done}#{anchor}", c.id));
    let purpose_id = value(&pairs, "purposeId").trim().to_string();
    let user_id = value(&pairs, "userId").trim().to_string();
    let result: Result<String, InteropError> = match action.as_str() {
        "link_purpose" if purpose_id.is_empty() => {
            Err(InteropError::invalid("purposeId", "is required"))
        }
        "link_purpose" => clients::link_purpose(db, env, who, &c.id, &purpose_id)
            .await
            .map(|_| href("purpose_linked", "purposes")),
        "unlink_purpose" => clients::unlink_purpose(db, env, who, &c.id, &purpose_id)
            .await
            .map(|()| href("purpose_unlinked", "purposes")),
        "add_member" if user_id.is_empty() => Err(InteropError::invalid("userId", "is required")),
        "add_member" => clients::add_member(db, env, who, &c.id, &user_id)
            .await
            .map(|_| href("member_added", "members")),
        "remove_member" => clients::remove_member(db, env, who, &c.id, &user_id)
            .await
            .map(|()| href("member_removed", "members")),
        "add_key" => {
            outcome.key_name = value(&pairs, "name").to_string();
            outcome.key_text = value(&pairs, "key").to_string();
            match parse_upload(&on.page, &outcome.key_name, &outcome.key_text) {
                Err((errors, problem)) => {
                    // A private key is not written back into the page.
                    if parse_uploaded_key(&key_base64(&outcome.key_text))
                        .is_err_and(|r| r.code() == "private_key")
                    {
                        outcome.key_text.clear();
                    }
                    outcome.errors = errors;
                    outcome.key_problem = problem;
                    return detail(
                        &state,
                        on,
                        c,
                        HashMap::new(),
                        outcome,
                        StatusCode::BAD_REQUEST,
                    )
                    .await;
                }
                Ok(keys) => {
                    clients::add_keys(db, env, who, &c.id, &keys, state.max_keys_per_client)
                        .await
                        .map(|_| href("key_added", "keys"))
                }
            }
        }
        "delete_key" => clients::delete_key(db, env, who, &c.id, value(&pairs, "kid"))
            .await
            .map(|()| href("key_deleted", "keys")),
        // One click must not delete a client: the form carries a confirmation to tick.
        "delete" if value(&pairs, "confirm") != "yes" => {
            Err(InteropError::invalid("confirm", "confirm to delete"))
        }
        "delete" => clients::delete(db, env, who, &c.id).await.map(|()| {
            on.href(&format!(
                "/clients?kind={}&done=client_deleted",
                c.kind.as_str()
            ))
        }),
        _ => Err(InteropError::invalid("action", "unknown action")),
    };
    match result {
        Ok(to) => Ok(see_other(&to)),
        Err(e) if shown_in_place(&e) || matches!(e, InteropError::NotFound) => {
            let status = e.status();
            match &e {
                InteropError::Conflict("key_already_exists", _) => {
                    outcome.key_problem = Some(KeyProblem {
                        lead: localize_error(&on.page, &e),
                        detail: None,
                    });
                }
                InteropError::Invalid(errors) => {
                    outcome.errors = FormErrors::place(&on.page, errors, |f| match f {
                        "purposeId" | "userId" | "confirm" => Some(f.to_string()),
                        _ => None,
                    });
                }
                InteropError::NotFound => {
                    outcome.error = Some(on.page.t("interop.client.gone").to_string());
                }
                _ => outcome.error = Some(localize_error(&on.page, &e)),
            }
            // The client as it is now (it may have just been deleted by someone else).
            let c = clients::get(db, env, caller(&on.member), &id)
                .await
                .map_err(|e| on.fail(e))?;
            detail(&state, on, c, HashMap::new(), outcome, status).await
        }
        Err(e) => Err(on.fail(e)),
    }
}

/// `GET /clients/{id}/keys/{kid}/jwk`: the key as a JWK file.
pub async fn jwk(
    State(state): State<EnvState>,
    on: On,
    Path((id, kid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let k = clients::get_key(&state.platform.db, state.env, caller(&on.member), &id, &kid)
        .await
        .map_err(|e| on.fail(e))?;
    let body = serde_json::to_string_pretty(&k.jwk()).unwrap_or_default();
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk+json"),
    );
    // The kid is base64url: safe in a file name.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.jwk.json\"", k.kid)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

// ---- "Genera voucher" ----

/// A claim of the assertion as the page explains it.
pub struct ClaimLine {
    pub name: &'static str,
    pub value: String,
    pub note_key: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "voucher.html")]
pub struct VoucherPage {
    page: Page,
    shell: Shell,
    client_href: String,
    client_name: String,
    client_id: String,
    consumer: bool,
    /// The chosen purpose: title and e-service.
    purpose: Option<(String, String)>,
    purpose_id: String,
    /// The client's linked purposes to choose from: href and title.
    choices: Vec<(String, String)>,
    /// The purpose asked for is not linked to the client.
    not_linked: bool,
    kids: Vec<(String, String)>,
    keys_href: String,
    audience: String,
    token_url: String,
    debug_href: String,
    header_json: String,
    claims: Vec<ClaimLine>,
    payload_json: String,
    script: String,
    curl: String,
}

/// A JSON object with its members in the given order, one a line.
fn ordered_json(members: &[(&str, Value)]) -> String {
    let lines: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("  {}: {}", json!(k), v))
        .collect();
    format!("{{\n{}\n}}", lines.join(",\n"))
}

/// `value` in single quotes for a POSIX shell.
fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// A client assertion made with the shell and OpenSSL only: the values of this client, fresh
/// `jti`, `iat` and `exp` at each run, signed with the private key in `key.pem`.
pub fn shell_script(
    comment: &str,
    client_id: &str,
    kid: &str,
    audience: &str,
    purpose_id: Option<&str>,
) -> String {
    let mut lines = vec![
        format!("# {comment}"),
        format!("CLIENT_ID={}", sh_quote(client_id)),
        format!("KID={}", sh_quote(kid)),
        format!("AUD={}", sh_quote(audience)),
    ];
    if let Some(p) = purpose_id {
        lines.push(format!("PURPOSE_ID={}", sh_quote(p)));
    }
    lines.extend([
        "b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }".to_string(),
        "IAT=$(date +%s); EXP=$((IAT + 600)); JTI=$(openssl rand -hex 16)".to_string(),
        "HEADER=$(printf '{\"kid\":\"%s\",\"alg\":\"RS256\",\"typ\":\"JWT\"}' \"$KID\" | b64url)"
            .to_string(),
    ]);
    if purpose_id.is_some() {
        lines.extend([
            "PAYLOAD=$(printf '{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"purposeId\":\"%s\",".to_string(),
            " \"jti\":\"%s\",\"iat\":%s,\"exp\":%s}' \\".to_string(),
            "  \"$CLIENT_ID\" \"$CLIENT_ID\" \"$AUD\" \"$PURPOSE_ID\" \"$JTI\" \"$IAT\" \"$EXP\" | b64url)"
                .to_string(),
        ]);
    } else {
        lines.extend([
            "PAYLOAD=$(printf '{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",".to_string(),
            " \"jti\":\"%s\",\"iat\":%s,\"exp\":%s}' \\".to_string(),
            "  \"$CLIENT_ID\" \"$CLIENT_ID\" \"$AUD\" \"$JTI\" \"$IAT\" \"$EXP\" | b64url)"
                .to_string(),
        ]);
    }
    lines.extend([
        "SIGNATURE=$(printf '%s.%s' \"$HEADER\" \"$PAYLOAD\" |".to_string(),
        "  openssl dgst -sha256 -sign key.pem | b64url)".to_string(),
        "CLIENT_ASSERTION=\"$HEADER.$PAYLOAD.$SIGNATURE\"".to_string(),
    ]);
    lines.join("\n")
}

/// `GET /clients/{id}/voucher?purpose=<purposeId>`: what to put in the client assertion for
/// this client (and purpose), and how to ask for the voucher.
pub async fn voucher(
    State(state): State<EnvState>,
    mut on: On,
    Path(id): Path<String>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let db = &state.platform.db;
    let c = clients::get(db, state.env, caller(&on.member), &id)
        .await
        .map_err(|e| on.fail(e))?;
    mark_nav(&mut on, c.kind);
    let q = query(q);
    let keys = clients::list_keys(db, state.env, caller(&on.member), &c.id)
        .await
        .map_err(|e| on.fail(e))?;
    let consumer = c.kind == ClientKind::Consumer;
    let asked = q
        .get("purpose")
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty());
    // One linked purpose needs no choice.
    let chosen = match &asked {
        Some(p) => c.purposes.iter().find(|x| *x == p).cloned(),
        None if c.purposes.len() == 1 => c.purposes.first().cloned(),
        None => None,
    };
    let not_linked = consumer && asked.is_some() && chosen.is_none();
    let mut purpose = None;
    let mut choices = Vec::new();
    if consumer {
        let all = purposes::list(db, state.env, on.institution(), false)
            .await
            .map_err(|e| on.fail(e))?;
        for pid in &c.purposes {
            let title = all.iter().find(|p| p.id == *pid).map_or_else(
                || pid.clone(),
                |p| format!("{} — {}", p.title, p.eservice_name),
            );
            choices.push((
                on.href(&format!("/clients/{}/voucher?purpose={pid}", c.id)),
                title,
            ));
        }
        purpose = chosen.as_ref().map(|pid| {
            all.iter().find(|p| p.id == *pid).map_or_else(
                || (pid.clone(), String::new()),
                |p| (p.title.clone(), p.eservice_name.clone()),
            )
        });
    }
    let purpose_id = chosen.clone().unwrap_or_default();
    let kid = keys
        .first()
        .map_or_else(|| "<kid>".to_string(), |k| k.kid.clone());
    let audience = state.policy.audience.clone();
    let token_url = format!(
        "{}{}/token.oauth2",
        state.platform.public_url.trim_end_matches('/'),
        on.shell.base
    );
    let jti = uuid::Uuid::new_v4().to_string();
    let iat = platform::jwt::now_secs();
    let exp = iat + 600;
    let header_json = ordered_json(&[
        ("kid", json!(kid)),
        ("alg", json!("RS256")),
        ("typ", json!("JWT")),
    ]);
    let mut payload: Vec<(&str, Value)> = vec![
        ("iss", json!(c.id)),
        ("sub", json!(c.id)),
        ("aud", json!(audience)),
    ];
    let mut claims = vec![
        ClaimLine {
            name: "iss",
            value: c.id.clone(),
            note_key: "interop.voucher.claim_iss",
        },
        ClaimLine {
            name: "sub",
            value: c.id.clone(),
            note_key: "interop.voucher.claim_sub",
        },
        ClaimLine {
            name: "aud",
            value: audience.clone(),
            note_key: "interop.voucher.claim_aud",
        },
    ];
    if consumer {
        payload.push(("purposeId", json!(purpose_id)));
        claims.push(ClaimLine {
            name: "purposeId",
            value: purpose_id.clone(),
            note_key: "interop.voucher.claim_purpose",
        });
    }
    payload.extend([
        ("jti", json!(jti)),
        ("iat", json!(iat)),
        ("exp", json!(exp)),
    ]);
    claims.extend([
        ClaimLine {
            name: "jti",
            value: jti.clone(),
            note_key: "interop.voucher.claim_jti",
        },
        ClaimLine {
            name: "iat",
            value: iat.to_string(),
            note_key: "interop.voucher.claim_iat",
        },
        ClaimLine {
            name: "exp",
            value: exp.to_string(),
            note_key: "interop.voucher.claim_exp",
        },
    ]);
    let payload_json = ordered_json(&payload);
    let script = shell_script(
        on.page.t("interop.voucher.script_comment"),
        &c.id,
        &kid,
        &audience,
        consumer.then_some(purpose_id.as_str()),
    );
    let curl = format!(
        "curl -X POST '{token_url}' \\\n  \
         -H 'Content-Type: application/x-www-form-urlencoded' \\\n  \
         -d 'client_id={id}' \\\n  \
         --data-urlencode \"client_assertion=$CLIENT_ASSERTION\" \\\n  \
         -d 'client_assertion_type={ASSERTION_TYPE}' \\\n  \
         -d 'grant_type={GRANT_TYPE}'",
        id = c.id,
    );
    let client_href = on.href(&format!("/clients/{}", c.id));
    let keys_href = format!("{client_href}#keys");
    let debug_href = on.href("/tools/client-assertion");
    let kids = keys
        .iter()
        .map(|k| (k.kid.clone(), k.name.clone()))
        .collect();
    let On { page, shell, .. } = on;
    Ok(render(
        VoucherPage {
            page,
            shell,
            client_href,
            client_name: c.name,
            client_id: c.id,
            consumer,
            purpose,
            purpose_id,
            choices,
            not_linked,
            kids,
            keys_href,
            audience,
            token_url,
            debug_href,
            header_json,
            claims,
            payload_json,
            script,
            curl,
        },
        if not_linked {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_pem_is_encoded_and_base64_is_kept() {
        let pem = "-----BEGIN PUBLIC KEY-----\r\nMIIB\r\n-----END PUBLIC KEY-----\r\n";
        let encoded = key_base64(pem);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&encoded)
            .unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"
        );
        assert_eq!(key_base64("  TUlJQg==\n"), "TUlJQg==");
        assert_eq!(kind_of(Some("api")), ClientKind::Api);
        assert_eq!(kind_of(None), ClientKind::Consumer);
        assert_eq!(sentence("the key"), "The key");
    }

    #[test]
    fn the_shell_script_quotes_its_values() {
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        let script = shell_script("c", "id", "kid", "aud", Some("p"));
        assert!(script.contains("PURPOSE_ID='p'"), "{script}");
        assert!(script.contains("\"purposeId\""), "{script}");
        let api = shell_script("c", "id", "kid", "aud", None);
        assert!(!api.contains("purposeId"), "{api}");
    }

    #[test]
    fn ordered_json_keeps_the_order() {
        let text = ordered_json(&[("kid", json!("k")), ("alg", json!("RS256"))]);
        assert_eq!(text, "{\n  \"kid\": \"k\",\n  \"alg\": \"RS256\"\n}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["alg"], "RS256");
    }
}
