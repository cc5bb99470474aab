//! The description of one HTTP request that generated code builds and the client executes, and
//! the pre-flight checks generated code runs before building it.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{Error, pattern};

/// An HTTP method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl HttpMethod {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// Safe to repeat: GET, PUT and DELETE.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Self::Get | Self::Put | Self::Delete)
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request, fully described: method, URL parts, query, JSON body. Built by generated call
/// builders (`call.request()`), executed by [`Client::execute`](super::Client::execute).
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    method: HttpMethod,
    default_base: &'static str,
    path: String,
    method_id: &'static str,
    query: Vec<(&'static str, String)>,
    body: Option<bytes::Bytes>,
}

impl fmt::Debug for Request {
    // The body is personal data: show its size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("method_id", &self.method_id)
            .field("query", &self.query)
            .field("body_bytes", &self.body.as_ref().map(bytes::Bytes::len))
            .finish()
    }
}

impl Request {
    /// A request to `path` (relative to the API's base URL, already expanded and escaped).
    pub fn new(
        method: HttpMethod,
        default_base: &'static str,
        path: String,
        method_id: &'static str,
    ) -> Self {
        Self {
            method,
            default_base,
            path,
            method_id,
            query: Vec::new(),
            body: None,
        }
    }

    /// Add a query parameter (repeat the call for repeated parameters).
    pub fn query(&mut self, name: &'static str, value: impl Into<String>) {
        self.query.push((name, value.into()));
    }

    /// Serialize `body` as the JSON body, straight to bytes.
    pub fn json_body<T: serde::Serialize + ?Sized>(&mut self, body: &T) -> Result<(), Error> {
        let mut bytes = serde_json::to_vec(body).map_err(|e| {
            Error::invalid_request(format!("the request body does not serialize: {e}"))
        })?;
        // The body is kept for replays until the call ends: without the growth slack (up to
        // half of it).
        bytes.shrink_to_fit();
        self.body = Some(bytes.into());
        Ok(())
    }

    /// Write `body` as the JSON body (the generated calls' way: see [`super::json`]).
    pub fn write_json_body(&mut self, body: &dyn super::json::ToJson) {
        let mut bytes = super::json::to_vec(body);
        // Kept for replays until the call ends: without the growth slack.
        bytes.shrink_to_fit();
        self.body = Some(bytes.into());
    }

    /// Set an already serialized JSON body.
    pub fn raw_json_body(&mut self, body: impl Into<bytes::Bytes>) {
        self.body = Some(body.into());
    }

    /// The HTTP method.
    pub fn method(&self) -> HttpMethod {
        self.method
    }

    /// Whether this request may be replayed after a failure.
    pub fn replay(&self) -> super::Replay {
        super::Replay::of(self.method, self.method_id)
    }

    /// The discovery method id (`people.people.batchUpdateContacts`).
    pub fn method_id(&self) -> &'static str {
        self.method_id
    }

    /// The path relative to the base URL.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The API's default base URL.
    pub fn default_base(&self) -> &'static str {
        self.default_base
    }

    /// The query parameters.
    pub fn query_pairs(&self) -> &[(&'static str, String)] {
        &self.query
    }

    /// The JSON body.
    pub fn body(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }

    /// The JSON body, shared: each attempt sends it without copying.
    pub(crate) fn body_bytes(&self) -> Option<bytes::Bytes> {
        self.body.clone()
    }
}

/// Characters escaped in a `{+reserved}` expansion: everything but unreserved and reserved ones,
/// except that `?`, `#`, `[` and `]` are escaped too (RFC 6570 would keep them, but in a path
/// value they would start a query or fragment, or make an invalid URL).
pub(crate) const RESERVED_EXPANSION: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'/')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

/// Characters escaped in a `{simple}` expansion: everything but unreserved ones.
const SIMPLE_EXPANSION: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Append a path parameter, escaped per RFC 6570: `reserved` (`{+name}`) keeps `/` and the other
/// reserved characters, simple expansion escapes them.
///
/// A value with a `.` or `..` segment (also percent-encoded, `%2e%2e`) is refused: URL
/// resolution would collapse it and send the request to another endpoint (`people/..` would
/// become `GET /v1/`). This is the one place generated code builds paths, so every path
/// parameter of every method is covered.
#[doc(hidden)]
pub fn push_path_param(
    path: &mut String,
    name: &str,
    value: &str,
    reserved: bool,
) -> Result<(), Error> {
    check_segments(name, value, reserved)?;
    let set = if reserved {
        RESERVED_EXPANSION
    } else {
        SIMPLE_EXPANSION
    };
    path.extend(utf8_percent_encode(value, set));
    Ok(())
}

/// Refuse a path parameter that is, or (in a `{+reserved}` expansion, which keeps `/`) contains,
/// a `.` or `..` segment, in any case or percent-encoding.
fn check_segments(name: &str, value: &str, reserved: bool) -> Result<(), Error> {
    let bad = if reserved {
        value.split('/').any(is_dot_segment)
    } else {
        is_dot_segment(value)
    };
    if bad {
        return Err(Error::invalid_request(format!(
            "`{name}` is {value:?}, which has a `.` or `..` path segment: it would address another endpoint"
        )));
    }
    Ok(())
}

/// `.` or `..`, written plainly or percent-encoded (`%2e`, `%2E`, `.%2e`, ...).
pub(crate) fn is_dot_segment(segment: &str) -> bool {
    let mut rest = segment.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() {
        match rest {
            [b'.', tail @ ..] => rest = tail,
            [b'%', b'2', b'e' | b'E', tail @ ..] => rest = tail,
            _ => return false,
        }
        dots += 1;
        if dots > 2 {
            return false;
        }
    }
    dots > 0
}

/// Reject an empty path parameter.
#[doc(hidden)]
pub fn check_not_empty(name: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid_request(format!(
            "`{name}` must not be empty"
        )));
    }
    Ok(())
}

/// Check a parameter against the document's pattern (e.g. `^people/[^/]+$`). Patterns outside
/// the supported subset (see the `pattern` module) are not checked.
#[doc(hidden)]
pub fn check_pattern(name: &str, value: &str, pat: &str) -> Result<(), Error> {
    check_not_empty(name, value)?;
    match pattern::full_match(pat, value) {
        Some(false) => Err(Error::invalid_request(format!(
            "`{name}` is {value:?}, which does not match the pattern `{pat}`"
        ))),
        _ => Ok(()),
    }
}

/// Check a documented item limit (`Allows up to 200 contacts`).
#[doc(hidden)]
pub fn check_max_items(name: &str, len: usize, max: usize) -> Result<(), Error> {
    if len > max {
        return Err(Error::invalid_request(format!(
            "`{name}` has {len} items; the API allows at most {max}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_found_in_every_spelling() {
        for bad in [".", "..", "%2e", "%2E", "%2e%2e", ".%2E", "%2e."] {
            assert!(is_dot_segment(bad), "{bad}");
        }
        for ok in [
            "",
            "...",
            "c1",
            ".c",
            "a.",
            "%2f",
            "%2",
            "%2e%2e%2e",
            "%252e",
        ] {
            assert!(!is_dot_segment(ok), "{ok}");
        }
    }

    #[test]
    fn path_params_with_dot_segments_are_refused() {
        let mut path = String::from("v1/");
        for bad in [
            "people/..",
            "people/.",
            "..",
            "people/%2e%2E",
            "a/../b",
            "people/./c1",
        ] {
            let e = push_path_param(&mut path, "resourceName", bad, true).unwrap_err();
            assert!(e.is_invalid_request(), "{bad}");
            assert!(e.to_string().contains("resourceName"), "{e}");
        }
        for bad in ["..", ".", "%2e%2e"] {
            assert!(push_path_param(&mut path, "userId", bad, false).is_err());
        }
        assert_eq!(path, "v1/");
        // Simple expansion escapes `/`, so a dot inside a value is no segment of its own.
        push_path_param(&mut path, "userId", "a/..", false).unwrap();
        push_path_param(&mut path, "resourceName", "/people/c1.x", true).unwrap();
        assert_eq!(path, "v1/a%2F../people/c1.x");
    }
}
