//! The discovery document, read from JSON.
//!
//! Only what generation and `diff` use is modelled; everything else in a document is ignored, so a
//! newer discovery format with extra keys still parses. The document is read as a
//! `serde_json::Value` and walked by hand, naming the JSON path of a malformed part: no derive
//! macro, so that building `google-people` does not build serde's (nor wait for it). A `null`
//! reads as an absent key.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::Error;

/// A Google API discovery document (`discoveryVersion: v1`, REST protocol).
#[derive(Debug, Clone)]
pub struct Document {
    /// API name, e.g. `people`.
    pub name: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Revision date, e.g. `20251117`.
    pub revision: Option<String>,
    /// Human title.
    pub title: Option<String>,
    /// API description.
    pub description: Option<String>,
    /// Link to the API's documentation (`documentationLink`); its origin makes relative links
    /// absolute.
    pub documentation_link: Option<String>,
    /// Root URL (`rootUrl`), e.g. `https://people.googleapis.com/`.
    pub root_url: String,
    /// Path below the root URL (`servicePath`), e.g. `drive/v3/`.
    pub service_path: String,
    /// Parameters every method accepts (`fields`, `quotaUser`, ...).
    pub parameters: BTreeMap<String, Schema>,
    /// Named schemas.
    pub schemas: BTreeMap<String, Schema>,
    /// Resources and their methods.
    pub resources: BTreeMap<String, Resource>,
    /// Methods at the top level of the API (rare: `oauth2.tokeninfo`).
    pub methods: BTreeMap<String, Method>,
}

/// A resource: methods and nested resources.
#[derive(Debug, Clone, Default)]
pub struct Resource {
    /// Methods of the resource.
    pub methods: BTreeMap<String, Method>,
    /// Nested resources.
    pub resources: BTreeMap<String, Resource>,
}

/// One API method.
#[derive(Debug, Clone)]
pub struct Method {
    /// Dotted id, e.g. `people.people.batchUpdateContacts`.
    pub id: String,
    /// Path template relative to the service path, e.g. `v1/{+resourceName}`.
    pub path: String,
    /// HTTP verb (`httpMethod`).
    pub http_method: String,
    /// Description.
    pub description: Option<String>,
    /// Parameters by name.
    pub parameters: BTreeMap<String, Schema>,
    /// Required parameters in positional order (`parameterOrder`).
    pub parameter_order: Vec<String>,
    /// Request body schema reference.
    pub request: Option<Reference>,
    /// Response body schema reference.
    pub response: Option<Reference>,
    /// OAuth scopes.
    pub scopes: Vec<String>,
    /// Whether the method is deprecated.
    pub deprecated: bool,
}

/// `{"$ref": "Person"}`.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The referenced schema id (`$ref`).
    pub reference: String,
}

/// A JSON schema as discovery documents use it; also the shape of a parameter.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Schema id (named schemas only).
    pub id: Option<String>,
    /// JSON type (`type`): `object`, `array`, `string`, `integer`, `number`, `boolean`, `any`,
    /// `null`.
    pub ty: Option<String>,
    /// Format refining the type (`int64`, `byte`, `google-fieldmask`, ...).
    pub format: Option<String>,
    /// Reference to a named schema (`$ref`).
    pub reference: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Element schema of an array.
    pub items: Option<Box<Schema>>,
    /// Properties of an object.
    pub properties: BTreeMap<String, Schema>,
    /// Value schema of a map (`additionalProperties`).
    pub additional_properties: Option<Box<Schema>>,
    /// Allowed string values (`enum`).
    pub enum_values: Option<Vec<String>>,
    /// Descriptions of the allowed values (`enumDescriptions`).
    pub enum_descriptions: Option<Vec<String>>,
    /// Which allowed values are deprecated (`enumDeprecated`).
    pub enum_deprecated: Option<Vec<bool>>,
    /// Deprecated property or parameter.
    pub deprecated: bool,
    /// Output only (`readOnly`).
    pub read_only: bool,
    /// Parameter: required.
    pub required: bool,
    /// Parameter: may repeat.
    pub repeated: bool,
    /// Parameter: `path` or `query`.
    pub location: Option<String>,
    /// Parameter: regular expression the value must match.
    pub pattern: Option<String>,
    /// Default value, as a string.
    pub default: Option<String>,
}

impl Document {
    /// Read a document from its JSON text; a malformed part fails with its JSON path.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| Error::at(String::new(), e.to_string()))?;
        let o = Obj::new(&value, String::new())?;
        Ok(Self {
            name: o.string("name")?,
            version: o.string("version")?,
            revision: o.opt_string("revision")?,
            title: o.opt_string("title")?,
            description: o.opt_string("description")?,
            documentation_link: o.opt_string("documentationLink")?,
            root_url: o.string("rootUrl")?,
            service_path: o.opt_string("servicePath")?.unwrap_or_default(),
            parameters: o.map("parameters", Schema::read)?,
            schemas: o.map("schemas", Schema::read)?,
            resources: o.map("resources", Resource::read)?,
            methods: o.map("methods", Method::read)?,
        })
    }
}

impl Resource {
    fn read(v: &Value, path: String) -> Result<Self, Error> {
        let o = Obj::new(v, path)?;
        Ok(Self {
            methods: o.map("methods", Method::read)?,
            resources: o.map("resources", Resource::read)?,
        })
    }
}

impl Method {
    fn read(v: &Value, path: String) -> Result<Self, Error> {
        let o = Obj::new(v, path)?;
        Ok(Self {
            id: o.string("id")?,
            path: o.string("path")?,
            http_method: o.string("httpMethod")?,
            description: o.opt_string("description")?,
            parameters: o.map("parameters", Schema::read)?,
            parameter_order: o.list("parameterOrder", string)?.unwrap_or_default(),
            request: o.opt("request", Reference::read)?,
            response: o.opt("response", Reference::read)?,
            scopes: o.list("scopes", string)?.unwrap_or_default(),
            deprecated: o.flag("deprecated")?,
        })
    }
}

impl Reference {
    fn read(v: &Value, path: String) -> Result<Self, Error> {
        Ok(Self {
            reference: Obj::new(v, path)?.string("$ref")?,
        })
    }
}

impl Schema {
    fn read(v: &Value, path: String) -> Result<Self, Error> {
        let o = Obj::new(v, path)?;
        let boxed = |v: &Value, path| Schema::read(v, path).map(Box::new);
        Ok(Self {
            id: o.opt_string("id")?,
            ty: o.opt_string("type")?,
            format: o.opt_string("format")?,
            reference: o.opt_string("$ref")?,
            description: o.opt_string("description")?,
            items: o.opt("items", boxed)?,
            properties: o.map("properties", Schema::read)?,
            additional_properties: o.opt("additionalProperties", boxed)?,
            enum_values: o.list("enum", string)?,
            enum_descriptions: o.list("enumDescriptions", string)?,
            enum_deprecated: o.list("enumDeprecated", boolean)?,
            deprecated: o.flag("deprecated")?,
            read_only: o.flag("readOnly")?,
            required: o.flag("required")?,
            repeated: o.flag("repeated")?,
            location: o.opt_string("location")?,
            pattern: o.opt_string("pattern")?,
            default: o.opt_string("default")?,
        })
    }
}

/// A JSON object being read, with its path.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    fn new(v: &'a Value, path: String) -> Result<Self, Error> {
        match v {
            Value::Object(map) => Ok(Self { map, path }),
            other => Err(invalid(path, other, "a map")),
        }
    }

    /// The path of `key` in this object.
    fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value of `key`, unless absent or null.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn opt<T>(
        &self,
        key: &str,
        read: impl Fn(&'a Value, String) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        self.get(key).map(|v| read(v, self.at(key))).transpose()
    }

    fn string(&self, key: &str) -> Result<String, Error> {
        self.opt_string(key)?
            .ok_or_else(|| Error::at(self.path.clone(), format!("missing field `{key}`")))
    }

    fn opt_string(&self, key: &str) -> Result<Option<String>, Error> {
        self.opt(key, string)
    }

    fn flag(&self, key: &str) -> Result<bool, Error> {
        Ok(self.opt(key, boolean)?.unwrap_or(false))
    }

    fn list<T>(
        &self,
        key: &str,
        read: impl Fn(&'a Value, String) -> Result<T, Error>,
    ) -> Result<Option<Vec<T>>, Error> {
        self.opt(key, |v, path| match v {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| read(item, format!("{path}[{i}]")))
                .collect(),
            other => Err(invalid(path, other, "a sequence")),
        })
    }

    fn map<T>(
        &self,
        key: &str,
        read: impl Fn(&'a Value, String) -> Result<T, Error>,
    ) -> Result<BTreeMap<String, T>, Error> {
        let Some(v) = self.get(key) else {
            return Ok(BTreeMap::new());
        };
        let o = Obj::new(v, self.at(key))?;
        o.map
            .iter()
            .map(|(k, v)| Ok((k.clone(), read(v, o.at(k))?)))
            .collect()
    }
}

fn string(v: &Value, path: String) -> Result<String, Error> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(invalid(path, other, "a string")),
    }
}

fn boolean(v: &Value, path: String) -> Result<bool, Error> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(invalid(path, other, "a boolean")),
    }
}

/// In serde's wording: ``invalid type: integer `5`, expected a string``.
fn invalid(path: String, found: &Value, expected: &str) -> Error {
    let found = match found {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_f64() => format!("floating point `{n}`"),
        Value::Number(n) => format!("integer `{n}`"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "sequence".to_owned(),
        Value::Object(_) => "map".to_owned(),
    };
    Error::at(path, format!("invalid type: {found}, expected {expected}"))
}

impl Schema {
    /// Is this a string enum?
    pub fn is_enum(&self) -> bool {
        self.enum_values.is_some() && self.ty.as_deref() == Some("string")
    }
}

impl Document {
    /// The API's default root URL joined with its service path.
    pub fn base_url(&self) -> String {
        format!("{}{}", self.root_url, self.service_path)
    }

    /// Visit every method with the path of resource names leading to it.
    pub fn for_each_method(&self, mut f: impl FnMut(&[String], &str, &Method)) {
        fn walk(
            path: &mut Vec<String>,
            res: &BTreeMap<String, Resource>,
            f: &mut impl FnMut(&[String], &str, &Method),
        ) {
            for (name, r) in res {
                path.push(name.clone());
                for (mname, m) in &r.methods {
                    f(path, mname, m);
                }
                walk(path, &r.resources, f);
                path.pop();
            }
        }
        for (mname, m) in &self.methods {
            f(&[], mname, m);
        }
        walk(&mut Vec::new(), &self.resources, &mut f);
    }
}
