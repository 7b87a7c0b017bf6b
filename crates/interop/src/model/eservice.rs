//! E-services: what a producer writes about one, and when it may still change or go away.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::descriptor::DescriptorState;
use super::read::Reader;
use super::{FieldError, Refusal};

pub const NAME_MIN: usize = 5;
pub const NAME_MAX: usize = 60;
pub const DESCRIPTION_MIN: usize = 10;
pub const DESCRIPTION_MAX: usize = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Technology {
    Rest,
    Soap,
}

impl Technology {
    pub fn as_str(self) -> &'static str {
        match self {
            Technology::Rest => "REST",
            Technology::Soap => "SOAP",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "REST" => Some(Technology::Rest),
            "SOAP" => Some(Technology::Soap),
            _ => None,
        }
    }
}

/// Whether the producer serves the data (RECEIVE, the usual case) or receives it from the
/// consumers (DELIVER).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Mode {
    #[default]
    Receive,
    Deliver,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Receive => "RECEIVE",
            Mode::Deliver => "DELIVER",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RECEIVE" => Some(Mode::Receive),
            "DELIVER" => Some(Mode::Deliver),
            _ => None,
        }
    }
}

/// The fields of an e-service its producer writes (`POST /eservices`, `PUT /eservices/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EServiceInput {
    pub name: String,
    pub description: String,
    pub technology: Technology,
    pub mode: Mode,
    /// Whether it handles personal data; may be left unsaid in a draft, not at publication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_data: Option<bool>,
}

impl EServiceInput {
    pub fn name_key(&self) -> String {
        name_key(&self.name)
    }
}

/// The key of a duplicate-name check among a producer's e-services: trimmed, case-folded.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The longest word of a name the catalogue's search keeps (a name has at most
/// [`NAME_MAX`] characters).
pub const WORD_MAX: usize = NAME_MAX;

/// The words of an e-service's name, each once, as the catalogue's search finds them:
/// "ANPR - Anagrafe nazionale" has `anpr`, `anagrafe`, `nazionale`. A word is a run of letters
/// and digits, folded as every search key is ([`platform::search::fold`]: lower case, accents
/// dropped); apostrophes, spaces and signs separate words ("dell'Anagrafe" has `dell` and
/// `anagrafe`). The migration `0016_interop_lists.sql` split the names already stored the same
/// way for the vowels of Italian.
pub fn name_words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for raw in name.split(|c: char| !c.is_alphanumeric()) {
        let w: String = platform::search::fold(raw).chars().take(WORD_MAX).collect();
        if !w.is_empty() && !words.contains(&w) {
            words.push(w);
        }
    }
    words
}

/// The range of words that start with `prefix` (a word of [`name_words`]): `[prefix, upper)`
/// ([`platform::search::prefix_upper_bound`]), or up to `z`s longer than any word for a
/// prefix of only `z`s.
pub fn prefix_range(prefix: &str) -> (String, String) {
    let upper =
        platform::search::prefix_upper_bound(prefix).unwrap_or_else(|| "z".repeat(WORD_MAX + 1));
    (prefix.to_string(), upper)
}

/// Reads a new e-service: `name` 5..=60 characters, `description` 10..=400, `technology`
/// REST|SOAP, `mode` RECEIVE|DELIVER (RECEIVE when absent), `personalData` true|false or
/// absent. Texts are trimmed. Every problem is reported.
pub fn parse_eservice(payload: &Value) -> Result<EServiceInput, Vec<FieldError>> {
    let mut r = Reader::new(payload, "body")?;
    let name = r.text("name", NAME_MIN, NAME_MAX, true);
    let description = r.text("description", DESCRIPTION_MIN, DESCRIPTION_MAX, true);
    let technology = r.choice("technology", Technology::parse, "REST or SOAP", None);
    let mode = r.choice(
        "mode",
        Mode::parse,
        "RECEIVE or DELIVER",
        Some(Mode::Receive),
    );
    let personal_data = r.optional_boolean("personalData");
    match (name, description, technology, mode, personal_data) {
        (Some(name), Some(description), Some(technology), Some(mode), Some(personal_data))
            if r.errors.is_empty() =>
        {
            Ok(EServiceInput {
                name,
                description,
                technology,
                mode,
                personal_data,
            })
        }
        _ => Err(r.errors),
    }
}

/// Reads `{name}` (`POST /eservices/{id}/name/update`): 5..=60 characters, trimmed.
pub fn parse_name(payload: &Value) -> Result<String, Vec<FieldError>> {
    let mut r = Reader::new(payload, "body")?;
    match r.text("name", NAME_MIN, NAME_MAX, true) {
        Some(name) if r.errors.is_empty() => Ok(name),
        _ => Err(r.errors),
    }
}

/// Reads `{description}` (`POST /eservices/{id}/description/update`): 10..=400 characters.
pub fn parse_description(payload: &Value) -> Result<String, Vec<FieldError>> {
    let mut r = Reader::new(payload, "body")?;
    match r.text("description", DESCRIPTION_MIN, DESCRIPTION_MAX, true) {
        Some(d) if r.errors.is_empty() => Ok(d),
        _ => Err(r.errors),
    }
}

/// The refusal of a second e-service with the same name (any case) by one producer.
pub const NAME_TAKEN: &str = "eServiceNameDuplicateForProducer";

/// Reads the whole new content of an e-service (`PUT`): the same rules as on creation.
pub fn parse_eservice_update(payload: &Value) -> Result<EServiceInput, Vec<FieldError>> {
    parse_eservice(payload)
}

/// An e-service's name, description, technology and mode change only while none of its
/// versions has been published (consumers rely on what they subscribed to).
pub fn update_allowed(descriptors: &[DescriptorState]) -> Result<(), Refusal> {
    if descriptors.iter().all(|s| *s == DescriptorState::Draft) {
        Ok(())
    } else {
        Err(Refusal::new(
            "eservice_already_published",
            "the e-service has published versions: only a new version can change it",
        ))
    }
}

/// An e-service is deleted only while it has no version, or only a draft (which goes with it).
pub fn delete_allowed(descriptors: &[DescriptorState]) -> Result<(), Refusal> {
    if descriptors.iter().all(|s| *s == DescriptorState::Draft) {
        Ok(())
    } else {
        Err(Refusal::new(
            "eservice_already_published",
            "the e-service has published versions and cannot be deleted",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "name": "SEND - UAT (Piattaforma Notifiche)",
            "description": "Invio di notifiche a valore legale",
            "technology": "REST"
        })
    }

    fn fields(v: Value) -> Vec<String> {
        testkit::error_fields(parse_eservice(&v))
    }

    #[test]
    fn a_valid_eservice_is_read_with_receive_by_default() {
        let e = parse_eservice(&valid()).unwrap();
        assert_eq!(e.name, "SEND - UAT (Piattaforma Notifiche)");
        assert_eq!(e.technology, Technology::Rest);
        assert_eq!(e.mode, Mode::Receive);
        let mut v = valid();
        v["mode"] = json!("DELIVER");
        v["technology"] = json!("SOAP");
        v["name"] = json!("  Nome con spazi  ");
        let e = parse_eservice_update(&v).unwrap();
        assert_eq!(e.mode, Mode::Deliver);
        assert_eq!(e.technology, Technology::Soap);
        assert_eq!(e.name, "Nome con spazi");
        assert_eq!(e.name_key(), "nome con spazi");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"name": "Nome con spazi", "description": "Invio di notifiche a valore legale",
                   "technology": "SOAP", "mode": "DELIVER"})
        );
    }

    #[test]
    fn lengths_are_checked_at_their_exact_boundaries() {
        for (key, min, max) in [
            ("name", NAME_MIN, NAME_MAX),
            ("description", DESCRIPTION_MIN, DESCRIPTION_MAX),
        ] {
            for (n, ok) in [(min - 1, false), (min, true), (max, true), (max + 1, false)] {
                let mut v = valid();
                v[key] = json!("è".repeat(n));
                let got = fields(v);
                assert_eq!(got.is_empty(), ok, "{key} with {n} characters: {got:?}");
            }
        }
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases: Vec<(&str, Value)> = vec![
            ("name", json!(null)),
            ("name", json!(12345)),
            ("name", json!("    ")),
            ("description", json!("short")),
            ("technology", json!("GRAPHQL")),
            ("technology", json!("rest")),
            ("technology", json!(null)),
            ("mode", json!("SEND")),
            ("mode", json!(1)),
            ("personalData", json!("yes")),
        ];
        for (key, value) in cases {
            let mut v = valid();
            v[key] = value.clone();
            assert_eq!(fields(v), vec![key], "{key} = {value}");
        }
        assert_eq!(fields(json!({})), vec!["name", "description", "technology"]);
        let mut v = valid();
        v["personalData"] = json!(true);
        assert_eq!(parse_eservice(&v).unwrap().personal_data, Some(true));
        v["personalData"] = json!(null);
        assert_eq!(parse_eservice(&v).unwrap().personal_data, None);
        assert_eq!(
            parse_name(&json!({"name": " Nuovo nome "})).unwrap(),
            "Nuovo nome"
        );
        assert_eq!(
            testkit::error_fields(parse_name(&json!({"name": "abc"}))),
            vec!["name"]
        );
        assert_eq!(
            testkit::error_fields(parse_description(&json!({"description": "corta"}))),
            vec!["description"]
        );
        assert_eq!(fields(json!("x")), vec!["body"]);
    }

    #[test]
    fn published_eservices_are_frozen() {
        use DescriptorState::*;
        assert!(update_allowed(&[]).is_ok());
        assert!(update_allowed(&[Draft]).is_ok());
        assert!(delete_allowed(&[Draft]).is_ok());
        for s in [Published, Suspended, Deprecated, Archived] {
            assert_eq!(
                update_allowed(&[s, Draft]).unwrap_err().code,
                "eservice_already_published"
            );
            assert_eq!(
                delete_allowed(&[s]).unwrap_err().code,
                "eservice_already_published"
            );
        }
    }

    #[test]
    fn a_name_has_the_words_the_catalogue_finds() {
        assert_eq!(
            name_words("ANPR - Anagrafe nazionale"),
            vec!["anpr", "anagrafe", "nazionale"]
        );
        assert_eq!(
            name_words("Città dell'ÀRTE 2024, città"),
            vec!["citta", "dell", "arte", "2024"]
        );
        assert!(name_words(" -- ").is_empty());
        // Folded as every search key is, a non-Latin word left out.
        assert_eq!(name_words("Façade Straße 日本"), vec!["facade", "strasse"]);
    }

    #[test]
    fn a_prefix_ranges_over_the_words_it_starts() {
        assert_eq!(prefix_range("anag"), ("anag".into(), "anah".into()));
        assert_eq!(prefix_range("a9"), ("a9".into(), "aa".into()));
        assert_eq!(prefix_range("anaz"), ("anaz".into(), "anb".into()));
        let (low, high) = prefix_range("zz");
        assert_eq!(low, "zz");
        assert_eq!(high, "z".repeat(WORD_MAX + 1));
        for word in ["anag", "anagrafe", "anagz", "anag9"] {
            let (low, high) = prefix_range("anag");
            assert!(low.as_str() <= word && word < high.as_str(), "{word}");
        }
        let (low, high) = prefix_range("anag");
        assert!(!(low.as_str() <= "anah" && "anah" < high.as_str()));
        assert!(!(low.as_str() <= "ana" && "ana" < high.as_str()));
    }
}
