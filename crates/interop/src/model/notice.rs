//! What a producer's decision, or a request that waits for one, tells: the action code of the
//! record in the acting institution's activity log, and the email to the other side's admins.
//! Pure: the store writes both in the change's transaction.
//!
//! Emails are in Italian, as the platform's other emails (the person may not have chosen a
//! language); the activity log is told in the reader's language by the Reserved Area, from the
//! record's action code and details.

use serde_json::{Value, json};

use super::Environment;

/// Something that happened to an agreement or a purpose, with the names it is told by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    pub kind: Kind,
    pub env: Environment,
    pub eservice: &'a str,
    /// The version of the e-service the agreement is on (agreements only).
    pub version: &'a str,
    /// The purpose's title (purposes only).
    pub purpose: &'a str,
    pub producer: &'a str,
    pub consumer: &'a str,
    /// The producer's reason, when it rejects.
    pub reason: &'a str,
}

/// The events told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The consumer submitted an agreement that waits for the producer.
    AgreementWaiting,
    AgreementApproved,
    AgreementRejected,
    /// Suspended by the producer.
    AgreementSuspended,
    /// The producer lifted its suspension.
    AgreementReactivated,
    /// A purpose version over the quota waits for the producer.
    PurposeWaiting,
    PurposeApproved,
    PurposeRejected,
    PurposeSuspended,
    PurposeReactivated,
}

/// Who is told by email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The producer's admins (a request waits for them).
    Producer,
    /// The consumer's admins (the producer decided).
    Consumer,
}

impl Kind {
    /// The action code of the activity-log record (in the acting institution's log).
    pub fn action(self) -> &'static str {
        match self {
            Kind::AgreementWaiting => "interop.agreement.submitted",
            Kind::AgreementApproved => "interop.agreement.approved",
            Kind::AgreementRejected => "interop.agreement.rejected",
            Kind::AgreementSuspended => "interop.agreement.suspended",
            Kind::AgreementReactivated => "interop.agreement.reactivated",
            Kind::PurposeWaiting => "interop.purpose.submitted",
            Kind::PurposeApproved => "interop.purpose.approved",
            Kind::PurposeRejected => "interop.purpose.rejected",
            Kind::PurposeSuspended => "interop.purpose.suspended",
            Kind::PurposeReactivated => "interop.purpose.reactivated",
        }
    }

    /// Who gets an email, if anyone: the producer when a request waits; the consumer when the
    /// producer approves, rejects or suspends (a reactivation is not mailed).
    pub fn audience(self) -> Option<Audience> {
        match self {
            Kind::AgreementWaiting | Kind::PurposeWaiting => Some(Audience::Producer),
            Kind::AgreementApproved
            | Kind::AgreementRejected
            | Kind::AgreementSuspended
            | Kind::PurposeApproved
            | Kind::PurposeRejected
            | Kind::PurposeSuspended => Some(Audience::Consumer),
            Kind::AgreementReactivated | Kind::PurposeReactivated => None,
        }
    }

    /// Whether the producer acted (else the consumer's request).
    pub fn by_producer(self) -> bool {
        !matches!(self, Kind::AgreementWaiting | Kind::PurposeWaiting)
    }
}

fn environment(env: Environment) -> &'static str {
    match env {
        Environment::Produzione => "Interoperabilità",
        Environment::Collaudo => "Interoperabilità Collaudo",
    }
}

impl Event<'_> {
    /// The details of the activity-log record: the names the sentence is told by (the
    /// Reserved Area does not read Interoperability's tables).
    pub fn details(&self) -> Value {
        let party = if self.kind.by_producer() {
            self.consumer
        } else {
            self.producer
        };
        let mut d = json!({
            "env": self.env.as_str(),
            "eservice": self.eservice,
            "party": party,
        });
        if !self.version.is_empty() {
            d["version"] = json!(self.version);
        }
        if !self.purpose.is_empty() {
            d["purpose"] = json!(self.purpose);
        }
        d
    }

    /// The email's subject and text.
    pub fn email(&self) -> (String, String) {
        let env = environment(self.env);
        let (subject, what) = match self.kind {
            Kind::AgreementWaiting => (
                "Una richiesta di fruizione attende la tua approvazione",
                format!(
                    "{} chiede di fruire dell'e-service «{}» (versione {}) del tuo ente, {}. \
                     La richiesta attende la tua approvazione in «Richieste ricevute».",
                    self.consumer, self.eservice, self.version, self.producer
                ),
            ),
            Kind::AgreementApproved => (
                "Richiesta di fruizione approvata",
                format!(
                    "{} ha approvato la richiesta di fruizione del tuo ente, {}, per l'e-service \
                     «{}» (versione {}).",
                    self.producer, self.consumer, self.eservice, self.version
                ),
            ),
            Kind::AgreementRejected => (
                "Richiesta di fruizione rifiutata",
                format!(
                    "{} ha rifiutato la richiesta di fruizione del tuo ente, {}, per l'e-service \
                     «{}» (versione {}). Il motivo: {}",
                    self.producer, self.consumer, self.eservice, self.version, self.reason
                ),
            ),
            Kind::AgreementSuspended => (
                "Richiesta di fruizione sospesa dall'erogatore",
                format!(
                    "{} ha sospeso la richiesta di fruizione del tuo ente, {}, per l'e-service \
                     «{}»: finché resta sospesa, i voucher per questo e-service non sono emessi.",
                    self.producer, self.consumer, self.eservice
                ),
            ),
            Kind::PurposeWaiting => (
                "Una finalità attende la tua approvazione",
                format!(
                    "{} chiede più chiamate giornaliere di quelle previste per l'e-service «{}» \
                     del tuo ente, {}, con la finalità «{}». La finalità attende la tua \
                     approvazione in «Finalità ricevute».",
                    self.consumer, self.eservice, self.producer, self.purpose
                ),
            ),
            Kind::PurposeApproved => (
                "Finalità approvata",
                format!(
                    "{} ha approvato la finalità «{}» del tuo ente, {}, sull'e-service «{}».",
                    self.producer, self.purpose, self.consumer, self.eservice
                ),
            ),
            Kind::PurposeRejected => (
                "Finalità rifiutata",
                format!(
                    "{} ha rifiutato la finalità «{}» del tuo ente, {}, sull'e-service «{}». \
                     Il motivo: {}",
                    self.producer, self.purpose, self.consumer, self.eservice, self.reason
                ),
            ),
            Kind::PurposeSuspended => (
                "Finalità sospesa dall'erogatore",
                format!(
                    "{} ha sospeso la finalità «{}» del tuo ente, {}, sull'e-service «{}»: \
                     finché resta sospesa, i voucher per questa finalità non sono emessi.",
                    self.producer, self.purpose, self.consumer, self.eservice
                ),
            ),
            Kind::AgreementReactivated | Kind::PurposeReactivated => (
                "Riattivazione",
                format!("L'e-service «{}» è di nuovo disponibile.", self.eservice),
            ),
        };
        let text = format!(
            "Gentile amministratore,\n\n{what}\n\nAmbiente: {env}. Accedi all'Area Riservata, \
             poi a {env}, per i dettagli.\n"
        );
        (format!("{subject} - {env}"), text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: Kind) -> Event<'static> {
        Event {
            kind,
            env: Environment::Collaudo,
            eservice: "Anagrafe sanitaria regionale",
            version: "2",
            purpose: "Verifica delle esenzioni",
            producer: "Regione Valdoro",
            consumer: "Comune di Roccabella",
            reason: "Manca la base giuridica per l'accesso ai dati.",
        }
    }

    const ALL: [Kind; 10] = [
        Kind::AgreementWaiting,
        Kind::AgreementApproved,
        Kind::AgreementRejected,
        Kind::AgreementSuspended,
        Kind::AgreementReactivated,
        Kind::PurposeWaiting,
        Kind::PurposeApproved,
        Kind::PurposeRejected,
        Kind::PurposeSuspended,
        Kind::PurposeReactivated,
    ];

    #[test]
    fn waiting_requests_go_to_the_producer_and_decisions_to_the_consumer() {
        for kind in ALL {
            let expected = match kind {
                Kind::AgreementWaiting | Kind::PurposeWaiting => Some(Audience::Producer),
                Kind::AgreementReactivated | Kind::PurposeReactivated => None,
                _ => Some(Audience::Consumer),
            };
            assert_eq!(kind.audience(), expected, "{kind:?}");
            assert!(kind.action().starts_with("interop."), "{kind:?}");
        }
        let codes: std::collections::HashSet<&str> = ALL.iter().map(|k| k.action()).collect();
        assert_eq!(codes.len(), ALL.len(), "one action code each");
    }

    #[test]
    fn emails_name_the_parties_the_eservice_and_the_reason() {
        let (subject, text) = event(Kind::AgreementRejected).email();
        assert_eq!(
            subject,
            "Richiesta di fruizione rifiutata - Interoperabilità Collaudo"
        );
        for words in [
            "Regione Valdoro ha rifiutato",
            "Comune di Roccabella",
            "«Anagrafe sanitaria regionale» (versione 2)",
            "Il motivo: Manca la base giuridica",
        ] {
            assert!(text.contains(words), "{words:?} in {text}");
        }
        let (subject, text) = event(Kind::PurposeWaiting).email();
        assert!(subject.starts_with("Una finalità attende la tua approvazione"));
        assert!(text.contains("«Verifica delle esenzioni»") && text.contains("Finalità ricevute"));
    }

    #[test]
    fn the_record_names_the_other_side() {
        let d = event(Kind::AgreementApproved).details();
        assert_eq!(d["party"], "Comune di Roccabella");
        assert_eq!(d["env"], "collaudo");
        assert_eq!(d["version"], "2");
        let d = event(Kind::AgreementWaiting).details();
        assert_eq!(d["party"], "Regione Valdoro");
    }
}
