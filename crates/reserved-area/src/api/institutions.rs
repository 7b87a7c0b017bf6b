//! The caller's institutions and their products, as JSON (`/v2/institutions...`).

use axum::Json;
use axum::extract::{Path, State};
use platform::Timestamp;
use platform::i18n::Lang;
use serde::Serialize;

use crate::access;
use crate::auth::ApiUser;
use crate::error::RaError;
use crate::model::{EnvChoice, OnboardingStatus};
use crate::state::RaState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstitutionSummary {
    pub id: String,
    pub name: String,
    pub user_role: String,
    pub status: String,
}

/// The institutions the caller may enter, with their role there.
pub async fn institutions(
    State(state): State<RaState>,
    user: ApiUser,
) -> Result<Json<InstitutionList>, RaError> {
    let list = access::institutions(&state, &user.session).await?;
    Ok(Json(InstitutionList(
        list.into_iter()
            .map(|(i, authority)| InstitutionSummary {
                id: i.id,
                name: i.description,
                user_role: authority.as_str().to_string(),
                status: "ACTIVE".into(),
            })
            .collect(),
    )))
}

/// The institutions of the caller (a JSON array).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct InstitutionList(pub Vec<InstitutionSummary>);

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstitutionDetail {
    pub id: String,
    pub description: String,
    pub tax_code: String,
    pub ipa_code: String,
    pub origin: String,
    pub origin_id: String,
    pub institution_type: String,
    pub digital_address: String,
    pub address: String,
    pub zip_code: String,
    pub city: String,
    pub county: String,
    pub user_role: String,
    pub created_at: String,
    pub updated_at: String,
}

/// One institution the caller has an ACTIVE role on.
pub async fn institution(
    State(state): State<RaState>,
    user: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<InstitutionDetail>, RaError> {
    let a = access::load(&state, &user.session, &id).await?;
    let i = a.institution;
    Ok(Json(InstitutionDetail {
        ipa_code: i.origin_id.clone(),
        id: i.id,
        description: i.description,
        tax_code: i.tax_code,
        origin: i.origin,
        origin_id: i.origin_id,
        institution_type: i.institution_type,
        digital_address: i.digital_address,
        address: i.address,
        zip_code: i.zip_code,
        city: i.city,
        county: i.county,
        user_role: a.authority.as_str().to_string(),
        created_at: Timestamp(i.created_at).rfc3339(),
        updated_at: Timestamp(i.updated_at).rfc3339(),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub product_on_board_status: String,
    pub authorized: bool,
    pub user_role: Option<String>,
    pub url_bo: String,
    /// Environments the caller may enter (products with test environments).
    pub environments: Vec<EnvironmentView>,
}

/// The products of an institution (a JSON array).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ProductList(pub Vec<ProductView>);

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentView {
    pub environment: &'static str,
    pub product_id: String,
}

/// The institution's products: the active ones (with whether the caller may enter them and
/// in which environments) and the others.
pub async fn products(
    State(state): State<RaState>,
    user: ApiUser,
    Path(id): Path<String>,
    lang: Lang,
) -> Result<Json<ProductList>, RaError> {
    let a = access::load(&state, &user.session, &id).await?;
    let (cards, available) =
        crate::model::dashboard_cards(&a.active_products(), &a.grants, &state.catalogue);
    let mut out = Vec::new();
    for card in cards {
        let Some(product) = state.catalogue.get(&card.product_id) else {
            continue;
        };
        out.push(ProductView {
            id: card.product_id.clone(),
            title: card.title(lang).to_string(),
            description: card.description(lang).to_string(),
            product_on_board_status: OnboardingStatus::Active.as_str().into(),
            authorized: card.can_enter,
            user_role: crate::model::authority_on(&a.grants, &card.product_id, &state.catalogue)
                .map(|a| a.as_str().to_string()),
            url_bo: product.url_bo.clone(),
            environments: card
                .environments
                .iter()
                .map(|e| match e {
                    EnvChoice::Production => EnvironmentView {
                        environment: "Produzione",
                        product_id: card.product_id.clone(),
                    },
                    EnvChoice::Test { product_id } => EnvironmentView {
                        environment: "Collaudo",
                        product_id: product_id.clone(),
                    },
                })
                .collect(),
        });
    }
    for id in available {
        let Some(product) = state.catalogue.get(&id) else {
            continue;
        };
        out.push(ProductView {
            id: product.id.clone(),
            title: product.title(lang).to_string(),
            description: product.description(lang).to_string(),
            product_on_board_status: a
                .onboarding(&product.id)
                .map(|s| s.as_str())
                .unwrap_or("NOT_ONBOARDED")
                .into(),
            authorized: false,
            user_role: None,
            url_bo: product.url_bo.clone(),
            environments: Vec::new(),
        });
    }
    Ok(Json(ProductList(out)))
}
