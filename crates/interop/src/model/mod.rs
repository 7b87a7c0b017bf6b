//! Interoperability's rules, pure: environments and roles, the payloads of e-services,
//! descriptors and purposes, the state machines of descriptors, agreements and purposes, the
//! quota rule and the risk-analysis form. No IO, no HTTP, no SQL here.
//!
//! Bad input is a [`FieldError`] naming its JSON path (HTTP 400); an action the current state
//! does not allow is a [`Refusal`] with a stable snake_case code (HTTP 409, or 403 for
//! `not_the_consumer` / `not_the_producer`, as the caller decides).
//!
//! The state machines share names (`suspend`, `activate`, ...), so they live in their own
//! modules: `descriptor::publish`, `agreement::suspend`, `purpose::archive`.

pub mod agreement;
pub mod attribute;
pub mod client;
pub mod descriptor;
pub mod document;
pub mod eservice;
pub mod ipa;
pub mod key;
pub mod notice;
pub mod purpose;
mod read;
pub mod risk_analysis;
pub mod token;

pub use agreement::{AgreementFacts, AgreementState, Change, Upgrade};
pub use descriptor::{
    AgreementApprovalPolicy, DescriptorFacts, DescriptorInput, DescriptorState, PreviousFacts,
    PublishPlan,
};
pub use eservice::{EServiceInput, Mode, Technology};
pub use purpose::{
    PurposeChange, PurposeFacts, PurposeInput, PurposeUpdate, PurposeVersionState, VersionChange,
    VersionFacts,
};
pub use risk_analysis::{RiskAnalysisForm, RiskAnswers};

use serde::{Deserialize, Serialize};

/// One invalid field, named by its JSON path (`dailyCallsPerConsumer`, `answers.purpose`,
/// `audience[2]`): the platform's own.
pub use platform::FieldError;

/// An action the current state does not allow, with a stable code and a message that says
/// why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// The reason a producer gives when rejecting: an agreement's 20 to 1000 characters once
/// trimmed, a purpose version's 10 to 250 (the real platform's bounds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RejectionReason(String);

pub const AGREEMENT_REJECTION: (usize, usize) = (20, 1000);
pub const PURPOSE_REJECTION: (usize, usize) = (10, 250);

impl RejectionReason {
    /// An agreement's; `field` is the payload's key (`reason` in the real API).
    pub fn of_agreement(field: &str, raw: &str) -> Result<Self, FieldError> {
        Self::within(field, raw, AGREEMENT_REJECTION)
    }

    /// A purpose version's; `field` is the payload's key (`rejectionReason` in the real API).
    pub fn of_purpose(field: &str, raw: &str) -> Result<Self, FieldError> {
        Self::within(field, raw, PURPOSE_REJECTION)
    }

    fn within(field: &str, raw: &str, (min, max): (usize, usize)) -> Result<Self, FieldError> {
        read::check_length(raw, min, max)
            .map(Self)
            .map_err(|message| FieldError::new(field, message))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The two Interop instances; nothing made in one exists in the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Produzione,
    Collaudo,
}

impl Environment {
    pub const ALL: [Environment; 2] = [Environment::Produzione, Environment::Collaudo];

    /// The name in paths and settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Produzione => "produzione",
            Environment::Collaudo => "collaudo",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// The Self Care product whose roles open this environment.
    pub const fn product_id(self) -> &'static str {
        match self {
            Environment::Produzione => "prod-interop",
            Environment::Collaudo => "prod-interop-coll",
        }
    }

    pub fn from_product_id(product_id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.product_id() == product_id)
    }

    /// The name people read (the same in Italian and English).
    pub fn label(self) -> &'static str {
        match self {
            Environment::Produzione => "Produzione",
            Environment::Collaudo => "Collaudo",
        }
    }
}

/// The product roles of Interop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything for its institution.
    Admin,
    /// Operatore API: manages e-services (producer side).
    Api,
    /// Operatore di sicurezza: manages keys of the clients it belongs to.
    Security,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Api, Role::Security];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Api => "api",
            Role::Security => "security",
        }
    }

    /// From a product-role code; codes of other products are `None`.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == code)
    }
}

/// Creates, edits, publishes, suspends e-services and their descriptors; approves, rejects
/// and suspends agreements and purposes as the producer.
pub fn may_manage_eservices(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Admin | Role::Api))
}

/// Creates, submits, suspends, archives and deletes agreements and purposes as the consumer;
/// creates clients and links purposes to them.
pub fn may_act_as_consumer(roles: &[Role]) -> bool {
    roles.contains(&Role::Admin)
}

/// Acts on an agreement or a purpose for the caller's side of it: the consumer's admin when
/// the caller's institution is the consumer, else the producer's admin or api operator.
pub fn may_act_as_party(roles: &[Role], caller: &str, consumer_id: &str) -> bool {
    if caller == consumer_id {
        may_act_as_consumer(roles)
    } else {
        may_manage_eservices(roles)
    }
}

/// Uploads and deletes keys (a `security` user only on the clients it belongs to, which the
/// caller checks).
pub fn may_manage_keys(roles: &[Role]) -> bool {
    roles
        .iter()
        .any(|r| matches!(r, Role::Admin | Role::Security))
}

/// The two parties of an agreement or a purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Side {
    Consumer,
    Producer,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Consumer => "consumer",
            Side::Producer => "producer",
        }
    }
}

/// Which side `caller` is on, the consumer first: an institution that consumes its own
/// e-service is seen as the consumer unless the caller says otherwise (it acts as the
/// producer through the producer's routes, passing `Side::Producer` itself).
pub fn side_of(caller: &str, consumer_id: &str, producer_id: &str) -> Option<Side> {
    if caller == consumer_id {
        Some(Side::Consumer)
    } else if caller == producer_id {
        Some(Side::Producer)
    } else {
        None
    }
}

/// Refuses anyone but the consumer.
pub fn require_consumer(caller: &str, consumer_id: &str) -> Result<(), Refusal> {
    if caller == consumer_id {
        Ok(())
    } else {
        Err(Refusal::new(
            "not_the_consumer",
            "only the consumer institution may do this",
        ))
    }
}

/// Refuses anyone but the producer.
pub fn require_producer(caller: &str, producer_id: &str) -> Result<(), Refusal> {
    if caller == producer_id {
        Ok(())
    } else {
        Err(Refusal::new(
            "not_the_producer",
            "only the producer institution may do this",
        ))
    }
}

/// A UUID in its textual form (`8-4-4-4-12` hexadecimal digits), the shape of every Interop
/// id.
pub fn uuid_shape(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// An absolute `http://` or `https://` URL with a host, no spaces or control characters.
pub fn http_url_shape(s: &str) -> bool {
    let lower = s.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    let rest = if lower.starts_with("https://") {
        &s[8..]
    } else if lower.starts_with("http://") {
        &s[7..]
    } else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_ok = !host.is_empty()
        && !host.starts_with(':')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '[' | ']' | '_'));
    host_ok && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_round_trip_and_name_their_products() {
        for e in Environment::ALL {
            assert_eq!(Environment::parse(e.as_str()), Some(e));
            assert_eq!(Environment::from_product_id(e.product_id()), Some(e));
        }
        assert_eq!(Environment::Produzione.product_id(), "prod-interop");
        assert_eq!(Environment::Collaudo.product_id(), "prod-interop-coll");
        assert_eq!(Environment::Collaudo.label(), "Collaudo");
        assert_eq!(Environment::Produzione.label(), "Produzione");
        assert_eq!(Environment::parse("Produzione"), None);
        assert_eq!(Environment::from_product_id("prod-io"), None);
        assert_eq!(
            serde_json::to_value(Environment::Collaudo).unwrap(),
            "collaudo"
        );
    }

    #[test]
    fn roles_parse_their_codes_only() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("ADMIN"), None);
        assert_eq!(Role::parse("operator"), None);
    }

    #[test]
    fn each_role_may_do_its_part() {
        use Role::*;
        assert!(may_manage_eservices(&[Admin]));
        assert!(may_manage_eservices(&[Api]));
        assert!(!may_manage_eservices(&[Security]));
        assert!(!may_manage_eservices(&[]));
        assert!(may_act_as_consumer(&[Admin]));
        assert!(!may_act_as_consumer(&[Api, Security]));
        assert!(may_manage_keys(&[Admin]));
        assert!(may_manage_keys(&[Security]));
        assert!(!may_manage_keys(&[Api]));
        assert!(may_manage_keys(&[Api, Security]));
    }

    #[test]
    fn the_consumer_side_comes_first() {
        assert_eq!(side_of("a", "a", "b"), Some(Side::Consumer));
        assert_eq!(side_of("b", "a", "b"), Some(Side::Producer));
        assert_eq!(side_of("a", "a", "a"), Some(Side::Consumer));
        assert_eq!(side_of("c", "a", "b"), None);
        assert!(require_consumer("a", "a").is_ok());
        assert_eq!(
            require_consumer("b", "a").unwrap_err().code,
            "not_the_consumer"
        );
        assert!(require_producer("b", "b").is_ok());
        assert_eq!(
            require_producer("a", "b").unwrap_err().code,
            "not_the_producer"
        );
    }

    #[test]
    fn rejection_reasons_are_trimmed_and_bounded() {
        let twenty = "è".repeat(20);
        assert_eq!(
            RejectionReason::of_agreement("reason", &format!("  {twenty}  "))
                .unwrap()
                .as_str(),
            twenty
        );
        let e = RejectionReason::of_agreement("reason", "   ").unwrap_err();
        assert_eq!(e.field, "reason");
        for (n, ok) in [(19, false), (20, true), (1000, true), (1001, false)] {
            let r = RejectionReason::of_agreement("reason", &"x".repeat(n));
            assert_eq!(r.is_ok(), ok, "agreement, {n} characters");
        }
        for (n, ok) in [(9, false), (10, true), (250, true), (251, false)] {
            let r = RejectionReason::of_purpose("rejectionReason", &"x".repeat(n));
            assert_eq!(r.is_ok(), ok, "purpose, {n} characters");
        }
        let e = RejectionReason::of_purpose("rejectionReason", &"x".repeat(251)).unwrap_err();
        assert_eq!(e.field, "rejectionReason");
        assert!(e.message.contains("251"), "{}", e.message);
    }

    #[test]
    fn uuids_have_their_shape() {
        assert!(uuid_shape("3fa85f64-5717-4562-b3fc-2c963f66afa6"));
        assert!(uuid_shape("3FA85F64-5717-4562-B3FC-2C963F66AFA6"));
        assert!(!uuid_shape("3fa85f6457174562b3fc2c963f66afa6"));
        assert!(!uuid_shape("3fa85f64-5717-4562-b3fc-2c963f66afa"));
        assert!(!uuid_shape("3fa85f64-5717-4562-b3fc-2c963f66afag"));
        assert!(!uuid_shape(""));
    }

    #[test]
    fn urls_are_absolute_http_with_a_host() {
        for ok in [
            "https://api.example.it",
            "https://api.example.it/v1/notifiche?x=1",
            "http://10.0.0.1:8080/",
            "HTTPS://API.EXAMPLE.IT",
            "https://[::1]:443/x",
        ] {
            assert!(http_url_shape(ok), "{ok}");
        }
        for bad in [
            "",
            "api.example.it",
            "ftp://api.example.it",
            "https://",
            "https:///path",
            "https://a b.it",
            "https://a.it/x y",
            "https://a.it/\n",
            "https://:80",
            "https://ex%61mple.it",
        ] {
            assert!(!http_url_shape(bad), "{bad}");
        }
    }
}
