//! Generates the People API client from the vendored discovery document (or the one named by
//! `GOOGLE_PEOPLE_DISCOVERY`) into `$OUT_DIR/people_v1.rs`, and the document's path probes for
//! the tests into `$OUT_DIR/path_probes.rs` (the library never includes that one).

use std::{env, fs, path::PathBuf, process::exit};

use google_people_codegen::{Options, render, render_path_probes};

fn main() {
    println!("cargo::rerun-if-env-changed=GOOGLE_PEOPLE_DISCOVERY");
    let doc =
        env::var("GOOGLE_PEOPLE_DISCOVERY").unwrap_or_else(|_| "discovery/people.v1.json".into());
    println!("cargo::rerun-if-changed={doc}");
    let json = fs::read_to_string(&doc).unwrap_or_else(|e| fail(&format!("{doc}: {e}")));
    // Formatted, as the checked-in snapshot (`codegen/tests/output/people_v1.rs`) is: the same
    // bytes, which a test checks.
    let code = render(&json, &Options::google_people())
        .unwrap_or_else(|e| fail(&format!("{doc}: invalid discovery document {e}")));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    write(&out_dir.join("people_v1.rs"), &code);
    let probe_opts = Options {
        runtime_path: "::google_people::runtime".into(),
        crate_path: Some("google_people".into()),
    };
    let probes = render_path_probes(&json, &probe_opts)
        .unwrap_or_else(|e| fail(&format!("{doc}: invalid discovery document {e}")));
    write(&out_dir.join("path_probes.rs"), &probes);
}

fn write(path: &std::path::Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    exit(1)
}
