//! Role changes (suspend, reactivate, remove): which grants change, and the last active
//! administrator that must stay.

use crate::model::{Authority, Grant, RoleStatus};

/// Suspend, reactivate or remove (logically) a person's roles on one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleChange {
    Suspend,
    Activate,
    Remove,
}

impl RoleChange {
    pub const ALL: &[RoleChange] = &[
        RoleChange::Suspend,
        RoleChange::Activate,
        RoleChange::Remove,
    ];

    /// The status the changed roles get.
    pub fn target_status(self) -> RoleStatus {
        match self {
            RoleChange::Suspend => RoleStatus::Suspended,
            RoleChange::Activate => RoleStatus::Active,
            RoleChange::Remove => RoleStatus::Deleted,
        }
    }

    /// Whether a role in `status` may undergo this change: ACTIVE→SUSPENDED,
    /// SUSPENDED→ACTIVE, ACTIVE|SUSPENDED→DELETED.
    pub fn applies_to(self, status: RoleStatus) -> bool {
        matches!(
            (self, status),
            (RoleChange::Suspend, RoleStatus::Active)
                | (RoleChange::Activate, RoleStatus::Suspended)
                | (
                    RoleChange::Remove,
                    RoleStatus::Active | RoleStatus::Suspended
                )
        )
    }

    /// Message key of the email's subject and of the audit record: "Il tuo ruolo è sospeso",
    /// "Il tuo ruolo è stato riabilitato", "Il tuo ruolo è stato rimosso" (see
    /// [`MAIL_SUBJECTS`]; adding uses [`ADD_SUBJECT_KEY`]).
    pub fn subject_key(self) -> &'static str {
        match self {
            RoleChange::Suspend => "ra.users.mail.suspended",
            RoleChange::Activate => "ra.users.mail.activated",
            RoleChange::Remove => "ra.users.mail.removed",
        }
    }
}

/// Why a role change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleChangeError {
    /// No role in a state the change applies to, or no role with the asked `productRole`.
    #[error("there is no role that this change applies to")]
    NothingToChange,
    #[error(
        "the institution would be left without an active administrator of product {product_id}"
    )]
    LastAdmin { product_id: String },
}

impl RoleChangeError {
    /// Stable snake_case identifier, for problem+json.
    pub fn code(&self) -> &'static str {
        match self {
            RoleChangeError::NothingToChange => "nothing_to_change",
            RoleChangeError::LastAdmin { .. } => "last_admin",
        }
    }

    pub fn message_key(&self) -> &'static str {
        match self {
            RoleChangeError::NothingToChange => "ra.users.errors.nothing_to_change",
            RoleChangeError::LastAdmin { .. } => "ra.users.errors.last_admin",
        }
    }
}

/// Which of a person's grants on one product `change` alters: all of them, or only the one
/// with `product_role`; returned with their new status, in the order given.
///
/// `active_admins_of_product_excluding_person` counts the other persons with an ACTIVE admin
/// role on the product of the institution: when it is zero, a change that would take away the
/// person's last ACTIVE admin role is refused.
pub fn plan_role_change(
    change: RoleChange,
    person_grants_on_product: &[Grant],
    product_role: Option<&str>,
    active_admins_of_product_excluding_person: usize,
) -> Result<Vec<Grant>, RoleChangeError> {
    let selected = |g: &Grant| product_role.is_none_or(|r| g.product_role == r.trim());
    let changed: Vec<Grant> = person_grants_on_product
        .iter()
        .filter(|g| selected(g))
        .filter(|g| change.applies_to(g.status))
        .map(|g| Grant {
            status: change.target_status(),
            ..g.clone()
        })
        .collect();
    if changed.is_empty() {
        return Err(RoleChangeError::NothingToChange);
    }

    let is_active_admin = |g: &Grant| g.is_active() && g.party_role.authority() == Authority::Admin;
    let admin_now = person_grants_on_product.iter().find(|g| is_active_admin(g));
    if let Some(admin_grant) = admin_now
        && change != RoleChange::Activate
        && active_admins_of_product_excluding_person == 0
    {
        // Still an ACTIVE admin afterwards only through an admin grant left untouched.
        let still_admin = person_grants_on_product
            .iter()
            .filter(|g| is_active_admin(g))
            .any(|g| !(selected(g) && change.applies_to(g.status)));
        if !still_admin {
            return Err(RoleChangeError::LastAdmin {
                product_id: admin_grant.product_id.clone(),
            });
        }
    }
    Ok(changed)
}
