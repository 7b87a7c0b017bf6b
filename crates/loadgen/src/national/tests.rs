//! Every scenario on a tiny seed, for a fraction of a second each (SQLite, or PostgreSQL when
//! `SELFCARE_TEST_DATABASE_URL` is set).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use super::{Options, SCENARIOS};

#[test]
fn every_scenario_answers_on_a_tiny_seed() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(testkit::TestDb::new());
    runtime
        .block_on(crate::seed::run(&crate::seed::Options {
            scale: 0.001,
            database_url: db.url().to_string(),
            devportal_database_url: None,
            seed: 7,
            master_key_file: testkit::test_master_key(),
        }))
        .expect("seed");
    let outcomes = super::run(&Options {
        database_url: db.url().to_string(),
        master_key_file: testkit::test_master_key(),
        connections: 4,
        duration: Duration::from_millis(300),
        warmup: Duration::from_millis(50),
        only: Vec::new(),
        sign_reference: Duration::from_millis(100),
        verbose: false,
        max_connections: None,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, SCENARIOS);
    for o in &outcomes {
        assert!(
            o.ok > 0 && o.failed == 0 && o.rate > 0.0 && o.reference > 0.0,
            "{o:?}"
        );
        assert_eq!(o.sign_rate.is_some(), o.name == "exchange", "{o:?}");
    }
    drop(db);
}
