//! The product catalogue: products, their roles and back-office environments, validated.

use std::collections::{BTreeMap, HashSet};

use platform::i18n::Lang;
use serde::Deserialize;

use super::roles::*;

/// The catalogue shipped with the server; operators may load another file instead.
pub const DEFAULT_PRODUCTS: &str = include_str!("../../products.toml");

/// The Italian or the English of a text, as `lang` asks.
pub(crate) fn in_lang<'a>(lang: Lang, it: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::It => it,
        Lang::En => en,
    }
}

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
        in_lang(lang, &self.label, &self.label_en)
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
        in_lang(lang, &self.title, &self.title_en)
    }

    pub fn description(&self, lang: Lang) -> &str {
        in_lang(lang, &self.description, &self.description_en)
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
