//! Codice fiscale of a legal person, which is also its partita IVA (Italy).

/// Number of digits, check digit included.
const LEN: usize = 11;

/// Eleven digits whose last one is the correct check digit.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct OrgTaxCode(String);

/// Why a string is not a valid tax code of a legal person.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum OrgTaxCodeError {
    #[error("the tax code is empty")]
    Empty,
    #[error("the tax code must be exactly 11 digits long")]
    Length,
    #[error("the tax code must contain only digits")]
    NotDigits,
    #[error("the tax code check digit is wrong: it should be {expected}")]
    CheckDigit { expected: char },
}

impl OrgTaxCodeError {
    /// Stable identifier of the reason, for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "org_tax_code_empty",
            Self::Length => "org_tax_code_length",
            Self::NotDigits => "org_tax_code_not_digits",
            Self::CheckDigit { .. } => "org_tax_code_check_digit",
        }
    }
}

impl OrgTaxCode {
    /// Parses a tax code, ignoring surrounding whitespace.
    pub fn parse(input: &str) -> Result<Self, OrgTaxCodeError> {
        let code = input.trim();
        if code.is_empty() {
            return Err(OrgTaxCodeError::Empty);
        }
        if code.chars().count() != LEN {
            return Err(OrgTaxCodeError::Length);
        }
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(OrgTaxCodeError::NotDigits);
        }
        let checked = code
            .split_at_checked(LEN - 1)
            .and_then(|(first10, given)| Some((Self::check_digit(first10)?, given)));
        match checked {
            Some((expected, given)) if given.starts_with(expected) => Ok(Self(code.to_owned())),
            Some((expected, _)) => Err(OrgTaxCodeError::CheckDigit { expected }),
            // Unreachable after the digit check; refuse rather than panic.
            None => Err(OrgTaxCodeError::NotDigits),
        }
    }

    /// The check digit for the first ten digits, or `None` when `first10` is not exactly ten
    /// ASCII digits.
    ///
    /// Digits in odd positions (1-based) count as they are; digits in even positions are
    /// doubled, minus 9 when the double exceeds 9. Both maps are permutations of 0..9, so
    /// every single-digit error changes the check digit.
    pub fn check_digit(first10: &str) -> Option<char> {
        if first10.len() != LEN - 1 {
            return None;
        }
        let mut sum = 0u32;
        for (i, c) in first10.chars().enumerate() {
            let digit = c.to_digit(10)?;
            sum += if i % 2 == 0 {
                digit
            } else if digit * 2 > 9 {
                digit * 2 - 9
            } else {
                digit * 2
            };
        }
        char::from_digit((10 - sum % 10) % 10, 10)
    }

    /// The eleven digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::text_value!(OrgTaxCode, OrgTaxCodeError, 0);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PAGOPA: &str = "15376371009";

    /// Independent reference: the textbook Luhn sum over all eleven digits, weights applied
    /// from the right, must be a multiple of 10.
    fn reference_valid(code: &str) -> bool {
        code.len() == 11
            && code.chars().all(|c| c.is_ascii_digit())
            && code
                .chars()
                .rev()
                .map(|c| c.to_digit(10).unwrap())
                .enumerate()
                .map(|(i, d)| {
                    if i % 2 == 1 {
                        (d * 2) / 10 + (d * 2) % 10
                    } else {
                        d
                    }
                })
                .sum::<u32>()
                % 10
                == 0
    }

    fn with_check(first10: &str) -> String {
        (0..10)
            .map(|d| format!("{first10}{d}"))
            .find(|code| reference_valid(code))
            .unwrap()
    }

    #[test]
    fn parses_known_codes() {
        for code in [PAGOPA, "00000000000", "02438750586", "01234567897"] {
            let parsed = OrgTaxCode::parse(code).unwrap();
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.to_string(), code);
            assert_eq!(parsed.as_ref(), code);
        }
    }

    #[test]
    fn check_digit() {
        assert_eq!(OrgTaxCode::check_digit("1537637100"), Some('9'));
        assert_eq!(OrgTaxCode::check_digit("0000000000"), Some('0'));
        assert_eq!(OrgTaxCode::check_digit("0123456789"), Some('7'));
        assert_eq!(OrgTaxCode::check_digit("153763710"), None);
        assert_eq!(OrgTaxCode::check_digit("153763710A"), None);
    }

    #[test]
    fn trims_whitespace() {
        let parsed = OrgTaxCode::parse(" \t15376371009\n").unwrap();
        assert_eq!(parsed.as_str(), PAGOPA);
    }

    #[test]
    fn refuses_each_reason() {
        assert_eq!(OrgTaxCode::parse(""), Err(OrgTaxCodeError::Empty));
        assert_eq!(OrgTaxCode::parse("   "), Err(OrgTaxCodeError::Empty));
        assert_eq!(
            OrgTaxCode::parse("1537637100"),
            Err(OrgTaxCodeError::Length)
        );
        assert_eq!(
            OrgTaxCode::parse("153763710090"),
            Err(OrgTaxCodeError::Length)
        );
        assert_eq!(
            OrgTaxCode::parse("IT15376371009"),
            Err(OrgTaxCodeError::Length)
        );
        assert_eq!(
            OrgTaxCode::parse("RSSMRA85T10A562S"),
            Err(OrgTaxCodeError::Length)
        );
        assert_eq!(
            OrgTaxCode::parse("1537637100A"),
            Err(OrgTaxCodeError::NotDigits)
        );
        assert_eq!(
            OrgTaxCode::parse("15376 71009"),
            Err(OrgTaxCodeError::NotDigits)
        );
        assert_eq!(
            OrgTaxCode::parse("1537637100٩"),
            Err(OrgTaxCodeError::NotDigits)
        );
        assert_eq!(
            OrgTaxCode::parse("15376371008"),
            Err(OrgTaxCodeError::CheckDigit { expected: '9' })
        );
    }

    #[test]
    fn error_codes_and_messages_are_distinct() {
        let errors = [
            OrgTaxCodeError::Empty,
            OrgTaxCodeError::Length,
            OrgTaxCodeError::NotDigits,
            OrgTaxCodeError::CheckDigit { expected: '9' },
        ];
        let codes: std::collections::HashSet<_> = errors.iter().map(|e| e.code()).collect();
        let messages: std::collections::HashSet<_> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(codes.len(), errors.len());
        assert_eq!(messages.len(), errors.len());
        assert!(
            OrgTaxCodeError::CheckDigit { expected: '9' }
                .to_string()
                .contains('9')
        );
    }

    #[test]
    fn conversions_and_serde() {
        let code: OrgTaxCode = PAGOPA.parse().unwrap();
        assert_eq!(code, OrgTaxCode::try_from(PAGOPA.to_owned()).unwrap());
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, format!("\"{PAGOPA}\""));
        assert_eq!(serde_json::from_str::<OrgTaxCode>(&json).unwrap(), code);
        let err = serde_json::from_str::<OrgTaxCode>("\"15376371008\"").unwrap_err();
        assert!(err.to_string().contains("check digit"), "{err}");
        // A number is not accepted: leading zeros would be lost.
        assert!(serde_json::from_str::<OrgTaxCode>("15376371009").is_err());
        assert_eq!(String::from(code), PAGOPA);
    }

    proptest! {
        #[test]
        fn generated_codes_parse(first10 in "[0-9]{10}") {
            let code = with_check(&first10);
            prop_assert_eq!(OrgTaxCode::check_digit(&first10), code.chars().last());
            let parsed = OrgTaxCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
        }

        #[test]
        fn every_single_digit_substitution_is_refused(
            first10 in "[0-9]{10}",
            position in 0usize..11,
            replacement in proptest::char::range('0', '9'),
        ) {
            let code = with_check(&first10);
            let mut chars: Vec<char> = code.chars().collect();
            prop_assume!(chars[position] != replacement);
            chars[position] = replacement;
            let corrupted: String = chars.iter().collect();
            prop_assert!(!reference_valid(&corrupted));
            prop_assert!(
                matches!(OrgTaxCode::parse(&corrupted), Err(OrgTaxCodeError::CheckDigit { .. })),
                "{} accepted", corrupted
            );
        }

        #[test]
        fn agrees_with_reference(code in "[0-9]{11}") {
            prop_assert_eq!(OrgTaxCode::parse(&code).is_ok(), reference_valid(&code));
        }

        #[test]
        fn never_panics(input in "\\PC{0,15}") {
            let _ = OrgTaxCode::parse(&input);
            let _ = OrgTaxCode::check_digit(&input);
        }
    }
}
