//! What a person may see of one institution: loaded once per request, from the roles they
//! hold there. Without an ACTIVE role the institution does not exist for them (404).

use std::str::FromStr;

use platform::session::Session;

use crate::error::RaError;
use crate::model::{self, Authority, Grant, OnboardingStatus, PartyRole, RoleStatus};
use crate::state::RaState;
use crate::store::{self, Institution, RoleRow};

pub struct InstitutionAccess {
    pub institution: Institution,
    /// The person's roles on this institution (every status).
    pub grants: Vec<Grant>,
    /// `(product id, status)` of the institution's onboardings.
    pub onboardings: Vec<(String, OnboardingStatus)>,
    pub authority: Authority,
}

impl InstitutionAccess {
    /// Product ids with an ACTIVE onboarding.
    pub fn active_products(&self) -> Vec<String> {
        self.onboardings
            .iter()
            .filter(|(_, s)| *s == OnboardingStatus::Active)
            .map(|(p, _)| p.clone())
            .collect()
    }

    pub fn onboarding(&self, product_id: &str) -> Option<OnboardingStatus> {
        self.onboardings
            .iter()
            .find(|(p, _)| p == product_id)
            .map(|(_, s)| *s)
    }
}

/// Stored roles as the model's grants; rows the model does not know are left out.
pub fn grants_of(rows: &[RoleRow], institution_id: &str) -> Vec<Grant> {
    rows.iter()
        .filter(|r| r.institution_id == institution_id)
        .filter_map(|r| {
            Some(Grant {
                product_id: r.product_id.clone(),
                party_role: PartyRole::from_str(&r.party_role).ok()?,
                product_role: r.product_role.clone(),
                status: RoleStatus::from_str(&r.status).ok()?,
            })
        })
        .collect()
}

pub async fn load(
    state: &RaState,
    session: &Session,
    institution_id: &str,
) -> Result<InstitutionAccess, RaError> {
    let rows = store::roles_of_user(&state.platform.db, &session.identity.user_id).await?;
    let grants = grants_of(&rows, institution_id);
    let authority = model::user_role(&grants, &state.catalogue).ok_or(RaError::NotFound)?;
    let institution = store::institution(&state.platform.db, institution_id)
        .await?
        .ok_or(RaError::NotFound)?;
    let onboardings = store::onboardings(&state.platform.db, institution_id)
        .await?
        .into_iter()
        .filter_map(|(p, s)| Some((p, OnboardingStatus::from_str(&s).ok()?)))
        .collect();
    Ok(InstitutionAccess {
        institution,
        grants,
        onboardings,
        authority,
    })
}

/// The institutions the person may enter, with their authority there, by name.
pub async fn institutions(
    state: &RaState,
    session: &Session,
) -> Result<Vec<(Institution, Authority)>, RaError> {
    let db = &state.platform.db;
    let rows = store::roles_of_user(db, &session.identity.user_id).await?;
    let mut out = Vec::new();
    for institution in store::institutions_of_user(db, &session.identity.user_id).await? {
        let grants = grants_of(&rows, &institution.id);
        if let Some(authority) = model::user_role(&grants, &state.catalogue) {
            out.push((institution, authority));
        }
    }
    Ok(out)
}
