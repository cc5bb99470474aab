//! Every vendored discovery document, generated with `--runtime-path ::google_people::runtime`
//! and compiled as a module of this crate with `#[deny(warnings)]`. `cargo clippy --workspace
//! --all-targets -- -D warnings` lints them too; `tests/` exercises their behaviour.

include!(concat!(env!("OUT_DIR"), "/mods.rs"));
