//! The statements of Interoperability's lists, as the store runs them, for the query-plan
//! tests: each must be answered by an index range on both engines.

use platform::db::plan::{Arg, ListStatement};

use super::{Side, agreements, attributes, catalogue, clients, purposes};

const ENV: &str = "produzione";
const INSTITUTION: &str = "00000000-0000-0000-0000-000000000001";

/// Every list statement of Interoperability with values for its placeholders (the COUNT of
/// each list's total too).
pub fn list_statements() -> Vec<ListStatement> {
    let env_and = |who: &str| vec![Arg::from(ENV), Arg::from(who)];
    let window = |mut args: Vec<Arg>| {
        args.push(Arg::from(50));
        args.push(Arg::from(50));
        args
    };
    let (low, high) = crate::model::eservice::prefix_range("anag");
    let one_word = vec![
        Arg::from(ENV),
        Arg::from(low.as_str()),
        Arg::from(high.as_str()),
    ];
    let (low2, high2) = crate::model::eservice::prefix_range("naz");
    let mut two_words = one_word.clone();
    two_words.push(Arg::from(low2.as_str()));
    two_words.push(Arg::from(high2.as_str()));
    let clients_args = |member: &str| {
        vec![
            Arg::from(ENV),
            Arg::from(INSTITUTION),
            Arg::from("CONSUMER"),
            Arg::from(member),
        ]
    };
    let client = "00000000-0000-0000-0000-00000000000c";
    // The searches of the catalogue are read from the words' index and sorted by name: their
    // sort is of their matches only, so they are not `paged()` (in index order) by design.
    let mut out = vec![
        ListStatement::new(
            "interop.catalogue.all",
            catalogue::catalog_page_sql(0),
            window(vec![Arg::from(ENV)]),
        )
        .paged(),
        ListStatement::new(
            "interop.catalogue.all.count",
            catalogue::catalog_count_sql(0),
            vec![Arg::from(ENV)],
        ),
        ListStatement::new(
            "interop.catalogue.search",
            catalogue::catalog_page_sql(1),
            window(one_word.clone()),
        ),
        ListStatement::new(
            "interop.catalogue.search.count",
            catalogue::catalog_count_sql(1),
            one_word,
        ),
        ListStatement::new(
            "interop.catalogue.search_words",
            catalogue::catalog_page_sql(2),
            window(two_words.clone()),
        ),
        ListStatement::new(
            "interop.catalogue.search_words.count",
            catalogue::catalog_count_sql(2),
            two_words,
        ),
        ListStatement::new(
            "interop.eservices.producer",
            catalogue::producer_page_sql(),
            window(env_and(INSTITUTION)),
        )
        .paged(),
        ListStatement::new(
            "interop.eservices.producer.count",
            catalogue::PRODUCER_COUNT,
            env_and(INSTITUTION),
        ),
        ListStatement::new(
            "interop.clients",
            clients::page_sql(),
            window(clients_args("")),
        )
        .paged(),
        ListStatement::new(
            "interop.clients.count",
            clients::count_sql(),
            clients_args(""),
        ),
        ListStatement::new(
            "interop.clients.member",
            clients::page_sql(),
            window(clients_args("user-1")),
        )
        .paged(),
        ListStatement::new(
            "interop.clients.member.count",
            clients::count_sql(),
            clients_args("user-1"),
        ),
        ListStatement::new(
            "interop.clients.keys",
            clients::keys_page_sql(),
            vec![Arg::from(client), Arg::from(50), Arg::from(0)],
        )
        .paged(),
        ListStatement::new(
            "interop.clients.keys.count",
            clients::KEYS_COUNT,
            vec![Arg::from(client)],
        ),
        ListStatement::new(
            "interop.people",
            super::people_page_sql(),
            window(env_and(INSTITUTION)),
        )
        .paged(),
        ListStatement::new(
            "interop.people.count",
            super::PEOPLE_COUNT,
            env_and(INSTITUTION),
        ),
    ];
    for (side, name, count) in [
        (
            Side::Consumer,
            "interop.agreements.consumer",
            "interop.agreements.consumer.count",
        ),
        (
            Side::Producer,
            "interop.agreements.producer",
            "interop.agreements.producer.count",
        ),
    ] {
        out.push(
            ListStatement::new(
                name,
                agreements::SHARED.page_sql(side),
                window(env_and(INSTITUTION)),
            )
            .paged(),
        );
        out.push(ListStatement::new(
            count,
            agreements::SHARED.count_sql(side),
            env_and(INSTITUTION),
        ));
    }
    for (side, name, count) in [
        (
            Side::Consumer,
            "interop.purposes.consumer",
            "interop.purposes.consumer.count",
        ),
        (
            Side::Producer,
            "interop.purposes.producer",
            "interop.purposes.producer.count",
        ),
    ] {
        out.push(
            ListStatement::new(
                name,
                purposes::SHARED.page_sql(side),
                window(env_and(INSTITUTION)),
            )
            .paged(),
        );
        out.push(ListStatement::new(
            count,
            purposes::SHARED.count_sql(side),
            env_and(INSTITUTION),
        ));
    }
    out.push(ListStatement::new(
        "interop.purposes.versions",
        purposes::versions_of_sql(3),
        ["p-1", "p-2", "p-3"].into_iter().map(Arg::from).collect(),
    ));
    for (of_kind, kind, page, count) in [
        (
            true,
            "CERTIFIED",
            "interop.attributes.search",
            "interop.attributes.search.count",
        ),
        (
            false,
            "",
            "interop.attributes.search.any_kind",
            "interop.attributes.search.any_kind.count",
        ),
    ] {
        let (page_sql, count_sql) = attributes::search_sql(of_kind);
        let args = vec![Arg::from(ENV), Arg::from(kind), Arg::from("%anag%")];
        out.push(ListStatement::new(page, page_sql, window(args.clone())).paged());
        out.push(ListStatement::new(count, count_sql, args));
    }
    out
}
