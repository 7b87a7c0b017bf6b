//! The database alone: the group-commit writer without HTTP or signatures.

use super::*;

pub(super) struct DbProbe {
    /// Mean time of the endpoint's one read (`tokens::facts`), one after another.
    pub(super) lookup: Duration,
    /// Mean time of a group commit of N voucher records (as the endpoint writes them).
    pub(super) commits: Vec<(usize, Duration)>,
}

/// Times the endpoint's read and its group commit straight on the database, on the server's
/// runtime, with nothing else running.
pub(super) async fn probe_db(
    db: Db,
    kid: String,
    client_id: String,
    purpose_id: String,
) -> Result<DbProbe, Error> {
    let facts = tokens::facts(&db, Environment::Collaudo, &kid, Some(&purpose_id)).await?;
    let Some(purpose) = facts.purpose else {
        return Err("the probe's lookup found no purpose".into());
    };
    let Some(agreement) = purpose.agreement else {
        return Err("the probe's lookup found no agreement".into());
    };
    const LOOKUPS: u32 = 2_000;
    let started = Instant::now();
    for _ in 0..LOOKUPS {
        tokens::facts(&db, Environment::Collaudo, &kid, Some(&purpose_id)).await?;
    }
    let lookup = started.elapsed() / LOOKUPS;

    let record = |jti: String| VoucherRecord {
        jti: format!("probe-{jti}"),
        env: Environment::Collaudo,
        kind: ClientKind::Consumer,
        client_id: client_id.clone(),
        consumer_id: purpose.consumer_id.clone(),
        purpose_id: Some(purpose_id.clone()),
        agreement_id: Some(agreement.id.clone()),
        eservice_id: Some(purpose.eservice_id.clone()),
        descriptor_id: Some(agreement.descriptor_id.clone()),
        client_kid: kid.clone(),
        signing_kid: kid.clone(),
        audience: agreement.audience.join(","),
        assertion_jti: jti,
        issued_at: platform::jwt::now_secs(),
        expires_at: platform::jwt::now_secs() + 600,
    };
    let store = interop::voucher_store(&db).await?;
    let writer = GroupCommit::<VoucherRecord>::spawn(&store, "probe voucher records");
    let mut commits = Vec::new();
    for (size, rounds) in [(1usize, 100u32), (8, 50), (32, 50), (128, 20)] {
        let batches: Vec<Vec<VoucherRecord>> = (0..rounds)
            .map(|_| {
                (0..size)
                    .map(|_| record(uuid::Uuid::new_v4().to_string()))
                    .collect()
            })
            .collect();
        let mut spent = Duration::ZERO;
        for batch in batches {
            // Past the writer's pause between commits, so that it commits at once.
            tokio::time::sleep(db.group_commit_interval()).await;
            // N records handed to the endpoint's writer at once.
            let started = Instant::now();
            let written =
                futures::future::join_all(batch.into_iter().map(|r| writer.record(r))).await;
            spent += started.elapsed();
            if written.contains(&false) {
                return Err("the probe's group commit failed".into());
            }
        }
        commits.push((size, spent / rounds));
    }
    sqlx::query("DELETE FROM interop_vouchers WHERE jti LIKE 'probe-%'")
        .execute(store.writer())
        .await?;
    Ok(DbProbe { lookup, commits })
}
