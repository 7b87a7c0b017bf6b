//! Any text given as a fiscal code: parsed or refused, never a panic; what parses prints back
//! as itself parsed again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use platform::types::FiscalCode;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(code) = FiscalCode::parse(text)
    {
        let again = FiscalCode::parse(&code.to_string()).map(|c| c.to_string());
        assert_eq!(again.ok(), Some(code.to_string()));
    }
});
