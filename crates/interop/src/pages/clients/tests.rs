//! The voucher page's helpers.

use super::client::{key_base64, sentence};
use super::voucher::{ordered_json, sh_quote, shell_script};
use super::*;

#[test]
fn a_pasted_pem_is_encoded_and_base64_is_kept() {
    let pem = "-----BEGIN PUBLIC KEY-----\r\nMIIB\r\n-----END PUBLIC KEY-----\r\n";
    let encoded = key_base64(pem);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&encoded)
        .unwrap();
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"
    );
    assert_eq!(key_base64("  TUlJQg==\n"), "TUlJQg==");
    assert_eq!(kind_of(Some("api")), ClientKind::Api);
    assert_eq!(kind_of(None), ClientKind::Consumer);
    assert_eq!(sentence("the key"), "The key");
}

#[test]
fn the_shell_script_quotes_its_values() {
    assert_eq!(sh_quote("it's"), "'it'\\''s'");
    let script = shell_script("c", "id", "kid", "aud", Some("p"));
    assert!(script.contains("PURPOSE_ID='p'"), "{script}");
    assert!(script.contains("\"purposeId\""), "{script}");
    let api = shell_script("c", "id", "kid", "aud", None);
    assert!(!api.contains("purposeId"), "{api}");
}

#[test]
fn ordered_json_keeps_the_order() {
    let text = ordered_json(&[("kid", json!("k")), ("alg", json!("RS256"))]);
    assert_eq!(text, "{\n  \"kid\": \"k\",\n  \"alg\": \"RS256\"\n}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["alg"], "RS256");
}
