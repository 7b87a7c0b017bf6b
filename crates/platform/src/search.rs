//! Search keys: text folded so that an index answers "starts with" on both engines.
//!
//! A key holds only `a`–`z` and `0`–`9`: lower case, Italian and other Latin accents folded
//! (`Nicolò` → `nicolo`), everything else (spaces, apostrophes, hyphens) left out. On such
//! strings every collation orders as the bytes do (SQLite's BINARY, PostgreSQL's `C` and the
//! linguistic ones alike), so a prefix is the range `[prefix, next(prefix))` of an ordinary
//! index, whatever collation the database was created with.

/// The letters and digits of `text`, lower case, accents folded.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            _ => {
                if let Some(folded) = fold_letter(c) {
                    out.push_str(folded);
                }
            }
        }
    }
    out
}

fn fold_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'œ' | 'Œ' => "oe",
        'ß' => "ss",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'š' | 'Š' => "s",
        'ž' | 'Ž' => "z",
        'č' | 'Č' => "c",
        _ => return None,
    })
}

/// The keys in `[lower, upper)` are those that start with `prefix` (a folded key): `upper` is
/// `prefix` with its last character that can grow grown by one, or `None` when every key
/// qualifies from `lower` on (a prefix of only `z`s).
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '0'..='8' | 'a'..='y' => char::from_u32(last as u32 + 1),
            '9' => Some('a'),
            _ => None,
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The range of keys starting with the folded `query`: `(lower, upper)`, where an empty
/// `upper` stands for "no bound" (the statements read it as `($3 = '' OR key < $3)`).
pub fn prefix_range(query: &str) -> (String, String) {
    let lower = fold(query);
    let upper = prefix_upper_bound(&lower).unwrap_or_default();
    (lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_only_folded_letters_and_digits() {
        assert_eq!(fold("  D'Alò-Nicolò Ñ 2 "), "dalonicolon2");
        assert_eq!(fold("ÀÈÉÌÒÙ àèéìòù"), "aeeiouaeeiou");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("日本"), "");
    }

    #[test]
    fn a_prefix_is_a_range() {
        assert_eq!(prefix_upper_bound("rossi").as_deref(), Some("rossj"));
        assert_eq!(prefix_upper_bound("roz").as_deref(), Some("rp"));
        assert_eq!(prefix_upper_bound("a9").as_deref(), Some("aa"));
        assert_eq!(prefix_upper_bound("zz"), None);
        assert_eq!(prefix_range("De Luca"), ("deluca".into(), "delucb".into()));
        assert_eq!(prefix_range(""), (String::new(), String::new()));
        // Every key with the prefix is inside the range, and the next ones are not.
        for key in ["rossi", "rossi0mario", "rossiz", "rossizzzz9"] {
            assert!(("rossi".."rossj").contains(&key), "{key}");
        }
    }
}
