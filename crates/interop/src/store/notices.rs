//! Writes what a change tells ([`crate::model::notice`]) in the change's own transaction: the
//! record in the acting institution's activity log, and the emails to the other side's admins
//! (queued in the outbox, sent only if the change commits). The caller wakes the mail worker
//! after the commit (`platform.mail.wake()`).

use platform::audit::{self, AuditEvent};
use platform::mail::{self, OutgoingEmail};
use platform::types::Email;
use serde_json::Value;
use sqlx::{Any, Row, Transaction};

use crate::model::Environment;
use crate::model::notice::{AttributeEvent, Audience, Event};

/// Who acted: the institution and the person.
#[derive(Debug, Clone, Copy)]
pub struct By<'a> {
    pub institution_id: &'a str,
    pub user_id: &'a str,
}

/// A record of the acting institution's activity log.
pub async fn record(
    tx: &mut Transaction<'static, Any>,
    by: By<'_>,
    action: &str,
    target: &str,
    details: Value,
) -> Result<(), sqlx::Error> {
    let mut event = AuditEvent::new(action);
    event.actor = Some(by.user_id.to_string());
    event.institution_id = Some(by.institution_id.to_string());
    event.target = Some(target.to_string());
    event.details = details;
    audit::record(&mut **tx, &event).await?;
    Ok(())
}

/// Records `event` and emails the admins it is for; `producer_id` and `consumer_id` name the
/// two sides. Returns how many emails were queued.
pub async fn tell(
    tx: &mut Transaction<'static, Any>,
    by: By<'_>,
    target: &str,
    event: &Event<'_>,
    producer_id: &str,
    consumer_id: &str,
) -> Result<usize, sqlx::Error> {
    record(tx, by, event.kind.action(), target, event.details()).await?;
    let Some(audience) = event.kind.audience() else {
        return Ok(0);
    };
    let institution_id = match audience {
        Audience::Producer => producer_id,
        Audience::Consumer => consumer_id,
    };
    let (subject, text) = event.email();
    let mut sent = 0;
    for to in admins(tx, event.env, institution_id).await? {
        mail::enqueue(
            &mut **tx,
            &OutgoingEmail {
                to,
                subject: subject.clone(),
                text: text.clone(),
            },
        )
        .await?;
        sent += 1;
    }
    Ok(sent)
}

/// Records an attribute's change in the actor's log and, when someone else acted, emails the
/// holder's admins.
pub async fn tell_attribute(
    tx: &mut Transaction<'static, Any>,
    by: By<'_>,
    holder: &str,
    target: &str,
    event: &AttributeEvent<'_>,
) -> Result<(), sqlx::Error> {
    record(tx, by, event.change.action(), target, event.details()).await?;
    if !event.change.mailed() {
        return Ok(());
    }
    let (subject, text) = event.email();
    for to in admins(tx, event.env, holder).await? {
        mail::enqueue(
            &mut **tx,
            &OutgoingEmail {
                to,
                subject: subject.clone(),
                text: text.clone(),
            },
        )
        .await?;
    }
    Ok(())
}

/// The names of the two sides, as the environment knows its institutions.
pub async fn names(
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    producer_id: &str,
    consumer_id: &str,
) -> Result<(String, String), sqlx::Error> {
    let mut out = (String::new(), String::new());
    for (id, slot) in [(producer_id, &mut out.0), (consumer_id, &mut out.1)] {
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM interop_institutions WHERE env = $1 AND id = $2")
                .bind(env.as_str())
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
        *slot = name.unwrap_or_default();
    }
    Ok(out)
}

/// The work emails of the institution's admins in the environment, as their latest entry gave
/// them (people who never entered are not known here).
async fn admins(
    tx: &mut Transaction<'static, Any>,
    env: Environment,
    institution_id: &str,
) -> Result<Vec<Email>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT email, roles FROM interop_people WHERE env = $1 AND institution_id = $2 \
         AND email IS NOT NULL ORDER BY user_id",
    )
    .bind(env.as_str())
    .bind(institution_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut out: Vec<Email> = Vec::new();
    for r in rows {
        let roles: String = r.try_get("roles")?;
        let email: String = r.try_get("email")?;
        if roles.split(',').any(|role| role == "admin")
            && let Ok(email) = Email::parse(&email)
            && !out.contains(&email)
        {
            out.push(email);
        }
    }
    Ok(out)
}
