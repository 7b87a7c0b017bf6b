//! The Reserved Area's domain rules, free of IO: the product catalogue, party roles and
//! authorities, what each authority may do, the dashboard's product cards and when an identity
//! token may be exchanged.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;

use platform::i18n::Lang;
use serde::{Deserialize, Serialize};

pub mod users;

/// The catalogue shipped with the server; operators may load another file instead.
pub const DEFAULT_PRODUCTS: &str = include_str!("../../products.toml");

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

// ---------------------------------------------------------------------------------------------
// Catalogue

/// One product role a party role may be given, e.g. `api` ("Operatore API").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductRoleDef {
    pub code: String,
    pub label: String,
    pub label_en: String,
    pub description: String,
    #[serde(default)]
    pub description_en: Option<String>,
}

impl ProductRoleDef {
    pub fn label(&self, lang: Lang) -> &str {
        match lang {
            Lang::It => &self.label,
            Lang::En => &self.label_en,
        }
    }

    /// English falls back to Italian, since operators' files may omit it.
    pub fn description(&self, lang: Lang) -> &str {
        match (lang, &self.description_en) {
            (Lang::En, Some(en)) => en,
            _ => &self.description,
        }
    }
}

/// The product roles one authority may hold on a product.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMapping {
    /// Whether one person may hold several of these roles at once (Interoperabilità's
    /// `api` + `security`).
    pub multi_role_allowed: bool,
    pub roles: Vec<ProductRoleDef>,
}

/// Another back-office of the same product (e.g. SEND's Collaudo), chosen at exchange time.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackOfficeEnvironment {
    pub environment: String,
    pub url: String,
    pub identity_token_audience: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub id: String,
    pub title: String,
    pub title_en: String,
    pub description: String,
    pub description_en: String,
    pub status: ProductStatus,
    /// A child product (e.g. a premium tier) shares its parent's permissions.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Products of their own shown inside this product's card (Interoperabilità Collaudo).
    #[serde(default)]
    pub test_env_product_ids: Vec<String>,
    /// A path on this server (built-in back-office) or a URL template with `<IdentityToken>`
    /// and `<lang>` (external back-office).
    pub url_bo: String,
    pub identity_token_audience: String,
    #[serde(default)]
    pub back_office_environments: Vec<BackOfficeEnvironment>,
    pub roles: BTreeMap<Authority, RoleMapping>,
    /// Most admins the product allows per institution; none means unlimited.
    #[serde(default)]
    pub max_admins: Option<u32>,
}

impl Product {
    pub fn title(&self, lang: Lang) -> &str {
        match lang {
            Lang::It => &self.title,
            Lang::En => &self.title_en,
        }
    }

    pub fn description(&self, lang: Lang) -> &str {
        match lang {
            Lang::It => &self.description,
            Lang::En => &self.description_en,
        }
    }

    /// Always present in a parsed catalogue; `Option` only because the map comes from a file.
    pub fn mapping(&self, authority: Authority) -> Option<&RoleMapping> {
        self.roles.get(&authority)
    }

    /// The product role `code`, with the authority whose mapping lists it.
    pub fn product_role(&self, code: &str) -> Option<(Authority, &ProductRoleDef)> {
        self.roles.iter().find_map(|(authority, mapping)| {
            mapping
                .roles
                .iter()
                .find(|r| r.code == code)
                .map(|r| (*authority, r))
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("product catalogue is not valid: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("product {0:?} is listed twice")]
    DuplicateId(String),
    #[error("product {product:?}: parent {parent:?} is not in the catalogue")]
    UnknownParent { product: String, parent: String },
    #[error("product {product:?}: parent {parent:?} has a parent itself (or is the product)")]
    NestedParent { product: String, parent: String },
    #[error("product {product:?}: test environment {test_env:?} is not in the catalogue")]
    UnknownTestEnv { product: String, test_env: String },
    #[error(
        "product {product:?}: test environment {test_env:?} is the product, its parent or its child"
    )]
    TestEnvIsRelative { product: String, test_env: String },
    #[error("test environment {0:?} is listed by more than one product")]
    TestEnvListedTwice(String),
    #[error("product {product:?}: test environment {test_env:?} has test environments itself")]
    NestedTestEnv { product: String, test_env: String },
    #[error("product {product:?}: no {authority} product roles")]
    NoRoles {
        product: String,
        authority: Authority,
    },
    #[error("product {product:?}: product role {code:?} is defined twice")]
    DuplicateRoleCode { product: String, code: String },
    #[error("product {product:?}: empty back-office URL")]
    EmptyUrl { product: String },
    #[error("product {product:?}: empty identity token audience")]
    EmptyAudience { product: String },
    #[error("identity token audience {0:?} is used twice")]
    DuplicateAudience(String),
    #[error("product {product:?}: environment {environment:?} is listed twice")]
    DuplicateEnvironment {
        product: String,
        environment: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[serde(default)]
    products: Vec<Product>,
}

/// The validated product catalogue, in file order (the order of the dashboard's cards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    products: Vec<Product>,
}

impl Catalogue {
    pub fn parse(toml_text: &str) -> Result<Catalogue, CatalogueError> {
        let file: CatalogueFile = toml::from_str(toml_text)?;
        let catalogue = Catalogue {
            products: file.products,
        };
        catalogue.validate()?;
        Ok(catalogue)
    }

    pub fn default_catalogue() -> Result<Catalogue, CatalogueError> {
        Catalogue::parse(DEFAULT_PRODUCTS)
    }

    fn validate(&self) -> Result<(), CatalogueError> {
        let mut ids = HashSet::new();
        for p in &self.products {
            if !ids.insert(p.id.as_str()) {
                return Err(CatalogueError::DuplicateId(p.id.clone()));
            }
        }

        let mut audiences = HashSet::new();
        let mut test_envs = HashSet::new();
        for p in &self.products {
            let product = || p.id.clone();

            if let Some(parent_id) = &p.parent_id {
                let parent = self
                    .get(parent_id)
                    .ok_or_else(|| CatalogueError::UnknownParent {
                        product: product(),
                        parent: parent_id.clone(),
                    })?;
                // One level only, so that permission_product needs no loop and has no cycles.
                if parent.parent_id.is_some() {
                    return Err(CatalogueError::NestedParent {
                        product: product(),
                        parent: parent_id.clone(),
                    });
                }
            }

            for t in &p.test_env_product_ids {
                let test = self.get(t).ok_or_else(|| CatalogueError::UnknownTestEnv {
                    product: product(),
                    test_env: t.clone(),
                })?;
                // A test environment grants nothing on its main product; a parent link would.
                if test.id == p.id
                    || test.parent_id.as_deref() == Some(&p.id)
                    || p.parent_id.as_deref() == Some(&test.id)
                {
                    return Err(CatalogueError::TestEnvIsRelative {
                        product: product(),
                        test_env: t.clone(),
                    });
                }
                // Each test environment must have exactly one card to appear in.
                if !test_envs.insert(t.as_str()) {
                    return Err(CatalogueError::TestEnvListedTwice(t.clone()));
                }
                if !test.test_env_product_ids.is_empty() {
                    return Err(CatalogueError::NestedTestEnv {
                        product: product(),
                        test_env: t.clone(),
                    });
                }
            }

            let mut codes = HashSet::new();
            for authority in Authority::ALL {
                let mapping = p
                    .mapping(*authority)
                    .filter(|m| !m.roles.is_empty())
                    .ok_or_else(|| CatalogueError::NoRoles {
                        product: product(),
                        authority: *authority,
                    })?;
                // Unique across both mappings: a token's product role must name one authority.
                for role in &mapping.roles {
                    if !codes.insert(role.code.as_str()) {
                        return Err(CatalogueError::DuplicateRoleCode {
                            product: product(),
                            code: role.code.clone(),
                        });
                    }
                }
            }

            let mut environments = HashSet::new();
            let back_offices = std::iter::once((p.url_bo.as_str(), &p.identity_token_audience))
                .chain(
                    p.back_office_environments
                        .iter()
                        .map(|e| (e.url.as_str(), &e.identity_token_audience)),
                );
            for e in &p.back_office_environments {
                if !environments.insert(e.environment.as_str()) {
                    return Err(CatalogueError::DuplicateEnvironment {
                        product: product(),
                        environment: e.environment.clone(),
                    });
                }
            }
            for (url, audience) in back_offices {
                if url.trim().is_empty() {
                    return Err(CatalogueError::EmptyUrl { product: product() });
                }
                if audience.trim().is_empty() {
                    return Err(CatalogueError::EmptyAudience { product: product() });
                }
                // A token for one back-office must never be accepted by another.
                if !audiences.insert(audience.as_str()) {
                    return Err(CatalogueError::DuplicateAudience(audience.clone()));
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Product> {
        self.products.iter()
    }

    /// The product whose card shows test environment `id`.
    pub fn main_product_of_test_env(&self, id: &str) -> Option<&Product> {
        self.products
            .iter()
            .find(|p| p.test_env_product_ids.iter().any(|t| t == id))
    }

    pub fn is_test_env(&self, id: &str) -> bool {
        self.main_product_of_test_env(id).is_some()
    }

    /// The product whose roles decide permissions on `id`: a child's parent, otherwise `id`
    /// itself. Test environments never map, since they grant nothing on their main product.
    pub fn permission_product<'a>(&'a self, id: &'a str) -> &'a str {
        if self.is_test_env(id) {
            return id;
        }
        self.get(id)
            .and_then(|p| p.parent_id.as_deref())
            .unwrap_or(id)
    }

    /// Whether product role `code` belongs to `authority`'s mapping on `product_id`.
    pub fn is_valid_product_role(
        &self,
        product_id: &str,
        authority: Authority,
        code: &str,
    ) -> bool {
        self.get(product_id)
            .and_then(|p| p.mapping(authority))
            .is_some_and(|m| m.roles.iter().any(|r| r.code == code))
    }

    /// The back-office URL (or template) and identity-token audience of a product, or of one of
    /// its extra back-office environments; `None` for an unknown product or environment.
    pub fn audience_for(
        &self,
        product_id: &str,
        environment: Option<&str>,
    ) -> Option<(&str, &str)> {
        let product = self.get(product_id)?;
        match environment {
            None => Some((&product.url_bo, &product.identity_token_audience)),
            Some(env) => product
                .back_office_environments
                .iter()
                .find(|e| e.environment == env)
                .map(|e| (e.url.as_str(), e.identity_token_audience.as_str())),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Grants and the rules built on them

/// One of a person's product roles on one institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub product_id: String,
    pub party_role: PartyRole,
    pub product_role: String,
    pub status: RoleStatus,
}

impl Grant {
    pub fn is_active(&self) -> bool {
        self.status == RoleStatus::Active
    }
}

/// ADMIN wins over LIMITED; `None` when there is no grant at all.
fn strongest<'a>(grants: impl Iterator<Item = &'a Grant>) -> Option<Authority> {
    let mut best = None;
    for grant in grants {
        match grant.party_role.authority() {
            Authority::Admin => return Some(Authority::Admin),
            Authority::Limited => best = Some(Authority::Limited),
        }
    }
    best
}

/// The `userRole` of the institution list: ADMIN on at least one product, else LIMITED, else
/// no access. Grants on products missing from the catalogue are ignored.
pub fn user_role(grants: &[Grant], catalogue: &Catalogue) -> Option<Authority> {
    strongest(
        grants
            .iter()
            .filter(|g| g.is_active() && catalogue.get(&g.product_id).is_some()),
    )
}

/// The person's authority on one product, counting a child's grants with its parent's.
pub fn authority_on(
    grants: &[Grant],
    product_id: &str,
    catalogue: &Catalogue,
) -> Option<Authority> {
    let target = catalogue.permission_product(product_id);
    strongest(
        grants
            .iter()
            .filter(|g| g.is_active() && catalogue.permission_product(&g.product_id) == target),
    )
}

/// One choice of "In quale ambiente vuoi entrare?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvChoice {
    /// The main product itself ("Ambiente di Produzione").
    Production,
    /// A test-environment product ("Ambiente di Collaudo").
    Test { product_id: String },
}

/// An active product on the institution page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductCard {
    pub product_id: String,
    pub title: String,
    pub title_en: String,
    pub description: String,
    pub description_en: String,
    /// The main product's own onboarding is ACTIVE (the card may also show for a test
    /// environment's onboarding alone).
    pub active_onboarding: bool,
    /// Whether **Gestisci** is enabled.
    pub can_enter: bool,
    /// Only for products with test environments; empty otherwise.
    pub environments: Vec<EnvChoice>,
}

impl ProductCard {
    pub fn title(&self, lang: Lang) -> &str {
        match lang {
            Lang::It => &self.title,
            Lang::En => &self.title_en,
        }
    }

    pub fn description(&self, lang: Lang) -> &str {
        match lang {
            Lang::It => &self.description,
            Lang::En => &self.description_en,
        }
    }
}

/// The institution page: cards of the active products, and the ids of the products the
/// institution could still join. Test-environment products show inside their main product's
/// card; INACTIVE products show nowhere, PHASE_OUT ones only if already joined.
pub fn dashboard_cards(
    onboarded_active: &[String],
    grants: &[Grant],
    catalogue: &Catalogue,
) -> (Vec<ProductCard>, Vec<String>) {
    let onboarded = |id: &str| onboarded_active.iter().any(|p| p == id);
    let may_enter = |id: &str| {
        onboarded(id)
            && catalogue
                .get(id)
                .is_some_and(|p| p.status != ProductStatus::Inactive)
            && authority_on(grants, id, catalogue)
                .is_some_and(|a| a.can(Action::AccessProductBackOffice))
    };

    let mut cards = Vec::new();
    let mut available = Vec::new();
    for product in catalogue
        .iter()
        .filter(|p| p.status != ProductStatus::Inactive && !catalogue.is_test_env(&p.id))
    {
        let main_onboarded = onboarded(&product.id);
        if !main_onboarded && product.status != ProductStatus::PhaseOut {
            available.push(product.id.clone());
        }
        let test_onboarded = product.test_env_product_ids.iter().any(|t| onboarded(t));
        if !main_onboarded && !test_onboarded {
            continue;
        }

        let production = may_enter(&product.id);
        let tests: Vec<EnvChoice> = product
            .test_env_product_ids
            .iter()
            .filter(|t| may_enter(t))
            .map(|t| EnvChoice::Test {
                product_id: t.clone(),
            })
            .collect();
        let can_enter = production || !tests.is_empty();
        let environments = if product.test_env_product_ids.is_empty() {
            Vec::new()
        } else {
            production
                .then_some(EnvChoice::Production)
                .into_iter()
                .chain(tests)
                .collect()
        };

        cards.push(ProductCard {
            product_id: product.id.clone(),
            title: product.title.clone(),
            title_en: product.title_en.clone(),
            description: product.description.clone(),
            description_en: product.description_en.clone(),
            active_onboarding: main_onboarded,
            can_enter,
            environments,
        });
    }
    (cards, available)
}

/// Why an identity token was not issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeRefusal {
    #[error("the institution has no active onboarding of the product")]
    NotOnboarded,
    #[error("the person has no active role on the product")]
    NoActiveRole,
}

/// Whether an identity token may be issued for one product, given the institution's onboarding
/// of it and the person's grants on exactly that product (the caller selects them, so that a
/// test environment and its main product never stand in for each other). Returns the ACTIVE
/// grants: they become the token's `organization.roles`.
pub fn can_exchange(
    onboarding: Option<OnboardingStatus>,
    grants_on_that_product: &[Grant],
) -> Result<Vec<Grant>, ExchangeRefusal> {
    if onboarding != Some(OnboardingStatus::Active) {
        return Err(ExchangeRefusal::NotOnboarded);
    }
    let active: Vec<Grant> = grants_on_that_product
        .iter()
        .filter(|g| g.is_active())
        .cloned()
        .collect();
    if active.is_empty() {
        return Err(ExchangeRefusal::NoActiveRole);
    }
    Ok(active)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IO: &str = "prod-io";
    const INTEROP: &str = "prod-interop";
    const COLL: &str = "prod-interop-coll";

    fn catalogue() -> Catalogue {
        Catalogue::default_catalogue().unwrap()
    }

    fn grant(product: &str, party_role: PartyRole, product_role: &str) -> Grant {
        Grant {
            product_id: product.to_owned(),
            party_role,
            product_role: product_role.to_owned(),
            status: RoleStatus::Active,
        }
    }

    fn suspended(mut g: Grant) -> Grant {
        g.status = RoleStatus::Suspended;
        g
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    const ROLES: &str = r#"
[products.roles.ADMIN]
multi_role_allowed = false
roles = [{ code = "admin", label = "Amministratore", label_en = "Administrator", description = "d" }]

[products.roles.LIMITED]
multi_role_allowed = false
roles = [{ code = "operator", label = "Operatore", label_en = "Operator", description = "d" }]
"#;

    /// A product table; `extra` holds keys (and environment tables) before the role mappings.
    fn product_with(id: &str, audience: &str, extra: &str, roles: &str) -> String {
        format!(
            r#"
[[products]]
id = "{id}"
title = "Titolo {id}"
title_en = "Title {id}"
description = "Descrizione"
description_en = "Description"
status = "ACTIVE"
url_bo = "/{id}/session"
identity_token_audience = "{audience}"
{extra}
{roles}"#
        )
    }

    fn product(id: &str, audience: &str, extra: &str) -> String {
        product_with(id, audience, extra, ROLES)
    }

    fn parse(parts: &[String]) -> Result<Catalogue, CatalogueError> {
        Catalogue::parse(&parts.concat())
    }

    // --- enums

    #[test]
    fn codes_match_serde_and_from_str() {
        fn check<T>(all: &[T], as_str: fn(T) -> &'static str)
        where
            T: Copy + PartialEq + fmt::Debug + Serialize + FromStr + serde::de::DeserializeOwned,
            <T as FromStr>::Err: fmt::Debug,
        {
            for v in all {
                let code = as_str(*v);
                assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{code}\""));
                assert_eq!(
                    serde_json::from_str::<T>(&format!("\"{code}\"")).unwrap(),
                    *v
                );
                assert_eq!(code.parse::<T>().unwrap(), *v);
            }
        }
        check(ProductStatus::ALL, ProductStatus::as_str);
        check(OnboardingStatus::ALL, OnboardingStatus::as_str);
        check(PartyRole::ALL, PartyRole::as_str);
        check(Authority::ALL, Authority::as_str);
        check(RoleStatus::ALL, RoleStatus::as_str);
        check(InstitutionType::ALL, InstitutionType::as_str);
        assert_eq!(OnboardingStatus::ToBeValidated.as_str(), "TOBEVALIDATED");
        assert_eq!(PartyRole::SubDelegate.as_str(), "SUB_DELEGATE");
        assert_eq!(ProductStatus::PhaseOut.to_string(), "PHASE_OUT");
        assert_eq!(InstitutionType::ALL.len(), 13);
    }

    #[test]
    fn unknown_codes_are_refused() {
        assert_eq!(
            "XYZ".parse::<InstitutionType>(),
            Err(UnknownCode {
                kind: "institution type",
                code: "XYZ".to_owned()
            })
        );
        assert!("pa".parse::<InstitutionType>().is_err());
        assert!(serde_json::from_str::<InstitutionType>("\"XYZ\"").is_err());
        assert!("TO_BE_VALIDATED".parse::<OnboardingStatus>().is_err());
        assert!("admin".parse::<Authority>().is_err());
    }

    // --- authority and permissions

    #[test]
    fn party_roles_map_to_authorities() {
        assert_eq!(PartyRole::Manager.authority(), Authority::Admin);
        assert_eq!(PartyRole::Delegate.authority(), Authority::Admin);
        assert_eq!(PartyRole::SubDelegate.authority(), Authority::Admin);
        assert_eq!(PartyRole::Operator.authority(), Authority::Limited);
        assert_eq!(
            Authority::Admin.party_role_for_dashboard(),
            PartyRole::SubDelegate
        );
        assert_eq!(
            Authority::Limited.party_role_for_dashboard(),
            PartyRole::Operator
        );
        for a in Authority::ALL {
            assert_eq!(a.party_role_for_dashboard().authority(), *a);
        }
    }

    #[test]
    fn admin_can_do_everything_limited_little() {
        for action in Action::ALL {
            assert!(Authority::Admin.can(*action));
        }
        let limited: Vec<Action> = Action::ALL
            .iter()
            .copied()
            .filter(|a| Authority::Limited.can(*a))
            .collect();
        assert_eq!(
            limited,
            [
                Action::ListActiveProducts,
                Action::AccessProductBackOffice,
                Action::ViewInstitutionData
            ]
        );
    }

    // --- default catalogue

    #[test]
    fn default_catalogue_has_the_five_products() {
        let c = catalogue();
        let listed: Vec<&str> = c.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(listed, [IO, INTEROP, COLL, "prod-pagopa", "prod-pn"]);

        let interop = c.get(INTEROP).unwrap();
        assert_eq!(interop.title(Lang::It), "Interoperabilità");
        assert_eq!(interop.title(Lang::En), "Interoperability");
        assert_eq!(interop.test_env_product_ids, [COLL]);
        assert_eq!(interop.max_admins, Some(3));
        assert_eq!(interop.url_bo, "/interop/produzione/session");

        let coll = c.get(COLL).unwrap();
        assert_eq!(coll.status, ProductStatus::Testing);
        assert_eq!(coll.parent_id, None);
        assert_eq!(coll.max_admins, None);
        assert_eq!(coll.url_bo, "/interop/collaudo/session");
        assert_eq!(c.main_product_of_test_env(COLL).unwrap().id, INTEROP);
        assert!(c.main_product_of_test_env(INTEROP).is_none());

        assert_eq!(c.get(IO).unwrap().url_bo, "/io/session");
        for external in ["prod-pagopa", "prod-pn"] {
            let url = &c.get(external).unwrap().url_bo;
            assert!(
                url.contains("<IdentityToken>") && url.contains("<lang>"),
                "{url}"
            );
        }
        assert!(c.get("prod-nope").is_none());
    }

    #[test]
    fn default_catalogue_role_mappings_follow_the_spec() {
        let c = catalogue();
        let codes = |id: &str, a: Authority| -> (bool, Vec<String>) {
            let m = c.get(id).unwrap().mapping(a).unwrap();
            (
                m.multi_role_allowed,
                m.roles.iter().map(|r| r.code.clone()).collect(),
            )
        };
        for id in [IO, INTEROP, COLL, "prod-pagopa", "prod-pn"] {
            assert_eq!(codes(id, Authority::Admin).1, ["admin"], "{id}");
        }
        for id in [IO, "prod-pagopa", "prod-pn"] {
            assert_eq!(codes(id, Authority::Limited), (false, ids(&["operator"])));
        }
        for id in [INTEROP, COLL] {
            assert_eq!(
                codes(id, Authority::Limited),
                (true, ids(&["api", "security"]))
            );
        }

        let io = c.get(IO).unwrap();
        let (authority, admin) = io.product_role("admin").unwrap();
        assert_eq!(authority, Authority::Admin);
        assert_eq!(admin.label(Lang::It), "Referente amministrativo");
        assert_eq!(io.product_role("operator").unwrap().0, Authority::Limited);
        assert_eq!(
            io.product_role("operator").unwrap().1.label(Lang::It),
            "Referente operativo"
        );
        let api = c.get(INTEROP).unwrap().product_role("api").unwrap().1;
        assert_eq!(api.label(Lang::It), "Operatore API");
        assert_eq!(
            c.get(INTEROP)
                .unwrap()
                .product_role("security")
                .unwrap()
                .1
                .label(Lang::It),
            "Operatore di sicurezza"
        );

        assert!(c.is_valid_product_role(INTEROP, Authority::Limited, "api"));
        assert!(c.is_valid_product_role(COLL, Authority::Limited, "security"));
        assert!(!c.is_valid_product_role(INTEROP, Authority::Admin, "api"));
        assert!(!c.is_valid_product_role(IO, Authority::Limited, "api"));
        assert!(!c.is_valid_product_role("prod-nope", Authority::Admin, "admin"));
    }

    #[test]
    fn audiences_and_environments() {
        let c = catalogue();
        assert_eq!(
            c.audience_for(INTEROP, None),
            Some(("/interop/produzione/session", "interop.selfcare.local"))
        );
        assert_eq!(
            c.audience_for(COLL, None),
            Some(("/interop/collaudo/session", "uat.interop.selfcare.local"))
        );
        assert_eq!(
            c.audience_for(IO, None),
            Some(("/io/session", "api.io.selfcare.local"))
        );
        let (url, audience) = c.audience_for("prod-pn", Some("Collaudo")).unwrap();
        assert!(url.contains("<IdentityToken>"));
        assert_eq!(audience, "uat.pn.selfcare.local");
        assert_eq!(
            c.audience_for("prod-pn", None).unwrap().1,
            "pn.selfcare.local"
        );
        assert_eq!(c.audience_for("prod-pn", Some("Produzione")), None);
        assert_eq!(c.audience_for(INTEROP, Some("Collaudo")), None);
        assert_eq!(c.audience_for("prod-nope", None), None);
    }

    #[test]
    fn permission_product_maps_children_only() {
        let text = [
            product("prod-a", "a", "test_env_product_ids = [\"prod-a-coll\"]"),
            product("prod-a-coll", "a-coll", ""),
            product("prod-a-premium", "a-premium", "parent_id = \"prod-a\""),
        ];
        let c = parse(&text).unwrap();
        assert_eq!(c.permission_product("prod-a-premium"), "prod-a");
        assert_eq!(c.permission_product("prod-a"), "prod-a");
        assert_eq!(c.permission_product("prod-a-coll"), "prod-a-coll");
        assert_eq!(c.permission_product("prod-unknown"), "prod-unknown");
        assert!(c.is_test_env("prod-a-coll"));
        assert!(!c.is_test_env("prod-a-premium"));
    }

    // --- validation

    #[test]
    fn an_empty_catalogue_is_valid() {
        assert_eq!(Catalogue::parse("").unwrap().iter().count(), 0);
    }

    #[test]
    fn malformed_files_are_refused() {
        for text in [
            "[[products]]\nid = 1".to_owned(),
            product("prod-a", "a", "status_typo = 1"),
            product("prod-a", "a", "").replace("\"ACTIVE\"", "\"LIVE\""),
            "unexpected = true".to_owned(),
        ] {
            assert!(
                matches!(Catalogue::parse(&text), Err(CatalogueError::Toml(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let err = parse(&[product("prod-a", "a", ""), product("prod-a", "b", "")]).unwrap_err();
        assert!(matches!(err, CatalogueError::DuplicateId(id) if id == "prod-a"));
    }

    #[test]
    fn parents_must_exist_and_be_top_level() {
        let err = parse(&[product("prod-a", "a", "parent_id = \"prod-x\"")]).unwrap_err();
        assert!(matches!(err, CatalogueError::UnknownParent { parent, .. } if parent == "prod-x"));

        let err = parse(&[product("prod-a", "a", "parent_id = \"prod-a\"")]).unwrap_err();
        assert!(matches!(err, CatalogueError::NestedParent { .. }));

        let err = parse(&[
            product("prod-a", "a", ""),
            product("prod-b", "b", "parent_id = \"prod-a\""),
            product("prod-c", "c", "parent_id = \"prod-b\""),
        ])
        .unwrap_err();
        assert!(matches!(err, CatalogueError::NestedParent { product, .. } if product == "prod-c"));
    }

    #[test]
    fn test_envs_must_exist_and_not_be_relatives() {
        let err = parse(&[product(
            "prod-a",
            "a",
            "test_env_product_ids = [\"prod-x\"]",
        )])
        .unwrap_err();
        assert!(
            matches!(err, CatalogueError::UnknownTestEnv { test_env, .. } if test_env == "prod-x")
        );

        // The test environment is the main product's child.
        let err = parse(&[
            product("prod-a", "a", "test_env_product_ids = [\"prod-b\"]"),
            product("prod-b", "b", "parent_id = \"prod-a\""),
        ])
        .unwrap_err();
        assert!(matches!(err, CatalogueError::TestEnvIsRelative { .. }));

        // The test environment is the main product's parent.
        let err = parse(&[
            product(
                "prod-a",
                "a",
                "parent_id = \"prod-b\"\ntest_env_product_ids = [\"prod-b\"]",
            ),
            product("prod-b", "b", ""),
        ])
        .unwrap_err();
        assert!(matches!(err, CatalogueError::TestEnvIsRelative { .. }));

        let err = parse(&[product(
            "prod-a",
            "a",
            "test_env_product_ids = [\"prod-a\"]",
        )])
        .unwrap_err();
        assert!(matches!(err, CatalogueError::TestEnvIsRelative { .. }));
    }

    #[test]
    fn a_test_env_belongs_to_one_product_and_has_none_itself() {
        let err = parse(&[
            product("prod-a", "a", "test_env_product_ids = [\"prod-t\"]"),
            product("prod-b", "b", "test_env_product_ids = [\"prod-t\"]"),
            product("prod-t", "t", ""),
        ])
        .unwrap_err();
        assert!(matches!(err, CatalogueError::TestEnvListedTwice(t) if t == "prod-t"));

        let err = parse(&[
            product("prod-a", "a", "test_env_product_ids = [\"prod-t\"]"),
            product("prod-t", "t", "test_env_product_ids = [\"prod-u\"]"),
            product("prod-u", "u", ""),
        ])
        .unwrap_err();
        assert!(matches!(err, CatalogueError::NestedTestEnv { .. }));
    }

    #[test]
    fn both_role_mappings_are_required_and_non_empty() {
        let admin_only = r#"
[products.roles.ADMIN]
multi_role_allowed = false
roles = [{ code = "admin", label = "A", label_en = "A", description = "d" }]
"#;
        let err = parse(&[product_with("prod-a", "a", "", admin_only)]).unwrap_err();
        assert!(matches!(
            err,
            CatalogueError::NoRoles {
                authority: Authority::Limited,
                ..
            }
        ));

        let empty_admin = r#"
[products.roles.ADMIN]
multi_role_allowed = false
roles = []

[products.roles.LIMITED]
multi_role_allowed = false
roles = [{ code = "operator", label = "O", label_en = "O", description = "d" }]
"#;
        let err = parse(&[product_with("prod-a", "a", "", empty_admin)]).unwrap_err();
        assert!(matches!(
            err,
            CatalogueError::NoRoles {
                authority: Authority::Admin,
                ..
            }
        ));

        let unknown_authority =
            format!("{ROLES}\n[products.roles.OWNER]\nmulti_role_allowed = false\nroles = []\n");
        let err = parse(&[product_with("prod-a", "a", "", &unknown_authority)]).unwrap_err();
        assert!(matches!(err, CatalogueError::Toml(_)));
    }

    #[test]
    fn product_role_codes_are_unique_within_a_product() {
        let twice = r#"
[products.roles.ADMIN]
multi_role_allowed = false
roles = [{ code = "admin", label = "A", label_en = "A", description = "d" }]

[products.roles.LIMITED]
multi_role_allowed = true
roles = [
    { code = "api", label = "A", label_en = "A", description = "d" },
    { code = "admin", label = "A", label_en = "A", description = "d" },
]
"#;
        let err = parse(&[product_with("prod-a", "a", "", twice)]).unwrap_err();
        assert!(matches!(err, CatalogueError::DuplicateRoleCode { code, .. } if code == "admin"));

        // The same code on two products is fine.
        parse(&[product("prod-a", "a", ""), product("prod-b", "b", "")]).unwrap();
    }

    #[test]
    fn urls_and_audiences_must_be_set() {
        let text =
            product("prod-a", "a", "").replace("url_bo = \"/prod-a/session\"", "url_bo = \" \"");
        assert!(matches!(
            Catalogue::parse(&text),
            Err(CatalogueError::EmptyUrl { .. })
        ));
        assert!(matches!(
            parse(&[product("prod-a", "", "")]),
            Err(CatalogueError::EmptyAudience { .. })
        ));

        let env = |url: &str, audience: &str| {
            format!(
                "[[products.back_office_environments]]\nenvironment = \"Collaudo\"\nurl = \"{url}\"\nidentity_token_audience = \"{audience}\"\n"
            )
        };
        assert!(matches!(
            parse(&[product("prod-a", "a", &env("", "a-uat"))]),
            Err(CatalogueError::EmptyUrl { .. })
        ));
        assert!(matches!(
            parse(&[product("prod-a", "a", &env("/uat", ""))]),
            Err(CatalogueError::EmptyAudience { .. })
        ));
        parse(&[product("prod-a", "a", &env("/uat", "a-uat"))]).unwrap();
    }

    #[test]
    fn audiences_are_unique_across_products_and_environments() {
        let err =
            parse(&[product("prod-a", "same", ""), product("prod-b", "same", "")]).unwrap_err();
        assert!(matches!(err, CatalogueError::DuplicateAudience(a) if a == "same"));

        let env = "[[products.back_office_environments]]\nenvironment = \"Collaudo\"\nurl = \"/uat\"\nidentity_token_audience = \"b\"\n";
        let err = parse(&[product("prod-a", "a", env), product("prod-b", "b", "")]).unwrap_err();
        assert!(matches!(err, CatalogueError::DuplicateAudience(a) if a == "b"));

        let env_on_itself = "[[products.back_office_environments]]\nenvironment = \"Collaudo\"\nurl = \"/uat\"\nidentity_token_audience = \"a\"\n";
        let err = parse(&[product("prod-a", "a", env_on_itself)]).unwrap_err();
        assert!(matches!(err, CatalogueError::DuplicateAudience(a) if a == "a"));
    }

    #[test]
    fn environment_names_are_unique_within_a_product() {
        let envs = "[[products.back_office_environments]]\nenvironment = \"Collaudo\"\nurl = \"/uat\"\nidentity_token_audience = \"a-1\"\n\
                    [[products.back_office_environments]]\nenvironment = \"Collaudo\"\nurl = \"/uat2\"\nidentity_token_audience = \"a-2\"\n";
        let err = parse(&[product("prod-a", "a", envs)]).unwrap_err();
        assert!(matches!(err, CatalogueError::DuplicateEnvironment { .. }));
    }

    // --- grants

    #[test]
    fn user_role_prefers_admin_and_ignores_inactive_grants() {
        let c = catalogue();
        assert_eq!(user_role(&[], &c), None);
        assert_eq!(
            user_role(&[grant(IO, PartyRole::Operator, "operator")], &c),
            Some(Authority::Limited)
        );
        assert_eq!(
            user_role(
                &[
                    grant(IO, PartyRole::Operator, "operator"),
                    grant(COLL, PartyRole::SubDelegate, "admin"),
                ],
                &c
            ),
            Some(Authority::Admin)
        );
        assert_eq!(
            user_role(
                &[
                    grant(IO, PartyRole::Operator, "operator"),
                    suspended(grant(INTEROP, PartyRole::Manager, "admin")),
                ],
                &c
            ),
            Some(Authority::Limited)
        );
        assert_eq!(
            user_role(&[suspended(grant(IO, PartyRole::Manager, "admin"))], &c),
            None
        );
        let mut deleted = grant(IO, PartyRole::Manager, "admin");
        deleted.status = RoleStatus::Deleted;
        assert_eq!(user_role(&[deleted], &c), None);
        assert_eq!(
            user_role(&[grant("prod-gone", PartyRole::Manager, "admin")], &c),
            None
        );
    }

    #[test]
    fn authority_on_keeps_test_envs_and_main_products_apart() {
        let c = catalogue();
        let coll_admin = [grant(COLL, PartyRole::SubDelegate, "admin")];
        assert_eq!(authority_on(&coll_admin, COLL, &c), Some(Authority::Admin));
        assert_eq!(authority_on(&coll_admin, INTEROP, &c), None);

        let interop_api = [grant(INTEROP, PartyRole::Operator, "api")];
        assert_eq!(
            authority_on(&interop_api, INTEROP, &c),
            Some(Authority::Limited)
        );
        assert_eq!(authority_on(&interop_api, COLL, &c), None);
        assert_eq!(authority_on(&interop_api, IO, &c), None);

        let mixed = [
            grant(INTEROP, PartyRole::Operator, "api"),
            grant(INTEROP, PartyRole::Delegate, "admin"),
        ];
        assert_eq!(authority_on(&mixed, INTEROP, &c), Some(Authority::Admin));

        let suspended_only = [suspended(grant(IO, PartyRole::Manager, "admin"))];
        assert_eq!(authority_on(&suspended_only, IO, &c), None);
    }

    #[test]
    fn a_child_product_shares_its_parents_authority() {
        let c = parse(&[
            product("prod-a", "a", ""),
            product("prod-a-premium", "a-premium", "parent_id = \"prod-a\""),
            product("prod-b", "b", ""),
        ])
        .unwrap();
        let on_parent = [grant("prod-a", PartyRole::Operator, "operator")];
        assert_eq!(
            authority_on(&on_parent, "prod-a-premium", &c),
            Some(Authority::Limited)
        );
        let on_child = [grant("prod-a-premium", PartyRole::Manager, "admin")];
        assert_eq!(
            authority_on(&on_child, "prod-a", &c),
            Some(Authority::Admin)
        );
        assert_eq!(authority_on(&on_child, "prod-b", &c), None);
    }

    // --- dashboard

    /// A Comune onboarded to App IO and to both Interoperabilità environments.
    fn comune() -> Vec<String> {
        ids(&[IO, INTEROP, COLL])
    }

    fn card<'a>(cards: &'a [ProductCard], id: &str) -> &'a ProductCard {
        cards.iter().find(|c| c.product_id == id).unwrap()
    }

    #[test]
    fn collaudo_admin_sees_one_interop_card_with_only_collaudo() {
        let c = catalogue();
        let grants = [grant(COLL, PartyRole::SubDelegate, "admin")];
        let (cards, available) = dashboard_cards(&comune(), &grants, &c);

        let shown: Vec<&str> = cards.iter().map(|c| c.product_id.as_str()).collect();
        assert_eq!(shown, [IO, INTEROP]);
        let interop = card(&cards, INTEROP);
        assert_eq!(interop.title(Lang::It), "Interoperabilità");
        assert!(interop.active_onboarding);
        assert!(interop.can_enter);
        assert_eq!(
            interop.environments,
            [EnvChoice::Test {
                product_id: COLL.to_owned()
            }]
        );
        let io = card(&cards, IO);
        assert!(!io.can_enter);
        assert!(io.environments.is_empty());
        assert_eq!(available, ids(&["prod-pagopa", "prod-pn"]));
    }

    #[test]
    fn production_admin_sees_only_production() {
        let c = catalogue();
        let grants = [grant(INTEROP, PartyRole::Manager, "admin")];
        let (cards, _) = dashboard_cards(&comune(), &grants, &c);
        let interop = card(&cards, INTEROP);
        assert!(interop.can_enter);
        assert_eq!(interop.environments, [EnvChoice::Production]);
    }

    #[test]
    fn admin_of_both_sees_both_environments() {
        let c = catalogue();
        let grants = [
            grant(INTEROP, PartyRole::Manager, "admin"),
            grant(COLL, PartyRole::Operator, "security"),
        ];
        let (cards, _) = dashboard_cards(&comune(), &grants, &c);
        assert_eq!(
            card(&cards, INTEROP).environments,
            [
                EnvChoice::Production,
                EnvChoice::Test {
                    product_id: COLL.to_owned()
                }
            ]
        );
    }

    #[test]
    fn limited_operator_enters_io_but_cannot_manage_users() {
        let c = catalogue();
        let grants = [grant(IO, PartyRole::Operator, "operator")];
        let (cards, _) = dashboard_cards(&comune(), &grants, &c);
        assert!(card(&cards, IO).can_enter);
        assert!(!card(&cards, INTEROP).can_enter);
        assert!(card(&cards, INTEROP).environments.is_empty());

        let authority = authority_on(&grants, IO, &c).unwrap();
        assert_eq!(authority, Authority::Limited);
        assert!(authority.can(Action::AccessProductBackOffice));
        assert!(!authority.can(Action::ManageProductUsers));
        assert!(!authority.can(Action::ListProductUsers));
    }

    #[test]
    fn suspended_grants_open_nothing() {
        let c = catalogue();
        let grants = [
            suspended(grant(IO, PartyRole::Manager, "admin")),
            suspended(grant(INTEROP, PartyRole::Manager, "admin")),
            suspended(grant(COLL, PartyRole::Manager, "admin")),
        ];
        let (cards, _) = dashboard_cards(&comune(), &grants, &c);
        assert_eq!(cards.len(), 2);
        for card in &cards {
            assert!(!card.can_enter, "{}", card.product_id);
            assert!(card.environments.is_empty());
        }
    }

    #[test]
    fn test_env_onboarding_alone_shows_the_main_card() {
        let c = catalogue();
        let grants = [
            grant(INTEROP, PartyRole::Manager, "admin"),
            grant(COLL, PartyRole::Manager, "admin"),
        ];
        let (cards, available) = dashboard_cards(&ids(&[COLL]), &grants, &c);
        assert_eq!(cards.len(), 1);
        let interop = card(&cards, INTEROP);
        assert!(!interop.active_onboarding);
        assert!(interop.can_enter);
        // Production needs its own ACTIVE onboarding, whatever the role.
        assert_eq!(
            interop.environments,
            [EnvChoice::Test {
                product_id: COLL.to_owned()
            }]
        );
        assert_eq!(available, ids(&[IO, INTEROP, "prod-pagopa", "prod-pn"]));
    }

    #[test]
    fn a_test_env_role_without_its_onboarding_opens_nothing() {
        let c = catalogue();
        let grants = [grant(COLL, PartyRole::Manager, "admin")];
        let (cards, _) = dashboard_cards(&ids(&[INTEROP]), &grants, &c);
        let interop = card(&cards, INTEROP);
        assert!(!interop.can_enter);
        assert!(interop.environments.is_empty());
    }

    #[test]
    fn nothing_onboarded_means_no_cards() {
        let c = catalogue();
        let (cards, available) = dashboard_cards(&[], &[], &c);
        assert!(cards.is_empty());
        assert_eq!(available, ids(&[IO, INTEROP, "prod-pagopa", "prod-pn"]));
    }

    #[test]
    fn inactive_and_phase_out_products_are_not_offered() {
        let c = parse(&[
            product("prod-a", "a", ""),
            product("prod-old", "old", "").replace("\"ACTIVE\"", "\"PHASE_OUT\""),
            product("prod-off", "off", "").replace("\"ACTIVE\"", "\"INACTIVE\""),
            product("prod-gone", "gone", "").replace("\"ACTIVE\"", "\"PHASE_OUT\""),
        ])
        .unwrap();
        let grants = [
            grant("prod-old", PartyRole::Manager, "admin"),
            grant("prod-off", PartyRole::Manager, "admin"),
        ];
        let (cards, available) = dashboard_cards(&ids(&["prod-old", "prod-off"]), &grants, &c);
        let shown: Vec<&str> = cards.iter().map(|c| c.product_id.as_str()).collect();
        assert_eq!(shown, ["prod-old"]);
        assert!(cards[0].can_enter);
        assert_eq!(available, ids(&["prod-a"]));
    }

    #[test]
    fn a_child_product_card_opens_with_the_parents_role() {
        let c = parse(&[
            product("prod-a", "a", ""),
            product("prod-a-premium", "a-premium", "parent_id = \"prod-a\""),
        ])
        .unwrap();
        let grants = [grant("prod-a", PartyRole::Operator, "operator")];
        let (cards, available) = dashboard_cards(&ids(&["prod-a-premium"]), &grants, &c);
        assert_eq!(cards.len(), 1);
        assert!(cards[0].can_enter);
        assert_eq!(available, ids(&["prod-a"]));
    }

    // --- token exchange

    #[test]
    fn exchange_needs_an_active_onboarding() {
        let grants = [grant(INTEROP, PartyRole::Manager, "admin")];
        for status in OnboardingStatus::ALL
            .iter()
            .filter(|s| **s != OnboardingStatus::Active)
        {
            assert_eq!(
                can_exchange(Some(*status), &grants),
                Err(ExchangeRefusal::NotOnboarded),
                "{status}"
            );
        }
        assert_eq!(
            can_exchange(None, &grants),
            Err(ExchangeRefusal::NotOnboarded)
        );
    }

    #[test]
    fn exchange_needs_an_active_role_and_returns_only_active_ones() {
        let active = Some(OnboardingStatus::Active);
        assert_eq!(
            can_exchange(active, &[]),
            Err(ExchangeRefusal::NoActiveRole)
        );
        assert_eq!(
            can_exchange(
                active,
                &[suspended(grant(COLL, PartyRole::Operator, "api"))]
            ),
            Err(ExchangeRefusal::NoActiveRole)
        );

        let grants = [
            grant(COLL, PartyRole::Operator, "api"),
            suspended(grant(COLL, PartyRole::Operator, "security")),
            grant(COLL, PartyRole::SubDelegate, "admin"),
        ];
        let roles = can_exchange(active, &grants).unwrap();
        let codes: Vec<&str> = roles.iter().map(|g| g.product_role.as_str()).collect();
        assert_eq!(codes, ["api", "admin"]);
        assert!(roles.iter().all(Grant::is_active));
    }
}
