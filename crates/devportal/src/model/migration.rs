//! Who may import what: the institutions' importable services and their delegates, as the
//! migration API sums them up.

use super::service::Visibility;

/// An institution's fiscal code as the old portal knew it: 11 digits.
pub fn is_org_fiscal_code(s: &str) -> bool {
    s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether the import may take the service into the institution `fc`: it belongs to that
/// organization and was not marked deleted (the old portal marked deletions in the name).
pub fn is_importable(name: &str, organization_fiscal_code: &str, fc: &str) -> bool {
    organization_fiscal_code == fc && !name.to_lowercase().contains("deleted")
}

/// A service of an institution as the migration API sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgService {
    pub id: String,
    pub name: String,
    pub organization_fiscal_code: String,
    pub visibility: Visibility,
    pub frozen: bool,
    pub transferred: bool,
    pub delegate: Delegate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegate {
    pub id: String,
    pub name: String,
    pub surname: String,
    pub email: String,
}

/// A delegate with the number of their services still to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateCount {
    pub delegate: Delegate,
    pub pending: usize,
}

fn delegate_order(a: &Delegate, b: &Delegate) -> std::cmp::Ordering {
    (&a.surname, &a.name, &a.id).cmp(&(&b.surname, &b.name, &b.id))
}

/// Every delegate owning an importable service of `fc` (transferred or not), with the number
/// of their pending ones (importable, not transferred); by surname, name, id.
pub fn importable_delegates(fc: &str, services: &[OrgService]) -> Vec<DelegateCount> {
    let mut by_id: std::collections::HashMap<&str, DelegateCount> =
        std::collections::HashMap::new();
    for s in services
        .iter()
        .filter(|s| is_importable(&s.name, &s.organization_fiscal_code, fc))
    {
        let pending = usize::from(!s.transferred);
        by_id
            .entry(s.delegate.id.as_str())
            .or_insert_with(|| DelegateCount {
                delegate: s.delegate.clone(),
                pending: 0,
            })
            .pending += pending;
    }
    let mut out: Vec<DelegateCount> = by_id.into_values().collect();
    out.sort_by(|a, b| delegate_order(&a.delegate, &b.delegate));
    out
}

/// The pending services of `fc` (of one delegate, when given); by delegate, then name, id.
pub fn pending_services<'a>(
    fc: &str,
    delegate_id: Option<&str>,
    services: &'a [OrgService],
) -> Vec<&'a OrgService> {
    let mut out: Vec<&OrgService> = services
        .iter()
        .filter(|s| is_importable(&s.name, &s.organization_fiscal_code, fc) && !s.transferred)
        .filter(|s| delegate_id.is_none_or(|d| s.delegate.id == d))
        .collect();
    out.sort_by(|a, b| {
        delegate_order(&a.delegate, &b.delegate)
            .then_with(|| (&a.name, &a.id).cmp(&(&b.name, &b.id)))
    });
    out
}

/// Why a service of the organization stays out of the import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Exclusion {
    /// The old portal marked it deleted (in its name).
    MarkedDeleted,
}

/// The services of `fc` the import leaves out, with why; by delegate, then name, id.
pub fn excluded_services<'a>(
    fc: &str,
    services: &'a [OrgService],
) -> Vec<(&'a OrgService, Exclusion)> {
    let mut out: Vec<(&OrgService, Exclusion)> = services
        .iter()
        .filter(|s| s.organization_fiscal_code == fc && !s.transferred)
        .filter(|s| !is_importable(&s.name, &s.organization_fiscal_code, fc))
        .map(|s| (s, Exclusion::MarkedDeleted))
        .collect();
    out.sort_by(|(a, _), (b, _)| {
        delegate_order(&a.delegate, &b.delegate)
            .then_with(|| (&a.name, &a.id).cmp(&(&b.name, &b.id)))
    });
    out
}
