//! Any token request body: the form read and the client assertion checked (header and claims)
//! without a panic; an accepted assertion always names a kid and a client.
#![no_main]

use interop::model::token::{Policy, TokenForm, check_assertion, named};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let form = TokenForm::parse(data);
    let _ = named(&form);
    let policy = Policy {
        audience: "auth.uat.interop.pagopa.it/client-assertion".into(),
        strict: data.first().is_some_and(|b| b & 1 == 1),
        max_lifetime_secs: None,
    };
    if let Ok(a) = check_assertion(&form, &policy, 1_800_000_000) {
        assert_eq!(a.kid.len(), 43);
        assert!(!a.client_id.is_empty());
    }
});
