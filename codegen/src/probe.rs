//! Path probes: for every method with path parameters, the request its call builder makes with
//! each path parameter set to one given value. Tests use them to prove, for whatever methods a
//! document has, that no path parameter can address another endpoint (`people/..`). Generated as
//! a file of its own, so the library a user builds does not carry it.

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit::{Emitter, ident};
use crate::ir::{MethodDef, Ty};

impl Emitter<'_> {
    /// `pub fn path_probes(client, value) -> Vec<(method id, Result<Request, Error>)>`.
    pub(crate) fn emit_path_probes(&self) -> TokenStream {
        let rt = &self.rt;
        let mut probes = Vec::new();
        let mut skipped = Vec::new();
        let top = self.api.top_methods.iter().map(|m| (Vec::new(), m));
        let nested = self
            .api
            .resources
            .iter()
            .flat_map(|r| r.methods.iter().map(move |m| (self.resource_chain(m), m)));
        for (chain, m) in top.chain(nested) {
            if !m.params.iter().any(|p| p.in_path) {
                continue;
            }
            match self.probe_call(&chain, m) {
                Some(call) => {
                    let id = &m.id;
                    probes.push(quote!((#id, #call.request()),));
                }
                None => skipped.push(m.id.clone()),
            }
        }
        let skipped_doc = format!(
            " Methods left out (a path parameter that is not a string): {:?}.",
            skipped
        );
        quote! {
            /// For every method with path parameters, its id and the request its call builder
            /// makes with each path parameter set to `value` (required query parameters empty,
            /// the body empty).
            #[doc = #skipped_doc]
            #[allow(deprecated, clippy::all)]
            pub fn path_probes(
                client: &#rt::Client,
                value: &str,
            ) -> Vec<(&'static str, Result<#rt::Request, #rt::Error>)> {
                vec![#(#probes)*]
            }
        }
    }

    /// `client.a().b().f(args…)` with every path parameter set to `value`; `None` when a path
    /// parameter is not a string.
    fn probe_call(&self, chain: &[String], m: &MethodDef) -> Option<TokenStream> {
        let mut args = Vec::new();
        for p in m.params.iter().filter(|p| p.positional) {
            let t = self.ty(&p.ty);
            args.push(match (p.in_path, &p.ty, p.repeated) {
                (true, Ty::String, false) => quote!(value),
                (true, _, _) => return None,
                (false, _, true) => quote!(Vec::<#t>::new()),
                (false, Ty::String, false) => quote!(String::from("x")),
                (false, _, false) => quote!(<#t as Default>::default()),
            });
        }
        if m.request.is_some() {
            args.push(quote!(Default::default()));
        }
        let chain = chain.iter().map(|a| {
            let a = ident(a);
            quote!(.#a())
        });
        let f = ident(&m.fn_name);
        Some(quote!(client #(#chain)* .#f(#(#args),*)))
    }
}
