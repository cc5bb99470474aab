//! Generates Rust clients from Google API discovery documents.
//!
//! The pipeline is typed end to end: discovery JSON → [`model`] → naming and lowering
//! ([`ir`]) → tokens ([`quote`]) → text. [`generate`] is pure (document in, tokens out);
//! [`render`] formats the tokens with syn and prettyplease. `google-people`'s `build.rs` calls
//! it, so the file an editor opens on "go to definition" reads like hand-written code, and the
//! checked-in snapshot is that very file, byte for byte.
//!
//! Generation is deterministic (same input, same bytes) and returns [`Error`]s naming the JSON path
//! at fault instead of panicking.
#![deny(missing_docs)]

pub mod diff;
mod docs;
mod emit;
pub mod ir;
pub mod model;
pub mod naming;
mod probe;

use std::fmt;

use proc_macro2::TokenStream;

pub use model::Document;

/// Generation options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Path of the runtime module generated code calls (`crate::runtime`, or
    /// `::google_people::runtime` for code compiled in another crate). With a `crate::` path, entry
    /// points are inherent methods of the runtime `Client`; otherwise they form an extension trait
    /// named after the API (`DriveApi`).
    pub runtime_path: String,
    /// How doc examples name the crate that holds the generated code (`google_people`). Without it,
    /// methods carry no example.
    pub crate_path: Option<String>,
}

impl Options {
    /// The options `google-people`'s own `build.rs` uses (runtime `crate::runtime`, examples
    /// naming `google_people`); the snapshot test uses them too, so the two outputs are identical.
    pub fn google_people() -> Self {
        Self {
            runtime_path: "crate::runtime".into(),
            crate_path: Some("google_people".into()),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            runtime_path: "crate::runtime".into(),
            crate_path: None,
        }
    }
}

/// A generation failure, with the JSON path of the part of the document at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    path: String,
    message: String,
}

impl Error {
    pub(crate) fn at(path: String, message: String) -> Self {
        Self { path, message }
    }

    /// The JSON path at fault (`schemas.Person.properties.names.items.$ref`); empty when the
    /// failure concerns the whole document.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at `{}`: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for Error {}

/// Parse a discovery document, reporting the JSON path of a malformed part.
pub fn parse(json: &str) -> Result<Document, Error> {
    Document::from_json(json)
}

/// Generate the tokens of a client module for a parsed document.
pub fn generate(doc: &Document, opts: &Options) -> Result<TokenStream, Error> {
    let api = ir::lower(doc)?;
    Ok(emitter(doc, &api, opts)?.emit())
}

fn emitter<'a>(
    doc: &'a Document,
    api: &'a ir::Api,
    opts: &'a Options,
) -> Result<emit::Emitter<'a>, Error> {
    let rt = runtime_path(&opts.runtime_path)?;
    Ok(emit::Emitter {
        doc,
        api,
        rt,
        opts,
        origin: origin_of(doc),
        inherent: opts.runtime_path.starts_with("crate::") || opts.runtime_path == "crate",
    })
}

/// A runtime path (`crate::runtime`, `::google_people::runtime`) as tokens: `::`-separated
/// identifiers, with an optional leading `::`.
fn runtime_path(path: &str) -> Result<TokenStream, Error> {
    let bad = |why: &str| {
        Error::at(
            String::new(),
            format!("invalid runtime path `{path}`: {why}"),
        )
    };
    let (global, rest) = match path.strip_prefix("::") {
        Some(rest) => (true, rest),
        None => (false, path),
    };
    let mut out = TokenStream::new();
    for (i, seg) in rest.split("::").enumerate() {
        let ok = seg
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
            && seg.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
            && seg != "_";
        if !ok {
            return Err(bad("each segment must be an identifier"));
        }
        if global || i > 0 {
            out.extend(quote::quote!(::));
        }
        out.extend(std::iter::once(proc_macro2::TokenTree::Ident(
            proc_macro2::Ident::new(seg, proc_macro2::Span::call_site()),
        )));
    }
    Ok(out)
}

/// Parse, generate and format: the Rust source of the client module, opening with a `DO NOT EDIT`
/// banner, formatted by prettyplease.
pub fn render(json: &str, opts: &Options) -> Result<String, Error> {
    let doc = parse(json)?;
    let tokens = generate(&doc, opts)?;
    format_file(&doc, tokens)
}

fn banner(doc: &Document) -> String {
    format!(
        "// @generated by google-people-codegen from the `{}:{}` discovery document, revision {}.\n\
         // DO NOT EDIT: change the generator or the document and rebuild.\n\n",
        doc.name,
        doc.version,
        doc.revision.as_deref().unwrap_or("unknown"),
    )
}

/// The path probes of a document, for tests: `pub fn path_probes(client, value)` returning, for
/// every method with path parameters, its id and the request its call builder makes with each
/// path parameter set to `value`. The file expects the generated client's names in scope (`use
/// my_crate::*;` before `include!`) and `opts.runtime_path` naming the runtime from there.
pub fn render_path_probes(json: &str, opts: &Options) -> Result<String, Error> {
    let doc = parse(json)?;
    let api = ir::lower(&doc)?;
    let tokens = emitter(&doc, &api, opts)?.emit_path_probes();
    format_file(&doc, tokens)
}

fn format_file(doc: &Document, tokens: TokenStream) -> Result<String, Error> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| {
        Error::at(
            String::new(),
            format!("generated code does not parse (generator bug): {e}"),
        )
    })?;
    Ok(banner(doc) + &prettyplease::unparse(&file))
}

/// Scheme and host that relative documentation links resolve against.
fn origin_of(doc: &Document) -> String {
    let link = doc.documentation_link.as_deref().unwrap_or(&doc.root_url);
    match link.find("://") {
        Some(i) => {
            let rest = &link[i + 3..];
            let host_end = rest.find('/').unwrap_or(rest.len());
            format!("{}{}", &link[..i + 3], &rest[..host_end])
        }
        None => "https://developers.google.com".into(),
    }
}
