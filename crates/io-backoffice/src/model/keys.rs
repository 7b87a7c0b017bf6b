//! API keys: their types, the kinds of subscriptions, the addresses a key may be used from.

use platform::types::Cidr;
use serde::{Deserialize, Serialize};

use super::FieldError;
use super::service::CIDRS_MAX;

/// The two keys of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    Primary,
    Secondary,
}

impl KeyType {
    pub const BOTH: [KeyType; 2] = [KeyType::Primary, KeyType::Secondary];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Primary => "primary",
            KeyType::Secondary => "secondary",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "primary" | "PRIMARY_KEY" | "primary_key" => Some(KeyType::Primary),
            "secondary" | "SECONDARY_KEY" | "secondary_key" => Some(KeyType::Secondary),
            _ => None,
        }
    }
}

/// The kinds of subscriptions (key pairs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionKind {
    ManageRoot,
    Service,
}

impl SubscriptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionKind::ManageRoot => "MANAGE_ROOT",
            SubscriptionKind::Service => "SERVICE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "MANAGE_ROOT" => Some(SubscriptionKind::ManageRoot),
            "SERVICE" => Some(SubscriptionKind::Service),
            _ => None,
        }
    }
}

/// The id of an institution's root manage subscription.
pub fn manage_subscription_id(institution_id: &str) -> String {
    format!("MANAGE-{institution_id}")
}

/// Whether `ip` may use a key restricted to `cidrs` (an empty list allows every address).
pub fn address_allowed(cidrs: &[Cidr], ip: std::net::IpAddr) -> bool {
    cidrs.is_empty() || cidrs.iter().any(|c| c.contains_ip(ip))
}

/// Parses a list of CIDRs (manage keys' allow-list), naming the first bad entry.
pub fn parse_cidrs(list: &[String]) -> Result<Vec<Cidr>, FieldError> {
    if list.len() > CIDRS_MAX {
        return Err(FieldError::new(
            "cidrs",
            format!("at most {CIDRS_MAX} entries"),
        ));
    }
    let mut out: Vec<Cidr> = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let cidr = Cidr::parse(c.trim())
            .map_err(|e| FieldError::new(format!("cidrs[{i}]"), e.to_string()))?;
        if !out.iter().any(|o| o.as_str() == cidr.as_str()) {
            out.push(cidr);
        }
    }
    Ok(out)
}

pub use platform::ids::ulid;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_checks_and_cidr_lists() {
        let cidrs = parse_cidrs(&["10.0.0.0/8".into(), "10.0.0.0/8".into()]).unwrap();
        assert_eq!(cidrs.len(), 1);
        assert!(address_allowed(&cidrs, "10.1.2.3".parse().unwrap()));
        assert!(!address_allowed(&cidrs, "11.1.2.3".parse().unwrap()));
        assert!(address_allowed(&[], "11.1.2.3".parse().unwrap()));
        assert_eq!(parse_cidrs(&["x".into()]).unwrap_err().field, "cidrs[0]");
    }
}
