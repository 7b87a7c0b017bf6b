//! What the endpoint needs, prepared through the real JSON API.

use super::*;

pub(super) struct Prepared {
    pub(super) purpose_id: String,
    pub(super) keys: Vec<ClientKey>,
}

pub(super) async fn session_token(
    http: &reqwest::Client,
    base: &str,
    fiscal_code: &str,
) -> Result<String, Error> {
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

pub(super) async fn comune_id(
    http: &reqwest::Client,
    base: &str,
    session: &str,
) -> Result<String, Error> {
    let list = json_of(
        http.get(format!("{base}/v2/institutions"))
            .bearer_auth(session),
    )
    .await?;
    Ok(list
        .as_array()
        .and_then(|l| l.iter().find(|i| i["name"] == "Comune di Roccabella"))
        .and_then(|i| i["id"].as_str())
        .ok_or("no Comune")?
        .to_string())
}

/// The Comune's ACTIVE purpose on SEND - UAT in Collaudo, and Luca's way in.
pub(crate) struct ActivePurpose {
    /// Luca's Collaudo session (`Authorization: Bearer`).
    pub(crate) luca: String,
    pub(crate) user_id: String,
    pub(crate) eservice: String,
    pub(crate) purpose_id: String,
}

impl ActivePurpose {
    /// A call to Collaudo's JSON API as Luca.
    pub(crate) fn api(
        &self,
        http: &reqwest::Client,
        base: &str,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        http.request(method, format!("{base}{COLL}/api{path}"))
            .bearer_auth(&self.luca)
    }
}

/// Mario gives Luca admin on Interoperabilità Collaudo; Luca enters Collaudo for the Comune;
/// an ACTIVE agreement on SEND - UAT and an ACTIVE purpose named `title`.
pub(crate) async fn active_purpose(
    http: &reqwest::Client,
    base: &str,
    title: &str,
) -> Result<ActivePurpose, Error> {
    use reqwest::Method;
    let mario = session_token(http, base, MARIO).await?;
    let comune = comune_id(http, base, &mario).await?;
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
    let session = session_token(http, base, LUCA).await?;
    let identity = json_of(
        http.get(format!(
            "{base}/v2/token/exchange?institutionId={comune}&productId=prod-interop-coll"
        ))
        .bearer_auth(&session),
    )
    .await?;
    let r = json_of(
        http.post(format!("{base}{COLL}/api/session"))
            .json(&json!({ "identity_token": identity["token"] })),
    )
    .await?;
    let mut active = ActivePurpose {
        luca: r["token"]
            .as_str()
            .ok_or("no Collaudo session")?
            .to_string(),
        user_id: String::new(),
        eservice: String::new(),
        purpose_id: String::new(),
    };
    let api = |method: Method, path: &str| active.api(http, base, method, path);

    let catalog = json_of(api(Method::GET, "/catalog?q=SEND")).await?;
    let send = catalog["results"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["name"] == SEND))
        .ok_or("SEND - UAT is not in the catalogue")?;
    let eservice = send["id"].as_str().ok_or("no e-service id")?.to_string();
    let descriptor = send["activeDescriptor"]["id"]
        .as_str()
        .ok_or("no published version")?;
    let a = json_of(
        api(Method::POST, "/agreements")
            .json(&json!({"eserviceId": eservice, "descriptorId": descriptor})),
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
    let risk = risk_answers(&form)?;
    let p = json_of(api(Method::POST, "/purposes").json(&json!({
        "eserviceId": eservice,
        "title": title,
        "description": "Invio delle notifiche degli atti del Comune.",
        "isFreeOfCharge": false,
        "dailyCalls": 1000,
        "riskAnalysisForm": risk,
    })))
    .await?;
    let purpose_id = p["id"].as_str().ok_or("no purpose id")?.to_string();
    let version = p["versions"][0]["id"]
        .as_str()
        .ok_or("no purpose version")?;
    let p = json_of(api(
        Method::POST,
        &format!("/purposes/{purpose_id}/versions/{version}/activate"),
    ))
    .await?;
    if p["versions"][0]["state"] != "ACTIVE" {
        return Err(format!(
            "the purpose is {} instead of ACTIVE",
            p["versions"][0]["state"]
        )
        .into());
    }
    let me = json_of(api(Method::GET, "/me")).await?;
    let user_id = me["userId"].as_str().ok_or("no user id")?.to_string();
    active.user_id = user_id;
    active.eservice = eservice;
    active.purpose_id = purpose_id;
    Ok(active)
}

/// A consumer client `name` with Luca as member, the public half of `pair` uploaded and the
/// purpose linked: its id and the key's kid.
pub(crate) async fn consumer_client(
    http: &reqwest::Client,
    base: &str,
    active: &ActivePurpose,
    pair: &RsaKeyPair,
    name: &str,
) -> Result<(String, String), Error> {
    use reqwest::Method;
    let api = |method: Method, path: &str| active.api(http, base, method, path);
    let c = json_of(api(Method::POST, "/clientsConsumer").json(&json!({
        "name": name,
        "description": "Client di un benchmark",
        "members": [active.user_id],
    })))
    .await?;
    let id = c["id"].as_str().ok_or("no client id")?.to_string();
    let (upload, kid) = public_upload(pair)?;
    let added = json_of(
        api(Method::POST, &format!("/clients/{id}/keys")).json(&json!([{
            "key": upload, "use": "SIG", "alg": "RS256", "name": format!("Chiave di {name}"),
        }])),
    )
    .await?;
    if added["keys"][0]["kid"].as_str().is_some_and(|k| k != kid) {
        return Err(format!("the platform gave the key kid {}", added["keys"][0]["kid"]).into());
    }
    json_of(
        api(Method::POST, &format!("/clients/{id}/purposes"))
            .json(&json!({ "purposeId": active.purpose_id })),
    )
    .await?;
    Ok((id, kid))
}

/// [`active_purpose`], then `clients` consumer clients with an RSA-2048 key each.
pub(super) async fn prepare(
    http: &reqwest::Client,
    base: &str,
    clients: usize,
) -> Result<Prepared, Error> {
    let active = active_purpose(http, base, "Notifiche degli atti (loadgen)").await?;
    // RSA key generation is slow: on every core, while nothing is measured.
    let pairs: Vec<RsaKeyPair> = {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per = clients.div_ceil(threads);
        let made: Vec<Result<Vec<RsaKeyPair>, Error>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        (t * per..((t + 1) * per).min(clients))
                            .map(|_| new_key_pair())
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().map_err(|_| Error::from("a key thread panicked"))?)
                .collect()
        });
        let mut all = Vec::with_capacity(clients);
        for m in made {
            all.extend(m?);
        }
        all
    };
    let mut keys = Vec::with_capacity(clients);
    for (i, pair) in pairs.into_iter().enumerate() {
        let (id, kid) = consumer_client(
            http,
            base,
            &active,
            &pair,
            &format!("Client di carico {i:03}"),
        )
        .await?;
        let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(
            &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        )?);
        keys.push(ClientKey {
            id,
            kid,
            pair,
            header,
        });
    }
    Ok(Prepared {
        purpose_id: active.purpose_id,
        keys,
    })
}

/// Answers that satisfy the current risk-analysis form: the first choice of every question
/// that applies, a sentence for texts.
pub(super) fn risk_answers(form: &Value) -> Result<Value, Error> {
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

/// One request made and checked through the endpoint before anything is measured: the
/// voucher's claims are the ones of the spec.
pub(super) async fn check_one(
    http: &reqwest::Client,
    url: &str,
    body: Bytes,
    purpose_id: &str,
) -> Result<(), Error> {
    let r = post_form(http, url, body).send().await?;
    let status = r.status();
    let text = r.text().await?;
    if status != 200 {
        return Err(format!("the token endpoint answered {status}: {text}").into());
    }
    let v: Value = serde_json::from_str(&text)?;
    let token = v["access_token"].as_str().ok_or("no access_token")?;
    let payload = token.split('.').nth(1).ok_or("the voucher is not a JWT")?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
    if claims["purposeId"] != purpose_id || v["token_type"] != "Bearer" {
        return Err(format!("unexpected voucher: {text}").into());
    }
    Ok(())
}
