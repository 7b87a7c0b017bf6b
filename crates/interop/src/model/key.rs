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

use der::{check_rsa, read_rsa_public_key, read_spki};

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

mod der;
#[cfg(test)]
mod tests;
