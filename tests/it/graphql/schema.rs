//! The committed SDL matches the code.

#[test]
fn schema_graphql_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let current = freightgate::graphql::sdl();
    assert!(
        committed == current,
        "schema.graphql is out of date with the code; regenerate it with \
         `cargo run -q -- schema > schema.graphql` and review the diff"
    );
}
