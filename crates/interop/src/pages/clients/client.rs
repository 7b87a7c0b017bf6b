//! A client's page: its linked purposes, members and public keys, the changes made on it and
//! the download of a key as a JWK.

use super::*;

pub struct LinkedPurpose {
    pub id: String,
    pub title: String,
    pub href: Option<String>,
    pub eservice: String,
    pub state: Option<StateView>,
    pub voucher_href: String,
}

pub struct MemberLine {
    pub user_id: String,
    pub name: String,
    pub roles: Vec<&'static str>,
    pub me: bool,
}

pub struct KeyLine {
    pub kid: String,
    pub name: String,
    pub bits: i64,
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub jwk_href: String,
    pub may_delete: bool,
}

/// A key refused at upload: what is wrong and what to do, in the person's language.
pub struct KeyProblem {
    pub lead: String,
}

/// What a failed action leaves on the page.
#[derive(Default)]
struct Outcome {
    error: Option<String>,
    errors: FormErrors,
    key_problem: Option<KeyProblem>,
    key_name: String,
    key_text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "client.html")]
pub struct ClientPage {
    page: Page,
    shell: Shell,
    csrf: String,
    action: String,
    list_href: String,
    list_key: &'static str,
    kind_key: &'static str,
    id: String,
    name: String,
    description: Option<String>,
    kind: &'static str,
    consumer: bool,
    created: String,
    may_manage: bool,
    purposes: Vec<LinkedPurpose>,
    /// Purposes of the institution that can be linked: id and "title — e-service".
    linkable: Vec<(String, String)>,
    purposes_href: String,
    /// For API clients.
    voucher_href: String,
    members: Vec<MemberLine>,
    /// People who can be added: id and name.
    candidates: Vec<(String, String)>,
    keys: Vec<KeyLine>,
    may_upload: bool,
    /// An admin who is not a member: may add themself to upload keys.
    may_add_me: bool,
    me: String,
    max_keys: usize,
    flash: Option<String>,
    error: Option<String>,
    errors: FormErrors,
    key_problem: Option<KeyProblem>,
    key_name: String,
    key_text: String,
    summary: ErrorSummary,
    next: Option<NextStep>,
}

/// What comes next for a client: a purpose linked (e-service clients), a key uploaded, then the
/// voucher.
fn next_for_client(
    consumer: bool,
    purposes: &[LinkedPurpose],
    keys: usize,
    voucher_href: &str,
    action: &str,
) -> NextStep {
    if consumer && purposes.is_empty() {
        NextStep::new(
            "interop.next.link_purpose",
            format!("{action}#purposes"),
            "interop.next.to_purposes",
        )
    } else if keys == 0 {
        NextStep::new(
            "interop.next.upload_key",
            format!("{action}#keys"),
            "interop.next.to_keys",
        )
    } else if consumer {
        NextStep::new(
            "interop.next.voucher",
            purposes
                .first()
                .map_or_else(|| voucher_href.to_string(), |p| p.voucher_href.clone()),
            "interop.client.voucher",
        )
    } else {
        NextStep::new(
            "interop.next.voucher_api",
            voucher_href.to_string(),
            "interop.client.voucher",
        )
    }
}

/// The summary of a refused form of the page, each error linked to its field.
fn summary_of(page: &Page, outcome: &Outcome) -> ErrorSummary {
    let mut items = Vec::new();
    if let Some(p) = &outcome.key_problem {
        items.push(("key_file".to_string(), p.lead.clone()));
    }
    for (field, messages) in &outcome.errors.by_field {
        let id = match field.as_str() {
            "name" => "key-name",
            "confirm" => "confirm",
            _ => "",
        };
        for m in messages {
            items.push((id.to_string(), m.clone()));
        }
    }
    items.extend(
        outcome
            .errors
            .general
            .iter()
            .map(|m| (String::new(), m.clone())),
    );
    ErrorSummary::new(page, items)
}

impl ClientPage {
    /// How many keys a client holds at most, for the upload's hint.
    fn max_keys_note(&self) -> String {
        tr(
            self.page.t("interop.client.max_keys"),
            &[("max", &self.max_keys.to_string())],
        )
    }
}

/// The version a purpose's state is read from: the current one, else the latest.
fn shown_state(p: &Purpose) -> Option<StateView> {
    p.versions
        .iter()
        .rev()
        .find(|v| v.state_value.is_current())
        .or_else(|| p.versions.last())
        .map(|v| purpose_state(v.state_value))
}

/// The institution's agreement state on each e-service as the link rule reads it: ACTIVE if
/// one is, else SUSPENDED if one is.
async fn agreement_states(
    state: &EnvState,
    institution: &str,
) -> Result<HashMap<String, AgreementState>, InteropError> {
    let list = agreements::list(&state.platform.db, state.env, institution, false).await?;
    let mut out: HashMap<String, AgreementState> = HashMap::new();
    for a in list {
        let rank = |s: AgreementState| match s {
            AgreementState::Active => 0,
            AgreementState::Suspended => 1,
            _ => 2,
        };
        let better = out
            .get(&a.eservice_id)
            .is_none_or(|s| rank(a.state_value) < rank(*s));
        if better {
            out.insert(a.eservice_id.clone(), a.state_value);
        }
    }
    Ok(out)
}

async fn detail(
    state: &EnvState,
    mut on: On,
    c: Client,
    q: HashMap<String, String>,
    outcome: Outcome,
    status: StatusCode,
) -> Result<Response, PageError> {
    mark_nav(&mut on, c.kind);
    let db = &state.platform.db;
    let lang = on.page.lang;
    let me = on.member.session.user_id().to_string();
    let roles = on.member.roles.clone();
    let may_manage = rules::may_manage_clients(&roles);
    let is_member = c.members.contains(&me);
    let people = store::people(db, state.env, on.institution())
        .await
        .map_err(|e| on.fail(e))?;
    let keys = clients::list_keys(db, state.env, caller(&on.member), &c.id)
        .await
        .map_err(|e| on.fail(e))?;
    let (linked, linkable) = if c.kind == ClientKind::Consumer {
        let all = purposes::list(db, state.env, on.institution(), false)
            .await
            .map_err(|e| on.fail(e))?;
        let agreements = agreement_states(state, on.institution())
            .await
            .map_err(|e| on.fail(e))?;
        let linked = c
            .purposes
            .iter()
            .map(|pid| {
                let voucher_href = on.href(&format!("/clients/{}/voucher?purpose={pid}", c.id));
                match all.iter().find(|p| p.id == *pid) {
                    Some(p) => LinkedPurpose {
                        id: p.id.clone(),
                        title: p.title.clone(),
                        href: Some(on.href(&format!("/purposes/{}", p.id))),
                        eservice: p.eservice_name.clone(),
                        state: shown_state(p),
                        voucher_href,
                    },
                    None => LinkedPurpose {
                        id: pid.clone(),
                        title: pid.clone(),
                        href: None,
                        eservice: String::new(),
                        state: None,
                        voucher_href,
                    },
                }
            })
            .collect();
        let linkable = all
            .iter()
            .filter(|p| !c.purposes.contains(&p.id))
            .filter(|p| {
                let versions: Vec<PurposeVersionState> =
                    p.versions.iter().map(|v| v.state_value).collect();
                let agreement = agreements
                    .get(&p.eservice_id)
                    .copied()
                    .unwrap_or(AgreementState::Archived);
                purpose::linkable_to_client(&versions, agreement).is_ok()
            })
            .map(|p| (p.id.clone(), format!("{} — {}", p.title, p.eservice_name)))
            .collect();
        (linked, linkable)
    } else {
        (Vec::new(), Vec::new())
    };
    let members = c
        .members
        .iter()
        .map(|uid| {
            let person = people.iter().find(|p| p.user_id == *uid);
            MemberLine {
                user_id: uid.clone(),
                name: person.map_or_else(|| uid.clone(), full_name),
                roles: person
                    .map(|p| p.roles.iter().map(|r| role_key(r)).collect())
                    .unwrap_or_default(),
                me: *uid == me,
            }
        })
        .collect();
    let candidates = people
        .iter()
        .filter(|p| !c.members.contains(&p.user_id))
        .filter(|p| rules::may_become_member(&p.roles).is_ok())
        .map(|p| (p.user_id.clone(), full_name(p)))
        .collect();
    let keys: Vec<KeyLine> = keys
        .iter()
        .map(|k: &Key| KeyLine {
            kid: k.kid.clone(),
            name: k.name.clone(),
            bits: k.bits,
            uploaded_by: name_of(&people, &k.user_id),
            uploaded_at: Timestamp(k.created_at).for_people(lang),
            jwk_href: on.href(&format!("/clients/{}/keys/{}/jwk", c.id, k.kid)),
            may_delete: rules::may_delete_key(&roles, is_member, &me, &k.user_id).is_ok(),
        })
        .collect();
    let may_upload = rules::may_upload_key(&roles, is_member).is_ok();
    let may_add_me = may_manage && !is_member && people.iter().any(|p| p.user_id == me);
    let flash = flash(&on.page, &q);
    let csrf = on.csrf();
    let action = on.href(&format!("/clients/{}", c.id));
    let list_href = list_href(&on, c.kind);
    let purposes_href = on.href("/purposes");
    let voucher_href = on.href(&format!("/clients/{}/voucher", c.id));
    let summary = summary_of(&on.page, &outcome);
    // A refused form comes first: the next step waits until it is corrected.
    let next = summary.is_empty().then(|| {
        next_for_client(
            c.kind == ClientKind::Consumer,
            &linked,
            keys.len(),
            &voucher_href,
            &action,
        )
    });
    let On { page, shell, .. } = on;
    Ok(render(
        ClientPage {
            page,
            shell,
            csrf,
            action,
            list_href,
            list_key: kind_key(c.kind),
            kind_key: kind_label(c.kind),
            kind: c.kind.as_str(),
            consumer: c.kind == ClientKind::Consumer,
            created: Timestamp(c.created_at).for_people(lang),
            may_manage,
            purposes: linked,
            linkable,
            purposes_href,
            voucher_href,
            members,
            candidates,
            keys,
            may_upload,
            may_add_me,
            me,
            max_keys: state.max_keys_per_client,
            flash,
            summary,
            next,
            error: outcome.error,
            errors: outcome.errors,
            key_problem: outcome.key_problem,
            key_name: outcome.key_name,
            key_text: outcome.key_text,
            id: c.id,
            name: c.name,
            description: c.description,
        },
        status,
    ))
}

/// `GET /clients/{id}`
pub async fn show(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let c = clients::get(&state.platform.db, state.env, caller(&on.member), &id)
        .await
        .map_err(|e| on.fail(e))?;
    detail(&state, on, c, query(q), Outcome::default(), StatusCode::OK).await
}

/// The text of an uploaded key file: a PEM file as it is; anything else (a binary DER file,
/// say) as its base64, for the model to say what it is not.
fn key_text_of_file(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => base64::engine::general_purpose::STANDARD.encode(bytes),
    }
}

/// The base64 of the PEM the upload expects: a pasted PEM text is encoded here (with `\n`
/// line endings, as in the file), anything else is taken as already encoded.
pub fn key_base64(raw: &str) -> String {
    let text = raw.trim();
    if text.contains("-----BEGIN") {
        let mut pem = text.replace("\r\n", "\n");
        pem.push('\n');
        base64::engine::general_purpose::STANDARD.encode(pem)
    } else {
        text.to_string()
    }
}

/// The first letter of a model message in upper case (the models write them mid-sentence).
pub(super) fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Why an uploaded key was refused, in the person's language: the catalogue's words for the
/// rejection (what was found and what to do), else the model's message put in words.
fn key_problem(page: &Page, encoded: &str, message: &str) -> KeyProblem {
    let code = parse_uploaded_key(encoded).err().map(|r| r.code());
    let key = code.map(|c| format!("interop.key_rejection.{c}"));
    match key {
        Some(key) if page.catalogue.contains(&key) => KeyProblem {
            lead: page.t(&key).to_string(),
        },
        _ => KeyProblem {
            lead: sentence(&localize_field(page, message)),
        },
    }
}

/// The upload's key and name checked by the model; errors placed next to the two fields.
fn parse_upload(
    page: &Page,
    name: &str,
    raw: &str,
) -> Result<Vec<rules::KeyInput>, (FormErrors, Option<KeyProblem>)> {
    let encoded = key_base64(raw);
    let payload = json!([{ "key": encoded, "use": KEY_USE, "alg": KEY_ALG, "name": name }]);
    rules::parse_keys(&payload).map_err(|errors: Vec<FieldError>| {
        let mut placed = FormErrors::default();
        let mut problem = None;
        for e in &errors {
            match e.field.as_str() {
                "[0].key" => problem = Some(key_problem(page, &encoded, &e.message)),
                "[0].name" => placed.add("name", localize_field(page, &e.message)),
                _ => placed.general.push(format!(
                    "{}: {}",
                    e.field,
                    localize_field(page, &e.message)
                )),
            }
        }
        (placed, problem)
    })
}

/// `POST /clients/{id}` with `action` = link_purpose / unlink_purpose (`purposeId`),
/// add_member / remove_member (`userId`), add_key (`name`, `key`), delete_key (`kid`) or
/// delete.
pub async fn act(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
    form: Result<FormData, NotAForm>,
) -> Result<Response, PageError> {
    let db = &state.platform.db;
    let env = state.env;
    // Someone else's client is not found, whatever was posted.
    let c = clients::get(db, env, caller(&on.member), &id)
        .await
        .map_err(|e| on.fail(e))?;
    let data = on.form_data(form)?;
    let pairs = &data.fields;
    let action = value(pairs, "action").to_string();
    let who = caller(&on.member);
    let mut outcome = Outcome::default();
    let href =
        |done: &str, anchor: &str| on.href(&format!("/clients/{}?done={done}#{anchor}", c.id));
    let purpose_id = value(pairs, "purposeId").trim().to_string();
    let user_id = value(pairs, "userId").trim().to_string();
    let result: Result<String, InteropError> = match action.as_str() {
        "link_purpose" if purpose_id.is_empty() => {
            Err(InteropError::invalid("purposeId", "is required"))
        }
        "link_purpose" => clients::link_purpose(db, env, who, &c.id, &purpose_id)
            .await
            .map(|_| href("purpose_linked", "purposes")),
        "unlink_purpose" => clients::unlink_purpose(db, env, who, &c.id, &purpose_id)
            .await
            .map(|()| href("purpose_unlinked", "purposes")),
        "add_member" if user_id.is_empty() => Err(InteropError::invalid("userId", "is required")),
        "add_member" => clients::add_member(db, env, who, &c.id, &user_id)
            .await
            .map(|_| href("member_added", "members")),
        "remove_member" => clients::remove_member(db, env, who, &c.id, &user_id)
            .await
            .map(|()| href("member_removed", "members")),
        "add_key" => {
            outcome.key_name = value(pairs, "name").to_string();
            outcome.key_text = value(pairs, "key").to_string();
            // A chosen file is the key; else what was pasted.
            let raw = match data.file("key_file") {
                Some(file) => key_text_of_file(&file.bytes),
                None => outcome.key_text.clone(),
            };
            match parse_upload(&on.page, &outcome.key_name, &raw) {
                Err((errors, problem)) => {
                    // A private key is not written back into the page.
                    if parse_uploaded_key(&key_base64(&raw))
                        .is_err_and(|r| r.code() == "private_key")
                    {
                        outcome.key_text.clear();
                    }
                    outcome.errors = errors;
                    outcome.key_problem = problem;
                    return detail(
                        &state,
                        on,
                        c,
                        HashMap::new(),
                        outcome,
                        StatusCode::BAD_REQUEST,
                    )
                    .await;
                }
                Ok(keys) => {
                    clients::add_keys(db, env, who, &c.id, &keys, state.max_keys_per_client)
                        .await
                        .map(|_| href("key_added", "keys"))
                }
            }
        }
        "delete_key" => clients::delete_key(db, env, who, &c.id, value(pairs, "kid"))
            .await
            .map(|()| href("key_deleted", "keys")),
        // One click must not delete a client: the form carries a confirmation to tick.
        "delete" if value(pairs, "confirm") != "yes" => {
            Err(InteropError::invalid("confirm", "confirm to delete"))
        }
        "delete" => clients::delete(db, env, who, &c.id).await.map(|()| {
            on.href(&format!(
                "/clients?kind={}&done=client_deleted",
                c.kind.as_str()
            ))
        }),
        _ => Err(InteropError::invalid("action", "unknown action")),
    };
    match result {
        Ok(to) => Ok(see_other(&to)),
        Err(e) if shown_in_place(&e) || matches!(e, InteropError::NotFound) => {
            let status = e.status();
            match &e {
                InteropError::Conflict("key_already_exists", _) => {
                    outcome.key_problem = Some(KeyProblem {
                        lead: localize_error(&on.page, &e),
                    });
                }
                InteropError::Invalid(errors) => {
                    outcome.errors = FormErrors::place(&on.page, errors, |f| match f {
                        "purposeId" | "userId" | "confirm" => Some(f.to_string()),
                        _ => None,
                    });
                }
                InteropError::NotFound => {
                    outcome.error = Some(on.page.t("interop.client.gone").to_string());
                }
                _ => outcome.error = Some(localize_error(&on.page, &e)),
            }
            // The client as it is now (it may have just been deleted by someone else).
            let c = clients::get(db, env, caller(&on.member), &id)
                .await
                .map_err(|e| on.fail(e))?;
            detail(&state, on, c, HashMap::new(), outcome, status).await
        }
        Err(e) => Err(on.fail(e)),
    }
}

/// `GET /clients/{id}/keys/{kid}/jwk`: the key as a JWK file.
pub async fn jwk(
    State(state): State<EnvState>,
    on: On,
    Path((id, kid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let k = clients::get_key(&state.platform.db, state.env, caller(&on.member), &id, &kid)
        .await
        .map_err(|e| on.fail(e))?;
    let body = serde_json::to_string_pretty(&k.jwk()).unwrap_or_default();
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk+json"),
    );
    // The kid is base64url: safe in a file name.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.jwk.json\"", k.kid)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
