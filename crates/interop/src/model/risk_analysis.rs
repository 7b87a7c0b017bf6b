//! The risk analysis of a purpose, as data: a versioned form of questions (served at
//! `GET /purposes/riskAnalysis/form`) and the check of a consumer's answers against it.
//!
//! Answers are `{"version": "1.0", "answers": {"<question id>": ["<value>", ...]}}`: one value
//! for a single choice or a text, one or more for a multiple choice. A question that depends
//! on another is asked (and required, if it is) only when the other's answer includes the
//! given value; answering it otherwise is an error.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::FieldError;
use super::read::{Reader, check_length, join};

/// The version of [`current_form`]; answers to another version are refused.
pub const FORM_VERSION: &str = "1.0";
pub const TEXT_MAX: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InteropRiskAnalysisForm)]
#[serde(rename_all = "camelCase")]
pub struct RiskAnalysisForm {
    pub version: &'static str,
    pub questions: Vec<Question>,
}

impl RiskAnalysisForm {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// Whether `q` is asked, given the answers that apply ([`Self::applicable`]): always when it
    /// depends on nothing, else when the answer it depends on includes its value.
    pub fn is_asked(q: &Question, applicable: &BTreeMap<String, Vec<String>>) -> bool {
        q.depends_on.is_none_or(|d| {
            applicable
                .get(d.question)
                .is_some_and(|given| given.iter().any(|v| v == d.value))
        })
    }

    /// The answers to the questions asked: one that depends on another counts only when the
    /// other is asked and its answer includes the value (questions depend on earlier ones).
    pub fn applicable(
        &self,
        answers: &BTreeMap<String, Vec<String>>,
    ) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for q in &self.questions {
            if let Some(values) = answers.get(q.id)
                && Self::is_asked(q, &out)
            {
                out.insert(q.id.to_string(), values.clone());
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InteropQuestion)]
#[serde(rename_all = "camelCase")]
pub struct Question {
    pub id: &'static str,
    pub label_it: &'static str,
    pub label_en: &'static str,
    pub kind: QuestionKind,
    /// The choices of a SINGLE or MULTI question; empty for TEXT.
    pub options: Vec<Choice>,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Dependency>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InteropQuestionKind)]
#[serde(rename_all = "UPPERCASE")]
pub enum QuestionKind {
    /// Exactly one of the options.
    Single,
    /// One or more of the options.
    Multi,
    /// Free text, 1 to [`TEXT_MAX`] characters.
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InteropChoice)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    pub value: &'static str,
    pub label_it: &'static str,
    pub label_en: &'static str,
}

/// The question is asked only when the answer to `question` includes `value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InteropDependency)]
#[serde(rename_all = "camelCase")]
pub struct Dependency {
    pub question: &'static str,
    pub value: &'static str,
}

/// Checked answers, in the shape they are received, stored and returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = InteropRiskAnswers)]
#[serde(rename_all = "camelCase")]
pub struct RiskAnswers {
    pub version: String,
    /// Question id → values (trimmed for texts); only the questions answered.
    pub answers: BTreeMap<String, Vec<String>>,
}

const fn choice(value: &'static str, label_it: &'static str, label_en: &'static str) -> Choice {
    Choice {
        value,
        label_it,
        label_en,
    }
}

const YES: Choice = choice("YES", "Sì", "Yes");
const NO: Choice = choice("NO", "No", "No");

fn question(
    id: &'static str,
    label_it: &'static str,
    label_en: &'static str,
    kind: QuestionKind,
    options: Vec<Choice>,
) -> Question {
    Question {
        id,
        label_it,
        label_en,
        kind,
        options,
        required: true,
        depends_on: None,
    }
}

fn when(mut q: Question, question: &'static str, value: &'static str) -> Question {
    q.depends_on = Some(Dependency { question, value });
    q
}

/// The risk analysis a public administration fills in for a purpose (after the one of the
/// real platform: the purpose, personal data and its legal basis under the GDPR, retention,
/// disclosure, security, the impact assessment and the institution's declaration).
pub fn current_form() -> RiskAnalysisForm {
    use QuestionKind::*;
    let questions = vec![
        question(
            "purpose",
            "Descrivi la finalità istituzionale per cui l'ente accede ai dati dell'e-service",
            "Describe the institutional purpose for which the institution accesses the \
             e-service's data",
            Text,
            vec![],
        ),
        question(
            "usesPersonalData",
            "La finalità comporta il trattamento di dati personali?",
            "Does the purpose involve processing personal data?",
            Single,
            vec![YES, NO],
        ),
        when(
            question(
                "personalDataTypes",
                "Quali categorie di dati personali sono trattate?",
                "Which categories of personal data are processed?",
                Multi,
                vec![
                    choice(
                        "COMMON",
                        "Dati personali comuni (es. anagrafici, di contatto)",
                        "Common personal data (e.g. identity, contact details)",
                    ),
                    choice(
                        "SPECIAL",
                        "Categorie particolari di dati personali (art. 9 GDPR, es. dati sulla salute)",
                        "Special categories of personal data (GDPR art. 9, e.g. health data)",
                    ),
                    choice(
                        "JUDICIAL",
                        "Dati relativi a condanne penali e reati (art. 10 GDPR)",
                        "Data relating to criminal convictions and offences (GDPR art. 10)",
                    ),
                ],
            ),
            "usesPersonalData",
            "YES",
        ),
        when(
            question(
                "legalBasis",
                "Su quale base giuridica si fonda il trattamento (art. 6 GDPR)?",
                "What is the legal basis of the processing (GDPR art. 6)?",
                Multi,
                vec![
                    choice(
                        "CONSENT",
                        "Consenso dell'interessato (art. 6, par. 1, lett. a)",
                        "Consent of the data subject (art. 6(1)(a))",
                    ),
                    choice(
                        "CONTRACT",
                        "Esecuzione di un contratto di cui l'interessato è parte (art. 6, par. 1, lett. b)",
                        "Performance of a contract to which the data subject is party (art. 6(1)(b))",
                    ),
                    choice(
                        "LEGAL_OBLIGATION",
                        "Adempimento di un obbligo legale (art. 6, par. 1, lett. c)",
                        "Compliance with a legal obligation (art. 6(1)(c))",
                    ),
                    choice(
                        "VITAL_INTERESTS",
                        "Salvaguardia degli interessi vitali dell'interessato o di altri (art. 6, par. 1, lett. d)",
                        "Protection of the vital interests of the data subject or of others (art. 6(1)(d))",
                    ),
                    choice(
                        "PUBLIC_INTEREST",
                        "Esecuzione di un compito di interesse pubblico o connesso all'esercizio di pubblici poteri (art. 6, par. 1, lett. e)",
                        "Performance of a task carried out in the public interest or in the exercise of official authority (art. 6(1)(e))",
                    ),
                    choice(
                        "LEGITIMATE_INTEREST",
                        "Legittimo interesse del titolare o di terzi (art. 6, par. 1, lett. f)",
                        "Legitimate interests of the controller or of third parties (art. 6(1)(f))",
                    ),
                ],
            ),
            "usesPersonalData",
            "YES",
        ),
        when(
            question(
                "publicInterestReference",
                "Indica la norma di legge o di regolamento che attribuisce all'ente il compito di interesse pubblico o il pubblico potere",
                "Name the law or regulation that gives the institution the public-interest task or the official authority",
                Text,
                vec![],
            ),
            "legalBasis",
            "PUBLIC_INTEREST",
        ),
        when(
            question(
                "dataRetention",
                "Per quanto tempo sono conservati i dati ottenuti?",
                "How long is the data obtained kept?",
                Single,
                vec![
                    choice(
                        "NOT_STORED",
                        "Non sono conservati: sono usati solo durante la singola richiesta",
                        "Not kept: used only while handling the single request",
                    ),
                    choice(
                        "PURPOSE_DURATION",
                        "Per il tempo strettamente necessario alla finalità",
                        "For the time strictly necessary for the purpose",
                    ),
                    choice(
                        "LEGAL_TERM",
                        "Per il periodo previsto dalla normativa di settore",
                        "For the period set by the sector's regulations",
                    ),
                ],
            ),
            "usesPersonalData",
            "YES",
        ),
        question(
            "sharedWithThirdParties",
            "I dati ottenuti sono comunicati a soggetti terzi?",
            "Is the data obtained disclosed to third parties?",
            Single,
            vec![YES, NO],
        ),
        when(
            question(
                "thirdParties",
                "Indica i soggetti terzi destinatari e il motivo della comunicazione",
                "Name the third-party recipients and why the data is disclosed to them",
                Text,
                vec![],
            ),
            "sharedWithThirdParties",
            "YES",
        ),
        question(
            "securityMeasures",
            "Quali misure di sicurezza adotta l'ente per i dati ottenuti?",
            "Which security measures does the institution apply to the data obtained?",
            Multi,
            vec![
                choice(
                    "ACCESS_CONTROL",
                    "Accesso riservato al personale autorizzato e autenticato",
                    "Access restricted to authorised, authenticated staff",
                ),
                choice(
                    "ENCRYPTION",
                    "Cifratura dei dati in transito e a riposo",
                    "Encryption of data in transit and at rest",
                ),
                choice(
                    "LOGGING",
                    "Tracciamento degli accessi e delle operazioni",
                    "Logging of access and operations",
                ),
                choice(
                    "MINIMISATION",
                    "Minimizzazione o pseudonimizzazione dei dati",
                    "Data minimisation or pseudonymisation",
                ),
                choice(
                    "TRAINING",
                    "Formazione del personale sul trattamento dei dati",
                    "Staff training on data processing",
                ),
            ],
        ),
        when(
            question(
                "dpia",
                "È stata svolta la valutazione d'impatto sulla protezione dei dati (DPIA, art. 35 GDPR)?",
                "Has a data protection impact assessment (DPIA, GDPR art. 35) been carried out?",
                Single,
                vec![
                    choice("DONE", "Sì, è stata svolta", "Yes, it has been carried out"),
                    choice(
                        "NOT_REQUIRED",
                        "Non è necessaria per questo trattamento",
                        "It is not required for this processing",
                    ),
                    choice("IN_PROGRESS", "È in corso", "It is in progress"),
                ],
            ),
            "usesPersonalData",
            "YES",
        ),
        Question {
            required: false,
            ..question(
                "notes",
                "Altre informazioni utili all'erogatore (facoltativo)",
                "Other information useful to the producer (optional)",
                Text,
                vec![],
            )
        },
        question(
            "confirmation",
            "L'ente dichiara che i dati saranno trattati solo per la finalità indicata, nel rispetto del GDPR e del Codice in materia di protezione dei dati personali (d.lgs. 196/2003)",
            "The institution declares that the data will be processed only for the stated purpose, in accordance with the GDPR and the Italian Personal Data Protection Code (Legislative Decree 196/2003)",
            Single,
            vec![choice("CONFIRMED", "Confermo", "I confirm")],
        ),
    ];
    RiskAnalysisForm {
        version: FORM_VERSION,
        questions,
    }
}

/// Checks a request's answers (`{version, answers}` at the root) against `form`. Errors are
/// named `version`, `answers` and `answers.<question id>`.
pub fn validate_answers(
    form: &RiskAnalysisForm,
    value: &Value,
) -> Result<RiskAnswers, Vec<FieldError>> {
    validate_at(form, value, "body")
}

/// As [`validate_answers`], for answers found at `path` in a larger payload
/// (`riskAnalysisForm`): errors are named `<path>.answers.<question id>`.
pub fn validate_at(
    form: &RiskAnalysisForm,
    value: &Value,
    path: &str,
) -> Result<RiskAnswers, Vec<FieldError>> {
    let mut r = Reader::new(value, path)?;
    let version_path = r.path("version");
    match r.get("version") {
        Some(Value::String(v)) if v == form.version => {}
        Some(Value::String(v)) => r.err(
            version_path,
            format!(
                "must be {:?}, the version of the current form (it is {v:?})",
                form.version
            ),
        ),
        Some(_) => r.err(version_path, "must be a string"),
        None => r.err(version_path, "is required"),
    }
    let answers_path = r.path("answers");
    let mut answers = BTreeMap::new();
    match r.get("answers") {
        Some(Value::Object(given)) => {
            for key in given.keys() {
                if form.question(key).is_none() {
                    r.err(
                        join(&answers_path, key),
                        format!(
                            "is not a question of the risk analysis form (version {})",
                            form.version
                        ),
                    );
                }
            }
            check_questions(form, given, &answers_path, &mut r.errors, &mut answers);
        }
        Some(_) => r.err(
            answers_path,
            "must be an object of question ids and lists of values",
        ),
        None => r.err(answers_path, "is required"),
    }
    if r.errors.is_empty() {
        Ok(RiskAnswers {
            version: form.version.to_string(),
            answers,
        })
    } else {
        Err(r.errors)
    }
}

/// What is known of an answer when its dependents are checked.
enum Status {
    Answered(Vec<String>),
    Unanswered,
    /// Wrong, or required and missing: whether a dependent question is asked cannot be told.
    Invalid,
}

fn check_questions(
    form: &RiskAnalysisForm,
    given: &serde_json::Map<String, Value>,
    answers_path: &str,
    errors: &mut Vec<FieldError>,
    answers: &mut BTreeMap<String, Vec<String>>,
) {
    let mut status: HashMap<&str, Status> = HashMap::new();
    for q in &form.questions {
        let path = join(answers_path, q.id);
        // Some(true): asked; Some(false): not asked; None: cannot tell.
        let asked = match q.depends_on {
            None => Some(true),
            Some(d) => match status.get(d.question) {
                Some(Status::Answered(values)) => Some(values.iter().any(|v| v == d.value)),
                Some(Status::Invalid) => None,
                Some(Status::Unanswered) | None => Some(false),
            },
        };
        let values = match given.get(q.id) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) if items.is_empty() => None,
            Some(Value::Array(items)) => {
                let strings: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                match strings {
                    Some(s) => Some(s),
                    None => {
                        errors.push(FieldError::new(path, "must be a list of strings"));
                        status.insert(q.id, Status::Invalid);
                        continue;
                    }
                }
            }
            Some(_) => {
                errors.push(FieldError::new(path, "must be a list of strings"));
                status.insert(q.id, Status::Invalid);
                continue;
            }
        };
        let Some(values) = values else {
            if q.required && asked == Some(true) {
                errors.push(FieldError::new(path, "is required"));
                // Its dependents are not judged on a missing answer.
                status.insert(q.id, Status::Invalid);
            } else {
                status.insert(q.id, Status::Unanswered);
            }
            continue;
        };
        if let (Some(false), Some(d)) = (asked, q.depends_on) {
            errors.push(FieldError::new(
                path,
                format!(
                    "must not be answered unless {} is {}",
                    join(answers_path, d.question),
                    d.value
                ),
            ));
            status.insert(q.id, Status::Invalid);
            continue;
        }
        match check_values(q, &values) {
            Ok(values) => {
                answers.insert(q.id.to_string(), values.clone());
                status.insert(q.id, Status::Answered(values));
            }
            Err(message) => {
                errors.push(FieldError::new(path, message));
                status.insert(q.id, Status::Invalid);
            }
        }
    }
}

fn check_values(q: &Question, values: &[&str]) -> Result<Vec<String>, String> {
    match q.kind {
        QuestionKind::Single | QuestionKind::Text if values.len() != 1 => Err(format!(
            "must have exactly one value (it has {})",
            values.len()
        )),
        QuestionKind::Text => check_length(values[0], 1, TEXT_MAX).map(|t| vec![t]),
        QuestionKind::Single | QuestionKind::Multi => {
            let mut out: Vec<String> = Vec::new();
            for v in values {
                if !q.options.iter().any(|o| o.value == *v) {
                    let allowed: Vec<&str> = q.options.iter().map(|o| o.value).collect();
                    return Err(format!("{v:?} is not one of {}", allowed.join(", ")));
                }
                if out.iter().any(|o| o == v) {
                    return Err(format!("{v:?} appears more than once"));
                }
                out.push((*v).to_string());
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// Answers to every question of the current form, each as asked.
    pub(crate) fn complete_answers() -> Value {
        json!({
            "version": "1.0",
            "answers": {
                "purpose": ["Invio degli avvisi di pagamento della TARI ai contribuenti"],
                "usesPersonalData": ["YES"],
                "personalDataTypes": ["COMMON"],
                "legalBasis": ["LEGAL_OBLIGATION", "PUBLIC_INTEREST"],
                "publicInterestReference": ["Legge 27 dicembre 2013, n. 147, art. 1, comma 639"],
                "dataRetention": ["PURPOSE_DURATION"],
                "sharedWithThirdParties": ["YES"],
                "thirdParties": ["Il concessionario della riscossione, per l'invio degli avvisi"],
                "securityMeasures": ["ACCESS_CONTROL", "ENCRYPTION", "LOGGING"],
                "dpia": ["DONE"],
                "notes": ["Nessuna"],
                "confirmation": ["CONFIRMED"]
            }
        })
    }

    /// The fewest answers the form accepts.
    fn minimal_answers() -> Value {
        json!({
            "version": "1.0",
            "answers": {
                "purpose": ["Verifica dei requisiti per il bonus"],
                "usesPersonalData": ["NO"],
                "sharedWithThirdParties": ["NO"],
                "securityMeasures": ["ACCESS_CONTROL"],
                "confirmation": ["CONFIRMED"]
            }
        })
    }

    fn errors(v: Value) -> Vec<(String, String)> {
        validate_answers(&current_form(), &v)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    fn fields(v: Value) -> Vec<String> {
        errors(v).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn the_form_is_consistent() {
        let form = current_form();
        assert_eq!(form.version, FORM_VERSION);
        assert!((8..=15).contains(&form.questions.len()));
        for (i, q) in form.questions.iter().enumerate() {
            assert_eq!(
                form.questions.iter().filter(|o| o.id == q.id).count(),
                1,
                "{} is unique",
                q.id
            );
            assert!(!q.label_it.is_empty() && !q.label_en.is_empty());
            match q.kind {
                QuestionKind::Text => assert!(q.options.is_empty(), "{}", q.id),
                _ => assert!(!q.options.is_empty(), "{}", q.id),
            }
            // A dependency names an earlier choice question and one of its values.
            if let Some(d) = q.depends_on {
                let parent = form.questions[..i]
                    .iter()
                    .find(|p| p.id == d.question)
                    .unwrap_or_else(|| panic!("{} depends on a later or unknown question", q.id));
                assert!(
                    parent.options.iter().any(|o| o.value == d.value),
                    "{}",
                    q.id
                );
            }
        }
        assert!(form.questions.iter().any(|q| !q.required));
    }

    #[test]
    fn the_form_serializes_for_the_api() {
        let v = serde_json::to_value(current_form()).unwrap();
        assert_eq!(v["version"], "1.0");
        let q = &v["questions"][2];
        assert_eq!(q["id"], "personalDataTypes");
        assert_eq!(q["kind"], "MULTI");
        assert_eq!(q["required"], true);
        assert_eq!(
            q["dependsOn"],
            json!({"question": "usesPersonalData", "value": "YES"})
        );
        assert!(q["labelIt"].is_string() && q["labelEn"].is_string());
        assert_eq!(q["options"][0]["value"], "COMMON");
        assert!(q["options"][0]["labelIt"].is_string());
        assert!(v["questions"][0].get("dependsOn").is_none());
    }

    #[test]
    fn complete_and_minimal_answers_are_accepted() {
        let a = validate_answers(&current_form(), &complete_answers()).unwrap();
        assert_eq!(a.version, "1.0");
        assert_eq!(a.answers.len(), current_form().questions.len());
        assert_eq!(
            a.answers["legalBasis"],
            vec!["LEGAL_OBLIGATION", "PUBLIC_INTEREST"]
        );
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            complete_answers(),
            "stored as received"
        );
        let a = validate_answers(&current_form(), &minimal_answers()).unwrap();
        assert_eq!(a.answers.len(), 5);
    }

    #[test]
    fn empty_and_null_answers_count_as_unanswered() {
        let mut v = minimal_answers();
        v["answers"]["notes"] = json!([]);
        v["answers"]["thirdParties"] = json!(null);
        let a = validate_answers(&current_form(), &v).unwrap();
        assert!(!a.answers.contains_key("notes"));
        v["answers"]["purpose"] = json!([]);
        assert_eq!(fields(v), vec!["answers.purpose"]);
    }

    #[test]
    fn the_version_must_be_the_forms() {
        let mut v = complete_answers();
        v["version"] = json!("0.9");
        let e = errors(v.clone());
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, "version");
        assert!(e[0].1.contains("1.0") && e[0].1.contains("0.9"), "{e:?}");
        v["version"] = json!(1.0);
        assert_eq!(fields(v.clone()), vec!["version"]);
        v.as_object_mut().unwrap().remove("version");
        assert_eq!(fields(v), vec!["version"]);
    }

    #[test]
    fn the_shape_is_checked() {
        assert_eq!(fields(json!([])), vec!["body"]);
        assert_eq!(fields(json!({"version": "1.0"})), vec!["answers"]);
        assert_eq!(
            fields(json!({"version": "1.0", "answers": []})),
            vec!["answers"]
        );
        let mut v = complete_answers();
        v["answers"]["purpose"] = json!("not a list");
        assert_eq!(fields(v.clone()), vec!["answers.purpose"]);
        v["answers"]["purpose"] = json!([1]);
        assert_eq!(fields(v), vec!["answers.purpose"]);
    }

    #[test]
    fn unknown_questions_are_refused() {
        let mut v = complete_answers();
        v["answers"]["favouriteColour"] = json!(["BLUE"]);
        assert_eq!(fields(v), vec!["answers.favouriteColour"]);
    }

    #[test]
    fn required_questions_must_be_answered_when_asked() {
        for id in [
            "purpose",
            "usesPersonalData",
            "personalDataTypes",
            "legalBasis",
            "publicInterestReference",
            "dataRetention",
            "sharedWithThirdParties",
            "thirdParties",
            "securityMeasures",
            "dpia",
            "confirmation",
        ] {
            let mut v = complete_answers();
            v["answers"].as_object_mut().unwrap().remove(id);
            let got = errors(v);
            assert_eq!(got.len(), 1, "{id}: {got:?}");
            assert_eq!(got[0].0, format!("answers.{id}"));
            assert_eq!(got[0].1, "is required");
        }
        let mut v = complete_answers();
        v["answers"].as_object_mut().unwrap().remove("notes");
        assert!(fields(v).is_empty(), "notes is optional");
        // Without PUBLIC_INTEREST, its reference is not asked.
        let mut v = complete_answers();
        v["answers"]["legalBasis"] = json!(["LEGAL_OBLIGATION"]);
        v["answers"]
            .as_object_mut()
            .unwrap()
            .remove("publicInterestReference");
        assert!(fields(v).is_empty());
    }

    #[test]
    fn dependent_questions_are_refused_when_not_asked() {
        let mut v = minimal_answers();
        v["answers"]["thirdParties"] = json!(["Qualcuno"]);
        let e = errors(v);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, "answers.thirdParties");
        assert!(
            e[0].1.contains("answers.sharedWithThirdParties is YES"),
            "{e:?}"
        );
        // Not asked because its parent is not asked either.
        let mut v = minimal_answers();
        v["answers"]["publicInterestReference"] = json!(["Legge"]);
        assert_eq!(fields(v), vec!["answers.publicInterestReference"]);
        // Personal data answered NO: all its questions must go.
        let mut v = complete_answers();
        v["answers"]["usesPersonalData"] = json!(["NO"]);
        assert_eq!(
            fields(v),
            vec![
                "answers.personalDataTypes",
                "answers.legalBasis",
                "answers.dataRetention",
                "answers.dpia"
            ],
            "publicInterestReference is not reported again: its parent is already wrong"
        );
    }

    #[test]
    fn a_wrong_parent_does_not_cascade() {
        let mut v = complete_answers();
        v["answers"]["sharedWithThirdParties"] = json!(["MAYBE"]);
        assert_eq!(fields(v.clone()), vec!["answers.sharedWithThirdParties"]);
        v["answers"].as_object_mut().unwrap().remove("thirdParties");
        assert_eq!(fields(v), vec!["answers.sharedWithThirdParties"]);
    }

    #[test]
    fn values_must_fit_the_kind() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("usesPersonalData", json!(["YES", "NO"]), "exactly one"),
            ("usesPersonalData", json!(["yes"]), "not one of YES, NO"),
            ("dataRetention", json!(["FOREVER"]), "not one of"),
            (
                "legalBasis",
                json!(["CONSENT", "CONSENT"]),
                "more than once",
            ),
            ("legalBasis", json!(["CONSENT", "WHIM"]), "not one of"),
            ("purpose", json!(["a", "b"]), "exactly one"),
            ("purpose", json!(["   "]), "must not be empty"),
            ("purpose", json!(["p".repeat(2001)]), "2001"),
            ("confirmation", json!(["NO"]), "not one of CONFIRMED"),
        ];
        for (id, value, message) in cases {
            let mut v = complete_answers();
            v["answers"][id] = value.clone();
            let e = errors(v);
            assert_eq!(e.len(), 1, "{id} = {value}: {e:?}");
            assert_eq!(e[0].0, format!("answers.{id}"));
            assert!(e[0].1.contains(message), "{id} = {value}: {}", e[0].1);
        }
        let mut v = complete_answers();
        v["answers"]["purpose"] = json!(["p".repeat(2000)]);
        assert!(fields(v).is_empty());
        let mut v = complete_answers();
        v["answers"]["purpose"] = json!(["  Finalità  "]);
        let a = validate_answers(&current_form(), &v).unwrap();
        assert_eq!(a.answers["purpose"], vec!["Finalità"]);
    }

    #[test]
    fn errors_inside_a_purpose_are_named_by_their_full_path() {
        let mut v = complete_answers();
        v["answers"]["dpia"] = json!(["SOMETIMES"]);
        let e = validate_at(&current_form(), &v, "riskAnalysisForm").unwrap_err();
        assert_eq!(e[0].field, "riskAnalysisForm.answers.dpia");
        let e = validate_at(&current_form(), &json!(1), "riskAnalysisForm").unwrap_err();
        assert_eq!(e[0].field, "riskAnalysisForm");
    }
}
