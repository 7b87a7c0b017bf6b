//! The uploaded keys' checks, one mistake at a time.

use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

use super::der::{BIT_STRING, INTEGER, NULL, OID, RSA_ENCRYPTION, SEQUENCE};
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
    let key = parse_uploaded_key(&upload("RSA PUBLIC KEY", &pkcs1(&n, &[1, 0, 0, 0, 1]))).unwrap();
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
                    let tag = [SEQUENCE, INTEGER, BIT_STRING, NULL, OID, 0x80, 0x1f][rng.below(7)];
                    der.push(tag);
                    der.push(
                        [0x00, 0x01, 0x05, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0xff][rng.below(10)],
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
