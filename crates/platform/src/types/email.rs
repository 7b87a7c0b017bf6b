//! E-mail address, including certified (PEC) ones.

/// Longest address that fits in the SMTP forward path (RFC 5321 §4.5.3.1.3).
const MAX_LEN: usize = 254;
/// Longest local part (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL_LEN: usize = 64;
/// Longest domain label (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// Punctuation allowed in the local part besides letters, digits and dots (RFC 5322 atext).
const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";

/// Labels that mark a certified-mail domain wherever they appear, as in `comune.roma.pec.it`
/// or `cert.legalmail.it`.
const PEC_LABELS: &[&str] = &["pec", "legalmail", "postacert"];

/// Domains of certified-mail providers; their subdomains are certified too.
const PEC_PROVIDERS: &[&str] = &[
    "pec.it",
    "legalmail.it",
    "cert.legalmail.it",
    "postacert.it",
    "arubapec.it",
    "pec.aruba.it",
    "postecert.it",
    "casellapec.com",
    "sicurezzapostale.it",
];

/// A plain ASCII e-mail address: the local part as written, the domain lower case.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Email {
    value: String,
    /// Byte index of the `@` in `value`.
    at: usize,
}

/// Why a string is not an accepted e-mail address.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum EmailError {
    #[error("the email address is empty")]
    Empty,
    #[error(
        "the email address contains non-ASCII characters; internationalised addresses are not supported"
    )]
    NonAscii,
    #[error("the email address is longer than 254 characters")]
    TooLong,
    #[error("the email address has no @")]
    MissingAt,
    #[error("the email address has more than one @")]
    MultipleAt,
    #[error("the part before the @ must be 1 to 64 characters long")]
    LocalPartLength,
    #[error("the part before the @ contains a character that is not allowed: {character:?}")]
    LocalPartCharacter { character: char },
    #[error("the part before the @ must not start or end with a dot, nor have two dots in a row")]
    LocalPartDots,
    #[error("the domain after the @ is empty")]
    DomainEmpty,
    #[error("every part of the domain between dots must be 1 to 63 characters long")]
    DomainLabelLength,
    #[error("the domain contains a character that is not allowed: {character:?}")]
    DomainLabelCharacter { character: char },
    #[error("parts of the domain must not start or end with a hyphen")]
    DomainLabelHyphen,
    #[error("the domain must have at least two parts, as in example.it")]
    DomainSingleLabel,
    #[error("the domain must end with a top-level domain of at least two letters")]
    TopLevelDomain,
}

impl EmailError {
    /// Stable identifier of the reason, for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "email_empty",
            Self::NonAscii => "email_non_ascii",
            Self::TooLong => "email_too_long",
            Self::MissingAt => "email_missing_at",
            Self::MultipleAt => "email_multiple_at",
            Self::LocalPartLength => "email_local_part_length",
            Self::LocalPartCharacter { .. } => "email_local_part_character",
            Self::LocalPartDots => "email_local_part_dots",
            Self::DomainEmpty => "email_domain_empty",
            Self::DomainLabelLength => "email_domain_label_length",
            Self::DomainLabelCharacter { .. } => "email_domain_label_character",
            Self::DomainLabelHyphen => "email_domain_label_hyphen",
            Self::DomainSingleLabel => "email_domain_single_label",
            Self::TopLevelDomain => "email_top_level_domain",
        }
    }
}

impl Email {
    /// Parses an address, ignoring surrounding whitespace; the domain is lower-cased.
    ///
    /// Only the common dot-atom form is accepted: no quoted local parts, comments, IP-literal
    /// domains or internationalised names, which real PA mailboxes do not use.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(EmailError::Empty);
        }
        if !text.is_ascii() {
            return Err(EmailError::NonAscii);
        }
        if text.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = text.split_once('@').ok_or(EmailError::MissingAt)?;
        if domain.contains('@') {
            return Err(EmailError::MultipleAt);
        }
        check_local_part(local)?;
        check_domain(domain)?;
        Ok(Self {
            value: format!("{local}@{}", domain.to_ascii_lowercase()),
            at: local.len(),
        })
    }

    /// The whole address.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The part before the `@`, as written.
    pub fn local_part(&self) -> &str {
        self.value.get(..self.at).unwrap_or_default()
    }

    /// The part after the `@`, lower case.
    pub fn domain(&self) -> &str {
        self.value.get(self.at + 1..).unwrap_or_default()
    }

    /// Whether both addresses are the same ignoring letter case. Mail servers may treat the
    /// local part as case-sensitive, but people do not, so this is the comparison for
    /// "is this the same person's address".
    pub fn eq_ignore_case(&self, other: &Email) -> bool {
        self.value.eq_ignore_ascii_case(&other.value)
    }

    /// Whether the domain looks like a certified-mail (PEC) one. A heuristic: the only sure
    /// way is the public PEC registry, which this does not consult.
    pub fn is_pec(&self) -> bool {
        let domain = self.domain();
        domain.split('.').any(|label| PEC_LABELS.contains(&label))
            || PEC_PROVIDERS.iter().any(|provider| {
                domain
                    .strip_suffix(provider)
                    .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
            })
    }
}

fn check_local_part(local: &str) -> Result<(), EmailError> {
    if local.is_empty() || local.len() > MAX_LOCAL_LEN {
        return Err(EmailError::LocalPartLength);
    }
    if let Some(character) = local
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || c == '.' || LOCAL_SPECIALS.contains(c)))
    {
        return Err(EmailError::LocalPartCharacter { character });
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(EmailError::LocalPartDots);
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), EmailError> {
    if domain.is_empty() {
        return Err(EmailError::DomainEmpty);
    }
    for label in domain.split('.') {
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return Err(EmailError::DomainLabelLength);
        }
        if let Some(character) = label
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err(EmailError::DomainLabelCharacter { character });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(EmailError::DomainLabelHyphen);
        }
    }
    match domain.rsplit_once('.') {
        None => Err(EmailError::DomainSingleLabel),
        Some((_, tld)) if tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) => {
            Err(EmailError::TopLevelDomain)
        }
        Some(_) => Ok(()),
    }
}

super::text_value!(Email, EmailError, value);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    #[test]
    fn parses_and_splits() {
        let e = email("Mario.Rossi@Comune.Roma.IT");
        assert_eq!(e.as_str(), "Mario.Rossi@comune.roma.it");
        assert_eq!(e.to_string(), "Mario.Rossi@comune.roma.it");
        assert_eq!(e.as_ref(), "Mario.Rossi@comune.roma.it");
        assert_eq!(e.local_part(), "Mario.Rossi");
        assert_eq!(e.domain(), "comune.roma.it");
    }

    #[test]
    fn accepts_valid_addresses() {
        let addresses = [
            "a@b.it".to_owned(),
            "protocollo@pec.comune.milano.it".to_owned(),
            "first.last+tag@sub-domain.example.com".to_owned(),
            "o'connor@example.ie".to_owned(),
            "!#$%&'*+/=?^_`{|}~-@example.org".to_owned(),
            "user@123.example.it".to_owned(),
            "x@xn--80ak6aa92e.com".to_owned(),
            format!("{}@example.it", "l".repeat(64)),
            format!("a@{}.it", "d".repeat(63)),
            format!(
                "a@{}.{}.{}.it",
                "d".repeat(63),
                "e".repeat(63),
                "f".repeat(63)
            ),
        ];
        for address in addresses {
            assert_eq!(email(&address).as_str(), address, "{address}");
        }
    }

    #[test]
    fn trims_whitespace() {
        assert_eq!(email("  a@b.it\n").as_str(), "a@b.it");
    }

    #[test]
    fn keeps_local_part_case() {
        let upper = email("Mario@EXAMPLE.it");
        let lower = email("mario@example.it");
        assert_eq!(upper.as_str(), "Mario@example.it");
        assert_ne!(upper, lower);
        assert!(upper.eq_ignore_case(&lower));
        assert!(!upper.eq_ignore_case(&email("maria@example.it")));
    }

    #[test]
    fn refuses_each_reason() {
        let too_long = format!(
            "{}@{}.{}.{}.{}.it",
            "l",
            "a".repeat(62),
            "b".repeat(62),
            "c".repeat(62),
            "d".repeat(62)
        );
        assert!(too_long.len() > 254);
        let cases: Vec<(String, EmailError)> = vec![
            ("".into(), EmailError::Empty),
            ("   ".into(), EmailError::Empty),
            ("mario@città.it".into(), EmailError::NonAscii),
            ("màrio@example.it".into(), EmailError::NonAscii),
            (too_long, EmailError::TooLong),
            ("mario.example.it".into(), EmailError::MissingAt),
            ("a@b@example.it".into(), EmailError::MultipleAt),
            ("@example.it".into(), EmailError::LocalPartLength),
            (
                format!("{}@example.it", "l".repeat(65)),
                EmailError::LocalPartLength,
            ),
            (
                "ma rio@example.it".into(),
                EmailError::LocalPartCharacter { character: ' ' },
            ),
            (
                "\"mario\"@example.it".into(),
                EmailError::LocalPartCharacter { character: '"' },
            ),
            (
                "mario(x)@example.it".into(),
                EmailError::LocalPartCharacter { character: '(' },
            ),
            (".mario@example.it".into(), EmailError::LocalPartDots),
            ("mario.@example.it".into(), EmailError::LocalPartDots),
            ("ma..rio@example.it".into(), EmailError::LocalPartDots),
            ("mario@".into(), EmailError::DomainEmpty),
            ("mario@example..it".into(), EmailError::DomainLabelLength),
            ("mario@.example.it".into(), EmailError::DomainLabelLength),
            ("mario@example.it.".into(), EmailError::DomainLabelLength),
            (
                format!("a@{}.it", "d".repeat(64)),
                EmailError::DomainLabelLength,
            ),
            (
                "mario@exa_mple.it".into(),
                EmailError::DomainLabelCharacter { character: '_' },
            ),
            (
                "mario@[10.0.0.1]".into(),
                EmailError::DomainLabelCharacter { character: '[' },
            ),
            ("mario@-example.it".into(), EmailError::DomainLabelHyphen),
            ("mario@example-.it".into(), EmailError::DomainLabelHyphen),
            ("mario@localhost".into(), EmailError::DomainSingleLabel),
            ("mario@example.i".into(), EmailError::TopLevelDomain),
            ("mario@example.123".into(), EmailError::TopLevelDomain),
            ("mario@example.i7".into(), EmailError::TopLevelDomain),
            ("mario@10.0.0.1".into(), EmailError::TopLevelDomain),
        ];
        for (input, expected) in cases {
            assert_eq!(Email::parse(&input), Err(expected), "{input}");
        }
    }

    #[test]
    fn error_codes_and_messages_are_distinct() {
        let errors = [
            EmailError::Empty,
            EmailError::NonAscii,
            EmailError::TooLong,
            EmailError::MissingAt,
            EmailError::MultipleAt,
            EmailError::LocalPartLength,
            EmailError::LocalPartCharacter { character: ' ' },
            EmailError::LocalPartDots,
            EmailError::DomainEmpty,
            EmailError::DomainLabelLength,
            EmailError::DomainLabelCharacter { character: '_' },
            EmailError::DomainLabelHyphen,
            EmailError::DomainSingleLabel,
            EmailError::TopLevelDomain,
        ];
        let codes: std::collections::HashSet<_> = errors.iter().map(|e| e.code()).collect();
        let messages: std::collections::HashSet<_> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(codes.len(), errors.len());
        assert_eq!(messages.len(), errors.len());
        assert!(EmailError::NonAscii.to_string().contains("not supported"));
    }

    #[test]
    fn recognises_pec_domains() {
        for address in [
            "protocollo@comune.roma.pec.it",
            "protocollo@pec.comune.it",
            "mario@pec.it",
            "mario@legalmail.it",
            "mario@cert.legalmail.it",
            "mario@studio.legalmail.it",
            "mario@postacert.it",
            "mario@arubapec.it",
            "mario@pec.aruba.it",
            "mario@postecert.it",
            "mario@PEC.Example.IT",
            "mario@ufficio.arubapec.it",
            "mario@legalmail.example.com",
        ] {
            assert!(email(address).is_pec(), "{address}");
        }
        for address in [
            "mario@example.it",
            "mario@specchio.it",
            "pec@example.it",
            "mario@pecora.it",
            "mario@notarubapec.it",
            "mario@arubapec.it.example.com",
        ] {
            assert!(!email(address).is_pec(), "{address}");
        }
    }

    #[test]
    fn conversions_and_serde() {
        let e: Email = "Mario@Example.it".parse().unwrap();
        assert_eq!(e, Email::try_from("Mario@example.IT".to_owned()).unwrap());
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, "\"Mario@example.it\"");
        assert_eq!(serde_json::from_str::<Email>(&json).unwrap(), e);
        let err = serde_json::from_str::<Email>("\"mario@localhost\"").unwrap_err();
        assert!(err.to_string().contains("two parts"), "{err}");
        assert_eq!(String::from(e), "Mario@example.it");
    }

    fn local_atom() -> impl Strategy<Value = String> {
        "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,15}"
    }

    fn label() -> impl Strategy<Value = String> {
        "[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?"
    }

    fn valid_email() -> impl Strategy<Value = (String, String)> {
        let local = proptest::collection::vec(local_atom(), 1..4).prop_map(|atoms| atoms.join("."));
        let domain = (proptest::collection::vec(label(), 1..4), "[A-Za-z]{2,6}")
            .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")));
        (local, domain)
    }

    proptest! {
        #[test]
        fn generated_addresses_round_trip((local, domain) in valid_email()) {
            let input = format!("{local}@{domain}");
            let parsed = Email::parse(&input).unwrap();
            prop_assert_eq!(parsed.local_part(), local.as_str());
            prop_assert_eq!(parsed.domain(), domain.to_ascii_lowercase());
            let shown = parsed.to_string();
            let again = Email::parse(&shown).unwrap();
            prop_assert_eq!(&again, &parsed);
            let json = serde_json::to_string(&parsed).unwrap();
            prop_assert_eq!(serde_json::from_str::<Email>(&json).unwrap(), parsed);
        }

        /// Whatever is accepted is in normal form and satisfies the documented rules.
        #[test]
        fn accepted_input_is_normalised(input in "[ a-zA-Z0-9.@_+-]{0,30}") {
            if let Ok(parsed) = Email::parse(&input) {
                prop_assert_eq!(Email::parse(parsed.as_str()).unwrap(), parsed.clone());
                prop_assert_eq!(parsed.as_str(), format!("{}@{}", parsed.local_part(), parsed.domain()));
                prop_assert_eq!(parsed.as_str().matches('@').count(), 1);
                prop_assert!(!parsed.domain().chars().any(|c| c.is_ascii_uppercase()));
                prop_assert!(!parsed.local_part().contains(".."));
                prop_assert!(parsed.domain().contains('.'));
            }
        }

        #[test]
        fn never_panics(input in "\\PC{0,40}") {
            if let Ok(parsed) = Email::parse(&input) {
                let _ = (parsed.local_part(), parsed.domain(), parsed.is_pec());
            }
        }
    }
}
