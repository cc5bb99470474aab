//! The generated code the build compiles is the checked-in snapshot, byte for byte: what a
//! reviewer reads in `codegen/tests/output/people_v1.rs` is what `build.rs` wrote to
//! `$OUT_DIR/people_v1.rs`, the file an editor opens on "go to definition".

#[test]
fn the_build_output_is_the_snapshot() {
    let built = include_str!(concat!(env!("OUT_DIR"), "/people_v1.rs"));
    let snapshot = include_str!("../codegen/tests/output/people_v1.rs");
    if built != snapshot {
        let line = built
            .lines()
            .zip(snapshot.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "$OUT_DIR/people_v1.rs differs from the snapshot at line {} (built from another \
             discovery document, or the snapshot is stale: BLESS=1 cargo test -p \
             google-people-codegen)",
            line + 1
        );
    }
    // Formatted: one item a line, indented, as prettyplease prints it.
    assert!(
        built.contains("\npub struct Person {\n    /// "),
        "not formatted"
    );
}
