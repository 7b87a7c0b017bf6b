//! The demo's data: institutions, onboardings and people with valid fiscal codes, made once
//! (every step is an upsert, so restarting the demo changes nothing).

use platform::db::Db;
use reserved_area::TestIdentity;
use reserved_area::store::{self, NewInstitution};

/// `(product, party role, product role)`
pub struct DemoRole(pub &'static str, pub &'static str, pub &'static str);

/// A person's roles and work email on one institution (by tax code).
pub struct Membership {
    pub institution: &'static str,
    pub email: &'static str,
    pub roles: &'static [DemoRole],
}

pub struct DemoInstitution {
    pub tax_code: &'static str,
    pub name: &'static str,
    pub ipa_code: &'static str,
    pub kind: &'static str,
    pub pec: &'static str,
    pub address: &'static str,
    pub zip_code: &'static str,
    pub city: &'static str,
    pub county: &'static str,
    /// Products with an ACTIVE onboarding.
    pub products: &'static [&'static str],
}

pub struct DemoPerson {
    pub fiscal_code: &'static str,
    pub name: &'static str,
    pub family_name: &'static str,
    pub description: &'static str,
    pub memberships: &'static [Membership],
    pub operator: bool,
}

/// The demo institutions' tax codes.
pub const COMUNE: &str = "00123456782";
pub const REGIONE: &str = "80001234568";
pub const PAGOPA: &str = "15376371009";

/// The demo people's fiscal codes (who they are: [`PEOPLE`]).
pub const MARIO: &str = "RSSMRA85T10A562S";
pub const ANNA: &str = "BNCNNA90A41H501T";
pub const GIULIA: &str = "VRDGLI78M50F205U";
pub const LUCA: &str = "NRELCU92C15L219G";
pub const PAOLO: &str = "SPSPLA80E12F839K";

pub const INSTITUTIONS: &[DemoInstitution] = &[
    DemoInstitution {
        tax_code: COMUNE,
        name: "Comune di Roccabella",
        ipa_code: "c_r001",
        kind: "PA",
        pec: "protocollo@pec.comune.roccabella.it",
        address: "Piazza del Municipio 1",
        zip_code: "00010",
        city: "Roccabella",
        county: "RM",
        products: &[
            "prod-io",
            "prod-interop",
            "prod-interop-coll",
            "prod-pagopa",
        ],
    },
    DemoInstitution {
        tax_code: REGIONE,
        name: "Regione Valdoro",
        ipa_code: "r_valdoro",
        kind: "PA",
        pec: "protocollo@pec.regione.valdoro.it",
        address: "Via della Regione 10",
        zip_code: "06100",
        city: "Valdoro",
        county: "PG",
        products: &[
            "prod-io",
            "prod-pagopa",
            "prod-pn",
            "prod-interop",
            "prod-interop-coll",
        ],
    },
    DemoInstitution {
        tax_code: PAGOPA,
        name: "PagoPA S.p.A.",
        ipa_code: "5n2tr557",
        kind: "PT",
        pec: "selfcare@pec.pagopa.it",
        address: "Piazza Colonna 370",
        zip_code: "00187",
        city: "Roma",
        county: "RM",
        products: &["prod-interop", "prod-interop-coll"],
    },
];

pub const PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        fiscal_code: MARIO,
        name: "Mario",
        family_name: "Rossi",
        description: "Amministratore del Comune di Roccabella (App IO, Interoperabilità, pagoPA) e operatore della Regione Valdoro (App IO)",
        memberships: &[
            Membership {
                institution: COMUNE,
                email: "mario.rossi@comune.roccabella.it",
                roles: &[
                    DemoRole("prod-io", "MANAGER", "admin"),
                    DemoRole("prod-interop", "MANAGER", "admin"),
                    DemoRole("prod-pagopa", "MANAGER", "admin"),
                ],
            },
            Membership {
                institution: REGIONE,
                email: "mario.rossi@regione.valdoro.it",
                roles: &[DemoRole("prod-io", "OPERATOR", "operator")],
            },
        ],
        operator: false,
    },
    DemoPerson {
        fiscal_code: ANNA,
        name: "Anna",
        family_name: "Bianchi",
        description: "Operatrice del Comune di Roccabella su App IO",
        memberships: &[Membership {
            institution: COMUNE,
            email: "anna.bianchi@comune.roccabella.it",
            roles: &[DemoRole("prod-io", "OPERATOR", "operator")],
        }],
        operator: false,
    },
    DemoPerson {
        fiscal_code: GIULIA,
        name: "Giulia",
        family_name: "Verdi",
        description: "Amministratrice della Regione Valdoro (App IO, pagoPA, SEND, Interoperabilità: produce un e-service ad approvazione manuale in Collaudo)",
        memberships: &[Membership {
            institution: REGIONE,
            email: "giulia.verdi@regione.valdoro.it",
            roles: &[
                DemoRole("prod-io", "DELEGATE", "admin"),
                DemoRole("prod-pagopa", "DELEGATE", "admin"),
                DemoRole("prod-pn", "DELEGATE", "admin"),
                DemoRole("prod-interop", "DELEGATE", "admin"),
                DemoRole("prod-interop-coll", "DELEGATE", "admin"),
            ],
        }],
        operator: false,
    },
    DemoPerson {
        fiscal_code: LUCA,
        name: "Luca",
        family_name: "Neri",
        description: "Tecnico del Comune di Roccabella, ancora senza ruoli: un amministratore gli darà Interoperabilità Collaudo",
        memberships: &[],
        operator: false,
    },
    DemoPerson {
        fiscal_code: PAOLO,
        name: "Paolo",
        family_name: "Esposito",
        description: "Amministratore di PagoPA S.p.A. su Interoperabilità (produttore di SEND - UAT in Collaudo) e operatore della piattaforma",
        memberships: &[Membership {
            institution: PAGOPA,
            email: "paolo.esposito@pagopa.it",
            roles: &[
                DemoRole("prod-interop", "MANAGER", "admin"),
                DemoRole("prod-interop-coll", "MANAGER", "admin"),
            ],
        }],
        operator: true,
    },
];

/// The people the test identity provider lists.
pub fn identities() -> Vec<TestIdentity> {
    PEOPLE
        .iter()
        .map(|p| TestIdentity {
            fiscal_number: p.fiscal_code.into(),
            name: p.name.into(),
            family_name: p.family_name.into(),
            description: p.description.into(),
        })
        .collect()
}

/// Writes the demo data; running it again changes nothing.
pub async fn seed(db: &Db) -> Result<(), sqlx::Error> {
    let mut tx = db
        .begin()
        .await
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let mut ids = std::collections::HashMap::new();
    for i in INSTITUTIONS {
        let institution = store::upsert_institution(
            &mut tx,
            &NewInstitution {
                description: i.name.into(),
                tax_code: i.tax_code.into(),
                origin: "IPA".into(),
                origin_id: i.ipa_code.into(),
                institution_type: i.kind.into(),
                digital_address: i.pec.into(),
                address: i.address.into(),
                zip_code: i.zip_code.into(),
                city: i.city.into(),
                county: i.county.into(),
            },
        )
        .await?;
        for product in i.products {
            store::set_onboarding(&mut tx, &institution.id, product, "ACTIVE").await?;
        }
        ids.insert(i.tax_code, institution.id);
    }
    for person in PEOPLE {
        let user = store::upsert_user(&mut tx, person.fiscal_code, person.name, person.family_name)
            .await?;
        for m in person.memberships {
            let Some(institution_id) = ids.get(m.institution) else {
                continue;
            };
            store::set_email(&mut tx, &user, institution_id, m.email).await?;
            for DemoRole(product, party_role, product_role) in m.roles {
                store::add_role(
                    &mut tx,
                    &user,
                    institution_id,
                    product,
                    party_role,
                    product_role,
                )
                .await?;
            }
        }
        if person.operator {
            store::grant_operator(&mut tx, &user.id).await?;
        }
    }
    tx.commit().await
}

/// A demo service of the Comune and the state the demo leaves it in.
struct DemoService {
    name: &'static str,
    description: &'static str,
    topic_id: i64,
    state: DemoState,
}

enum DemoState {
    Draft,
    /// Waiting in the review queue.
    Submitted,
    Rejected(&'static str),
    Published,
}

const IO_SERVICES: &[DemoService] = &[
    DemoService {
        name: "Tassa sui rifiuti (TARI)",
        description: "Avvisi di pagamento e scadenze della tassa sui rifiuti.",
        topic_id: 15,
        state: DemoState::Published,
    },
    DemoService {
        name: "Mensa scolastica",
        description: "Iscrizioni, menù e pagamenti della mensa delle scuole comunali.",
        topic_id: 6,
        state: DemoState::Submitted,
    },
    DemoService {
        name: "Permessi ZTL",
        description: "Rilascio e rinnovo dei permessi di accesso alla zona a traffico limitato.",
        topic_id: 9,
        state: DemoState::Rejected(
            "La descrizione non spiega a chi si rivolge il servizio: indicate i destinatari.",
        ),
    },
    DemoService {
        name: "Servizi demografici",
        description: "Certificati anagrafici e di stato civile.",
        topic_id: 11,
        state: DemoState::Draft,
    },
];

/// The App IO back-office's demo data: a few services of the Comune in different states, and
/// its manage key pair. Made once: nothing is added when the Comune already has services.
pub async fn seed_io(
    db: &Db,
    ring: &io_backoffice::secrets::KeyRing,
) -> Result<(), io_backoffice::IoError> {
    let Some(institution_id): Option<String> =
        sqlx::query_scalar("SELECT id FROM institutions WHERE tax_code = $1")
            .bind(COMUNE)
            .fetch_optional(db.reader())
            .await?
    else {
        return Ok(());
    };
    let tenant = io_backoffice::store::Tenant {
        institution_id,
        name: "Comune di Roccabella".into(),
        fiscal_code: COMUNE.into(),
    };
    io_backoffice::store::upsert_institution(db, &tenant).await?;
    io_backoffice::store::ensure_manage_subscription(db, ring, &tenant.institution_id).await?;
    let (_, count) =
        io_backoffice::store::list_services(db, &tenant.institution_id, "", 1, 0).await?;
    if count > 0 {
        return Ok(());
    }
    let actor = "demo";
    for s in IO_SERVICES {
        let payload = serde_json::json!({
            "name": s.name,
            "description": s.description,
            "metadata": {
                "scope": "LOCAL",
                "topic_id": s.topic_id,
                "privacy_url": "https://www.comune.roccabella.it/privacy",
                "web_url": "https://www.comune.roccabella.it",
                "email": "servizi@comune.roccabella.it",
                "phone": "06 1234567",
            },
        });
        let data = io_backoffice::model::parse_service(
            &payload,
            io_backoffice::model::PayloadKind::Create,
        )
        .map_err(io_backoffice::IoError::Invalid)?;
        let row = io_backoffice::store::create_service(db, ring, &tenant, &data, actor).await?;
        let publish = matches!(s.state, DemoState::Published);
        if !matches!(s.state, DemoState::Draft) {
            io_backoffice::store::submit(db, &tenant, &row.id, publish, actor).await?;
        }
        match s.state {
            DemoState::Published => {
                io_backoffice::store::approve(db, &row.id, "operator:demo").await?
            }
            DemoState::Rejected(reason) => {
                io_backoffice::store::reject(db, &row.id, reason, "operator:demo").await?
            }
            DemoState::Draft | DemoState::Submitted => {}
        }
    }
    Ok(())
}

/// An e-service the demo publishes in an Interoperability environment.
struct DemoEService {
    env: interop::model::Environment,
    producer: &'static str,
    /// The producer's admin who publishes it (the activity log names them).
    admin: &'static str,
    producer_name: &'static str,
    name: &'static str,
    description: &'static str,
    audience: &'static str,
    server_url: &'static str,
    policy: &'static str,
}

/// The name of the demo's SEND e-service in Collaudo (the seed guide's).
pub const SEND_UAT: &str = "SEND - UAT (Piattaforma Notifiche)";
/// Its audience, as its vouchers carry it.
pub const SEND_UAT_AUDIENCE: &str = "https://api.uat.notifichedigitali.it";

const INTEROP_ESERVICES: &[DemoEService] = &[
    DemoEService {
        env: interop::model::Environment::Collaudo,
        producer: PAGOPA,
        admin: PAOLO,
        producer_name: "PagoPA S.p.A.",
        name: SEND_UAT,
        description: "Le API di SEND, il Servizio Notifiche Digitali, nell'ambiente di collaudo: \
                      invio e consultazione delle notifiche a valore legale.",
        audience: SEND_UAT_AUDIENCE,
        server_url: "https://api.uat.notifichedigitali.it/delivery",
        policy: "AUTOMATIC",
    },
    DemoEService {
        env: interop::model::Environment::Collaudo,
        producer: REGIONE,
        admin: GIULIA,
        producer_name: "Regione Valdoro",
        name: "Anagrafe sanitaria regionale",
        description: "Consultazione dell'iscrizione al servizio sanitario regionale e del medico \
                      di base degli assistiti della Regione Valdoro.",
        audience: "https://api.collaudo.regione.valdoro.it/anagrafe-sanitaria",
        server_url: "https://api.collaudo.regione.valdoro.it/anagrafe-sanitaria/v1",
        policy: "MANUAL",
    },
];

/// The real interface of SEND in collaudo (abridged): what a consumer downloads from the
/// catalogue.
const SEND_UAT_OPENAPI: &[u8] = include_bytes!("../demo/send-uat-openapi.yaml");

/// A demo e-service's interface: SEND's own, else a small OpenAPI naming its server.
fn demo_interface(e: &DemoEService) -> (&'static str, &'static str, Vec<u8>) {
    if e.name.starts_with("SEND") {
        return (
            "send-uat-openapi.yaml",
            "application/yaml",
            SEND_UAT_OPENAPI.to_vec(),
        );
    }
    let doc = serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": e.name, "version": "1.0.0", "description": e.description},
        "servers": [{"url": e.server_url}],
        "paths": {
            "/status": {"get": {
                "operationId": "status",
                "summary": "Lo stato del servizio",
                "responses": {"200": {"description": "Il servizio risponde"}},
            }},
        },
    });
    (
        "openapi.json",
        "application/json",
        serde_json::to_vec_pretty(&doc).unwrap_or_default(),
    )
}

/// Interoperability's demo catalogue: published e-services in Collaudo (once).
/// The IPA open data of institutions, as a small sample in the published layout: the demo
/// institutions and a few hundred others.
pub const IPA_SAMPLE: &[u8] = include_bytes!("../demo/ipa-enti.csv");

pub async fn seed_interop(db: &Db) -> Result<(), interop::InteropError> {
    use interop::store::{self as s, attributes, catalogue, documents};
    // Every demo institution onboarded to an environment is known there, with a contact email.
    for i in INSTITUTIONS {
        let Some(institution_id): Option<String> =
            sqlx::query_scalar("SELECT id FROM institutions WHERE tax_code = $1")
                .bind(i.tax_code)
                .fetch_optional(db.reader())
                .await?
        else {
            continue;
        };
        for env in interop::model::Environment::ALL {
            if !i.products.contains(&env.product_id()) {
                continue;
            }
            let tenant = s::Tenant {
                institution_id: institution_id.clone(),
                name: i.name.into(),
                fiscal_code: i.tax_code.into(),
            };
            s::upsert_institution(db, env, &tenant).await?;
            attributes::ensure_contact_email(db, env, &institution_id, i.pec).await?;
        }
    }
    // Their certified attributes, from IPA (a second start changes nothing).
    let entries = interop::model::ipa::parse(IPA_SAMPLE)
        .map_err(|e| interop::InteropError::Unavailable(format!("the IPA sample: {e}")))?;
    interop::store::ipa::add(db, &entries).await?;
    for e in INTEROP_ESERVICES {
        let Some(institution_id): Option<String> =
            sqlx::query_scalar("SELECT id FROM institutions WHERE tax_code = $1")
                .bind(e.producer)
                .fetch_optional(db.reader())
                .await?
        else {
            continue;
        };
        let producer = s::Tenant {
            institution_id,
            name: e.producer_name.into(),
            fiscal_code: e.producer.into(),
        };
        s::upsert_institution(db, e.env, &producer).await?;
        let admin: String = sqlx::query_scalar("SELECT id FROM users WHERE fiscal_code = $1")
            .bind(e.admin)
            .fetch_optional(db.reader())
            .await?
            .unwrap_or_else(|| "demo".to_string());
        let admin = admin.as_str();
        let existing = catalogue::of_producer(db, e.env, &producer.institution_id).await?;
        if existing.iter().any(|x| x.name == e.name) {
            continue;
        }
        let input = interop::model::eservice::parse_eservice(&serde_json::json!({
            "name": e.name, "description": e.description, "technology": "REST", "mode": "DELIVER",
            "personalData": true,
        }))?;
        let descriptor = interop::model::descriptor::parse_descriptor(&serde_json::json!({
            "description": "Prima versione",
            "audience": [e.audience],
            "voucherLifespan": 600,
            "dailyCallsPerConsumer": 10_000,
            "dailyCallsTotal": 1_000_000,
            "agreementApprovalPolicy": e.policy,
        }))?;
        let created =
            catalogue::create(db, e.env, &producer, admin, &input, Some(&descriptor)).await?;
        let Some(d) = created.descriptors.first() else {
            continue;
        };
        let interface = demo_interface(e);
        documents::add(
            db,
            e.env,
            &producer.institution_id,
            &created.id,
            &d.id,
            &documents::NewDocument {
                upload: interop::model::document::Upload {
                    kind: interop::model::document::DocumentKind::Interface,
                    file_name: interface.0,
                    content_type: interface.1,
                    bytes: &interface.2,
                },
                pretty_name: "Interfaccia OpenAPI",
                user_id: admin,
            },
        )
        .await?;
        catalogue::publish(
            db,
            e.env,
            &producer.institution_id,
            admin,
            &created.id,
            &d.id,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use platform::types::{FiscalCode, OrgTaxCode};

    #[test]
    fn demo_codes_are_valid_and_match_the_people() {
        for p in super::PEOPLE {
            let code = FiscalCode::parse(p.fiscal_code).unwrap();
            assert!(
                code.matches_person(p.family_name, p.name),
                "{}",
                p.fiscal_code
            );
        }
        for i in super::INSTITUTIONS {
            OrgTaxCode::parse(i.tax_code).unwrap();
        }
    }
}
