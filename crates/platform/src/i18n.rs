//! Message catalogues in Italian (the default) and English. Each context brings its own pair
//! of TOML files; keys are dotted paths and both languages must have the same keys.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;

/// The cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    It,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::It, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "it" => Some(Lang::It),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language chosen by the `lang` cookie, Italian otherwise.
    pub fn from_parts(parts: &Parts) -> Lang {
        cookie(parts, LANG_COOKIE)
            .and_then(Lang::parse)
            .unwrap_or_default()
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    cookie_in(&parts.headers, name)
}

/// The value of cookie `name` in request headers, if any.
pub fn cookie_in<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_parts(parts))
    }
}

/// The two TOML texts of one context's messages.
#[derive(Debug, Clone, Copy)]
pub struct Sources {
    pub context: &'static str,
    pub it: &'static str,
    pub en: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("messages of `{context}` ({lang}) are not valid TOML: {reason}")]
    Parse {
        context: &'static str,
        lang: &'static str,
        reason: String,
    },
    #[error("messages of `{context}`: key `{key}` is not a string")]
    NotAString { context: &'static str, key: String },
    #[error("messages of `{context}`: the languages differ in keys: {keys:?}")]
    KeysDiffer {
        context: &'static str,
        keys: Vec<String>,
    },
    #[error("message key `{0}` is defined by two contexts")]
    Duplicate(String),
}

impl Sources {
    /// Both languages flattened to dotted keys, checked to have the same keys.
    pub fn parse(&self) -> Result<[BTreeMap<String, String>; 2], I18nError> {
        let it = flatten(self.context, "it", self.it)?;
        let en = flatten(self.context, "en", self.en)?;
        let a: BTreeSet<&String> = it.keys().collect();
        let b: BTreeSet<&String> = en.keys().collect();
        let differ: Vec<String> = a.symmetric_difference(&b).map(|k| (*k).clone()).collect();
        if !differ.is_empty() {
            return Err(I18nError::KeysDiffer {
                context: self.context,
                keys: differ,
            });
        }
        Ok([it, en])
    }
}

fn flatten(
    context: &'static str,
    lang: &'static str,
    text: &str,
) -> Result<BTreeMap<String, String>, I18nError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| I18nError::Parse {
            context,
            lang,
            reason: e.to_string(),
        })?;
    let mut out = BTreeMap::new();
    walk(context, "", &table, &mut out)?;
    Ok(out)
}

fn walk(
    context: &'static str,
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, String>,
) -> Result<(), I18nError> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => walk(context, &key, t, out)?,
            _ => return Err(I18nError::NotAString { context, key }),
        }
    }
    Ok(())
}

/// All contexts' messages.
#[derive(Debug, Default)]
pub struct Catalogue {
    it: HashMap<String, String>,
    en: HashMap<String, String>,
}

impl Catalogue {
    pub fn build(sources: &[Sources]) -> Result<Self, I18nError> {
        let mut catalogue = Catalogue::default();
        for source in sources {
            let [it, en] = source.parse()?;
            for (k, v) in it {
                if catalogue.it.insert(k.clone(), v).is_some() {
                    return Err(I18nError::Duplicate(k));
                }
            }
            catalogue.en.extend(en);
        }
        Ok(catalogue)
    }

    /// The message, or the key itself when missing (visible, never a crash).
    pub fn get<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        let map = match lang {
            Lang::It => &self.it,
            Lang::En => &self.en,
        };
        map.get(key).map(String::as_str).unwrap_or(key)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.it.contains_key(key)
    }
}

/// The platform's own messages (layout, errors, home).
pub const PLATFORM_MESSAGES: Sources = Sources {
    context: "platform",
    it: include_str!("../i18n/it.toml"),
    en: include_str!("../i18n/en.toml"),
};

/// `{name}` placeholders of a message replaced by their values.
pub fn tr(template: &str, args: &[(&str, &str)]) -> String {
    pieces(template, args)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => text,
            Piece::Value(value) => value,
        })
        .collect()
}

/// A piece of a message cut at its `{name}` placeholders: its own words, or the value given for
/// a placeholder (so that a page can put markup, such as a link, around the values only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a, T> {
    Text(&'a str),
    Value(T),
}

/// `template` cut at the placeholders named in `args`; a placeholder without a value, or a
/// lone brace, stays as text.
pub fn pieces<'a, T: Clone>(template: &'a str, args: &[(&str, T)]) -> Vec<Piece<'a, T>> {
    let mut out = Vec::new();
    let mut rest = template;
    let mut text_start = 0;
    let mut at = 0;
    while let Some(open) = rest[at..].find('{').map(|i| at + i) {
        let value = rest[open + 1..].find('}').and_then(|close| {
            let name = &rest[open + 1..open + 1 + close];
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (v.clone(), open + close + 2))
        });
        match value {
            Some((v, end)) => {
                if open > text_start {
                    out.push(Piece::Text(&rest[text_start..open]));
                }
                out.push(Piece::Value(v));
                rest = &rest[end..];
                text_start = 0;
                at = 0;
            }
            None => at = open + 1,
        }
    }
    if text_start < rest.len() {
        out.push(Piece::Text(&rest[text_start..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_the_rest_stays_as_written() {
        assert_eq!(
            tr(
                "{who} ha aggiunto {whom} ({whom})",
                &[("who", "Mario"), ("whom", "Luca")]
            ),
            "Mario ha aggiunto Luca (Luca)"
        );
        assert_eq!(tr("{x} {unknown} {", &[("x", "1")]), "1 {unknown} {");
        assert_eq!(
            pieces("Il servizio {name} è pronto", &[("name", 7)]),
            vec![
                Piece::Text("Il servizio "),
                Piece::Value(7),
                Piece::Text(" è pronto")
            ]
        );
        assert_eq!(pieces::<u8>("", &[]), vec![]);
        assert_eq!(
            pieces("{a}{a}", &[("a", 'x')]),
            vec![Piece::Value('x'), Piece::Value('x')]
        );
    }

    #[test]
    fn platform_catalogues_have_the_same_keys() {
        let [it, en] = PLATFORM_MESSAGES.parse().unwrap();
        assert!(!it.is_empty());
        assert_eq!(it.len(), en.len());
    }

    #[test]
    fn differing_keys_are_reported() {
        let s = Sources {
            context: "x",
            it: "a = \"uno\"\n[b]\nc = \"due\"\n",
            en: "a = \"one\"\n",
        };
        match s.parse() {
            Err(I18nError::KeysDiffer { keys, .. }) => assert_eq!(keys, vec!["b.c".to_string()]),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn duplicates_across_contexts_are_refused_and_missing_keys_show_the_key() {
        let s = Sources {
            context: "x",
            it: "a = \"uno\"",
            en: "a = \"one\"",
        };
        assert!(matches!(
            Catalogue::build(&[s, s]),
            Err(I18nError::Duplicate(_))
        ));
        let c = Catalogue::build(&[s]).unwrap();
        assert_eq!(c.get(Lang::En, "a"), "one");
        assert_eq!(c.get(Lang::It, "a"), "uno");
        assert_eq!(c.get(Lang::It, "zzz"), "zzz");
    }

    #[test]
    fn lang_codes_round_trip() {
        for l in Lang::ALL {
            assert_eq!(Lang::parse(l.code()), Some(l));
        }
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }
}
