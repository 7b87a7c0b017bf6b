//! The public keys clients upload: the base64 of a PEM text holding one RSA public key, either
//! `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1), read with a small strict
//! DER reader. Pure: no IO.
//!
//! Every mistake people make has its own [`KeyRejection`], with a stable snake_case code and a
//! message that says what was found and what to do (a private key, a certificate, an OpenSSH
//! key, an EC key, a short RSA key, a PEM text sent without its base64 encoding, ...).
//!
//! The `kid` is the RFC 7638 thumbprint of the key ([`platform::keys::jwk_thumbprint`]), so the
//! same key has the same `kid` whichever of the two PEM forms carried it.

use std::fmt;

use base64::Engine;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// The shortest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// The longest RSA modulus accepted, in bits (the limit of RS256 verification).
pub const MAX_RSA_BITS: usize = 8192;
/// The longest public exponent accepted, in bits (the limit of the RSA verifier).
const MAX_EXPONENT_BITS: usize = 33;

/// Padding optional, as people paste it.
const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// An accepted RSA public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedKey {
    /// RFC 7638 thumbprint (base64url SHA-256, 43 characters).
    pub kid: String,
    /// The modulus, base64url without padding and without leading zero bytes.
    pub n: String,
    /// The public exponent, base64url without padding and without leading zero bytes.
    pub e: String,
    /// The bit length of the modulus.
    pub bits: usize,
    /// The key's PEM block as uploaded (same tag, same DER), re-encoded with `\n` line
    /// endings and 64-character lines, without anything around it.
    pub pem: String,
}

impl UploadedKey {
    /// `{kty:"RSA", kid, use, alg, n, e}`.
    pub fn jwk(&self, use_: &str, alg: &str) -> Value {
        json!({
            "kty": "RSA",
            "kid": self.kid,
            "use": use_,
            "alg": alg,
            "n": self.n,
            "e": self.e,
        })
    }

    /// The modulus, big-endian without leading zeros (for `RsaPublicKeyComponents`).
    pub fn modulus(&self) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(&self.n).unwrap_or_default()
    }

    /// The public exponent, big-endian without leading zeros.
    pub fn exponent(&self) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(&self.e).unwrap_or_default()
    }
}

/// Why an uploaded key is refused: one variant per mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRejection {
    /// Nothing but spaces.
    Empty,
    /// Not base64 (`detail` says where), or a PEM text sent without its base64 encoding.
    NotBase64 { detail: String },
    /// The base64 decodes to bytes that are not UTF-8 text (`found` says what they look like).
    NotUtf8 { found: String },
    /// UTF-8 text with no `-----BEGIN ...-----` line.
    NotPem { found: String },
    /// An OpenSSH public key (`ssh-rsa AAAA...`, `ssh-ed25519 ...`, RFC 4716).
    OpensshFormat { kind: String },
    /// A PEM block that cannot be read (no END line, mismatched tags, bad base64 inside).
    MalformedPem { detail: String },
    /// More than one PEM block.
    SeveralPemBlocks { tags: Vec<String> },
    /// A private key, by its PEM tag or by its content.
    PrivateKey { tag: String },
    /// An X.509 certificate.
    Certificate { tag: String },
    /// A SubjectPublicKeyInfo of another algorithm (`EC (P-256)`, `Ed25519`, ...).
    NotRsa { algorithm: String },
    /// An RSA key shorter than [`MIN_RSA_BITS`].
    RsaTooShort { bits: usize },
    /// A PEM block that is none of the above (`CERTIFICATE REQUEST`, `PGP ...`, ...).
    UnsupportedPem { tag: String },
    /// A `PUBLIC KEY` or `RSA PUBLIC KEY` block whose DER content is not a valid RSA key.
    MalformedKey { detail: String },
}

const MAKE_RSA_KEY: &str = "generate an RSA pair with `openssl genrsa -out key.pem 2048` and \
     upload the base64 of the public key given by `openssl rsa -in key.pem -pubout -out key.pub`";

impl KeyRejection {
    /// A stable snake_case code for APIs and translations.
    pub fn code(&self) -> &'static str {
        match self {
            KeyRejection::Empty => "empty",
            KeyRejection::NotBase64 { .. } => "not_base64",
            KeyRejection::NotUtf8 { .. } => "not_utf8",
            KeyRejection::NotPem { .. } => "not_pem",
            KeyRejection::OpensshFormat { .. } => "openssh_format",
            KeyRejection::MalformedPem { .. } => "malformed_pem",
            KeyRejection::SeveralPemBlocks { .. } => "several_pem_blocks",
            KeyRejection::PrivateKey { .. } => "private_key",
            KeyRejection::Certificate { .. } => "certificate",
            KeyRejection::NotRsa { .. } => "not_rsa",
            KeyRejection::RsaTooShort { .. } => "rsa_too_short",
            KeyRejection::UnsupportedPem { .. } => "unsupported_pem",
            KeyRejection::MalformedKey { .. } => "malformed_key",
        }
    }
}

impl fmt::Display for KeyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyRejection::Empty => write!(
                f,
                "the key is empty: paste the base64 encoding of the PEM file holding the RSA \
                 public key, for example the output of `base64 -w0 key.pub`"
            ),
            KeyRejection::NotBase64 { detail } => write!(
                f,
                "the key is not base64 ({detail}): the whole PEM text, its \
                 `-----BEGIN PUBLIC KEY-----` and `-----END PUBLIC KEY-----` lines included, \
                 must be base64-encoded, for example with `base64 -w0 key.pub`"
            ),
            KeyRejection::NotUtf8 { found } => write!(
                f,
                "the key decodes to bytes that are not UTF-8 text ({found}): encode the PEM \
                 text file, the one starting with `-----BEGIN PUBLIC KEY-----`, for example \
                 with `base64 -w0 key.pub`"
            ),
            KeyRejection::NotPem { found } => write!(
                f,
                "the key decodes to text with no PEM block ({found}): the public key must be a \
                 PEM text starting with `-----BEGIN PUBLIC KEY-----`, encoded in base64 as a \
                 whole, for example with `base64 -w0 key.pub`"
            ),
            KeyRejection::OpensshFormat { kind } => {
                if kind.starts_with("SSH2") {
                    write!(
                        f,
                        "the key is an SSH public key in the RFC 4716 format, not a PEM one: \
                         convert it to the OpenSSH format with `ssh-keygen -i -f key.pub > \
                         key.openssh.pub`, then to PEM with `ssh-keygen -e -m PKCS8 -f \
                         key.openssh.pub`, and upload the base64 of the result"
                    )
                } else if kind == "ssh-rsa" {
                    write!(
                        f,
                        "the key is an OpenSSH public key (`ssh-rsa AAAA...`), not a PEM one: \
                         convert it with `ssh-keygen -e -m PKCS8 -f key.pub` and upload the \
                         base64 of the result"
                    )
                } else {
                    write!(
                        f,
                        "the key is an OpenSSH public key of type `{kind}`, while only RSA keys \
                         in PEM form are accepted (an `ssh-rsa` key could be converted with \
                         `ssh-keygen -e -m PKCS8 -f key.pub`): {MAKE_RSA_KEY}"
                    )
                }
            }
            KeyRejection::MalformedPem { detail } => write!(
                f,
                "the PEM text is damaged ({detail}): upload the public key file unchanged, from \
                 its `-----BEGIN` line to its `-----END` line"
            ),
            KeyRejection::SeveralPemBlocks { tags } => {
                let list = tags
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                write!(
                    f,
                    "the PEM text holds {} blocks ({list}) instead of one: upload each key on \
                     its own, as a single `-----BEGIN PUBLIC KEY-----` block",
                    tags.len()
                )
            }
            KeyRejection::PrivateKey { tag } => {
                write!(
                    f,
                    "this is a private key (in a `-----BEGIN {tag}-----` block): never share a private key, not \
                     even here; it must stay only with the client that signs the assertions. \
                     Upload its public key instead, "
                )?;
                if tag.contains("OPENSSH") {
                    write!(
                        f,
                        "obtained with `ssh-keygen -e -m PKCS8 -f key` (only RSA keys are \
                         accepted)"
                    )
                } else if tag.starts_with("EC ") {
                    write!(f, "but note that EC keys are not accepted: {MAKE_RSA_KEY}")
                } else {
                    write!(
                        f,
                        "obtained with `openssl rsa -in key.pem -pubout -out key.pub`, and \
                         encode it with `base64 -w0 key.pub`"
                    )
                }
            }
            KeyRejection::Certificate { tag } => write!(
                f,
                "this is a certificate (a `-----BEGIN {tag}-----` block), not a public key: extract its public \
                 key with `openssl x509 -in cert.pem -pubkey -noout > key.pub` and upload the \
                 base64 of key.pub"
            ),
            KeyRejection::NotRsa { algorithm } => write!(
                f,
                "the key is of type {algorithm}; only RSA keys (rsaEncryption) of at least \
                 {MIN_RSA_BITS} bits are accepted, since client assertions are signed with \
                 RS256: {MAKE_RSA_KEY}"
            ),
            KeyRejection::RsaTooShort { bits } => write!(
                f,
                "the RSA key is {bits} bits long; at least {MIN_RSA_BITS} bits are required: \
                 {MAKE_RSA_KEY}"
            ),
            KeyRejection::UnsupportedPem { tag } => write!(
                f,
                "the PEM block is `-----BEGIN {tag}-----`, which is not a public key: upload a \
                 `-----BEGIN PUBLIC KEY-----` (or `-----BEGIN RSA PUBLIC KEY-----`) block \
                 holding an RSA public key, such as the output of \
                 `openssl rsa -in key.pem -pubout`"
            ),
            KeyRejection::MalformedKey { detail } => write!(
                f,
                "the key is malformed ({detail}): upload the public key exactly as written by \
                 `openssl rsa -in key.pem -pubout -out key.pub`"
            ),
        }
    }
}

/// Reads `key_base64`: the base64 (standard or URL-safe alphabet, padding optional, ASCII
/// whitespace ignored) of a PEM text holding exactly one RSA public key of at least
/// [`MIN_RSA_BITS`] bits. Text around the PEM block is ignored.
pub fn parse_uploaded_key(key_base64: &str) -> Result<UploadedKey, KeyRejection> {
    let compact: String = key_base64
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(KeyRejection::Empty);
    }
    if let Some(kind) = openssh_kind(key_base64) {
        return Err(KeyRejection::OpensshFormat { kind });
    }
    if key_base64.contains("-----BEGIN") {
        return Err(KeyRejection::NotBase64 {
            detail: "it is the PEM text itself, not its base64 encoding".into(),
        });
    }
    let bytes = decode_base64(&compact).ok_or_else(|| KeyRejection::NotBase64 {
        detail: base64_mistake(key_base64, &compact),
    })?;
    if bytes.is_empty() {
        return Err(KeyRejection::Empty);
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| KeyRejection::NotUtf8 {
        found: describe_binary(&bytes),
    })?;
    read_pem_text(text)
}

fn decode_base64(compact: &str) -> Option<Vec<u8>> {
    STANDARD_LENIENT
        .decode(compact)
        .or_else(|_| URL_SAFE_LENIENT.decode(compact))
        .ok()
}

/// Where a string that does not decode goes wrong.
fn base64_mistake(raw: &str, compact: &str) -> String {
    let stray = raw.chars().enumerate().find(|(_, c)| {
        !(c.is_ascii_alphanumeric()
            || c.is_ascii_whitespace()
            || matches!(c, '+' | '/' | '-' | '_' | '='))
    });
    if let Some((position, c)) = stray {
        return format!(
            "the character {c:?} at position {} is not a base64 character",
            position + 1
        );
    }
    let standard = compact.contains(['+', '/']);
    let url_safe = compact.contains(['-', '_']);
    if standard && url_safe {
        return "it mixes the standard (`+`, `/`) and the URL-safe (`-`, `_`) alphabets".into();
    }
    let data = compact.trim_end_matches('=');
    if data.contains('=') {
        return "there is `=` padding in the middle of the text".into();
    }
    if data.len() % 4 == 1 {
        return format!(
            "{} characters is not a possible base64 length: one is missing or extra, perhaps \
             the text was cut when copied",
            data.len()
        );
    }
    "its end is not a valid base64 ending: perhaps the text was cut when copied".into()
}

/// What undecodable-as-UTF-8 bytes look like.
fn describe_binary(bytes: &[u8]) -> String {
    let utf16 = matches!(bytes, [0xff, 0xfe, ..] | [0xfe, 0xff, ..])
        || (bytes.len() >= 4 && bytes.iter().skip(1).step_by(2).all(|b| *b == 0));
    if utf16 {
        "UTF-16 text, as PowerShell writes by default: save the PEM file as UTF-8 or ASCII \
         first"
            .into()
    } else if bytes.first() == Some(&0x30) {
        "binary DER data: it seems that the binary key was encoded, or that the lines between \
         BEGIN and END were sent alone, without the BEGIN and END lines"
            .into()
    } else {
        "binary data".into()
    }
}

/// The decoded text: exactly one PEM block, which must be an RSA public key.
fn read_pem_text(text: &str) -> Result<UploadedKey, KeyRejection> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.contains("-----BEGIN") {
        if let Some(kind) = openssh_kind(text) {
            return Err(KeyRejection::OpensshFormat { kind });
        }
        return Err(KeyRejection::NotPem {
            found: describe_text(text),
        });
    }
    // Our own reading of the BEGIN lines, so that a private key is named as such even when
    // its block is damaged or comes with others.
    let tags = begin_tags(text);
    if let Some(tag) = tags.iter().find(|t| is_private_tag(t)) {
        return Err(KeyRejection::PrivateKey { tag: tag.clone() });
    }
    if tags.len() > 1 {
        return Err(KeyRejection::SeveralPemBlocks { tags });
    }
    // Blocks that are not keys are named by their tag, whatever their body holds.
    if let Some(tag) = tags.first() {
        if is_certificate_tag(tag) {
            return Err(KeyRejection::Certificate { tag: tag.clone() });
        }
        if !matches!(tag.as_str(), "PUBLIC KEY" | "RSA PUBLIC KEY") {
            return Err(KeyRejection::UnsupportedPem { tag: tag.clone() });
        }
    }
    // Blank lines inside a block would be read as the end of PEM headers: drop them all.
    let cleaned: String = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .flat_map(|l| [l, "\n"])
        .collect();
    let blocks = pem::parse_many(&cleaned).map_err(|e| KeyRejection::MalformedPem {
        detail: pem_error_detail(&e),
    })?;
    match blocks.as_slice() {
        [] => Err(KeyRejection::MalformedPem {
            detail: match tags.first() {
                Some(tag) => format!("the `-----BEGIN {tag}-----` line has no matching END line"),
                None => "a `-----BEGIN` line is not of the form `-----BEGIN ...-----`".into(),
            },
        }),
        [block] => read_block(block),
        many => Err(KeyRejection::SeveralPemBlocks {
            tags: many.iter().map(|b| shown(b.tag())).collect(),
        }),
    }
}

fn read_block(block: &pem::Pem) -> Result<UploadedKey, KeyRejection> {
    let tag = block.tag();
    let (n, e) = match tag {
        "PUBLIC KEY" => read_spki(block.contents(), tag)?,
        "RSA PUBLIC KEY" => read_rsa_public_key(block.contents(), tag)?,
        t if is_private_tag(t) => return Err(KeyRejection::PrivateKey { tag: shown(t) }),
        t if is_certificate_tag(t) => return Err(KeyRejection::Certificate { tag: t.into() }),
        other => return Err(KeyRejection::UnsupportedPem { tag: shown(other) }),
    };
    let (n, e, bits) = check_rsa(n, e)?;
    let n = URL_SAFE_NO_PAD.encode(n);
    let e = URL_SAFE_NO_PAD.encode(e);
    let kid = platform::keys::jwk_thumbprint(&n, &e);
    let pem = pem::encode_config(
        &pem::Pem::new(tag, block.contents().to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    );
    Ok(UploadedKey {
        kid,
        n,
        e,
        bits,
        pem,
    })
}

fn is_private_tag(tag: &str) -> bool {
    tag.ends_with("PRIVATE KEY")
}

fn is_certificate_tag(tag: &str) -> bool {
    matches!(
        tag,
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
    )
}

/// The tags of the `-----BEGIN ...-----` lines, in order.
fn begin_tags(text: &str) -> Vec<String> {
    text.match_indices("-----BEGIN ")
        .filter_map(|(at, marker)| {
            let rest = text.get(at + marker.len()..)?;
            let line = rest.lines().next().unwrap_or_default();
            let tag = line
                .find("-----")
                .and_then(|end| line.get(..end))
                .unwrap_or(line);
            Some(shown(tag.trim()))
        })
        .collect()
}

/// User text fit to be quoted in a message: at most 40 characters, no control characters.
fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(40)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

fn pem_error_detail(error: &pem::PemError) -> String {
    match error {
        pem::PemError::MismatchedTags(begin, end) => format!(
            "the `-----BEGIN {}-----` line ends with `-----END {}-----`",
            shown(begin),
            shown(end)
        ),
        pem::PemError::MissingBeginTag => "a `-----BEGIN-----` line has no tag".into(),
        pem::PemError::MissingEndTag => "an `-----END-----` line has no tag".into(),
        pem::PemError::InvalidData(_) => {
            "the lines between BEGIN and END are not valid base64; perhaps some were cut or \
             changed"
                .into()
        }
        pem::PemError::InvalidHeader(_) => "the block has unexpected header lines".into(),
        pem::PemError::NotUtf8(_)
        | pem::PemError::MalformedFraming
        | pem::PemError::MissingData => "the block is not a well-formed PEM block".into(),
    }
}

/// `ssh-rsa AAAA...` (and the other OpenSSH key types), or an RFC 4716 `---- BEGIN SSH2 PUBLIC
/// KEY ----` block: the name of its type.
fn openssh_kind(text: &str) -> Option<String> {
    let text = text.trim_start();
    if text.starts_with("---- BEGIN SSH2 PUBLIC KEY ----") {
        return Some("SSH2 (RFC 4716)".into());
    }
    let mut words = text.split_ascii_whitespace();
    let kind = words.next()?;
    let blob = words.next()?;
    let ssh_type = matches!(kind, "ssh-rsa" | "ssh-dss" | "ssh-ed25519" | "ssh-ed448")
        || kind.starts_with("ecdsa-sha2-")
        || kind.starts_with("sk-ssh-")
        || kind.starts_with("sk-ecdsa-sha2-");
    // Every OpenSSH key blob starts with the 4-byte length of its type name.
    (ssh_type && blob.starts_with("AAAA")).then(|| shown(kind))
}

/// What a text with no PEM block looks like.
fn describe_text(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return "only spaces and line breaks".into();
    }
    if trimmed.starts_with('{') {
        return "JSON text, perhaps a JWK: upload the PEM form of the key instead".into();
    }
    let compact: String = trimmed
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if let Some(again) = decode_base64(&compact) {
        if again.windows(10).any(|w| w == b"-----BEGIN") {
            return "the base64 of a PEM text: it was base64-encoded twice, encode it once".into();
        }
        if again.first() == Some(&0x30) {
            return "the base64 of a DER key, without the `-----BEGIN PUBLIC KEY-----` and \
                    `-----END PUBLIC KEY-----` lines: include them"
                .into();
        }
    }
    if trimmed.contains("BEGIN ") {
        return "a BEGIN line that is not of the form `-----BEGIN ...-----`".into();
    }
    let preview: String = shown(trimmed);
    format!("text starting with {preview:?}")
}

// --- DER ----------------------------------------------------------------------------------

const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;

/// rsaEncryption, 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

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
fn read_spki<'a>(der: &'a [u8], tag: &str) -> Result<(&'a [u8], &'a [u8]), KeyRejection> {
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
fn read_rsa_public_key<'a>(der: &'a [u8], tag: &str) -> Result<(&'a [u8], &'a [u8]), KeyRejection> {
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
fn check_rsa<'a>(n: &'a [u8], e: &'a [u8]) -> Result<(&'a [u8], &'a [u8], usize), KeyRejection> {
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

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
        RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents,
    };
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};

    use super::*;

    /// One RSA-2048 pair for all tests (generation is slow).
    struct Fixture {
        pkcs8: Vec<u8>,
        spki: Vec<u8>,
        n: Vec<u8>,
        e: Vec<u8>,
    }

    fn rsa() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(|| {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
            let public = pair.public_key();
            Fixture {
                pkcs8: pair.as_der().unwrap().as_ref().to_vec(),
                spki: public.as_der().unwrap().as_ref().to_vec(),
                n: public.modulus().big_endian_without_leading_zero().to_vec(),
                e: public.exponent().big_endian_without_leading_zero().to_vec(),
            }
        })
    }

    // A DER writer for the inputs.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
        out.extend_from_slice(content);
        out
    }

    fn int(magnitude: &[u8]) -> Vec<u8> {
        let mut content = Vec::new();
        if magnitude.first().is_none_or(|b| b & 0x80 != 0) {
            content.push(0);
        }
        content.extend_from_slice(magnitude);
        tlv(INTEGER, &content)
    }

    fn seq(parts: &[&[u8]]) -> Vec<u8> {
        tlv(SEQUENCE, &parts.concat())
    }

    fn oid(content: &[u8]) -> Vec<u8> {
        tlv(OID, content)
    }

    fn pkcs1(n: &[u8], e: &[u8]) -> Vec<u8> {
        seq(&[&int(n), &int(e)])
    }

    fn spki_with(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
        let mut bits = vec![0];
        bits.extend_from_slice(key);
        seq(&[algorithm, &tlv(BIT_STRING, &bits)])
    }

    fn rsa_algorithm() -> Vec<u8> {
        seq(&[&oid(RSA_ENCRYPTION), &[NULL, 0]])
    }

    fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
        spki_with(&rsa_algorithm(), &pkcs1(n, e))
    }

    fn pem_text(tag: &str, der: &[u8]) -> String {
        pem::encode_config(
            &pem::Pem::new(tag, der.to_vec()),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        )
    }

    fn b64(text: impl AsRef<[u8]>) -> String {
        STANDARD.encode(text)
    }

    fn upload(tag: &str, der: &[u8]) -> String {
        b64(pem_text(tag, der))
    }

    fn rejection(input: &str) -> KeyRejection {
        match parse_uploaded_key(input) {
            Ok(key) => panic!("accepted {input:?} as {key:?}"),
            Err(e) => e,
        }
    }

    /// The code, after checking that the message is not empty.
    fn code(input: &str) -> &'static str {
        let e = rejection(input);
        assert!(e.to_string().len() > 40, "{e}");
        e.code()
    }

    fn assert_rejected(input: &str, code: &str, message_parts: &[&str]) {
        let e = rejection(input);
        assert_eq!(e.code(), code, "{e}");
        let message = e.to_string();
        for part in message_parts {
            assert!(message.contains(part), "{part:?} not in {message:?}");
        }
    }

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn bytes(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next() as u8).collect()
        }

        /// Up to `max - 1` bytes.
        fn some_bytes(&mut self, max: usize) -> Vec<u8> {
            let len = self.below(max);
            self.bytes(len)
        }
    }

    /// A random odd modulus of exactly `bits` bits (a multiple of 8).
    fn random_modulus(rng: &mut Rng, bits: usize) -> Vec<u8> {
        let mut n = rng.bytes(bits / 8);
        n[0] |= 0x80;
        *n.last_mut().unwrap() |= 1;
        n
    }

    #[test]
    fn spki_and_pkcs1_give_the_same_key_and_kid() {
        let f = rsa();
        let from_spki = parse_uploaded_key(&upload("PUBLIC KEY", &f.spki)).unwrap();
        let from_pkcs1 = parse_uploaded_key(&upload("RSA PUBLIC KEY", &pkcs1(&f.n, &f.e))).unwrap();
        assert_eq!(from_spki.kid, from_pkcs1.kid);
        assert_eq!(from_spki.kid.len(), 43);
        assert_eq!(from_spki.bits, 2048);
        assert_eq!(from_pkcs1.bits, 2048);
        assert_eq!(from_spki.e, "AQAB");
        assert_eq!(from_spki.n, URL_SAFE_NO_PAD.encode(&f.n));
        assert_eq!(from_spki.n, from_pkcs1.n);
        assert_eq!(from_spki.modulus(), f.n);
        assert_eq!(from_spki.exponent(), f.e);

        let jwk = from_spki.jwk("sig", "RS256");
        assert_eq!(
            jwk,
            json!({"kty": "RSA", "kid": from_spki.kid, "use": "sig", "alg": "RS256",
                   "n": from_spki.n, "e": "AQAB"})
        );
        let n = jwk["n"].as_str().unwrap();
        let e = jwk["e"].as_str().unwrap();
        assert_eq!(platform::keys::jwk_thumbprint(n, e), from_spki.kid);

        // The PEM kept is the block as uploaded, normalised.
        assert_eq!(from_spki.pem, pem_text("PUBLIC KEY", &f.spki));
        assert!(from_spki.pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(
            from_pkcs1
                .pem
                .starts_with("-----BEGIN RSA PUBLIC KEY-----\n")
        );
        assert!(!from_spki.pem.contains('\r'));
        assert_eq!(parse_uploaded_key(&b64(&from_spki.pem)).unwrap(), from_spki);
        assert_eq!(
            parse_uploaded_key(&b64(&from_pkcs1.pem)).unwrap(),
            from_pkcs1
        );
    }

    #[test]
    fn modulus_and_exponent_verify_the_key_pair_signatures() {
        let f = rsa();
        let key = parse_uploaded_key(&upload("PUBLIC KEY", &f.spki)).unwrap();
        let pair = RsaKeyPair::from_pkcs8(&f.pkcs8).unwrap();
        let mut signature = vec![0; pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        pair.sign(&RSA_PKCS1_SHA256, &rng, b"assertion", &mut signature)
            .unwrap();
        let public = RsaPublicKeyComponents {
            n: key.modulus(),
            e: key.exponent(),
        };
        public
            .verify(&RSA_PKCS1_2048_8192_SHA256, b"assertion", &signature)
            .unwrap();
        assert!(
            public
                .verify(&RSA_PKCS1_2048_8192_SHA256, b"other", &signature)
                .is_err()
        );
    }

    #[test]
    fn the_usual_ways_of_encoding_are_accepted() {
        let f = rsa();
        let pem = pem_text("PUBLIC KEY", &f.spki);
        let expected = parse_uploaded_key(&b64(&pem)).unwrap();
        let crlf = pem.replace('\n', "\r\n");
        let wrapped = |s: &str, eol: &str| {
            s.as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(eol)
        };
        // The base64 of a PEM text never holds `+` or `/` (its characters never give sextets
        // 62 or 63), so the URL-safe alphabet only shows with other text around the block.
        let url_safe = URL_SAFE.encode(format!("Key? ~~~ >>>\n{pem}"));
        assert!(url_safe.contains(['-', '_']), "{url_safe}");
        let inputs = [
            b64(&pem).trim_end_matches('=').to_string(),
            url_safe.clone(),
            url_safe.trim_end_matches('=').to_string(),
            wrapped(&b64(&pem), "\n") + "\n",
            wrapped(&b64(&pem), "\r\n"),
            format!("  \t{}\n\n", b64(&pem)),
            b64(&crlf),
            b64(format!("{pem}\n\n\n")),
            b64(format!("\u{feff}{pem}")),
            b64(format!("Public key of the test client\n{pem}\r\n  \n")),
            // A blank line inside the block, as some editors leave.
            b64(pem.replacen('\n', "\n\n", 2)),
            b64(pem.replace("\n-----END", "\n\n-----END")),
        ];
        for input in inputs {
            assert_eq!(
                parse_uploaded_key(&input).as_ref(),
                Ok(&expected),
                "{input}"
            );
        }
    }

    #[test]
    fn other_sizes_and_spki_without_parameters_are_accepted() {
        let mut rng = Rng(7);
        let f = rsa();
        // Parameters absent instead of NULL.
        let spki = spki_with(&seq(&[&oid(RSA_ENCRYPTION)]), &pkcs1(&f.n, &f.e));
        let key = parse_uploaded_key(&upload("PUBLIC KEY", &spki)).unwrap();
        assert_eq!(
            key.kid,
            parse_uploaded_key(&upload("PUBLIC KEY", &f.spki))
                .unwrap()
                .kid
        );
        for bits in [3072, 4096, 8192] {
            let n = random_modulus(&mut rng, bits);
            let key = parse_uploaded_key(&upload("PUBLIC KEY", &rsa_spki(&n, &[3]))).unwrap();
            assert_eq!(key.bits, bits);
            assert_eq!(key.e, "Aw");
            assert_eq!(key.modulus(), n);
        }
        // A 33-bit exponent is the largest accepted.
        let n = random_modulus(&mut rng, 2048);
        let key =
            parse_uploaded_key(&upload("RSA PUBLIC KEY", &pkcs1(&n, &[1, 0, 0, 0, 1]))).unwrap();
        assert_eq!(key.exponent(), vec![1, 0, 0, 0, 1]);
    }

    #[test]
    fn empty_input_is_refused() {
        assert_eq!(code(""), "empty");
        assert_eq!(code(" \n\t\r\n"), "empty");
    }

    #[test]
    fn text_that_is_not_base64_is_refused() {
        assert_rejected(
            "not base64!",
            "not_base64",
            &["'!'", "position 11", "base64 -w0 key.pub"],
        );
        let pem = pem_text("PUBLIC KEY", &rsa().spki);
        assert_rejected(
            &pem,
            "not_base64",
            &["PEM text itself", "base64 -w0 key.pub"],
        );
        assert_rejected("ab+c/d-e_fgh", "not_base64", &["alphabets"]);
        assert_rejected("abcde", "not_base64", &["5 characters"]);
        assert_rejected("ab=cdefg", "not_base64", &["middle"]);
        assert_rejected("àbcd", "not_base64", &["'à'", "position 1"]);
    }

    #[test]
    fn binary_content_is_refused() {
        let f = rsa();
        // The DER itself, encoded.
        assert_rejected(&b64(&f.spki), "not_utf8", &["DER"]);
        // Only the lines between BEGIN and END, pasted as they are.
        let pem = pem_text("PUBLIC KEY", &f.spki);
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert_rejected(&body, "not_utf8", &["BEGIN and END"]);
        // A PEM file saved as UTF-16 by PowerShell.
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend(pem.encode_utf16().flat_map(u16::to_le_bytes));
        assert_rejected(&b64(&utf16), "not_utf8", &["UTF-16"]);
        assert_rejected(&b64([0xc3, 0x28, 0xa0, 0xa1]), "not_utf8", &["binary data"]);
    }

    #[test]
    fn text_without_pem_block_is_refused() {
        let f = rsa();
        assert_rejected(&b64("hello world\n"), "not_pem", &["\"hello world\""]);
        assert_rejected(&b64("\n\n"), "not_pem", &["only spaces"]);
        assert_rejected(
            &b64(r#"{"kty":"RSA","n":"abc","e":"AQAB"}"#),
            "not_pem",
            &["JWK"],
        );
        let pem = pem_text("PUBLIC KEY", &f.spki);
        assert_rejected(&b64(b64(&pem)), "not_pem", &["twice"]);
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert_rejected(&b64(&body), "not_pem", &["without the `-----BEGIN"]);
        let four_dashes = pem.replace("-----", "----");
        assert_rejected(&b64(four_dashes), "not_pem", &["BEGIN line"]);
    }

    #[test]
    fn openssh_keys_are_named() {
        let ssh_rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7vbqajDw4o6gJy8UtmIbkcpnkO3Kwc4qsEnSZp/TR+fQi62F79RHWmwKOtFmwteURgLbj7D/WGuNLGOfa/2vse3G2Z+qAQLMRIG+6f9EalNXkQbMdu2n4P4VZxJ7bjLVTEHmF0HZtJTdTkjQ9IiLC5h9bM7IqJNkdOlX4dVfc/kzIQKOZfNeWWlvzrwMHSw7QTdGzMoGCcSS1FiHrUpTbC5Mw6bq2Q+qZ3EZj9lE8YgH6DwWp4Y1fA0LK7B9M0IBpEeQXZx0uDrLjYCi6iUE9M9ZIcaUSFEn0Ulw2W6/XlWm4X6zLA9T9H5f1q3ceGtmH8qAXw8gCXbdJ user@host\n";
        assert_rejected(
            &b64(ssh_rsa),
            "openssh_format",
            &["`ssh-rsa AAAA...`", "ssh-keygen -e -m PKCS8 -f key.pub"],
        );
        // Pasted without the base64 step.
        assert_rejected(ssh_rsa, "openssh_format", &["`ssh-rsa AAAA...`"]);
        assert_rejected(
            &b64(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@pc",
            ),
            "openssh_format",
            &["`ssh-ed25519`", "only RSA keys", "openssl genrsa"],
        );
        assert_rejected(
            &b64("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= x"),
            "openssh_format",
            &["`ecdsa-sha2-nistp256`"],
        );
        assert_rejected(
            &b64(
                "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"me\"\nAAAAB3NzaC1yc2E=\n---- END SSH2 PUBLIC KEY ----\n",
            ),
            "openssh_format",
            &["RFC 4716", "ssh-keygen -i -f key.pub"],
        );
    }

    #[test]
    fn several_blocks_are_refused() {
        let f = rsa();
        let pem = pem_text("PUBLIC KEY", &f.spki);
        let e = rejection(&b64(format!("{pem}\n{pem}")));
        assert_eq!(
            e,
            KeyRejection::SeveralPemBlocks {
                tags: vec!["PUBLIC KEY".into(), "PUBLIC KEY".into()]
            }
        );
        assert!(e.to_string().contains("2 blocks"), "{e}");
        // Even when the second one is cut.
        let cut = &pem[..pem.len() / 2];
        assert_eq!(code(&b64(format!("{pem}{cut}"))), "several_pem_blocks");
        let certificate = pem_text("CERTIFICATE", &seq(&[&seq(&[])]));
        assert_eq!(
            code(&b64(format!("{certificate}{pem}"))),
            "several_pem_blocks"
        );
    }

    #[test]
    fn private_keys_are_refused_with_a_warning() {
        let f = rsa();
        let never = "never share a private key";
        assert_rejected(
            &upload("PRIVATE KEY", &f.pkcs8),
            "private_key",
            &[
                never,
                "openssl rsa -in key.pem -pubout",
                "`-----BEGIN PRIVATE KEY-----`",
            ],
        );
        for tag in ["RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"] {
            assert_rejected(
                &upload(tag, &f.pkcs8),
                "private_key",
                &[never, "openssl rsa -in key.pem -pubout"],
            );
        }
        assert_rejected(
            &upload("EC PRIVATE KEY", &seq(&[&int(&[1])])),
            "private_key",
            &[never, "EC keys are not accepted"],
        );
        assert_rejected(
            &upload("OPENSSH PRIVATE KEY", b"openssh-key-v1\0rest"),
            "private_key",
            &[never, "ssh-keygen -e -m PKCS8 -f key"],
        );
        // Next to its public key, or in a damaged block: still named.
        let public = pem_text("PUBLIC KEY", &f.spki);
        let private = pem_text("PRIVATE KEY", &f.pkcs8);
        assert_eq!(code(&b64(format!("{private}{public}"))), "private_key");
        assert_eq!(code(&b64(format!("{public}{private}"))), "private_key");
        let damaged = private.replacen("MII", "!!!", 1);
        assert_eq!(code(&b64(damaged)), "private_key");
        // Mislabelled: PKCS#8 and PKCS#1 private keys in public-key blocks.
        assert_eq!(code(&upload("PUBLIC KEY", &f.pkcs8)), "private_key");
        let one = [1u8];
        let rsa_private = seq(&[
            &int(&[0]),
            &int(&f.n),
            &int(&f.e),
            &int(&f.n),
            &int(&one),
            &int(&one),
            &int(&one),
            &int(&one),
            &int(&one),
        ]);
        assert_eq!(code(&upload("RSA PUBLIC KEY", &rsa_private)), "private_key");
    }

    #[test]
    fn certificates_are_refused_with_the_extraction_command() {
        let fake = seq(&[&seq(&[&int(&[2]), &int(&[0x12, 0x34])]), &seq(&[])]);
        assert_rejected(
            &upload("CERTIFICATE", &fake),
            "certificate",
            &["openssl x509 -in cert.pem -pubkey -noout"],
        );
        assert_eq!(
            code(&b64(
                "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
            )),
            "certificate"
        );
    }

    #[test]
    fn other_algorithms_are_named() {
        let p256 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let der = p256.public_key().as_der().unwrap();
        assert_eq!(
            rejection(&upload("PUBLIC KEY", der.as_ref())),
            KeyRejection::NotRsa {
                algorithm: "EC (P-256)".into()
            }
        );
        assert_rejected(
            &upload("PUBLIC KEY", der.as_ref()),
            "not_rsa",
            &["EC (P-256)", "openssl genrsa -out key.pem 2048", "RS256"],
        );
        let p384 = EcdsaKeyPair::generate(&ECDSA_P384_SHA384_ASN1_SIGNING).unwrap();
        let der = p384.public_key().as_der().unwrap();
        assert_rejected(
            &upload("PUBLIC KEY", der.as_ref()),
            "not_rsa",
            &["EC (P-384)"],
        );

        let mut rng = Rng(3);
        let ed25519 = spki_with(&seq(&[&oid(&[0x2b, 0x65, 0x70])]), &rng.bytes(32));
        assert_rejected(&upload("PUBLIC KEY", &ed25519), "not_rsa", &["Ed25519"]);
        let unknown = spki_with(&seq(&[&oid(&[0x2a, 0x03, 0x04]), &[NULL, 0]]), &[1]);
        assert_rejected(&upload("PUBLIC KEY", &unknown), "not_rsa", &["OID 1.2.3.4"]);
        let unknown_curve = spki_with(
            &seq(&[
                &oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
                &oid(&[0x2b, 0x81, 0x04, 0x00, 0x7f]),
            ]),
            &[4, 1, 2],
        );
        assert_rejected(
            &upload("PUBLIC KEY", &unknown_curve),
            "not_rsa",
            &["EC (curve OID 1.3.132.0.127)"],
        );
        let f = rsa();
        let pss = spki_with(
            &seq(&[&oid(&[
                0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
            ])]),
            &pkcs1(&f.n, &f.e),
        );
        assert_rejected(&upload("PUBLIC KEY", &pss), "not_rsa", &["RSASSA-PSS"]);
    }

    #[test]
    fn short_rsa_keys_are_refused_with_their_size() {
        let mut rng = Rng(11);
        let n = random_modulus(&mut rng, 1024);
        let e = [1, 0, 1];
        assert_eq!(
            rejection(&upload("PUBLIC KEY", &rsa_spki(&n, &e))),
            KeyRejection::RsaTooShort { bits: 1024 }
        );
        assert_rejected(
            &upload("RSA PUBLIC KEY", &pkcs1(&n, &e)),
            "rsa_too_short",
            &["1024 bits", "at least 2048", "openssl genrsa"],
        );
        // 2047 bits: one short.
        let mut n = random_modulus(&mut rng, 2048);
        n[0] = 0x7f;
        assert_eq!(
            rejection(&upload("PUBLIC KEY", &rsa_spki(&n, &e))),
            KeyRejection::RsaTooShort { bits: 2047 }
        );
    }

    #[test]
    fn other_pem_blocks_are_refused_by_their_tag() {
        let csr = pem_text("CERTIFICATE REQUEST", &seq(&[]));
        assert_rejected(
            &b64(csr),
            "unsupported_pem",
            &["-----BEGIN CERTIFICATE REQUEST-----", "PUBLIC KEY"],
        );
        let pgp = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: x\n\nmQINBF\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n";
        assert_rejected(&b64(pgp), "unsupported_pem", &["PGP PUBLIC KEY BLOCK"]);
    }

    #[test]
    fn damaged_pem_blocks_are_refused() {
        let pem = pem_text("PUBLIC KEY", &rsa().spki);
        let no_end = pem.split("-----END").next().unwrap().to_string();
        assert_rejected(&b64(no_end), "malformed_pem", &["no matching END"]);
        let mismatched = pem.replace("END PUBLIC KEY", "END RSA PUBLIC KEY");
        assert_rejected(
            &b64(mismatched),
            "malformed_pem",
            &["`-----END RSA PUBLIC KEY-----`"],
        );
        let bad_body = pem.replacen("MII", "M!I", 1);
        assert_rejected(&b64(bad_body), "malformed_pem", &["not valid base64"]);
    }

    #[test]
    fn malformed_rsa_keys_are_refused() {
        let f = rsa();
        let mut rng = Rng(5);
        let n = &f.n;
        let e = &f.e;
        let key = pkcs1(n, e);
        let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("PUBLIC KEY", Vec::new(), "ends"),
            (
                "PUBLIC KEY",
                f.spki[..f.spki.len() - 10].to_vec(),
                "truncated",
            ),
            ("PUBLIC KEY", [f.spki.clone(), vec![0]].concat(), "after"),
            (
                "RSA PUBLIC KEY",
                [key.clone(), vec![5, 0]].concat(),
                "after",
            ),
            ("RSA PUBLIC KEY", pkcs1(n, &[4]), "is 4"),
            ("RSA PUBLIC KEY", pkcs1(n, &[1, 0, 0]), "is 65536"),
            ("RSA PUBLIC KEY", pkcs1(n, &[1]), "is 1"),
            (
                "RSA PUBLIC KEY",
                seq(&[&int(n), &tlv(INTEGER, &[])]),
                "empty INTEGER",
            ),
            ("RSA PUBLIC KEY", pkcs1(n, &[1, 0, 0, 0, 0, 1]), "too large"),
            ("RSA PUBLIC KEY", pkcs1(&[], e), "zero"),
            ("RSA PUBLIC KEY", seq(&[&int(n)]), "ends"),
            (
                "RSA PUBLIC KEY",
                seq(&[&tlv(INTEGER, n), &int(e)]),
                "negative",
            ),
            (
                "RSA PUBLIC KEY",
                seq(&[&tlv(INTEGER, &[0, 1, 2]), &int(e)]),
                "minimal",
            ),
            (
                "RSA PUBLIC KEY",
                vec![0x30, 0x80, 2, 1, 3, 2, 1, 3, 0, 0],
                "indefinite",
            ),
            (
                "RSA PUBLIC KEY",
                vec![0x30, 0x81, 6, 2, 1, 3, 2, 1, 3],
                "minimal",
            ),
            ("RSA PUBLIC KEY", vec![0x30, 0x85, 1, 0, 0, 0, 0], "large"),
            ("RSA PUBLIC KEY", vec![0x3f, 0x01, 0], "multi-byte"),
            (
                "PUBLIC KEY",
                f.spki[1..].to_vec(),
                "expected the SubjectPublicKeyInfo",
            ),
            (
                "PUBLIC KEY",
                spki_with(&seq(&[&oid(RSA_ENCRYPTION), &oid(&[0x2a])]), &key),
                "NULL",
            ),
            (
                "PUBLIC KEY",
                spki_with(&seq(&[&oid(RSA_ENCRYPTION), &[NULL, 1, 0]]), &key),
                "not empty",
            ),
            (
                "PUBLIC KEY",
                seq(&[
                    &rsa_algorithm(),
                    &tlv(BIT_STRING, &[[1].as_slice(), &key].concat()),
                ]),
                "unused bits",
            ),
            (
                "PUBLIC KEY",
                seq(&[&rsa_algorithm(), &tlv(BIT_STRING, &[])]),
                "BIT STRING is empty",
            ),
            (
                "PUBLIC KEY",
                spki_with(&seq(&[&oid(&[0x2a, 0x86])]), &key),
                "OID is malformed",
            ),
        ];
        let even = {
            let mut n = n.clone();
            *n.last_mut().unwrap() &= 0xfe;
            n
        };
        cases.push(("RSA PUBLIC KEY", pkcs1(&even, e), "even"));
        let huge = random_modulus(&mut rng, 8200);
        cases.push(("PUBLIC KEY", rsa_spki(&huge, e), "too large: 8200 bits"));
        for (tag, der, detail) in cases {
            let rejection = rejection(&upload(tag, &der));
            assert_eq!(
                rejection.code(),
                "malformed_key",
                "{tag} {der:02x?}: {rejection}"
            );
            assert!(
                rejection.to_string().contains(detail),
                "{detail:?} not in {rejection}"
            );
        }
    }

    #[test]
    fn codes_are_distinct_snake_case_and_messages_helpful() {
        let all = [
            KeyRejection::Empty,
            KeyRejection::NotBase64 { detail: "x".into() },
            KeyRejection::NotUtf8 { found: "x".into() },
            KeyRejection::NotPem { found: "x".into() },
            KeyRejection::OpensshFormat {
                kind: "ssh-rsa".into(),
            },
            KeyRejection::MalformedPem { detail: "x".into() },
            KeyRejection::SeveralPemBlocks {
                tags: vec!["A".into(), "B".into()],
            },
            KeyRejection::PrivateKey {
                tag: "PRIVATE KEY".into(),
            },
            KeyRejection::Certificate {
                tag: "CERTIFICATE".into(),
            },
            KeyRejection::NotRsa {
                algorithm: "Ed25519".into(),
            },
            KeyRejection::RsaTooShort { bits: 1024 },
            KeyRejection::UnsupportedPem { tag: "X".into() },
            KeyRejection::MalformedKey { detail: "x".into() },
        ];
        let mut codes: Vec<_> = all.iter().map(KeyRejection::code).collect();
        for c in &codes {
            assert!(
                c.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{c}"
            );
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for rejection in &all {
            let message = rejection.to_string();
            assert!(message.contains('`'), "no command or example in {message}");
        }
    }

    #[test]
    fn never_panics_on_random_or_damaged_input() {
        let f = rsa();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let pkcs1_der = pkcs1(&f.n, &f.e);
        // Every truncation of a valid key is refused.
        for der in [&f.spki, &pkcs1_der] {
            let tag = if der == &f.spki {
                "PUBLIC KEY"
            } else {
                "RSA PUBLIC KEY"
            };
            for len in 0..der.len() {
                assert!(parse_uploaded_key(&upload(tag, &der[..len])).is_err());
            }
        }
        let valid = upload("PUBLIC KEY", &f.spki);
        for len in 0..valid.len() {
            let _ = parse_uploaded_key(&valid[..len]);
        }
        let alphabet: Vec<char> = "ABCDEFabcdef0189+/-_= \n\t!é-----BEGIN PUBLIC KEY"
            .chars()
            .collect();
        for round in 0..4000 {
            let input = match round % 5 {
                0 => b64(rng.some_bytes(300)),
                1 => (0..rng.below(200))
                    .map(|_| alphabet[rng.below(alphabet.len())])
                    .collect(),
                2 => {
                    let mut der = if round % 2 == 0 {
                        f.spki.clone()
                    } else {
                        pkcs1_der.clone()
                    };
                    for _ in 0..=rng.below(3) {
                        let at = rng.below(der.len());
                        der[at] = rng.next() as u8;
                    }
                    let tag = if round % 2 == 0 {
                        "PUBLIC KEY"
                    } else {
                        "RSA PUBLIC KEY"
                    };
                    upload(tag, &der)
                }
                3 => upload("PUBLIC KEY", &rng.some_bytes(600)),
                _ => {
                    // Random DER-looking bytes: tags and lengths of the kinds we read.
                    let mut der = Vec::new();
                    for _ in 0..rng.below(12) {
                        let tag =
                            [SEQUENCE, INTEGER, BIT_STRING, NULL, OID, 0x80, 0x1f][rng.below(7)];
                        der.push(tag);
                        der.push(
                            [0x00, 0x01, 0x05, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0xff]
                                [rng.below(10)],
                        );
                        der.extend(rng.some_bytes(6));
                    }
                    upload(
                        if round % 2 == 0 {
                            "PUBLIC KEY"
                        } else {
                            "RSA PUBLIC KEY"
                        },
                        &der,
                    )
                }
            };
            if let Err(e) = parse_uploaded_key(&input) {
                assert!(!e.to_string().is_empty());
            }
        }
    }
}
