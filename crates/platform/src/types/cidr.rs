//! IPv4 address range in CIDR notation, as used in IP allow-lists.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest IPv4 prefix: a single address.
const MAX_PREFIX: u8 = 32;

/// An IPv4 address with a prefix length, such as `192.168.1.0/24`.
///
/// The address is kept as given, host bits included (`192.168.1.5/24` is common in the real
/// API), and [`Cidr::network`] masks them off. The text is always the canonical `a.b.c.d/p`,
/// so a bare address reads back as `/32`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Cidr {
    text: String,
    address: Ipv4Addr,
    prefix: u8,
}

/// Why a string is not an accepted IPv4 CIDR block.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum CidrError {
    #[error("the address range is empty")]
    Empty,
    #[error("IPv6 addresses are not supported, only IPv4")]
    Ipv6,
    #[error("the address is not a valid IPv4 address such as 192.168.1.0")]
    Address,
    #[error("the prefix length after / must be a whole number from 0 to 32")]
    Prefix,
}

impl CidrError {
    /// Stable identifier of the reason, for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "cidr_empty",
            Self::Ipv6 => "cidr_ipv6",
            Self::Address => "cidr_address",
            Self::Prefix => "cidr_prefix",
        }
    }
}

impl Cidr {
    /// Parses `a.b.c.d` (a single address, `/32`) or `a.b.c.d/p`, ignoring surrounding
    /// whitespace.
    pub fn parse(input: &str) -> Result<Self, CidrError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(CidrError::Empty);
        }
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        // Std refuses leading zeros such as `010.0.0.1`, which some tools read as octal.
        let address = address.parse::<Ipv4Addr>().map_err(|_| {
            if address.parse::<Ipv6Addr>().is_ok() {
                CidrError::Ipv6
            } else {
                CidrError::Address
            }
        })?;
        let prefix = match prefix {
            Some(prefix) => parse_prefix(prefix)?,
            None => MAX_PREFIX,
        };
        Self::new(address, prefix)
    }

    /// The block of `prefix` bits starting at `address`.
    pub fn new(address: Ipv4Addr, prefix: u8) -> Result<Self, CidrError> {
        if prefix > MAX_PREFIX {
            return Err(CidrError::Prefix);
        }
        Ok(Self {
            text: format!("{address}/{prefix}"),
            address,
            prefix,
        })
    }

    /// The canonical `a.b.c.d/p` text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The address as given, host bits included.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The first address of the block: the given address with the host bits cleared.
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) & self.mask())
    }

    /// The prefix length, 0..=32.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` falls in the block.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.address) & self.mask()
    }

    /// Whether `ip` falls in the block. IPv6 addresses never do, except IPv4-mapped ones
    /// (`::ffff:a.b.c.d`), which dual-stack sockets report for IPv4 clients.
    pub fn contains_ip(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(ip) => self.contains(ip),
            IpAddr::V6(ip) => ip.to_ipv4_mapped().is_some_and(|ip| self.contains(ip)),
        }
    }

    fn mask(&self) -> u32 {
        // Shifting a u32 by 32 overflows; a /0 mask is all zeros.
        u32::MAX
            .checked_shl(u32::from(MAX_PREFIX - self.prefix.min(MAX_PREFIX)))
            .unwrap_or(0)
    }
}

/// A prefix length written in plain decimal: no sign, no leading zero, at most 32.
fn parse_prefix(text: &str) -> Result<u8, CidrError> {
    let plain = matches!(text.len(), 1 | 2)
        && text.bytes().all(|b| b.is_ascii_digit())
        && !(text.len() == 2 && text.starts_with('0'));
    match text.parse::<u8>() {
        Ok(prefix) if plain && prefix <= MAX_PREFIX => Ok(prefix),
        _ => Err(CidrError::Prefix),
    }
}

impl From<Ipv4Addr> for Cidr {
    /// A single address, `/32`.
    fn from(address: Ipv4Addr) -> Self {
        Self {
            text: format!("{address}/{MAX_PREFIX}"),
            address,
            prefix: MAX_PREFIX,
        }
    }
}

super::text_value!(Cidr, CidrError, text);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cidr(s: &str) -> Cidr {
        Cidr::parse(s).unwrap()
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn single_address_is_slash_32() {
        let c = cidr(" 10.0.0.1 ");
        assert_eq!(c.as_str(), "10.0.0.1/32");
        assert_eq!(c.to_string(), "10.0.0.1/32");
        assert_eq!(c.as_ref(), "10.0.0.1/32");
        assert_eq!(c.prefix(), 32);
        assert_eq!(c.network(), ip("10.0.0.1"));
        assert!(c.contains(ip("10.0.0.1")));
        assert!(!c.contains(ip("10.0.0.2")));
        assert_eq!(c, cidr("10.0.0.1/32"));
        assert_eq!(c, Cidr::from(ip("10.0.0.1")));
    }

    #[test]
    fn network_block() {
        let c = cidr("192.168.1.0/24");
        assert_eq!(c.as_str(), "192.168.1.0/24");
        assert_eq!(c.network(), ip("192.168.1.0"));
        assert_eq!(c.prefix(), 24);
        assert!(c.contains(ip("192.168.1.0")));
        assert!(c.contains(ip("192.168.1.255")));
        assert!(!c.contains(ip("192.168.2.0")));
        assert!(!c.contains(ip("192.168.0.255")));
    }

    #[test]
    fn host_bits_are_kept_but_masked_for_matching() {
        let c = cidr("192.168.1.5/24");
        assert_eq!(c.as_str(), "192.168.1.5/24");
        assert_eq!(c.address(), ip("192.168.1.5"));
        assert_eq!(c.network(), ip("192.168.1.0"));
        assert!(c.contains(ip("192.168.1.200")));
        assert!(!c.contains(ip("192.168.3.5")));
    }

    #[test]
    fn edge_prefixes() {
        let all = cidr("0.0.0.0/0");
        assert!(all.contains(ip("0.0.0.0")));
        assert!(all.contains(ip("255.255.255.255")));
        let any = cidr("203.0.113.7/0");
        assert_eq!(any.network(), ip("0.0.0.0"));
        assert!(any.contains(ip("8.8.8.8")));
        let half = cidr("128.0.0.0/1");
        assert!(half.contains(ip("200.1.1.1")));
        assert!(!half.contains(ip("127.255.255.255")));
        let pair = cidr("10.0.0.3/31");
        assert_eq!(pair.network(), ip("10.0.0.2"));
        assert!(pair.contains(ip("10.0.0.2")));
        assert!(!pair.contains(ip("10.0.0.4")));
    }

    #[test]
    fn ipv6_and_mapped_addresses() {
        let c = cidr("10.0.0.0/8");
        assert!(c.contains_ip(IpAddr::V4(ip("10.1.2.3"))));
        assert!(!c.contains_ip(IpAddr::V4(ip("11.1.2.3"))));
        assert!(c.contains_ip("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!c.contains_ip("::ffff:11.1.2.3".parse().unwrap()));
        // IPv4-compatible (deprecated) and plain IPv6 addresses are not IPv4 clients.
        assert!(!c.contains_ip("::10.1.2.3".parse().unwrap()));
        assert!(!c.contains_ip("2001:db8::1".parse().unwrap()));
        assert!(!cidr("0.0.0.0/0").contains_ip("::1".parse().unwrap()));
    }

    #[test]
    fn refuses_each_reason() {
        let cases = [
            ("", CidrError::Empty),
            ("  ", CidrError::Empty),
            ("::1", CidrError::Ipv6),
            ("2001:db8::/32", CidrError::Ipv6),
            ("::ffff:10.0.0.1", CidrError::Ipv6),
            ("010.0.0.1", CidrError::Address),
            ("256.0.0.1", CidrError::Address),
            ("10.0.0", CidrError::Address),
            ("10.0.0.1.1", CidrError::Address),
            ("10.0.0.1 /24", CidrError::Address),
            ("/24", CidrError::Address),
            ("example.it", CidrError::Address),
            ("10.0.0.1/", CidrError::Prefix),
            ("10.0.0.1/33", CidrError::Prefix),
            ("10.0.0.1/255", CidrError::Prefix),
            ("10.0.0.1/+8", CidrError::Prefix),
            ("10.0.0.1/08", CidrError::Prefix),
            ("10.0.0.1/-1", CidrError::Prefix),
            ("10.0.0.1/ 8", CidrError::Prefix),
            ("10.0.0.1/8/8", CidrError::Prefix),
            ("10.0.0.1/255.0.0.0", CidrError::Prefix),
        ];
        for (input, expected) in cases {
            assert_eq!(Cidr::parse(input), Err(expected), "{input}");
        }
        assert_eq!(Cidr::new(ip("10.0.0.1"), 33), Err(CidrError::Prefix));
    }

    #[test]
    fn error_codes_and_messages_are_distinct() {
        let errors = [
            CidrError::Empty,
            CidrError::Ipv6,
            CidrError::Address,
            CidrError::Prefix,
        ];
        let codes: std::collections::HashSet<_> = errors.iter().map(|e| e.code()).collect();
        let messages: std::collections::HashSet<_> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(codes.len(), errors.len());
        assert_eq!(messages.len(), errors.len());
    }

    #[test]
    fn conversions_and_serde() {
        let c: Cidr = "192.168.1.0/24".parse().unwrap();
        assert_eq!(c, Cidr::try_from("192.168.1.0/24".to_owned()).unwrap());
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"192.168.1.0/24\"");
        assert_eq!(serde_json::from_str::<Cidr>(&json).unwrap(), c);
        let bare: Cidr = serde_json::from_str("\"10.0.0.1\"").unwrap();
        assert_eq!(bare.as_str(), "10.0.0.1/32");
        let err = serde_json::from_str::<Cidr>("\"10.0.0.1/33\"").unwrap_err();
        assert!(err.to_string().contains("prefix"), "{err}");
        assert_eq!(String::from(c), "192.168.1.0/24");
    }

    /// Independent reference: two addresses share a block when they agree after dropping the
    /// host bits by division.
    fn reference_contains(address: u32, prefix: u8, ip: u32) -> bool {
        let block = 1u64 << (32 - u32::from(prefix));
        u64::from(address) / block == u64::from(ip) / block
    }

    proptest! {
        #[test]
        fn display_round_trips(address in any::<u32>(), prefix in 0u8..=32) {
            let text = format!("{}/{prefix}", Ipv4Addr::from(address));
            let parsed = Cidr::parse(&text).unwrap();
            prop_assert_eq!(parsed.as_str(), text.as_str());
            prop_assert_eq!(parsed.address(), Ipv4Addr::from(address));
            prop_assert_eq!(parsed.prefix(), prefix);
            let shown = parsed.to_string();
            prop_assert_eq!(Cidr::parse(&shown).unwrap(), parsed.clone());
            let json = serde_json::to_string(&parsed).unwrap();
            prop_assert_eq!(serde_json::from_str::<Cidr>(&json).unwrap(), parsed);
        }

        #[test]
        fn bare_address_round_trips(address in any::<u32>()) {
            let address = Ipv4Addr::from(address);
            let parsed = Cidr::parse(&address.to_string()).unwrap();
            prop_assert_eq!(&parsed, &Cidr::from(address));
            prop_assert_eq!(Cidr::parse(parsed.as_str()).unwrap(), parsed);
        }

        #[test]
        fn contains_matches_reference(address in any::<u32>(), prefix in 0u8..=32, other in any::<u32>()) {
            let c = Cidr::new(Ipv4Addr::from(address), prefix).unwrap();
            prop_assert!(c.contains(Ipv4Addr::from(address)));
            prop_assert!(c.contains(c.network()));
            prop_assert_eq!(c.contains(Ipv4Addr::from(other)), reference_contains(address, prefix, other));
            // Flipping the highest host bit stays inside; flipping the lowest network bit leaves.
            if prefix < 32 {
                let inside = address ^ (1 << (31 - u32::from(prefix)));
                prop_assert!(c.contains(Ipv4Addr::from(inside)));
            }
            if prefix > 0 {
                let outside = address ^ (1 << (32 - u32::from(prefix)));
                prop_assert!(!c.contains(Ipv4Addr::from(outside)));
            }
            let mapped = Ipv4Addr::from(other).to_ipv6_mapped();
            prop_assert_eq!(c.contains_ip(IpAddr::V6(mapped)), c.contains(Ipv4Addr::from(other)));
        }

        #[test]
        fn never_panics(input in "[0-9./: a-f]{0,24}") {
            let _ = Cidr::parse(&input);
        }
    }
}
