//! OAuth2 for the emulator: access tokens it issued, the token endpoint (refresh-token grant and
//! JWT-bearer grant with RS256 signatures checked against registered public keys, `sub` for
//! domain-wide delegation) and an optional GCE-style metadata endpoint.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// The scope that allows reading and writing contacts.
pub const CONTACTS_SCOPE: &str = "https://www.googleapis.com/auth/contacts";
/// The read-only contacts scope.
pub const CONTACTS_READONLY_SCOPE: &str = "https://www.googleapis.com/auth/contacts.readonly";

#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub user: String,
    pub scopes: Vec<String>,
    pub expires: Instant,
}

#[derive(Debug, Clone)]
pub(crate) struct RefreshInfo {
    pub client_id: String,
    pub client_secret: String,
    pub user: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceAccount {
    /// PKCS#1 `RSAPublicKey` DER.
    pub public_key: Vec<u8>,
    pub delegation: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Auth {
    pub tokens: HashMap<String, TokenInfo>,
    pub refresh: HashMap<String, RefreshInfo>,
    pub service_accounts: HashMap<String, ServiceAccount>,
    pub counter: u64,
}

/// A token-endpoint error: `{"error": ..., "error_description": ...}`.
pub(crate) struct OAuthError {
    pub http: u16,
    pub body: Value,
}

fn oauth_error(http: u16, error: &str, description: &str) -> OAuthError {
    OAuthError {
        http,
        body: json!({"error": error, "error_description": description}),
    }
}

impl Auth {
    pub fn issue(&mut self, user: &str, scopes: Vec<String>, ttl: Duration) -> (String, u64) {
        self.counter += 1;
        let token = format!("ya29.emu-{}-{:x}", self.counter, fastrand(self.counter));
        self.tokens.insert(
            token.clone(),
            TokenInfo {
                user: user.into(),
                scopes,
                expires: Instant::now() + ttl,
            },
        );
        (token, ttl.as_secs())
    }

    /// The token endpoint: a form-encoded body in, a token or an OAuth error out.
    pub fn token_endpoint(&mut self, form: &[u8], ttl: Duration) -> Result<Value, OAuthError> {
        let params: HashMap<String, String> =
            url::form_urlencoded::parse(form).into_owned().collect();
        let grant = params
            .get("grant_type")
            .map(String::as_str)
            .unwrap_or_default();
        let (user, scopes) = match grant {
            "refresh_token" => {
                let rt = params.get("refresh_token").ok_or_else(|| {
                    oauth_error(
                        400,
                        "invalid_request",
                        "Missing required parameter: refresh_token",
                    )
                })?;
                let info = self.refresh.get(rt).ok_or_else(|| {
                    oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
                })?;
                if params.get("client_id") != Some(&info.client_id) {
                    return Err(oauth_error(
                        401,
                        "invalid_client",
                        "The OAuth client was not found.",
                    ));
                }
                if params.get("client_secret") != Some(&info.client_secret) {
                    return Err(oauth_error(401, "invalid_client", "Unauthorized"));
                }
                (info.user.clone(), info.scopes.clone())
            }
            "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
                let assertion = params.get("assertion").ok_or_else(|| {
                    oauth_error(
                        400,
                        "invalid_request",
                        "Missing required parameter: assertion",
                    )
                })?;
                self.verify_jwt(assertion)?
            }
            "" => {
                return Err(oauth_error(
                    400,
                    "invalid_request",
                    "Missing required parameter: grant_type",
                ));
            }
            other => {
                return Err(oauth_error(
                    400,
                    "unsupported_grant_type",
                    &format!("Invalid grant_type: {other}"),
                ));
            }
        };
        let (token, expires_in) = self.issue(&user, scopes.clone(), ttl);
        Ok(
            json!({"access_token": token, "expires_in": expires_in, "scope": scopes.join(" "), "token_type": "Bearer"}),
        )
    }

    fn verify_jwt(&self, jwt: &str) -> Result<(String, Vec<String>), OAuthError> {
        let bad = |d: &str| oauth_error(400, "invalid_grant", d);
        let mut parts = jwt.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(
                "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe",
            ));
        };
        let decode = |p: &str| {
            URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .map_err(|_| bad("Invalid JWT: not base64url"))
        };
        let header: Value =
            serde_json::from_slice(&decode(h)?).map_err(|_| bad("Invalid JWT header"))?;
        if header["alg"] != "RS256" {
            return Err(bad("Invalid JWT: unsupported algorithm"));
        }
        let claims: Value =
            serde_json::from_slice(&decode(c)?).map_err(|_| bad("Invalid JWT claims"))?;
        let iss = claims["iss"].as_str().unwrap_or_default();
        let sa = self
            .service_accounts
            .get(iss)
            .ok_or_else(|| bad("Invalid JWT Signature."))?;
        let signature = decode(s)?;
        let key = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &sa.public_key,
        );
        key.verify(format!("{h}.{c}").as_bytes(), &signature)
            .map_err(|_| bad("Invalid JWT Signature."))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64;
        let (iat, exp) = (
            claims["iat"].as_i64().unwrap_or(0),
            claims["exp"].as_i64().unwrap_or(0),
        );
        if exp <= now || iat > now + 300 || exp - iat > 3600 {
            return Err(bad(
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
            ));
        }
        let scopes: Vec<String> = claims["scope"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if scopes.is_empty() {
            return Err(oauth_error(
                400,
                "invalid_scope",
                "Invalid OAuth scope or ID token audience provided.",
            ));
        }
        let user = match claims["sub"].as_str() {
            Some(sub) if sub != iss => {
                if !sa.delegation {
                    return Err(oauth_error(
                        401,
                        "unauthorized_client",
                        "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
                    ));
                }
                sub.to_string()
            }
            _ => iss.to_string(),
        };
        Ok((user, scopes))
    }
}

/// Decode a PEM `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1) into PKCS#1 DER.
pub(crate) fn rsa_public_key_der(pem: &str) -> Option<Vec<u8>> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(b64.trim()).ok()?;
    if pem.contains("BEGIN RSA PUBLIC KEY") {
        return Some(der);
    }
    // SPKI: SEQUENCE { SEQUENCE { algorithm }, BIT STRING { 0x00, RSAPublicKey } }
    let (outer, _) = der_element(&der, 0x30)?;
    let (_, rest) = der_element(outer, 0x30)?;
    let (bits, _) = der_element(rest, 0x03)?;
    bits.strip_prefix(&[0u8]).map(<[u8]>::to_vec)
}

/// The content of a DER element with tag `tag` at the start of `data`, and what follows it.
fn der_element(data: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *data.first()? != tag {
        return None;
    }
    let first = *data.get(1)? as usize;
    let (len, start) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *data.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = start.checked_add(len)?;
    Some((data.get(start..end)?, data.get(end..)?))
}

fn fastrand(x: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos() as u64;
    (x ^ nanos).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}
