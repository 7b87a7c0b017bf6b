//! The legacy IO Developer Portal, in its own database: delegates of some institutions and
//! their services, waiting to be imported.

use devportal::model::LegacyService;
use platform::db::Db;
use serde_json::json;

use super::{Bulk, EPOCH, Institution, Options, Rng, V, flush_full, scaled, t};
use crate::Error;

/// The password of every seeded delegate.
pub(crate) const PASSWORD: &str = "una-password-lunga";

/// Where the portal's database goes: `--devportal-database-url`, or on SQLite a file beside
/// the main one (`x.db` → `x.devportal.db`); `None` on PostgreSQL without one.
fn portal_url(o: &Options) -> Option<String> {
    if let Some(url) = &o.devportal_database_url {
        return Some(url.clone());
    }
    let path = platform::db::sqlite_path(&o.database_url)?;
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    Some(format!(
        "sqlite://{}",
        path.with_file_name(format!("{stem}.devportal.db"))
            .display()
    ))
}

pub(crate) async fn seed(
    _main: &Db,
    o: &Options,
    institutions: &[Institution],
    counts: &mut Vec<(&'static str, u64)>,
) -> Result<(), Error> {
    let Some(url) = portal_url(o) else {
        println!("  (no --devportal-database-url: the Developer Portal is not seeded)");
        return Ok(());
    };
    let db = devportal::open_db(&url, &Default::default()).await?;
    let mut rng = Rng::new(o.seed, 4);
    // One argon2 hash for all: computing one per delegate would take longer than the rest.
    let hash = devportal::store::hash_password(PASSWORD).await?;
    let n_delegates = scaled(3_000, o.scale, 1);
    let n_services = scaled(20_000, o.scale, 1);
    let on_io: Vec<&Institution> = institutions.iter().filter(|i| i.io).collect();
    let mut tx = db.begin().await?;
    let mut delegates = Bulk::new(
        "dp_delegates",
        &[
            "id",
            "email",
            "name",
            "surname",
            "password_hash",
            "created_at",
        ],
    );
    let mut services = Bulk::new(
        "dp_services",
        &[
            "id",
            "delegate_id",
            "organization_fiscal_code",
            "name",
            "data",
            "visibility",
            "primary_key",
            "secondary_key",
            "created_at",
            "updated_at",
        ],
    );
    let mut ids = Vec::with_capacity(n_delegates);
    for d in 0..n_delegates {
        let at = EPOCH - 365 * 86_400_000 + d as i64 * 1_000;
        let id = rng.ulid(at);
        delegates
            .push(
                &mut tx,
                vec![
                    t(&id),
                    t(format!("delegato{d}@example.it")),
                    t(format!("Nome{d}")),
                    t(format!("Cognome{d:05}")),
                    t(&hash),
                    V::I(at),
                ],
            )
            .await?;
        // A delegate works for one institution (the first ones for the big ones).
        ids.push((id, on_io[d % on_io.len()]));
        flush_full(&mut tx, &mut [&mut delegates]).await?;
    }
    delegates.flush(&mut tx).await?;
    for s in 0..n_services {
        let (delegate, institution) = &ids[rng.below(ids.len())];
        let at = EPOCH - 200 * 86_400_000 + s as i64 * 1_000;
        let service: LegacyService = serde_json::from_value(json!({
            "name": format!("Servizio storico {s}"),
            "description": format!("Un servizio di {} sul vecchio portale.", institution.name),
            "organization": { "name": institution.name, "fiscal_code": institution.tax_code },
            "metadata": {
                "scope": "LOCAL",
                "privacy_url": format!("https://www.{}.example.it/privacy", institution.ipa_code),
                "email": format!("servizi@{}.example.it", institution.ipa_code)
            }
        }))?;
        let service = service
            .checked()
            .map_err(|e| format!("a seeded legacy service is refused: {e:?}"))?;
        let visibility = match s % 3 {
            0 => "visible",
            1 => "visible_once",
            _ => "never_visible",
        };
        services
            .push(
                &mut tx,
                vec![
                    t(rng.ulid(at)),
                    t(delegate),
                    t(&institution.tax_code),
                    t(&service.name),
                    t(serde_json::to_string(&service)?),
                    t(visibility),
                    t(rng.hex32()),
                    t(rng.hex32()),
                    V::I(at),
                    V::I(at),
                ],
            )
            .await?;
        flush_full(&mut tx, &mut [&mut services]).await?;
    }
    delegates.flush(&mut tx).await?;
    services.flush(&mut tx).await?;
    tx.commit().await?;
    counts.push(("dp_delegates (portal)", delegates.rows));
    counts.push(("dp_services (portal)", services.rows));
    db.close().await;
    Ok(())
}
