//! Vouchers for the run, from the real token endpoint of the demo app: an ACTIVE agreement and
//! purpose of the Comune on SEND - UAT, one consumer client with an uploaded RSA-2048 key and
//! the purpose linked, then `count` vouchers (Bearer, reused: a Bearer voucher is good until it
//! expires).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::Method;
use selfcare::demo::{LUCA, MARIO, SEND_UAT};
use serde_json::{Value, json};

use crate::{Error, json_of};

const COLL: &str = "/interop/collaudo";
const ASSERTION_AUDIENCE: &str = "auth.uat.interop.pagopa.it/client-assertion";

pub(super) struct Vouchers {
    pub(super) tokens: Vec<String>,
    /// The claims of the first (they differ only in `jti`, `iat`, `nbf`, `exp`).
    pub(super) claims: Value,
}

async fn session(http: &reqwest::Client, base: &str, fiscal_code: &str) -> Result<String, Error> {
    let r = json_of(
        http.post(format!("{base}/auth/test-idp/token"))
            .json(&json!({ "fiscal_number": fiscal_code })),
    )
    .await?;
    Ok(r["sessionToken"]
        .as_str()
        .ok_or("no session token")?
        .to_string())
}

/// The claims of a JWT (not verified).
pub(super) fn claims_of(jwt: &str) -> Result<Value, Error> {
    let payload = jwt.split('.').nth(1).ok_or("a voucher is not a JWT")?;
    Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?)
}

fn rs256(pair: &RsaKeyPair, message: &[u8]) -> Result<Vec<u8>, Error> {
    let mut signature = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut signature,
    )
    .map_err(|_| "signing failed")?;
    Ok(signature)
}

pub(super) async fn vouchers(
    http: &reqwest::Client,
    base: &str,
    count: usize,
) -> Result<Vouchers, Error> {
    let mario = session(http, base, MARIO).await?;
    let list = json_of(
        http.get(format!("{base}/v2/institutions"))
            .bearer_auth(&mario),
    )
    .await?;
    let comune = list
        .as_array()
        .and_then(|l| l.iter().find(|i| i["name"] == "Comune di Roccabella"))
        .and_then(|i| i["id"].as_str())
        .ok_or("no Comune")?
        .to_string();
    json_of(
        http.post(format!(
            "{base}/v2/institutions/{comune}/products/prod-interop-coll/users"
        ))
        .bearer_auth(&mario)
        .json(&json!({
            "name": "Luca", "surname": "Neri", "taxCode": LUCA,
            "email": "luca.neri@comune.roccabella.it",
            "role": "SUB_DELEGATE", "productRoles": ["admin"]
        })),
    )
    .await?;
    let luca_session = session(http, base, LUCA).await?;
    let identity = json_of(
        http.get(format!(
            "{base}/v2/token/exchange?institutionId={comune}&productId=prod-interop-coll"
        ))
        .bearer_auth(&luca_session),
    )
    .await?;
    let r = json_of(
        http.post(format!("{base}{COLL}/api/session"))
            .json(&json!({ "identity_token": identity["token"] })),
    )
    .await?;
    let luca = r["token"]
        .as_str()
        .ok_or("no Collaudo session")?
        .to_string();
    let api = |method: Method, path: &str| {
        http.request(method, format!("{base}{COLL}/api{path}"))
            .bearer_auth(&luca)
    };

    let catalog = json_of(api(Method::GET, "/catalog?q=SEND")).await?;
    let send = catalog["results"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["name"] == SEND_UAT))
        .ok_or("SEND - UAT is not in the catalogue")?;
    let eservice = send["id"].as_str().ok_or("no e-service id")?.to_string();
    let a = json_of(
        api(Method::POST, "/agreements")
            .json(&json!({"eserviceId": eservice, "descriptorId": send["activeDescriptor"]["id"]})),
    )
    .await?;
    let agreement = a["id"].as_str().ok_or("no agreement id")?;
    let a = json_of(api(
        Method::POST,
        &format!("/agreements/{agreement}/submit"),
    ))
    .await?;
    if a["state"] != "ACTIVE" {
        return Err(format!("the agreement is {} instead of ACTIVE", a["state"]).into());
    }
    let form = json_of(api(Method::GET, "/purposes/riskAnalysis/form")).await?;
    let p = json_of(api(Method::POST, "/purposes").json(&json!({
        "eserviceId": eservice,
        "title": "Notifiche degli atti (gateway)",
        "description": "Le chiamate a SEND attraverso il gateway del produttore.",
        "isFreeOfCharge": false,
        "dailyCalls": 1000,
        "riskAnalysisForm": risk_answers(&form)?,
    })))
    .await?;
    let purpose = p["id"].as_str().ok_or("no purpose id")?.to_string();
    let version = p["versions"][0]["id"]
        .as_str()
        .ok_or("no purpose version")?;
    let p = json_of(api(
        Method::POST,
        &format!("/purposes/{purpose}/versions/{version}/activate"),
    ))
    .await?;
    if p["versions"][0]["state"] != "ACTIVE" {
        return Err(format!("the purpose is {}", p["versions"][0]["state"]).into());
    }

    let me = json_of(api(Method::GET, "/me")).await?;
    let c = json_of(api(Method::POST, "/clientsConsumer").json(&json!({
        "name": "Client del gateway",
        "description": "Client del benchmark del gateway",
        "members": [me["userId"]],
    })))
    .await?;
    let client = c["id"].as_str().ok_or("no client id")?.to_string();
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| "cannot generate a key")?;
    let der = pair
        .public_key()
        .as_der()
        .map_err(|_| "cannot encode a public key")?;
    let body = STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line)?);
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    let public = pair.public_key();
    let kid = platform::keys::jwk_thumbprint(
        &URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        &URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    );
    json_of(
        api(Method::POST, &format!("/clients/{client}/keys")).json(&json!([{
            "key": STANDARD.encode(pem), "use": "SIG", "alg": "RS256", "name": "Chiave",
        }])),
    )
    .await?;
    json_of(
        api(Method::POST, &format!("/clients/{client}/purposes"))
            .json(&json!({ "purposeId": purpose })),
    )
    .await?;

    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(
        &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
    )?);
    let mut tokens = Vec::with_capacity(count);
    for _ in 0..count {
        let now = platform::jwt::now_secs();
        let claims = json!({
            "iss": client, "sub": client, "aud": ASSERTION_AUDIENCE,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now, "exp": now + 3600, "purposeId": purpose,
        });
        let mut jwt = format!(
            "{header}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?)
        );
        let signature = rs256(&pair, jwt.as_bytes())?;
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
        let r = json_of(http.post(format!("{base}{COLL}/token.oauth2")).form(&[
            ("client_id", client.as_str()),
            ("client_assertion", jwt.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("grant_type", "client_credentials"),
        ]))
        .await?;
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

/// Answers that satisfy the current risk-analysis form: the first choice of every question
/// that applies, a sentence for texts.
fn risk_answers(form: &Value) -> Result<Value, Error> {
    let mut answers = serde_json::Map::new();
    for q in form["questions"].as_array().ok_or("no questions")? {
        if let Some(dep) = q.get("dependsOn") {
            let given = dep["question"]
                .as_str()
                .and_then(|d| answers.get(d))
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x == &dep["value"]));
            if !given {
                continue;
            }
        }
        let value = match q["kind"].as_str() {
            Some("TEXT") => json!(["Notifiche degli atti del Comune ai cittadini."]),
            _ => json!([q["options"][0]["value"]]),
        };
        let id = q["id"].as_str().ok_or("a question without id")?;
        answers.insert(id.to_string(), value);
    }
    Ok(json!({ "version": form["version"], "answers": answers }))
}
