//! `people.updateContactPhoto` and `people.deleteContactPhoto`, and the photo URLs they answer
//! with, served by the emulator.
//!
//! Choices where the real behaviour is not documented: `photoBytes` must be base64 of a PNG,
//! JPEG or GIF (checked by its magic bytes; anything else is `400 INVALID_ARGUMENT`); the photo's
//! URL is `http://<emulator>/photos/<user>/<contact id>/<version>` and serves the bytes with their
//! content type; after a delete, `photos` holds one default photo (`default: true`), as the real
//! server shows a placeholder. Both bump the contact's etag.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::store::UserStore;

/// The content type of an image, from its first bytes.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else {
        None
    }
}

/// Percent-escape a user for a URL path segment.
fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Set a contact's photo from the request body (`photoBytes`); the contact's JSON afterwards.
pub(crate) fn update(
    store: &mut UserStore,
    id: u64,
    body: &Map<String, Value>,
    user: &str,
    host: &str,
) -> Result<(), ApiError> {
    let b64 = body
        .get("photoBytes")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid("photoBytes is required."))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(b64))
        .map_err(|_| {
            ApiError::invalid(
                "Invalid value at 'photo_bytes' (TYPE_BYTES), Base64 decoding failed.",
            )
        })?;
    let content_type = image_type(&bytes).ok_or_else(|| {
        ApiError::invalid("Photo bytes are not a supported image (PNG, JPEG or GIF).")
    })?;
    let c = store
        .contacts
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found("Requested entity was not found."))?;
    let version = c.version + 1;
    let url = format!("http://{host}/photos/{}/{id}/{version}", escape(user));
    let mut person = Map::new();
    person.insert("photos".into(), json!([{"url": url}]));
    c.apply(&person, &["photos".to_string()]);
    store.photos.insert((id, version), (content_type, bytes));
    store.log(id, false);
    Ok(())
}

/// Remove a contact's photo: `photos` is the default placeholder again.
pub(crate) fn delete(store: &mut UserStore, id: u64, host: &str) -> Result<(), ApiError> {
    let c = store
        .contacts
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found("Requested entity was not found."))?;
    let mut person = Map::new();
    person.insert(
        "photos".into(),
        json!([{"url": format!("http://{host}/photos/default"), "default": true}]),
    );
    c.apply(&person, &["photos".to_string()]);
    store.photos.retain(|(cid, _), _| *cid != id);
    store.log(id, false);
    Ok(())
}

/// The bytes of `/photos/<user>/<id>/<version>`, with their content type.
pub(crate) fn serve(
    users: &std::collections::HashMap<String, UserStore>,
    path: &str,
) -> Option<(&'static str, Vec<u8>)> {
    let rest = path.strip_prefix("/photos/")?;
    if rest == "default" {
        // A 1×1 transparent GIF, the placeholder.
        let gif = base64::engine::general_purpose::STANDARD
            .decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
            .ok()?;
        return Some(("image/gif", gif));
    }
    let mut parts = rest.split('/');
    let (user, id, version) = (parts.next()?, parts.next()?, parts.next()?);
    let store = users.get(&unescape(user))?;
    let key = (id.parse().ok()?, version.parse().ok()?);
    store
        .photos
        .get(&key)
        .map(|(ct, bytes)| (*ct, bytes.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_told_by_their_magic_bytes() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type(b"GIF89a..."), Some("image/gif"));
        assert_eq!(image_type(b"<svg/>"), None);
        assert_eq!(unescape(&escape("a+b@example.com")), "a+b@example.com");
    }
}
