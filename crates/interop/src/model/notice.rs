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
    /// The platform suspended it: the consumer's attributes no longer hold (`reason` names
    /// the missing ones).
    AgreementSuspendedByPlatform,
    /// The platform lifted its suspension: the attributes hold again.
    AgreementReactivatedByPlatform,
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
            Kind::AgreementSuspendedByPlatform => "interop.agreement.platform_suspended",
            Kind::AgreementReactivatedByPlatform => "interop.agreement.platform_reactivated",
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
            | Kind::PurposeSuspended
            | Kind::AgreementSuspendedByPlatform
            | Kind::AgreementReactivatedByPlatform => Some(Audience::Consumer),
            Kind::AgreementReactivated | Kind::PurposeReactivated => None,
        }
    }

    /// Whether the producer acted (else the consumer's request).
    pub fn by_producer(self) -> bool {
        !matches!(
            self,
            Kind::AgreementWaiting
                | Kind::PurposeWaiting
                | Kind::AgreementSuspendedByPlatform
                | Kind::AgreementReactivatedByPlatform
        )
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
        if !self.reason.is_empty()
            && matches!(
                self.kind,
                Kind::AgreementSuspendedByPlatform | Kind::AgreementReactivatedByPlatform
            )
        {
            d["attributes"] = json!(self.reason);
        }
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
            Kind::AgreementSuspendedByPlatform => (
                "Richiesta di fruizione sospesa dalla piattaforma",
                format!(
                    "La richiesta di fruizione del tuo ente, {}, per l'e-service «{}» di {} è \
                     sospesa perché l'ente non ha più gli attributi che la versione {} richiede: \
                     {}. Finché resta sospesa, i voucher per questo e-service non sono emessi; \
                     torna attiva da sola quando gli attributi sono di nuovo posseduti.",
                    self.consumer, self.eservice, self.producer, self.version, self.reason
                ),
            ),
            Kind::AgreementReactivatedByPlatform => (
                "Richiesta di fruizione di nuovo attiva",
                format!(
                    "Il tuo ente, {}, possiede di nuovo gli attributi che l'e-service «{}» di {} \
                     richiede: la piattaforma ha tolto la sua sospensione della richiesta di \
                     fruizione.",
                    self.consumer, self.eservice, self.producer
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

/// Something that happened to an institution's attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeChange {
    /// A certifier (or the IPA import) assigned a certified attribute.
    Assigned,
    /// A certifier (or the IPA import) revoked it.
    Revoked,
    /// The institution declared it.
    Declared,
    /// The institution withdrew its declaration.
    Withdrawn,
    /// A producer verified it.
    Verified,
    /// A producer revoked its verification.
    VerificationRevoked,
}

/// An attribute's change, with the names it is told by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeEvent<'a> {
    pub change: AttributeChange,
    pub env: Environment,
    pub attribute: &'a str,
    /// The institution that holds (or held) it.
    pub holder: &'a str,
    /// Who assigned, revoked or verified it: a certifier's or producer's name, `IPA` for the
    /// import; the holder itself for a declaration.
    pub by: &'a str,
}

impl AttributeChange {
    pub fn action(self) -> &'static str {
        match self {
            AttributeChange::Assigned => "interop.attribute.assigned",
            AttributeChange::Revoked => "interop.attribute.revoked",
            AttributeChange::Declared => "interop.attribute.declared",
            AttributeChange::Withdrawn => "interop.attribute.withdrawn",
            AttributeChange::Verified => "interop.attribute.verified",
            AttributeChange::VerificationRevoked => "interop.attribute.verification_revoked",
        }
    }

    /// The holder's admins are told by email of what others did to its attributes; a
    /// declaration is the institution's own act.
    pub fn mailed(self) -> bool {
        !matches!(self, AttributeChange::Declared | AttributeChange::Withdrawn)
    }
}

impl AttributeEvent<'_> {
    /// The activity-log record's details.
    pub fn details(&self) -> Value {
        json!({
            "env": self.env.as_str(),
            "attribute": self.attribute,
            "party": if self.change.mailed() { self.holder } else { self.by },
            "by": self.by,
        })
    }

    /// The email to the holder's admins: subject and text.
    pub fn email(&self) -> (String, String) {
        let env = environment(self.env);
        let (subject, what) = match self.change {
            AttributeChange::Assigned => (
                "Nuovo attributo certificato",
                format!(
                    "{} ha assegnato al tuo ente, {}, l'attributo certificato «{}».",
                    self.by, self.holder, self.attribute
                ),
            ),
            AttributeChange::Revoked => (
                "Attributo certificato revocato",
                format!(
                    "{} ha revocato al tuo ente, {}, l'attributo certificato «{}». Le richieste \
                     di fruizione che lo richiedono sono sospese finché l'ente non lo possiede \
                     di nuovo.",
                    self.by, self.holder, self.attribute
                ),
            ),
            AttributeChange::Verified => (
                "Attributo verificato",
                format!(
                    "{} ha verificato l'attributo «{}» del tuo ente, {}.",
                    self.by, self.attribute, self.holder
                ),
            ),
            AttributeChange::VerificationRevoked => (
                "Verifica di un attributo revocata",
                format!(
                    "{} ha revocato la verifica dell'attributo «{}» del tuo ente, {}. Le \
                     richieste di fruizione dei suoi e-service che lo richiedono sono sospese.",
                    self.by, self.attribute, self.holder
                ),
            ),
            AttributeChange::Declared | AttributeChange::Withdrawn => (
                "Attributo dichiarato",
                format!(
                    "Il tuo ente, {}, ha cambiato la dichiarazione dell'attributo «{}».",
                    self.holder, self.attribute
                ),
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

    const ALL: [Kind; 12] = [
        Kind::AgreementSuspendedByPlatform,
        Kind::AgreementReactivatedByPlatform,
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
    fn a_platform_suspension_names_the_missing_attributes() {
        let mut e = event(Kind::AgreementSuspendedByPlatform);
        e.reason = "Comuni e loro Consorzi e Associazioni";
        let (subject, text) = e.email();
        assert!(subject.starts_with("Richiesta di fruizione sospesa dalla piattaforma"));
        assert!(
            text.contains("Comuni e loro Consorzi e Associazioni"),
            "{text}"
        );
        assert_eq!(
            e.details()["attributes"],
            "Comuni e loro Consorzi e Associazioni"
        );
        assert_eq!(e.details()["party"], "Regione Valdoro");
        let a = AttributeEvent {
            change: AttributeChange::Revoked,
            env: Environment::Produzione,
            attribute: "Comuni e loro Consorzi e Associazioni",
            holder: "Comune di Roccabella",
            by: "IPA",
        };
        assert_eq!(a.change.action(), "interop.attribute.revoked");
        let (subject, text) = a.email();
        assert_eq!(subject, "Attributo certificato revocato - Interoperabilità");
        assert!(text.contains("IPA ha revocato al tuo ente, Comune di Roccabella"));
        assert!(!AttributeChange::Declared.mailed());
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
