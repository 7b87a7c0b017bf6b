//! Vouchers for the run, from the real token endpoint of the demo app: an ACTIVE agreement and
//! purpose of the Comune on SEND - UAT, one consumer client with an uploaded RSA-2048 key and
//! the purpose linked, then `count` vouchers (Bearer, reused: a Bearer voucher is good until it
//! expires).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::token::keys::{ClientKey, new_key_pair, token_request};
use crate::token::load::post_form;
use crate::token::prepare::{active_purpose, consumer_client};
use crate::{Error, json_of};

const COLL: &str = "/interop/collaudo";

pub(super) struct Vouchers {
    pub(super) tokens: Vec<String>,
    /// The claims of the first (they differ only in `jti`, `iat`, `nbf`, `exp`).
    pub(super) claims: Value,
}

/// The claims of a JWT (not verified).
pub(super) fn claims_of(jwt: &str) -> Result<Value, Error> {
    let payload = jwt.split('.').nth(1).ok_or("a voucher is not a JWT")?;
    Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?)
}

pub(super) async fn vouchers(
    http: &reqwest::Client,
    base: &str,
    count: usize,
) -> Result<Vouchers, Error> {
    let active = active_purpose(http, base, "Notifiche degli atti (gateway)").await?;
    let (eservice, purpose) = (&active.eservice, &active.purpose_id);
    let pair = new_key_pair()?;
    let (id, kid) = consumer_client(http, base, &active, &pair, "Client del gateway").await?;
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(
        &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
    )?);
    let key = ClientKey {
        id,
        kid,
        pair,
        header,
    };
    let url = format!("{base}{COLL}/token.oauth2");
    let mut tokens = Vec::with_capacity(count);
    for _ in 0..count {
        let body = token_request(&key, purpose, platform::jwt::now_secs())?;
        let r = json_of(post_form(http, &url, body)).await?;
        if r["token_type"] != "Bearer" {
            return Err(format!("the token endpoint answered {r}").into());
        }
        tokens.push(
            r["access_token"]
                .as_str()
                .ok_or("no access_token")?
                .to_string(),
        );
    }
    let first = tokens.first().ok_or("no vouchers")?;
    let claims = claims_of(first)?;
    if claims["purposeId"] != purpose.as_str() || claims["eserviceId"] != eservice.as_str() {
        return Err(format!("unexpected voucher claims: {claims}").into());
    }
    Ok(Vouchers { tokens, claims })
}
