//! The token exchange: an identity token for one product (or one of its back-office
//! environments) of one institution, only while the onboarding and the person's role are both
//! ACTIVE.

use platform::identity::{self, IdentityClaims, OrgRole, Organization};
use platform::jwt::now_secs;
use platform::session::Session;

use crate::access;
use crate::error::RaError;
use crate::model::{self, ExchangeRefusal};
use crate::state::RaState;
use crate::store;

pub struct Exchanged {
    pub token: String,
    /// Where the back-office receives it: a path here, or an external URL template.
    pub url: String,
}

pub async fn exchange(
    state: &RaState,
    session: &Session,
    institution_id: &str,
    product_id: &str,
    environment: Option<&str>,
) -> Result<Exchanged, RaError> {
    let access = access::load(state, session, institution_id).await?;
    let product = state.catalogue.get(product_id).ok_or(RaError::NotFound)?;
    // A child product is entered with its parent's roles; a test environment only with its own.
    let grants: Vec<model::Grant> = access
        .grants
        .iter()
        .filter(|g| {
            g.product_id == product.id || product.parent_id.as_deref() == Some(&g.product_id)
        })
        .cloned()
        .collect();
    let active = model::can_exchange(access.onboarding(&product.id), &grants).map_err(|r| {
        RaError::NotAllowed(match r {
            ExchangeRefusal::NotOnboarded => {
                format!("the institution has no active onboarding of {}", product.id)
            }
            ExchangeRefusal::NoActiveRole => format!("no active role on {}", product.id),
        })
    })?;
    let (url, audience) = state
        .catalogue
        .audience_for(&product.id, environment)
        .ok_or_else(|| RaError::BadRequest {
            code: "unknown_environment",
            field: "environment",
            detail: format!(
                "{} has no back-office environment {environment:?}",
                product.id
            ),
        })?;
    let email = store::email_of(
        &state.platform.db,
        &session.identity.user_id,
        institution_id,
    )
    .await?;
    let now = now_secs();
    let desired_exp = session.expires_at / 1000;
    let lifetime = state.settings.identity_token_lifetime_secs as i64;
    let claims = IdentityClaims {
        jti: uuid::Uuid::new_v4().to_string(),
        iss: state.platform.public_url.clone(),
        sub: session.identity.user_id.clone(),
        aud: audience.to_string(),
        iat: now,
        exp: (now + lifetime).min(desired_exp),
        desired_exp,
        typ: identity::IDENTITY_TYP.into(),
        fiscal_number: session.identity.fiscal_code.clone(),
        name: session.identity.name.clone(),
        family_name: session.identity.family_name.clone(),
        email,
        spid_level: session.identity.spid_level.clone(),
        organization: Some(Organization {
            id: access.institution.id.clone(),
            name: access.institution.description.clone(),
            fiscal_code: access.institution.tax_code.clone(),
            ipa_code: access.institution.origin_id.clone(),
            roles: active
                .iter()
                .map(|g| OrgRole {
                    party_role: g.party_role.as_str().to_string(),
                    role: g.product_role.clone(),
                })
                .collect(),
            groups: Vec::new(),
            sub_unit_code: None,
            sub_unit_type: None,
            root_parent: None,
        }),
        sid: session.sid.clone(),
        platform_operator: false,
    };
    // On record before the token leaves (group-committed: one flush serves many exchanges);
    // the commit runs while the token is signed.
    let mut event = platform::audit::AuditEvent::new("token.exchanged");
    event.actor = Some(session.identity.user_id.clone());
    event.institution_id = Some(institution_id.to_string());
    event.target = Some(product.id.clone());
    event.details = serde_json::json!({ "jti": claims.jti, "aud": claims.aud });
    let pending = state.platform.audit.submit(event).await;
    let token = identity::issue(&state.platform.keys, &claims)?;
    if !pending.committed().await {
        return Err(RaError::Unavailable(
            "the audit trail cannot be written".into(),
        ));
    }
    Ok(Exchanged {
        token,
        url: url.to_string(),
    })
}
