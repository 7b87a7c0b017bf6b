//! A small strict DER reader for RSA public keys: SubjectPublicKeyInfo (`PUBLIC KEY`) and
//! PKCS#1 (`RSA PUBLIC KEY`), with the size and exponent checks, and the names of the other
//! algorithms people upload by mistake.

use super::{KeyRejection, MAX_EXPONENT_BITS, MAX_RSA_BITS, MIN_RSA_BITS};

pub(super) const INTEGER: u8 = 0x02;
pub(super) const BIT_STRING: u8 = 0x03;
pub(super) const NULL: u8 = 0x05;
pub(super) const OID: u8 = 0x06;
pub(super) const SEQUENCE: u8 = 0x30;

/// rsaEncryption, 1.2.840.113549.1.1.1.
pub(super) const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

fn malformed(detail: impl Into<String>) -> KeyRejection {
    KeyRejection::MalformedKey {
        detail: detail.into(),
    }
}

/// A strict DER reader: single-byte tags, definite minimal lengths.
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element: its tag and its content.
    fn element(&mut self) -> Result<(u8, &'a [u8]), KeyRejection> {
        let (&tag, rest) = self
            .rest
            .split_first()
            .ok_or_else(|| malformed("the data ends where an element was expected"))?;
        if tag & 0x1f == 0x1f {
            return Err(malformed("multi-byte DER tags are not expected in a key"));
        }
        let (&first, rest) = rest
            .split_first()
            .ok_or_else(|| malformed("the data ends inside an element's length"))?;
        let (length, rest) = match first {
            0..0x80 => (usize::from(first), rest),
            0x80 => return Err(malformed("an indefinite length (BER, not DER)")),
            _ => {
                let count = usize::from(first & 0x7f);
                if count > 4 {
                    return Err(malformed("an element's length is absurdly large"));
                }
                let (bytes, rest) = rest
                    .split_at_checked(count)
                    .ok_or_else(|| malformed("the data ends inside an element's length"))?;
                if bytes.first() == Some(&0) {
                    return Err(malformed("a length is not in minimal DER form"));
                }
                let length = bytes
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
                if length < 0x80 {
                    return Err(malformed("a length is not in minimal DER form"));
                }
                (length, rest)
            }
        };
        let (content, rest) = rest
            .split_at_checked(length)
            .ok_or_else(|| malformed("the data is truncated: an element goes past its end"))?;
        self.rest = rest;
        Ok((tag, content))
    }

    fn expect(&mut self, tag: u8, what: &str) -> Result<&'a [u8], KeyRejection> {
        match self.element() {
            Ok((found, content)) if found == tag => Ok(content),
            Ok((found, _)) => Err(malformed(format!(
                "expected {what}, found a DER element of tag 0x{found:02x}"
            ))),
            Err(KeyRejection::MalformedKey { detail }) => {
                Err(malformed(format!("while reading {what}: {detail}")))
            }
            Err(other) => Err(other),
        }
    }

    fn finish(&self, what: &str) -> Result<(), KeyRejection> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(malformed(format!("unexpected data after {what}")))
        }
    }
}

/// The magnitude of a non-negative DER INTEGER, without its leading zero (empty for 0).
fn unsigned<'a>(content: &'a [u8], what: &str) -> Result<&'a [u8], KeyRejection> {
    match content {
        [] => Err(malformed(format!("the {what} is an empty INTEGER"))),
        [0, next, ..] if next & 0x80 == 0 => Err(malformed(format!(
            "the {what} is not in minimal DER form (leading zero)"
        ))),
        [0, rest @ ..] => Ok(rest),
        [first, ..] if first & 0x80 != 0 => Err(malformed(format!("the {what} is negative"))),
        _ => Ok(content),
    }
}

/// The bit length of a big-endian magnitude whose first byte is not zero.
fn bit_len(magnitude: &[u8]) -> usize {
    magnitude.split_first().map_or(0, |(first, rest)| {
        rest.len() * 8 + (8 - first.leading_zeros() as usize)
    })
}

/// SubjectPublicKeyInfo: `SEQUENCE { SEQUENCE { OID, params }, BIT STRING }`; the modulus
/// and exponent INTEGER contents of an rsaEncryption key.
pub(super) fn read_spki<'a>(
    der: &'a [u8],
    tag: &str,
) -> Result<(&'a [u8], &'a [u8]), KeyRejection> {
    let mut outer = Der::new(der);
    let body = outer.expect(SEQUENCE, "the SubjectPublicKeyInfo SEQUENCE")?;
    outer.finish("the SubjectPublicKeyInfo")?;
    let mut spki = Der::new(body);
    if spki.peek_tag() == Some(INTEGER) {
        // PKCS#8 PrivateKeyInfo starts with its version.
        return Err(KeyRejection::PrivateKey { tag: tag.into() });
    }
    let algorithm = spki.expect(SEQUENCE, "the AlgorithmIdentifier SEQUENCE")?;
    let key = spki.expect(BIT_STRING, "the subjectPublicKey BIT STRING")?;
    spki.finish("the subjectPublicKey")?;
    let mut algorithm = Der::new(algorithm);
    let oid = algorithm.expect(OID, "the algorithm OID")?;
    if oid != RSA_ENCRYPTION {
        let parameters = if algorithm.is_empty() {
            None
        } else {
            Some(algorithm.element()?)
        };
        return Err(KeyRejection::NotRsa {
            algorithm: algorithm_name(oid, parameters)?,
        });
    }
    if !algorithm.is_empty() {
        let null = algorithm.expect(NULL, "the NULL parameters of rsaEncryption")?;
        if !null.is_empty() {
            return Err(malformed(
                "the NULL parameters of rsaEncryption are not empty",
            ));
        }
        algorithm.finish("the rsaEncryption parameters")?;
    }
    let key = match key.split_first() {
        Some((0, key)) => key,
        Some((unused, _)) => {
            return Err(malformed(format!(
                "the subjectPublicKey BIT STRING has {unused} unused bits"
            )));
        }
        None => return Err(malformed("the subjectPublicKey BIT STRING is empty")),
    };
    read_rsa_public_key(key, tag)
}

/// PKCS#1 RSAPublicKey: `SEQUENCE { INTEGER n, INTEGER e }`.
pub(super) fn read_rsa_public_key<'a>(
    der: &'a [u8],
    tag: &str,
) -> Result<(&'a [u8], &'a [u8]), KeyRejection> {
    let mut outer = Der::new(der);
    let body = outer.expect(SEQUENCE, "the RSAPublicKey SEQUENCE")?;
    outer.finish("the RSAPublicKey")?;
    let mut key = Der::new(body);
    let n = key.expect(INTEGER, "the modulus INTEGER")?;
    let e = key.expect(INTEGER, "the public exponent INTEGER")?;
    if !key.is_empty() {
        if matches!(n, [0] | [1]) {
            // PKCS#1 RSAPrivateKey: version, n, e, d, p, q, ...
            return Err(KeyRejection::PrivateKey { tag: tag.into() });
        }
        return Err(malformed("unexpected data after the public exponent"));
    }
    Ok((n, e))
}

/// Checks the INTEGER contents of an RSA public key; returns the modulus's magnitude, the
/// exponent's magnitude and the bit length of the modulus.
pub(super) fn check_rsa<'a>(
    n: &'a [u8],
    e: &'a [u8],
) -> Result<(&'a [u8], &'a [u8], usize), KeyRejection> {
    let n = unsigned(n, "modulus")?;
    let e = unsigned(e, "public exponent")?;
    let bits = bit_len(n);
    if bits == 0 {
        return Err(malformed("the modulus is zero"));
    }
    if bits > MAX_RSA_BITS {
        return Err(malformed(format!(
            "the modulus is too large: {bits} bits, at most {MAX_RSA_BITS} are supported"
        )));
    }
    if n.last().is_some_and(|b| b & 1 == 0) {
        return Err(malformed("the modulus is even"));
    }
    let e_bits = bit_len(e);
    if e_bits > MAX_EXPONENT_BITS {
        return Err(malformed(format!(
            "the public exponent is too large: {e_bits} bits, at most {MAX_EXPONENT_BITS} are \
             supported (it is usually 65537)"
        )));
    }
    let exponent = e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    if exponent < 3 || exponent % 2 == 0 {
        return Err(malformed(format!(
            "the public exponent is {exponent}; it must be odd and at least 3 (it is usually \
             65537)"
        )));
    }
    if bits < MIN_RSA_BITS {
        return Err(KeyRejection::RsaTooShort { bits });
    }
    Ok((n, e, bits))
}

/// A readable name for a non-RSA SubjectPublicKeyInfo algorithm.
fn algorithm_name(oid: &[u8], parameters: Option<(u8, &[u8])>) -> Result<String, KeyRejection> {
    let dotted = dotted_oid(oid).ok_or_else(|| malformed("the algorithm OID is malformed"))?;
    let name = match dotted.as_str() {
        "1.2.840.10045.2.1" => match parameters {
            Some((OID, curve)) => match dotted_oid(curve).as_deref() {
                Some("1.2.840.10045.3.1.7") => "EC (P-256)".into(),
                Some("1.3.132.0.34") => "EC (P-384)".into(),
                Some("1.3.132.0.35") => "EC (P-521)".into(),
                Some("1.3.132.0.33") => "EC (P-224)".into(),
                Some("1.2.840.10045.3.1.1") => "EC (P-192)".into(),
                Some("1.3.132.0.10") => "EC (secp256k1)".into(),
                Some("1.3.36.3.3.2.8.1.1.7") => "EC (brainpoolP256r1)".into(),
                Some("1.3.36.3.3.2.8.1.1.11") => "EC (brainpoolP384r1)".into(),
                Some("1.3.36.3.3.2.8.1.1.13") => "EC (brainpoolP512r1)".into(),
                Some(other) => format!("EC (curve OID {other})"),
                None => "EC".into(),
            },
            Some(_) => "EC (explicit curve parameters)".into(),
            None => "EC".into(),
        },
        "1.3.101.112" => "Ed25519".into(),
        "1.3.101.113" => "Ed448".into(),
        "1.3.101.110" => "X25519 (a key-agreement key)".into(),
        "1.3.101.111" => "X448 (a key-agreement key)".into(),
        "1.2.840.10040.4.1" => "DSA".into(),
        "1.2.840.113549.1.1.10" => {
            "RSASSA-PSS (an RSA key restricted to PSS signatures, unusable with RS256)".into()
        }
        "1.2.840.10046.2.1" | "1.2.840.113549.1.3.1" => {
            "Diffie-Hellman (a key-agreement key)".into()
        }
        "1.2.156.10197.1.301" => "SM2".into(),
        "2.16.840.1.101.3.4.3.17" => "ML-DSA-44".into(),
        "2.16.840.1.101.3.4.3.18" => "ML-DSA-65".into(),
        "2.16.840.1.101.3.4.3.19" => "ML-DSA-87".into(),
        other => format!("unknown (algorithm OID {other})"),
    };
    Ok(name)
}

/// `1.2.840.113549.1.1.1` from the content of a DER OBJECT IDENTIFIER.
fn dotted_oid(content: &[u8]) -> Option<String> {
    if content.last().is_none_or(|b| b & 0x80 != 0) {
        return None;
    }
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    let mut fresh = true;
    for &b in content {
        if fresh && b == 0x80 {
            return None; // not minimal
        }
        value = value.checked_mul(128)?.checked_add(u64::from(b & 0x7f))?;
        fresh = b & 0x80 == 0;
        if fresh {
            arcs.push(value);
            value = 0;
        }
    }
    let (&first, rest) = arcs.split_first()?;
    let (a, b) = match first {
        0..40 => (0, first),
        40..80 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut dotted = format!("{a}.{b}");
    for arc in rest {
        dotted.push('.');
        dotted.push_str(&arc.to_string());
    }
    Some(dotted)
}
