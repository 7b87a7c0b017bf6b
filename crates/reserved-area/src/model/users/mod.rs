//! The rules of "Aggiungi utente" / "Crea Utente" and of role changes (suspend, reactivate,
//! remove), free of IO: the caller loads the catalogue, the institution's onboardings and the
//! person's grants, and stores what these functions decide.

mod new_user;
mod role_change;

pub use new_user::*;
pub use role_change::*;

/// Longest name or surname accepted, in characters, after collapsing whitespace.
pub const NAME_MAX_CHARS: usize = 100;

/// Subject of the email sent when a role is added ("Hai un nuovo ruolo per un prodotto PagoPA").
pub const ADD_SUBJECT_KEY: &str = "ra.users.mail.added";

/// The subjects of the emails sent on add, suspend, reactivate and remove: key, Italian text of
/// the spec, English text.
pub const MAIL_SUBJECTS: &[(&str, &str, &str)] = &[
    (
        ADD_SUBJECT_KEY,
        "Hai un nuovo ruolo per un prodotto PagoPA",
        "You have a new role on a PagoPA product",
    ),
    (
        "ra.users.mail.suspended",
        "Il tuo ruolo è sospeso",
        "Your role has been suspended",
    ),
    (
        "ra.users.mail.activated",
        "Il tuo ruolo è stato riabilitato",
        "Your role has been reactivated",
    ),
    (
        "ra.users.mail.removed",
        "Il tuo ruolo è stato rimosso",
        "Your role has been removed",
    ),
];

/// Every message key used by this module; the message catalogues must define them all.
pub const MESSAGE_KEYS: &[&str] = &[
    "ra.users.errors.fiscal_code_invalid",
    "ra.users.errors.fiscal_code_check",
    "ra.users.errors.name_empty",
    "ra.users.errors.name_too_long",
    "ra.users.errors.name_characters",
    "ra.users.errors.surname_empty",
    "ra.users.errors.surname_too_long",
    "ra.users.errors.surname_characters",
    "ra.users.errors.name_fiscal_code_mismatch",
    "ra.users.errors.email_invalid",
    "ra.users.errors.email_pec",
    "ra.users.errors.email_confirm_missing",
    "ra.users.errors.email_confirm_mismatch",
    "ra.users.errors.product_unknown",
    "ra.users.errors.product_not_onboarded",
    "ra.users.errors.role_invalid",
    "ra.users.errors.role_set_by_onboarding",
    "ra.users.errors.product_roles_empty",
    "ra.users.errors.product_role_unknown",
    "ra.users.errors.product_roles_multiple",
    "ra.users.errors.already_has_roles",
    "ra.users.errors.different_role",
    "ra.users.errors.admin_limit",
    "ra.users.errors.nothing_to_change",
    "ra.users.errors.last_admin",
    ADD_SUBJECT_KEY,
    "ra.users.mail.suspended",
    "ra.users.mail.activated",
    "ra.users.mail.removed",
];

#[cfg(test)]
mod tests;
