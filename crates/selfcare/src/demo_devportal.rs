//! The demo's legacy Developer Portal: three delegates and their services, for trying the
//! import into the IO back-office (Comune di Roccabella and Regione Valdoro are the demo's
//! institutions; the third delegate works for another one).

use devportal::DevportalError;
use devportal::model::{LegacyService, Metadata, Organization, Scope, Visibility};
use devportal::store;
use platform::db::Db;

/// The password of every demo delegate.
pub const PASSWORD: &str = "portale-demo-2024";

pub const COMUNE: &str = "00123456782";
pub const REGIONE: &str = "80001234568";
pub const BIBLIOTECA: &str = "01234567897";

#[derive(Debug, Clone, Copy)]
pub struct DemoDelegate {
    pub email: &'static str,
    pub name: &'static str,
    pub surname: &'static str,
    pub password: &'static str,
    pub description: &'static str,
}

pub const DELEGATES: &[DemoDelegate] = &[
    DemoDelegate {
        email: "giovanni.verdi@example.it",
        name: "Giovanni",
        surname: "Verdi",
        password: PASSWORD,
        description: "four services of Comune di Roccabella (one marked deleted)",
    },
    DemoDelegate {
        email: "laura.neri@example.it",
        name: "Laura",
        surname: "Neri",
        password: PASSWORD,
        description: "one service of Comune di Roccabella, one of Regione Valdoro",
    },
    DemoDelegate {
        email: "franco.gialli@example.it",
        name: "Franco",
        surname: "Gialli",
        password: PASSWORD,
        description: "one service of another institution (not importable by ours)",
    },
];

/// One demo service, owned by the delegate with the email `delegate`.
struct DemoService {
    delegate: &'static str,
    name: &'static str,
    visibility: Visibility,
    organization: (&'static str, &'static str),
    department: &'static str,
    topic_id: i64,
    description: &'static str,
    email: &'static str,
    site: &'static str,
}

const ROCCABELLA: (&str, &str) = ("Comune di Roccabella", COMUNE);
const VALDORO: (&str, &str) = ("Regione Valdoro", REGIONE);
const ISTITUTO: (&str, &str) = ("Istituto Culturale Valle Chiara", BIBLIOTECA);

const SERVICES: &[DemoService] = &[
    DemoService {
        delegate: "giovanni.verdi@example.it",
        name: "Tari - Tassa sui rifiuti",
        visibility: Visibility::Visible,
        organization: ROCCABELLA,
        department: "Ufficio Tributi",
        topic_id: 3,
        description: "Avvisi di pagamento e scadenze della tassa sui rifiuti (TARI) del Comune \
                      di Roccabella.",
        email: "tributi@comune.roccabella.it",
        site: "https://www.comune.roccabella.it",
    },
    DemoService {
        delegate: "giovanni.verdi@example.it",
        name: "Servizi demografici",
        visibility: Visibility::VisibleOnce,
        organization: ROCCABELLA,
        department: "Ufficio Anagrafe",
        topic_id: 1,
        description: "Promemoria per la scadenza della carta d'identità e appuntamenti \
                      all'anagrafe.",
        email: "anagrafe@comune.roccabella.it",
        site: "https://www.comune.roccabella.it",
    },
    DemoService {
        delegate: "giovanni.verdi@example.it",
        name: "Prenotazione sale comunali",
        visibility: Visibility::NeverVisible,
        organization: ROCCABELLA,
        department: "Ufficio Patrimonio",
        topic_id: 7,
        description: "Conferme e promemoria delle prenotazioni delle sale comunali per \
                      associazioni e cittadini.",
        email: "patrimonio@comune.roccabella.it",
        site: "https://www.comune.roccabella.it",
    },
    DemoService {
        delegate: "giovanni.verdi@example.it",
        name: "Mensa scolastica (deleted)",
        visibility: Visibility::Visible,
        organization: ROCCABELLA,
        department: "Ufficio Scuola",
        topic_id: 5,
        description: "Iscrizioni e pagamenti della mensa scolastica (servizio dismesso).",
        email: "scuola@comune.roccabella.it",
        site: "https://www.comune.roccabella.it",
    },
    DemoService {
        delegate: "laura.neri@example.it",
        name: "Polizia locale - Contravvenzioni",
        visibility: Visibility::Visible,
        organization: ROCCABELLA,
        department: "Corpo di Polizia Locale",
        topic_id: 9,
        description: "Notifiche dei verbali della Polizia locale e avvisi di pagamento delle \
                      sanzioni.",
        email: "polizialocale@comune.roccabella.it",
        site: "https://www.comune.roccabella.it",
    },
    DemoService {
        delegate: "laura.neri@example.it",
        name: "Bollo auto",
        visibility: Visibility::Visible,
        organization: VALDORO,
        department: "Direzione Tributi regionali",
        topic_id: 4,
        description: "Promemoria della scadenza e avviso di pagamento della tassa \
                      automobilistica regionale.",
        email: "tributi@regione.valdoro.it",
        site: "https://www.regione.valdoro.it",
    },
    DemoService {
        delegate: "franco.gialli@example.it",
        name: "Biblioteca civica",
        visibility: Visibility::Visible,
        organization: ISTITUTO,
        department: "Biblioteca",
        topic_id: 10,
        description: "Scadenze dei prestiti e disponibilità dei libri prenotati.",
        email: "biblioteca@valle-chiara.example.it",
        site: "https://www.valle-chiara.example.it",
    },
];

fn service(s: &DemoService) -> LegacyService {
    LegacyService {
        name: s.name.into(),
        description: s.description.into(),
        organization: Organization {
            name: s.organization.0.into(),
            fiscal_code: s.organization.1.into(),
            department_name: Some(s.department.into()),
        },
        require_secure_channel: false,
        authorized_recipients: Vec::new(),
        authorized_cidrs: Vec::new(),
        max_allowed_payment_amount: 0,
        metadata: Metadata {
            topic_id: Some(s.topic_id),
            web_url: Some(s.site.into()),
            privacy_url: Some(format!("{}/privacy", s.site)),
            email: Some(s.email.into()),
            phone: Some("+39 0123 456789".into()),
            ..Metadata::new(Scope::Local)
        },
    }
}

/// Adds the demo delegates and their services to the portal's database; does nothing when a
/// delegate is already there (so services the demo's user created or imported stay as they are).
pub async fn seed(db: &Db) -> Result<(), DevportalError> {
    for delegate in DELEGATES {
        if store::delegate_id_by_email(db, delegate.email)
            .await?
            .is_some()
        {
            continue;
        }
        let hash = store::hash_password(delegate.password).await?;
        let id =
            store::add_delegate(db, delegate.email, delegate.name, delegate.surname, &hash).await?;
        for s in SERVICES.iter().filter(|s| s.delegate == delegate.email) {
            store::add_service(db, &id, &service(s), s.visibility).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_service_passes_the_portals_rules() {
        for s in SERVICES {
            let checked = service(s).checked();
            assert!(checked.is_ok(), "{}: {:?}", s.name, checked.err());
            assert!(DELEGATES.iter().any(|d| d.email == s.delegate));
            assert!((1..=10).contains(&s.topic_id));
        }
    }

    #[tokio::test]
    async fn seeding_twice_adds_nothing_the_second_time() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("devportal.db").display());
        let db = devportal::open_db(&url, &Default::default()).await.unwrap();
        seed(&db).await.unwrap();
        seed(&db).await.unwrap();
        let mut total = 0;
        for d in DELEGATES {
            let id = store::delegate_id_by_email(&db, d.email)
                .await
                .unwrap()
                .unwrap();
            total += store::delegate_services(&db, &id).await.unwrap().len();
        }
        assert_eq!(total, SERVICES.len());
        db.close().await;
    }
}
