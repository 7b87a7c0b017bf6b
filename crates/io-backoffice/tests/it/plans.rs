//! Every list of App IO is answered by an index range, never by reading a whole table: the
//! engine's own plan of each statement, on SQLite and on PostgreSQL.

testkit::plan_tests!(io_backoffice::store::list_statements();
    services_page => "io.services.page",
    services_page_from_end => "io.services.page.from_end",
    services_count => "io.services.count",
    services_search_page => "io.services.search.page",
    services_search_page_from_end => "io.services.search.page.from_end",
    services_search_count => "io.services.search.count",
    services_history => "io.services.history",
    services_unsearchable => "io.services.unsearchable",
    review_page => "io.review.page",
    review_count => "io.review.count",
    import_due => "io.import.due",
);
