//! Any uploaded key text: a key with a 43-character kid and at least 2048 bits, or one of the
//! named rejections; never a panic.
#![no_main]

use interop::model::key::{MIN_RSA_BITS, parse_uploaded_key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_uploaded_key(&text) {
        Ok(key) => {
            assert_eq!(key.kid.len(), 43);
            assert!(key.bits >= MIN_RSA_BITS);
        }
        Err(rejection) => assert!(!rejection.code().is_empty()),
    }
});
