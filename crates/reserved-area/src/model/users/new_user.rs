//! "Aggiungi utente" / "Crea Utente": the rules a new person and their roles must meet.

use std::fmt;

use platform::types::{Email, EmailError, FiscalCode, FiscalCodeError};

use super::*;
use crate::model::{Authority, Catalogue, Grant, PartyRole, RoleStatus};

/// The "Aggiungi utente" form, or the body of the users API, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewUserInput {
    pub fiscal_code: String,
    pub name: String,
    pub family_name: String,
    pub email: String,
    /// "Conferma e-mail": the page has it, the API does not (`None`).
    pub email_confirm: Option<String>,
    pub product_id: String,
    /// The party role asked: `SUB_DELEGATE` (Amministratore) or `OPERATOR` (Operatore).
    pub role: String,
    pub product_roles: Vec<String>,
}

/// A field of [`NewUserInput`], to show an error next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    FiscalCode,
    Name,
    FamilyName,
    Email,
    EmailConfirm,
    Product,
    Role,
    ProductRoles,
}

impl Field {
    pub const ALL: &[Field] = &[
        Field::FiscalCode,
        Field::Name,
        Field::FamilyName,
        Field::Email,
        Field::EmailConfirm,
        Field::Product,
        Field::Role,
        Field::ProductRoles,
    ];

    /// The field's name in the users API (and in problem+json `errors`).
    pub fn api_name(self) -> &'static str {
        match self {
            Field::FiscalCode => "taxCode",
            Field::Name => "name",
            Field::FamilyName => "surname",
            Field::Email => "email",
            Field::EmailConfirm => "emailConfirm",
            Field::Product => "productId",
            Field::Role => "role",
            Field::ProductRoles => "productRoles",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// Why a new user (or a new role of a known user) was refused: one variant per rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserRuleError {
    /// Empty, wrong length or a character out of place.
    #[error("invalid fiscal code: {reason}")]
    InvalidFiscalCode { reason: FiscalCodeError },
    #[error("the fiscal code's check character is wrong")]
    FiscalCodeCheck { expected: char },

    #[error("the name is required")]
    NameEmpty,
    #[error("the name is longer than {NAME_MAX_CHARS} characters")]
    NameTooLong,
    #[error("the name contains a character that is not allowed: {character:?}")]
    NameCharacters { character: char },
    #[error("the surname is required")]
    FamilyNameEmpty,
    #[error("the surname is longer than {NAME_MAX_CHARS} characters")]
    FamilyNameTooLong,
    #[error("the surname contains a character that is not allowed: {character:?}")]
    FamilyNameCharacters { character: char },
    /// "Nome/Cognome non corretto o diverso dal Codice Fiscale".
    #[error("the name does not match the fiscal code")]
    NameMismatch,
    /// "Nome/Cognome non corretto o diverso dal Codice Fiscale".
    #[error("the surname does not match the fiscal code")]
    FamilyNameMismatch,

    #[error("invalid email: {reason}")]
    InvalidEmail { reason: EmailError },
    #[error("a certified (PEC) address cannot be a person's work email")]
    PecEmail,
    #[error("the email confirmation is required")]
    EmailConfirmMissing,
    #[error("the email confirmation does not match the email")]
    EmailConfirmMismatch,

    #[error("unknown product {product_id:?}")]
    UnknownProduct { product_id: String },
    #[error("the institution has no active onboarding of product {product_id}")]
    ProductNotOnboarded { product_id: String },

    #[error("role {role:?} is not valid: it must be SUB_DELEGATE or OPERATOR")]
    InvalidRole { role: String },
    #[error("role {role} is set only by onboarding")]
    RoleSetByOnboarding { role: PartyRole },

    #[error("at least one product role is required")]
    ProductRolesEmpty,
    #[error(
        "product role {product_role:?} is not available to {authority} on product {product_id}"
    )]
    UnknownProductRole {
        product_id: String,
        authority: Authority,
        product_role: String,
    },
    #[error("product {product_id} allows only one product role per person")]
    MultipleProductRoles { product_id: String },

    #[error("user already has roles on product {product_id}")]
    AlreadyHasRoles { product_id: String },
    #[error("user already has a different role on product {product_id}")]
    DifferentRoleExists {
        product_id: String,
        existing: PartyRole,
    },
    #[error("product {product_id} allows at most {max} administrators per institution")]
    AdminLimitReached { product_id: String, max: u32 },
}

impl UserRuleError {
    /// The field the error belongs next to.
    pub fn field(&self) -> Field {
        use UserRuleError as E;
        match self {
            E::InvalidFiscalCode { .. } | E::FiscalCodeCheck { .. } => Field::FiscalCode,
            E::NameEmpty | E::NameTooLong | E::NameCharacters { .. } | E::NameMismatch => {
                Field::Name
            }
            E::FamilyNameEmpty
            | E::FamilyNameTooLong
            | E::FamilyNameCharacters { .. }
            | E::FamilyNameMismatch => Field::FamilyName,
            E::InvalidEmail { .. } | E::PecEmail => Field::Email,
            E::EmailConfirmMissing | E::EmailConfirmMismatch => Field::EmailConfirm,
            E::UnknownProduct { .. } | E::ProductNotOnboarded { .. } => Field::Product,
            E::InvalidRole { .. }
            | E::RoleSetByOnboarding { .. }
            | E::DifferentRoleExists { .. }
            | E::AdminLimitReached { .. } => Field::Role,
            E::ProductRolesEmpty
            | E::UnknownProductRole { .. }
            | E::MultipleProductRoles { .. }
            | E::AlreadyHasRoles { .. } => Field::ProductRoles,
        }
    }

    /// Stable snake_case identifier, for problem+json.
    pub fn code(&self) -> &'static str {
        use UserRuleError as E;
        match self {
            E::InvalidFiscalCode { .. } => "fiscal_code_invalid",
            E::FiscalCodeCheck { .. } => "fiscal_code_check",
            E::NameEmpty => "name_empty",
            E::NameTooLong => "name_too_long",
            E::NameCharacters { .. } => "name_characters",
            E::FamilyNameEmpty => "surname_empty",
            E::FamilyNameTooLong => "surname_too_long",
            E::FamilyNameCharacters { .. } => "surname_characters",
            E::NameMismatch => "name_fiscal_code_mismatch",
            E::FamilyNameMismatch => "surname_fiscal_code_mismatch",
            E::InvalidEmail { .. } => "email_invalid",
            E::PecEmail => "email_pec",
            E::EmailConfirmMissing => "email_confirm_missing",
            E::EmailConfirmMismatch => "email_confirm_mismatch",
            E::UnknownProduct { .. } => "product_unknown",
            E::ProductNotOnboarded { .. } => "product_not_onboarded",
            E::InvalidRole { .. } => "role_invalid",
            E::RoleSetByOnboarding { .. } => "role_set_by_onboarding",
            E::ProductRolesEmpty => "product_roles_empty",
            E::UnknownProductRole { .. } => "product_role_unknown",
            E::MultipleProductRoles { .. } => "product_roles_multiple",
            E::AlreadyHasRoles { .. } => "already_has_roles",
            E::DifferentRoleExists { .. } => "different_role",
            E::AdminLimitReached { .. } => "admin_limit",
        }
    }

    /// The message catalogue key of the text shown next to the field. Name and surname
    /// mismatches share "Nome/Cognome non corretto o diverso dal Codice Fiscale".
    pub fn message_key(&self) -> &'static str {
        use UserRuleError as E;
        match self {
            E::InvalidFiscalCode { .. } => "ra.users.errors.fiscal_code_invalid",
            E::FiscalCodeCheck { .. } => "ra.users.errors.fiscal_code_check",
            E::NameEmpty => "ra.users.errors.name_empty",
            E::NameTooLong => "ra.users.errors.name_too_long",
            E::NameCharacters { .. } => "ra.users.errors.name_characters",
            E::FamilyNameEmpty => "ra.users.errors.surname_empty",
            E::FamilyNameTooLong => "ra.users.errors.surname_too_long",
            E::FamilyNameCharacters { .. } => "ra.users.errors.surname_characters",
            E::NameMismatch | E::FamilyNameMismatch => "ra.users.errors.name_fiscal_code_mismatch",
            E::InvalidEmail { .. } => "ra.users.errors.email_invalid",
            E::PecEmail => "ra.users.errors.email_pec",
            E::EmailConfirmMissing => "ra.users.errors.email_confirm_missing",
            E::EmailConfirmMismatch => "ra.users.errors.email_confirm_mismatch",
            E::UnknownProduct { .. } => "ra.users.errors.product_unknown",
            E::ProductNotOnboarded { .. } => "ra.users.errors.product_not_onboarded",
            E::InvalidRole { .. } => "ra.users.errors.role_invalid",
            E::RoleSetByOnboarding { .. } => "ra.users.errors.role_set_by_onboarding",
            E::ProductRolesEmpty => "ra.users.errors.product_roles_empty",
            E::UnknownProductRole { .. } => "ra.users.errors.product_role_unknown",
            E::MultipleProductRoles { .. } => "ra.users.errors.product_roles_multiple",
            E::AlreadyHasRoles { .. } => "ra.users.errors.already_has_roles",
            E::DifferentRoleExists { .. } => "ra.users.errors.different_role",
            E::AdminLimitReached { .. } => "ra.users.errors.admin_limit",
        }
    }

    /// The values a page may put into the message: the product, the role, the limit, the
    /// refused character, the fiscal code or email reason code.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        use UserRuleError as E;
        match self {
            E::InvalidFiscalCode { reason } => vec![("reason", reason.code().to_owned())],
            E::InvalidEmail { reason } => vec![("reason", reason.code().to_owned())],
            E::NameCharacters { character } | E::FamilyNameCharacters { character } => {
                vec![("character", character.to_string())]
            }
            E::UnknownProduct { product_id }
            | E::ProductNotOnboarded { product_id }
            | E::MultipleProductRoles { product_id }
            | E::AlreadyHasRoles { product_id } => vec![("product", product_id.clone())],
            E::InvalidRole { role } => vec![("role", role.clone())],
            E::RoleSetByOnboarding { role } => vec![("role", role.as_str().to_owned())],
            E::UnknownProductRole {
                product_id,
                authority,
                product_role,
            } => vec![
                ("product", product_id.clone()),
                ("authority", authority.as_str().to_owned()),
                ("product_role", product_role.clone()),
            ],
            E::DifferentRoleExists {
                product_id,
                existing,
            } => vec![
                ("product", product_id.clone()),
                ("role", existing.as_str().to_owned()),
            ],
            E::AdminLimitReached { product_id, max } => {
                vec![("product", product_id.clone()), ("max", max.to_string())]
            }
            E::FiscalCodeCheck { .. }
            | E::NameEmpty
            | E::NameTooLong
            | E::FamilyNameEmpty
            | E::FamilyNameTooLong
            | E::NameMismatch
            | E::FamilyNameMismatch
            | E::PecEmail
            | E::EmailConfirmMissing
            | E::EmailConfirmMismatch
            | E::ProductRolesEmpty => Vec::new(),
        }
    }
}

/// A new user, or a new role of a known user, that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNewUser {
    pub fiscal_code: FiscalCode,
    /// Trimmed, internal whitespace collapsed to one space.
    pub name: String,
    pub family_name: String,
    pub email: Email,
    pub product_id: String,
    /// SUB_DELEGATE or OPERATOR.
    pub party_role: PartyRole,
    /// Trimmed, without blanks or repetitions, in the order given.
    pub product_roles: Vec<String>,
}

/// Checks the "Aggiungi utente" form (or API body) against every rule, collecting all field
/// errors at once so that a page can show each next to its field.
///
/// - `onboarded_active`: the ids of the products the institution has an ACTIVE onboarding of.
/// - `existing_grants_of_person_on_institution`: the person's grants on this institution (any
///   product, any status; empty for a person not yet known).
/// - `admins_of_product`: how many persons are ACTIVE or SUSPENDED admins of the product on
///   this institution.
/// - `person_is_admin_of_product`: whether the person is one of them.
///
/// The cross-record rules (same role already present, a different party role, the admin
/// limit) are checked only when every field is valid.
pub fn validate_new_user(
    input: &NewUserInput,
    catalogue: &Catalogue,
    onboarded_active: &[String],
    existing_grants_of_person_on_institution: &[Grant],
    admins_of_product: usize,
    person_is_admin_of_product: bool,
) -> Result<ValidNewUser, Vec<UserRuleError>> {
    let mut errors = Vec::new();

    let fiscal_code = match FiscalCode::parse(&input.fiscal_code) {
        Ok(code) => Some(code),
        Err(FiscalCodeError::CheckCharacter { expected }) => {
            errors.push(UserRuleError::FiscalCodeCheck { expected });
            None
        }
        Err(reason) => {
            errors.push(UserRuleError::InvalidFiscalCode { reason });
            None
        }
    };

    let name = check_name(&input.name, NamePart::Name, &mut errors);
    let family_name = check_name(&input.family_name, NamePart::FamilyName, &mut errors);
    if let Some(code) = &fiscal_code {
        if let Some(name) = &name
            && FiscalCode::name_code_of(name) != code.name_code()
        {
            errors.push(UserRuleError::NameMismatch);
        }
        if let Some(family_name) = &family_name
            && FiscalCode::surname_code_of(family_name) != code.surname_code()
        {
            errors.push(UserRuleError::FamilyNameMismatch);
        }
    }

    let email = match Email::parse(&input.email) {
        Ok(email) if email.is_pec() => {
            errors.push(UserRuleError::PecEmail);
            None
        }
        Ok(email) => Some(email),
        Err(reason) => {
            errors.push(UserRuleError::InvalidEmail { reason });
            None
        }
    };
    if let Some(confirm) = &input.email_confirm {
        if confirm.trim().is_empty() {
            errors.push(UserRuleError::EmailConfirmMissing);
        } else if !same_email(&input.email, confirm) {
            errors.push(UserRuleError::EmailConfirmMismatch);
        }
    }

    let product_id = input.product_id.trim();
    let product = catalogue.get(product_id);
    match product {
        None => errors.push(UserRuleError::UnknownProduct {
            product_id: product_id.to_owned(),
        }),
        Some(_) if !onboarded_active.iter().any(|p| p == product_id) => {
            errors.push(UserRuleError::ProductNotOnboarded {
                product_id: product_id.to_owned(),
            });
        }
        Some(_) => {}
    }

    let role = input.role.trim();
    let party_role = match role.parse::<PartyRole>() {
        Ok(r @ (PartyRole::SubDelegate | PartyRole::Operator)) => Some(r),
        Ok(r @ (PartyRole::Manager | PartyRole::Delegate)) => {
            errors.push(UserRuleError::RoleSetByOnboarding { role: r });
            None
        }
        Err(_) => {
            errors.push(UserRuleError::InvalidRole {
                role: role.to_owned(),
            });
            None
        }
    };

    let product_roles = normalise_product_roles(&input.product_roles);
    if product_roles.is_empty() {
        errors.push(UserRuleError::ProductRolesEmpty);
    } else if let (Some(product), Some(party_role)) = (product, party_role) {
        let authority = party_role.authority();
        let mapping = product.mapping(authority);
        for code in &product_roles {
            if !mapping.is_some_and(|m| m.roles.iter().any(|r| &r.code == code)) {
                errors.push(UserRuleError::UnknownProductRole {
                    product_id: product.id.clone(),
                    authority,
                    product_role: code.clone(),
                });
            }
        }
        if product_roles.len() > 1 && !mapping.is_some_and(|m| m.multi_role_allowed) {
            errors.push(UserRuleError::MultipleProductRoles {
                product_id: product.id.clone(),
            });
        }
    }

    let (
        Some(fiscal_code),
        Some(name),
        Some(family_name),
        Some(email),
        Some(product),
        Some(party_role),
    ) = (fiscal_code, name, family_name, email, product, party_role)
    else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }

    // Cross-record rules: only now that the request itself makes sense.
    let held: Vec<&Grant> = existing_grants_of_person_on_institution
        .iter()
        .filter(|g| {
            g.product_id == product.id
                && matches!(g.status, RoleStatus::Active | RoleStatus::Suspended)
        })
        .collect();
    if let Some(other) = held.iter().find(|g| g.party_role != party_role) {
        errors.push(UserRuleError::DifferentRoleExists {
            product_id: product.id.clone(),
            existing: other.party_role,
        });
    } else {
        let multi_role = product
            .mapping(party_role.authority())
            .is_some_and(|m| m.multi_role_allowed);
        let repeated = held.iter().any(|g| product_roles.contains(&g.product_role));
        // Without multi-role, one more product role would make two.
        if repeated || (!multi_role && !held.is_empty()) {
            errors.push(UserRuleError::AlreadyHasRoles {
                product_id: product.id.clone(),
            });
        }
    }
    if party_role.authority() == Authority::Admin
        && !person_is_admin_of_product
        && let Some(max) = product.max_admins
        && admins_of_product >= usize::try_from(max).unwrap_or(usize::MAX)
    {
        errors.push(UserRuleError::AdminLimitReached {
            product_id: product.id.clone(),
            max,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    Ok(ValidNewUser {
        fiscal_code,
        name,
        family_name,
        email,
        product_id: product.id.clone(),
        party_role,
        product_roles,
    })
}

#[derive(Clone, Copy)]
pub(super) enum NamePart {
    Name,
    FamilyName,
}

/// Collapses whitespace and checks a name or surname; `None` (with the error pushed) when it
/// is not acceptable.
pub(super) fn check_name(
    raw: &str,
    part: NamePart,
    errors: &mut Vec<UserRuleError>,
) -> Option<String> {
    let value = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let error = if value.is_empty() {
        Some(match part {
            NamePart::Name => UserRuleError::NameEmpty,
            NamePart::FamilyName => UserRuleError::FamilyNameEmpty,
        })
    } else if value.chars().count() > NAME_MAX_CHARS {
        Some(match part {
            NamePart::Name => UserRuleError::NameTooLong,
            NamePart::FamilyName => UserRuleError::FamilyNameTooLong,
        })
    } else {
        value
            .chars()
            .find(|c| !is_name_character(*c))
            .map(|character| match part {
                NamePart::Name => UserRuleError::NameCharacters { character },
                NamePart::FamilyName => UserRuleError::FamilyNameCharacters { character },
            })
    };
    match error {
        Some(error) => {
            errors.push(error);
            None
        }
        None => Some(value),
    }
}

/// Letters (accented ones too), spaces, apostrophes (straight or typographic), hyphens, dots.
pub(super) fn is_name_character(c: char) -> bool {
    c.is_alphabetic() || matches!(c, ' ' | '\'' | '\u{2019}' | '-' | '.')
}

/// Whether the confirmation names the same address, ignoring case and surrounding spaces.
pub(super) fn same_email(email: &str, confirm: &str) -> bool {
    match (Email::parse(email), Email::parse(confirm)) {
        (Ok(a), Ok(b)) => a.eq_ignore_case(&b),
        _ => email.trim().eq_ignore_ascii_case(confirm.trim()),
    }
}

/// Trimmed product roles without blanks and repetitions, in the order given.
pub(super) fn normalise_product_roles(raw: &[String]) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    for role in raw.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        if !roles.iter().any(|r| r == role) {
            roles.push(role.to_owned());
        }
    }
    roles
}
