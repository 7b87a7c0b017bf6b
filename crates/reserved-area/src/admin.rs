//! Platform-operator actions, run from the command line: add an institution, onboard it to a
//! product with its first administrator, grant or revoke the platform-operator flag.

use std::str::FromStr;

use platform::audit::{self, AuditEvent};
use platform::db::Db;
use platform::types::{Email, FiscalCode, OrgTaxCode};
use serde_json::json;

use crate::model::{Authority, Catalogue, InstitutionType, PartyRole};
use crate::store::{self, Institution, NewInstitution};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("no institution with tax code or id `{0}`")]
    UnknownInstitution(String),
    #[error("no product `{0}` in the catalogue")]
    UnknownProduct(String),
    #[error("no person with fiscal code {0} is known yet (they must log in or be added first)")]
    UnknownPerson(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Db(#[from] platform::db::DbError),
}

fn invalid(field: &'static str, reason: impl ToString) -> AdminError {
    AdminError::Invalid {
        field,
        reason: reason.to_string(),
    }
}

/// The fields of `selfcare institution add`, as typed.
#[derive(Debug, Clone, Default)]
pub struct InstitutionInput {
    pub tax_code: String,
    pub name: String,
    pub ipa_code: String,
    pub institution_type: String,
    pub pec: String,
    pub address: String,
    pub zip_code: String,
    pub city: String,
    pub county: String,
}

pub async fn add_institution(db: &Db, input: &InstitutionInput) -> Result<Institution, AdminError> {
    let tax_code = OrgTaxCode::parse(&input.tax_code).map_err(|e| invalid("tax code", e))?;
    let kind =
        InstitutionType::from_str(input.institution_type.trim()).map_err(|e| invalid("type", e))?;
    let pec = Email::parse(&input.pec).map_err(|e| invalid("PEC", e))?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(invalid("name", "1 to 255 characters"));
    }
    let ipa = input.ipa_code.trim();
    if ipa.is_empty() || ipa.len() > 64 {
        return Err(invalid("IPA code", "1 to 64 characters"));
    }
    let mut tx = db.begin().await?;
    let institution = store::upsert_institution(
        &mut tx,
        &NewInstitution {
            description: name.into(),
            tax_code: tax_code.as_str().into(),
            origin: "IPA".into(),
            origin_id: ipa.into(),
            institution_type: kind.as_str().into(),
            digital_address: pec.as_str().into(),
            address: input.address.trim().into(),
            zip_code: input.zip_code.trim().into(),
            city: input.city.trim().into(),
            county: input.county.trim().into(),
        },
    )
    .await?;
    let mut event = AuditEvent::new("institution.added");
    event.institution_id = Some(institution.id.clone());
    event.details = json!({ "taxCode": institution.tax_code, "by": "cli" });
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(institution)
}

/// The first administrator named at onboarding.
#[derive(Debug, Clone)]
pub struct AdminInput {
    pub fiscal_code: String,
    pub name: String,
    pub family_name: String,
    pub email: String,
    /// MANAGER (legal representative) or DELEGATE.
    pub party_role: String,
}

async fn find_institution(db: &Db, key: &str) -> Result<Institution, AdminError> {
    if let Some(i) = store::institution_by_tax_code(db.reader(), key.trim()).await? {
        return Ok(i);
    }
    store::institution(db, key.trim())
        .await?
        .ok_or_else(|| AdminError::UnknownInstitution(key.to_string()))
}

/// Onboards `institution` (tax code or id) to `product_id` (ACTIVE) with its first ADMIN.
pub async fn onboard(
    db: &Db,
    catalogue: &Catalogue,
    institution: &str,
    product_id: &str,
    admin: &AdminInput,
) -> Result<(), AdminError> {
    let product = catalogue
        .get(product_id)
        .ok_or_else(|| AdminError::UnknownProduct(product_id.to_string()))?;
    let code = FiscalCode::parse(&admin.fiscal_code).map_err(|e| invalid("fiscal code", e))?;
    let (name, family_name) = (admin.name.trim(), admin.family_name.trim());
    if !code.matches_person(family_name, name) {
        return Err(invalid(
            "name",
            "name/surname wrong or not matching the fiscal code",
        ));
    }
    let email = Email::parse(&admin.email).map_err(|e| invalid("email", e))?;
    if email.is_pec() {
        return Err(invalid("email", "a PEC address is not a person's email"));
    }
    let party_role =
        PartyRole::from_str(admin.party_role.trim()).map_err(|e| invalid("admin role", e))?;
    if !matches!(party_role, PartyRole::Manager | PartyRole::Delegate) {
        return Err(invalid("admin role", "MANAGER or DELEGATE"));
    }
    let product_role = product
        .mapping(Authority::Admin)
        .and_then(|m| m.roles.first())
        .map(|r| r.code.clone())
        .ok_or_else(|| invalid("product", "the product has no administrator role"))?;
    let institution = find_institution(db, institution).await?;
    let mut tx = db.begin().await?;
    store::set_onboarding(&mut tx, &institution.id, &product.id, "ACTIVE").await?;
    let user = store::upsert_user(&mut tx, code.as_str(), name, family_name).await?;
    store::set_email(&mut tx, &user, &institution.id, email.as_str()).await?;
    store::add_role(
        &mut tx,
        &user,
        &institution.id,
        &product.id,
        party_role.as_str(),
        &product_role,
    )
    .await?;
    let mut event = AuditEvent::new("institution.onboarded");
    event.institution_id = Some(institution.id.clone());
    event.target = Some(product.id.clone());
    event.details = json!({ "admin": user.id, "partyRole": party_role.as_str(), "by": "cli" });
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

/// Grants (`true`) or revokes the platform-operator flag of a known person.
pub async fn set_operator(db: &Db, fiscal_code: &str, grant: bool) -> Result<(), AdminError> {
    let code = FiscalCode::parse(fiscal_code).map_err(|e| invalid("fiscal code", e))?;
    let user = store::user_by_fiscal_code(db.reader(), code.as_str())
        .await?
        .ok_or_else(|| AdminError::UnknownPerson(code.as_str().to_string()))?;
    let mut tx = db.begin().await?;
    if grant {
        store::grant_operator(&mut tx, &user.id).await?;
    } else {
        store::revoke_operator(&mut tx, &user.id).await?;
    }
    let mut event = AuditEvent::new(if grant {
        "operator.granted"
    } else {
        "operator.revoked"
    });
    event.target = Some(user.id);
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(())
}
