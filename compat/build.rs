//! Generates a module for every discovery document under `codegen/tests/` (other Google APIs,
//! older People revisions, per-construct fixtures) against `::google_people::runtime`.

use std::{env, fs, path::Path};

use google_people_codegen::{Options, render};

fn main() {
    let out = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let opts = Options {
        runtime_path: "::google_people::runtime".into(),
        crate_path: None,
    };
    let mut mods = String::new();
    for dir in [
        "../codegen/tests/discovery/other-apis",
        "../codegen/tests/discovery/people-revisions",
        "../codegen/tests/constructs",
    ] {
        println!("cargo::rerun-if-changed={dir}");
        let mut files: Vec<_> = fs::read_dir(dir)
            .expect(dir)
            .map(|e| e.expect(dir).path())
            .collect();
        files.sort();
        for path in files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
        {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8 file name");
            let module = stem.replace(['.', '-'], "_");
            let code = render(&fs::read_to_string(path).expect("readable"), &opts)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            fs::write(Path::new(&out).join(format!("{module}.rs")), code)
                .expect("writable OUT_DIR");
            mods.push_str(&format!(
                "#[doc = \"Generated from `{stem}.json`.\"]\n#[deny(warnings)]\npub mod {module} {{\n    include!(concat!(env!(\"OUT_DIR\"), \"/{module}.rs\"));\n}}\n"
            ));
        }
    }
    fs::write(Path::new(&out).join("mods.rs"), mods).expect("writable OUT_DIR");
}
