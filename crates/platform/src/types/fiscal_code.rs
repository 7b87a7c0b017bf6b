//! Codice fiscale of a natural person (Italy).

/// Length of a codice fiscale of a natural person.
const LEN: usize = 16;

/// Letters that stand for the digits 0..9 in the digit positions of an omocode.
const OMOCODE_LETTERS: &[u8; 10] = b"LMNPQRSTUV";

/// Letters that encode the month of birth (January..December).
const MONTH_LETTERS: &[u8; 12] = b"ABCDEHLMPRST";

/// Zero-based positions that hold a digit, or its omocodia letter.
const DIGIT_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];

/// Values of the letters A..Z in odd (1-based) positions ("dispari" table). The digits 0..9
/// have the values of the letters A..J.
const ODD_VALUES: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

/// A syntactically valid codice fiscale with a correct check character, stored upper case.
///
/// Omocodia is accepted: a code whose digits were replaced by the letters L..V is valid when
/// its check character matches the characters as written.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct FiscalCode(String);

/// Why a string is not a valid codice fiscale.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum FiscalCodeError {
    #[error("the fiscal code is empty")]
    Empty,
    #[error("the fiscal code must be exactly 16 characters long")]
    Length,
    #[error("the fiscal code has an unexpected character at position {position}")]
    Format {
        /// 1-based position of the first character that does not fit the pattern.
        position: usize,
    },
    #[error("the fiscal code check character is wrong: it should be {expected}")]
    CheckCharacter { expected: char },
}

impl FiscalCodeError {
    /// Stable identifier of the reason, for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "fiscal_code_empty",
            Self::Length => "fiscal_code_length",
            Self::Format { .. } => "fiscal_code_format",
            Self::CheckCharacter { .. } => "fiscal_code_check_character",
        }
    }
}

impl FiscalCode {
    /// Parses a codice fiscale, ignoring surrounding whitespace and letter case.
    pub fn parse(input: &str) -> Result<Self, FiscalCodeError> {
        let code = input.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(FiscalCodeError::Empty);
        }
        if code.chars().count() != LEN {
            return Err(FiscalCodeError::Length);
        }
        if let Some(position) = first_format_error(&code) {
            return Err(FiscalCodeError::Format { position });
        }
        let checked = code
            .split_at_checked(LEN - 1)
            .and_then(|(first15, given)| Some((Self::check_character(first15)?, given)));
        match checked {
            Some((expected, given)) if given.starts_with(expected) => Ok(Self(code)),
            Some((expected, _)) => Err(FiscalCodeError::CheckCharacter { expected }),
            // Unreachable after the format check; refuse rather than panic.
            None => Err(FiscalCodeError::Format { position: 1 }),
        }
    }

    /// Whether `s` has the shape of a codice fiscale, without verifying the check character.
    ///
    /// Needed for codes such as the sandbox `AAAAAA00A00A000A`, which have no valid check
    /// character. Like [`FiscalCode::parse`] it ignores surrounding whitespace and case.
    pub fn is_valid_format(s: &str) -> bool {
        let code = s.trim().to_ascii_uppercase();
        code.len() == LEN && first_format_error(&code).is_none()
    }

    /// The code, upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether some digit was replaced by a letter (omocodia).
    pub fn is_omocode(&self) -> bool {
        let bytes = self.0.as_bytes();
        DIGIT_POSITIONS
            .iter()
            .any(|&i| bytes.get(i).is_some_and(u8::is_ascii_alphabetic))
    }

    /// The three letters derived from the surname (characters 1..3).
    pub fn surname_code(&self) -> &str {
        self.0.get(0..3).unwrap_or_default()
    }

    /// The three letters derived from the given name (characters 4..6).
    pub fn name_code(&self) -> &str {
        self.0.get(3..6).unwrap_or_default()
    }

    /// Whether `surname` and `name` produce the first six letters of this code.
    pub fn matches_person(&self, surname: &str, name: &str) -> bool {
        Self::surname_code_of(surname) == self.surname_code()
            && Self::name_code_of(name) == self.name_code()
    }

    /// The three letters a surname contributes: consonants, then vowels, then `X` padding.
    pub fn surname_code_of(surname: &str) -> String {
        let (consonants, vowels) = split_letters(surname);
        three_letters(&consonants, &vowels)
    }

    /// The three letters a given name contributes: like the surname, except that a name with
    /// four or more consonants takes the first, third and fourth.
    pub fn name_code_of(name: &str) -> String {
        let (consonants, vowels) = split_letters(name);
        match consonants.as_slice() {
            [first, _, third, fourth, ..] => [*first, *third, *fourth].iter().collect(),
            _ => three_letters(&consonants, &vowels),
        }
    }

    /// The check character for the first 15 characters of a code (case-insensitive), or
    /// `None` when `first15` is not exactly 15 ASCII letters or digits.
    pub fn check_character(first15: &str) -> Option<char> {
        if first15.len() != LEN - 1 {
            return None;
        }
        let mut sum = 0;
        for (i, byte) in first15.bytes().enumerate() {
            let byte = byte.to_ascii_uppercase();
            // Digits weigh like the letters A..J in both tables.
            let index = match byte {
                b'0'..=b'9' => usize::from(byte - b'0'),
                b'A'..=b'Z' => usize::from(byte - b'A'),
                _ => return None,
            };
            // Position i + 1 is odd when i is even.
            sum += if i % 2 == 0 {
                ODD_VALUES.get(index).copied()?
            } else {
                u32::try_from(index).ok()?
            };
        }
        char::from_u32(u32::from(b'A') + sum % 26)
    }
}

/// The 1-based position of the first character of an upper-case, 16-character string that
/// breaks the pattern
/// `[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]`.
fn first_format_error(code: &str) -> Option<usize> {
    code.chars().enumerate().find_map(|(i, c)| {
        let fits = match u8::try_from(c) {
            Ok(byte) if DIGIT_POSITIONS.contains(&i) => {
                byte.is_ascii_digit() || OMOCODE_LETTERS.contains(&byte)
            }
            Ok(byte) if i == 8 => MONTH_LETTERS.contains(&byte),
            Ok(byte) => byte.is_ascii_uppercase(),
            Err(_) => false,
        };
        (!fits).then_some(i + 1)
    })
}

/// The consonants and the vowels of a name, upper case, in order. Accented vowels count as
/// plain vowels; spaces, apostrophes and anything else that is not a letter are dropped.
fn split_letters(text: &str) -> (Vec<char>, Vec<char>) {
    let mut consonants = Vec::new();
    let mut vowels = Vec::new();
    for c in text.chars().filter_map(plain_letter) {
        if matches!(c, 'A' | 'E' | 'I' | 'O' | 'U') {
            vowels.push(c);
        } else {
            consonants.push(c);
        }
    }
    (consonants, vowels)
}

/// The upper-case ASCII letter a character stands for, if any.
fn plain_letter(c: char) -> Option<char> {
    let plain = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'A',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'E',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'O',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
        'ç' | 'Ç' => 'C',
        'ñ' | 'Ñ' => 'N',
        c if c.is_ascii_alphabetic() => c.to_ascii_uppercase(),
        _ => return None,
    };
    Some(plain)
}

/// Consonants first, then vowels, then `X` until there are three letters.
fn three_letters(consonants: &[char], vowels: &[char]) -> String {
    consonants
        .iter()
        .chain(vowels)
        .copied()
        .chain(std::iter::repeat('X'))
        .take(3)
        .collect()
}

super::text_value!(FiscalCode, FiscalCodeError, 0);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MARIO_ROSSI: &str = "RSSMRA85T10A562S";

    /// The official tables, written out character by character, independently of the
    /// implementation above.
    const REFERENCE_ODD: &[(char, u32)] = &[
        ('0', 1),
        ('1', 0),
        ('2', 5),
        ('3', 7),
        ('4', 9),
        ('5', 13),
        ('6', 15),
        ('7', 17),
        ('8', 19),
        ('9', 21),
        ('A', 1),
        ('B', 0),
        ('C', 5),
        ('D', 7),
        ('E', 9),
        ('F', 13),
        ('G', 15),
        ('H', 17),
        ('I', 19),
        ('J', 21),
        ('K', 2),
        ('L', 4),
        ('M', 18),
        ('N', 20),
        ('O', 11),
        ('P', 3),
        ('Q', 6),
        ('R', 8),
        ('S', 12),
        ('T', 14),
        ('U', 16),
        ('V', 10),
        ('W', 22),
        ('X', 25),
        ('Y', 24),
        ('Z', 23),
    ];
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const ALPHANUMERIC: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    fn reference_check(first15: &str) -> char {
        let sum: u32 = first15
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    REFERENCE_ODD.iter().find(|(k, _)| *k == c).unwrap().1
                } else if let Some(d) = c.to_digit(10) {
                    d
                } else {
                    ALPHABET.find(c).unwrap() as u32
                }
            })
            .sum();
        ALPHABET.chars().nth((sum % 26) as usize).unwrap()
    }

    /// The character class of each position, as in the regular expression.
    fn reference_class(position: usize) -> &'static str {
        match position {
            0..=5 | 11 | 15 => ALPHABET,
            8 => "ABCDEHLMPRST",
            _ => "0123456789LMNPQRSTUV",
        }
    }

    fn reference_valid(code: &str) -> bool {
        code.chars().count() == 16
            && code
                .chars()
                .enumerate()
                .all(|(i, c)| reference_class(i).contains(c))
            && reference_check(&code[..15]) == code.chars().nth(15).unwrap()
    }

    fn with_check(first15: &str) -> String {
        format!("{first15}{}", reference_check(first15))
    }

    #[test]
    fn parses_known_codes() {
        for code in [MARIO_ROSSI, "MRTMTT91D08F205J", "RSSMRA80A01H501U"] {
            let parsed = FiscalCode::parse(code).unwrap();
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.to_string(), code);
            assert_eq!(parsed.as_ref(), code);
            assert!(!parsed.is_omocode());
        }
    }

    #[test]
    fn check_character_matches_known_codes() {
        assert_eq!(FiscalCode::check_character("RSSMRA85T10A562"), Some('S'));
        assert_eq!(FiscalCode::check_character("MRTMTT91D08F205"), Some('J'));
        assert_eq!(FiscalCode::check_character("rssmra80a01h501"), Some('U'));
        assert_eq!(FiscalCode::check_character("RSSMRA85T10A56"), None);
        assert_eq!(FiscalCode::check_character("RSSMRA85T10A56-"), None);
        assert_eq!(FiscalCode::check_character("RSSMRA85T10A562S"), None);
    }

    #[test]
    fn ignores_case_and_surrounding_whitespace() {
        let parsed = FiscalCode::parse("  rssMra85t10a562s\n").unwrap();
        assert_eq!(parsed.as_str(), MARIO_ROSSI);
        assert_eq!(parsed, FiscalCode::parse(MARIO_ROSSI).unwrap());
    }

    #[test]
    fn refuses_empty() {
        assert_eq!(FiscalCode::parse(""), Err(FiscalCodeError::Empty));
        assert_eq!(FiscalCode::parse(" \t "), Err(FiscalCodeError::Empty));
    }

    #[test]
    fn refuses_wrong_length() {
        assert_eq!(
            FiscalCode::parse("RSSMRA85T10A562"),
            Err(FiscalCodeError::Length)
        );
        assert_eq!(
            FiscalCode::parse("RSSMRA85T10A562SS"),
            Err(FiscalCodeError::Length)
        );
        assert_eq!(
            FiscalCode::parse("RSSMRA 85T10A562S"),
            Err(FiscalCodeError::Length)
        );
        assert_eq!(
            FiscalCode::parse("15376371009"),
            Err(FiscalCodeError::Length)
        );
    }

    #[test]
    fn refuses_bad_characters_with_their_position() {
        let cases = [
            ("1SSMRA85T10A562S", 1),
            ("RSSMR485T10A562S", 6),
            ("RSSMRAA5T10A562S", 7),
            ("RSSMRA8WT10A562S", 8),
            ("RSSMRA85F10A562S", 9),
            ("RSSMRA85T1KA562S", 11),
            ("RSSMRA85T101562S", 12),
            ("RSSMRA85T10A5Z2S", 14),
            ("RSSMRA85T10A5621", 16),
            ("RSSMRA85T10A562-", 16),
            ("RSSMRÀ85T10A562S", 6),
            ("RSSMRA85T10A562È", 16),
            ("RSSMRA85T10A56 S", 15),
        ];
        for (code, position) in cases {
            assert_eq!(
                FiscalCode::parse(code),
                Err(FiscalCodeError::Format { position }),
                "{code}"
            );
        }
    }

    #[test]
    fn refuses_wrong_check_character() {
        assert_eq!(
            FiscalCode::parse("RSSMRA85T10A562T"),
            Err(FiscalCodeError::CheckCharacter { expected: 'S' })
        );
        // The sandbox code has the right shape but no valid check character.
        assert_eq!(
            FiscalCode::parse("AAAAAA00A00A000A"),
            Err(FiscalCodeError::CheckCharacter { expected: 'I' })
        );
    }

    #[test]
    fn valid_format_ignores_check_character() {
        assert!(FiscalCode::is_valid_format("AAAAAA00A00A000A"));
        assert!(FiscalCode::is_valid_format(" rssmra85t10a562t "));
        assert!(FiscalCode::is_valid_format("RSSMRAURTMLARSNL"));
        assert!(!FiscalCode::is_valid_format("AAAAAA00A00A000"));
        assert!(!FiscalCode::is_valid_format("AAAAAA00F00A000A"));
        assert!(!FiscalCode::is_valid_format("AAAAAA0WA00A000A"));
        assert!(!FiscalCode::is_valid_format("AAAAAÀ00A00A000A"));
        assert!(!FiscalCode::is_valid_format(""));
    }

    #[test]
    fn error_codes_and_messages_are_distinct() {
        let errors = [
            FiscalCodeError::Empty,
            FiscalCodeError::Length,
            FiscalCodeError::Format { position: 3 },
            FiscalCodeError::CheckCharacter { expected: 'S' },
        ];
        let codes: std::collections::HashSet<_> = errors.iter().map(|e| e.code()).collect();
        let messages: std::collections::HashSet<_> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(codes.len(), errors.len());
        assert_eq!(messages.len(), errors.len());
        assert_eq!(
            FiscalCodeError::CheckCharacter { expected: 'S' }.code(),
            "fiscal_code_check_character"
        );
        assert!(
            FiscalCodeError::Format { position: 3 }
                .to_string()
                .contains("position 3")
        );
        assert!(
            FiscalCodeError::CheckCharacter { expected: 'S' }
                .to_string()
                .contains('S')
        );
    }

    #[test]
    fn accepts_omocodia_with_recomputed_check_character() {
        // Every digit of Mario Rossi's code replaced by its letter, checked by hand.
        let full = FiscalCode::parse("rssmrAURTMLARSNL").unwrap();
        assert_eq!(full.as_str(), "RSSMRAURTMLARSNL");
        assert!(full.is_omocode());
        assert_eq!(full.surname_code(), "RSS");
        assert_eq!(full.name_code(), "MRA");

        // Every subset of substituted digits, each with its recomputed check character.
        let base: Vec<char> = MARIO_ROSSI.chars().collect();
        for mask in 1u32..(1 << DIGIT_POSITIONS.len()) {
            let mut chars = base.clone();
            for (bit, &i) in DIGIT_POSITIONS.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    let digit = chars[i].to_digit(10).unwrap() as usize;
                    chars[i] = OMOCODE_LETTERS[digit] as char;
                }
            }
            let first15: String = chars[..15].iter().collect();
            let code = with_check(&first15);
            let parsed = FiscalCode::parse(&code).unwrap();
            assert!(parsed.is_omocode(), "{code}");
            // Keeping the original check character is refused unless it happens to match.
            let stale = format!("{first15}S");
            assert_eq!(FiscalCode::parse(&stale).is_ok(), code == stale);
        }
    }

    #[test]
    fn surname_codes() {
        let cases = [
            ("Rossi", "RSS"),
            ("Fo", "FOX"),
            ("De Luca", "DLC"),
            ("D'Annunzio", "DNN"),
            ("Bò", "BOX"),
            ("Hu", "HUX"),
            ("Oe", "OEX"),
            ("Ai", "AIX"),
            ("Pè", "PEX"),
            ("Mùsso", "MSS"),
            ("Lo Iàcono", "LCN"),
            ("X", "XXX"),
            ("", "XXX"),
        ];
        for (surname, code) in cases {
            assert_eq!(FiscalCode::surname_code_of(surname), code, "{surname}");
        }
    }

    #[test]
    fn name_codes() {
        let cases = [
            ("Mario", "MRA"),
            ("Maria", "MRA"),
            ("Luca", "LCU"),
            ("Gianfranco", "GFR"),
            ("Matteo", "MTT"),
            ("Giuseppe", "GPP"),
            ("Alessandra", "LSN"),
            ("Anna Maria", "NMR"),
            ("Ugo", "GUO"),
            ("Al", "LAX"),
            ("Ìa", "IAX"),
            ("Noè", "NOE"),
            ("Niccolò", "NCL"),
            ("Gian-Luca", "GLC"),
        ];
        for (name, code) in cases {
            assert_eq!(FiscalCode::name_code_of(name), code, "{name}");
        }
    }

    #[test]
    fn matches_person() {
        let code = FiscalCode::parse(MARIO_ROSSI).unwrap();
        assert_eq!(code.surname_code(), "RSS");
        assert_eq!(code.name_code(), "MRA");
        assert!(code.matches_person("Rossi", "Mario"));
        assert!(code.matches_person("ROSSI", "maria"));
        assert!(code.matches_person(" Rossi ", "Màrio"));
        assert!(!code.matches_person("Mario", "Rossi"));
        assert!(!code.matches_person("Bianchi", "Mario"));
        assert!(!code.matches_person("Rossi", "Marco"));
        let matteo = FiscalCode::parse("MRTMTT91D08F205J").unwrap();
        assert!(matteo.matches_person("Moretti", "Matteo"));
    }

    #[test]
    fn conversions() {
        let from_str: FiscalCode = MARIO_ROSSI.parse().unwrap();
        let from_string = FiscalCode::try_from(MARIO_ROSSI.to_owned()).unwrap();
        assert_eq!(from_str, from_string);
        assert_eq!("bad".parse::<FiscalCode>(), Err(FiscalCodeError::Length));
        assert_eq!(String::from(from_str), MARIO_ROSSI);
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        let code = FiscalCode::parse(MARIO_ROSSI).unwrap();
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, format!("\"{MARIO_ROSSI}\""));
        let back: FiscalCode = serde_json::from_str(&json).unwrap();
        assert_eq!(back, code);
        let lower: FiscalCode = serde_json::from_str("\"rssmra85t10a562s\"").unwrap();
        assert_eq!(lower, code);
        let err = serde_json::from_str::<FiscalCode>("\"RSSMRA85T10A562T\"").unwrap_err();
        assert!(err.to_string().contains("check character"), "{err}");
        assert!(serde_json::from_str::<FiscalCode>("42").is_err());
    }

    /// The first 15 characters of a code, omocodia letters included.
    fn first15() -> impl Strategy<Value = String> {
        "[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}"
    }

    proptest! {
        #[test]
        fn generated_codes_parse(first15 in first15()) {
            let code = with_check(&first15);
            prop_assert_eq!(FiscalCode::check_character(&first15), code.chars().last());
            let parsed = FiscalCode::parse(&code.to_lowercase()).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
            let omocode = DIGIT_POSITIONS
                .iter()
                .any(|&i| code.as_bytes()[i].is_ascii_alphabetic());
            prop_assert_eq!(parsed.is_omocode(), omocode);
            prop_assert!(FiscalCode::is_valid_format(&code));
        }

        /// Within each position's class the table values are all distinct, so the check
        /// character catches every single substitution that the format lets through.
        #[test]
        fn single_substitutions_are_refused(
            first15 in first15(),
            position in 0usize..16,
            replacement in proptest::sample::select(ALPHANUMERIC.chars().collect::<Vec<_>>()),
        ) {
            let code = with_check(&first15);
            let mut chars: Vec<char> = code.chars().collect();
            prop_assume!(chars[position] != replacement);
            chars[position] = replacement;
            let corrupted: String = chars.iter().collect();

            prop_assert!(!reference_valid(&corrupted));
            let result = FiscalCode::parse(&corrupted);
            if !reference_class(position).contains(replacement) {
                prop_assert_eq!(result, Err(FiscalCodeError::Format { position: position + 1 }));
            } else {
                let expected = reference_check(&corrupted[..15]);
                prop_assert_eq!(result, Err(FiscalCodeError::CheckCharacter { expected }));
            }
        }

        #[test]
        fn agrees_with_reference_on_arbitrary_strings(code in "[A-Z0-9]{16}") {
            prop_assert_eq!(FiscalCode::parse(&code).is_ok(), reference_valid(&code));
        }

        #[test]
        fn never_panics(input in "\\PC{0,20}") {
            let _ = FiscalCode::parse(&input);
            let _ = FiscalCode::is_valid_format(&input);
            let _ = FiscalCode::check_character(&input);
            let _ = FiscalCode::surname_code_of(&input);
            let _ = FiscalCode::name_code_of(&input);
        }
    }
}
