//! Party roles and authorities, the other upper-case codes of the wire, and what each
//! authority may do.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A code that names no variant of one of the enums below.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind}: {code:?}")]
pub struct UnknownCode {
    pub kind: &'static str,
    pub code: String,
}

/// An enum spelt on the wire as upper-case codes. Serde and `as_str`/`FromStr` are generated
/// from the same list so they cannot drift apart.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant),+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;

            fn from_str(s: &str) -> Result<Self, UnknownCode> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err(UnknownCode { kind: $kind, code: s.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_enum! {
    /// Lifecycle of a product in the catalogue.
    ProductStatus, "product status" {
        Active = "ACTIVE",
        Testing = "TESTING",
        PhaseOut = "PHASE_OUT",
        Inactive = "INACTIVE",
    }
}

code_enum! {
    /// State of an institution's onboarding of one product; only ACTIVE counts as joined.
    OnboardingStatus, "onboarding status" {
        Pending = "PENDING",
        ToBeValidated = "TOBEVALIDATED",
        Active = "ACTIVE",
        Suspended = "SUSPENDED",
        Deleted = "DELETED",
        Rejected = "REJECTED",
    }
}

code_enum! {
    /// A person's role in an institution for one product, as the users API carries it.
    PartyRole, "party role" {
        Manager = "MANAGER",
        Delegate = "DELEGATE",
        SubDelegate = "SUB_DELEGATE",
        Operator = "OPERATOR",
    }
}

code_enum! {
    /// What the UI shows for a party role: "Amministratore" or "Operatore".
    Authority, "authority" {
        Admin = "ADMIN",
        Limited = "LIMITED",
    }
}

code_enum! {
    /// State of one product role of a person.
    RoleStatus, "role status" {
        Active = "ACTIVE",
        Suspended = "SUSPENDED",
        Deleted = "DELETED",
    }
}

code_enum! {
    /// Kind of institution; unknown kinds are refused rather than guessed.
    InstitutionType, "institution type" {
        Pa = "PA",
        Gsp = "GSP",
        Pt = "PT",
        Scp = "SCP",
        Psp = "PSP",
        Pg = "PG",
        Sa = "SA",
        As = "AS",
        Prv = "PRV",
        Rec = "REC",
        Con = "CON",
        Gpu = "GPU",
        Scec = "SCEC",
    }
}

impl PartyRole {
    pub fn authority(self) -> Authority {
        match self {
            PartyRole::Manager | PartyRole::Delegate | PartyRole::SubDelegate => Authority::Admin,
            PartyRole::Operator => Authority::Limited,
        }
    }
}

impl Authority {
    /// The party roles that carry this authority.
    pub fn party_roles(self) -> &'static [PartyRole] {
        match self {
            Authority::Admin => &[
                PartyRole::Manager,
                PartyRole::Delegate,
                PartyRole::SubDelegate,
            ],
            Authority::Limited => &[PartyRole::Operator],
        }
    }

    /// The party role given to someone added from the dashboard: MANAGER and DELEGATE are set
    /// only by onboarding.
    pub fn party_role_for_dashboard(self) -> PartyRole {
        match self {
            Authority::Admin => PartyRole::SubDelegate,
            Authority::Limited => PartyRole::Operator,
        }
    }

    pub fn can(self, action: Action) -> bool {
        match self {
            Authority::Admin => true,
            Authority::Limited => matches!(
                action,
                Action::ListActiveProducts
                    | Action::AccessProductBackOffice
                    | Action::ViewInstitutionData
            ),
        }
    }
}

/// The actions of the real platform's role→action map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ListActiveProducts,
    ListAvailableProducts,
    AccessProductBackOffice,
    /// Create, update (suspend, reactivate) and delete product users.
    ManageProductUsers,
    ListProductUsers,
    ManageGroups,
    ViewInstitutionData,
}

impl Action {
    pub const ALL: &[Action] = &[
        Action::ListActiveProducts,
        Action::ListAvailableProducts,
        Action::AccessProductBackOffice,
        Action::ManageProductUsers,
        Action::ListProductUsers,
        Action::ManageGroups,
        Action::ViewInstitutionData,
    ];
}
