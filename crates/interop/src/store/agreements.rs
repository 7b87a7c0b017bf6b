//! Agreements ("richieste di fruizione"): one transaction per change, the row locked, the
//! model's rule applied.

use platform::db::{Db, now_millis};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::attributes;
use super::catalogue::{self, EService};
use super::notices;
use super::{Paged, Shared, Side, Tenant, Window, corrupt, lock, new_id};
use crate::error::InteropError;
use crate::model::agreement::{self, Change};
use crate::model::attribute::{self, AttributeKind, Submission, Verdict};
use crate::model::notice::{Event, Kind};
use crate::model::{
    self as rules, AgreementFacts, AgreementState, DescriptorState, Environment, RejectionReason,
};

/// An agreement as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = InteropAgreement)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    pub id: String,
    pub eservice_id: String,
    pub eservice_name: String,
    pub descriptor_id: String,
    pub descriptor_version: String,
    pub producer_id: String,
    pub producer_name: String,
    pub consumer_id: String,
    pub consumer_name: String,
    pub state: &'static str,
    pub suspended_by_consumer: bool,
    pub suspended_by_producer: bool,
    /// Set while the consumer's attributes do not hold.
    pub suspended_by_platform: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(skip)]
    pub state_value: AgreementState,
}

impl Agreement {
    pub fn facts(&self) -> AgreementFacts {
        AgreementFacts {
            state: self.state_value,
            suspended_by_consumer: self.suspended_by_consumer,
            suspended_by_producer: self.suspended_by_producer,
            suspended_by_platform: self.suspended_by_platform,
            consumer_id: self.consumer_id.clone(),
            producer_id: self.producer_id.clone(),
        }
    }
}

const COLUMNS: &str = "a.id, a.eservice_id, a.descriptor_id, a.producer_id, a.consumer_id, \
    a.state, a.suspended_by_consumer, a.suspended_by_producer, a.suspended_by_platform, \
    a.consumer_notes, \
    a.rejection_reason, a.created_at, a.updated_at, e.name AS eservice_name, \
    d.version AS descriptor_version, COALESCE(p.name, '') AS producer_name, \
    COALESCE(c.name, '') AS consumer_name";

const FROM: &str = "interop_agreements a \
    JOIN interop_eservices e ON e.id = a.eservice_id \
    JOIN interop_descriptors d ON d.id = a.descriptor_id \
    LEFT JOIN interop_institutions p ON p.env = a.env AND p.id = a.producer_id \
    LEFT JOIN interop_institutions c ON c.env = a.env AND c.id = a.consumer_id";

fn row(r: &AnyRow) -> Result<Agreement, sqlx::Error> {
    let state: String = r.try_get("state")?;
    let state_value = AgreementState::parse(&state).ok_or_else(|| corrupt("agreement state"))?;
    Ok(Agreement {
        id: r.try_get("id")?,
        eservice_id: r.try_get("eservice_id")?,
        eservice_name: r.try_get("eservice_name")?,
        descriptor_id: r.try_get("descriptor_id")?,
        descriptor_version: r.try_get::<i64, _>("descriptor_version")?.to_string(),
        producer_id: r.try_get("producer_id")?,
        producer_name: r.try_get("producer_name")?,
        consumer_id: r.try_get("consumer_id")?,
        consumer_name: r.try_get("consumer_name")?,
        state: state_value.as_str(),
        suspended_by_consumer: r.try_get::<i64, _>("suspended_by_consumer")? != 0,
        suspended_by_producer: r.try_get::<i64, _>("suspended_by_producer")? != 0,
        suspended_by_platform: r.try_get::<i64, _>("suspended_by_platform")? != 0,
        consumer_notes: r.try_get("consumer_notes")?,
        rejection_reason: r.try_get("rejection_reason")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        state_value,
    })
}

pub(crate) const SHARED: Shared = Shared {
    columns: COLUMNS,
    from: FROM,
    alias: "a",
    table: "interop_agreements",
};

/// One agreement the caller's institution is a party to (any other is not found).
pub async fn get(
    db: &Db,
    env: Environment,
    caller: &str,
    id: &str,
) -> Result<Agreement, InteropError> {
    let found = SHARED.one(db, env, caller, id).await?;
    found
        .as_ref()
        .map(row)
        .transpose()?
        .ok_or(InteropError::NotFound)
}

/// The agreements where the institution is the consumer (`as_producer` false: "Le mie
/// richieste") or the producer ("Richieste ricevute"), newest first.
pub async fn list(
    db: &Db,
    env: Environment,
    institution_id: &str,
    as_producer: bool,
) -> Result<Vec<Agreement>, InteropError> {
    let rows = SHARED
        .all_of_side(db, env, institution_id, Side::of(as_producer))
        .await?;
    rows.iter()
        .map(row)
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

/// A window of the agreements of the institution on `side`, newest first, and their total.
pub async fn page(
    db: &Db,
    env: Environment,
    institution_id: &str,
    side: Side,
    window: Window,
) -> Result<Paged<Agreement>, InteropError> {
    let (rows, total_count) = SHARED
        .of_side(db, env, institution_id, side, window)
        .await?;
    Ok(Paged {
        results: rows.iter().map(row).collect::<Result<_, _>>()?,
        total_count,
    })
}

/// Creates a draft on the e-service's latest published version; refused while the consumer has
/// one in DRAFT, PENDING, ACTIVE or SUSPENDED for the same e-service.
pub async fn create(
    db: &Db,
    env: Environment,
    consumer: &Tenant,
    eservice_id: &str,
    descriptor_id: &str,
    notes: Option<String>,
) -> Result<Agreement, InteropError> {
    let mut tx = db.begin().await?;
    // The e-service's row is the lock that keeps two requests from both passing the check.
    let locked: Option<String> = sqlx::query_scalar(&format!(
        "SELECT e.id FROM interop_eservices e WHERE e.id = $1 AND e.env = $2{}",
        lock(db, "e")
    ))
    .bind(eservice_id)
    .bind(env.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    if locked.is_none() {
        return Err(InteropError::NotFound);
    }
    let e: EService = catalogue::eservice(db, env, eservice_id)
        .await?
        .ok_or(InteropError::NotFound)?;
    let chosen = e.descriptor(descriptor_id).ok_or(InteropError::NotFound)?;
    if chosen.state_value == DescriptorState::Draft && e.producer_id != consumer.institution_id {
        return Err(InteropError::NotFound);
    }
    if let Some(latest) = e.latest_published()
        && latest.id != chosen.id
        && chosen.state_value == DescriptorState::Published
    {
        return Err(InteropError::Conflict(
            "descriptor_not_latest",
            format!("request the latest published version ({})", latest.version),
        ));
    }
    let existing: Vec<String> = sqlx::query_scalar(
        "SELECT state FROM interop_agreements WHERE env = $1 AND consumer_id = $2 \
         AND eservice_id = $3",
    )
    .bind(env.as_str())
    .bind(&consumer.institution_id)
    .bind(eservice_id)
    .fetch_all(&mut *tx)
    .await?;
    let existing: Vec<AgreementState> = existing
        .iter()
        .filter_map(|s| AgreementState::parse(s))
        .collect();
    let change = agreement::can_create(&existing, chosen.state_value)?;
    let now = now_millis();
    let self_consumption = e.producer_id == consumer.institution_id;
    if !self_consumption {
        let held =
            attributes::held(&mut tx, env, &consumer.institution_id, &e.producer_id, now).await?;
        let verdict = attribute::check(&chosen.attributes, &held);
        if let Err(refusal) = attribute::can_create(&verdict, self_consumption) {
            let names = missing_in_words(&mut tx, env, &verdict, AttributeKind::Certified).await?;
            return Err(InteropError::Rejected(
                refusal.code,
                format!("{}: {names}", refusal.message),
            ));
        }
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO interop_agreements (id, env, eservice_id, descriptor_id, producer_id, \
         consumer_id, state, suspended_by_consumer, suspended_by_producer, consumer_notes, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8, $9, $9)",
    )
    .bind(&id)
    .bind(env.as_str())
    .bind(eservice_id)
    .bind(descriptor_id)
    .bind(&e.producer_id)
    .bind(&consumer.institution_id)
    .bind(change.state.as_str())
    .bind(notes)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    get(db, env, &consumer.institution_id, &id).await
}

/// What a party does to an agreement.
#[derive(Debug, Clone)]
pub enum Action {
    Submit,
    Approve,
    Reject(RejectionReason),
    Suspend,
    Activate,
    Archive,
}

async fn locked(
    db: &Db,
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    caller: &str,
    id: &str,
) -> Result<Agreement, InteropError> {
    let found = SHARED.locked(db, tx, env, caller, id).await?;
    found
        .as_ref()
        .map(row)
        .transpose()?
        .ok_or(InteropError::NotFound)
}

async fn write(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    change: &Change,
    column: Option<&str>,
) -> Result<(), InteropError> {
    let now = now_millis();
    let stamp = column.map(|c| format!(", {c} = $6")).unwrap_or_default();
    sqlx::query(&format!(
        "UPDATE interop_agreements SET state = $1, suspended_by_consumer = $2, \
         suspended_by_producer = $3, rejection_reason = COALESCE($4, rejection_reason), \
         updated_at = $6, suspended_by_platform = $7{stamp} WHERE id = $5"
    ))
    .bind(change.state.as_str())
    .bind(i64::from(change.suspended_by_consumer))
    .bind(i64::from(change.suspended_by_producer))
    .bind(change.rejection_reason.as_deref())
    .bind(id)
    .bind(now)
    .bind(i64::from(change.suspended_by_platform))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Applies `action` by the caller's institution (person `user_id`), as the side it is on; a
/// request that waits for the producer, and the producer's decisions, are told
/// ([`notices::tell`]) in the same transaction.
pub async fn act(
    db: &Db,
    env: Environment,
    caller: &str,
    user_id: &str,
    id: &str,
    action: Action,
) -> Result<Agreement, InteropError> {
    let mut tx = db.begin().await?;
    let a = locked(db, &mut tx, env, caller, id).await?;
    let facts = a.facts();
    let side =
        rules::side_of(caller, &a.consumer_id, &a.producer_id).ok_or(InteropError::NotFound)?;
    let reason = match &action {
        Action::Reject(r) => r.as_str().to_string(),
        _ => String::new(),
    };
    let told = match (&action, side) {
        (Action::Approve, _) => Some(Kind::AgreementApproved),
        (Action::Reject(_), _) => Some(Kind::AgreementRejected),
        (Action::Suspend, rules::Side::Producer) => Some(Kind::AgreementSuspended),
        (Action::Activate, rules::Side::Producer) => Some(Kind::AgreementReactivated),
        _ => None,
    };
    let (change, column) = match action {
        Action::Submit => {
            rules::require_consumer(caller, &a.consumer_id)?;
            let (policy, verdict) = standing(db, &mut tx, env, &a).await?;
            let mut change = agreement::submit(&facts, policy, facts.producer_is_consumer())?;
            if !facts.producer_is_consumer() {
                let email = super::attributes::contact_email(db, env, &a.consumer_id).await?;
                if email.is_none() {
                    return Err(InteropError::Rejected(
                        attribute::NO_CONTACT_EMAIL,
                        "set the institution's contact email before submitting a request".into(),
                    ));
                }
            }
            let automatic = policy == crate::model::AgreementApprovalPolicy::Automatic;
            match attribute::submission(&verdict, automatic, facts.producer_is_consumer()) {
                Ok(Submission::Active) => change.state = AgreementState::Active,
                Ok(Submission::Pending) => change.state = AgreementState::Pending,
                Ok(Submission::MissingCertified) => {
                    // Kept in its new state, and refused: the consumer sees why.
                    let missing =
                        missing_in_words(&mut tx, env, &verdict, AttributeKind::Certified).await?;
                    let kept = Change {
                        state: AgreementState::MissingCertifiedAttributes,
                        ..change
                    };
                    write(&mut tx, id, &kept, None).await?;
                    tx.commit().await?;
                    return Err(InteropError::Rejected(
                        attribute::SUBMISSION_FAILED,
                        format!(
                            "the institution does not have the certified attributes the \
                             version requires: {missing}"
                        ),
                    ));
                }
                Err(refusal) => {
                    let missing =
                        missing_in_words(&mut tx, env, &verdict, AttributeKind::Declared).await?;
                    return Err(InteropError::Rejected(
                        refusal.code,
                        format!("{}: {missing}", refusal.message),
                    ));
                }
            }
            let column = if change.state == AgreementState::Active {
                "activated_at"
            } else {
                "submitted_at"
            };
            (change, Some(column))
        }
        Action::Approve => {
            rules::require_producer(caller, &a.producer_id)?;
            let change = agreement::approve(&facts)?;
            let (_, verdict) = standing(db, &mut tx, env, &a).await?;
            if let Err(refusal) = attribute::can_approve(&verdict, facts.producer_is_consumer()) {
                let mut missing = Vec::new();
                for kind in AttributeKind::ALL {
                    let words = missing_in_words(&mut tx, env, &verdict, kind).await?;
                    if !words.is_empty() {
                        missing.push(words);
                    }
                }
                return Err(InteropError::Rejected(
                    refusal.code,
                    format!("{}: {}", refusal.message, missing.join("; ")),
                ));
            }
            (change, Some("activated_at"))
        }
        Action::Reject(reason) => {
            rules::require_producer(caller, &a.producer_id)?;
            (agreement::reject(&facts, reason)?, None)
        }
        Action::Suspend => (agreement::suspend(&facts, side)?, Some("suspended_at")),
        Action::Activate => (agreement::activate(&facts, side)?, None),
        Action::Archive => {
            rules::require_consumer(caller, &a.consumer_id)?;
            (agreement::archive(&facts)?, Some("archived_at"))
        }
    };
    write(&mut tx, id, &change, column).await?;
    let told = told.or((change.state == AgreementState::Pending
        && facts.state != AgreementState::Pending)
        .then_some(Kind::AgreementWaiting));
    if let Some(kind) = told
        && !facts.producer_is_consumer()
    {
        let event = Event {
            kind,
            env,
            eservice: &a.eservice_name,
            version: &a.descriptor_version,
            purpose: "",
            producer: &a.producer_name,
            consumer: &a.consumer_name,
            reason: &reason,
        };
        let by = notices::By {
            institution_id: caller,
            user_id,
        };
        notices::tell(&mut tx, by, id, &event, &a.producer_id, &a.consumer_id).await?;
    }
    tx.commit().await?;
    get(db, env, caller, id).await
}

/// Deletes a draft or pending agreement (the consumer).
pub async fn delete(db: &Db, env: Environment, caller: &str, id: &str) -> Result<(), InteropError> {
    let mut tx = db.begin().await?;
    let a = locked(db, &mut tx, env, caller, id).await?;
    rules::require_consumer(caller, &a.consumer_id)?;
    agreement::delete_allowed(&a.facts())?;
    sqlx::query("DELETE FROM interop_agreements WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves the agreement to the e-service's newest published version: the old one is archived,
/// a new one takes its state and flags. Returns the new agreement.
pub async fn upgrade(
    db: &Db,
    env: Environment,
    caller: &str,
    id: &str,
) -> Result<Agreement, InteropError> {
    let mut tx = db.begin().await?;
    let a = locked(db, &mut tx, env, caller, id).await?;
    rules::require_consumer(caller, &a.consumer_id)?;
    let e = catalogue::eservice(db, env, &a.eservice_id)
        .await?
        .ok_or(InteropError::NotFound)?;
    let current: u32 = a.descriptor_version.parse().unwrap_or(0);
    let newest = e.latest_published();
    let plan = agreement::upgrade(
        &a.facts(),
        current,
        newest.and_then(|d| u32::try_from(d.version_n).ok()),
    )?;
    let Some(newest) = newest else {
        return Err(InteropError::NotFound);
    };
    write(&mut tx, id, &plan.archived, Some("archived_at")).await?;
    let new_id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO interop_agreements (id, env, eservice_id, descriptor_id, producer_id, \
         consumer_id, state, suspended_by_consumer, suspended_by_producer, consumer_notes, \
         created_at, updated_at, activated_at, suspended_by_platform) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11, $12)",
    )
    .bind(&new_id)
    .bind(env.as_str())
    .bind(&a.eservice_id)
    .bind(&newest.id)
    .bind(&a.producer_id)
    .bind(&a.consumer_id)
    .bind(plan.new.state.as_str())
    .bind(i64::from(plan.new.suspended_by_consumer))
    .bind(i64::from(plan.new.suspended_by_producer))
    .bind(a.consumer_notes.as_deref())
    .bind(now)
    .bind(i64::from(plan.new.suspended_by_platform))
    .execute(&mut *tx)
    .await?;
    // The old version, deprecated and now without agreements, is archived.
    let old_state = e
        .descriptor(&a.descriptor_id)
        .map(|d| d.state_value)
        .unwrap_or(DescriptorState::Archived);
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM interop_agreements WHERE descriptor_id = $1 \
         AND state IN ('PENDING', 'ACTIVE', 'SUSPENDED')",
    )
    .bind(&a.descriptor_id)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(to) =
        crate::model::descriptor::retire_if_unused(old_state, u64::try_from(live).unwrap_or(0))
    {
        sqlx::query("UPDATE interop_descriptors SET state = $1, archived_at = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(now)
            .bind(&a.descriptor_id)
            .execute(&mut *tx)
            .await?;
    }
    // The newer version may ask for other attributes.
    let by = notices::By {
        institution_id: caller,
        user_id: attributes::PLATFORM,
    };
    attributes::recompute(&mut tx, db, env, &a.consumer_id, by, now).await?;
    tx.commit().await?;
    get(db, env, caller, &new_id).await
}

/// The agreement's version's approval policy, and how its requirements stand for the consumer
/// now (in the action's transaction).
async fn standing(
    db: &Db,
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    a: &Agreement,
) -> Result<(crate::model::AgreementApprovalPolicy, Verdict), InteropError> {
    let e = catalogue::eservice(db, env, &a.eservice_id)
        .await?
        .ok_or(InteropError::NotFound)?;
    let d = e
        .descriptor(&a.descriptor_id)
        .ok_or(InteropError::NotFound)?;
    let held = attributes::held(tx, env, &a.consumer_id, &a.producer_id, now_millis()).await?;
    Ok((d.policy, attribute::check(&d.attributes, &held)))
}

/// The groups of `kind` that fail, in words ("A o B; C").
async fn missing_in_words(
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    verdict: &Verdict,
    kind: AttributeKind,
) -> Result<String, sqlx::Error> {
    let missing: Vec<(AttributeKind, Vec<String>)> = verdict
        .missing
        .iter()
        .filter(|(k, _)| *k == kind)
        .cloned()
        .collect();
    let ids: Vec<&str> = missing
        .iter()
        .flat_map(|(_, g)| g.iter().map(String::as_str))
        .collect();
    let names = attributes::by_ids(&mut **tx, env, &ids).await?;
    Ok(attributes::missing_names(&missing, &names))
}
