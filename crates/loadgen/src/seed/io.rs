//! The App IO back-office: its institutions, their services (with history, key pairs sealed
//! under the master key) and their manage key pairs.

use io_backoffice::model::ServiceData;
use io_backoffice::secrets::{ApiKey, KeyRing, hash_key};
use platform::db::Db;
use serde_json::json;
use sqlx::{Any, Transaction};

use super::{Bulk, EPOCH, Institution, Options, Rng, V, flush_full, scaled, t};
use crate::Error;

const TOPICS: &[i64] = &[6, 9, 11, 15];
const NAMES: &[&str] = &[
    "Tassa sui rifiuti (TARI)",
    "Mensa scolastica",
    "Permessi ZTL",
    "Servizi demografici",
    "Trasporto scolastico",
    "Tributi",
    "Polizia locale",
    "Biblioteca",
    "Asili nido",
    "Sportello unico",
];

/// The subscription's two keys, sealed as the app seals them.
async fn key_pair(
    tx: &mut Transaction<'static, Any>,
    keys: &mut Bulk,
    ring: &KeyRing,
    rng: &mut Rng,
    subscription: &str,
    at: i64,
) -> Result<(), Error> {
    for key_type in ["primary", "secondary"] {
        let key = ApiKey::presented(&rng.hex32());
        let (master, sealed) = ring.encrypt(&key, &format!("{subscription}/{key_type}"))?;
        keys.push(
            tx,
            vec![
                t(subscription),
                t(key_type),
                t(hash_key(key.expose())),
                t(master),
                t(sealed),
                V::I(at),
            ],
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn seed(
    db: &Db,
    ring: &KeyRing,
    o: &Options,
    institutions: &[Institution],
    counts: &mut Vec<(&'static str, u64)>,
) -> Result<(), Error> {
    let mut rng = Rng::new(o.seed, 2);
    let on_io: Vec<&Institution> = institutions.iter().filter(|i| i.io).collect();
    let total = scaled(326_000, o.scale, on_io.len());
    let big = scaled(20, o.scale, 1).min(on_io.len());
    // Half of the services in the few big institutions, the rest few each (at least one).
    let mut per: Vec<usize> = vec![1; on_io.len()];
    let rest = on_io.len() - big;
    let in_big = if rest == 0 { total } else { total / 2 };
    for _ in 0..in_big.saturating_sub(big) {
        per[rng.below(big)] += 1;
    }
    if rest > 0 {
        for _ in 0..total.saturating_sub(in_big.max(big) + rest) {
            per[big + rng.below(rest)] += 1;
        }
    }
    let mut tx = db.begin().await?;
    let mut inst = Bulk::new(
        "io_institutions",
        &["id", "name", "fiscal_code", "updated_at"],
    );
    let mut services = Bulk::new(
        "io_services",
        &[
            "id",
            "institution_id",
            "version",
            "status",
            "data",
            "approved_data",
            "approved_version",
            "publication",
            "published_data",
            "published_version",
            "published_name_key",
            "published_at",
            "created_at",
            "updated_at",
            "submitted_at",
            "status_reason",
            "search_key",
        ],
    );
    let mut history = Bulk::new(
        "io_service_history",
        &[
            "service_id",
            "kind",
            "status",
            "version",
            "data",
            "actor",
            "at",
        ],
    );
    let mut subs = Bulk::new(
        "io_subscriptions",
        &["id", "institution_id", "kind", "cidrs", "created_at"],
    );
    let mut keys = Bulk::new(
        "io_api_keys",
        &[
            "subscription_id",
            "key_type",
            "key_hash",
            "master_key_id",
            "sealed",
            "created_at",
        ],
    );
    let mut checked = false;
    for (idx, i) in on_io.iter().enumerate() {
        let at = EPOCH + 2 * 86_400_000 + idx as i64 * 1_000;
        inst.push(
            &mut tx,
            vec![t(&i.id), t(&i.name), t(&i.tax_code), V::I(at)],
        )
        .await?;
        let manage = io_backoffice::model::manage_subscription_id(&i.id);
        subs.push(
            &mut tx,
            vec![t(&manage), t(&i.id), t("MANAGE_ROOT"), t("[]"), V::I(at)],
        )
        .await?;
        key_pair(&mut tx, &mut keys, ring, &mut rng, &manage, at).await?;
        for s in 0..per[idx] {
            let created = at + 60_000 + s as i64 * 10;
            let id = rng.ulid(created);
            let value = json!({
                "name": format!("{} {}", NAMES[s % NAMES.len()], s / NAMES.len() + 1),
                "description": format!("Il servizio {} dell'ente {}.", s + 1, i.name),
                "metadata": {
                    "scope": if s % 5 == 0 { "NATIONAL" } else { "LOCAL" },
                    "topic_id": *rng.pick(TOPICS),
                    "privacy_url": format!("https://www.{}.example.it/privacy", i.ipa_code),
                    "email": format!("servizi@{}.example.it", i.ipa_code),
                }
            });
            let data: ServiceData = serde_json::from_value(value)?;
            let json = serde_json::to_string(&data)?;
            if !checked {
                // What the app reads back must be what it would have written.
                let again: ServiceData = serde_json::from_str(&json)?;
                if again != data {
                    return Err("a seeded service does not read back".into());
                }
                checked = true;
            }
            // Nine in ten approved and published; of the others, a few waiting for review
            // (the operators' queue), a few rejected, the rest drafts.
            let roll = rng.below(100);
            let published = roll >= 10;
            let status = match roll {
                0..=2 => "submitted",
                3 => "rejected",
                4..=9 => "draft",
                _ => "approved",
            };
            let some = |v: V| if published { v } else { V::NullT };
            services
                .push(
                    &mut tx,
                    vec![
                        t(&id),
                        t(&i.id),
                        V::I(1),
                        t(status),
                        t(&json),
                        some(t(&json)),
                        if published { V::I(1) } else { V::NullI },
                        some(t("published")),
                        some(t(&json)),
                        if published { V::I(1) } else { V::NullI },
                        some(t(data.name_key())),
                        if published { V::I(created) } else { V::NullI },
                        V::I(created),
                        V::I(created),
                        if status == "submitted" {
                            V::I(created)
                        } else {
                            V::NullI
                        },
                        if status == "rejected" {
                            t("Il nome non descrive il servizio.")
                        } else {
                            V::NullT
                        },
                        t(io_backoffice::store::search_key(&data)),
                    ],
                )
                .await?;
            history
                .push(
                    &mut tx,
                    vec![
                        t(&id),
                        t("lifecycle"),
                        t(status),
                        V::I(1),
                        t(&json),
                        t(&i.admin_user),
                        V::I(created),
                    ],
                )
                .await?;
            if published {
                history
                    .push(
                        &mut tx,
                        vec![
                            t(&id),
                            t("publication"),
                            t("published"),
                            V::I(1),
                            t(&json),
                            t(&i.admin_user),
                            V::I(created),
                        ],
                    )
                    .await?;
            }
            subs.push(
                &mut tx,
                vec![t(&id), t(&i.id), t("SERVICE"), t("[]"), V::I(created)],
            )
            .await?;
            key_pair(&mut tx, &mut keys, ring, &mut rng, &id, created).await?;
            flush_full(
                &mut tx,
                &mut [&mut inst, &mut services, &mut history, &mut subs, &mut keys],
            )
            .await?;
        }
    }
    for b in [&mut inst, &mut services, &mut history, &mut subs, &mut keys] {
        b.flush(&mut tx).await?;
    }
    tx.commit().await?;
    counts.push(("io_institutions", inst.rows));
    counts.push(("io_services", services.rows));
    counts.push(("io_service_history", history.rows));
    counts.push(("io_subscriptions", subs.rows));
    counts.push(("io_api_keys", keys.rows));
    Ok(())
}
