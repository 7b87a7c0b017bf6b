//! A person's grants and the rules built on them: their authority, the dashboard's product
//! cards, and when an identity token may be exchanged.

use platform::i18n::Lang;

use super::catalogue::*;
use super::roles::*;

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
        in_lang(lang, &self.title, &self.title_en)
    }

    pub fn description(&self, lang: Lang) -> &str {
        in_lang(lang, &self.description, &self.description_en)
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
