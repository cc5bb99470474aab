//! The examples, end to end against their embedded emulators.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The example binary, brought up to date first: `cargo test --workspace` builds examples, but
/// not when only this test is selected. With the same feature resolution as `cargo test
/// --workspace`, this is a no-op after it.
fn example(name: &str) -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--quiet", "--workspace", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        // Variables cargo set for this test process only; some build scripts (ring's) track
        // them, and inheriting them would rebuild everything.
        for (k, _) in std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v))) {
            if k.starts_with("CARGO_PKG_")
                || k.starts_with("CARGO_MANIFEST_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_BIN_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "OUT_DIR",
                ]
                .contains(&k.as_str())
                || k == "CARGO_TARGET_TMPDIR"
            {
                cargo.env_remove(k);
            }
        }
        let status = cargo.status().unwrap();
        assert!(status.success());
    });
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("examples-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run_example(name: &str, args: &[&str]) -> (Output, String, String) {
    let out = Command::new(example(name)).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

#[test]
fn the_other_examples_run_against_the_emulator() {
    let (out, stdout, stderr) = run_example("delegated", &[]);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout
            .matches(": 250 updated, 0 failed, 2 requests")
            .count(),
        5,
        "{stdout}"
    );
    assert!(stdout.contains("Token requests: 5"), "{stdout}");

    let (out, stdout, stderr) = run_example("delegated", &["--keyless"]);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout.matches(": 250 updated, 0 failed").count(),
        5,
        "{stdout}"
    );
    assert!(
        stdout.contains("Token requests: 5")
            && stdout.contains("signJwt requests: 5, metadata token requests: 1"),
        "{stdout}"
    );

    let token_file = scratch("authorized.json");
    let (out, stdout, stderr) = run_example("authorize", &["--out", token_file.to_str().unwrap()]);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&token_file).unwrap()).unwrap();
    assert_eq!(saved["type"], "authorized_user");

    let (out, stdout, stderr) = run_example("bulk_update", &["--contacts", "1000"]);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("contacts=1000 updated=1000 failed=0 requests=5"),
        "{stdout}"
    );
}
