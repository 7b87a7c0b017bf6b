//! Institutions with IPA-like data, their onboardings, people and their roles, the activity
//! log.

use platform::db::Db;
use platform::types::{FiscalCode, OrgTaxCode};
use serde_json::json;

use super::{Bulk, EPOCH, Institution, Options, Rng, V, flush_full, scaled, t};
use crate::Error;

const CITIES: &[(&str, &str)] = &[
    ("Roma", "RM"),
    ("Milano", "MI"),
    ("Napoli", "NA"),
    ("Torino", "TO"),
    ("Palermo", "PA"),
    ("Genova", "GE"),
    ("Bologna", "BO"),
    ("Firenze", "FI"),
    ("Bari", "BA"),
    ("Catania", "CT"),
    ("Verona", "VR"),
    ("Padova", "PD"),
    ("Trieste", "TS"),
    ("Perugia", "PG"),
    ("Cagliari", "CA"),
];
const GIVEN: &[&str] = &[
    "Mario",
    "Giulia",
    "Luca",
    "Francesca",
    "Marco",
    "Chiara",
    "Andrea",
    "Sara",
    "Paolo",
    "Elena",
    "Giuseppe",
    "Anna",
    "Stefano",
    "Laura",
    "Davide",
    "Marta",
];
const FAMILY: &[&str] = &[
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
    "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa", "Giordano",
];
/// (IPA category, typology, institution type, name prefix).
const KINDS: &[(&str, &str, &str, &str)] = &[
    ("L6", "Pubbliche Amministrazioni", "PA", "Comune di"),
    ("L6", "Pubbliche Amministrazioni", "PA", "Comune di"),
    ("L6", "Pubbliche Amministrazioni", "PA", "Comune di"),
    (
        "L33",
        "Pubbliche Amministrazioni",
        "PA",
        "Istituto comprensivo",
    ),
    ("L5", "Pubbliche Amministrazioni", "PA", "Provincia di"),
    (
        "L22",
        "Pubbliche Amministrazioni",
        "PA",
        "Azienda sanitaria locale",
    ),
    (
        "L17",
        "Pubbliche Amministrazioni",
        "PA",
        "Università degli studi",
    ),
    (
        "C10",
        "Pubbliche Amministrazioni",
        "PA",
        "Camera di commercio",
    ),
];

/// A valid 11-digit tax code, unique per `i`.
pub(crate) fn tax_code(i: usize) -> String {
    let first10 = format!("{:010}", 8_000_000_000_u64 + i as u64 * 7);
    let check = OrgTaxCode::check_digit(&first10).unwrap_or('0');
    format!("{first10}{check}")
}

/// A valid personal fiscal code of `family` `given`, unique per `i` (below 12 million): `i`
/// spells the birth place, day, month and sex; the year is random.
pub(crate) fn fiscal_code(i: usize, family: &str, given: &str, rng: &mut Rng) -> String {
    const MONTHS: &[u8] = b"ABCDEHLMPRST";
    let place = format!(
        "{}{:03}",
        (b'A' + ((i / 999) % 26) as u8) as char,
        1 + i % 999
    );
    let rest = i / (999 * 26);
    let day = 1 + rest % 28 + if (rest / 28) % 2 == 1 { 40 } else { 0 };
    let month = MONTHS[(rest / 56) % 12] as char;
    let year = 40 + rng.below(60);
    let first15 = format!(
        "{}{}{year:02}{month}{day:02}{place}",
        FiscalCode::surname_code_of(family),
        FiscalCode::name_code_of(given),
    );
    let check = FiscalCode::check_character(&first15).unwrap_or('X');
    format!("{first15}{check}")
}

pub(crate) async fn seed(
    db: &Db,
    o: &Options,
    counts: &mut Vec<(&'static str, u64)>,
) -> Result<Vec<Institution>, Error> {
    let mut rng = Rng::new(o.seed, 1);
    let n = scaled(16_000, o.scale, 3);
    let people = scaled(150_000, o.scale, n * 2);
    let big = scaled(10, o.scale, 1).min(n);
    let mut institutions = Vec::with_capacity(n);
    let mut tx = db.begin().await?;
    let mut inst = Bulk::new(
        "institutions",
        &[
            "id",
            "description",
            "tax_code",
            "origin",
            "origin_id",
            "institution_type",
            "digital_address",
            "address",
            "zip_code",
            "city",
            "county",
            "created_at",
            "updated_at",
        ],
    );
    let mut onb = Bulk::new(
        "onboardings",
        &[
            "institution_id",
            "product_id",
            "status",
            "created_at",
            "updated_at",
        ],
    );
    for i in 0..n {
        let (category, typology, kind, prefix) = *rng.pick(KINDS);
        let (city, county) = *rng.pick(CITIES);
        let name = format!("{prefix} {city} {i}");
        let ipa_code = format!("{}e{i}", category.to_lowercase());
        let id = rng.uuid();
        let at = EPOCH + (i as i64) * 1_000;
        inst.push(
            &mut tx,
            vec![
                t(&id),
                t(&name),
                t(tax_code(i)),
                t("IPA"),
                t(&ipa_code),
                t(kind),
                t(format!("protocollo@pec.{ipa_code}.example.it")),
                t(format!("Via Roma, {}", 1 + i % 200)),
                t(format!("{:05}", 10_000 + i % 89_999)),
                t(city),
                t(county),
                V::I(at),
                V::I(at),
            ],
        )
        .await?;
        // Every institution is on App IO (the big ones first of all); a little more than half
        // on Interoperability (8,500 of 16,000).
        let io = true;
        let interop = i < big || rng.below(32) < 17;
        let mut products = vec!["prod-io"];
        if interop {
            products.push("prod-interop");
            products.push("prod-interop-coll");
        }
        for p in products {
            onb.push(&mut tx, vec![t(&id), t(p), t("ACTIVE"), V::I(at), V::I(at)])
                .await?;
        }
        institutions.push(Institution {
            id,
            name,
            tax_code: tax_code(i),
            ipa_code,
            category: category.into(),
            typology: typology.into(),
            io,
            interop,
            admin_user: String::new(),
            admin_name: (String::new(), String::new()),
        });
        flush_full(&mut tx, &mut [&mut inst, &mut onb]).await?;
    }
    inst.flush(&mut tx).await?;
    onb.flush(&mut tx).await?;
    counts.push(("institutions", inst.rows));
    counts.push(("onboardings", onb.rows));

    // People: 30% in the few big institutions, the rest a handful each; every institution
    // has at least its manager.
    let mut users = Bulk::new(
        "users",
        &[
            "id",
            "fiscal_code",
            "name",
            "family_name",
            "created_at",
            "updated_at",
        ],
    );
    let mut ui = Bulk::new(
        "user_institutions",
        &[
            "user_id",
            "institution_id",
            "email",
            "created_at",
            "updated_at",
            "sort_key",
            "listed",
        ],
    );
    let mut roles = Bulk::new(
        "product_roles",
        &[
            "id",
            "user_id",
            "institution_id",
            "product_id",
            "party_role",
            "product_role",
            "status",
            "created_at",
            "updated_at",
        ],
    );
    let mut audit = Bulk::new(
        "audit_log",
        &[
            "id",
            "at",
            "action",
            "actor",
            "institution_id",
            "target",
            "details",
            "client_addr",
        ],
    );
    let in_big = people * 3 / 10;
    let mut members_in: Vec<usize> = vec![1; n];
    for _ in 0..in_big.saturating_sub(big) {
        members_in[rng.below(big)] += 1;
    }
    let mut left = people.saturating_sub(in_big.max(big) + (n - big));
    while left > 0 && n > big {
        members_in[big + rng.below(n - big)] += 1;
        left -= 1;
    }
    let mut person = 0usize;
    for (idx, count) in members_in.iter().enumerate() {
        let (io, interop) = (institutions[idx].io, institutions[idx].interop);
        let institution_id = institutions[idx].id.clone();
        let mut interop_admins = 0;
        for m in 0..*count {
            let uid = rng.uuid();
            let given = *rng.pick(GIVEN);
            let family = *rng.pick(FAMILY);
            let fc = fiscal_code(person, family, given, &mut rng);
            person += 1;
            let at = EPOCH + 86_400_000 + person as i64 * 100;
            users
                .push(
                    &mut tx,
                    vec![t(&uid), t(&fc), t(given), t(family), V::I(at), V::I(at)],
                )
                .await?;
            ui.push(
                &mut tx,
                vec![
                    t(&uid),
                    t(&institution_id),
                    t(format!(
                        "{}.{}{person}@ente.example.it",
                        given.to_lowercase(),
                        family.to_lowercase().replace(' ', "")
                    )),
                    V::I(at),
                    V::I(at),
                    t(reserved_area::store::member_key(
                        &reserved_area::store::User {
                            id: uid.clone(),
                            fiscal_code: fc.clone(),
                            name: given.to_string(),
                            family_name: family.to_string(),
                        },
                    )),
                    // Every seeded role is ACTIVE: everyone is on the list.
                    V::I(1),
                ],
            )
            .await?;
            let manager = m == 0;
            if manager {
                institutions[idx].admin_user = uid.clone();
                institutions[idx].admin_name = (given.to_string(), family.to_string());
            }
            let admin = manager || rng.below(5) == 0;
            let party = if manager {
                "MANAGER"
            } else if admin {
                "DELEGATE"
            } else {
                "OPERATOR"
            };
            // (product, party role, product role)
            let mut granted: Vec<(&str, &str, &str)> = Vec::new();
            if io {
                granted.push(("prod-io", party, if admin { "admin" } else { "operator" }));
            }
            if interop {
                // max_admins = 3 on Interoperability: the other admins are API operators there.
                let interop_admin = admin && interop_admins < 3;
                if interop_admin {
                    interop_admins += 1;
                }
                let (p, role) = if interop_admin {
                    (party, "admin")
                } else {
                    ("OPERATOR", "api")
                };
                granted.push(("prod-interop", p, role));
                granted.push(("prod-interop-coll", p, role));
            }
            let actor = if manager {
                V::NullT
            } else {
                t(&institutions[idx].admin_user)
            };
            for (product, p, role) in granted {
                roles
                    .push(
                        &mut tx,
                        vec![
                            t(rng.uuid()),
                            t(&uid),
                            t(&institution_id),
                            t(product),
                            t(p),
                            t(role),
                            t("ACTIVE"),
                            V::I(at),
                            V::I(at),
                        ],
                    )
                    .await?;
                let actor = match &actor {
                    V::T(s) => t(s.clone()),
                    _ => V::NullT,
                };
                audit
                    .push(
                        &mut tx,
                        vec![
                            t(rng.uuid()),
                            V::I(at),
                            t("user.role.added"),
                            actor,
                            t(&institution_id),
                            t(&uid),
                            t(
                                json!({"productId": product, "role": p, "productRoles": [role]})
                                    .to_string(),
                            ),
                            t("10.0.0.1"),
                        ],
                    )
                    .await?;
            }
            flush_full(&mut tx, &mut [&mut users, &mut ui, &mut roles, &mut audit]).await?;
        }
    }
    users.flush(&mut tx).await?;
    ui.flush(&mut tx).await?;
    roles.flush(&mut tx).await?;
    audit.flush(&mut tx).await?;
    tx.commit().await?;
    counts.push(("users", users.rows));
    counts.push(("user_institutions", ui.rows));
    counts.push(("product_roles", roles.rows));
    counts.push(("audit_log", audit.rows));
    Ok(institutions)
}
