//! The unit tests of the catalogue, roles and grants.

use std::fmt;
use std::str::FromStr;

use platform::i18n::Lang;
use serde::Serialize;

use super::*;

const IO: &str = "prod-io";
const INTEROP: &str = "prod-interop";
const COLL: &str = "prod-interop-coll";

pub(crate) fn catalogue() -> Catalogue {
    Catalogue::default_catalogue().unwrap()
}

pub(crate) fn grant(product: &str, party_role: PartyRole, product_role: &str) -> Grant {
    Grant {
        product_id: product.to_owned(),
        party_role,
        product_role: product_role.to_owned(),
        status: RoleStatus::Active,
    }
}

fn suspended(mut g: Grant) -> Grant {
    g.status = RoleStatus::Suspended;
    g
}

pub(crate) fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

const ROLES: &str = r#"
[products.roles.ADMIN]
multi_role_allowed = false
roles = [{ code = "admin", label = "Amministratore", label_en = "Administrator", description = "d" }]

[products.roles.LIMITED]
multi_role_allowed = false
roles = [{ code = "operator", label = "Operatore", label_en = "Operator", description = "d" }]
"#;

/// A product table; `extra` holds keys (and environment tables) before the role mappings.
pub(crate) fn product_with(id: &str, audience: &str, extra: &str, roles: &str) -> String {
    format!(
        r#"
[[products]]
id = "{id}"
title = "Titolo {id}"
title_en = "Title {id}"
description = "Descrizione"
description_en = "Description"
status = "ACTIVE"
url_bo = "/{id}/session"
identity_token_audience = "{audience}"
{extra}
{roles}"#
    )
}

fn product(id: &str, audience: &str, extra: &str) -> String {
    product_with(id, audience, extra, ROLES)
}

fn parse(parts: &[String]) -> Result<Catalogue, CatalogueError> {
    Catalogue::parse(&parts.concat())
}

// --- enums

#[test]
fn codes_match_serde_and_from_str() {
    fn check<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy + PartialEq + fmt::Debug + Serialize + FromStr + serde::de::DeserializeOwned,
        <T as FromStr>::Err: fmt::Debug,
    {
        for v in all {
            let code = as_str(*v);
            assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{code}\""));
            assert_eq!(
                serde_json::from_str::<T>(&format!("\"{code}\"")).unwrap(),
                *v
            );
            assert_eq!(code.parse::<T>().unwrap(), *v);
        }
    }
    check(ProductStatus::ALL, ProductStatus::as_str);
    check(OnboardingStatus::ALL, OnboardingStatus::as_str);
    check(PartyRole::ALL, PartyRole::as_str);
    check(Authority::ALL, Authority::as_str);
    check(RoleStatus::ALL, RoleStatus::as_str);
    check(InstitutionType::ALL, InstitutionType::as_str);
    assert_eq!(OnboardingStatus::ToBeValidated.as_str(), "TOBEVALIDATED");
    assert_eq!(PartyRole::SubDelegate.as_str(), "SUB_DELEGATE");
    assert_eq!(ProductStatus::PhaseOut.to_string(), "PHASE_OUT");
    assert_eq!(InstitutionType::ALL.len(), 13);
}

#[test]
fn unknown_codes_are_refused() {
    assert_eq!(
        "XYZ".parse::<InstitutionType>(),
        Err(UnknownCode {
            kind: "institution type",
            code: "XYZ".to_owned()
        })
    );
    assert!("pa".parse::<InstitutionType>().is_err());
    assert!(serde_json::from_str::<InstitutionType>("\"XYZ\"").is_err());
    assert!("TO_BE_VALIDATED".parse::<OnboardingStatus>().is_err());
    assert!("admin".parse::<Authority>().is_err());
}

// --- authority and permissions

#[test]
fn party_roles_map_to_authorities() {
    assert_eq!(PartyRole::Manager.authority(), Authority::Admin);
    assert_eq!(PartyRole::Delegate.authority(), Authority::Admin);
    assert_eq!(PartyRole::SubDelegate.authority(), Authority::Admin);
    assert_eq!(PartyRole::Operator.authority(), Authority::Limited);
    assert_eq!(
        Authority::Admin.party_role_for_dashboard(),
        PartyRole::SubDelegate
    );
    assert_eq!(
        Authority::Limited.party_role_for_dashboard(),
        PartyRole::Operator
    );
    for a in Authority::ALL {
        assert_eq!(a.party_role_for_dashboard().authority(), *a);
    }
}

#[test]
fn admin_can_do_everything_limited_little() {
    for action in Action::ALL {
        assert!(Authority::Admin.can(*action));
    }
    let limited: Vec<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|a| Authority::Limited.can(*a))
        .collect();
    assert_eq!(
        limited,
        [
            Action::ListActiveProducts,
            Action::AccessProductBackOffice,
            Action::ViewInstitutionData
        ]
    );
}

// --- default catalogue

#[test]
fn default_catalogue_has_the_five_products() {
    let c = catalogue();
    let listed: Vec<&str> = c.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(listed, [IO, INTEROP, COLL, "prod-pagopa", "prod-pn"]);

    let interop = c.get(INTEROP).unwrap();
    assert_eq!(interop.title(Lang::It), "Interoperabilità");
    assert_eq!(interop.title(Lang::En), "Interoperability");
    assert_eq!(interop.test_env_product_ids, [COLL]);
    assert_eq!(interop.max_admins, Some(3));
    assert_eq!(interop.url_bo, "/interop/produzione/session");

    let coll = c.get(COLL).unwrap();
    assert_eq!(coll.status, ProductStatus::Testing);
    assert_eq!(coll.parent_id, None);
    assert_eq!(coll.max_admins, None);
    assert_eq!(coll.url_bo, "/interop/collaudo/session");
    assert_eq!(c.main_product_of_test_env(COLL).unwrap().id, INTEROP);
    assert!(c.main_product_of_test_env(INTEROP).is_none());

    assert_eq!(c.get(IO).unwrap().url_bo, "/io/session");
    for external in ["prod-pagopa", "prod-pn"] {
        let url = &c.get(external).unwrap().url_bo;
        assert!(
            url.contains("<IdentityToken>") && url.contains("<lang>"),
            "{url}"
        );
    }
    assert!(c.get("prod-nope").is_none());
}

#[test]
fn default_catalogue_role_mappings_follow_the_spec() {
    let c = catalogue();
    let codes = |id: &str, a: Authority| -> (bool, Vec<String>) {
        let m = c.get(id).unwrap().mapping(a).unwrap();
        (
            m.multi_role_allowed,
            m.roles.iter().map(|r| r.code.clone()).collect(),
        )
    };
    for id in [IO, INTEROP, COLL, "prod-pagopa", "prod-pn"] {
        assert_eq!(codes(id, Authority::Admin).1, ["admin"], "{id}");
    }
    for id in [IO, "prod-pagopa", "prod-pn"] {
        assert_eq!(codes(id, Authority::Limited), (false, ids(&["operator"])));
    }
    for id in [INTEROP, COLL] {
        assert_eq!(
            codes(id, Authority::Limited),
            (true, ids(&["api", "security"]))
        );
    }

    let io = c.get(IO).unwrap();
    let (authority, admin) = io.product_role("admin").unwrap();
    assert_eq!(authority, Authority::Admin);
    assert_eq!(admin.label(Lang::It), "Referente amministrativo");
    assert_eq!(io.product_role("operator").unwrap().0, Authority::Limited);
    assert_eq!(
        io.product_role("operator").unwrap().1.label(Lang::It),
        "Referente operativo"
    );
    let api = c.get(INTEROP).unwrap().product_role("api").unwrap().1;
    assert_eq!(api.label(Lang::It), "Operatore API");
    assert_eq!(
        c.get(INTEROP)
            .unwrap()
            .product_role("security")
            .unwrap()
            .1
            .label(Lang::It),
        "Operatore di sicurezza"
    );

    assert!(c.is_valid_product_role(INTEROP, Authority::Limited, "api"));
    assert!(c.is_valid_product_role(COLL, Authority::Limited, "security"));
    assert!(!c.is_valid_product_role(INTEROP, Authority::Admin, "api"));
    assert!(!c.is_valid_product_role(IO, Authority::Limited, "api"));
    assert!(!c.is_valid_product_role("prod-nope", Authority::Admin, "admin"));
}

#[test]
fn audiences_and_environments() {
    let c = catalogue();
    assert_eq!(
        c.audience_for(INTEROP, None),
        Some(("/interop/produzione/session", "interop.selfcare.local"))
    );
    assert_eq!(
        c.audience_for(COLL, None),
        Some(("/interop/collaudo/session", "uat.interop.selfcare.local"))
    );
    assert_eq!(
        c.audience_for(IO, None),
        Some(("/io/session", "api.io.selfcare.local"))
    );
    let (url, audience) = c.audience_for("prod-pn", Some("Collaudo")).unwrap();
    assert!(url.contains("<IdentityToken>"));
    assert_eq!(audience, "uat.pn.selfcare.local");
    assert_eq!(
        c.audience_for("prod-pn", None).unwrap().1,
        "pn.selfcare.local"
    );
    assert_eq!(c.audience_for("prod-pn", Some("Produzione")), None);
    assert_eq!(c.audience_for(INTEROP, Some("Collaudo")), None);
    assert_eq!(c.audience_for("prod-nope", None), None);
}

#[test]
fn permission_product_maps_children_only() {
    let text = [
        product("prod-a", "a", "test_env_product_ids = [\"prod-a-coll\"]"),
        product("prod-a-coll", "a-coll", ""),
        product("prod-a-premium", "a-premium", "parent_id = \"prod-a\""),
    ];
    let c = parse(&text).unwrap();
    assert_eq!(c.permission_product("prod-a-premium"), "prod-a");
    assert_eq!(c.permission_product("prod-a"), "prod-a");
    assert_eq!(c.permission_product("prod-a-coll"), "prod-a-coll");
    assert_eq!(c.permission_product("prod-unknown"), "prod-unknown");
    assert!(c.is_test_env("prod-a-coll"));
    assert!(!c.is_test_env("prod-a-premium"));
}

// --- validation

#[test]
fn an_empty_catalogue_is_valid() {
    assert_eq!(Catalogue::parse("").unwrap().iter().count(), 0);
}

#[test]
fn malformed_files_are_refused() {
    for text in [
        "[[products]]\nid = 1".to_owned(),
        product("prod-a", "a", "status_typo = 1"),
        product("prod-a", "a", "").replace("\"ACTIVE\"", "\"LIVE\""),
        "unexpected = true".to_owned(),
    ] {
        assert!(
            matches!(Catalogue::parse(&text), Err(CatalogueError::Toml(_))),
            "{text}"
        );
    }
}

#[test]
fn duplicate_ids_are_refused() {
    let err = parse(&[product("prod-a", "a", ""), product("prod-a", "b", "")]).unwrap_err();
    assert!(matches!(err, CatalogueError::DuplicateId(id) if id == "prod-a"));
}

#[test]
fn parents_must_exist_and_be_top_level() {
    let err = parse(&[product("prod-a", "a", "parent_id = \"prod-x\"")]).unwrap_err();
    assert!(matches!(err, CatalogueError::UnknownParent { parent, .. } if parent == "prod-x"));

    let err = parse(&[product("prod-a", "a", "parent_id = \"prod-a\"")]).unwrap_err();
    assert!(matches!(err, CatalogueError::NestedParent { .. }));

    let err = parse(&[
        product("prod-a", "a", ""),
        product("prod-b", "b", "parent_id = \"prod-a\""),
        product("prod-c", "c", "parent_id = \"prod-b\""),
    ])
    .unwrap_err();
    assert!(matches!(err, CatalogueError::NestedParent { product, .. } if product == "prod-c"));
}

#[test]
fn test_envs_must_exist_and_not_be_relatives() {
    let err = parse(&[product(
        "prod-a",
        "a",
        "test_env_product_ids = [\"prod-x\"]",
    )])
    .unwrap_err();
    assert!(matches!(err, CatalogueError::UnknownTestEnv { test_env, .. } if test_env == "prod-x"));

    // The test environment is the main product's child.
    let err = parse(&[
        product("prod-a", "a", "test_env_product_ids = [\"prod-b\"]"),
        product("prod-b", "b", "parent_id = \"prod-a\""),
    ])
    .unwrap_err();
    assert!(matches!(err, CatalogueError::TestEnvIsRelative { .. }));

    // The test environment is the main product's parent.
    let err = parse(&[
        product(
            "prod-a",
            "a",
            "parent_id = \"prod-b\"\ntest_env_product_ids = [\"prod-b\"]",
        ),
        product("prod-b", "b", ""),
    ])
    .unwrap_err();
    assert!(matches!(err, CatalogueError::TestEnvIsRelative { .. }));

    let err = parse(&[product(
        "prod-a",
        "a",
        "test_env_product_ids = [\"prod-a\"]",
    )])
    .unwrap_err();
    assert!(matches!(err, CatalogueError::TestEnvIsRelative { .. }));
}

#[test]
fn a_test_env_belongs_to_one_product_and_has_none_itself() {
    let err = parse(&[
        product("prod-a", "a", "test_env_product_ids = [\"prod-t\"]"),
        product("prod-b", "b", "test_env_product_ids = [\"prod-t\"]"),
        product("prod-t", "t", ""),
    ])
    .unwrap_err();
    assert!(matches!(err, CatalogueError::TestEnvListedTwice(t) if t == "prod-t"));

    let err = parse(&[
        product("prod-a", "a", "test_env_product_ids = [\"prod-t\"]"),
        product("prod-t", "t", "test_env_product_ids = [\"prod-u\"]"),
        product("prod-u", "u", ""),
    ])
    .unwrap_err();
    assert!(matches!(err, CatalogueError::NestedTestEnv { .. }));
}

#[test]
fn both_role_mappings_are_required_and_non_empty() {
    let admin_only = r#"
[products.roles.ADMIN]
multi_role_allowed = false
roles = [{ code = "admin", label = "A", label_en = "A", description = "d" }]
"#;
    let err = parse(&[product_with("prod-a", "a", "", admin_only)]).unwrap_err();
    assert!(matches!(
        err,
        CatalogueError::NoRoles {
            authority: Authority::Limited,
            ..
        }
    ));

    let empty_admin = r#"
[products.roles.ADMIN]
multi_role_allowed = false
roles = []

[products.roles.LIMITED]
multi_role_allowed = false
roles = [{ code = "operator", label = "O", label_en = "O", description = "d" }]
"#;
    let err = parse(&[product_with("prod-a", "a", "", empty_admin)]).unwrap_err();
    assert!(matches!(
        err,
        CatalogueError::NoRoles {
            authority: Authority::Admin,
            ..
        }
    ));

    let unknown_authority =
        format!("{ROLES}\n[products.roles.OWNER]\nmulti_role_allowed = false\nroles = []\n");
    let err = parse(&[product_with("prod-a", "a", "", &unknown_authority)]).unwrap_err();
    assert!(matches!(err, CatalogueError::Toml(_)));
}

#[test]
fn product_role_codes_are_unique_within_a_product() {
    let twice = r#"
[products.roles.ADMIN]
multi_role_allowed = false
roles = [{ code = "admin", label = "A", label_en = "A", description = "d" }]

[products.roles.LIMITED]
multi_role_allowed = true
roles = [
{ code = "api", label = "A", label_en = "A", description = "d" },
{ code = "admin", label = "A", label_en = "A", description = "d" },
]
"#;
    let err = parse(&[product_with("prod-a", "a", "", twice)]).unwrap_err();
    assert!(matches!(err, CatalogueError::DuplicateRoleCode { code, .. } if code == "admin"));

    // The same code on two products is fine.
    parse(&[product("prod-a", "a", ""), product("prod-b", "b", "")]).unwrap();
}

#[test]
fn urls_and_audiences_must_be_set() {
    let text = product("prod-a", "a", "").replace("url_bo = \"/prod-a/session\"", "url_bo = \" \"");
    assert!(matches!(
        Catalogue::parse(&text),
        Err(CatalogueError::EmptyUrl { .. })
    ));
    assert!(matches!(
        parse(&[product("prod-a", "", "")]),
        Err(CatalogueError::EmptyAudience { .. })
    ));

    let env = |url: &str, audience: &str| {
        format!(
            "[[products.back_office_environments]]\nenvironment = \"Collaudo\"\nurl = \"{url}\"\nidentity_token_audience = \"{audience}\"\n"
        )
    };
    assert!(matches!(
        parse(&[product("prod-a", "a", &env("", "a-uat"))]),
        Err(CatalogueError::EmptyUrl { .. })
    ));
    assert!(matches!(
        parse(&[product("prod-a", "a", &env("/uat", ""))]),
        Err(CatalogueError::EmptyAudience { .. })
    ));
    parse(&[product("prod-a", "a", &env("/uat", "a-uat"))]).unwrap();
}

#[test]
fn audiences_are_unique_across_products_and_environments() {
    let err = parse(&[product("prod-a", "same", ""), product("prod-b", "same", "")]).unwrap_err();
    assert!(matches!(err, CatalogueError::DuplicateAudience(a) if a == "same"));

    let env = "[[products.back_office_environments]]\nenvironment = \"Collaudo\"\nurl = \"/uat\"\nidentity_token_audience = \"b\"\n";
    let err = parse(&[product("prod-a", "a", env), product("prod-b", "b", "")]).unwrap_err();
    assert!(matches!(err, CatalogueError::DuplicateAudience(a) if a == "b"));

    let env_on_itself = "[[products.back_office_environments]]\nenvironment = \"Collaudo\"\nurl = \"/uat\"\nidentity_token_audience = \"a\"\n";
    let err = parse(&[product("prod-a", "a", env_on_itself)]).unwrap_err();
    assert!(matches!(err, CatalogueError::DuplicateAudience(a) if a == "a"));
}

#[test]
fn environment_names_are_unique_within_a_product() {
    let envs = "[[products.back_office_environments]]\nenvironment = \"Collaudo\"\nurl = \"/uat\"\nidentity_token_audience = \"a-1\"\n\
                [[products.back_office_environments]]\nenvironment = \"Collaudo\"\nurl = \"/uat2\"\nidentity_token_audience = \"a-2\"\n";
    let err = parse(&[product("prod-a", "a", envs)]).unwrap_err();
    assert!(matches!(err, CatalogueError::DuplicateEnvironment { .. }));
}

// --- grants

#[test]
fn user_role_prefers_admin_and_ignores_inactive_grants() {
    let c = catalogue();
    assert_eq!(user_role(&[], &c), None);
    assert_eq!(
        user_role(&[grant(IO, PartyRole::Operator, "operator")], &c),
        Some(Authority::Limited)
    );
    assert_eq!(
        user_role(
            &[
                grant(IO, PartyRole::Operator, "operator"),
                grant(COLL, PartyRole::SubDelegate, "admin"),
            ],
            &c
        ),
        Some(Authority::Admin)
    );
    assert_eq!(
        user_role(
            &[
                grant(IO, PartyRole::Operator, "operator"),
                suspended(grant(INTEROP, PartyRole::Manager, "admin")),
            ],
            &c
        ),
        Some(Authority::Limited)
    );
    assert_eq!(
        user_role(&[suspended(grant(IO, PartyRole::Manager, "admin"))], &c),
        None
    );
    let mut deleted = grant(IO, PartyRole::Manager, "admin");
    deleted.status = RoleStatus::Deleted;
    assert_eq!(user_role(&[deleted], &c), None);
    assert_eq!(
        user_role(&[grant("prod-gone", PartyRole::Manager, "admin")], &c),
        None
    );
}

#[test]
fn authority_on_keeps_test_envs_and_main_products_apart() {
    let c = catalogue();
    let coll_admin = [grant(COLL, PartyRole::SubDelegate, "admin")];
    assert_eq!(authority_on(&coll_admin, COLL, &c), Some(Authority::Admin));
    assert_eq!(authority_on(&coll_admin, INTEROP, &c), None);

    let interop_api = [grant(INTEROP, PartyRole::Operator, "api")];
    assert_eq!(
        authority_on(&interop_api, INTEROP, &c),
        Some(Authority::Limited)
    );
    assert_eq!(authority_on(&interop_api, COLL, &c), None);
    assert_eq!(authority_on(&interop_api, IO, &c), None);

    let mixed = [
        grant(INTEROP, PartyRole::Operator, "api"),
        grant(INTEROP, PartyRole::Delegate, "admin"),
    ];
    assert_eq!(authority_on(&mixed, INTEROP, &c), Some(Authority::Admin));

    let suspended_only = [suspended(grant(IO, PartyRole::Manager, "admin"))];
    assert_eq!(authority_on(&suspended_only, IO, &c), None);
}

#[test]
fn a_child_product_shares_its_parents_authority() {
    let c = parse(&[
        product("prod-a", "a", ""),
        product("prod-a-premium", "a-premium", "parent_id = \"prod-a\""),
        product("prod-b", "b", ""),
    ])
    .unwrap();
    let on_parent = [grant("prod-a", PartyRole::Operator, "operator")];
    assert_eq!(
        authority_on(&on_parent, "prod-a-premium", &c),
        Some(Authority::Limited)
    );
    let on_child = [grant("prod-a-premium", PartyRole::Manager, "admin")];
    assert_eq!(
        authority_on(&on_child, "prod-a", &c),
        Some(Authority::Admin)
    );
    assert_eq!(authority_on(&on_child, "prod-b", &c), None);
}

// --- dashboard

/// A Comune onboarded to App IO and to both Interoperabilità environments.
fn comune() -> Vec<String> {
    ids(&[IO, INTEROP, COLL])
}

fn card<'a>(cards: &'a [ProductCard], id: &str) -> &'a ProductCard {
    cards.iter().find(|c| c.product_id == id).unwrap()
}

#[test]
fn collaudo_admin_sees_one_interop_card_with_only_collaudo() {
    let c = catalogue();
    let grants = [grant(COLL, PartyRole::SubDelegate, "admin")];
    let (cards, available) = dashboard_cards(&comune(), &grants, &c);

    let shown: Vec<&str> = cards.iter().map(|c| c.product_id.as_str()).collect();
    assert_eq!(shown, [IO, INTEROP]);
    let interop = card(&cards, INTEROP);
    assert_eq!(interop.title(Lang::It), "Interoperabilità");
    assert!(interop.active_onboarding);
    assert!(interop.can_enter);
    assert_eq!(
        interop.environments,
        [EnvChoice::Test {
            product_id: COLL.to_owned()
        }]
    );
    let io = card(&cards, IO);
    assert!(!io.can_enter);
    assert!(io.environments.is_empty());
    assert_eq!(available, ids(&["prod-pagopa", "prod-pn"]));
}

#[test]
fn production_admin_sees_only_production() {
    let c = catalogue();
    let grants = [grant(INTEROP, PartyRole::Manager, "admin")];
    let (cards, _) = dashboard_cards(&comune(), &grants, &c);
    let interop = card(&cards, INTEROP);
    assert!(interop.can_enter);
    assert_eq!(interop.environments, [EnvChoice::Production]);
}

#[test]
fn admin_of_both_sees_both_environments() {
    let c = catalogue();
    let grants = [
        grant(INTEROP, PartyRole::Manager, "admin"),
        grant(COLL, PartyRole::Operator, "security"),
    ];
    let (cards, _) = dashboard_cards(&comune(), &grants, &c);
    assert_eq!(
        card(&cards, INTEROP).environments,
        [
            EnvChoice::Production,
            EnvChoice::Test {
                product_id: COLL.to_owned()
            }
        ]
    );
}

#[test]
fn limited_operator_enters_io_but_cannot_manage_users() {
    let c = catalogue();
    let grants = [grant(IO, PartyRole::Operator, "operator")];
    let (cards, _) = dashboard_cards(&comune(), &grants, &c);
    assert!(card(&cards, IO).can_enter);
    assert!(!card(&cards, INTEROP).can_enter);
    assert!(card(&cards, INTEROP).environments.is_empty());

    let authority = authority_on(&grants, IO, &c).unwrap();
    assert_eq!(authority, Authority::Limited);
    assert!(authority.can(Action::AccessProductBackOffice));
    assert!(!authority.can(Action::ManageProductUsers));
    assert!(!authority.can(Action::ListProductUsers));
}

#[test]
fn suspended_grants_open_nothing() {
    let c = catalogue();
    let grants = [
        suspended(grant(IO, PartyRole::Manager, "admin")),
        suspended(grant(INTEROP, PartyRole::Manager, "admin")),
        suspended(grant(COLL, PartyRole::Manager, "admin")),
    ];
    let (cards, _) = dashboard_cards(&comune(), &grants, &c);
    assert_eq!(cards.len(), 2);
    for card in &cards {
        assert!(!card.can_enter, "{}", card.product_id);
        assert!(card.environments.is_empty());
    }
}

#[test]
fn test_env_onboarding_alone_shows_the_main_card() {
    let c = catalogue();
    let grants = [
        grant(INTEROP, PartyRole::Manager, "admin"),
        grant(COLL, PartyRole::Manager, "admin"),
    ];
    let (cards, available) = dashboard_cards(&ids(&[COLL]), &grants, &c);
    assert_eq!(cards.len(), 1);
    let interop = card(&cards, INTEROP);
    assert!(!interop.active_onboarding);
    assert!(interop.can_enter);
    // Production needs its own ACTIVE onboarding, whatever the role.
    assert_eq!(
        interop.environments,
        [EnvChoice::Test {
            product_id: COLL.to_owned()
        }]
    );
    assert_eq!(available, ids(&[IO, INTEROP, "prod-pagopa", "prod-pn"]));
}

#[test]
fn a_test_env_role_without_its_onboarding_opens_nothing() {
    let c = catalogue();
    let grants = [grant(COLL, PartyRole::Manager, "admin")];
    let (cards, _) = dashboard_cards(&ids(&[INTEROP]), &grants, &c);
    let interop = card(&cards, INTEROP);
    assert!(!interop.can_enter);
    assert!(interop.environments.is_empty());
}

#[test]
fn nothing_onboarded_means_no_cards() {
    let c = catalogue();
    let (cards, available) = dashboard_cards(&[], &[], &c);
    assert!(cards.is_empty());
    assert_eq!(available, ids(&[IO, INTEROP, "prod-pagopa", "prod-pn"]));
}

#[test]
fn inactive_and_phase_out_products_are_not_offered() {
    let c = parse(&[
        product("prod-a", "a", ""),
        product("prod-old", "old", "").replace("\"ACTIVE\"", "\"PHASE_OUT\""),
        product("prod-off", "off", "").replace("\"ACTIVE\"", "\"INACTIVE\""),
        product("prod-gone", "gone", "").replace("\"ACTIVE\"", "\"PHASE_OUT\""),
    ])
    .unwrap();
    let grants = [
        grant("prod-old", PartyRole::Manager, "admin"),
        grant("prod-off", PartyRole::Manager, "admin"),
    ];
    let (cards, available) = dashboard_cards(&ids(&["prod-old", "prod-off"]), &grants, &c);
    let shown: Vec<&str> = cards.iter().map(|c| c.product_id.as_str()).collect();
    assert_eq!(shown, ["prod-old"]);
    assert!(cards[0].can_enter);
    assert_eq!(available, ids(&["prod-a"]));
}

#[test]
fn a_child_product_card_opens_with_the_parents_role() {
    let c = parse(&[
        product("prod-a", "a", ""),
        product("prod-a-premium", "a-premium", "parent_id = \"prod-a\""),
    ])
    .unwrap();
    let grants = [grant("prod-a", PartyRole::Operator, "operator")];
    let (cards, available) = dashboard_cards(&ids(&["prod-a-premium"]), &grants, &c);
    assert_eq!(cards.len(), 1);
    assert!(cards[0].can_enter);
    assert_eq!(available, ids(&["prod-a"]));
}

// --- token exchange

#[test]
fn exchange_needs_an_active_onboarding() {
    let grants = [grant(INTEROP, PartyRole::Manager, "admin")];
    for status in OnboardingStatus::ALL
        .iter()
        .filter(|s| **s != OnboardingStatus::Active)
    {
        assert_eq!(
            can_exchange(Some(*status), &grants),
            Err(ExchangeRefusal::NotOnboarded),
            "{status}"
        );
    }
    assert_eq!(
        can_exchange(None, &grants),
        Err(ExchangeRefusal::NotOnboarded)
    );
}

#[test]
fn exchange_needs_an_active_role_and_returns_only_active_ones() {
    let active = Some(OnboardingStatus::Active);
    assert_eq!(
        can_exchange(active, &[]),
        Err(ExchangeRefusal::NoActiveRole)
    );
    assert_eq!(
        can_exchange(
            active,
            &[suspended(grant(COLL, PartyRole::Operator, "api"))]
        ),
        Err(ExchangeRefusal::NoActiveRole)
    );

    let grants = [
        grant(COLL, PartyRole::Operator, "api"),
        suspended(grant(COLL, PartyRole::Operator, "security")),
        grant(COLL, PartyRole::SubDelegate, "admin"),
    ];
    let roles = can_exchange(active, &grants).unwrap();
    let codes: Vec<&str> = roles.iter().map(|g| g.product_role.as_str()).collect();
    assert_eq!(codes, ["api", "admin"]);
    assert!(roles.iter().all(Grant::is_active));
}
