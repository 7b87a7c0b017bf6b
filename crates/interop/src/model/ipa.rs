//! The IPA open-data file of institutions ("Enti", published by indicepa.gov.it) and the
//! certified attributes of origin `IPA` it gives each institution. Pure: the caller fetches or
//! uploads the file and stores what this module says.
//!
//! # Reading the file
//!
//! Two formats, told apart by the first byte that is not whitespace (after a UTF-8 BOM, if
//! any): `[` or `{` is JSON, anything else CSV.
//!
//! - CSV, as published: comma-separated UTF-8 with a header row, values quoted with `"`. The
//!   columns are found by their header name, ignoring case, in any order; other columns are
//!   ignored. A header that names none of the five columns below means the file is not the
//!   IPA file at all.
//! - JSON: an array of objects, or CKAN's datastore (`{"fields": [{"id": ...}, ...],
//!   "records": [[...], ...]}` with each record's values in the order of `fields`, or
//!   `{"records": [{...}, ...]}`), bare or inside the API's `{"result": ...}`. Keys are matched
//!   ignoring case too, and every record must have all five.
//!
//! The five columns: `Codice_IPA`, `Codice_fiscale_ente`, `Denominazione_ente`,
//! `Codice_Categoria`, `Tipologia`. Values are trimmed. A row without an IPA code or a fiscal
//! code is an error naming its line (CSV) or record (JSON, counted from 1), and so is an IPA
//! code seen twice; a file with no institutions at all is an error too, so that an importer
//! never takes an empty file for "every institution left the index".
//!
//! # The attributes
//!
//! The rules of the real platform's importer. Each institution gets:
//!
//! - its category's attribute: the code is the `Codice_Categoria` (`L6` for Comuni), the
//!   name the category's name ([`category_name`], or `Categoria IPA <code>` for a code this
//!   module does not know);
//! - its own attribute: the code is its `Codice_IPA`, the name its `Denominazione_ente`;
//! - its typology's attribute, only for the typologies "Pubbliche Amministrazioni" and
//!   "Societa' in Conto Economico Consolidato" (spelt exactly so, with an ASCII apostrophe):
//!   the code is the lowercase hexadecimal SHA-256 of the typology's text, the name the text.
//!
//! Two exceptions. An institution of category `S01G` does not get its category's attribute
//! but `L37` ("Gestori di Pubblici Servizi") in its place. An institution of typology
//! "Gestori di Pubblici Servizi" gets `L37` as well. An institution is a public-service
//! manager (GSP) when it gets `L37` or its category is `SAG`, else a public administration
//! (PA).

use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The origin of the attributes this module gives.
pub const ORIGIN: &str = "IPA";

/// The category of public-service managers, also given for the exceptions above.
pub const GSP_CATEGORY: &str = "L37";

/// The typologies that give an attribute of their own.
pub const TYPOLOGY_PA: &str = "Pubbliche Amministrazioni";
pub const TYPOLOGY_SCEC: &str = "Societa' in Conto Economico Consolidato";
/// The typology that gives [`GSP_CATEGORY`].
pub const TYPOLOGY_GSP: &str = "Gestori di Pubblici Servizi";

/// The category whose institutions get [`GSP_CATEGORY`] in place of their own category.
const S01G: &str = "S01G";
/// The other category of public-service managers.
const SAG: &str = "SAG";

const IPA_CODE: &str = "Codice_IPA";
const FISCAL_CODE: &str = "Codice_fiscale_ente";
const NAME: &str = "Denominazione_ente";
const CATEGORY: &str = "Codice_Categoria";
const TYPOLOGY: &str = "Tipologia";
/// The columns read, in the order of [`Row`].
const COLUMNS: [&str; 5] = [IPA_CODE, FISCAL_CODE, NAME, CATEGORY, TYPOLOGY];

/// One institution of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub ipa_code: String,
    pub fiscal_code: String,
    pub name: String,
    pub category: String,
    pub typology: String,
}

/// Where in the file: a CSV line (the one its record starts on; the header is line 1) or a
/// JSON record (counted from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Line(u64),
    Record(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Record(n) => write!(f, "record {n}"),
        }
    }
}

/// Why the file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpaError {
    #[error("the IPA file holds no institutions")]
    Empty,
    #[error(
        "the IPA file is neither JSON nor CSV with a comma-separated header naming \
         Codice_IPA, Codice_fiscale_ente, Denominazione_ente, Codice_Categoria and Tipologia"
    )]
    NotCsvNorJson,
    #[error("the IPA file has no column {column}")]
    MissingColumn { column: &'static str },
    #[error("the IPA file names the column {column} twice")]
    DuplicateColumn { column: &'static str },
    #[error("line {line} of the IPA file is not valid CSV: {message}")]
    Csv { line: u64, message: String },
    #[error("the IPA file is not JSON of a known shape: {message}")]
    Json { message: String },
    #[error("{at} of the IPA file: {message}")]
    BadRecord { at: Location, message: String },
    #[error("{at} of the IPA file has no {column}")]
    MissingValue { at: Location, column: &'static str },
    #[error("{at} of the IPA file repeats the Codice_IPA {code} of {first}")]
    DuplicateCode {
        code: String,
        at: Location,
        first: Location,
    },
}

/// The institutions of an IPA file, in the file's order.
pub fn parse(bytes: &[u8]) -> Result<Vec<Entry>, IpaError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(IpaError::Empty),
        Some(b'[' | b'{') => parse_json(bytes),
        Some(_) => parse_csv(bytes),
    }
}

/// A certified attribute of origin [`ORIGIN`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Certified {
    pub code: String,
    pub name: String,
    pub description: String,
}

/// The certified attributes `entry` gets, sorted by code, each code once.
pub fn attributes_of(entry: &Entry) -> Vec<Certified> {
    let mut out = Vec::with_capacity(4);
    if entry.category == S01G {
        out.push(category_attribute(GSP_CATEGORY));
    } else if !entry.category.is_empty() {
        out.push(category_attribute(&entry.category));
    }
    out.push(own_attribute(entry));
    if entry.typology == TYPOLOGY_PA || entry.typology == TYPOLOGY_SCEC {
        out.push(Certified {
            code: typology_code(&entry.typology),
            name: entry.typology.clone(),
            description: format!("Ente iscritto all'IPA con la tipologia {}.", entry.typology),
        });
    }
    if entry.typology == TYPOLOGY_GSP {
        out.push(category_attribute(GSP_CATEGORY));
    }
    out.sort();
    out.dedup_by(|a, b| a.code == b.code);
    out
}

/// The code of a typology's attribute: the lowercase hexadecimal SHA-256 of its text.
pub fn typology_code(typology: &str) -> String {
    Sha256::digest(typology.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// Public administration or public-service manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstitutionKind {
    Pa,
    Gsp,
}

impl InstitutionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InstitutionKind::Pa => "PA",
            InstitutionKind::Gsp => "GSP",
        }
    }
}

/// GSP when the entry gets [`GSP_CATEGORY`] or its category is `SAG`, else PA.
pub fn kind_of(entry: &Entry) -> InstitutionKind {
    let gsp = entry.category == SAG || attributes_of(entry).iter().any(|a| a.code == GSP_CATEGORY);
    if gsp {
        InstitutionKind::Gsp
    } else {
        InstitutionKind::Pa
    }
}

/// The name of an IPA category, for the codes known here.
pub fn category_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "L4" => "Regioni, Province Autonome e loro Consorzi e Associazioni",
        "L5" => "Province e loro Consorzi e Associazioni",
        "L6" => "Comuni e loro Consorzi e Associazioni",
        "L8" => "Aziende Sanitarie Locali",
        "L17" => "Universita' e Istituti di Istruzione Universitaria Pubblici",
        "L33" => "Istituti di Istruzione Statale di Ogni Ordine e Grado",
        "L37" => "Gestori di Pubblici Servizi",
        "C13" => "Societa' in Conto Economico Consolidato",
        _ => return None,
    })
}

fn category_attribute(code: &str) -> Certified {
    let name = category_name(code).map_or_else(|| format!("Categoria IPA {code}"), str::to_owned);
    Certified {
        code: code.to_owned(),
        description: format!("Ente iscritto all'IPA nella categoria {code} ({name})."),
        name,
    }
}

fn own_attribute(entry: &Entry) -> Certified {
    let name = if entry.name.is_empty() {
        entry.ipa_code.clone()
    } else {
        entry.name.clone()
    };
    Certified {
        code: entry.ipa_code.clone(),
        description: format!(
            "Attributo proprio dell'ente {name}, codice IPA {}.",
            entry.ipa_code
        ),
        name,
    }
}

/// The values of [`COLUMNS`], in their order.
type Row = [String; 5];

/// Builds the entries, refusing rows without an IPA or fiscal code and repeated IPA codes.
#[derive(Default)]
struct Entries {
    entries: Vec<Entry>,
    seen: HashMap<String, Location>,
}

impl Entries {
    fn push(&mut self, at: Location, row: Row) -> Result<(), IpaError> {
        let [ipa_code, fiscal_code, name, category, typology] = row.map(|v| v.trim().to_owned());
        for (value, column) in [(&ipa_code, IPA_CODE), (&fiscal_code, FISCAL_CODE)] {
            if value.is_empty() {
                return Err(IpaError::MissingValue { at, column });
            }
        }
        if let Some(first) = self.seen.insert(ipa_code.clone(), at) {
            return Err(IpaError::DuplicateCode {
                code: ipa_code,
                at,
                first,
            });
        }
        self.entries.push(Entry {
            ipa_code,
            fiscal_code,
            name,
            category,
            typology,
        });
        Ok(())
    }

    fn finish(self) -> Result<Vec<Entry>, IpaError> {
        if self.entries.is_empty() {
            Err(IpaError::Empty)
        } else {
            Ok(self.entries)
        }
    }
}

/// Where each of [`COLUMNS`] is among `names`, ignoring case and surrounding spaces.
fn locate<'a>(names: impl Iterator<Item = &'a str>) -> Result<[Option<usize>; 5], IpaError> {
    let mut found = [None; 5];
    for (i, name) in names.enumerate() {
        let name = name.trim();
        for (slot, column) in found.iter_mut().zip(COLUMNS) {
            if name.eq_ignore_ascii_case(column) {
                if slot.is_some() {
                    return Err(IpaError::DuplicateColumn { column });
                }
                *slot = Some(i);
            }
        }
    }
    Ok(found)
}

/// The positions of all of [`COLUMNS`], or the first one missing.
fn require(found: [Option<usize>; 5]) -> Result<[usize; 5], IpaError> {
    let mut out = [0; 5];
    for ((slot, position), column) in out.iter_mut().zip(found).zip(COLUMNS) {
        *slot = position.ok_or(IpaError::MissingColumn { column })?;
    }
    Ok(out)
}

fn parse_csv(bytes: &[u8]) -> Result<Vec<Entry>, IpaError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let found = match reader.headers() {
        Ok(header) => locate(header.iter())?,
        Err(_) => return Err(IpaError::NotCsvNorJson),
    };
    if found.iter().all(Option::is_none) {
        return Err(IpaError::NotCsvNorJson);
    }
    let positions = require(found)?;
    let mut entries = Entries::default();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, csv::Position::line);
        let row = positions.map(|i| record.get(i).unwrap_or_default().to_owned());
        entries.push(Location::Line(line), row)?;
    }
    entries.finish()
}

fn csv_error(error: csv::Error) -> IpaError {
    let line = error.position().map_or(0, csv::Position::line);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("it has {len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("it is not UTF-8 ({err})"),
        _ => error.to_string(),
    };
    IpaError::Csv { line, message }
}

fn parse_json(bytes: &[u8]) -> Result<Vec<Entry>, IpaError> {
    let json = |message: String| IpaError::Json { message };
    let value: Value = serde_json::from_slice(bytes).map_err(|e| json(e.to_string()))?;
    let (fields, records) = match value {
        Value::Array(records) => (None, records),
        Value::Object(mut object) => {
            // The CKAN API answers `{"success": true, "result": {"fields": ..., "records": ...}}`.
            if !object.contains_key("records")
                && let Some(Value::Object(result)) = object.remove("result")
            {
                object = result;
            }
            let records = match object.remove("records") {
                Some(Value::Array(records)) => records,
                _ => return Err(json("an object without a \"records\" array".to_owned())),
            };
            let fields = match object.remove("fields") {
                None | Some(Value::Null) => None,
                Some(Value::Array(fields)) => Some(field_names(&fields)?),
                Some(_) => return Err(json("\"fields\" is not an array".to_owned())),
            };
            (fields, records)
        }
        _ => return Err(json("neither an array nor an object".to_owned())),
    };
    let positions = match &fields {
        Some(names) => Some(require(locate(names.iter().map(String::as_str))?)?),
        None => None,
    };
    let width = fields.as_ref().map_or(0, Vec::len);
    let mut entries = Entries::default();
    for (i, record) in records.iter().enumerate() {
        let at = Location::Record(i + 1);
        let row = match (record, positions) {
            (Value::Object(object), _) => row_of_object(at, object)?,
            (Value::Array(values), Some(positions)) => {
                if values.len() != width {
                    return Err(IpaError::BadRecord {
                        at,
                        message: format!(
                            "it has {} values where \"fields\" names {width}",
                            values.len()
                        ),
                    });
                }
                let mut row = Row::default();
                for ((slot, position), column) in row.iter_mut().zip(positions).zip(COLUMNS) {
                    *slot = text(at, column, values.get(position).unwrap_or(&Value::Null))?;
                }
                row
            }
            (Value::Array(_), None) => {
                return Err(IpaError::BadRecord {
                    at,
                    message: "it is an array but the file has no \"fields\" naming its values"
                        .to_owned(),
                });
            }
            _ => {
                return Err(IpaError::BadRecord {
                    at,
                    message: "it is neither an object nor an array".to_owned(),
                });
            }
        };
        entries.push(at, row)?;
    }
    entries.finish()
}

/// The names of CKAN's `fields` (`[{"id": "Codice_IPA", "type": "text"}, ...]`; bare strings
/// are taken too).
fn field_names(fields: &[Value]) -> Result<Vec<String>, IpaError> {
    fields
        .iter()
        .enumerate()
        .map(|(i, field)| match field {
            Value::String(name) => Ok(name.clone()),
            Value::Object(object) => match object.get("id") {
                Some(Value::String(name)) => Ok(name.clone()),
                _ => Err(IpaError::Json {
                    message: format!("field {} has no \"id\"", i + 1),
                }),
            },
            _ => Err(IpaError::Json {
                message: format!("field {} is neither an object nor a string", i + 1),
            }),
        })
        .collect()
}

fn row_of_object(at: Location, object: &Map<String, Value>) -> Result<Row, IpaError> {
    let mut row = Row::default();
    for (slot, column) in row.iter_mut().zip(COLUMNS) {
        let value = object
            .iter()
            .find(|(key, _)| key.trim().eq_ignore_ascii_case(column))
            .map(|(_, value)| value)
            .ok_or(IpaError::MissingValue { at, column })?;
        *slot = text(at, column, value)?;
    }
    Ok(row)
}

/// A JSON value as text: strings as they are, `null` as empty; anything else is refused (a
/// fiscal code as a number would have lost its leading zeros).
fn text(at: Location, column: &'static str, value: &Value) -> Result<String, IpaError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        _ => Err(IpaError::BadRecord {
            at,
            message: format!("{column} is not a string"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ipa_code: &str, category: &str, typology: &str) -> Entry {
        Entry {
            ipa_code: ipa_code.to_owned(),
            fiscal_code: "00123456782".to_owned(),
            name: format!("Ente {ipa_code}"),
            category: category.to_owned(),
            typology: typology.to_owned(),
        }
    }

    fn codes(entry: &Entry) -> Vec<String> {
        attributes_of(entry).into_iter().map(|a| a.code).collect()
    }

    const PA_HASH: &str = "290d1371af230243db2c12eaaaa465ffd1457f06c91d8a14b7c5bca8d4e29bdf";
    const SCEC_HASH: &str = "f783a4ce0a0bab2fe1d648a240d2c69b7abc521684f12f0aa739ce9829994ca1";

    #[test]
    fn csv_with_bom_reordered_and_extra_columns_is_read() {
        let file = "\u{feff}\"tipologia\",\"Sito_istituzionale\",\"CODICE_IPA\",\"Codice_Categoria\",\
                    \"Denominazione_ente\",\"Codice_fiscale_ente\"\r\n\
                    \"Pubbliche Amministrazioni\",\"https://x.example\",\" c_r001 \",\"L6\",\
                    \"Comune di Roccabella\",\"00123456782\"\r\n\
                    \r\n\
                    \"Gestori di Pubblici Servizi\",\"\",\"gsp_1\",\"L37\",\"Acque, Servizi S.p.A.\",\
                    \"01234567897\"\r\n";
        let entries = parse(file.as_bytes()).unwrap();
        assert_eq!(
            entries,
            [
                Entry {
                    ipa_code: "c_r001".to_owned(),
                    fiscal_code: "00123456782".to_owned(),
                    name: "Comune di Roccabella".to_owned(),
                    category: "L6".to_owned(),
                    typology: TYPOLOGY_PA.to_owned(),
                },
                Entry {
                    ipa_code: "gsp_1".to_owned(),
                    fiscal_code: "01234567897".to_owned(),
                    name: "Acque, Servizi S.p.A.".to_owned(),
                    category: "L37".to_owned(),
                    typology: TYPOLOGY_GSP.to_owned(),
                },
            ]
        );
    }

    #[test]
    fn json_array_of_objects_is_read() {
        let file = r#"  [
            {"Codice_IPA": "c_r001", "Codice_fiscale_ente": "00123456782",
             "Denominazione_ente": " Comune di Roccabella ", "Codice_Categoria": "L6",
             "Tipologia": "Pubbliche Amministrazioni", "Acronimo": null},
            {"codice_ipa": "r_valdoro", "CODICE_FISCALE_ENTE": "80001234568",
             "Denominazione_ente": "Regione Valdoro", "Codice_Categoria": "L4",
             "Tipologia": null}
        ]"#;
        let entries = parse(file.as_bytes()).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].name, "Comune di Roccabella");
        assert_eq!(entries[1].ipa_code, "r_valdoro");
        assert_eq!(entries[1].fiscal_code, "80001234568");
        assert_eq!(entries[1].typology, "");
    }

    #[test]
    fn ckan_fields_and_array_records_are_read() {
        let file = r#"{"fields": [{"id": "_id", "type": "int"}, {"id": "Denominazione_ente"},
                        {"id": "Codice_IPA"}, {"id": "Tipologia"}, {"id": "Codice_Categoria"},
                        {"id": "Codice_fiscale_ente"}],
                       "records": [[1, "Regione Valdoro", "r_valdoro", "Pubbliche Amministrazioni",
                                    "L4", "80001234568"]]}"#;
        let entries = parse(file.as_bytes()).unwrap();
        assert_eq!(
            entries,
            [Entry {
                ipa_code: "r_valdoro".to_owned(),
                fiscal_code: "80001234568".to_owned(),
                name: "Regione Valdoro".to_owned(),
                category: "L4".to_owned(),
                typology: TYPOLOGY_PA.to_owned(),
            }]
        );
    }

    #[test]
    fn ckan_object_records_are_read_bare_or_in_the_api_answer() {
        let records = r#"{"records": [{"_id": 7, "Codice_IPA": "5n2tr557",
            "Codice_fiscale_ente": "15376371009", "Denominazione_ente": "PagoPA S.p.A.",
            "Codice_Categoria": "C13",
            "Tipologia": "Societa' in Conto Economico Consolidato"}]}"#;
        let bare = parse(records.as_bytes()).unwrap();
        assert_eq!(bare.len(), 1);
        assert_eq!(bare[0].category, "C13");
        let wrapped = format!(r#"{{"success": true, "result": {records}}}"#);
        assert_eq!(parse(wrapped.as_bytes()).unwrap(), bare);
    }

    #[test]
    fn a_comune_gets_its_category_its_own_and_its_typology() {
        let attributes = attributes_of(&entry("c_r001", "L6", TYPOLOGY_PA));
        assert_eq!(
            attributes
                .iter()
                .map(|a| (a.code.as_str(), a.name.as_str()))
                .collect::<Vec<_>>(),
            [
                (PA_HASH, TYPOLOGY_PA),
                ("L6", "Comuni e loro Consorzi e Associazioni"),
                ("c_r001", "Ente c_r001"),
            ]
        );
        assert!(attributes.iter().all(|a| !a.description.is_empty()));
        assert_eq!(
            kind_of(&entry("c_r001", "L6", TYPOLOGY_PA)),
            InstitutionKind::Pa
        );
    }

    #[test]
    fn s01g_gets_l37_in_place_of_its_category() {
        let e = entry("sirv", "S01G", TYPOLOGY_SCEC);
        assert_eq!(codes(&e), [GSP_CATEGORY, SCEC_HASH, "sirv"]);
        let l37 = &attributes_of(&e)[0];
        assert_eq!(l37.name, "Gestori di Pubblici Servizi");
        assert_eq!(kind_of(&e), InstitutionKind::Gsp);
    }

    #[test]
    fn the_gsp_typology_gets_l37_once() {
        let e = entry("acque", "L37", TYPOLOGY_GSP);
        assert_eq!(codes(&e), ["L37", "acque"]);
        assert_eq!(kind_of(&e), InstitutionKind::Gsp);
        let other_category = entry("bus", "L99", TYPOLOGY_GSP);
        assert_eq!(codes(&other_category), ["L37", "L99", "bus"]);
        assert_eq!(kind_of(&other_category), InstitutionKind::Gsp);
    }

    #[test]
    fn sag_is_a_gsp_without_l37() {
        let e = entry("stazione", "SAG", "Stazioni Appaltanti");
        assert_eq!(codes(&e), ["SAG", "stazione"]);
        assert_eq!(kind_of(&e), InstitutionKind::Gsp);
        assert_eq!(InstitutionKind::Gsp.as_str(), "GSP");
        assert_eq!(InstitutionKind::Pa.as_str(), "PA");
    }

    #[test]
    fn a_typology_code_is_the_sha256_of_its_text() {
        assert_eq!(typology_code(TYPOLOGY_PA), PA_HASH);
        assert_eq!(typology_code(TYPOLOGY_SCEC), SCEC_HASH);
        // The empty string's, the known vector.
        assert_eq!(
            typology_code(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let pagopa = attributes_of(&entry("5n2tr557", "C13", TYPOLOGY_SCEC));
        let typology = pagopa.iter().find(|a| a.code == SCEC_HASH).unwrap();
        assert_eq!(typology.name, TYPOLOGY_SCEC);
    }

    #[test]
    fn other_typologies_give_no_attribute() {
        for typology in [
            "Pubbliche amministrazioni",
            "Societa’ in Conto Economico Consolidato",
            "Stazioni Appaltanti",
            "",
        ] {
            assert_eq!(
                codes(&entry("x", "L6", typology)),
                ["L6", "x"],
                "{typology}"
            );
        }
    }

    #[test]
    fn an_unknown_category_is_named_after_its_code() {
        assert_eq!(category_name("L999"), None);
        let attributes = attributes_of(&entry("x", "L999", ""));
        assert_eq!(attributes[0].code, "L999");
        assert_eq!(attributes[0].name, "Categoria IPA L999");
        assert_eq!(
            category_name("L17"),
            Some("Universita' e Istituti di Istruzione Universitaria Pubblici")
        );
        assert_eq!(category_name("l6"), None);
    }

    #[test]
    fn attributes_are_sorted_and_unique() {
        for e in [
            entry("c_r001", "L6", TYPOLOGY_PA),
            entry("x", "S01G", TYPOLOGY_GSP),
            entry("y", "L37", TYPOLOGY_GSP),
        ] {
            let attributes = attributes_of(&e);
            assert!(
                attributes.windows(2).all(|w| w[0].code < w[1].code),
                "{attributes:?}"
            );
        }
    }

    #[test]
    fn a_missing_column_is_named() {
        let file =
            "Codice_IPA,Denominazione_ente,Codice_Categoria,Tipologia\nc_r001,Comune,L6,PA\n";
        assert_eq!(
            parse(file.as_bytes()),
            Err(IpaError::MissingColumn {
                column: "Codice_fiscale_ente"
            })
        );
        let fields = r#"{"fields": [{"id": "Codice_IPA"}], "records": []}"#;
        assert_eq!(
            parse(fields.as_bytes()),
            Err(IpaError::MissingColumn {
                column: "Codice_fiscale_ente"
            })
        );
        let twice = "Codice_IPA,codice_ipa,Codice_fiscale_ente,Denominazione_ente,\
                     Codice_Categoria,Tipologia\n";
        assert_eq!(
            parse(twice.as_bytes()),
            Err(IpaError::DuplicateColumn {
                column: "Codice_IPA"
            })
        );
    }

    #[test]
    fn an_empty_ipa_code_names_its_line_or_record() {
        let file = "Codice_IPA,Codice_fiscale_ente,Denominazione_ente,Codice_Categoria,Tipologia\n\
                    a,00123456782,A,L6,\n\
                    \"  \",80001234568,B,L6,\n";
        let error = parse(file.as_bytes()).unwrap_err();
        assert_eq!(
            error,
            IpaError::MissingValue {
                at: Location::Line(3),
                column: "Codice_IPA"
            }
        );
        assert_eq!(
            error.to_string(),
            "line 3 of the IPA file has no Codice_IPA"
        );
        let no_fiscal = r#"[{"Codice_IPA": "a", "Codice_fiscale_ente": "", "Denominazione_ente": "A",
                             "Codice_Categoria": "L6", "Tipologia": ""}]"#;
        let error = parse(no_fiscal.as_bytes()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "record 1 of the IPA file has no Codice_fiscale_ente"
        );
        let no_key = r#"[{"Codice_IPA": "a", "Codice_fiscale_ente": "1"}]"#;
        assert_eq!(
            parse(no_key.as_bytes()),
            Err(IpaError::MissingValue {
                at: Location::Record(1),
                column: "Denominazione_ente"
            })
        );
    }

    #[test]
    fn a_repeated_ipa_code_is_refused() {
        let file = "Codice_IPA,Codice_fiscale_ente,Denominazione_ente,Codice_Categoria,Tipologia\n\
                    a,00123456782,A,L6,\n\
                    b,80001234568,B,L6,\n\
                    a,15376371009,C,L6,\n";
        let error = parse(file.as_bytes()).unwrap_err();
        assert_eq!(
            error,
            IpaError::DuplicateCode {
                code: "a".to_owned(),
                at: Location::Line(4),
                first: Location::Line(2),
            }
        );
        assert_eq!(
            error.to_string(),
            "line 4 of the IPA file repeats the Codice_IPA a of line 2"
        );
    }

    #[test]
    fn malformed_rows_and_records_are_refused() {
        let short = "Codice_IPA,Codice_fiscale_ente,Denominazione_ente,Codice_Categoria,Tipologia\n\
                     a,00123456782,A,L6,\n\
                     b,80001234568\n";
        assert!(matches!(
            parse(short.as_bytes()),
            Err(IpaError::Csv { line: 3, .. })
        ));
        let number = r#"[{"Codice_IPA": "a", "Codice_fiscale_ente": 123, "Denominazione_ente": "A",
                          "Codice_Categoria": "L6", "Tipologia": ""}]"#;
        assert!(matches!(
            parse(number.as_bytes()),
            Err(IpaError::BadRecord {
                at: Location::Record(1),
                ..
            })
        ));
        let arrays_without_fields = r#"{"records": [["a", "00123456782"]]}"#;
        assert!(matches!(
            parse(arrays_without_fields.as_bytes()),
            Err(IpaError::BadRecord { .. })
        ));
        let wrong_width = r#"{"fields": ["Codice_IPA", "Codice_fiscale_ente", "Denominazione_ente",
                               "Codice_Categoria", "Tipologia"], "records": [["a", "1"]]}"#;
        assert!(matches!(
            parse(wrong_width.as_bytes()),
            Err(IpaError::BadRecord { .. })
        ));
    }

    #[test]
    fn empty_files_and_garbage_are_refused() {
        for empty in [
            &b""[..],
            b"  \n\t",
            b"\xEF\xBB\xBF",
            b"[]",
            br#"{"records": []}"#,
        ] {
            assert_eq!(parse(empty), Err(IpaError::Empty), "{empty:?}");
        }
        let header_only =
            "Codice_IPA,Codice_fiscale_ente,Denominazione_ente,Codice_Categoria,Tipologia\n";
        assert_eq!(parse(header_only.as_bytes()), Err(IpaError::Empty));
        for garbage in [
            &b"\x00\xff\xfe\x01garbage"[..],
            b"hello, world\nfoo, bar\n",
            b"Codice_IPA;Codice_fiscale_ente;Denominazione_ente;Codice_Categoria;Tipologia\n",
        ] {
            assert_eq!(parse(garbage), Err(IpaError::NotCsvNorJson), "{garbage:?}");
        }
        for json in [&b"{not json"[..], b"[1, 2", br#"{"rows": []}"#, b"{} x"] {
            assert!(
                matches!(parse(json), Err(IpaError::Json { .. })),
                "{json:?}"
            );
        }
        assert!(matches!(
            parse(b"[1]"),
            Err(IpaError::BadRecord {
                at: Location::Record(1),
                ..
            })
        ));
    }

    #[test]
    fn the_demo_sample_is_read() {
        let entries = parse(include_bytes!("../../../selfcare/demo/ipa-enti.csv")).unwrap();
        assert!(entries.len() >= 250, "{} entries", entries.len());
        let find = |code: &str| {
            entries
                .iter()
                .find(|e| e.ipa_code == code)
                .unwrap_or_else(|| panic!("{code} is not in the sample"))
        };
        let comune = find("c_r001");
        assert_eq!(comune.name, "Comune di Roccabella");
        assert_eq!(comune.fiscal_code, "00123456782");
        assert_eq!(comune.category, "L6");
        assert_eq!(comune.typology, TYPOLOGY_PA);
        let regione = find("r_valdoro");
        assert_eq!(regione.name, "Regione Valdoro");
        assert_eq!(regione.fiscal_code, "80001234568");
        assert_eq!(regione.category, "L4");
        let pagopa = find("5n2tr557");
        assert_eq!(pagopa.name, "PagoPA S.p.A.");
        assert_eq!(pagopa.fiscal_code, "15376371009");
        assert_eq!(pagopa.category, "C13");
        assert_eq!(pagopa.typology, TYPOLOGY_SCEC);

        assert!(codes(comune).iter().any(|c| c == "L6"));
        assert!(!codes(pagopa).iter().any(|c| c == "L6"));
        assert!(codes(pagopa).iter().any(|c| c == SCEC_HASH));
        assert_eq!(kind_of(pagopa), InstitutionKind::Pa);
        assert!(
            entries
                .iter()
                .all(|e| e.fiscal_code.len() == 11
                    && e.fiscal_code.bytes().all(|b| b.is_ascii_digit())),
            "a fiscal code is not 11 digits"
        );
        let mut fiscal: Vec<_> = entries.iter().map(|e| &e.fiscal_code).collect();
        fiscal.sort();
        fiscal.dedup();
        assert_eq!(fiscal.len(), entries.len(), "a fiscal code is repeated");
        assert!(entries.iter().any(|e| kind_of(e) == InstitutionKind::Gsp));
        assert!(entries.iter().any(|e| e.category == "S01G"));
    }
}
