//! Interoperability (produzione): tenants with their IPA attributes, e-services with a
//! published version and its interface, agreements, purposes, clients with keys, vouchers.

use std::collections::{BTreeMap, HashSet};

use interop::model::document::{self, DocumentKind, Upload};
use interop::model::eservice::Technology;
use interop::model::ipa::{self, Entry};
use interop::model::key::parse_uploaded_key;
use interop::model::risk_analysis;
use platform::db::{Db, DbError};
use serde_json::json;

use super::{Bulk, EPOCH, Institution, Options, Rng, V, flush_full, scaled, t};
use crate::Error;

/// What the seeded e-services are about (their names begin with one, then a number and the
/// producer's IPA code), so that the catalogue's search finds some and not others.
const ESERVICE_TOPICS: &[&str] = &[
    "Anagrafe nazionale",
    "Verifica residenza",
    "Consultazione tributi",
    "Notifiche digitali",
    "Pagamenti TARI",
    "Certificati anagrafici",
    "Stato civile",
    "Iscrizioni scolastiche",
    "Protocollo informatico",
    "Albo pretorio",
    "Permessi di sosta",
    "Fascicolo sanitario",
    "Bonus sociali",
    "Catasto e immobili",
    "Contributi previdenziali",
    "Registro imprese",
];

const ENV: &str = "produzione";

/// The voucher records' store, as the app opens it.
pub(crate) async fn voucher_store(db: &Db) -> Result<Db, DbError> {
    interop::voucher_store(db).await
}

/// A public key as a person uploads it: the base64 of its PEM.
fn new_public_key() -> Result<String, Error> {
    let pair = crate::token::keys::new_key_pair()?;
    Ok(crate::token::keys::public_upload(&pair)?.0)
}

pub(crate) async fn seed(
    db: &Db,
    vouchers: &Db,
    o: &Options,
    institutions: &[Institution],
    counts: &mut Vec<(&'static str, u64)>,
) -> Result<(), Error> {
    let mut rng = Rng::new(o.seed, 3);
    let mut tx = db.begin().await?;
    let at = EPOCH + 3 * 86_400_000;

    // The IPA registry as imported, and the certified attributes it gives.
    let mut ipa_rows = Bulk::new(
        "interop_ipa",
        &[
            "fiscal_code",
            "ipa_code",
            "name",
            "category",
            "typology",
            "kind",
            "imported_at",
        ],
    );
    let mut attrs = Bulk::new(
        "interop_attributes",
        &[
            "id",
            "env",
            "kind",
            "name",
            "name_key",
            "description",
            "origin",
            "code",
            "created_at",
        ],
    );
    let mut held = Bulk::new(
        "interop_tenant_attributes",
        &["env", "institution_id", "attribute_id", "assigned_at"],
    );
    let mut tenants = Bulk::new(
        "interop_institutions",
        &[
            "env",
            "id",
            "name",
            "fiscal_code",
            "updated_at",
            "contact_email",
        ],
    );
    let mut people = Bulk::new(
        "interop_people",
        &[
            "env",
            "institution_id",
            "user_id",
            "name",
            "family_name",
            "roles",
            "entered_at",
            "email",
        ],
    );
    let mut by_code: BTreeMap<String, String> = BTreeMap::new();
    let tenant_list: Vec<&Institution> = institutions.iter().filter(|i| i.interop).collect();
    for i in institutions {
        ipa_rows
            .push(
                &mut tx,
                vec![
                    t(&i.tax_code),
                    t(&i.ipa_code),
                    t(&i.name),
                    t(&i.category),
                    t(&i.typology),
                    t("PA"),
                    V::I(at),
                ],
            )
            .await?;
        flush_full(&mut tx, &mut [&mut ipa_rows]).await?;
    }
    for i in &tenant_list {
        let entry = Entry {
            ipa_code: i.ipa_code.clone(),
            fiscal_code: i.tax_code.clone(),
            name: i.name.clone(),
            category: i.category.clone(),
            typology: i.typology.clone(),
        };
        for c in ipa::attributes_of(&entry) {
            let id = match by_code.get(&c.code) {
                Some(id) => id.clone(),
                None => {
                    let id = rng.uuid();
                    attrs
                        .push(
                            &mut tx,
                            vec![
                                t(&id),
                                t(ENV),
                                t("CERTIFIED"),
                                t(&c.name),
                                t(c.name.trim().to_lowercase()),
                                t(&c.description),
                                t(ipa::ORIGIN),
                                t(&c.code),
                                V::I(at),
                            ],
                        )
                        .await?;
                    by_code.insert(c.code.clone(), id.clone());
                    id
                }
            };
            held.push(&mut tx, vec![t(ENV), t(&i.id), t(id), V::I(at)])
                .await?;
        }
        let contact = format!("interop@{}.example.it", i.ipa_code);
        for env in [ENV, "collaudo"] {
            tenants
                .push(
                    &mut tx,
                    vec![
                        t(env),
                        t(&i.id),
                        t(&i.name),
                        t(&i.tax_code),
                        V::I(at),
                        t(&contact),
                    ],
                )
                .await?;
        }
        people
            .push(
                &mut tx,
                vec![
                    t(ENV),
                    t(&i.id),
                    t(&i.admin_user),
                    t(&i.admin_name.0),
                    t(&i.admin_name.1),
                    t("admin"),
                    V::I(at),
                    t(&contact),
                ],
            )
            .await?;
        flush_full(
            &mut tx,
            &mut [&mut attrs, &mut held, &mut tenants, &mut people],
        )
        .await?;
    }
    for b in [
        &mut ipa_rows,
        &mut attrs,
        &mut held,
        &mut tenants,
        &mut people,
    ] {
        b.flush(&mut tx).await?;
    }

    // E-services: 30% from a few big producers, the rest spread.
    let n_eservices = scaled(13_000, o.scale, 1);
    let big = scaled(10, o.scale, 1).min(tenant_list.len());
    let mut eservices = Bulk::new(
        "interop_eservices",
        &[
            "id",
            "env",
            "producer_id",
            "name",
            "name_key",
            "description",
            "technology",
            "mode",
            "personal_data",
            "created_at",
            "updated_at",
            "in_catalogue",
        ],
    );
    let mut words = Bulk::new(
        "interop_eservice_words",
        &["env", "word", "eservice_id", "name_key", "in_catalogue"],
    );
    let mut descriptors = Bulk::new(
        "interop_descriptors",
        &[
            "id",
            "eservice_id",
            "version",
            "description",
            "state",
            "audience",
            "voucher_lifespan",
            "daily_calls_per_consumer",
            "daily_calls_total",
            "agreement_approval_policy",
            "server_urls",
            "created_at",
            "published_at",
        ],
    );
    let mut documents = Bulk::new(
        "interop_documents",
        &[
            "id",
            "descriptor_id",
            "kind",
            "name",
            "pretty_name",
            "pretty_key",
            "content_type",
            "checksum",
            "size",
            "content",
            "uploaded_by",
            "uploaded_at",
        ],
    );
    // (e-service, descriptor, producer index, audience)
    let mut published: Vec<(String, String, usize, String)> = Vec::with_capacity(n_eservices);
    let mut per_producer: Vec<usize> = vec![0; tenant_list.len()];
    for k in 0..n_eservices {
        let p = if k % 10 < 3 || tenant_list.len() == big {
            rng.below(big)
        } else {
            big + rng.below(tenant_list.len() - big)
        };
        per_producer[p] += 1;
        let producer = tenant_list[p];
        let created = at + 86_400_000 + k as i64 * 1_000;
        let id = rng.uuid();
        let descriptor = rng.uuid();
        let name = format!(
            "{} {} - {}",
            ESERVICE_TOPICS[k % ESERVICE_TOPICS.len()],
            per_producer[p],
            producer.ipa_code
        );
        eservices
            .push(
                &mut tx,
                vec![
                    t(&id),
                    t(ENV),
                    t(&producer.id),
                    t(&name),
                    t(interop::model::eservice::name_key(&name)),
                    t(format!(
                        "Le API dell'e-service {} di {}.",
                        per_producer[p], producer.name
                    )),
                    t("REST"),
                    t("DELIVER"),
                    V::I(0),
                    V::I(created),
                    V::I(created),
                    // Every seeded e-service has a PUBLISHED version: it is in the catalogue.
                    V::I(1),
                ],
            )
            .await?;
        for word in interop::model::eservice::name_words(&name) {
            words
                .push(
                    &mut tx,
                    vec![
                        t(ENV),
                        t(word),
                        t(&id),
                        t(interop::model::eservice::name_key(&name)),
                        V::I(1),
                    ],
                )
                .await?;
        }
        let server = format!(
            "https://api.{}.example.it/eservice/{}/v1",
            producer.ipa_code, per_producer[p]
        );
        let interface = serde_json::to_vec_pretty(&json!({
            "openapi": "3.0.3",
            "info": {"title": name, "version": "1.0.0"},
            "servers": [{"url": server}],
            "paths": {"/status": {"get": {"responses": {"200": {"description": "OK"}}}}}
        }))?;
        let checked = document::check(
            Technology::Rest,
            &Upload {
                kind: DocumentKind::Interface,
                file_name: "openapi.json",
                content_type: "application/json",
                bytes: &interface,
            },
        )
        .map_err(|e| format!("the seeded interface is refused: {e:?}"))?;
        let audience = format!("api.{}.example.it/{}", producer.ipa_code, per_producer[p]);
        descriptors
            .push(
                &mut tx,
                vec![
                    t(&descriptor),
                    t(&id),
                    V::I(1),
                    t("Prima versione"),
                    t("PUBLISHED"),
                    t(serde_json::to_string(&[&audience])?),
                    V::I(600),
                    V::I(10_000),
                    V::I(1_000_000),
                    t("AUTOMATIC"),
                    t(serde_json::to_string(&checked.server_urls)?),
                    V::I(created),
                    V::I(created + 3_600_000),
                ],
            )
            .await?;
        documents
            .push(
                &mut tx,
                vec![
                    t(rng.uuid()),
                    t(&descriptor),
                    t("INTERFACE"),
                    t(&checked.file_name),
                    t("Interfaccia"),
                    t("interfaccia"),
                    t(checked.content_type),
                    t(&checked.checksum),
                    V::I(interface.len() as i64),
                    V::B(interface),
                    t(&producer.admin_user),
                    V::I(created),
                ],
            )
            .await?;
        published.push((id, descriptor, p, audience));
        flush_full(
            &mut tx,
            &mut [&mut eservices, &mut words, &mut descriptors, &mut documents],
        )
        .await?;
    }
    for b in [&mut eservices, &mut words, &mut descriptors, &mut documents] {
        b.flush(&mut tx).await?;
    }

    // Agreements (ACTIVE) of consumers with other producers' e-services, each with an ACTIVE
    // purpose; one client per consumer with every purpose linked.
    let risk = risk_analysis::validate_at(
        &risk_analysis::current_form(),
        &json!({
            "version": risk_analysis::current_form().version,
            "answers": {
                "purpose": ["Verifica dei requisiti per l'accesso ai servizi dell'ente"],
                "usesPersonalData": ["NO"],
                "sharedWithThirdParties": ["NO"],
                "securityMeasures": ["ACCESS_CONTROL"],
                "confirmation": ["CONFIRMED"]
            }
        }),
        "riskAnalysisForm",
    )
    .map_err(|e| format!("the seeded risk analysis is refused: {e:?}"))?;
    let risk = serde_json::to_string(&risk)?;
    let mut agreements = Bulk::new(
        "interop_agreements",
        &[
            "id",
            "env",
            "eservice_id",
            "descriptor_id",
            "producer_id",
            "consumer_id",
            "state",
            "created_at",
            "updated_at",
            "submitted_at",
            "activated_at",
        ],
    );
    let mut purposes = Bulk::new(
        "interop_purposes",
        &[
            "id",
            "env",
            "eservice_id",
            "consumer_id",
            "producer_id",
            "title",
            "title_key",
            "description",
            "risk_analysis",
            "is_free_of_charge",
            "created_at",
            "updated_at",
        ],
    );
    let mut versions = Bulk::new(
        "interop_purpose_versions",
        &[
            "id",
            "purpose_id",
            "state",
            "daily_calls",
            "created_at",
            "updated_at",
            "first_activation_at",
        ],
    );
    let mut clients = Bulk::new(
        "interop_clients",
        &[
            "id",
            "env",
            "consumer_id",
            "kind",
            "name",
            "description",
            "created_by",
            "created_at",
        ],
    );
    let mut members = Bulk::new(
        "interop_client_members",
        &["client_id", "user_id", "added_at"],
    );
    let mut links = Bulk::new(
        "interop_client_purposes",
        &["client_id", "purpose_id", "linked_at"],
    );
    let mut keys = Bulk::new(
        "interop_client_keys",
        &[
            "env",
            "kid",
            "client_id",
            "name",
            "use_",
            "alg",
            "n",
            "e",
            "bits",
            "pem",
            "user_id",
            "created_at",
        ],
    );
    let n_agreements = scaled(25_000, o.scale, 1);
    let per_consumer = n_agreements.div_ceil(tenant_list.len()).max(1);
    let pool = scaled(200, o.scale, 2);
    let mut key_pool = Vec::with_capacity(pool);
    for _ in 0..pool {
        key_pool.push(parse_uploaded_key(&new_public_key()?).map_err(|e| format!("{e:?}"))?);
    }
    // (client, consumer, kid, purpose, agreement, e-service, descriptor, audience)
    let mut callable: Vec<[String; 8]> = Vec::new();
    let mut done = 0;
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    for (c, consumer) in tenant_list.iter().enumerate() {
        flush_full(
            &mut tx,
            &mut [
                &mut agreements,
                &mut purposes,
                &mut versions,
                &mut clients,
                &mut members,
                &mut links,
                &mut keys,
            ],
        )
        .await?;
        if done >= n_agreements {
            break;
        }
        let when = at + 30 * 86_400_000 + c as i64 * 1_000;
        let client = rng.uuid();
        let mut linked = 0;
        for _ in 0..per_consumer.min(n_agreements - done) {
            let e = rng.below(published.len());
            let (eservice, descriptor, p, audience) = &published[e];
            if *p == c || !seen.insert((c, e)) {
                continue;
            }
            let producer = &tenant_list[*p].id;
            let agreement = rng.uuid();
            agreements
                .push(
                    &mut tx,
                    vec![
                        t(&agreement),
                        t(ENV),
                        t(eservice),
                        t(descriptor),
                        t(producer),
                        t(&consumer.id),
                        t("ACTIVE"),
                        V::I(when),
                        V::I(when),
                        V::I(when),
                        V::I(when),
                    ],
                )
                .await?;
            let purpose = rng.uuid();
            let title = format!("Finalità {} di {}", done + 1, consumer.ipa_code);
            purposes.push(&mut tx, vec![
                t(&purpose), t(ENV), t(eservice), t(&consumer.id), t(producer), t(&title),
                t(title.trim().to_lowercase()),
                t("Accesso ai dati per lo svolgimento dei compiti istituzionali dell'ente."),
                t(&risk), V::I(0), V::I(when), V::I(when),
            ]).await?;
            versions
                .push(
                    &mut tx,
                    vec![
                        t(rng.uuid()),
                        t(&purpose),
                        t("ACTIVE"),
                        V::I(100),
                        V::I(when),
                        V::I(when),
                        V::I(when),
                    ],
                )
                .await?;
            links
                .push(&mut tx, vec![t(&client), t(&purpose), V::I(when)])
                .await?;
            if c < key_pool.len() {
                callable.push([
                    client.clone(),
                    consumer.id.clone(),
                    key_pool[c].kid.clone(),
                    purpose,
                    agreement,
                    eservice.clone(),
                    descriptor.clone(),
                    audience.clone(),
                ]);
            }
            linked += 1;
            done += 1;
        }
        if linked == 0 && c >= key_pool.len() {
            continue;
        }
        clients
            .push(
                &mut tx,
                vec![
                    t(&client),
                    t(ENV),
                    t(&consumer.id),
                    t("CONSUMER"),
                    t(format!("Client di {}", consumer.ipa_code)),
                    ot_none(),
                    t(&consumer.admin_user),
                    V::I(when),
                ],
            )
            .await?;
        members
            .push(
                &mut tx,
                vec![t(&client), t(&consumer.admin_user), V::I(when)],
            )
            .await?;
        if let Some(k) = key_pool.get(c) {
            keys.push(
                &mut tx,
                vec![
                    t(ENV),
                    t(&k.kid),
                    t(&client),
                    t("Chiave di produzione"),
                    t("SIG"),
                    t("RS256"),
                    t(&k.n),
                    t(&k.e),
                    V::I(k.bits as i64),
                    t(&k.pem),
                    t(&consumer.admin_user),
                    V::I(when),
                ],
            )
            .await?;
        }
    }
    for b in [
        &mut agreements,
        &mut purposes,
        &mut versions,
        &mut clients,
        &mut members,
        &mut keys,
        &mut links,
    ] {
        b.flush(&mut tx).await?;
    }
    tx.commit().await?;

    // Voucher records, in their own store.
    let mut vtx = vouchers.begin().await?;
    let mut records = Bulk::new(
        "interop_vouchers",
        &[
            "jti",
            "env",
            "kind",
            "client_id",
            "consumer_id",
            "purpose_id",
            "agreement_id",
            "eservice_id",
            "descriptor_id",
            "client_kid",
            "signing_kid",
            "audience",
            "assertion_jti",
            "issued_at",
            "expires_at",
        ],
    );
    if !callable.is_empty() {
        let n = scaled(300_000, o.scale, 1);
        let signing_kid = "seeded-voucher-signing-key";
        let start = (at + 60 * 86_400_000) / 1000;
        for v in 0..n {
            let [
                client,
                consumer,
                kid,
                purpose,
                agreement,
                eservice,
                descriptor,
                audience,
            ] = &callable[rng.below(callable.len())];
            let issued = start + v as i64;
            records
                .push(
                    &mut vtx,
                    vec![
                        t(rng.uuid()),
                        t(ENV),
                        t("CONSUMER"),
                        t(client),
                        t(consumer),
                        t(purpose),
                        t(agreement),
                        t(eservice),
                        t(descriptor),
                        t(kid),
                        t(signing_kid),
                        t(audience),
                        t(rng.uuid()),
                        V::I(issued),
                        V::I(issued + 600),
                    ],
                )
                .await?;
            flush_full(&mut vtx, &mut [&mut records]).await?;
        }
    }
    records.flush(&mut vtx).await?;
    vtx.commit().await?;
    counts.push(("interop_ipa", ipa_rows.rows));
    counts.push(("interop_attributes", attrs.rows));
    counts.push(("interop_tenant_attributes", held.rows));
    counts.push(("interop_institutions", tenants.rows));
    counts.push(("interop_people", people.rows));
    counts.push(("interop_eservices", eservices.rows));
    counts.push(("interop_eservice_words", words.rows));
    counts.push(("interop_descriptors", descriptors.rows));
    counts.push(("interop_documents", documents.rows));
    counts.push(("interop_agreements", agreements.rows));
    counts.push(("interop_purposes", purposes.rows));
    counts.push(("interop_purpose_versions", versions.rows));
    counts.push(("interop_clients", clients.rows));
    counts.push(("interop_client_members", members.rows));
    counts.push(("interop_client_purposes", links.rows));
    counts.push(("interop_client_keys", keys.rows));
    counts.push(("interop_vouchers", records.rows));
    Ok(())
}

fn ot_none() -> V {
    V::NullT
}
