//! The users pages of an institution: the list with filters, a person's detail with the
//! actions on their roles, and "Aggiungi utente".

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::client_addr::ClientAddr;
use platform::layout::{ErrorSummary, Page};
use serde::Deserialize;

use crate::access;
use crate::api::users::{self as users_api, AddError, RoleChangeQuery, may_manage_users};
use crate::auth::{self, PageUser};
use crate::error::RaError;
use crate::model::users::{Field, NewUserInput, RoleChange, UserRuleError};
use crate::model::{self, Action, Authority};
use crate::pages::dashboard::page_for;
use crate::pages::error::{OnPage, PageFailure};
use crate::state::RaState;
use crate::store::{self, Institution, Member};

/// A product users can be added to, with its roles per authority.
pub struct ProductChoice {
    pub id: String,
    pub title: String,
    pub admin_roles: Vec<(String, String)>,
    pub limited_roles: Vec<(String, String)>,
}

fn product_choices(
    state: &RaState,
    a: &access::InstitutionAccess,
    page: &Page,
) -> Vec<ProductChoice> {
    let active = a.active_products();
    state
        .catalogue
        .iter()
        .filter(|p| active.contains(&p.id) && may_manage_users(state, a, &p.id))
        .map(|p| {
            let roles = |authority| {
                p.mapping(authority)
                    .map(|m| {
                        m.roles
                            .iter()
                            .map(|r| (r.code.clone(), r.label(page.lang).to_string()))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            ProductChoice {
                id: p.id.clone(),
                title: p.title(page.lang).to_string(),
                admin_roles: roles(Authority::Admin),
                limited_roles: roles(Authority::Limited),
            }
        })
        .collect()
}

/// Every product's title and its roles' labels in the person's language, by id: what people
/// read instead of the codes the records hold.
pub struct ProductTitles(Vec<ProductNames>);

struct ProductNames {
    id: String,
    title: String,
    /// `(code, label)` of each product role.
    roles: Vec<(String, String)>,
}

impl ProductTitles {
    fn of(state: &RaState, page: &Page) -> Self {
        ProductTitles(
            state
                .catalogue
                .iter()
                .map(|p| ProductNames {
                    id: p.id.clone(),
                    title: p.title(page.lang).to_string(),
                    roles: p
                        .roles
                        .values()
                        .flat_map(|m| &m.roles)
                        .map(|r| (r.code.clone(), r.label(page.lang).to_string()))
                        .collect(),
                })
                .collect(),
        )
    }

    /// The title of `product_id` (the id itself for a product the catalogue no longer has).
    fn title_of<'a>(&'a self, product_id: &'a str) -> &'a str {
        self.0
            .iter()
            .find(|p| p.id == product_id)
            .map(|p| p.title.as_str())
            .unwrap_or(product_id)
    }

    /// The label of `product_role` on `product_id` (the code itself for a role the catalogue
    /// no longer has).
    fn role_of<'a>(&'a self, product_id: &str, product_role: &'a str) -> &'a str {
        self.0
            .iter()
            .find(|p| p.id == product_id)
            .and_then(|p| p.roles.iter().find(|(code, _)| code == product_role))
            .map(|(_, label)| label.as_str())
            .unwrap_or(product_role)
    }
}

/// The message key of a role's status (`ACTIVE`, `SUSPENDED`, ...).
pub fn status_key(status: &str) -> &'static str {
    match status {
        "ACTIVE" => "ra.status.active",
        "SUSPENDED" => "ra.status.suspended",
        "PENDING" | "TOBEVALIDATED" => "ra.status.pending",
        _ => "ra.status.removed",
    }
}

/// The message key of the part a person has in the institution (`MANAGER`, `DELEGATE`, ...).
pub fn party_role_key(party_role: &str) -> &'static str {
    match party_role {
        "MANAGER" => "ra.party_roles.manager",
        "DELEGATE" => "ra.party_roles.delegate",
        "SUB_DELEGATE" => "ra.party_roles.sub_delegate",
        _ => "ra.party_roles.operator",
    }
}

async fn admin_access(
    state: &RaState,
    user: &PageUser,
    institution_id: &str,
) -> Result<access::InstitutionAccess, RaError> {
    let a = access::load(state, &user.session, institution_id).await?;
    if !a.authority.can(Action::ListProductUsers) {
        return Err(RaError::Forbidden);
    }
    Ok(a)
}

/// The page for `user` and their access to the institution, when they may see its users.
async fn admin_page(
    state: &RaState,
    user: &PageUser,
    page: Page,
    institution_id: &str,
) -> Result<(Page, access::InstitutionAccess), PageFailure> {
    let page = page_for(page, user);
    let a = admin_access(state, user, institution_id)
        .await
        .on_page(&page)?;
    Ok((page, a))
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub product: String,
    #[serde(default)]
    pub role: String,
    /// A fiscal code, or the start of a family name.
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: Option<String>,
}

/// People per page of the users list.
pub const PAGE_SIZE: i64 = 20;

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
pub struct UsersPage {
    page: Page,
    institution: Institution,
    members: Vec<Member>,
    products: ProductTitles,
    product: String,
    role: String,
    q: String,
    pager: platform::paging::Pager,
}

/// `GET /dashboard/{institution_id}/users`: the people of the institution by family name,
/// a page at a time, filtered by product, authority and a search.
pub async fn list(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    Path(institution_id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageFailure> {
    let (page, a) = admin_page(&state, &user, page, &institution_id).await?;
    let db = &state.platform.db;
    let authority = q.role.parse::<Authority>().ok();
    let filter = store::MemberFilter {
        product_id: q.product.clone(),
        party_roles: authority
            .map(|a| {
                a.party_roles()
                    .iter()
                    .map(|r| r.as_str().to_string())
                    .collect()
            })
            .unwrap_or_default(),
        product_roles: Vec::new(),
        search: users_api::member_search(db, &q.q).await.on_page(&page)?,
    };
    let asked = platform::paging::page_number(q.page.as_deref());
    let fetch = |number: i64| {
        store::members_page(
            db,
            &institution_id,
            &filter,
            PAGE_SIZE,
            (number - 1) * PAGE_SIZE,
        )
    };
    let (mut members, total) = fetch(asked).await.map_err(RaError::from).on_page(&page)?;
    let href = |n: i64| {
        let n = n.to_string();
        format!(
            "?{}",
            platform::paging::query_string(&[
                ("product", &q.product),
                ("role", &q.role),
                ("q", &q.q),
                ("page", &n),
            ])
        )
    };
    let pager = platform::paging::Pager::new(asked, PAGE_SIZE, total, href);
    if pager.number != asked {
        // Past the end: the last page.
        members = fetch(pager.number)
            .await
            .map_err(RaError::from)
            .on_page(&page)?
            .0;
    }
    for m in &mut members {
        m.roles.retain(|r| {
            (q.product.is_empty() || r.product_id == q.product)
                && authority.is_none_or(|want| {
                    r.party_role
                        .parse::<model::PartyRole>()
                        .is_ok_and(|p| p.authority() == want)
                })
        });
    }
    let products = ProductTitles::of(&state, &page);
    Ok(UsersPage {
        page,
        institution: a.institution,
        members,
        products,
        product: q.product,
        role: q.role,
        q: q.q,
        pager,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "user_detail.html")]
pub struct UserDetailPage {
    page: Page,
    institution: Institution,
    member: Member,
    products: ProductTitles,
    flash: Option<&'static str>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct FlashQuery {
    #[serde(default)]
    pub done: String,
}

fn flash_key(done: &str) -> Option<&'static str> {
    match done {
        "added" => Some("ra.users.flash.added"),
        "suspend" => Some("ra.users.flash.suspended"),
        "activate" => Some("ra.users.flash.activated"),
        "remove" => Some("ra.users.flash.removed"),
        _ => None,
    }
}

async fn detail_page(
    state: &RaState,
    user: &PageUser,
    page: Page,
    institution_id: &str,
    user_id: &str,
    flash: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PageFailure> {
    let a = admin_access(state, user, institution_id)
        .await
        .on_page(&page)?;
    let member = store::member(&state.platform.db, institution_id, user_id)
        .await
        .map_err(RaError::from)
        .on_page(&page)?
        .ok_or(RaError::NotFound)
        .on_page(&page)?;
    let products = ProductTitles::of(state, &page);
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let mut response = UserDetailPage {
        page,
        institution: a.institution,
        member,
        products,
        flash,
        error,
    }
    .into_response();
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /dashboard/{institution_id}/users/{user_id}`
pub async fn detail(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    Path((institution_id, user_id)): Path<(String, String)>,
    Query(q): Query<FlashQuery>,
) -> Result<Response, PageFailure> {
    let page = page_for(page, &user);
    detail_page(
        &state,
        &user,
        page,
        &institution_id,
        &user_id,
        flash_key(&q.done),
        None,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    pub csrf: String,
    pub action: String,
    pub product_id: String,
    #[serde(default)]
    pub product_role: String,
}

/// `POST /dashboard/{institution_id}/users/{user_id}/roles`: suspend, reactivate or remove.
pub async fn change_roles(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    ClientAddr(addr): ClientAddr,
    Path((institution_id, user_id)): Path<(String, String)>,
    Form(form): Form<RoleForm>,
) -> Result<Response, PageFailure> {
    let page = page_for(page, &user);
    auth::check_form_csrf(&user, &form.csrf).on_page(&page)?;
    let change = match form.action.as_str() {
        "suspend" => RoleChange::Suspend,
        "activate" => RoleChange::Activate,
        "remove" => RoleChange::Remove,
        _ => {
            return Err(RaError::BadRequest {
                code: "invalid_action",
                field: "action",
                detail: "suspend, activate or remove".into(),
            })
            .on_page(&page);
        }
    };
    let q = RoleChangeQuery {
        institution_id: institution_id.clone(),
        product_id: form.product_id.clone(),
        product_role: Some(form.product_role.clone()).filter(|r| !r.is_empty()),
    };
    match users_api::change_role(&state, &user.session, addr, &user_id, &q, change).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/dashboard/{institution_id}/users/{user_id}?done={}",
            form.action
        ))
        .into_response()),
        Err(RaError::Conflict(_)) => {
            let message = page.t("ra.users.errors.last_admin").to_string();
            detail_page(
                &state,
                &user,
                page,
                &institution_id,
                &user_id,
                None,
                Some(message),
            )
            .await
        }
        Err(e) => Err(e).on_page(&page),
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub fiscal_code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub email_confirm: String,
    #[serde(default)]
    pub product_id: String,
    #[serde(default)]
    pub role: String,
    /// `ADMIN:admin` or `LIMITED:api` — the authority and the product role, as the form's
    /// checkboxes send them.
    #[serde(default)]
    pub product_roles: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "user_new.html")]
pub struct NewUserPage {
    page: Page,
    institution: Institution,
    products: Vec<ProductChoice>,
    form: NewUserForm,
    /// The text fields: name, label key, value, input type.
    fields: Vec<(&'static str, &'static str, String, &'static str)>,
    errors: BTreeMap<&'static str, Vec<&'static str>>,
    summary: ErrorSummary,
}

/// "Aggiungi utente"'s errors above the form: each field's label and message, linked to it.
fn new_user_summary(
    page: &Page,
    by_field: &BTreeMap<&'static str, Vec<&'static str>>,
) -> ErrorSummary {
    let label = |field: &str| match field {
        "fiscal_code" => "ra.fields.fiscal_code",
        "name" => "ra.fields.name",
        "family_name" => "ra.fields.family_name",
        "email" => "ra.fields.email",
        "email_confirm" => "ra.fields.email_confirm",
        "product_id" => "ra.users.product",
        _ => "ra.users.roles",
    };
    let items = by_field
        .iter()
        .flat_map(|(field, keys)| {
            keys.iter().map(move |key| {
                (
                    field.to_string(),
                    format!("{}: {}", page.t(label(field)), page.t(key)),
                )
            })
        })
        .collect();
    ErrorSummary::new(page, items)
}

fn text_fields(form: &NewUserForm) -> Vec<(&'static str, &'static str, String, &'static str)> {
    vec![
        (
            "fiscal_code",
            "ra.fields.fiscal_code",
            form.fiscal_code.clone(),
            "text",
        ),
        ("name", "ra.fields.name", form.name.clone(), "text"),
        (
            "family_name",
            "ra.fields.family_name",
            form.family_name.clone(),
            "text",
        ),
        ("email", "ra.fields.email", form.email.clone(), "email"),
        (
            "email_confirm",
            "ra.fields.email_confirm",
            form.email_confirm.clone(),
            "email",
        ),
    ]
}

impl NewUserPage {
    fn error_of(&self, field: &str) -> Option<&'static str> {
        self.errors.get(field).and_then(|e| e.first().copied())
    }

    fn checked(&self, authority: &str, code: &str) -> bool {
        self.form
            .product_roles
            .iter()
            .any(|v| v.split_once(':') == Some((authority, code)))
    }
}

/// `GET /dashboard/{institution_id}/users/new`
pub async fn new_form(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    Path(institution_id): Path<String>,
) -> Result<Response, PageFailure> {
    let (page, a) = admin_page(&state, &user, page, &institution_id).await?;
    let products = product_choices(&state, &a, &page);
    Ok(NewUserPage {
        page,
        institution: a.institution,
        products,
        fields: text_fields(&NewUserForm::default()),
        form: NewUserForm::default(),
        errors: BTreeMap::new(),
        summary: ErrorSummary::default(),
    }
    .into_response())
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::FiscalCode => "fiscal_code",
        Field::Name => "name",
        Field::FamilyName => "family_name",
        Field::Email => "email",
        Field::EmailConfirm => "email_confirm",
        Field::Product => "product_id",
        Field::Role => "role",
        Field::ProductRoles => "product_roles",
    }
}

/// `POST /dashboard/{institution_id}/users/new`
pub async fn create(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    ClientAddr(addr): ClientAddr,
    Path(institution_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageFailure> {
    let page = page_for(page, &user);
    // Checkboxes repeat their name: parse the pairs by hand.
    let mut form = NewUserForm::default();
    for (k, v) in pairs {
        match k.as_str() {
            "csrf" => form.csrf = v,
            "fiscal_code" => form.fiscal_code = v,
            "name" => form.name = v,
            "family_name" => form.family_name = v,
            "email" => form.email = v,
            "email_confirm" => form.email_confirm = v,
            "product_id" => form.product_id = v,
            "product_roles" => form.product_roles.push(v),
            _ => {}
        }
    }
    auth::check_form_csrf(&user, &form.csrf).on_page(&page)?;
    let a = admin_access(&state, &user, &institution_id)
        .await
        .on_page(&page)?;
    // The chosen product roles say the authority: ADMIN:admin, LIMITED:api, ...
    let mut authorities = Vec::new();
    let mut codes = Vec::new();
    for value in &form.product_roles {
        if let Some((authority, code)) = value.split_once(':') {
            authorities.push(authority.to_string());
            codes.push(code.to_string());
        }
    }
    authorities.dedup();
    let role = match authorities.as_slice() {
        [one] if one == "ADMIN" => "SUB_DELEGATE".to_string(),
        [one] if one == "LIMITED" => "OPERATOR".to_string(),
        [] => String::new(),
        _ => "MIXED".to_string(),
    };
    form.role = role.clone();
    let input = NewUserInput {
        fiscal_code: form.fiscal_code.clone(),
        name: form.name.clone(),
        family_name: form.family_name.clone(),
        email: form.email.clone(),
        email_confirm: Some(form.email_confirm.clone()),
        product_id: form.product_id.clone(),
        role,
        product_roles: codes,
    };
    let errors: Vec<UserRuleError> =
        match users_api::add_member(&state, &user.session, addr, &institution_id, &input).await {
            Ok(id) => {
                return Ok(Redirect::to(&format!(
                    "/dashboard/{institution_id}/users/{id}?done=added"
                ))
                .into_response());
            }
            Err(AddError::Rules(errors)) => errors,
            Err(AddError::Other(e)) => return Err(e).on_page(&page),
        };
    let mut by_field: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    // The page asks the role through the product roles: with none chosen, "choose at least one
    // role" says it all.
    let roles_missing = errors.iter().any(|e| e.field() == Field::ProductRoles);
    for e in errors
        .iter()
        .filter(|e| !(roles_missing && e.field() == Field::Role))
    {
        // Mixed authorities or none: shown on the roles.
        let field = match e.field() {
            Field::Role => "product_roles",
            other => field_name(other),
        };
        by_field.entry(field).or_default().push(e.message_key());
    }
    let products = product_choices(&state, &a, &page);
    let summary = new_user_summary(&page, &by_field);
    let mut response = NewUserPage {
        page,
        institution: a.institution,
        products,
        fields: text_fields(&form),
        form,
        errors: by_field,
        summary,
    }
    .into_response();
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}
