//! The discovery document, as serde reads it.
//!
//! Only what generation and `diff` use is modelled; everything else in a document is ignored, so a
//! newer discovery format with extra keys still parses.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A Google API discovery document (`discoveryVersion: v1`, REST protocol).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    /// API name, e.g. `people`.
    pub name: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Revision date, e.g. `20251117`.
    #[serde(default)]
    pub revision: Option<String>,
    /// Human title.
    #[serde(default)]
    pub title: Option<String>,
    /// API description.
    #[serde(default)]
    pub description: Option<String>,
    /// Link to the API's documentation; its origin makes relative links absolute.
    #[serde(default)]
    pub documentation_link: Option<String>,
    /// Root URL, e.g. `https://people.googleapis.com/`.
    pub root_url: String,
    /// Path below the root URL, e.g. `drive/v3/`.
    #[serde(default)]
    pub service_path: String,
    /// Parameters every method accepts (`fields`, `quotaUser`, ...).
    #[serde(default)]
    pub parameters: BTreeMap<String, Schema>,
    /// Named schemas.
    #[serde(default)]
    pub schemas: BTreeMap<String, Schema>,
    /// Resources and their methods.
    #[serde(default)]
    pub resources: BTreeMap<String, Resource>,
    /// Methods at the top level of the API (rare: `oauth2.tokeninfo`).
    #[serde(default)]
    pub methods: BTreeMap<String, Method>,
}

/// A resource: methods and nested resources.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Resource {
    /// Methods of the resource.
    #[serde(default)]
    pub methods: BTreeMap<String, Method>,
    /// Nested resources.
    #[serde(default)]
    pub resources: BTreeMap<String, Resource>,
}

/// One API method.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Method {
    /// Dotted id, e.g. `people.people.batchUpdateContacts`.
    pub id: String,
    /// Path template relative to the service path, e.g. `v1/{+resourceName}`.
    pub path: String,
    /// HTTP verb.
    pub http_method: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Parameters by name.
    #[serde(default)]
    pub parameters: BTreeMap<String, Schema>,
    /// Required parameters in positional order.
    #[serde(default)]
    pub parameter_order: Vec<String>,
    /// Request body schema reference.
    #[serde(default)]
    pub request: Option<Reference>,
    /// Response body schema reference.
    #[serde(default)]
    pub response: Option<Reference>,
    /// OAuth scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Whether the method is deprecated.
    #[serde(default)]
    pub deprecated: bool,
}

/// `{"$ref": "Person"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    /// The referenced schema id.
    #[serde(rename = "$ref")]
    pub reference: String,
}

/// A JSON schema as discovery documents use it; also the shape of a parameter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    /// Schema id (named schemas only).
    #[serde(default)]
    pub id: Option<String>,
    /// JSON type: `object`, `array`, `string`, `integer`, `number`, `boolean`, `any`, `null`.
    #[serde(default, rename = "type")]
    pub ty: Option<String>,
    /// Format refining the type (`int64`, `byte`, `google-fieldmask`, ...).
    #[serde(default)]
    pub format: Option<String>,
    /// Reference to a named schema.
    #[serde(default, rename = "$ref")]
    pub reference: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Element schema of an array.
    #[serde(default)]
    pub items: Option<Box<Schema>>,
    /// Properties of an object.
    #[serde(default)]
    pub properties: BTreeMap<String, Schema>,
    /// Value schema of a map.
    #[serde(default)]
    pub additional_properties: Option<Box<Schema>>,
    /// Allowed string values.
    #[serde(default, rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    /// Descriptions of the allowed values.
    #[serde(default)]
    pub enum_descriptions: Option<Vec<String>>,
    /// Which allowed values are deprecated.
    #[serde(default)]
    pub enum_deprecated: Option<Vec<bool>>,
    /// Deprecated property or parameter.
    #[serde(default)]
    pub deprecated: bool,
    /// Output only.
    #[serde(default)]
    pub read_only: bool,
    /// Parameter: required.
    #[serde(default)]
    pub required: bool,
    /// Parameter: may repeat.
    #[serde(default)]
    pub repeated: bool,
    /// Parameter: `path` or `query`.
    #[serde(default)]
    pub location: Option<String>,
    /// Parameter: regular expression the value must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Default value, as a string.
    #[serde(default)]
    pub default: Option<String>,
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
