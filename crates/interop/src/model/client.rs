//! Clients and their keys: what an admin writes about a client, what a member uploads as a
//! key, and who may see and change what.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::key::{UploadedKey, parse_uploaded_key};
use super::read::Reader;
use super::{FieldError, Refusal, Role, uuid_shape};

pub const NAME_MIN: usize = 5;
pub const NAME_MAX: usize = 60;
pub const DESCRIPTION_MAX: usize = 250;
/// Keys uploaded in one request at most.
pub const KEYS_PER_REQUEST: usize = 10;
/// Members named at creation at most.
pub const MEMBERS_MAX: usize = 100;

/// A CONSUMER client obtains vouchers for e-services (through a purpose); an API client
/// obtains the platform's own (m2m) token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = InteropClientKind)]
#[serde(rename_all = "UPPERCASE")]
pub enum ClientKind {
    Consumer,
    Api,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Consumer => "CONSUMER",
            ClientKind::Api => "API",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CONSUMER" => Some(ClientKind::Consumer),
            "API" => Some(ClientKind::Api),
            _ => None,
        }
    }
}

/// `POST /clientsConsumer`, `POST /clientsApi`: `{name, description?, members?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInput {
    pub name: String,
    pub description: Option<String>,
    pub members: Vec<String>,
}

impl ClientInput {
    pub fn parse(value: &Value) -> Result<Self, Vec<FieldError>> {
        let mut r = Reader::new(value, "body")?;
        let name = r.text("name", NAME_MIN, NAME_MAX, true);
        let description = r
            .text("description", 0, DESCRIPTION_MAX, false)
            .filter(|d| !d.is_empty());
        let members = r.string_list("members", MEMBERS_MAX, 64);
        if let Some(members) = &members {
            for (i, m) in members.iter().enumerate() {
                if !uuid_shape(m) {
                    r.err(format!("members[{i}]"), "must be a user id (UUID)");
                }
            }
        }
        match (name, members) {
            (Some(name), Some(members)) if r.errors.is_empty() => Ok(Self {
                name,
                description,
                members,
            }),
            _ => Err(r.errors),
        }
    }
}

/// One key of `POST /clients/{id}/keys`: `{key, use, alg, name}`.
#[derive(Debug, Clone)]
pub struct KeyInput {
    pub name: String,
    pub key: UploadedKey,
}

pub const KEY_USE: &str = "SIG";
pub const KEY_ALG: &str = "RS256";

/// Reads the list of keys of an upload; every mistake is named with its path
/// (`[0].key`, `[1].name`).
pub fn parse_keys(value: &Value) -> Result<Vec<KeyInput>, Vec<FieldError>> {
    let Some(items) = value.as_array() else {
        return Err(vec![FieldError::new(
            "body",
            "must be a list of keys: [{\"key\", \"use\", \"alg\", \"name\"}]",
        )]);
    };
    if items.is_empty() {
        return Err(vec![FieldError::new(
            "body",
            "at least one key is required",
        )]);
    }
    if items.len() > KEYS_PER_REQUEST {
        return Err(vec![FieldError::new(
            "body",
            format!("at most {KEYS_PER_REQUEST} keys per request"),
        )]);
    }
    let mut errors = Vec::new();
    let mut keys: Vec<KeyInput> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("[{i}]");
        let mut r = match Reader::new(item, &path) {
            Ok(r) => r,
            Err(e) => {
                errors.extend(e);
                continue;
            }
        };
        let name = r.text("name", NAME_MIN, NAME_MAX, true);
        let use_ = r.choice("use", |s| (s == KEY_USE).then_some(()), "SIG", None);
        let alg = r.choice("alg", |s| (s == KEY_ALG).then_some(()), "RS256", None);
        let key = match r.get("key") {
            None => {
                r.err(format!("{path}.key"), "is required");
                None
            }
            Some(Value::String(text)) => match parse_uploaded_key(text) {
                Ok(k) => Some(k),
                Err(e) => {
                    r.err(format!("{path}.key"), e.to_string());
                    None
                }
            },
            Some(_) => {
                r.err(
                    format!("{path}.key"),
                    "must be a string: the base64 of the PEM",
                );
                None
            }
        };
        if let Some(k) = &key
            && keys.iter().any(|other| other.key.kid == k.kid)
        {
            r.err(
                format!("{path}.key"),
                "the same key appears twice in this request",
            );
        }
        errors.append(&mut r.errors);
        if let (Some(name), Some(()), Some(()), Some(key)) = (name, use_, alg, key) {
            keys.push(KeyInput { name, key });
        }
    }
    if errors.is_empty() {
        Ok(keys)
    } else {
        Err(errors)
    }
}

/// Creates and deletes clients, adds and removes members, links and unlinks purposes.
pub fn may_manage_clients(roles: &[Role]) -> bool {
    roles.contains(&Role::Admin)
}

/// Whether the caller sees a client of its institution: admins see them all, `security`
/// users only the clients they belong to; `api` users none.
pub fn may_see(roles: &[Role], is_member: bool) -> bool {
    roles.contains(&Role::Admin) || (roles.contains(&Role::Security) && is_member)
}

/// Uploading a key takes a member of the client with role admin or security.
pub fn may_upload_key(roles: &[Role], is_member: bool) -> Result<(), Refusal> {
    if !super::may_manage_keys(roles) {
        return Err(Refusal::new(
            "role_not_allowed",
            "only admin and security users upload keys",
        ));
    }
    if !is_member {
        return Err(Refusal::new(
            "not_a_member",
            "only the client's members upload keys: add yourself to its members first",
        ));
    }
    Ok(())
}

/// Deleting a key: an admin deletes any key of its institution's clients; a `security` user
/// only the keys it uploaded, of the clients it belongs to.
pub fn may_delete_key(
    roles: &[Role],
    is_member: bool,
    caller: &str,
    uploaded_by: &str,
) -> Result<(), Refusal> {
    if roles.contains(&Role::Admin) {
        return Ok(());
    }
    if roles.contains(&Role::Security) && is_member && caller == uploaded_by {
        return Ok(());
    }
    Err(Refusal::new(
        "role_not_allowed",
        "a security user deletes only the keys it uploaded",
    ))
}

/// The key limit of a client.
pub fn within_key_limit(existing: usize, adding: usize, max: usize) -> Result<(), Refusal> {
    if existing.saturating_add(adding) > max {
        return Err(Refusal::new(
            "too_many_keys",
            format!(
                "a client holds at most {max} keys (it has {existing}; delete one before \
                 uploading another)"
            ),
        ));
    }
    Ok(())
}

/// A member is one of the people who entered the environment for the institution, whose
/// latest entry had a role: only they can be added.
pub fn may_become_member(person_roles: &[String]) -> Result<(), Refusal> {
    if person_roles.is_empty() {
        return Err(Refusal::new(
            "user_without_role",
            "this person has no role on the environment",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_input_reads_name_description_members() {
        let ok = ClientInput::parse(&json!({
            "name": "  Client SEND  ", "description": "",
            "members": ["6f3a2b7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"]
        }))
        .unwrap();
        assert_eq!(ok.name, "Client SEND");
        assert_eq!(ok.description, None);
        assert_eq!(ok.members.len(), 1);
        let errors = ClientInput::parse(&json!({"name": "abc", "members": ["x"]})).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "members[0]"]);
        assert_eq!(
            ClientInput::parse(&json!({"name": "x".repeat(61)})).unwrap_err()[0].field,
            "name"
        );
        assert!(ClientInput::parse(&json!([])).is_err());
    }

    #[test]
    fn key_list_names_each_mistake() {
        let errors = parse_keys(&json!([
            {"key": "not base64!", "use": "ENC", "alg": "RS512", "name": "ok name"},
            {"use": "SIG", "alg": "RS256", "name": "abc"}
        ]))
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["[0].use", "[0].alg", "[0].key", "[1].name", "[1].key"]
        );
        assert_eq!(parse_keys(&json!([])).unwrap_err()[0].field, "body");
        assert_eq!(parse_keys(&json!({})).unwrap_err()[0].field, "body");
    }

    #[test]
    fn roles_decide_who_sees_and_changes() {
        use Role::*;
        assert!(may_manage_clients(&[Admin]));
        assert!(!may_manage_clients(&[Security]));
        assert!(!may_manage_clients(&[Api]));
        assert!(may_see(&[Admin], false));
        assert!(may_see(&[Security], true));
        assert!(!may_see(&[Security], false));
        assert!(!may_see(&[Api], true));
        assert!(may_upload_key(&[Security], true).is_ok());
        assert_eq!(
            may_upload_key(&[Admin], false).unwrap_err().code,
            "not_a_member"
        );
        assert_eq!(
            may_upload_key(&[Api], true).unwrap_err().code,
            "role_not_allowed"
        );
        assert!(may_delete_key(&[Admin], false, "a", "b").is_ok());
        assert!(may_delete_key(&[Security], true, "a", "a").is_ok());
        assert!(may_delete_key(&[Security], true, "a", "b").is_err());
        assert!(may_delete_key(&[Security], false, "a", "a").is_err());
        assert!(within_key_limit(99, 1, 100).is_ok());
        assert_eq!(
            within_key_limit(100, 1, 100).unwrap_err().code,
            "too_many_keys"
        );
        assert!(may_become_member(&[]).is_err());
        assert!(may_become_member(&["security".into()]).is_ok());
    }
}
