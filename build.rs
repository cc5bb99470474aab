//! Generates the People API client from the vendored discovery document (or the one named by
//! `GOOGLE_PEOPLE_DISCOVERY`) into `$OUT_DIR/people_v1.rs`.

use std::{env, fs, path::PathBuf, process::exit};

use google_people_codegen::{Options, render};

fn main() {
    println!("cargo::rerun-if-env-changed=GOOGLE_PEOPLE_DISCOVERY");
    let doc =
        env::var("GOOGLE_PEOPLE_DISCOVERY").unwrap_or_else(|_| "discovery/people.v1.json".into());
    println!("cargo::rerun-if-changed={doc}");
    let json = fs::read_to_string(&doc).unwrap_or_else(|e| fail(&format!("{doc}: {e}")));
    let opts = Options {
        runtime_path: "crate::runtime".into(),
        crate_path: Some("google_people".into()),
    };
    let code = render(&json, &opts)
        .unwrap_or_else(|e| fail(&format!("{doc}: invalid discovery document {e}")));
    let out =
        PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("people_v1.rs");
    fs::write(&out, code).unwrap_or_else(|e| fail(&format!("{}: {e}", out.display())));
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    exit(1)
}
