//! Every list of the Reserved Area is answered by an index range, never by reading a whole
//! table: the engine's own plan of each statement, on SQLite and on PostgreSQL.

testkit::plan_tests!(reserved_area::store::list_statements();
    users_all_page => "reserved_area.users.all.page",
    users_all_page_from_end => "reserved_area.users.all.page.from_end",
    users_all_count => "reserved_area.users.all.count",
    users_search_page => "reserved_area.users.search.page",
    users_search_page_from_end => "reserved_area.users.search.page.from_end",
    users_search_count => "reserved_area.users.search.count",
    users_person_page => "reserved_area.users.person.page",
    users_person_page_from_end => "reserved_area.users.person.page.from_end",
    users_person_count => "reserved_area.users.person.count",
    users_filtered_all_page => "reserved_area.users.filtered.all.page",
    users_filtered_all_page_from_end => "reserved_area.users.filtered.all.page.from_end",
    users_filtered_all_count => "reserved_area.users.filtered.all.count",
    users_filtered_search_page => "reserved_area.users.filtered.search.page",
    users_filtered_search_page_from_end => "reserved_area.users.filtered.search.page.from_end",
    users_filtered_search_count => "reserved_area.users.filtered.search.count",
    users_member => "reserved_area.users.member",
    users_admins => "reserved_area.users.admins",
    users_unkeyed => "reserved_area.users.unkeyed",
    audit_page => "reserved_area.audit.page",
    institutions_of_user => "reserved_area.institutions.of_user",
);
