//! Runs the shipped rules' fixtures, as `freightgate rules test rules/` will.

use std::path::Path;

#[test]
fn every_shipped_fixture_passes() {
    let results = freightgate::rules::run_fixtures(Path::new("rules"));
    assert!(
        results.len() >= 20,
        "expected the shipped fixtures, found {}",
        results.len()
    );
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "failing fixtures:\n{}",
        failed.join("\n")
    );
}
