//! The dashboard pages: institution picker, institution page with its product cards,
//! environment chooser, and "Gestisci" handing the identity token to the back-office.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::layout::{Page, UserBadge};
use serde::Deserialize;

use crate::access;
use crate::auth::PageUser;
use crate::error::RaError;
use crate::exchange;
use crate::model::{self, EnvChoice, ProductCard};
use crate::pages::error::{OnPage, PageFailure};
use crate::state::RaState;
use crate::store::Institution;

/// The layout with the person's name and the CSRF token of their session.
pub fn page_for(mut page: Page, user: &PageUser) -> Page {
    page.user = Some(UserBadge {
        display_name: format!(
            "{} {}",
            user.session.identity.name, user.session.identity.family_name
        ),
    });
    page.csrf = Some(user.session.csrf.clone());
    page
}

pub struct PickerItem {
    pub institution: Institution,
    pub role_key: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "institutions.html")]
pub struct InstitutionsPage {
    page: Page,
    items: Vec<PickerItem>,
    operator: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "no_access.html")]
pub struct NoAccessPage {
    page: Page,
    operator: bool,
}

fn role_key(authority: model::Authority) -> &'static str {
    match authority {
        model::Authority::Admin => "ra.roles.admin",
        model::Authority::Limited => "ra.roles.limited",
    }
}

/// `GET /dashboard`: pick an institution (skipped when there is one; "Accesso non
/// consentito" when there is none).
pub async fn institutions(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    Query(q): Query<PickerQuery>,
) -> Result<Response, PageFailure> {
    let page = page_for(page, &user);
    let list = access::institutions(&state, &user.session)
        .await
        .on_page(&page)?;
    let operator =
        crate::store::is_platform_operator(&state.platform.db, &user.session.identity.user_id)
            .await
            .map_err(RaError::from)
            .on_page(&page)?;
    if list.is_empty() {
        let mut response = NoAccessPage { page, operator }.into_response();
        *response.status_mut() = StatusCode::FORBIDDEN;
        return Ok(response);
    }
    if list.len() == 1 && !q.choose && !operator {
        return Ok(Redirect::to(&format!("/dashboard/{}", list[0].0.id)).into_response());
    }
    Ok(InstitutionsPage {
        page,
        operator,
        items: list
            .into_iter()
            .map(|(institution, a)| PickerItem {
                institution,
                role_key: role_key(a),
            })
            .collect(),
    }
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct PickerQuery {
    /// Show the list even with one institution (the "switch institution" link).
    #[serde(default)]
    pub choose: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "institution.html")]
pub struct InstitutionPage {
    page: Page,
    institution: Institution,
    role_key: &'static str,
    cards: Vec<ProductCard>,
    available: Vec<(String, String)>,
    multiple: bool,
}

/// `GET /dashboard/{institution_id}`: the active products as cards, the others apart, the
/// institution's data.
pub async fn institution(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    Path(institution_id): Path<String>,
) -> Result<Response, PageFailure> {
    let page = page_for(page, &user);
    let a = access::load(&state, &user.session, &institution_id)
        .await
        .on_page(&page)?;
    let (cards, available) =
        model::dashboard_cards(&a.active_products(), &a.grants, &state.catalogue);
    let available = available
        .iter()
        .filter_map(|id| state.catalogue.get(id))
        .map(|p| {
            (
                p.title(page.lang).to_string(),
                p.description(page.lang).to_string(),
            )
        })
        .collect();
    let multiple = access::institutions(&state, &user.session)
        .await
        .on_page(&page)?
        .len()
        > 1;
    Ok(InstitutionPage {
        page,
        role_key: role_key(a.authority),
        institution: a.institution,
        cards,
        available,
        multiple,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "environments.html")]
pub struct EnvironmentsPage {
    page: Page,
    institution_id: String,
    product_title: String,
    production: Option<String>,
    test: Option<String>,
}

/// `GET /dashboard/{institution_id}/products/{product_id}`: **Gestisci**. A product with test
/// environments asks "In quale ambiente vuoi entrare?"; any other goes straight in.
pub async fn manage(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    Path((institution_id, product_id)): Path<(String, String)>,
) -> Result<Response, PageFailure> {
    let page = page_for(page, &user);
    let a = access::load(&state, &user.session, &institution_id)
        .await
        .on_page(&page)?;
    let (cards, _) = model::dashboard_cards(&a.active_products(), &a.grants, &state.catalogue);
    let card = cards
        .into_iter()
        .find(|c| c.product_id == product_id)
        .ok_or(RaError::NotFound)
        .on_page(&page)?;
    if !card.can_enter {
        return Err(RaError::Forbidden).on_page(&page);
    }
    if card.environments.is_empty() {
        return Ok(
            Redirect::to(&format!("/dashboard/{institution_id}/enter/{product_id}"))
                .into_response(),
        );
    }
    let mut production = None;
    let mut test = None;
    for env in &card.environments {
        match env {
            EnvChoice::Production => production = Some(card.product_id.clone()),
            EnvChoice::Test { product_id } => test = Some(product_id.clone()),
        }
    }
    Ok(EnvironmentsPage {
        product_title: card.title(page.lang).to_string(),
        page,
        institution_id,
        production,
        test,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "handoff.html")]
pub struct HandoffPage {
    page: Page,
    action: String,
    token: String,
}

impl HandoffPage {
    /// The page that posts `token` to `action`; it holds a token, so it is never cached.
    pub fn response(page: Page, action: String, token: String) -> Response {
        let mut response = HandoffPage {
            page,
            action,
            token,
        }
        .into_response();
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        response
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct EnterQuery {
    #[serde(default)]
    pub environment: Option<String>,
}

/// `GET /dashboard/{institution_id}/enter/{product_id}`: exchanges an identity token and hands
/// it to the back-office in a form POST (sent by script, or by the "Continua" button) — never
/// in a query string.
pub async fn enter(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    Path((institution_id, product_id)): Path<(String, String)>,
    Query(q): Query<EnterQuery>,
) -> Result<Response, PageFailure> {
    let page = page_for(page, &user);
    let done = exchange::exchange(
        &state,
        &user.session,
        &institution_id,
        &product_id,
        q.environment.as_deref().filter(|e| !e.is_empty()),
    )
    .await
    .on_page(&page)?;
    if done.url.starts_with('/') {
        return Ok(HandoffPage::response(page, done.url, done.token));
    }
    // External back-offices take the token in the URL fragment, as on the real platform (a
    // fragment never reaches a server or a log).
    let url = done
        .url
        .replace("<IdentityToken>", &done.token)
        .replace("<lang>", page.lang.code());
    Ok(Redirect::to(&url).into_response())
}
