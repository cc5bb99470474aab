//! Lowering a discovery document to an intermediate representation that the emitters print.
//!
//! Everything that needs judgement happens here, once: Rust names for every schema, inline type,
//! enum, field, resource and method; which field masks name which schema's fields; which fields
//! need `Box` to break `$ref` cycles; which limits the descriptions state exactly; which methods
//! are paginated lists.

use std::collections::{BTreeMap, BTreeSet};

use crate::Error;
use crate::model::{Document, Method, Schema};
use crate::naming::{Namer, pascal, snake, snake_plain};

/// A Rust type of a field or parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// `String`.
    String,
    /// `bool`.
    Bool,
    /// A number-valued primitive: `i32`, `u32`, `i64`, `f32`, `f64`.
    Num(&'static str),
    /// `i64` carried as a JSON string (`format: int64`).
    I64Str,
    /// `u64` carried as a JSON string (`format: uint64`).
    U64Str,
    /// `Vec<u8>` carried as base64 (`format: byte`).
    Bytes,
    /// Any JSON value.
    Any,
    /// A generated type, by Rust name.
    Named(String),
    /// `Vec<T>`.
    Vec(Box<Ty>),
    /// `BTreeMap<String, T>`.
    Map(Box<Ty>),
    /// A field mask; typed with the named field enum when its target schema is known.
    Mask(Option<String>),
}

/// A generated type definition.
#[derive(Debug, Clone)]
pub enum TypeDef {
    /// A struct from an object schema.
    Struct(StructDef),
    /// An open string enum.
    Enum(EnumDef),
    /// A type alias for a top-level array, map, primitive or `any` schema.
    Alias {
        /// Rust name.
        name: String,
        /// Doc lines source.
        description: Option<String>,
        /// Aliased type.
        ty: Ty,
    },
}

/// A struct.
#[derive(Debug, Clone)]
pub struct StructDef {
    /// Rust name.
    pub name: String,
    /// Schema id or inline path, for docs and error messages.
    pub json_name: String,
    /// Description.
    pub description: Option<String>,
    /// Deprecated schema.
    pub deprecated: bool,
    /// Fields in document order (sorted by JSON name).
    pub fields: Vec<FieldDef>,
}

/// A struct field.
#[derive(Debug, Clone)]
pub struct FieldDef {
    /// JSON name.
    pub json: String,
    /// Rust identifier (may be raw).
    pub ident: String,
    /// Type (always wrapped in `Option` in the struct).
    pub ty: Ty,
    /// Boxed to break a cycle.
    pub boxed: bool,
    /// Description.
    pub description: Option<String>,
    /// Deprecated.
    pub deprecated: bool,
    /// Output only.
    pub read_only: bool,
    /// Maximum number of items, when the description states one exactly.
    pub max_items: Option<usize>,
}

/// An open enum.
#[derive(Debug, Clone)]
pub struct EnumDef {
    /// Rust name.
    pub name: String,
    /// Description (from the first place it was seen).
    pub description: Option<String>,
    /// Variants in document order.
    pub variants: Vec<VariantDef>,
    /// Common value prefix stripped from variant names (`READ_SOURCE_TYPE_`), if any.
    pub prefix: Option<String>,
}

/// An enum variant.
#[derive(Debug, Clone)]
pub struct VariantDef {
    /// Wire value.
    pub value: String,
    /// Rust identifier.
    pub ident: String,
    /// Description.
    pub description: Option<String>,
    /// Deprecated value.
    pub deprecated: bool,
}

/// An enum of a schema's fields, for typed field masks.
#[derive(Debug, Clone)]
pub struct MaskDef {
    /// Rust name (`PersonField`).
    pub name: String,
    /// Rust name of the target struct.
    pub target: String,
    /// Fields: (json name, variant ident, deprecated, output only).
    pub fields: Vec<(String, String, bool, bool)>,
}

/// A resource.
#[derive(Debug, Clone)]
pub struct ResourceDef {
    /// JSON names from the root.
    pub path: Vec<String>,
    /// Rust type name (`PeopleConnectionsResource`).
    pub name: String,
    /// Accessor on the parent (`connections`).
    pub accessor: String,
    /// Methods.
    pub methods: Vec<MethodDef>,
    /// Child resources: (accessor, type name).
    pub children: Vec<(String, String)>,
}

/// A method.
#[derive(Debug, Clone)]
pub struct MethodDef {
    /// Discovery id.
    pub id: String,
    /// Function name on the resource.
    pub fn_name: String,
    /// Call builder type name.
    pub call_name: String,
    /// HTTP verb, upper case.
    pub http_method: String,
    /// Path template (`v1/{+resourceName}`).
    pub path: String,
    /// Description.
    pub description: Option<String>,
    /// Deprecated.
    pub deprecated: bool,
    /// Parameters: positional ones first in `parameterOrder`, then the rest sorted.
    pub params: Vec<ParamDef>,
    /// Request body type.
    pub request: Option<String>,
    /// Whether the request body type has a `validate` method.
    pub request_validates: bool,
    /// Response type.
    pub response: Option<String>,
    /// Pagination, when the method is a list.
    pub list: Option<ListInfo>,
    /// OAuth scopes.
    pub scopes: Vec<String>,
    /// Variables of the flat path, for example values (`peopleId`).
    pub flat_vars: Vec<String>,
}

/// A method parameter.
#[derive(Debug, Clone)]
pub struct ParamDef {
    /// JSON name.
    pub json: String,
    /// Rust identifier.
    pub ident: String,
    /// Type of one value.
    pub ty: Ty,
    /// Repeated.
    pub repeated: bool,
    /// Positional (required).
    pub positional: bool,
    /// In the path.
    pub in_path: bool,
    /// Pattern from the document.
    pub pattern: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Deprecated.
    pub deprecated: bool,
    /// Maximum number of values, when the description states one exactly.
    pub max_items: Option<usize>,
}

/// Pagination info for list methods.
#[derive(Debug, Clone)]
pub struct ListInfo {
    /// Identifier of the page token parameter field.
    pub page_token_ident: String,
    /// The page token is a required (positional, non-`Option`) parameter.
    pub page_token_required: bool,
    /// The response's array field holding the items: (field ident, item type).
    pub items: Option<(String, Ty)>,
}

/// The whole lowered API.
#[derive(Debug, Clone)]
pub struct Api {
    /// Types in emission order.
    pub types: Vec<TypeDef>,
    /// Field enums for masks.
    pub masks: Vec<MaskDef>,
    /// Resources, depth first.
    pub resources: Vec<ResourceDef>,
    /// Top-level methods.
    pub top_methods: Vec<MethodDef>,
    /// Top-level resources: (accessor, type name).
    pub top_resources: Vec<(String, String)>,
    /// Name of the extension trait for foreign runtimes (`DriveApi`).
    pub trait_name: String,
}

/// Names of every generated field, kept out of user data (`unknown_fields`).
pub const UNKNOWN_FIELDS: &str = "unknown_fields";

/// Prelude names the generated code uses unqualified; a schema with one of these names is renamed.
const PRELUDE: &[&str] = &[
    "BTreeMap",
    "Box",
    "Clone",
    "Default",
    "Err",
    "From",
    "Into",
    "IntoIterator",
    "None",
    "Ok",
    "Option",
    "Result",
    "Send",
    "Some",
    "String",
    "ToString",
    "Vec",
];

/// Method names on call builders that parameters must not take.
const CALL_RESERVED: &[&str] = &[
    "send",
    "by_page",
    "by_item",
    "fields",
    "quota_user",
    "client",
    "body",
    "request",
];

struct Lowerer<'a> {
    doc: &'a Document,
    namer: Namer,
    schema_names: BTreeMap<String, String>,
    types: Vec<TypeDef>,
    enums: Vec<EnumDef>,
    enum_index: BTreeMap<Vec<String>, usize>,
    mask_targets: BTreeMap<String, String>,
    masks: BTreeMap<String, MaskDef>,
}

/// Lower a document.
pub fn lower(doc: &Document) -> Result<Api, Error> {
    let mut l = Lowerer {
        doc,
        namer: Namer::with_reserved(PRELUDE),
        schema_names: BTreeMap::new(),
        types: Vec::new(),
        enums: Vec::new(),
        enum_index: BTreeMap::new(),
        mask_targets: BTreeMap::new(),
        masks: BTreeMap::new(),
    };
    for id in doc.schemas.keys() {
        let name = l.namer.unique(&pascal(id));
        l.schema_names.insert(id.clone(), name);
    }
    l.find_mask_targets()?;
    for (id, schema) in &doc.schemas {
        l.lower_named(id, schema)?;
    }
    let mut resources = Vec::new();
    let mut top_ns = Namer::default();
    let mut top_methods = Vec::new();
    for (mname, m) in &doc.methods {
        top_methods.push(l.lower_method(&[], mname, m, &mut top_ns)?);
    }
    let mut top_resources = Vec::new();
    for (rname, r) in &doc.resources {
        let accessor = top_ns.unique(&snake(rname));
        let name = l.lower_resource(
            std::slice::from_ref(rname),
            r,
            accessor.clone(),
            &mut resources,
        )?;
        top_resources.push((accessor, name));
    }
    let trait_name = l.namer.unique(&format!("{}Api", pascal(&doc.name)));
    let mut api = Api {
        types: Vec::new(),
        masks: l.masks.into_values().collect(),
        resources,
        top_methods,
        top_resources,
        trait_name,
    };
    api.masks.sort_by(|a, b| a.name.cmp(&b.name));
    let mut types = l.types;
    types.extend(l.enums.into_iter().map(TypeDef::Enum));
    box_cycles(&mut types);
    api.types = types;
    Ok(api)
}

impl Lowerer<'_> {
    fn lower_named(&mut self, id: &str, s: &Schema) -> Result<(), Error> {
        let name = self.schema_names[id].clone();
        let path = format!("schemas.{id}");
        if s.reference.is_some() {
            let ty = self.lower_ty(s, &name, &path, id, "")?;
            self.types.push(TypeDef::Alias {
                name,
                description: s.description.clone(),
                ty,
            });
            return Ok(());
        }
        match s.ty.as_deref() {
            Some("object") | None
                if !s.properties.is_empty() || s.additional_properties.is_none() =>
            {
                let def = self.lower_struct(name, id.to_string(), s, &path, id)?;
                self.types.push(TypeDef::Struct(def));
            }
            Some("string") if s.is_enum() => {
                self.lower_enum(s, &name, Some(name.clone()))?;
            }
            _ => {
                let ty = self.lower_ty_inner(s, &name, &path, id, "", true)?;
                self.types.push(TypeDef::Alias {
                    name,
                    description: s.description.clone(),
                    ty,
                });
            }
        }
        Ok(())
    }

    fn lower_struct(
        &mut self,
        name: String,
        json_name: String,
        s: &Schema,
        path: &str,
        schema_id: &str,
    ) -> Result<StructDef, Error> {
        let mut fields = Vec::new();
        let idents = field_idents(s.properties.keys());
        for (json, p) in &s.properties {
            let ppath = format!("{path}.properties.{json}");
            let ctx = format!("{name}{}", pascal(json));
            let ty = self.lower_ty(p, &ctx, &ppath, schema_id, json)?;
            fields.push(FieldDef {
                json: json.clone(),
                ident: idents[json].clone(),
                ty,
                boxed: false,
                description: p.description.clone(),
                deprecated: p.deprecated,
                read_only: p.read_only
                    || p.description
                        .as_deref()
                        .is_some_and(|d| d.starts_with("Output only")),
                max_items: if p.ty.as_deref() == Some("array") || p.additional_properties.is_some()
                {
                    stated_limit(p.description.as_deref())
                } else {
                    None
                },
            });
        }
        Ok(StructDef {
            name,
            json_name,
            description: s.description.clone(),
            deprecated: s.deprecated,
            fields,
        })
    }

    /// Lower a property type; `ctx` names inline types; `owner`/`prop` key mask targets.
    fn lower_ty(
        &mut self,
        s: &Schema,
        ctx: &str,
        path: &str,
        owner: &str,
        prop: &str,
    ) -> Result<Ty, Error> {
        if s.format.as_deref() == Some("google-fieldmask") {
            let key = format!("{owner}.{prop}");
            return Ok(Ty::Mask(self.mask_for(&key)));
        }
        self.lower_ty_inner(s, ctx, path, owner, prop, false)
    }

    fn lower_ty_inner(
        &mut self,
        s: &Schema,
        ctx: &str,
        path: &str,
        owner: &str,
        prop: &str,
        top: bool,
    ) -> Result<Ty, Error> {
        if let Some(r) = &s.reference {
            return match self.schema_names.get(r) {
                Some(n) => Ok(Ty::Named(n.clone())),
                None => Err(Error::at(
                    format!("{path}.$ref"),
                    format!("unknown schema `{r}`"),
                )),
            };
        }
        let ty = s.ty.as_deref().unwrap_or("any");
        Ok(match (ty, s.format.as_deref()) {
            ("string", _) if s.enum_values.is_some() => Ty::Named(self.lower_enum(s, ctx, None)?),
            ("string", Some("int64")) => Ty::I64Str,
            ("string", Some("uint64")) => Ty::U64Str,
            ("string", Some("byte")) => Ty::Bytes,
            ("string", Some("google-fieldmask")) => Ty::Mask(None),
            ("string", _) => Ty::String,
            ("integer", Some("uint32")) => Ty::Num("u32"),
            ("integer", Some("int32")) => Ty::Num("i32"),
            ("integer", Some("int64")) => Ty::Num("i64"),
            ("integer", Some("uint64")) => Ty::Num("u64"),
            ("integer", _) => Ty::Num("i64"),
            ("number", Some("float")) => Ty::Num("f32"),
            ("number", _) => Ty::Num("f64"),
            ("boolean", _) => Ty::Bool,
            ("any", _) | ("null", _) => Ty::Any,
            ("array", _) => {
                let items = s.items.as_deref().ok_or_else(|| {
                    Error::at(path.to_string(), "array schema without `items`".into())
                })?;
                let item_ctx = if items.reference.is_none() && !items.properties.is_empty() && !top
                {
                    format!("{ctx}Item")
                } else {
                    ctx.to_string()
                };
                let inner =
                    self.lower_ty(items, &item_ctx, &format!("{path}.items"), owner, prop)?;
                Ty::Vec(Box::new(inner))
            }
            ("object", _) => {
                if !s.properties.is_empty() {
                    let name = self.namer.unique(ctx);
                    let def = self.lower_struct(name.clone(), ctx.to_string(), s, path, owner)?;
                    self.types.push(TypeDef::Struct(def));
                    Ty::Named(name)
                } else if let Some(ap) = &s.additional_properties {
                    let inner = self.lower_ty(
                        ap,
                        &format!("{ctx}Value"),
                        &format!("{path}.additionalProperties"),
                        owner,
                        prop,
                    )?;
                    Ty::Map(Box::new(inner))
                } else {
                    Ty::Any
                }
            }
            (other, _) => {
                return Err(Error::at(
                    format!("{path}.type"),
                    format!("unsupported JSON type `{other}`"),
                ));
            }
        })
    }

    /// Register an enum, sharing one definition among identical value lists and among lists with
    /// the same multi-word value prefix where one list contains the other.
    fn lower_enum(
        &mut self,
        s: &Schema,
        ctx: &str,
        fixed_name: Option<String>,
    ) -> Result<String, Error> {
        let values = s.enum_values.clone().unwrap_or_default();
        let descs = s.enum_descriptions.clone().unwrap_or_default();
        let deps = s.enum_deprecated.clone().unwrap_or_default();
        if let (None, Some(&i)) = (&fixed_name, self.enum_index.get(&values)) {
            return Ok(self.enums[i].name.clone());
        }
        let prefix = common_prefix(&values);
        let base = match (&fixed_name, &prefix) {
            (Some(n), _) => n.clone(),
            (None, Some(p)) => pascal(p),
            (None, None) => ctx.to_string(),
        };
        if fixed_name.is_none() && prefix.is_some() {
            let set: BTreeSet<&String> = values.iter().collect();
            let existing = self.enums.iter().position(|e| {
                e.prefix == prefix && {
                    let other: BTreeSet<&String> = e.variants.iter().map(|v| &v.value).collect();
                    other.is_subset(&set) || set.is_subset(&other)
                }
            });
            if let Some(i) = existing {
                let e = &mut self.enums[i];
                for (k, v) in values.iter().enumerate() {
                    if !e.variants.iter().any(|x| &x.value == v) {
                        let ident = variant_ident(v, prefix.as_deref(), &e.variants);
                        e.variants.push(VariantDef {
                            value: v.clone(),
                            ident,
                            description: descs.get(k).cloned(),
                            deprecated: deps.get(k).copied().unwrap_or(false),
                        });
                    }
                }
                self.enum_index.insert(values, i);
                return Ok(self.enums[i].name.clone());
            }
        }
        let name = if fixed_name.is_some() {
            base
        } else {
            self.namer.unique(&base)
        };
        let mut variants: Vec<VariantDef> = Vec::new();
        for (k, v) in values.iter().enumerate() {
            let ident = variant_ident(v, prefix.as_deref(), &variants);
            variants.push(VariantDef {
                value: v.clone(),
                ident,
                description: descs.get(k).cloned(),
                deprecated: deps.get(k).copied().unwrap_or(false),
            });
        }
        let description = if fixed_name.is_some() || prefix.is_none() {
            s.description.clone()
        } else {
            None
        };
        self.enums.push(EnumDef {
            name: name.clone(),
            description,
            variants,
            prefix,
        });
        self.enum_index.insert(values, self.enums.len() - 1);
        Ok(name)
    }

    // ----- field masks -------------------------------------------------------------------------

    /// Work out, for every field-mask property and parameter, which schema's fields it names.
    fn find_mask_targets(&mut self) -> Result<(), Error> {
        let doc = self.doc;
        let mut request_to_response: BTreeMap<String, String> = BTreeMap::new();
        let mut found: Vec<(String, Option<String>)> = Vec::new();
        doc.for_each_method(|_, _, m| {
            if let (Some(req), Some(resp)) = (&m.request, &m.response) {
                request_to_response
                    .entry(req.reference.clone())
                    .or_insert(resp.reference.clone());
            }
            for (pname, p) in &m.parameters {
                if p.format.as_deref() == Some("google-fieldmask") && !prefixed_paths(p) {
                    let target = m
                        .response
                        .as_ref()
                        .and_then(|r| target_schema(doc, &r.reference, true));
                    found.push((format!("{}.{pname}", m.id), target));
                }
            }
        });
        for (id, s) in &doc.schemas {
            for (pname, p) in &s.properties {
                if p.format.as_deref() == Some("google-fieldmask") && !prefixed_paths(p) {
                    let target = target_schema(doc, id, false).or_else(|| {
                        request_to_response
                            .get(id)
                            .and_then(|r| target_schema(doc, r, true))
                    });
                    found.push((format!("{id}.{pname}"), target));
                }
            }
        }
        for (key, target) in found {
            if let Some(t) = target {
                self.mask_targets.insert(key, t);
            }
        }
        Ok(())
    }

    fn mask_for(&mut self, key: &str) -> Option<String> {
        let target = self.mask_targets.get(key)?.clone();
        if let Some(m) = self.masks.get(&target) {
            return Some(m.name.clone());
        }
        let schema = &self.doc.schemas[&target];
        let struct_name = self.schema_names[&target].clone();
        let name = self.namer.unique(&format!("{struct_name}Field"));
        let mut idents = Namer::default();
        let fields = schema
            .properties
            .iter()
            .map(|(json, p)| {
                let ro = p.read_only
                    || p.description
                        .as_deref()
                        .is_some_and(|d| d.starts_with("Output only"));
                (json.clone(), idents.unique(&pascal(json)), p.deprecated, ro)
            })
            .collect();
        self.masks.insert(
            target,
            MaskDef {
                name: name.clone(),
                target: struct_name,
                fields,
            },
        );
        Some(name)
    }

    // ----- methods -----------------------------------------------------------------------------

    fn lower_resource(
        &mut self,
        path: &[String],
        r: &crate::model::Resource,
        accessor: String,
        out: &mut Vec<ResourceDef>,
    ) -> Result<String, Error> {
        let name = self.namer.unique(&format!(
            "{}Resource",
            path.iter().map(|p| pascal(p)).collect::<String>()
        ));
        let idx = out.len();
        out.push(ResourceDef {
            path: path.to_vec(),
            name: name.clone(),
            accessor,
            methods: Vec::new(),
            children: Vec::new(),
        });
        let mut ns = Namer::default();
        let mut methods = Vec::new();
        for (mname, m) in &r.methods {
            methods.push(self.lower_method(path, mname, m, &mut ns)?);
        }
        let mut children = Vec::new();
        for (cname, c) in &r.resources {
            let mut cpath = path.to_vec();
            cpath.push(cname.clone());
            let acc = ns.unique(&snake(cname));
            let cn = self.lower_resource(&cpath, c, acc.clone(), out)?;
            children.push((acc, cn));
        }
        out[idx].methods = methods;
        out[idx].children = children;
        Ok(name)
    }

    fn lower_method(
        &mut self,
        path: &[String],
        mname: &str,
        m: &Method,
        ns: &mut Namer,
    ) -> Result<MethodDef, Error> {
        let jpath = format!(
            "{}methods.{mname}",
            path.iter()
                .map(|p| format!("resources.{p}."))
                .collect::<String>()
        );
        let fn_name = ns.unique(&snake(mname));
        let stem: String = path
            .iter()
            .chain(std::iter::once(&mname.to_string()))
            .map(|p| pascal(p))
            .collect();
        let call_name = self.namer.unique(&format!("{stem}Call"));
        let mut params = Vec::new();
        let mut idents = Namer::with_reserved(CALL_RESERVED);
        let mut ordered: Vec<&String> = m.parameter_order.iter().collect();
        for p in m.parameters.keys() {
            if !ordered.contains(&p) {
                ordered.push(p);
            }
        }
        for pname in ordered {
            let Some(p) = m.parameters.get(pname) else {
                return Err(Error::at(
                    format!("{jpath}.parameterOrder"),
                    format!("unknown parameter `{pname}`"),
                ));
            };
            let ppath = format!("{jpath}.parameters.{pname}");
            let mut one = p.clone();
            one.repeated = false;
            let ctx = format!("{stem}{}", pascal(pname));
            let ty = self.lower_ty(&one, &ctx, &ppath, &m.id, pname)?;
            let in_path = p.location.as_deref() == Some("path");
            params.push(ParamDef {
                json: pname.clone(),
                ident: idents.unique(&snake(pname)),
                ty,
                repeated: p.repeated,
                positional: in_path || (p.required && m.parameter_order.contains(pname)),
                in_path,
                pattern: p.pattern.clone(),
                description: p.description.clone(),
                deprecated: p.deprecated,
                max_items: if p.repeated {
                    stated_limit(p.description.as_deref())
                } else {
                    None
                },
            });
        }
        for p in &params {
            if p.in_path
                && !m.path.contains(&format!("{{{}}}", p.json))
                && !m.path.contains(&format!("{{+{}}}", p.json))
            {
                return Err(Error::at(
                    format!("{jpath}.path"),
                    format!("path parameter `{}` is not in `{}`", p.json, m.path),
                ));
            }
        }
        let lookup =
            |r: &Option<crate::model::Reference>, what: &str| -> Result<Option<String>, Error> {
                match r {
                    None => Ok(None),
                    Some(r) => match self.schema_names.get(&r.reference) {
                        Some(n) => Ok(Some(n.clone())),
                        None => Err(Error::at(
                            format!("{jpath}.{what}.$ref"),
                            format!("unknown schema `{}`", r.reference),
                        )),
                    },
                }
            };
        let request = lookup(&m.request, "request")?;
        let response = lookup(&m.response, "response")?;
        let request_validates = m.request.as_ref().is_some_and(|r| {
            self.doc.schemas[&r.reference].properties.values().any(|p| {
                (p.ty.as_deref() == Some("array") || p.additional_properties.is_some())
                    && stated_limit(p.description.as_deref()).is_some()
            })
        });
        let list = self.list_info(m, &params);
        let flat_vars = flat_vars(m);
        Ok(MethodDef {
            id: m.id.clone(),
            fn_name,
            call_name,
            http_method: m.http_method.to_ascii_uppercase(),
            path: m.path.clone(),
            description: m.description.clone(),
            deprecated: m.deprecated,
            params,
            request,
            request_validates,
            response,
            list,
            scopes: m.scopes.clone(),
            flat_vars,
        })
    }

    fn list_info(&mut self, m: &Method, params: &[ParamDef]) -> Option<ListInfo> {
        let token = params
            .iter()
            .find(|p| p.json == "pageToken" && !p.in_path && !p.repeated)?;
        let resp = self.doc.schemas.get(&m.response.as_ref()?.reference)?;
        let next = resp.properties.get("nextPageToken")?;
        if next.ty.as_deref() != Some("string") {
            return None;
        }
        let arrays: Vec<(&String, &Schema)> = resp
            .properties
            .iter()
            .filter(|(_, p)| {
                p.ty.as_deref() == Some("array")
                    && p.items.as_ref().is_some_and(|i| i.reference.is_some())
            })
            .collect();
        let items = if arrays.len() == 1 {
            let (json, p) = arrays[0];
            let item = p.items.as_ref()?.reference.as_ref()?;
            Some((snake(json), Ty::Named(self.schema_names.get(item)?.clone())))
        } else {
            None
        };
        Some(ListInfo {
            page_token_ident: token.ident.clone(),
            page_token_required: token.positional,
            items,
        })
    }
}

/// Rust identifiers for JSON field names. When two names map to one identifier, the name that
/// already is that identifier wins, then a plain alphanumeric name, then the rest (so `type` keeps
/// `r#type` and `@type` becomes `type_2`); ties go by JSON name.
fn field_idents<'a>(names: impl Iterator<Item = &'a String>) -> BTreeMap<String, String> {
    let mut order: Vec<&String> = names.collect();
    let rank = |n: &str| {
        let plain = snake(n);
        if plain.trim_start_matches("r#") == n {
            0
        } else if n.chars().all(|c| c.is_ascii_alphanumeric()) {
            1
        } else {
            2
        }
    };
    order.sort_by_key(|n| (rank(n), n.to_string()));
    let mut ns = Namer::with_reserved(&[UNKNOWN_FIELDS]);
    order
        .into_iter()
        .map(|n| (n.clone(), ns.unique(&snake(n))))
        .collect()
}

/// The common `_`-separated prefix of at least two words shared by every value, leaving every value
/// a non-empty remainder (`READ_SOURCE_TYPE_CONTACT`, `READ_SOURCE_TYPE_PROFILE` → `READ_SOURCE_TYPE`).
fn common_prefix(values: &[String]) -> Option<String> {
    if values.len() < 2 {
        return None;
    }
    let split: Vec<Vec<&str>> = values.iter().map(|v| v.split('_').collect()).collect();
    if split.iter().any(|w| {
        w.iter()
            .any(|x| x.is_empty() || x.chars().any(|c| c.is_ascii_lowercase()))
    }) {
        return None;
    }
    let mut n = 0;
    loop {
        let w = split[0].get(n)?;
        if split.iter().all(|s| s.len() > n + 1 && s[n] == *w) {
            n += 1;
        } else {
            break;
        }
    }
    (n >= 2).then(|| split[0][..n].join("_"))
}

fn variant_ident(value: &str, prefix: Option<&str>, existing: &[VariantDef]) -> String {
    let stripped = prefix
        .and_then(|p| value.strip_prefix(p))
        .map(|s| s.trim_start_matches('_'))
        .unwrap_or(value);
    let mut ns = Namer::with_reserved(&["UnknownValue"]);
    for v in existing {
        ns.unique(&v.ident);
    }
    ns.unique(&pascal(stripped))
}

/// Paths that must carry a prefix (`person.names`) cannot be a plain field enum.
fn prefixed_paths(p: &Schema) -> bool {
    p.description
        .as_deref()
        .is_some_and(|d| d.contains("should start with"))
}

/// The schema whose fields a mask names: the largest schema (by property count) within two `$ref`
/// hops of `start` (including `start` itself when `include_start`).
fn target_schema(doc: &Document, start: &str, include_start: bool) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    let mut seen = BTreeSet::new();
    let mut frontier = vec![start.to_string()];
    seen.insert(start.to_string());
    for depth in 0..=2 {
        let mut next = Vec::new();
        for id in &frontier {
            let Some(s) = doc.schemas.get(id) else {
                continue;
            };
            if depth > 0 || include_start {
                let n = s.properties.len();
                if n >= 2 && best.as_ref().is_none_or(|(b, _)| n > *b) {
                    best = Some((n, id.clone()));
                }
            }
            for p in s.properties.values() {
                for r in refs_of(p) {
                    if seen.insert(r.clone()) {
                        next.push(r);
                    }
                }
            }
        }
        frontier = next;
    }
    best.map(|(_, id)| id)
}

fn refs_of(s: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(r) = &s.reference {
        out.push(r.clone());
    }
    if let Some(i) = &s.items {
        out.extend(refs_of(i));
    }
    if let Some(a) = &s.additional_properties {
        out.extend(refs_of(a));
    }
    out
}

/// An exact item limit stated in a description: "Allows up to 200 ...", "There is a maximum of 200 ...".
pub fn stated_limit(desc: Option<&str>) -> Option<usize> {
    let d = desc?;
    for phrase in ["Allows up to ", "maximum of "] {
        if let Some(i) = d.find(phrase) {
            let rest = &d[i + phrase.len()..];
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(n) = digits.parse() {
                return Some(n);
            }
        }
    }
    None
}

fn flat_vars(m: &Method) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = m.path.as_str();
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else { break };
        out.push(rest[i + 1..i + j].trim_start_matches('+').to_string());
        rest = &rest[i + j + 1..];
    }
    out
}

/// Box every direct (not behind `Vec`/map) struct-typed field that lies on a cycle.
fn box_cycles(types: &mut [TypeDef]) {
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in types.iter() {
        if let TypeDef::Struct(s) = t {
            let e = s
                .fields
                .iter()
                .filter_map(|f| {
                    if let Ty::Named(n) = &f.ty {
                        Some(n.clone())
                    } else {
                        None
                    }
                })
                .collect();
            edges.insert(s.name.clone(), e);
        }
    }
    let reaches = |from: &str, to: &str| -> bool {
        let mut stack = vec![from.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if let (true, Some(e)) = (seen.insert(n.clone()), edges.get(&n)) {
                stack.extend(e.iter().cloned());
            }
        }
        false
    };
    for t in types.iter_mut() {
        if let TypeDef::Struct(s) = t {
            let name = s.name.clone();
            for f in &mut s.fields {
                if let Ty::Named(n) = &f.ty {
                    f.boxed = edges.contains_key(n) && reaches(n, &name);
                }
            }
        }
    }
}

/// A plain (non-raw) identifier stem for composing names such as `set_type`.
pub fn plain(ident: &str) -> String {
    snake_plain(ident.strip_prefix("r#").unwrap_or(ident))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            common_prefix(&v(&[
                "READ_SOURCE_TYPE_UNSPECIFIED",
                "READ_SOURCE_TYPE_CONTACT"
            ]))
            .as_deref(),
            Some("READ_SOURCE_TYPE")
        );
        assert_eq!(common_prefix(&v(&["TYPE_A", "TYPE_B"])), None);
        assert_eq!(
            common_prefix(&v(&["AGE_RANGE_UNSPECIFIED", "LESS_THAN_EIGHTEEN"])),
            None
        );
        assert_eq!(common_prefix(&v(&["A_B", "A_B_C"])), None);
    }

    #[test]
    fn limits() {
        assert_eq!(
            stated_limit(Some(
                "Required. A map. Allows up to 200 contacts in a single request."
            )),
            Some(200)
        );
        assert_eq!(
            stated_limit(Some("There is a maximum of 200 resource names.")),
            Some(200)
        );
        assert_eq!(stated_limit(Some("Up to you.")), None);
    }
}
