//! The activity log as people read it: each record of the institution's audit trail told as a
//! sentence of the message catalogue, naming the people, products and services it is about. The
//! raw record (action code, ids, details) stays for the export.

use platform::i18n::Lang;
use serde_json::Value;

use super::Catalogue;

/// The kinds of activity a reader may ask for: (prefix of the action codes, message key).
pub const KINDS: &[(&str, &str)] = &[
    ("", "ra.audit.kinds.all"),
    ("user.", "ra.audit.kinds.users"),
    ("token.", "ra.audit.kinds.tokens"),
    ("io.", "ra.audit.kinds.io"),
    ("interop.", "ra.audit.kinds.interop"),
    ("institution.", "ra.audit.kinds.institution"),
];

/// The kind named `value`, or every kind.
pub fn kind(value: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(v, _)| *v)
        .unwrap_or("")
}

/// A record of the trail, with the names the store found for its actor and target.
#[derive(Debug, Clone, Copy)]
pub struct Logged<'a> {
    pub action: &'a str,
    pub actor: &'a str,
    /// Present when the actor is a person of the platform.
    pub actor_name: Option<&'a str>,
    pub target: &'a str,
    /// Present when the target is a person of the platform.
    pub target_name: Option<&'a str>,
    pub details: &'a Value,
}

/// Something a sentence names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    /// A person of the platform, by name, with their id (for a link to their page).
    Person { id: String, name: String },
    /// Words already in the reader's language (a product's title, a role's label, a service's
    /// name, a number).
    Words(String),
    /// Words of the catalogue (someone no longer known, a service without a name).
    Message(&'static str),
}

/// A record told as a sentence: the catalogue's message and the values of its placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    pub key: &'static str,
    pub args: Vec<(&'static str, Named)>,
}

fn text<'v>(details: &'v Value, field: &str) -> Option<&'v str> {
    details
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The actor (or target) of a record: the person by name, or "someone".
fn person(id: &str, name: Option<&str>) -> Named {
    match name {
        Some(name) => Named::Person {
            id: id.to_string(),
            name: name.to_string(),
        },
        None => Named::Message("ra.activity.someone"),
    }
}

fn product(catalogue: &Catalogue, id: Option<&str>, lang: Lang) -> Named {
    match id.and_then(|id| catalogue.get(id)) {
        Some(p) => Named::Words(p.title(lang).to_string()),
        None => Named::Message("ra.activity.a_product"),
    }
}

/// The role a person was given: the product roles' labels, else the party role's name.
fn role(catalogue: &Catalogue, details: &Value, lang: Lang) -> Named {
    let product = text(details, "productId").and_then(|id| catalogue.get(id));
    let labels: Vec<&str> = details
        .get("productRoles")
        .and_then(Value::as_array)
        .map(|codes| {
            codes
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|code| Some(product?.product_role(code)?.1.label(lang)))
                .collect()
        })
        .unwrap_or_default();
    if !labels.is_empty() {
        return Named::Words(labels.join(", "));
    }
    match text(details, "role") {
        Some("MANAGER") => Named::Message("ra.party_roles.MANAGER"),
        Some("DELEGATE") => Named::Message("ra.party_roles.DELEGATE"),
        Some("SUB_DELEGATE") => Named::Message("ra.party_roles.SUB_DELEGATE"),
        Some("OPERATOR") => Named::Message("ra.party_roles.OPERATOR"),
        _ => Named::Message("ra.activity.a_role"),
    }
}

/// The delegate of the old Developer Portal a record names, by the name it recorded.
fn delegate(details: &Value) -> Named {
    match text(details, "delegate") {
        Some(name) => Named::Words(name.to_string()),
        None => Named::Message("ra.activity.a_delegate"),
    }
}

/// Interoperability's records: (action code, message key). Their details name the environment
/// (`env`), the e-service, the version, the purpose, the file (`document`) and the other side
/// (`party`).
const INTEROP: &[(&str, &str)] = &[
    (
        "interop.eservice.updated",
        "ra.activity.interop_eservice_updated",
    ),
    (
        "interop.eservice.deleted",
        "ra.activity.interop_eservice_deleted",
    ),
    (
        "interop.descriptor.created",
        "ra.activity.interop_descriptor_created",
    ),
    (
        "interop.descriptor.updated",
        "ra.activity.interop_descriptor_updated",
    ),
    (
        "interop.descriptor.deleted",
        "ra.activity.interop_descriptor_deleted",
    ),
    (
        "interop.document.uploaded",
        "ra.activity.interop_document_uploaded",
    ),
    (
        "interop.document.deleted",
        "ra.activity.interop_document_deleted",
    ),
    (
        "interop.eservice.created",
        "ra.activity.interop_eservice_created",
    ),
    (
        "interop.descriptor.published",
        "ra.activity.interop_descriptor_published",
    ),
    (
        "interop.descriptor.suspended",
        "ra.activity.interop_descriptor_suspended",
    ),
    (
        "interop.descriptor.reactivated",
        "ra.activity.interop_descriptor_reactivated",
    ),
    (
        "interop.agreement.submitted",
        "ra.activity.interop_agreement_submitted",
    ),
    (
        "interop.agreement.approved",
        "ra.activity.interop_agreement_approved",
    ),
    (
        "interop.agreement.rejected",
        "ra.activity.interop_agreement_rejected",
    ),
    (
        "interop.agreement.suspended",
        "ra.activity.interop_agreement_suspended",
    ),
    (
        "interop.agreement.reactivated",
        "ra.activity.interop_agreement_reactivated",
    ),
    (
        "interop.purpose.submitted",
        "ra.activity.interop_purpose_submitted",
    ),
    (
        "interop.purpose.approved",
        "ra.activity.interop_purpose_approved",
    ),
    (
        "interop.purpose.rejected",
        "ra.activity.interop_purpose_rejected",
    ),
    (
        "interop.purpose.suspended",
        "ra.activity.interop_purpose_suspended",
    ),
    (
        "interop.purpose.reactivated",
        "ra.activity.interop_purpose_reactivated",
    ),
    (
        "interop.agreement.platform_suspended",
        "ra.activity.interop_agreement_platform_suspended",
    ),
    (
        "interop.agreement.platform_reactivated",
        "ra.activity.interop_agreement_platform_reactivated",
    ),
    (
        "interop.attribute.created",
        "ra.activity.interop_attribute_created",
    ),
    (
        "interop.attribute.assigned",
        "ra.activity.interop_attribute_assigned",
    ),
    (
        "interop.attribute.revoked",
        "ra.activity.interop_attribute_revoked",
    ),
    (
        "interop.attribute.declared",
        "ra.activity.interop_attribute_declared",
    ),
    (
        "interop.attribute.withdrawn",
        "ra.activity.interop_attribute_withdrawn",
    ),
    (
        "interop.attribute.verified",
        "ra.activity.interop_attribute_verified",
    ),
    (
        "interop.attribute.verification_revoked",
        "ra.activity.interop_attribute_verification_revoked",
    ),
    (
        "interop.tenant.contact_email",
        "ra.activity.interop_tenant_contact_email",
    ),
];

/// A recorded name, or the catalogue's words for a missing one.
fn named(details: &Value, field: &str, missing: &'static str) -> Named {
    match text(details, field) {
        Some(v) => Named::Words(v.to_string()),
        None => Named::Message(missing),
    }
}

/// The environment of an Interoperability record, by the product's title.
fn environment(catalogue: &Catalogue, details: &Value, lang: Lang) -> Named {
    let id = match text(details, "env") {
        Some("collaudo") => Some("prod-interop-coll"),
        Some("produzione") => Some("prod-interop"),
        _ => None,
    };
    product(catalogue, id, lang)
}

/// `e` told as a sentence in `lang`.
pub fn describe(e: &Logged<'_>, catalogue: &Catalogue, lang: Lang) -> Sentence {
    let actor = || ("actor", person(e.actor, e.actor_name));
    let target = || ("target", person(e.target, e.target_name));
    let product_of = |id| ("product", product(catalogue, id, lang));
    let (key, args) = match e.action {
        "user.role.added" => (
            "ra.activity.user_role_added",
            vec![
                actor(),
                target(),
                ("role", role(catalogue, e.details, lang)),
                product_of(text(e.details, "productId")),
            ],
        ),
        "user.role.suspended" | "user.role.activated" | "user.role.removed" => (
            match e.action {
                "user.role.suspended" => "ra.activity.user_role_suspended",
                "user.role.activated" => "ra.activity.user_role_activated",
                _ => "ra.activity.user_role_removed",
            },
            vec![actor(), target(), product_of(text(e.details, "productId"))],
        ),
        "token.exchanged" => (
            "ra.activity.token_exchanged",
            vec![actor(), product_of(Some(e.target))],
        ),
        "institution.added" => ("ra.activity.institution_added", vec![]),
        "institution.onboarded" => (
            "ra.activity.institution_onboarded",
            vec![product_of(Some(e.target))],
        ),
        "io.import.requested" => (
            "ra.activity.io_import_requested",
            vec![
                actor(),
                (
                    "count",
                    Named::Words(
                        e.details
                            .get("services")
                            .and_then(Value::as_u64)
                            .unwrap_or(0)
                            .to_string(),
                    ),
                ),
                ("delegate", delegate(e.details)),
            ],
        ),
        "io.service.imported" => (
            "ra.activity.io_service_imported",
            vec![
                (
                    "service",
                    match text(e.details, "name") {
                        Some(name) => Named::Words(name.to_string()),
                        None => Named::Message("ra.activity.a_service"),
                    },
                ),
                ("delegate", delegate(e.details)),
            ],
        ),
        action if action.starts_with("interop.") => {
            match INTEROP.iter().find(|(code, _)| *code == action) {
                Some((_, key)) => (
                    *key,
                    vec![
                        actor(),
                        (
                            "eservice",
                            named(e.details, "eservice", "ra.activity.an_eservice"),
                        ),
                        (
                            "version",
                            named(e.details, "version", "ra.activity.a_version"),
                        ),
                        (
                            "purpose",
                            named(e.details, "purpose", "ra.activity.a_purpose"),
                        ),
                        (
                            "party",
                            named(e.details, "party", "ra.activity.an_institution"),
                        ),
                        (
                            "document",
                            named(e.details, "document", "ra.activity.a_document"),
                        ),
                        (
                            "attribute",
                            named(e.details, "attribute", "ra.activity.an_attribute"),
                        ),
                        (
                            "attributes",
                            named(e.details, "attributes", "ra.activity.some_attributes"),
                        ),
                        ("by", named(e.details, "by", "ra.activity.an_institution")),
                        ("product", environment(catalogue, e.details, lang)),
                    ],
                ),
                None => ("ra.activity.other", vec![actor()]),
            }
        }
        _ => ("ra.activity.other", vec![actor()]),
    };
    Sentence { key, args }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn logged<'a>(action: &'a str, details: &'a Value) -> Logged<'a> {
        Logged {
            action,
            actor: "u-mario",
            actor_name: Some("Mario Rossi"),
            target: "u-luca",
            target_name: Some("Luca Neri"),
            details,
        }
    }

    fn mario() -> Named {
        Named::Person {
            id: "u-mario".into(),
            name: "Mario Rossi".into(),
        }
    }

    #[test]
    fn an_added_role_names_the_people_the_role_and_the_product() {
        let catalogue = Catalogue::default_catalogue().unwrap();
        let details = json!({"productId": "prod-interop-coll", "role": "DELEGATE",
                             "productRoles": ["admin"]});
        let s = describe(&logged("user.role.added", &details), &catalogue, Lang::It);
        assert_eq!(s.key, "ra.activity.user_role_added");
        assert_eq!(
            s.args,
            vec![
                ("actor", mario()),
                (
                    "target",
                    Named::Person {
                        id: "u-luca".into(),
                        name: "Luca Neri".into()
                    }
                ),
                ("role", Named::Words("Amministratore".into())),
                ("product", Named::Words("Interoperabilità Collaudo".into())),
            ]
        );
        let en = describe(&logged("user.role.added", &details), &catalogue, Lang::En);
        assert_eq!(
            en.args[3],
            ("product", Named::Words("Interoperability Test".into()))
        );
    }

    #[test]
    fn interoperability_decisions_name_the_eservice_the_other_side_and_the_environment() {
        let catalogue = Catalogue::default_catalogue().unwrap();
        let details = json!({"env": "collaudo", "eservice": "Anagrafe sanitaria regionale",
                             "version": "1", "party": "Comune di Roccabella"});
        let s = describe(
            &logged("interop.agreement.approved", &details),
            &catalogue,
            Lang::It,
        );
        assert_eq!(s.key, "ra.activity.interop_agreement_approved");
        for arg in [
            (
                "eservice",
                Named::Words("Anagrafe sanitaria regionale".into()),
            ),
            ("party", Named::Words("Comune di Roccabella".into())),
            ("product", Named::Words("Interoperabilità Collaudo".into())),
        ] {
            assert!(s.args.contains(&arg), "{arg:?} in {:?}", s.args);
        }
        // Every Interoperability record has its own sentence; a missing name is said in words.
        for (code, key) in INTEROP {
            let s = describe(&logged(code, &json!({})), &catalogue, Lang::En);
            assert_eq!(s.key, *key);
            assert!(
                s.args
                    .contains(&("eservice", Named::Message("ra.activity.an_eservice")))
            );
        }
        assert_eq!(kind("interop."), "interop.");
    }

    #[test]
    fn what_is_not_known_is_said_in_words_never_as_a_code() {
        let catalogue = Catalogue::default_catalogue().unwrap();
        let details = json!({"productId": "prod-gone", "role": "OPERATOR", "productRoles": ["x"]});
        let mut e = logged("user.role.added", &details);
        e.actor_name = None;
        let s = describe(&e, &catalogue, Lang::It);
        assert_eq!(s.args[0], ("actor", Named::Message("ra.activity.someone")));
        assert_eq!(
            s.args[2],
            ("role", Named::Message("ra.party_roles.OPERATOR"))
        );
        assert_eq!(
            s.args[3],
            ("product", Named::Message("ra.activity.a_product"))
        );
        let none = json!({});
        let s = describe(&logged("io.service.imported", &none), &catalogue, Lang::It);
        assert_eq!(
            s.args,
            vec![
                ("service", Named::Message("ra.activity.a_service")),
                ("delegate", Named::Message("ra.activity.a_delegate")),
            ]
        );
        let s = describe(&logged("something.new", &none), &catalogue, Lang::It);
        assert_eq!(
            (s.key, s.args),
            ("ra.activity.other", vec![("actor", mario())])
        );
    }

    #[test]
    fn an_import_names_how_many_services_and_whose() {
        let catalogue = Catalogue::default_catalogue().unwrap();
        let details = json!({"services": 3, "waiting": 3, "delegate": "Giulia Bianchi"});
        let s = describe(
            &logged("io.import.requested", &details),
            &catalogue,
            Lang::En,
        );
        assert_eq!(
            s.args,
            vec![
                ("actor", mario()),
                ("count", Named::Words("3".into())),
                ("delegate", Named::Words("Giulia Bianchi".into())),
            ]
        );
    }

    #[test]
    fn every_kind_is_offered_once_and_an_unknown_one_means_all() {
        assert_eq!(kind("io."), "io.");
        assert_eq!(kind("user."), "user.");
        assert_eq!(kind("user.role.added' OR 1=1"), "");
    }
}
