//! The platform operators' area: an identity token with `platform_operator: true` and no
//! organization, which product back-offices accept only for their operator pages (e.g. the IO
//! review queue).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use platform::identity::{self, IdentityClaims};
use platform::jwt::now_secs;
use platform::layout::Page;
use platform::session::Session;

use crate::auth::PageUser;
use crate::error::RaError;
use crate::pages::dashboard::{HandoffPage, page_for};
use crate::pages::error::{OnPage, PageFailure};
use crate::state::RaState;
use crate::store;

/// The products whose back-offices run here and have operator pages.
fn operator_products(state: &RaState) -> Vec<(String, String, String)> {
    state
        .catalogue
        .iter()
        .filter(|p| p.url_bo.starts_with('/'))
        .map(|p| (p.id.clone(), p.title.clone(), p.title_en.clone()))
        .collect()
}

async fn require_operator(state: &RaState, session: &Session) -> Result<(), RaError> {
    if store::is_platform_operator(&state.platform.db, &session.identity.user_id).await? {
        Ok(())
    } else {
        Err(RaError::Forbidden)
    }
}

/// An operator identity token for `product_id`, and where to post it.
pub(crate) async fn operator_token(
    state: &RaState,
    session: &Session,
    product_id: &str,
) -> Result<(String, String), RaError> {
    require_operator(state, session).await?;
    let product = state.catalogue.get(product_id).ok_or(RaError::NotFound)?;
    let now = now_secs();
    let desired_exp = session.expires_at / 1000;
    let claims = IdentityClaims {
        jti: uuid::Uuid::new_v4().to_string(),
        iss: state.platform.public_url.clone(),
        sub: session.identity.user_id.clone(),
        aud: product.identity_token_audience.clone(),
        iat: now,
        exp: (now + state.settings.identity_token_lifetime_secs as i64).min(desired_exp),
        desired_exp,
        typ: identity::IDENTITY_TYP.into(),
        fiscal_number: session.identity.fiscal_code.clone(),
        name: session.identity.name.clone(),
        family_name: session.identity.family_name.clone(),
        email: None,
        spid_level: session.identity.spid_level.clone(),
        organization: None,
        sid: session.sid.clone(),
        platform_operator: true,
    };
    Ok((
        identity::issue(&state.platform.keys, &claims)?,
        product.url_bo.clone(),
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "operator.html")]
pub struct OperatorPage {
    page: Page,
    products: Vec<(String, String, String)>,
}

/// `GET /operator`: the "Area operatore".
pub async fn area(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
) -> Result<Response, PageFailure> {
    let page = page_for(page, &user);
    require_operator(&state, &user.session)
        .await
        .on_page(&page)?;
    Ok(OperatorPage {
        page,
        products: operator_products(&state),
    }
    .into_response())
}

/// `GET /operator/enter/{product_id}`: hands an operator token to the product's back-office.
pub async fn enter(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    Path(product_id): Path<String>,
) -> Result<Response, PageFailure> {
    let page = page_for(page, &user);
    let (token, url) = operator_token(&state, &user.session, &product_id)
        .await
        .on_page(&page)?;
    if !url.starts_with('/') {
        return Err(RaError::NotFound).on_page(&page);
    }
    Ok(HandoffPage::response(page, url, token))
}
