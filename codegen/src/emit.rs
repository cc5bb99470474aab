//! Printing the lowered API as Rust tokens.
//!
//! Generated code names every outside item by a fully qualified path (`::std::…`, the runtime path)
//! so that no schema name can shadow it, and carries no transport logic: each call builds a
//! runtime `Request` and hands it to `Client::execute`.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::Options;
use crate::docs::clean;
use crate::ir::{
    Api, EnumDef, FieldDef, MaskDef, MethodDef, ParamDef, ResourceDef, StructDef, Ty, TypeDef,
    UNKNOWN_FIELDS, plain,
};
use crate::model::Document;

pub(crate) struct Emitter<'a> {
    pub doc: &'a Document,
    pub api: &'a Api,
    pub rt: TokenStream,
    pub opts: &'a Options,
    pub origin: String,
    pub inherent: bool,
}

/// An identifier, raw when it starts with `r#`.
/// Append a literal part of a path: a character as a `char` (clippy's `single_char_add_str`).
fn push_literal(lit: &str) -> Option<TokenStream> {
    let mut chars = lit.chars();
    match (chars.next(), chars.next()) {
        (None, _) => None,
        (Some(c), None) => Some(quote!(path.push(#c);)),
        _ => Some(quote!(path.push_str(#lit);)),
    }
}

pub(crate) fn ident(s: &str) -> Ident {
    match s.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(s, Span::call_site()),
    }
}

impl Emitter<'_> {
    fn doc_lines(&self, text: Option<&str>) -> Vec<String> {
        text.map(|t| clean(t, &self.origin)).unwrap_or_default()
    }

    fn doc_attrs(lines: &[String]) -> TokenStream {
        let attrs = lines.iter().map(|l| {
            let l = if l.is_empty() {
                String::new()
            } else {
                format!(" {l}")
            };
            quote!(#[doc = #l])
        });
        quote!(#(#attrs)*)
    }

    fn docs(&self, text: Option<&str>) -> TokenStream {
        Self::doc_attrs(&self.doc_lines(text))
    }

    pub fn emit(&self) -> TokenStream {
        let revision = self.doc.revision.clone().unwrap_or_default();
        let name = &self.doc.name;
        let version = &self.doc.version;
        let base = self.doc.base_url();
        let title = self.doc.title.clone().unwrap_or_else(|| name.clone());
        let rev_doc =
            format!(" Revision of the {title} discovery document this code was generated from.");
        let base_doc =
            " The default base URL of the API: its root URL joined with its service path.";
        let name_doc = format!(" The API's name and version, `{name}:{version}`.");
        let api_id = format!("{name}:{version}");
        let mut out = quote! {

            #[doc = #rev_doc]
            pub const DISCOVERY_REVISION: &str = #revision;
            #[doc = #name_doc]
            pub const API_ID: &str = #api_id;
            #[doc = #base_doc]
            pub const BASE_URL: &str = #base;
        };
        for t in &self.api.types {
            out.extend(match t {
                TypeDef::Struct(s) => self.emit_struct(s),
                TypeDef::Enum(e) => self.emit_enum(e),
                TypeDef::Alias {
                    name,
                    description,
                    ty,
                } => {
                    let n = ident(name);
                    let d = self.docs(description.as_deref());
                    let t = self.ty(ty);
                    quote!(#d pub type #n = #t;)
                }
            });
        }
        for m in &self.api.masks {
            out.extend(self.emit_mask(m));
        }
        for r in &self.api.resources {
            out.extend(self.emit_resource(r));
        }
        for m in &self.api.top_methods {
            out.extend(self.emit_call(m));
        }
        out.extend(self.emit_client_accessors());
        out
    }

    // ----- types -------------------------------------------------------------------------------

    pub(crate) fn ty(&self, t: &Ty) -> TokenStream {
        let rt = &self.rt;
        match t {
            Ty::String => quote!(String),
            Ty::Bool => quote!(bool),
            Ty::Num(n) => {
                let n = format_ident!("{}", n);
                quote!(#n)
            }
            Ty::I64Str => quote!(i64),
            Ty::U64Str => quote!(u64),
            Ty::Bytes => quote!(Vec<u8>),
            Ty::Any => quote!(#rt::serde_json::Value),
            Ty::Named(n) => {
                let n = ident(n);
                quote!(#n)
            }
            Ty::Vec(t) => {
                let t = self.ty(t);
                quote!(Vec<#t>)
            }
            Ty::Map(t) => {
                let t = self.ty(t);
                quote!(::std::collections::BTreeMap<String, #t>)
            }
            Ty::Mask(Some(m)) => {
                let m = ident(m);
                quote!(#rt::FieldMask<#m>)
            }
            Ty::Mask(None) => quote!(#rt::FieldMask<String>),
        }
    }

    /// Whether a type names a deprecated schema (directly or as an element).
    fn uses_deprecated(&self, t: &Ty) -> bool {
        match t {
            Ty::Named(n) => self
                .api
                .types
                .iter()
                .any(|d| matches!(d, TypeDef::Struct(s) if &s.name == n && s.deprecated)),
            Ty::Vec(t) | Ty::Map(t) => self.uses_deprecated(t),
            _ => false,
        }
    }

    /// Whether a type name is a generated struct.
    fn is_struct(&self, n: &str) -> bool {
        self.api
            .types
            .iter()
            .any(|d| matches!(d, TypeDef::Struct(s) if s.name == n))
    }

    /// Whether a type name is a generated open enum.
    fn is_enum(&self, n: &str) -> bool {
        self.api
            .types
            .iter()
            .any(|d| matches!(d, TypeDef::Enum(e) if e.name == n))
    }

    /// The runtime wire format for types whose JSON form differs from serde's default.
    fn wire(&self, t: &Ty) -> Option<TokenStream> {
        let rt = &self.rt;
        match t {
            Ty::I64Str => Some(quote!(#rt::wire::Int64)),
            Ty::U64Str => Some(quote!(#rt::wire::Uint64)),
            Ty::Bytes => Some(quote!(#rt::wire::Base64)),
            Ty::Vec(t) => self.wire(t).map(|w| quote!(#rt::wire::VecOf<#w>)),
            Ty::Map(t) => self.wire(t).map(|w| quote!(#rt::wire::MapOf<#w>)),
            _ => None,
        }
    }

    fn field_ty(&self, f: &FieldDef) -> TokenStream {
        let t = self.ty(&f.ty);
        if f.boxed { quote!(Box<#t>) } else { t }
    }

    /// Whether some method returns the type named `name`.
    fn is_response(&self, name: &str) -> bool {
        self.api
            .resources
            .iter()
            .flat_map(|r| &r.methods)
            .chain(&self.api.top_methods)
            .any(|m| m.response.as_deref() == Some(name))
    }

    fn emit_struct(&self, s: &StructDef) -> TokenStream {
        let rt = &self.rt;
        let name = ident(&s.name);
        let docs = self.docs(s.description.as_deref());
        let deprecated = s.deprecated.then(|| quote!(#[deprecated]));
        let any_deprecated = s.deprecated
            || s.fields
                .iter()
                .any(|f| f.deprecated || self.uses_deprecated(&f.ty));
        let allow_dep = any_deprecated.then(|| quote!(#[allow(deprecated)]));
        let unknown = format_ident!("{}", UNKNOWN_FIELDS);
        // A method's response type decodes through a plain function of its own crate, never a
        // generic the caller's crate would compile again (see `Client::execute_with`).
        let decode = self.is_response(&s.name).then(|| {
            quote! {
                /// Decodes a response body (used by the calls that return this type).
                #[doc(hidden)]
                #[inline(never)]
                pub fn decode_response(body: &[u8]) -> Result<Self, #rt::Error> {
                    #rt::decode(body)
                }
            }
        });

        let fields = s.fields.iter().map(|f| {
            let id = ident(&f.ident);
            let t = self.field_ty(f);
            let d = self.docs(f.description.as_deref());
            let dep = f.deprecated.then(|| quote!(#[deprecated]));
            quote!(#d #dep pub #id: Option<#t>,)
        });
        let setters = s.fields.iter().map(|f| self.setter(f));

        let ser = s.fields.iter().map(|f| {
            let id = ident(&f.ident);
            let json = &f.json;
            match self.wire(&f.ty) {
                None => quote! {
                    if let Some(v) = &self.#id {
                        map.serialize_entry(#json, v)?;
                    }
                },
                Some(w) => quote! {
                    if let Some(v) = &self.#id {
                        map.serialize_entry(#json, &#rt::wire::SerWith::<_, #w>::new(v))?;
                    }
                },
            }
        });
        // The library's own bodies: one plain function per type, keys escaped here.
        let to_json = s.fields.iter().map(|f| {
            let id = ident(&f.ident);
            let key = format!("{}:", serde_json::Value::String(f.json.clone()));
            let write = match self.wire(&f.ty) {
                None => quote!(#rt::json::ToJson::write_json(v, out);),
                Some(w) => quote!(<#w as #rt::wire::WireFormat<_>>::write_json(v, out);),
            };
            quote! {
                if let Some(v) = &self.#id {
                    #rt::json::key(out, #key);
                    #write
                }
            }
        });
        let de = s.fields.iter().map(|f| {
            let id = ident(&f.ident);
            let json = &f.json;
            // Structs (and lists of them) are read where they live: no moves of wide values.
            let in_place = |t: &Ty| !f.boxed && matches!(t, Ty::Named(n) if self.is_struct(n));
            // Strings and open enums: one look at the input for `null` or a string.
            let text = |t: &Ty| {
                !f.boxed
                    && match t {
                        Ty::String => true,
                        Ty::Named(n) => self.is_enum(n),
                        _ => false,
                    }
            };
            match (&f.ty, self.wire(&f.ty)) {
                (t, _) if in_place(t) => {
                    quote!(#json => map.next_value_seed(#rt::fill::Field(&mut self.#id))?,)
                }
                (Ty::Vec(t), _) if in_place(t) => {
                    quote!(#json => map.next_value_seed(#rt::fill::ListField(&mut self.#id))?,)
                }
                (Ty::Map(t), _) if in_place(t) => {
                    quote!(#json => map.next_value_seed(#rt::fill::MapField(&mut self.#id))?,)
                }
                (t, _) if text(t) => {
                    quote!(#json => map.next_value_seed(#rt::fill::TextField(&mut self.#id))?,)
                }
                (Ty::Bool, _) if !f.boxed => {
                    quote!(#json => map.next_value_seed(#rt::fill::BoolField(&mut self.#id))?,)
                }
                (_, None) => quote!(#json => self.#id = map.next_value()?,),
                (_, Some(w)) => {
                    let t = self.ty(&f.ty);
                    quote!(#json => self.#id = map.next_value::<Option<#rt::wire::DeWith<#t, #w>>>()?.map(|w| w.0),)
                }
            }
        });
        let expecting = format!("a {} JSON object", s.json_name);
        let keep_unknown = quote!(self.#unknown.insert(key.into_string(), map.next_value()?););
        let dispatch = if s.fields.is_empty() {
            keep_unknown
        } else {
            quote! {
                match key.as_str() {
                    #(#de)*
                    _ => {
                        #keep_unknown
                    }
                }
            }
        };
        let validate = self.emit_validate(s);
        let unknown_doc = " JSON fields this version of the client does not know, kept as the server wrote them so that a read-modify-write sends them back unchanged.";
        // An unknown member named like a known field is never written: the field counts.
        let known: Vec<&str> = s.fields.iter().map(|f| f.json.as_str()).collect();
        quote! {
            #docs
            #[derive(Clone, Debug, Default, PartialEq)]
            #[non_exhaustive]
            #deprecated
            #allow_dep
            pub struct #name {
                #(#fields)*
                #[doc = #unknown_doc]
                pub #unknown: #rt::UnknownFields,
            }

            #allow_dep
            impl #name {
                /// An empty value: every field unset.
                pub fn new() -> Self {
                    Default::default()
                }
                #(#setters)*
                #validate
                #decode
            }

            #allow_dep
            impl #rt::serde::Serialize for #name {
                fn serialize<S: #rt::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    use #rt::serde::ser::SerializeMap as _;
                    let mut map = serializer.serialize_map(None)?;
                    #(#ser)*
                    for (k, v) in self.#unknown.except(&[#(#known),*]) {
                        map.serialize_entry(k, v)?;
                    }
                    map.end()
                }
            }

            #allow_dep
            impl #rt::json::ToJson for #name {
                fn write_json(&self, out: &mut Vec<u8>) {
                    out.push(b'{');
                    #(#to_json)*
                    #rt::json::unknown(out, &self.#unknown, &[#(#known),*]);
                    out.push(b'}');
                }
            }

            #allow_dep
            impl<'de> #rt::serde::Deserialize<'de> for #name {
                fn deserialize<D: #rt::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    #rt::fill::deserialize(deserializer)
                }
            }

            #allow_dep
            impl #rt::fill::Fill for #name {
                const EXPECTING: &'static str = #expecting;
                fn fill<'de, A: #rt::serde::de::MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
                    while let Some(key) = map.next_key::<#rt::wire::Key<'de>>()? {
                        #dispatch
                    }
                    Ok(())
                }
            }
        }
    }

    fn setter(&self, f: &FieldDef) -> TokenStream {
        let id = ident(&f.ident);
        let set = format_ident!("set_{}", plain(&f.ident).trim_start_matches('_'));
        // rustdoc cannot link to a raw identifier.
        let doc = match f.ident.strip_prefix("r#") {
            Some(raw) => format!(" Sets the `{raw}` field."),
            None => format!(" Sets [`{0}`](Self::{0}).", f.ident),
        };
        let dep = f.deprecated.then(|| quote!(#[deprecated]));
        let wrap = |v: TokenStream| if f.boxed { quote!(Box::new(#v)) } else { v };
        let body_and_sig = match &f.ty {
            Ty::Vec(t) => {
                let t = self.ty(t);
                quote! {
                    pub fn #set<I>(mut self, v: I) -> Self
                    where I: IntoIterator, I::Item: Into<#t> {
                        self.#id = Some(v.into_iter().map(Into::into).collect());
                        self
                    }
                }
            }
            Ty::Map(t) => {
                let t = self.ty(t);
                quote! {
                    pub fn #set<I, K, V>(mut self, v: I) -> Self
                    where I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<#t> {
                        self.#id = Some(v.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
                        self
                    }
                }
            }
            t => {
                let t = self.ty(t);
                let v = wrap(quote!(v.into()));
                quote! {
                    pub fn #set(mut self, v: impl Into<#t>) -> Self {
                        self.#id = Some(#v);
                        self
                    }
                }
            }
        };
        quote!(#[doc = #doc] #dep #body_and_sig)
    }

    fn emit_validate(&self, s: &StructDef) -> Option<TokenStream> {
        let rt = &self.rt;
        let checks: Vec<TokenStream> = s
            .fields
            .iter()
            .filter_map(|f| {
                let max = Literal::usize_unsuffixed(f.max_items?);
                let id = ident(&f.ident);
                let json = &f.json;
                Some(quote!(#rt::check_max_items(#json, self.#id.as_ref().map_or(0, |v| v.len()), #max)?;))
            })
            .collect();
        if checks.is_empty() {
            return None;
        }
        let limits: Vec<String> = s
            .fields
            .iter()
            .filter_map(|f| f.max_items.map(|m| format!("`{}` ≤ {m}", f.json)))
            .collect();
        let doc = format!(
            " Checks the limits the API documents ({}) before anything is sent.",
            limits.join(", ")
        );
        Some(quote! {
            #[doc = #doc]
            pub fn validate(&self) -> Result<(), #rt::Error> {
                #(#checks)*
                Ok(())
            }
        })
    }

    fn emit_enum(&self, e: &EnumDef) -> TokenStream {
        let rt = &self.rt;
        let name = ident(&e.name);
        let mut doc_lines = self.doc_lines(e.description.as_deref());
        if doc_lines.is_empty() {
            let p = e.prefix.as_deref().unwrap_or("");
            doc_lines.push(format!("Values of the API's `{p}_*` enum."));
        }
        doc_lines.push(String::new());
        doc_lines.push(
            "Open enum: a value this version of the client does not know is kept as `UnknownValue` and sent back unchanged."
                .into(),
        );
        let docs = Self::doc_attrs(&doc_lines);
        let any_dep = e.variants.iter().any(|v| v.deprecated);
        let allow_dep = any_dep.then(|| quote!(#[allow(deprecated)]));
        let variants = e.variants.iter().map(|v| {
            let id = ident(&v.ident);
            let mut lines = vec![format!("`{}`", v.value)];
            let d = self.doc_lines(v.description.as_deref());
            if !d.is_empty() {
                lines.push(String::new());
                lines.extend(d);
            }
            let d = Self::doc_attrs(&lines);
            let dep = v.deprecated.then(|| quote!(#[deprecated]));
            quote!(#d #dep #id,)
        });
        let to_str = e.variants.iter().map(|v| {
            let id = ident(&v.ident);
            let s = &v.value;
            quote!(Self::#id => #s,)
        });
        let from_str = e.variants.iter().map(|v| {
            let id = ident(&v.ident);
            let s = &v.value;
            quote!(#s => Self::#id,)
        });
        let expecting = format!("a {} value", e.name);
        quote! {
            #docs
            #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum #name {
                #(#variants)*
                /// A value not known to this version of the client, kept verbatim.
                UnknownValue(String),
            }

            #allow_dep
            impl #name {
                /// The value as sent on the wire.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(#to_str)*
                        Self::UnknownValue(v) => v,
                    }
                }
            }

            #allow_dep
            impl From<&str> for #name {
                fn from(s: &str) -> Self {
                    match s {
                        #(#from_str)*
                        other => Self::UnknownValue(other.to_owned()),
                    }
                }
            }

            impl ::std::str::FromStr for #name {
                type Err = ::std::convert::Infallible;
                fn from_str(s: &str) -> Result<Self, Self::Err> {
                    Ok(Self::from(s))
                }
            }

            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            impl #rt::serde::Serialize for #name {
                fn serialize<S: #rt::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            impl #rt::json::ToJson for #name {
                fn write_json(&self, out: &mut Vec<u8>) {
                    #rt::json::string(out, self.as_str());
                }
            }

            impl<'de> #rt::serde::Deserialize<'de> for #name {
                fn deserialize<D: #rt::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    #rt::fill::text(deserializer)
                }
            }

            impl #rt::fill::Text for #name {
                const EXPECTING: &'static str = #expecting;
                fn from_json_str(v: &str) -> Self {
                    Self::from(v)
                }
            }
        }
    }

    fn emit_mask(&self, m: &MaskDef) -> TokenStream {
        let rt = &self.rt;
        let name = ident(&m.name);
        let doc = format!(
            " A field of [`{}`], for typed field masks (`personFields`, `updateMask`, `readMask`, ...).",
            m.target
        );
        let any_dep = m.fields.iter().any(|f| f.2);
        let allow_dep = any_dep.then(|| quote!(#[allow(deprecated)]));
        let variants = m.fields.iter().map(|(json, id, dep, _)| {
            let id = ident(id);
            let d = format!(" `{json}`");
            let dep = dep.then(|| quote!(#[deprecated]));
            quote!(#[doc = #d] #dep #id,)
        });
        let all = m.fields.iter().map(|(_, id, _, _)| {
            let id = ident(id);
            quote!(Self::#id,)
        });
        let to_str = m.fields.iter().map(|(json, id, _, _)| {
            let id = ident(id);
            quote!(Self::#id => #json,)
        });
        let from_str = m.fields.iter().map(|(json, id, _, _)| {
            let id = ident(id);
            quote!(#json => Some(Self::#id),)
        });
        let ro: Vec<TokenStream> = m
            .fields
            .iter()
            .filter(|f| f.3)
            .map(|(_, id, _, _)| {
                let id = ident(id);
                quote!(Self::#id)
            })
            .collect();
        let is_ro = if ro.is_empty() {
            quote!(false)
        } else {
            quote!(::std::matches!(self, #(#ro)|*))
        };
        let target = &m.target;
        quote! {
            #[doc = #doc]
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum #name {
                #(#variants)*
            }

            #allow_dep
            impl #name {
                /// Every field, in document order.
                pub const ALL: &'static [#name] = &[#(#all)*];

                /// Whether the document marks the field output only (it cannot be written).
                pub fn is_output_only(self) -> bool {
                    #is_ro
                }
            }

            #allow_dep
            impl #rt::MaskField for #name {
                const TARGET: &'static str = #target;
                fn as_str(&self) -> &str {
                    match self {
                        #(#to_str)*
                    }
                }
                fn from_path(path: &str) -> Option<Self> {
                    match path {
                        #(#from_str)*
                        _ => None,
                    }
                }
            }

            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(#rt::MaskField::as_str(self))
                }
            }
        }
    }

    // ----- resources and methods ---------------------------------------------------------------

    fn emit_resource(&self, r: &ResourceDef) -> TokenStream {
        let rt = &self.rt;
        let name = ident(&r.name);
        let doc = format!(" Methods of the `{}` resource.", r.path.join("."));
        let children = r.children.iter().map(|(acc, ty)| {
            let a = ident(acc);
            let t = ident(ty);
            let d = format!(" The `{}` sub-resource.", acc.trim_start_matches("r#"));
            quote! {
                #[doc = #d]
                pub fn #a(&self) -> #t<'a> {
                    #t { client: self.client }
                }
            }
        });
        let methods = r
            .methods
            .iter()
            .map(|m| self.method_fn(m, quote!(self.client), true));
        let calls = r.methods.iter().map(|m| self.emit_call(m));
        quote! {
            #[doc = #doc]
            #[derive(Clone, Copy, Debug)]
            pub struct #name<'a> {
                client: &'a #rt::Client,
            }

            impl<'a> #name<'a> {
                #(#children)*
                #(#methods)*
            }

            #(#calls)*
        }
    }

    /// The function that starts a call: positional parameters, then the body.
    fn method_fn(&self, m: &MethodDef, client: TokenStream, public: bool) -> TokenStream {
        let call = ident(&m.call_name);
        let f = ident(&m.fn_name);
        let mut args = Vec::new();
        let mut inits = Vec::new();
        for p in &m.params {
            let id = ident(&p.ident);
            if p.positional {
                let t = self.ty(&p.ty);
                if p.repeated {
                    args.push(quote!(#id: impl IntoIterator<Item = impl Into<#t>>));
                    inits.push(quote!(#id: #id.into_iter().map(Into::into).collect(),));
                } else {
                    args.push(quote!(#id: impl Into<#t>));
                    inits.push(quote!(#id: #id.into(),));
                }
            } else if p.repeated {
                inits.push(quote!(#id: Vec::new(),));
            } else {
                inits.push(quote!(#id: None,));
            }
        }
        if let Some(req) = &m.request {
            let t = ident(req);
            args.push(quote!(body: #t));
            inits.push(quote!(body,));
        }
        let docs = self.method_docs(m, true);
        let dep = m.deprecated.then(|| quote!(#[deprecated]));
        let vis = public.then(|| quote!(pub));
        // The document's required parameters are positional, however many there are.
        let many = (args.len() > 6).then(|| quote!(#[allow(clippy::too_many_arguments)]));
        quote! {
            #docs
            #dep
            #many
            #vis fn #f(&self, #(#args),*) -> #call {
                #call {
                    client: Clone::clone(#client),
                    #(#inits)*
                    fields: None,
                    quota_user: None,
                }
            }
        }
    }

    fn method_docs(&self, m: &MethodDef, with_example: bool) -> TokenStream {
        let mut lines = self.doc_lines(m.description.as_deref());
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!("Sends `{} {}`.", m.http_method, m.path));
        if let Some(ex) = with_example.then(|| self.example(m)).flatten() {
            {
                lines.push(String::new());
                lines.push("# Example".into());
                lines.push(String::new());
                lines.push("```no_run".into());
                lines.extend(ex);
                lines.push("```".into());
            }
        }
        Self::doc_attrs(&lines)
    }

    fn example(&self, m: &MethodDef) -> Option<Vec<String>> {
        let krate = self.opts.crate_path.as_deref()?;
        let mut uses = Vec::new();
        let mut chain = vec!["client".to_string()];
        let res = self.resource_chain(m);
        chain.extend(res.iter().map(|a| format!(".{a}()")));
        let mut args = Vec::new();
        let mut vars = m.flat_vars.iter();
        for p in m.params.iter().filter(|p| p.positional) {
            args.push(self.example_value(p, &mut vars, &mut uses, krate));
        }
        let mut pre = Vec::new();
        if let Some(req) = &m.request {
            pre.push(format!("let body = {krate}::{req}::new();"));
            args.push("body".into());
        }
        chain.push(format!(".{}({})", m.fn_name, args.join(", ")));
        let typed_mask = m.params.iter().find_map(|p| match &p.ty {
            Ty::Mask(Some(mask)) if !p.positional => Some((p, mask)),
            _ => None,
        });
        if let Some((p, mask)) = typed_mask {
            let first = self
                .api
                .masks
                .iter()
                .find(|x| &x.name == mask)?
                .fields
                .iter()
                .find(|f| !f.2)?
                .1
                .clone();
            uses.push(format!("use {krate}::{mask};"));
            chain.push(format!(".{}([{mask}::{first}])", p.ident));
        }
        chain.push(".send()".into());
        chain.push(".await?;".into());
        let mut out = vec![format!(
            "# async fn example(client: {krate}::Client) -> Result<(), {krate}::Error> {{"
        )];
        if !self.inherent {
            out.push(format!("use {krate}::{} as _;", self.api.trait_name));
        }
        uses.sort();
        uses.dedup();
        out.extend(uses);
        out.extend(pre);
        let verb = if m.response.is_some() {
            "let response = "
        } else {
            ""
        };
        out.push(format!("{verb}{}", chain[0]));
        for c in &chain[1..] {
            out.push(format!("    {c}"));
        }
        if m.response.is_some() {
            out.push("# let _ = response;".into());
        }
        out.push("# Ok(())".into());
        out.push("# }".into());
        Some(out)
    }

    fn example_value(
        &self,
        p: &ParamDef,
        vars: &mut std::slice::Iter<'_, String>,
        uses: &mut Vec<String>,
        krate: &str,
    ) -> String {
        let placeholder = |name: &str| crate::naming::snake_plain(name).to_ascii_uppercase();
        let one = match &p.ty {
            Ty::String if p.in_path => {
                let var = vars.next().cloned().unwrap_or_else(|| p.json.clone());
                match &p.pattern {
                    Some(pat) if pat.contains("[^/]+") => {
                        let body = pat.trim_start_matches('^').trim_end_matches('$');
                        let mut s = String::new();
                        let mut rest = body;
                        let mut n = 0;
                        while let Some(i) = rest.find("[^/]+") {
                            s.push_str(&rest[..i]);
                            let seg = rest[..i]
                                .trim_end_matches('/')
                                .rsplit('/')
                                .next()
                                .unwrap_or("");
                            s.push_str(&placeholder(&format!(
                                "{}_id",
                                if n == 0 && !seg.is_empty() { seg } else { &var }
                            )));
                            rest = &rest[i + 5..];
                            n += 1;
                        }
                        s.push_str(rest);
                        if s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "/_-.".contains(c))
                        {
                            format!("{s:?}")
                        } else {
                            format!("{:?}", placeholder(&var))
                        }
                    }
                    _ => format!("{:?}", placeholder(&var)),
                }
            }
            Ty::String => format!("{:?}", placeholder(&p.json)),
            Ty::Bool => "true".into(),
            Ty::Num(_) | Ty::I64Str | Ty::U64Str => "1".into(),
            Ty::Named(n) => {
                let first = self.api.types.iter().find_map(|t| match t {
                    TypeDef::Enum(e) if &e.name == n => e
                        .variants
                        .iter()
                        .find(|v| !v.deprecated && !v.value.ends_with("UNSPECIFIED"))
                        .map(|v| v.ident.clone()),
                    _ => None,
                });
                match first {
                    Some(v) => {
                        uses.push(format!("use {krate}::{n};"));
                        format!("{n}::{v}")
                    }
                    None => format!("{n}::from({:?})", placeholder(&p.json)),
                }
            }
            _ => format!("{:?}", placeholder(&p.json)),
        };
        if p.repeated { format!("[{one}]") } else { one }
    }

    pub(crate) fn resource_chain(&self, m: &MethodDef) -> Vec<String> {
        // Find the resource holding this method and walk up through parents.
        let mut chain = Vec::new();
        let mut target = None;
        for r in &self.api.resources {
            if r.methods.iter().any(|x| x.call_name == m.call_name) {
                target = Some(r.name.clone());
            }
        }
        while let Some(t) = target.take() {
            if let Some((acc, _)) = self.api.top_resources.iter().find(|(_, n)| *n == t) {
                chain.push(acc.clone());
                break;
            }
            for r in &self.api.resources {
                if let Some((acc, _)) = r.children.iter().find(|(_, n)| *n == t) {
                    chain.push(acc.clone());
                    target = Some(r.name.clone());
                }
            }
        }
        chain.reverse();
        chain
    }

    fn emit_call(&self, m: &MethodDef) -> TokenStream {
        let rt = &self.rt;
        let call = ident(&m.call_name);
        let doc = format!(
            " A `{}` call: set optional parameters, then `send().await` it.",
            m.id
        );
        let mut fields = Vec::new();
        let mut setters = Vec::new();
        for p in &m.params {
            let id = ident(&p.ident);
            let t = self.ty(&p.ty);
            let pd = self.docs(p.description.as_deref());
            let dep = p.deprecated.then(|| quote!(#[deprecated]));
            if p.positional {
                if p.repeated {
                    fields.push(quote!(#pd #id: Vec<#t>,));
                } else {
                    fields.push(quote!(#pd #id: #t,));
                }
                continue;
            }
            if p.repeated {
                fields.push(quote!(#pd #id: Vec<#t>,));
                setters.push(quote! {
                    #pd
                    #dep
                    pub fn #id<I>(mut self, v: I) -> Self
                    where I: IntoIterator, I::Item: Into<#t> {
                        self.#id = v.into_iter().map(Into::into).collect();
                        self
                    }
                });
            } else {
                fields.push(quote!(#pd #id: Option<#t>,));
                setters.push(quote! {
                    #pd
                    #dep
                    pub fn #id(mut self, v: impl Into<#t>) -> Self {
                        self.#id = Some(v.into());
                        self
                    }
                });
            }
        }
        let body_field = m.request.as_ref().map(|r| {
            let t = ident(r);
            quote!(body: #t,)
        });
        let body_accessors = m.request.as_ref().map(|r| {
            let t = ident(r);
            quote! {
                /// The request body.
                pub fn body(&self) -> &#t {
                    &self.body
                }
                /// The request body, to change it before sending.
                pub fn body_mut(&mut self) -> &mut #t {
                    &mut self.body
                }
            }
        });

        // Request building.
        let method_id = &m.id;
        let verb = format_ident!("{}", pascal_verb(&m.http_method));
        // Path parameters first (their pattern, then the path itself, which refuses `.` and `..`
        // segments), so that a bad resource name is the error reported whatever else is wrong.
        let mut path_checks = Vec::new();
        for p in m.params.iter().filter(|p| p.in_path) {
            let id = ident(&p.ident);
            let json = &p.json;
            let val = self.str_ref(&p.ty, quote!(&self.#id));
            match &p.pattern {
                Some(pat) => path_checks.push(quote!(#rt::check_pattern(#json, #val, #pat)?;)),
                None => path_checks.push(quote!(#rt::check_not_empty(#json, #val)?;)),
            }
        }
        let mut checks = Vec::new();
        for p in m.params.iter().filter(|p| p.repeated) {
            if let Some(max) = p.max_items {
                let id = ident(&p.ident);
                let json = &p.json;
                let max = Literal::usize_unsuffixed(max);
                checks.push(quote!(#rt::check_max_items(#json, self.#id.len(), #max)?;));
            }
        }
        if m.request_validates {
            checks.push(quote!(self.body.validate()?;));
        }
        let path_expr = self.path_expr(m);
        let mut query = Vec::new();
        for p in m.params.iter().filter(|p| !p.in_path) {
            let id = ident(&p.ident);
            let json = &p.json;
            if p.repeated {
                let v = self.to_query_string(&p.ty, quote!(v));
                query.push(quote!(for v in &self.#id { request.query(#json, #v); }));
            } else if p.positional {
                let v = self.to_query_string(&p.ty, quote!(&self.#id));
                query.push(quote!(request.query(#json, #v);));
            } else {
                let v = self.to_query_string(&p.ty, quote!(v));
                query.push(quote!(if let Some(v) = &self.#id { request.query(#json, #v); }));
            }
        }
        let body = m
            .request
            .as_ref()
            .map(|_| quote!(request.write_json_body(&self.body);));
        let (ret, exec) = match &m.response {
            Some(r) => {
                let t = ident(r);
                (
                    quote!(#t),
                    quote!(client.execute_with(request, #t::decode_response).await),
                )
            }
            None => (quote!(()), quote!(client.execute_empty(request).await)),
        };
        let send_docs = self.method_docs(m, false);
        let dep = m.deprecated.then(|| quote!(#[deprecated]));
        let list = m.list.as_ref().map(|l| {
            let tok = ident(&l.page_token_ident);
            let set_token = if l.page_token_required { quote!(token) } else { quote!(Some(token)) };
            let page_ty = ident(m.response.as_ref().expect("list methods have a response"));
            let items = l.items.as_ref().map(|(field, item_ty)| {
                let f = ident(field);
                let it = self.ty(item_ty);
                quote! {
                    /// Every item of every page, fetching pages as the stream is polled.
                    pub fn by_item(self) -> impl #rt::Stream<Item = Result<#it, #rt::Error>> + Send + Unpin + 'static {
                        #rt::paginate::items(self.by_page(), |page: #page_ty| page.#f.unwrap_or_default())
                    }
                }
            });
            quote! {
                /// Every page, following `nextPageToken` until the last page.
                pub fn by_page(self) -> impl #rt::Stream<Item = Result<#page_ty, #rt::Error>> + Send + Unpin + 'static {
                    #rt::paginate::pages(self, |mut call: Self, token: Option<String>| {
                        if let Some(token) = token {
                            call.#tok = #set_token;
                        }
                        async move {
                            let page = call.send().await?;
                            let next = page.next_page_token.clone();
                            Ok((page, next))
                        }
                    })
                }
                #items
            }
        });
        quote! {
            #[doc = #doc]
            #[derive(Clone, Debug)]
            #[must_use = "a call does nothing until `send().await`"]
            pub struct #call {
                client: #rt::Client,
                #(#fields)*
                #body_field
                fields: Option<String>,
                quota_user: Option<String>,
            }

            impl #call {
                #(#setters)*
                /// Selector specifying which fields to include in a partial response.
                pub fn fields(mut self, v: impl Into<String>) -> Self {
                    self.fields = Some(v.into());
                    self
                }
                /// Quota is charged to this user: any string, at most 40 characters.
                pub fn quota_user(mut self, v: impl Into<String>) -> Self {
                    self.quota_user = Some(v.into());
                    self
                }
                #body_accessors

                /// Checks the parameters and builds the request without sending it.
                pub fn request(&self) -> Result<#rt::Request, #rt::Error> {
                    #(#path_checks)*
                    let path = #path_expr;
                    #(#checks)*
                    let mut request = #rt::Request::new(#rt::HttpMethod::#verb, BASE_URL, path, #method_id);
                    #(#query)*
                    if let Some(v) = &self.fields { request.query("fields", v.as_str()); }
                    if let Some(v) = &self.quota_user { request.query("quotaUser", v.as_str()); }
                    #body
                    Ok(request)
                }

                #send_docs
                #dep
                pub async fn send(self) -> Result<#ret, #rt::Error> {
                    let (client, request) = self.into_request()?;
                    #exec
                }

                /// The client and the request; the call itself (with its typed body) is dropped
                /// here, before anything is sent: the serialized body is all a retry needs.
                #[inline]
                fn into_request(self) -> Result<(#rt::Client, #rt::Request), #rt::Error> {
                    let request = self.request()?;
                    Ok((self.client, request))
                }

                #list
            }
        }
    }

    /// An expression of type `&str` (or `&String`) for a parameter value reference `v`.
    fn str_ref(&self, t: &Ty, v: TokenStream) -> TokenStream {
        match t {
            Ty::String | Ty::Named(_) => self.to_query_string(t, v),
            _ => {
                let owned = self.to_query_string(t, v);
                quote!(&#owned)
            }
        }
    }

    /// A query value (`&str` or `String`) for a parameter value reference `v`.
    fn to_query_string(&self, t: &Ty, v: TokenStream) -> TokenStream {
        let rt = &self.rt;
        match t {
            Ty::String => quote!(String::as_str(#v)),
            Ty::Named(name) => {
                let n = ident(name);
                quote!(#n::as_str(#v))
            }
            Ty::Bytes => quote!(#rt::wire::bytes_param(#v)),
            _ => quote!(ToString::to_string(#v)),
        }
    }

    fn path_expr(&self, m: &MethodDef) -> TokenStream {
        let rt = &self.rt;
        let mut parts = Vec::new();
        let mut rest = m.path.as_str();
        while let Some(i) = rest.find('{') {
            let Some(j) = rest[i..].find('}') else { break };
            let lit = &rest[..i];
            parts.extend(push_literal(lit));
            let var = &rest[i + 1..i + j];
            let (reserved, name) = match var.strip_prefix('+') {
                Some(n) => (true, n),
                None => (false, var),
            };
            if let Some(p) = m.params.iter().find(|p| p.json == name) {
                let id = ident(&p.ident);
                let val = self.str_ref(&p.ty, quote!(&self.#id));
                let json = &p.json;
                parts.push(quote!(#rt::push_path_param(&mut path, #json, #val, #reserved)?;));
            }
            rest = &rest[i + j + 1..];
        }
        if !rest.is_empty() {
            if parts.is_empty() {
                return quote!(String::from(#rest));
            }
            parts.extend(push_literal(rest));
        }
        quote!({
            let mut path = String::new();
            #(#parts)*
            path
        })
    }

    fn emit_client_accessors(&self) -> TokenStream {
        let rt = &self.rt;
        let accessors: Vec<TokenStream> = self
            .api
            .top_resources
            .iter()
            .map(|(acc, ty)| {
                let a = ident(acc);
                let t = ident(ty);
                let d = format!(" The `{}` resource.", acc.trim_start_matches("r#"));
                (d, a, t)
            })
            .map(|(d, a, t)| {
                let sig = quote!(fn #a(&self) -> #t<'_>);
                let body = quote!({ #t { client: self } });
                if self.inherent {
                    quote!(#[doc = #d] pub #sig #body)
                } else {
                    quote!(#[doc = #d] #sig #body)
                }
            })
            .collect();
        let tops: Vec<TokenStream> = self
            .api
            .top_methods
            .iter()
            .map(|m| self.method_fn(m, quote!(self), self.inherent))
            .collect();
        if self.api.top_resources.is_empty() && self.api.top_methods.is_empty() {
            quote!()
        } else if self.inherent {
            quote! {
                impl #rt::Client {
                    #(#accessors)*
                    #(#tops)*
                }
            }
        } else {
            let tr = ident(&self.api.trait_name);
            let d = format!(
                " Entry points of the `{}` API on the runtime client.",
                self.doc.name
            );
            let sigs = self.api.top_resources.iter().map(|(acc, ty)| {
                let a = ident(acc);
                let t = ident(ty);
                let d = format!(" The `{}` resource.", acc.trim_start_matches("r#"));
                quote!(#[doc = #d] fn #a(&self) -> #t<'_>;)
            });
            let top_sigs = self.api.top_methods.iter().map(|m| {
                let call = ident(&m.call_name);
                let f = ident(&m.fn_name);
                let mut args = Vec::new();
                for p in m.params.iter().filter(|p| p.positional) {
                    let id = ident(&p.ident);
                    let t = self.ty(&p.ty);
                    if p.repeated {
                        args.push(quote!(#id: impl IntoIterator<Item = impl Into<#t>>));
                    } else {
                        args.push(quote!(#id: impl Into<#t>));
                    }
                }
                if let Some(req) = &m.request {
                    let t = ident(req);
                    args.push(quote!(body: #t));
                }
                let d = self.method_docs(m, false);
                let many = (args.len() > 6).then(|| quote!(#[allow(clippy::too_many_arguments)]));
                quote!(#d #many fn #f(&self, #(#args),*) -> #call;)
            });
            quote! {
                #[doc = #d]
                pub trait #tr {
                    #(#sigs)*
                    #(#top_sigs)*
                }
                impl #tr for #rt::Client {
                    #(#accessors)*
                    #(#tops)*
                }
            }
        }
    }
}

fn pascal_verb(v: &str) -> String {
    let mut s = v.to_ascii_lowercase();
    if let Some(f) = s.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    s
}
