//! "Genera voucher": what a client assertion must say for a client and a purpose, with a
//! script that makes one.

use super::*;

/// A claim of the assertion as the page explains it.
pub struct ClaimLine {
    pub name: &'static str,
    pub value: String,
    pub note_key: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "voucher.html")]
pub struct VoucherPage {
    page: Page,
    shell: Shell,
    client_href: String,
    client_name: String,
    client_id: String,
    consumer: bool,
    /// The chosen purpose: title and e-service.
    purpose: Option<(String, String)>,
    purpose_id: String,
    /// The client's linked purposes to choose from: href and title.
    choices: Vec<(String, String)>,
    /// The purpose asked for is not linked to the client.
    not_linked: bool,
    kids: Vec<(String, String)>,
    keys_href: String,
    audience: String,
    token_url: String,
    debug_href: String,
    header_json: String,
    claims: Vec<ClaimLine>,
    payload_json: String,
    script: String,
    curl: String,
    dpop_script: String,
    dpop_curl: String,
}

/// A JSON object with its members in the given order, one a line.
pub(super) fn ordered_json(members: &[(&str, Value)]) -> String {
    let lines: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("  {}: {}", json!(k), v))
        .collect();
    format!("{{\n{}\n}}", lines.join(",\n"))
}

/// `value` in single quotes for a POSIX shell.
pub(super) fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// A client assertion made with the shell and OpenSSL only: the values of this client, fresh
/// `jti`, `iat` and `exp` at each run, signed with the private key in `key.pem`.
pub fn shell_script(
    comment: &str,
    client_id: &str,
    kid: &str,
    audience: &str,
    purpose_id: Option<&str>,
) -> String {
    let mut lines = vec![
        format!("# {comment}"),
        format!("CLIENT_ID={}", sh_quote(client_id)),
        format!("KID={}", sh_quote(kid)),
        format!("AUD={}", sh_quote(audience)),
    ];
    if let Some(p) = purpose_id {
        lines.push(format!("PURPOSE_ID={}", sh_quote(p)));
    }
    lines.extend([
        "b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }".to_string(),
        "IAT=$(date +%s); EXP=$((IAT + 600)); JTI=$(openssl rand -hex 16)".to_string(),
        "HEADER=$(printf '{\"kid\":\"%s\",\"alg\":\"RS256\",\"typ\":\"JWT\"}' \"$KID\" | b64url)"
            .to_string(),
    ]);
    if purpose_id.is_some() {
        lines.extend([
            "PAYLOAD=$(printf '{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"purposeId\":\"%s\",".to_string(),
            " \"jti\":\"%s\",\"iat\":%s,\"exp\":%s}' \\".to_string(),
            "  \"$CLIENT_ID\" \"$CLIENT_ID\" \"$AUD\" \"$PURPOSE_ID\" \"$JTI\" \"$IAT\" \"$EXP\" | b64url)"
                .to_string(),
        ]);
    } else {
        lines.extend([
            "PAYLOAD=$(printf '{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",".to_string(),
            " \"jti\":\"%s\",\"iat\":%s,\"exp\":%s}' \\".to_string(),
            "  \"$CLIENT_ID\" \"$CLIENT_ID\" \"$AUD\" \"$JTI\" \"$IAT\" \"$EXP\" | b64url)"
                .to_string(),
        ]);
    }
    lines.extend([
        "SIGNATURE=$(printf '%s.%s' \"$HEADER\" \"$PAYLOAD\" |".to_string(),
        "  openssl dgst -sha256 -sign key.pem | b64url)".to_string(),
        "CLIENT_ASSERTION=\"$HEADER.$PAYLOAD.$SIGNATURE\"".to_string(),
    ]);
    lines.join("\n")
}

/// A DPoP proof (RFC 9449) for the token request, made with the shell and OpenSSL only: an
/// RSA key of the caller's own in `dpop.pem` (made at the first run), its public part in the
/// header's `jwk`, a fresh `iat` and `jti` at each run.
pub fn dpop_script(comment: &str, token_url: &str) -> String {
    [
        format!("# {comment}"),
        format!("TOKEN_URL={}", sh_quote(token_url)),
        "[ -f dpop.pem ] || openssl genrsa -out dpop.pem 2048 2>/dev/null".to_string(),
        "b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }".to_string(),
        "N=$(openssl rsa -in dpop.pem -noout -modulus | cut -d= -f2 | xxd -r -p | b64url)"
            .to_string(),
        "DPOP_HEADER=$(printf '{\"typ\":\"dpop+jwt\",\"alg\":\"RS256\",\"jwk\":{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}}' \\"
            .to_string(),
        "  \"$N\" | b64url)".to_string(),
        "DPOP_PAYLOAD=$(printf '{\"htm\":\"POST\",\"htu\":\"%s\",\"iat\":%s,\"jti\":\"%s\"}' \\"
            .to_string(),
        "  \"$TOKEN_URL\" \"$(date +%s)\" \"$(openssl rand -hex 16)\" | b64url)".to_string(),
        "DPOP_SIGNATURE=$(printf '%s.%s' \"$DPOP_HEADER\" \"$DPOP_PAYLOAD\" |".to_string(),
        "  openssl dgst -sha256 -sign dpop.pem | b64url)".to_string(),
        "DPOP=\"$DPOP_HEADER.$DPOP_PAYLOAD.$DPOP_SIGNATURE\"".to_string(),
    ]
    .join("\n")
}

/// `GET /clients/{id}/voucher?purpose=<purposeId>`: what to put in the client assertion for
/// this client (and purpose), and how to ask for the voucher.
pub async fn voucher(
    State(state): State<EnvState>,
    mut on: On,
    Path(id): Path<String>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let db = &state.platform.db;
    let c = clients::get(db, state.env, caller(&on.member), &id)
        .await
        .map_err(|e| on.fail(e))?;
    mark_nav(&mut on, c.kind);
    let q = query(q);
    let keys = clients::list_keys(db, state.env, caller(&on.member), &c.id)
        .await
        .map_err(|e| on.fail(e))?;
    let consumer = c.kind == ClientKind::Consumer;
    let asked = q
        .get("purpose")
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty());
    // One linked purpose needs no choice.
    let chosen = match &asked {
        Some(p) => c.purposes.iter().find(|x| *x == p).cloned(),
        None if c.purposes.len() == 1 => c.purposes.first().cloned(),
        None => None,
    };
    let not_linked = consumer && asked.is_some() && chosen.is_none();
    let mut purpose = None;
    let mut choices = Vec::new();
    if consumer {
        let all = purposes::list(db, state.env, on.institution(), false)
            .await
            .map_err(|e| on.fail(e))?;
        for pid in &c.purposes {
            let title = all.iter().find(|p| p.id == *pid).map_or_else(
                || pid.clone(),
                |p| format!("{} — {}", p.title, p.eservice_name),
            );
            choices.push((
                on.href(&format!("/clients/{}/voucher?purpose={pid}", c.id)),
                title,
            ));
        }
        purpose = chosen.as_ref().map(|pid| {
            all.iter().find(|p| p.id == *pid).map_or_else(
                || (pid.clone(), String::new()),
                |p| (p.title.clone(), p.eservice_name.clone()),
            )
        });
    }
    let purpose_id = chosen.clone().unwrap_or_default();
    let kid = keys
        .first()
        .map_or_else(|| "<kid>".to_string(), |k| k.kid.clone());
    let audience = state.policy.audience.clone();
    // The URL a DPoP proof's htu must be, exactly (`interop.<env>.token_url`).
    let token_url = state.dpop.htu.clone();
    let jti = uuid::Uuid::new_v4().to_string();
    let iat = platform::jwt::now_secs();
    let exp = iat + 600;
    let header_json = ordered_json(&[
        ("kid", json!(kid)),
        ("alg", json!("RS256")),
        ("typ", json!("JWT")),
    ]);
    let mut payload: Vec<(&str, Value)> = vec![
        ("iss", json!(c.id)),
        ("sub", json!(c.id)),
        ("aud", json!(audience)),
    ];
    let mut claims = vec![
        ClaimLine {
            name: "iss",
            value: c.id.clone(),
            note_key: "interop.voucher.claim_iss",
        },
        ClaimLine {
            name: "sub",
            value: c.id.clone(),
            note_key: "interop.voucher.claim_sub",
        },
        ClaimLine {
            name: "aud",
            value: audience.clone(),
            note_key: "interop.voucher.claim_aud",
        },
    ];
    if consumer {
        payload.push(("purposeId", json!(purpose_id)));
        claims.push(ClaimLine {
            name: "purposeId",
            value: purpose_id.clone(),
            note_key: "interop.voucher.claim_purpose",
        });
    }
    payload.extend([
        ("jti", json!(jti)),
        ("iat", json!(iat)),
        ("exp", json!(exp)),
    ]);
    claims.extend([
        ClaimLine {
            name: "jti",
            value: jti.clone(),
            note_key: "interop.voucher.claim_jti",
        },
        ClaimLine {
            name: "iat",
            value: iat.to_string(),
            note_key: "interop.voucher.claim_iat",
        },
        ClaimLine {
            name: "exp",
            value: exp.to_string(),
            note_key: "interop.voucher.claim_exp",
        },
    ]);
    let payload_json = ordered_json(&payload);
    let script = shell_script(
        on.page.t("interop.voucher.script_comment"),
        &c.id,
        &kid,
        &audience,
        consumer.then_some(purpose_id.as_str()),
    );
    let curl = format!(
        "curl -X POST '{token_url}' \\\n  \
         -H 'Content-Type: application/x-www-form-urlencoded' \\\n  \
         -d 'client_id={id}' \\\n  \
         --data-urlencode \"client_assertion=$CLIENT_ASSERTION\" \\\n  \
         -d 'client_assertion_type={ASSERTION_TYPE}' \\\n  \
         -d 'grant_type={GRANT_TYPE}'",
        id = c.id,
    );
    let dpop_script = dpop_script(on.page.t("interop.voucher.dpop_script_comment"), &token_url);
    let dpop_curl = curl.replacen(" \\\n", " \\\n  -H \"DPoP: $DPOP\" \\\n", 1);
    let client_href = on.href(&format!("/clients/{}", c.id));
    let keys_href = format!("{client_href}#keys");
    let debug_href = on.href("/tools/client-assertion");
    let kids = keys
        .iter()
        .map(|k| (k.kid.clone(), k.name.clone()))
        .collect();
    let On { page, shell, .. } = on;
    Ok(render(
        VoucherPage {
            page,
            shell,
            client_href,
            client_name: c.name,
            client_id: c.id,
            consumer,
            purpose,
            purpose_id,
            choices,
            not_linked,
            kids,
            keys_href,
            audience,
            token_url,
            debug_href,
            header_json,
            claims,
            payload_json,
            script,
            curl,
            dpop_script,
            dpop_curl,
        },
        if not_linked {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        },
    ))
}
