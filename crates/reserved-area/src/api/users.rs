//! Users and roles of an institution, as JSON (paths as the real platform's).

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use platform::audit::{self, AuditEvent};
use platform::client_addr::ClientAddr;
use platform::revocation::{self, Revocation};
use platform::types::FiscalCode;
use platform::web::{self, Query};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{self, InstitutionAccess};
use crate::auth::ApiUser;
use crate::error::RaError;
use crate::model::users::{self, NewUserInput, RoleChange, RoleChangeError, UserRuleError};
use crate::model::{self, Authority, Grant};
use crate::state::RaState;
use crate::store::{self, Member};

/// Who may manage the users of `product_id`: an ADMIN of that product, or — for a
/// test-environment product such as Interoperabilità Collaudo — of its main product (the
/// institution's administrators name the technicians of the test environment).
pub fn may_manage_users(state: &RaState, access: &InstitutionAccess, product_id: &str) -> bool {
    let admin_on = |p: &str| {
        model::authority_on(&access.grants, p, &state.catalogue) == Some(Authority::Admin)
    };
    admin_on(product_id)
        || state
            .catalogue
            .main_product_of_test_env(product_id)
            .is_some_and(|main| admin_on(&main.id))
}

fn first_problem(errors: Vec<UserRuleError>) -> RaError {
    match errors.into_iter().next() {
        Some(e) => RaError::BadRequest {
            code: e.code(),
            field: e.field().api_name(),
            detail: e.to_string(),
        },
        None => RaError::BadRequest {
            code: "invalid_user",
            field: "taxCode",
            detail: "invalid user".into(),
        },
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddUserBody {
    pub name: String,
    pub surname: String,
    pub tax_code: String,
    pub email: String,
    /// SUB_DELEGATE (Amministratore) or OPERATOR (Operatore).
    pub role: String,
    pub product_roles: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedId {
    pub id: String,
}

/// The email that tells a person about a change of their roles, queued in the transaction of
/// the change (sent by the outbox worker; a failed send never undoes the change).
async fn notify(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    state: &RaState,
    to: &str,
    subject_key: &str,
    product_id: &str,
    institution: &str,
) -> Result<(), RaError> {
    let Ok(to) = platform::types::Email::parse(to) else {
        // No valid work email recorded: nothing to send, the change still stands.
        return Ok(());
    };
    let subject = users::MAIL_SUBJECTS
        .iter()
        .find(|(key, _, _)| *key == subject_key)
        .map(|(_, it, _)| *it)
        .unwrap_or("Area Riservata");
    let product = state
        .catalogue
        .get(product_id)
        .map(|p| p.title.as_str())
        .unwrap_or(product_id);
    let text = format!(
        "Gentile utente,\n\n{subject}: prodotto {product}, ente {institution}.\n\n\
         Accedi all'Area Riservata per i dettagli: {}/\n",
        state.platform.public_url
    );
    platform::mail::enqueue(
        &mut **tx,
        &platform::mail::OutgoingEmail {
            to,
            subject: subject.to_string(),
            text,
        },
    )
    .await?;
    Ok(())
}

/// Why a person could not be added.
pub enum AddError {
    /// The form's rules: every error, each for its field.
    Rules(Vec<UserRuleError>),
    Other(RaError),
}

impl<E: Into<RaError>> From<E> for AddError {
    fn from(e: E) -> Self {
        AddError::Other(e.into())
    }
}

/// Adds a person (new or known) with roles on one product of the institution: the rules, then
/// one transaction (person, work email, roles, audit record, the email to the person).
pub async fn add_member(
    state: &RaState,
    session: &platform::session::Session,
    addr: std::net::IpAddr,
    institution_id: &str,
    input: &NewUserInput,
) -> Result<String, AddError> {
    let access = access::load(state, session, institution_id).await?;
    if !may_manage_users(state, &access, &input.product_id) {
        return Err(AddError::Other(RaError::Forbidden));
    }
    let db = &state.platform.db;
    let code = FiscalCode::parse(&input.fiscal_code).ok();
    let known = match &code {
        Some(code) => store::user_by_fiscal_code(db.reader(), code.as_str()).await?,
        None => None,
    };
    let rows = match &known {
        Some(person) => store::roles_of_user(db, &person.id).await?,
        None => Vec::new(),
    };
    let person_grants = access::grants_of(&rows, institution_id);
    let holders = store::party_roles_on_product(db, institution_id, &input.product_id).await?;
    let (admins, person_is_admin) = admins_of(&holders, known.as_ref().map(|p| p.id.as_str()));
    let valid = users::validate_new_user(
        input,
        &state.catalogue,
        &access.active_products(),
        &person_grants,
        admins,
        person_is_admin,
    )
    .map_err(AddError::Rules)?;

    let mut tx = db.begin().await?;
    let person = store::upsert_user(
        &mut tx,
        valid.fiscal_code.as_str(),
        &valid.name,
        &valid.family_name,
    )
    .await?;
    store::set_email(&mut tx, &person, institution_id, valid.email.as_str()).await?;
    for product_role in &valid.product_roles {
        store::add_role(
            &mut tx,
            &person,
            institution_id,
            &valid.product_id,
            valid.party_role.as_str(),
            product_role,
        )
        .await?;
    }
    let mut event = AuditEvent::new("user.role.added");
    event.actor = Some(session.identity.user_id.clone());
    event.institution_id = Some(institution_id.to_string());
    event.target = Some(person.id.clone());
    event.client_addr = Some(addr.to_string());
    event.details = json!({
        "productId": valid.product_id,
        "role": valid.party_role.as_str(),
        "productRoles": valid.product_roles,
    });
    audit::record(&mut *tx, &event).await?;
    notify(
        &mut tx,
        state,
        valid.email.as_str(),
        users::ADD_SUBJECT_KEY,
        &valid.product_id,
        &access.institution.description,
    )
    .await?;
    tx.commit().await?;
    state.platform.mail.wake();
    Ok(person.id)
}

/// Adds a person (new or known) with roles on one product of the institution (ADMIN only).
pub async fn add_user(
    State(state): State<RaState>,
    user: ApiUser,
    ClientAddr(addr): ClientAddr,
    Path((institution_id, product_id)): Path<(String, String)>,
    web::Json(body): web::Json<AddUserBody>,
) -> Result<(StatusCode, Json<CreatedId>), RaError> {
    let input = NewUserInput {
        fiscal_code: body.tax_code,
        name: body.name,
        family_name: body.surname,
        email: body.email,
        email_confirm: None,
        product_id,
        role: body.role,
        product_roles: body.product_roles,
    };
    match add_member(&state, &user.session, addr, &institution_id, &input).await {
        Ok(id) => Ok((StatusCode::CREATED, Json(CreatedId { id }))),
        Err(AddError::Rules(errors)) => Err(first_problem(errors)),
        Err(AddError::Other(e)) => Err(e),
    }
}

/// How many people are ACTIVE or SUSPENDED admins of `product_id`, and whether `person` is one.
fn admins_of(holders: &[(String, String)], person: Option<&str>) -> (usize, bool) {
    let admins: std::collections::BTreeSet<&str> = holders
        .iter()
        .filter(|(_, party_role)| {
            party_role
                .parse::<model::PartyRole>()
                .is_ok_and(|p| p.authority() == Authority::Admin)
        })
        .map(|(user_id, _)| user_id.as_str())
        .collect();
    let person_is_admin = person.is_some_and(|id| admins.contains(id));
    (admins.len(), person_is_admin)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RoleChangeQuery {
    pub institution_id: String,
    pub product_id: String,
    #[serde(default)]
    pub product_role: Option<String>,
}

/// Suspends, reactivates or removes a person's roles on a product; suspension and removal are
/// recorded as revocations so that open back-office sessions end at their next request.
pub async fn change_role(
    state: &RaState,
    session: &platform::session::Session,
    addr: std::net::IpAddr,
    user_id: &str,
    q: &RoleChangeQuery,
    change: RoleChange,
) -> Result<Response, RaError> {
    let access = access::load(state, session, &q.institution_id).await?;
    if !may_manage_users(state, &access, &q.product_id) {
        return Err(RaError::Forbidden);
    }
    let db = &state.platform.db;
    let email = store::email_of(db, user_id, &q.institution_id).await?;
    let mut tx = db.begin().await?;
    // Read inside the write transaction: two admins removing each other at once see each
    // other's change (one writer on SQLite; row locks on PostgreSQL below).
    let rows = store::roles_in_tx(&mut tx, &q.institution_id, &q.product_id).await?;
    let person: Vec<Grant> = grants_for(&rows, user_id);
    if person.is_empty() {
        return Err(RaError::NotFound);
    }
    // Who else keeps the product manageable: its other ACTIVE admins and, for a test
    // environment, the ACTIVE admins of its main product (they manage its users).
    let mut managers = rows.clone();
    if let Some(main) = state.catalogue.main_product_of_test_env(&q.product_id) {
        managers.extend(store::roles_in_tx(&mut tx, &q.institution_id, &main.id).await?);
    }
    let other_active_admins = managers
        .iter()
        .filter(|(uid, _)| uid != user_id)
        .filter(|(_, g)| g.is_active() && g.party_role.authority() == Authority::Admin)
        .map(|(uid, _)| uid.clone())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let changing = users::plan_role_change(
        change,
        &person,
        q.product_role.as_deref(),
        other_active_admins,
    )
    .map_err(|e| match e {
        RoleChangeError::NothingToChange => RaError::NotFound,
        other => RaError::Conflict(other.to_string()),
    })?;
    // `changing` holds the grants as they become; they change from every status the change
    // applies to.
    let from: Vec<&str> = model::RoleStatus::ALL
        .iter()
        .filter(|s| change.applies_to(**s))
        .map(|s| s.as_str())
        .collect();
    for grant in &changing {
        store::set_role_status(
            &mut tx,
            user_id,
            &q.institution_id,
            &q.product_id,
            Some(&grant.product_role),
            &from,
            change.target_status().as_str(),
        )
        .await?;
    }
    if matches!(change, RoleChange::Suspend | RoleChange::Remove) {
        revocation::record(
            &mut *tx,
            &Revocation {
                user_id: Some(user_id.to_string()),
                institution_id: Some(q.institution_id.clone()),
                product_id: Some(q.product_id.clone()),
                reason: audit_action(change).to_string(),
                ..Default::default()
            },
        )
        .await?;
    }
    let mut event = AuditEvent::new(audit_action(change));
    event.actor = Some(session.identity.user_id.clone());
    event.institution_id = Some(q.institution_id.clone());
    event.target = Some(user_id.to_string());
    event.client_addr = Some(addr.to_string());
    event.details = json!({
        "productId": q.product_id,
        "productRoles": changing.iter().map(|g| g.product_role.clone()).collect::<Vec<_>>(),
    });
    audit::record(&mut *tx, &event).await?;
    if let Some(email) = email {
        notify(
            &mut tx,
            state,
            &email,
            change.subject_key(),
            &q.product_id,
            &access.institution.description,
        )
        .await?;
    }
    tx.commit().await?;
    state.platform.mail.wake();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The audit action of a role change.
pub fn audit_action(change: RoleChange) -> &'static str {
    match change {
        RoleChange::Suspend => "user.role.suspended",
        RoleChange::Activate => "user.role.activated",
        RoleChange::Remove => "user.role.removed",
    }
}

fn grants_for(rows: &[(String, Grant)], user_id: &str) -> Vec<Grant> {
    rows.iter()
        .filter(|(uid, _)| uid == user_id)
        .map(|(_, g)| g.clone())
        .collect()
}

/// A role change asked of the API: by whom, from which address, for which person (the path)
/// and on which product (the query), read in that order.
pub struct RoleChangeRequest {
    state: RaState,
    user: ApiUser,
    addr: std::net::IpAddr,
    user_id: String,
    q: RoleChangeQuery,
}

impl FromRequestParts<RaState> for RoleChangeRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &RaState) -> Result<Self, Response> {
        let user = ApiUser::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Ok(ClientAddr(addr)) = ClientAddr::from_request_parts(parts, state).await;
        let Path(user_id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Query(q) = Query::<RoleChangeQuery>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(RoleChangeRequest {
            state: state.clone(),
            user,
            addr,
            user_id,
            q,
        })
    }
}

impl RoleChangeRequest {
    async fn apply(self, change: RoleChange) -> Result<Response, RaError> {
        let RoleChangeRequest {
            state,
            user,
            addr,
            user_id,
            q,
        } = self;
        change_role(&state, &user.session, addr, &user_id, &q, change).await
    }
}

/// Suspends the person's roles on the product (all, or `productRole`).
pub async fn suspend(request: RoleChangeRequest) -> Result<Response, RaError> {
    request.apply(RoleChange::Suspend).await
}

/// Reactivates the person's suspended roles on the product.
pub async fn activate(request: RoleChangeRequest) -> Result<Response, RaError> {
    request.apply(RoleChange::Activate).await
}

/// Removes the person's roles on the product (logically: DELETED).
pub async fn remove(request: RoleChangeRequest) -> Result<Response, RaError> {
    request.apply(RoleChange::Remove).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductRoleView {
    pub product_id: String,
    pub role: String,
    pub product_role: String,
    pub status: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub name: String,
    pub surname: String,
    pub tax_code: String,
    pub email: String,
    pub products: Vec<ProductRoleView>,
}

/// Users of an institution (a JSON array).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct UserList(pub Vec<UserView>);

fn view(m: Member, keep: impl Fn(&store::RoleRow) -> bool) -> UserView {
    UserView {
        id: m.user.id,
        name: m.user.name,
        surname: m.user.family_name,
        tax_code: m.user.fiscal_code,
        email: m.email,
        products: m
            .roles
            .into_iter()
            .filter(|r| keep(r))
            .map(|r| ProductRoleView {
                product_id: r.product_id,
                role: r.party_role,
                product_role: r.product_role,
                status: r.status,
            })
            .collect(),
    }
}

/// The largest page of a users list, and the page size when none is asked for.
pub const MAX_PAGE_SIZE: i64 = 100;
pub const DEFAULT_PAGE_SIZE: i64 = 20;
/// The deepest page one can ask for: far beyond the largest institution, and bounded so
/// that no request walks an index without end.
pub const MAX_OFFSET: i64 = 100_000;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    #[serde(default)]
    pub product_id: Option<String>,
    /// Party roles, comma-separated (MANAGER, DELEGATE, SUB_DELEGATE, OPERATOR).
    #[serde(default)]
    pub roles: Option<String>,
    /// Product roles, comma-separated (admin, operator, api, security), at most 8.
    #[serde(default)]
    pub product_roles: Option<String>,
    /// A fiscal code (that person), or the start of a family name (any case, accents
    /// ignored).
    #[serde(default)]
    pub search: Option<String>,
    /// The page, from 0.
    #[serde(default)]
    pub page: Option<i64>,
    /// People per page: 1 to 100, 20 when absent.
    #[serde(default)]
    pub size: Option<i64>,
}

fn list(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

fn bad_query(field: &'static str, detail: &str) -> RaError {
    RaError::BadRequest {
        code: "invalid_query",
        field,
        detail: detail.to_string(),
    }
}

/// The search of a users list: a fiscal code names one person (nobody when unknown), other
/// text is the start of a family name.
pub async fn member_search(
    db: &platform::db::Db,
    text: &str,
) -> Result<store::MemberSearch, RaError> {
    let text = text.trim();
    if let Ok(code) = FiscalCode::parse(text) {
        let id = store::user_by_fiscal_code(db.reader(), code.as_str())
            .await?
            .map(|u| u.id)
            // Nobody has this id: the list is empty.
            .unwrap_or_else(|| "-".into());
        return Ok(store::MemberSearch::Person(id));
    }
    let prefix = platform::search::fold(text);
    Ok(if prefix.is_empty() {
        store::MemberSearch::Everyone
    } else {
        store::MemberSearch::FamilyName(prefix)
    })
}

/// The institution's users with their roles, filtered and paged (ADMIN only); the header
/// `X-Total-Count` says how many people the whole list holds.
pub async fn list_users(
    State(state): State<RaState>,
    user: ApiUser,
    Path(institution_id): Path<String>,
    Query(q): Query<UsersQuery>,
) -> Result<Response, RaError> {
    let access = access::load(&state, &user.session, &institution_id).await?;
    if !access.authority.can(model::Action::ListProductUsers) {
        return Err(RaError::Forbidden);
    }
    let size = q.size.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(bad_query("size", "size must be between 1 and 100"));
    }
    let page = q.page.unwrap_or(0);
    let offset = page
        .checked_mul(size)
        .filter(|o| (0..=MAX_OFFSET).contains(o));
    let Some(offset) = offset else {
        return Err(bad_query(
            "page",
            "page must be 0 or more, and page × size at most 100000",
        ));
    };
    let (roles, product_roles) = (list(&q.roles), list(&q.product_roles));
    if roles.len() > store::MAX_PARTY_ROLE_FILTERS {
        return Err(bad_query("roles", "at most 4 roles"));
    }
    if product_roles.len() > store::MAX_PRODUCT_ROLE_FILTERS {
        return Err(bad_query("productRoles", "at most 8 product roles"));
    }
    let db = &state.platform.db;
    let filter = store::MemberFilter {
        product_id: q.product_id.clone().unwrap_or_default(),
        party_roles: roles.clone(),
        product_roles: product_roles.clone(),
        search: member_search(db, q.search.as_deref().unwrap_or("")).await?,
    };
    let keep = |r: &store::RoleRow| {
        q.product_id.as_deref().is_none_or(|p| r.product_id == p)
            && (roles.is_empty() || roles.contains(&r.party_role))
            && (product_roles.is_empty() || product_roles.contains(&r.product_role))
    };
    let (members, total) = store::members_page(db, &institution_id, &filter, size, offset).await?;
    let list = UserList(
        members
            .into_iter()
            .map(|m| view(m, keep))
            .filter(|v| !v.products.is_empty())
            .collect(),
    );
    Ok(([("x-total-count", total.to_string())], Json(list)).into_response())
}

/// One user of the institution (ADMIN, or the person themselves).
pub async fn get_user(
    State(state): State<RaState>,
    user: ApiUser,
    Path((institution_id, user_id)): Path<(String, String)>,
) -> Result<Json<UserView>, RaError> {
    let access = access::load(&state, &user.session, &institution_id).await?;
    let own = user.session.identity.user_id == user_id;
    if !own && !access.authority.can(model::Action::ListProductUsers) {
        return Err(RaError::Forbidden);
    }
    store::member(&state.platform.db, &institution_id, &user_id)
        .await?
        .map(|m| Json(view(m, |_| true)))
        .ok_or(RaError::NotFound)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FiscalCodeBody {
    pub fiscal_code: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckUserAnswer {
    pub is_user_onboarded: bool,
}

/// Whether the person already has a role on the product of the institution.
pub async fn check_user(
    State(state): State<RaState>,
    user: ApiUser,
    Path((institution_id, product_id)): Path<(String, String)>,
    web::Json(body): web::Json<FiscalCodeBody>,
) -> Result<Json<CheckUserAnswer>, RaError> {
    let access = access::load(&state, &user.session, &institution_id).await?;
    if !may_manage_users(&state, &access, &product_id) {
        return Err(RaError::Forbidden);
    }
    let code = fiscal_code(&body.fiscal_code)?;
    let db = &state.platform.db;
    let onboarded = match store::user_by_fiscal_code(db.reader(), code.as_str()).await? {
        Some(person) => store::member(db, &institution_id, &person.id)
            .await?
            .is_some_and(|m| m.roles.iter().any(|r| r.product_id == product_id)),
        None => false,
    };
    Ok(Json(CheckUserAnswer {
        is_user_onboarded: onboarded,
    }))
}

/// The body's fiscal code, or a 400 naming `fiscalCode`.
fn fiscal_code(raw: &str) -> Result<FiscalCode, RaError> {
    FiscalCode::parse(raw).map_err(|e| RaError::BadRequest {
        code: e.code(),
        field: "fiscalCode",
        detail: e.to_string(),
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonFound {
    pub id: String,
    pub name: String,
    pub surname: String,
    pub fiscal_code: String,
}

/// A known person by fiscal code (so the form can pre-fill name and surname); for admins.
pub async fn search(
    State(state): State<RaState>,
    user: ApiUser,
    web::Json(body): web::Json<FiscalCodeBody>,
) -> Result<Json<PersonFound>, RaError> {
    // Only people who administer users somewhere may look others up.
    let institutions = access::institutions(&state, &user.session).await?;
    if !institutions.iter().any(|(_, a)| *a == Authority::Admin) {
        return Err(RaError::Forbidden);
    }
    let code = fiscal_code(&body.fiscal_code)?;
    let person = store::user_by_fiscal_code(state.platform.db.reader(), code.as_str())
        .await?
        .ok_or(RaError::NotFound)?;
    Ok(Json(PersonFound {
        id: person.id,
        name: person.name,
        surname: person.family_name,
        fiscal_code: person.fiscal_code,
    }))
}
